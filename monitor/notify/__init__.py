"""Notification channels, chosen by the `type:` key of a `channels:` entry in monitor.yaml.

    channels:
      desk:    {type: email, host: smtp.example.org, port: 587, starttls: true, username: monitor,
                password: "${SMTP_PASSWORD}", from: monitor@example.org, to: desk@example.org}
      team:    {type: slack, webhook_url: "${SLACK_WEBHOOK_URL}"}
      threads: {type: slack, token: "${SLACK_BOT_TOKEN}", channel: "#alerts"}   # story updates reply in threads
      archive: {type: webhook, url: "https://hooks.example.org/news", secret: "${WEBHOOK_SECRET}"}
      screen:  {type: console}
      phones:  {type: apprise, urls: ["ntfys://ntfy.sh/${NTFY_TOPIC}"]}

Every channel also takes `quiet_hours: {from: "22:00", to: "07:00", timezone: Europe/Budapest}`
and `digest: hourly` (or `daily at 08:00 Europe/Budapest`); the outbox applies them.

A plain registry dict maps each type to a factory; the settings models live in settings.py and are
validated at start-up. A channel's `send` returns only when the receiver accepted the alert and
raises DeliveryError (retry later) or PermanentDeliveryError (give up) otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO, TypeVar

from pydantic import BaseModel

from monitor.notify.apprise import AppriseChannel
from monitor.notify.base import Channel, DigestChannel
from monitor.notify.console import ConsoleChannel
from monitor.notify.email import EmailChannel
from monitor.notify.settings import AppriseSettings, ConsoleSettings, EmailSettings, SlackSettings, WebhookSettings
from monitor.notify.slack import SlackChannel
from monitor.notify.webhook import WebhookChannel

AnyChannelSettings = EmailSettings | SlackSettings | WebhookSettings | ConsoleSettings | AppriseSettings
ChannelFactory = Callable[[str, AnyChannelSettings], Channel]

_S = TypeVar("_S", bound=BaseModel)


def _factory(model: type[_S], make: Callable[[str, _S], Channel]) -> ChannelFactory:
    def build(name: str, settings: AnyChannelSettings) -> Channel:
        if not isinstance(settings, model):
            raise TypeError(f"channel {name!r}: expected {model.__name__}, got {type(settings).__name__}")
        return make(name, settings)

    return build


CHANNEL_TYPES: dict[str, ChannelFactory] = {
    "email": _factory(EmailSettings, EmailChannel),
    "slack": _factory(SlackSettings, SlackChannel),
    "webhook": _factory(WebhookSettings, WebhookChannel),
    "console": _factory(ConsoleSettings, lambda name, _settings: ConsoleChannel(name)),
    "apprise": _factory(AppriseSettings, AppriseChannel),
}


def build_channel(
    name: str, settings: AnyChannelSettings, *, console_stream: TextIO | None = None
) -> Channel:
    """The channel for one `channels:` entry; `console_stream` replaces stdout for a console channel."""
    if isinstance(settings, ConsoleSettings) and console_stream is not None:
        return ConsoleChannel(name, console_stream)
    try:
        factory = CHANNEL_TYPES[settings.type]
    except KeyError:
        raise ValueError(f"channel {name!r}: unknown type {settings.type!r}") from None
    return factory(name, settings)


__all__ = [
    "CHANNEL_TYPES",
    "AnyChannelSettings",
    "AppriseChannel",
    "Channel",
    "ChannelFactory",
    "ConsoleChannel",
    "DigestChannel",
    "EmailChannel",
    "SlackChannel",
    "WebhookChannel",
    "build_channel",
]
