"""Quiet hours, digests and mutes, through the real outbox, store and receivers (webhook, SMTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from support import HookSink, SmtpSink

from monitor.notify.email import EmailChannel
from monitor.notify.settings import EmailSettings, WebhookSettings
from monitor.notify.webhook import WebhookChannel
from monitor.outbox import HoldPolicy, Outbox
from monitor.quiet import DigestSchedule, QuietHours
from monitor.store import Store, open_store
from monitor.store.timeutil import utcnow
from monitor.types import Article, Match


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    yield s
    s.close()


def add_alerts(store: Store, start: int, n: int, *, watchlist: str = "w", channel: str = "hook") -> None:
    for i in range(start, start + n):
        store.save_article(Article(url=f"https://n.example/{i}", title=f"Story {i}", text="t"),
                           link=f"https://n.example/{i}", keys=[f"url:{i}"], feed_id=None, now=utcnow(),
                           matches=[Match(watchlist, 0.9, (f"reason {i}",))], channels={watchlist: [channel]})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# ---- pure time rules --------------------------------------------------------------------------------


def test_quiet_hours_span_midnight_in_local_time_with_daylight_saving() -> None:
    quiet = QuietHours.model_validate({"from": "22:00", "to": "07:00", "timezone": "Europe/Budapest"})
    assert quiet.end_if_quiet(utc(2026, 1, 15, 21, 30)) == utc(2026, 1, 16, 6, 0)   # 22:30 CET
    assert quiet.end_if_quiet(utc(2026, 1, 15, 3, 0)) == utc(2026, 1, 15, 6, 0)     # 04:00 CET
    assert quiet.end_if_quiet(utc(2026, 1, 15, 12, 0)) is None
    assert quiet.end_if_quiet(utc(2026, 1, 15, 20, 59)) is None                      # 21:59 CET
    assert quiet.end_if_quiet(utc(2026, 7, 15, 21, 30)) == utc(2026, 7, 16, 5, 0)   # 23:30 CEST
    day = QuietHours.model_validate({"from": "12:00", "to": "13:30"})
    assert day.end_if_quiet(utc(2026, 1, 15, 12, 10)) == utc(2026, 1, 15, 13, 30)
    assert day.end_if_quiet(utc(2026, 1, 15, 13, 30)) is None


@pytest.mark.parametrize("bad", [{"from": "25:00", "to": "07:00"}, {"from": "22:00", "to": "22:00"},
                                 {"from": "22:00", "to": "07:00", "timezone": "Mars/Olympus"},
                                 {"from": "22:00", "until": "07:00"}])
def test_quiet_hours_refuse_nonsense(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        QuietHours.model_validate(bad)


def test_digest_schedules() -> None:
    daily = DigestSchedule.parse("daily at 08:00 Europe/Budapest")
    assert daily.next_after(utc(2026, 1, 15, 6, 59)) == utc(2026, 1, 15, 7, 0)
    assert daily.next_after(utc(2026, 1, 15, 7, 0)) == utc(2026, 1, 16, 7, 0)
    assert daily.next_after(utc(2026, 7, 15, 7, 0)) == utc(2026, 7, 16, 6, 0)
    assert DigestSchedule.parse("hourly").next_after(utc(2026, 1, 15, 6, 59, 30)) == utc(2026, 1, 15, 7, 0)
    assert DigestSchedule.parse("daily").at == time(8, 0)
    for bad in ("weekly", "hourly at 08:00", "daily at 8 Europe/Budapest", "daily at 08:00 Nowhere/Land"):
        with pytest.raises(ValueError):
            DigestSchedule.parse(bad)


def test_channel_settings_take_quiet_hours_and_digest() -> None:
    s = WebhookSettings.model_validate({"type": "webhook", "url": "http://x.example/h", "digest": "hourly",
                                        "quiet_hours": {"from": "22:00", "to": "07:00"}})
    assert s.digest_schedule == DigestSchedule.parse("hourly")
    assert s.quiet_hours is not None and s.quiet_hours.to == time(7, 0)
    with pytest.raises(ValueError, match="digest"):
        WebhookSettings.model_validate({"type": "webhook", "url": "http://x.example/h", "digest": "often"})


# ---- through the outbox -------------------------------------------------------------------------------


def hook_outbox(store: Store, sink: HookSink, policy: HoldPolicy | None) -> Outbox:
    hook = WebhookChannel("hook", WebhookSettings(type="webhook", url=sink.url, timeout=5))
    return Outbox(store, {"hook": hook}, first_retry=timedelta(seconds=0.2),
                  policies={"hook": policy} if policy else {})


def test_quiet_hours_hold_alerts_and_release_them_as_one_message(store: Store) -> None:
    sink = HookSink()
    add_alerts(store, 0, 3)
    now = utcnow()
    quiet = QuietHours.model_validate({"from": (now - timedelta(hours=1)).time(),
                                       "to": (now + timedelta(hours=1)).time()})
    box = hook_outbox(store, sink, HoldPolicy(quiet_hours=(quiet,)))
    try:

        async def go() -> None:
            held = await box.deliver_due(now)
            assert (held.sent, held.retrying) == (0, 0)
            assert sink.posts == []
            pending = store.deliveries(status="pending")
            assert len(pending) == 3 and all(d.next_attempt_at > now + timedelta(minutes=50) for d in pending)
            end = quiet.end_if_quiet(now)
            assert end is not None
            released = await box.deliver_due(end + timedelta(seconds=1))
            assert released.sent == 3

        asyncio.run(go())
        assert len(sink.posts) == 1
        post = sink.posts[0]
        assert post["digest"] == "Held during quiet hours: 3 new stories"
        assert sorted(a["article"]["title"] for a in post["alerts"]) == ["Story 0", "Story 1", "Story 2"]
        assert len(store.deliveries(status="sent")) == 3
    finally:
        sink.close()


def test_quiet_hours_release_a_single_held_alert_as_itself(store: Store) -> None:
    sink = HookSink()
    add_alerts(store, 0, 1)
    now = utcnow()
    quiet = QuietHours.model_validate({"from": (now - timedelta(hours=1)).time(),
                                       "to": (now + timedelta(hours=1)).time()})
    box = hook_outbox(store, sink, HoldPolicy(quiet_hours=(quiet,)))
    try:
        end = quiet.end_if_quiet(now)
        assert end is not None

        async def go() -> None:
            assert (await box.deliver_due(now)).sent == 0
            assert (await box.deliver_due(end + timedelta(seconds=1))).sent == 1

        asyncio.run(go())
        assert [p["article"]["title"] for p in sink.posts] == ["Story 0"]
    finally:
        sink.close()


def test_hourly_digest_collects_alerts_until_the_slot_and_retries_as_one(store: Store) -> None:
    sink = HookSink([(503, {})])
    digest = DigestSchedule.parse("hourly")
    box = hook_outbox(store, sink, HoldPolicy(digest=digest))
    try:
        async def go() -> None:
            add_alerts(store, 0, 2)
            assert (await box.deliver_due(utcnow())).sent == 0
            add_alerts(store, 2, 2)
            assert (await box.deliver_due(utcnow())).sent == 0
            slots = {d.next_attempt_at for d in store.deliveries(status="pending")}
            assert len(slots) == 1
            slot = slots.pop()
            assert slot.minute == slot.second == 0 and slot > utcnow()
            failed = await box.deliver_due(slot + timedelta(seconds=1))
            assert failed.retrying == 4
            await asyncio.sleep(0.3)
            sent = await box.deliver_due(slot + timedelta(seconds=2))
            assert sent.sent == 4

        asyncio.run(go())
        assert [status for _t, status in sink.attempts] == [503, 200]
        assert len(sink.posts) == 1 and len(sink.posts[0]["alerts"]) == 4
        assert sink.posts[0]["digest"] == "Digest: 4 new stories"
        assert sink.headers[0]["X-News-Monitor-Delivery"] == sink.posts[0]["delivery_key"]
    finally:
        sink.close()


def test_daily_digest_by_email_is_one_message(store: Store) -> None:
    smtp = SmtpSink()
    try:
        mail = EmailChannel("mail", EmailSettings.model_validate(
            {"type": "email", "host": "127.0.0.1", "port": smtp.port, "from": "m@example.org",
             "to": "a@example.org", "timeout": 5}))
        digest = DigestSchedule.parse("daily at 08:00 Europe/Budapest")
        box = Outbox(store, {"mail": mail}, policies={"mail": HoldPolicy(digest=digest)})
        add_alerts(store, 0, 3, channel="mail")
        slot = digest.next_after(utcnow())

        async def go() -> None:
            await box.deliver_due()
            assert smtp.messages == []
            assert (await box.deliver_due(slot)).sent == 3

        asyncio.run(go())
        assert len(smtp.messages) == 1
        assert smtp.messages[0]["Subject"] == "[news-monitor] Digest: 3 new stories (w)"
        text = smtp.texts()[0]
        assert all(f"Story {i}" in text and f"https://n.example/{i}" in text for i in range(3))
    finally:
        smtp.close()


def test_muted_watchlist_is_stored_but_never_delivered(store: Store) -> None:
    sink = HookSink()
    box = hook_outbox(store, sink, None)
    try:
        now = utcnow()
        store.mute("w", now=now, until=now + timedelta(hours=2))
        assert [m.watchlist for m in store.active_mutes(now=now)] == ["w"]
        add_alerts(store, 0, 2)
        add_alerts(store, 2, 1, watchlist="other")
        report = asyncio.run(box.deliver_due())
        assert report.sent == 1
        assert [p["watchlist"] for p in sink.posts] == ["other"]
        muted = store.deliveries(status="muted")
        assert len(muted) == 2 and all("muted until" in (d.last_error or "") for d in muted)
        shown = {m.title: dict(m.deliveries) for m in store.matches()}
        assert shown["Story 0"] == {"hook": "muted"} and shown["Story 2"] == {"hook": "sent"}

        # Unmuted: new matches alert again; those made while muted stay silent.
        assert store.unmute("w", now=utcnow()) == 1
        assert store.unmute("w", now=utcnow()) == 0
        add_alerts(store, 3, 1)
        assert asyncio.run(box.deliver_due()).sent == 1
        assert [p["article"]["title"] for p in sink.posts] == ["Story 2", "Story 3"]
        assert len(store.deliveries(status="muted")) == 2
    finally:
        sink.close()


def test_a_new_mute_replaces_the_active_one(store: Store) -> None:
    now = utcnow()
    store.mute("w", now=now, until=now + timedelta(hours=5))
    store.mute("w", now=now + timedelta(seconds=1), until=now + timedelta(minutes=30))
    active = store.active_mutes(now=now + timedelta(seconds=2))
    assert len(active) == 1 and active[0].until == now + timedelta(minutes=30)


def test_watchlist_level_digest_and_quiet_hours_load_and_apply(store: Store) -> None:
    from monitor.errors import ConfigError
    from monitor.matching import watchlist_from_text
    from monitor.outbox import merged

    w = watchlist_from_text("name: w\ndigest: hourly\nquiet_hours: {from: '23:00', to: '06:00'}\n"
                            "match: {any: [bank]}\n")
    assert w.digest == DigestSchedule.parse("hourly") and w.quiet_hours is not None
    with pytest.raises(ConfigError) as caught:
        watchlist_from_text("name: w\nmatch: {any: [bank]}\ndigest: weekly\nquiet_hours: {from: '23:00', to: 7}\n")
    where = {(p.key, p.line) for p in caught.value.problems}
    assert ("digest", 3) in where and ("quiet_hours.to", 4) in where, where

    policy = HoldPolicy.of(w.digest, None)
    assert policy is not None
    channel_quiet = QuietHours.model_validate({"from": "22:00", "to": "07:00"})
    both = merged(HoldPolicy.of(None, channel_quiet), policy)
    assert both is not None and both.digest == w.digest and both.quiet_hours == (channel_quiet,)

    sink = HookSink()
    hook = WebhookChannel("hook", WebhookSettings(type="webhook", url=sink.url, timeout=5))
    box = Outbox(store, {"hook": hook}, watchlist_policies={"w": policy})
    try:
        add_alerts(store, 0, 2)
        add_alerts(store, 2, 1, watchlist="other")
        assert asyncio.run(box.deliver_due()).sent == 1
        assert [p["watchlist"] for p in sink.posts] == ["other"]
        assert len(store.deliveries(status="pending")) == 2
    finally:
        sink.close()
