"""The channel registry and the console channel."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import pytest

from monitor.errors import DeliveryError
from monitor.notify import CHANNEL_TYPES, Channel, build_channel
from monitor.notify.console import ConsoleChannel
from monitor.notify.email import EmailChannel
from monitor.notify.settings import (
    CHANNEL_SETTINGS,
    ConsoleSettings,
    EmailSettings,
    SlackSettings,
    WebhookSettings,
)
from monitor.notify.slack import SlackChannel
from monitor.notify.webhook import WebhookChannel
from monitor.types import Alert, Article, Match


def make_alert() -> Alert:
    article = Article(
        url="https://example.org/a",
        title="Орбан прибыл в Москву",
        text="Text.",
        published=datetime(2024, 7, 5, 9, 30, tzinfo=UTC),
        outlet="Example",
    )
    match = Match(watchlist="visits", score=1.5, why=("Orbán",), snippet="Орбан прибыл.")
    return Alert(watchlist="visits", article=article, match=match, delivery_key="k")


def test_registry_covers_every_configurable_type() -> None:
    assert set(CHANNEL_TYPES) == set(CHANNEL_SETTINGS)


def test_build_channel_picks_the_class_for_each_type() -> None:
    email = EmailSettings.model_validate({"type": "email", "host": "mail", "from": "a@b.c", "to": "d@e.f"})
    cases: list[tuple[EmailSettings | SlackSettings | WebhookSettings | ConsoleSettings, type]] = [
        (email, EmailChannel),
        (SlackSettings(type="slack", webhook_url="https://hooks.example/x"), SlackChannel),
        (WebhookSettings(type="webhook", url="https://hooks.example/y"), WebhookChannel),
        (ConsoleSettings(type="console"), ConsoleChannel),
    ]
    for settings, cls in cases:
        channel = build_channel("c", settings)
        assert isinstance(channel, cls)
        assert isinstance(channel, Channel)
        assert channel.name == "c"


def test_a_factory_refuses_settings_of_another_type() -> None:
    with pytest.raises(TypeError, match="expected EmailSettings"):
        CHANNEL_TYPES["email"]("c", ConsoleSettings(type="console"))


def test_console_writes_one_block_and_flushes() -> None:
    stream = io.StringIO()
    channel = build_channel("screen", ConsoleSettings(type="console"), console_stream=stream)
    asyncio.run(channel.send(make_alert()))
    asyncio.run(channel.send(make_alert()))
    asyncio.run(channel.aclose())
    out = stream.getvalue()
    assert out.count("── visits ") == 2
    block = "\n".join(
        [
            "Орбан прибыл в Москву",
            "https://example.org/a",
            "Example · 2024-07-05 09:30 UTC",
            "Why: Orbán (score 1.50)",
        ]
    )
    assert block in out
    assert not stream.closed  # the stream belongs to the caller


def test_console_defaults_to_stdout_at_send_time(capsys: pytest.CaptureFixture[str]) -> None:
    channel = build_channel("screen", ConsoleSettings(type="console"))
    asyncio.run(channel.send(make_alert()))
    assert "https://example.org/a" in capsys.readouterr().out


def test_console_on_an_ascii_terminal_still_shows_the_alert() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    asyncio.run(ConsoleChannel("screen", stream).send(make_alert()))
    assert b"https://example.org/a" in raw.getvalue()
    assert b"?????? ??????" in raw.getvalue()


def test_console_closed_stream_is_a_delivery_error() -> None:
    stream = io.StringIO()
    stream.close()
    with pytest.raises(DeliveryError, match="screen: cannot write to the console"):
        asyncio.run(ConsoleChannel("screen", stream).send(make_alert()))
