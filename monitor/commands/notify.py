"""`monitor notify test CHANNEL`: send a sample alert through a channel now, and say what happened."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from monitor.commands.common import chosen_config, config_option, err, guard, out, run_async
from monitor.types import Alert, Article, Match


def sample_alert(channel: str, now: datetime | None = None) -> Alert:
    """An alert that says plainly it is a test, stamped so two tests are told apart."""
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S UTC")
    article = Article(
        url="https://example.org/news-monitor/test-alert",
        title=f"news-monitor test alert ({stamp})",
        text=f"This is a test alert sent by `monitor notify test {channel}`. If you can read it, "
             "the channel works: real alerts will arrive here the same way.",
        published=now, outlet="news-monitor", lang="en")
    match = Match(watchlist="news-monitor test", score=1.0,
                  why=(f"a test requested with `monitor notify test {channel}`",),
                  snippet="If you can read it, the channel works.")
    return Alert(watchlist="news-monitor test", article=article, match=match,
                 delivery_key=f"test-{channel}-{now.strftime('%Y%m%dT%H%M%S')}")


@click.group("notify")
def notify_group() -> None:
    """Check the alert channels."""


@notify_group.command("test")
@config_option
@click.argument("channel")
@click.pass_context
@guard
def test_command(ctx: click.Context, channel: str) -> None:
    """Send a sample alert through CHANNEL now (not through the outbox) and report the answer.

    Exit 0 when the receiver accepted it, 1 on a retryable or permanent error (with the reason).
    """
    from monitor.app import load_all
    from monitor.errors import DeliveryError, PermanentDeliveryError
    from monitor.notify import build_channel

    loaded = load_all(chosen_config(ctx))
    channels = loaded.settings.active_channels
    if channel not in channels:
        raise click.BadParameter(f"no channel named {channel!r} (channels: {', '.join(sorted(channels))})",
                                 param_hint="CHANNEL")
    sender = build_channel(channel, channels[channel])

    async def send() -> None:
        try:
            await sender.send(sample_alert(channel))
        finally:
            await sender.aclose()

    try:
        run_async(send())
    except PermanentDeliveryError as exc:
        err.print(f"{channel}: permanent error: {exc.reason} (the outbox would mark such an alert dead)",
                  markup=False)
        sys.exit(1)
    except DeliveryError as exc:
        after = f"; the receiver asks to wait {exc.retry_after}" if exc.retry_after else ""
        err.print(f"{channel}: retryable error: {exc.reason} (the outbox would retry such an alert{after})",
                  markup=False)
        sys.exit(1)
    out.print(f"{channel}: accepted: the receiver took the test alert", markup=False)


COMMANDS = [notify_group]
