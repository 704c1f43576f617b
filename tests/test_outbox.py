"""The outbox against a real webhook receiver: retries, Retry-After pauses the channel, dead rows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from support import HookSink

from monitor.notify.settings import SlackSettings
from monitor.notify.slack import SlackChannel
from monitor.outbox import Outbox, retry_delay
from monitor.store import Store, open_store
from monitor.store.timeutil import utcnow
from monitor.types import Article, Match


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    yield s
    s.close()


def add_alerts(store: Store, n: int) -> None:
    for i in range(n):
        store.save_article(Article(url=f"https://n.example/{i}", title=f"Story {i}", text="t"),
                           link=f"https://n.example/{i}", keys=[f"url:{i}"], feed_id=None, now=utcnow(),
                           matches=[Match("w", 0.9, ("why",))], channels={"w": ["chat"]})


def outbox(store: Store, sink: HookSink) -> Outbox:
    chat = SlackChannel("chat", SlackSettings(type="slack", webhook_url=sink.url, timeout=5))
    return Outbox(store, {"chat": chat}, first_retry=timedelta(seconds=0.2))


def test_retry_delay_grows_with_jitter_and_honours_retry_after() -> None:
    first = [retry_delay(0) for _ in range(50)]
    assert all(timedelta(seconds=15) <= d <= timedelta(seconds=30) for d in first)
    assert len(set(first)) > 1
    assert retry_delay(3) >= timedelta(seconds=120)
    assert retry_delay(30) <= timedelta(hours=6)
    assert retry_delay(0, timedelta(minutes=5)) >= timedelta(minutes=5)


def test_500_retries_then_sends(store: Store) -> None:
    sink = HookSink([(500, {})])
    try:
        add_alerts(store, 1)
        box = outbox(store, sink)

        async def go() -> None:
            first = await box.deliver_due()
            assert (first.sent, first.retrying) == (0, 1)
            assert (await box.deliver_due()).sent == 0  # not due yet
            await asyncio.sleep(0.3)
            assert (await box.deliver_due()).sent == 1
            await box.aclose()

        asyncio.run(go())
        assert len(sink.posts) == 1 and len(sink.attempts) == 2
        [row] = store.deliveries()
        assert row.status == "sent" and row.attempts == 2
    finally:
        sink.close()


def test_429_pauses_the_whole_channel_for_retry_after(store: Store) -> None:
    sink = HookSink([(429, {"Retry-After": "1"})])
    try:
        add_alerts(store, 3)
        box = outbox(store, sink)

        async def go() -> None:
            report = await box.deliver_due()
            assert report.sent == 0 and len(sink.attempts) == 1  # the other two were held back, not tried
            await asyncio.sleep(0.5)
            assert (await box.deliver_due()).sent == 0  # still paused
            await asyncio.sleep(0.7)
            assert (await box.deliver_due()).sent == 3
            await box.aclose()

        asyncio.run(go())
        times = [t for t, _ in sink.attempts]
        assert times[1] - times[0] >= 1.0, "posted again sooner than Retry-After"
        assert len(sink.posts) == 3
    finally:
        sink.close()


def test_permanent_refusal_marks_dead_with_reason(store: Store) -> None:
    sink = HookSink([(404, {})])
    try:
        add_alerts(store, 1)
        box = outbox(store, sink)
        report = asyncio.run(box.deliver_due())
        asyncio.run(box.aclose())
        assert report.dead == 1
        [row] = store.deliveries(status="dead")
        assert row.last_error and "404" in row.last_error
        assert sink.url not in row.last_error
    finally:
        sink.close()


def test_500_then_429_then_200_with_the_timing_of_each_attempt(store: Store) -> None:
    """Slack answers 500, then 429 with Retry-After: 1, then 200: one post, and none sooner than asked."""
    sink = HookSink([(500, {}), (429, {"Retry-After": "1"})])
    try:
        add_alerts(store, 1)
        box = outbox(store, sink)

        async def go() -> None:
            deadline = asyncio.get_running_loop().time() + 10
            while not sink.posts and asyncio.get_running_loop().time() < deadline:
                await box.deliver_due()
                await asyncio.sleep(0.05)
            await box.aclose()

        asyncio.run(go())
        assert [status for _t, status in sink.attempts] == [500, 429, 200]
        times = [t for t, _s in sink.attempts]
        assert times[1] - times[0] <= 1.0, "the first retry after a 500 came too late"
        assert times[2] - times[1] >= 1.0, "posted again sooner than Retry-After"
        [row] = store.deliveries()
        assert row.status == "sent" and row.attempts == 3
    finally:
        sink.close()


def test_smtp_connection_dropped_after_data_is_retried_and_arrives_once(store: Store) -> None:
    from aiosmtpd.controller import Controller

    from monitor.notify.email import EmailChannel
    from monitor.notify.settings import EmailSettings

    accepted: list[bytes] = []
    drops = [1]

    class DropOnce:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            if drops[0]:
                drops[0] -= 1
                server.transport.close()  # type: ignore[attr-defined]
                return "250 never seen by the client"
            accepted.append(envelope.content)  # type: ignore[attr-defined]
            return "250 OK"

    from support import free_port

    port = free_port()
    controller = Controller(DropOnce(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        add_alerts(store, 1)
        store.save_article(Article(url="https://n.example/mail", title="Mail story", text="t"), link="https://n.example/mail",
                           keys=["url:mail"], feed_id=None, now=utcnow(), matches=[Match("m", 0.9, ("why",))],
                           channels={"m": ["mail"]})
        mail = EmailChannel("mail", EmailSettings.model_validate(
            {"type": "email", "host": "127.0.0.1", "port": port, "from": "m@example.org", "to": ["a@example.org"],
             "timeout": 5}))
        box = Outbox(store, {"mail": mail}, first_retry=timedelta(seconds=0.2))

        async def go() -> None:
            first = await box.deliver_due()
            assert first.retrying == 1 and not accepted
            await asyncio.sleep(0.3)
            assert (await box.deliver_due()).sent == 1
            await box.aclose()

        asyncio.run(go())
        assert len(accepted) == 1
        [row] = store.deliveries(status="sent")
        assert row.channel == "mail" and row.attempts == 2
    finally:
        controller.stop()
