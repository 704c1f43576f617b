"""The configuration of each channel type, chosen by its `type:` key in monitor.yaml.

Each model forbids unknown keys, so a mistyped key fails at start-up with file and line, not at
send time. The registry `CHANNEL_SETTINGS` maps a `type:` value to its model.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmailSettings(_Strict):
    """Email over SMTP: multipart text and HTML, one message per alert."""

    type: Literal["email"]
    host: str
    port: int = 587
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: str | None = None
    from_: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    timeout: float = 30.0
    subject_prefix: str = "[news-monitor]"

    @field_validator("to", mode="before")
    @classmethod
    def _one_address(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("username", "password", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _tls(self) -> EmailSettings:
        if self.ssl and self.starttls:
            raise ValueError("choose one of ssl (implicit TLS, port 465) and starttls (port 587)")
        return self


class SlackSettings(_Strict):
    """A Slack incoming webhook: Block Kit with a plain-text fallback."""

    type: Literal["slack"]
    webhook_url: str
    timeout: float = 20.0

    @field_validator("webhook_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("webhook_url must be an http(s) URL")
        return value


class WebhookSettings(_Strict):
    """A generic webhook: a JSON body per alert, signed with HMAC-SHA256 when a secret is set."""

    type: Literal["webhook"]
    url: str
    secret: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = 20.0

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        return value


class ConsoleSettings(_Strict):
    """Alerts printed to standard output: the default when no channel is configured."""

    type: Literal["console"]


ChannelSettings = Annotated[
    EmailSettings | SlackSettings | WebhookSettings | ConsoleSettings, Field(discriminator="type")
]

CHANNEL_SETTINGS: dict[str, type[BaseModel]] = {
    "email": EmailSettings,
    "slack": SlackSettings,
    "webhook": WebhookSettings,
    "console": ConsoleSettings,
}
