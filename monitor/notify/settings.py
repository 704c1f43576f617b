"""The configuration of each channel type, chosen by its `type:` key in monitor.yaml.

Each model forbids unknown keys, so a mistyped key fails at start-up with file and line, not at
send time. The registry `CHANNEL_SETTINGS` maps a `type:` value to its model.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.quiet import DigestSchedule, QuietHours


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Channel(_Strict):
    """What every channel accepts besides its own keys: when it holds instant alerts."""

    quiet_hours: QuietHours | None = None
    """Alerts are held during this daily window and sent as one message when it ends."""
    digest: str | None = None
    """`hourly` or `daily at 08:00 Europe/Budapest`: one message listing the stories since the last."""

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str | None) -> str | None:
        if value is not None:
            DigestSchedule.parse(value)
        return value

    @property
    def digest_schedule(self) -> DigestSchedule | None:
        return DigestSchedule.parse(self.digest) if self.digest else None


class EmailSettings(_Channel):
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


class SlackSettings(_Channel):
    """Slack: Block Kit with a plain-text fallback, by incoming webhook or by bot token.

    An incoming webhook (`webhook_url`) cannot reply in a thread, so a story update is posted as a
    message of its own. With a bot token (`token: ${SLACK_BOT_TOKEN}`, scope chat:write, and the
    `channel` to post in), messages go through chat.postMessage and updates reply in the alert's
    thread. `api_url` is Slack's Web API (a test points it elsewhere).
    """

    type: Literal["slack"]
    webhook_url: str | None = None
    token: str | None = None
    channel: str | None = None
    api_url: str = "https://slack.com/api"
    timeout: float = 20.0

    @field_validator("webhook_url", "api_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("token", "channel", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _one_way(self) -> SlackSettings:
        if (self.webhook_url is None) == (self.token is None):
            raise ValueError("give either webhook_url (an incoming webhook) or token and channel (a bot)")
        if self.token is not None and not self.channel:
            raise ValueError("a bot token needs the channel to post in (channel: \"#alerts\" or its ID)")
        if self.webhook_url is not None and self.channel is not None:
            raise ValueError("an incoming webhook posts to the channel it was made for: drop channel, or use token")
        return self


class WebhookSettings(_Channel):
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


class ConsoleSettings(_Channel):
    """Alerts printed to standard output: the default when no channel is configured."""

    type: Literal["console"]


class AppriseSettings(_Channel):
    """Any service Apprise knows (Teams, Telegram, Discord, Matrix, ntfy...), by its URL.

    Each URL is one destination (github.com/caronc/apprise/wiki): `tgram://bottoken/ChatID`,
    `ntfys://ntfy.sh/topic`, `json://host/path`... Tokens in the URLs are secrets: `${VAR}` them.
    """

    type: Literal["apprise"]
    urls: list[str] = Field(min_length=1)

    @field_validator("urls", mode="before")
    @classmethod
    def _one_url(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("urls")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        from monitor.notify.apprise import unknown_urls

        bad = unknown_urls(value)
        if bad:
            raise ValueError(f"Apprise does not understand URL number(s) {', '.join(map(str, bad))} "
                             "(see github.com/caronc/apprise/wiki for the URL of each service)")
        return value


ChannelSettings = Annotated[
    EmailSettings | SlackSettings | WebhookSettings | ConsoleSettings | AppriseSettings,
    Field(discriminator="type"),
]

CHANNEL_SETTINGS: dict[str, type[BaseModel]] = {
    "email": EmailSettings,
    "slack": SlackSettings,
    "webhook": WebhookSettings,
    "console": ConsoleSettings,
    "apprise": AppriseSettings,
}
