"""`monitor notify test`, `monitor watchlist mute/unmute` and the admin alert, with real receivers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from support import HookSink, SmtpSink

from monitor.admin import check_feed_health
from monitor.cli import main
from monitor.config import AdminSettings
from monitor.notify.settings import WebhookSettings
from monitor.notify.webhook import WebhookChannel
from monitor.store import open_store
from monitor.store.timeutil import utcnow

WATCHLIST = "name: Bank breaches\nmatch: {any: [bank]}\n"


def config(tmp_path: Path, hook: HookSink, smtp: SmtpSink | None = None) -> Path:
    (tmp_path / "watchlists").mkdir(exist_ok=True)
    (tmp_path / "watchlists" / "banks.yaml").write_text(WATCHLIST)
    lines = [f"database: sqlite:///{tmp_path / 'm.db'}", "watchlists: watchlists", "channels:",
             "  hook:", "    type: webhook", f"    url: {hook.url}", "    timeout: 5"]
    if smtp:
        lines += ["  mail:", "    type: email", "    host: 127.0.0.1", f"    port: {smtp.port}",
                  "    from: m@example.org", "    to: a@example.org", "    timeout: 5"]
    path = tmp_path / "monitor.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def invoke(path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(path), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_notify_test_reports_accepted_retryable_and_permanent(tmp_path: Path) -> None:
    hook, smtp = HookSink([(503, {"Retry-After": "30"}), (404, {})]), SmtpSink()
    try:
        path = config(tmp_path, hook, smtp)
        code, output = invoke(path, "notify", "test", "hook")
        assert code == 1 and "hook: retryable error: HTTP 503" in output
        code, output = invoke(path, "notify", "test", "hook")
        assert code == 1 and "hook: permanent error: HTTP 404" in output
        code, output = invoke(path, "notify", "test", "hook")
        assert code == 0 and "hook: accepted" in output
        assert hook.posts[0]["article"]["title"].startswith("news-monitor test alert")
        code, output = invoke(path, "notify", "test", "mail")
        assert code == 0 and len(smtp.messages) == 1
        assert "news-monitor test alert" in str(smtp.messages[0]["Subject"])
        code, output = invoke(path, "notify", "test", "pager")
        assert code == 2 and "no channel named 'pager'" in output
        smtp.refuse = 1
        code, output = invoke(path, "notify", "test", "mail")
        assert code == 1 and "retryable error" in output and "451" in output
        assert len(smtp.messages) == 1
    finally:
        hook.close(), smtp.close()


def test_mute_and_unmute_commands(tmp_path: Path) -> None:
    hook = HookSink()
    try:
        path = config(tmp_path, hook)
        code, output = invoke(path, "watchlist", "mute", "Bank breaches", "2h")
        assert code == 0 and "muted until" in output
        store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
        try:
            active = store.active_mutes(now=utcnow())
            assert [m.watchlist for m in active] == ["Bank breaches"]
            assert timedelta(minutes=119) < active[0].until - utcnow() <= timedelta(hours=2)
            code, output = invoke(path, "watchlist", "unmute", "Bank breaches")
            assert code == 0 and "unmuted" in output
            assert store.active_mutes(now=utcnow()) == []
        finally:
            store.close()
        code, output = invoke(path, "watchlist", "mute", "Nope", "2h")
        assert code == 2 and "no watchlist named 'Nope'" in output
        code, output = invoke(path, "watchlist", "mute", "Bank breaches", "soon")
        assert code == 2
    finally:
        hook.close()


def test_admin_alert_once_when_failing_too_long_and_once_on_recovery(tmp_path: Path) -> None:
    hook = HookSink()
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        t0 = utcnow()
        store.sync_feeds([("https://feeds.example/a.xml", "Feed A", None), ("https://feeds.example/b.xml", None, None)],
                         default_interval=timedelta(minutes=15), now=t0)
        a = store.feed("https://feeds.example/a.xml")
        assert a is not None
        store.record_poll(a.id, now=t0, next_check=t0, error="HTTP 503: Service Unavailable")
        channels = {"hook": WebhookChannel("hook", WebhookSettings(type="webhook", url=hook.url, timeout=5))}
        admin = AdminSettings(channels=["hook"], feed_failing_after=timedelta(hours=6))

        def check(at: timedelta) -> tuple[tuple[str, ...], tuple[str, ...]]:
            report = asyncio.run(check_feed_health(store, admin, channels, now=t0 + at))
            return report.failing, report.recovered

        assert check(timedelta(hours=1)) == ((), ())
        assert check(timedelta(hours=6, minutes=1)) == (("https://feeds.example/a.xml",), ())
        assert check(timedelta(hours=7)) == ((), ())
        assert len(hook.posts) == 1
        failing = hook.posts[0]
        assert failing["article"]["title"] == "Feed failing for 6 h: Feed A"
        assert "last error: HTTP 503: Service Unavailable" in failing["match"]["why"]
        store.record_poll(a.id, now=t0 + timedelta(hours=8), next_check=t0)
        assert check(timedelta(hours=8)) == ((), ("https://feeds.example/a.xml",))
        assert check(timedelta(hours=9)) == ((), ())
        assert [p["article"]["title"] for p in hook.posts[1:]] == ["Feed recovered: Feed A"]
        # A short failure that recovers before the threshold says nothing.
        store.record_poll(a.id, now=t0 + timedelta(hours=10), next_check=t0, error="timeout")
        assert check(timedelta(hours=10)) == ((), ())
        store.record_poll(a.id, now=t0 + timedelta(hours=11), next_check=t0)
        assert check(timedelta(hours=11)) == ((), ())
        assert check(timedelta(hours=20)) == ((), ())
        assert len(hook.posts) == 2
    finally:
        store.close()
        hook.close()


def test_admin_alert_is_retried_while_the_channel_is_down(tmp_path: Path) -> None:
    hook = HookSink([(500, {})])
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        t0 = utcnow()
        store.sync_feeds([("https://feeds.example/a.xml", None, None)], default_interval=timedelta(minutes=15), now=t0)
        a = store.feed("https://feeds.example/a.xml")
        assert a is not None
        store.record_poll(a.id, now=t0, next_check=t0, error="DNS failure")
        channels = {"hook": WebhookChannel("hook", WebhookSettings(type="webhook", url=hook.url, timeout=5))}
        admin = AdminSettings(channels=["hook"], feed_failing_after=timedelta(minutes=30))
        asyncio.run(check_feed_health(store, admin, channels, now=t0))
        assert asyncio.run(check_feed_health(store, admin, channels, now=t0 + timedelta(hours=1))).failing == ()
        assert asyncio.run(check_feed_health(store, admin, channels, now=t0 + timedelta(hours=2))).failing != ()
        assert len(hook.posts) == 1 and len(hook.attempts) == 2
    finally:
        store.close()
        hook.close()


def test_admin_channels_must_exist(tmp_path: Path) -> None:
    hook = HookSink()
    try:
        path = config(tmp_path, hook)
        path.write_text(path.read_text() + "admin:\n  channels: [pager]\n  feed_failing_after: 2h\n")
        code, output = invoke(path, "check")
        assert code == 2 and "admin.channels" in output and "'pager'" in output
    finally:
        hook.close()
