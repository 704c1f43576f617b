"""The Apprise channel against real local receivers (Apprise's json:// posts to our HookSink)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from support import HookSink

from monitor.config import load_settings
from monitor.digest import Digest
from monitor.errors import ConfigError, DeliveryError
from monitor.notify import AppriseChannel, build_channel
from monitor.notify.settings import AppriseSettings
from monitor.outbox import Outbox
from monitor.store import open_store
from monitor.store.timeutil import utcnow
from monitor.types import Alert, Article, Match


def alert(i: int = 0) -> Alert:
    return Alert("Bank breaches", Article(url=f"https://n.example/{i}", title=f"Bank hacked {i}", text="x"),
                 Match("Bank breaches", 0.8, ("action: data_breach",)), delivery_key=f"k{i}")


def json_url(sink: HookSink, token: str = "tok") -> str:
    return f"json://127.0.0.1:{sink.port}/{token}"


def test_apprise_delivers_title_and_text() -> None:
    sink = HookSink()
    try:
        channel = build_channel("phones", AppriseSettings(type="apprise", urls=[json_url(sink)]))
        assert isinstance(channel, AppriseChannel)
        asyncio.run(channel.send(alert()))
        assert len(sink.posts) == 1
        assert sink.posts[0]["title"] == "Bank breaches: Bank hacked 0"
        assert "Why: action: data_breach" in sink.posts[0]["message"]
        asyncio.run(channel.send_digest(Digest("Digest: 2 new stories", (alert(1), alert(2)), "d1")))
        assert sink.posts[1]["title"] == "Digest: 2 new stories"
        assert "Bank hacked 1" in sink.posts[1]["message"] and "Bank hacked 2" in sink.posts[1]["message"]
    finally:
        sink.close()


def test_apprise_failure_is_one_attempt_and_a_retryable_error_without_secrets() -> None:
    sink = HookSink([(500, {})])
    try:
        channel = AppriseChannel("phones", AppriseSettings(type="apprise", urls=[json_url(sink, "s3cr3t-token-xyz")]))
        with pytest.raises(DeliveryError) as caught:
            asyncio.run(channel.send(alert()))
        assert type(caught.value) is DeliveryError
        assert "500" in caught.value.reason and "s3cr3t-token-xyz" not in caught.value.reason
        assert len(sink.attempts) == 1  # Apprise did not retry on its own
        asyncio.run(channel.send(alert()))
        assert len(sink.posts) == 1
    finally:
        sink.close()


def test_a_retry_skips_the_urls_that_already_took_the_alert() -> None:
    good, bad = HookSink(), HookSink([(503, {})])
    try:
        channel = AppriseChannel("phones", AppriseSettings(type="apprise", urls=[json_url(good), json_url(bad)]))
        with pytest.raises(DeliveryError, match="URL 2"):
            asyncio.run(channel.send(alert()))
        asyncio.run(channel.send(alert()))
        assert len(good.posts) == 1 and len(bad.posts) == 1
    finally:
        good.close(), bad.close()


def test_unknown_apprise_urls_fail_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="number"):
        AppriseSettings(type="apprise", urls=["json://127.0.0.1/x", "nosuchservice://abc"])
    config = tmp_path / "monitor.yaml"
    config.write_text("channels:\n  phones:\n    type: apprise\n    urls: [\"nosuchservice://abc\"]\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert any(p.line == 4 and "Apprise" in p.message for p in caught.value.problems)


def test_outbox_delivers_through_apprise(tmp_path: Path) -> None:
    sink = HookSink([(500, {})])
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        for i in range(2):
            store.save_article(Article(url=f"https://n.example/{i}", title=f"Story {i}", text="t"),
                               link=f"https://n.example/{i}", keys=[f"url:{i}"], feed_id=None, now=utcnow(),
                               matches=[Match("w", 0.9, ("why",))], channels={"w": ["phones"]})
        channel = AppriseChannel("phones", AppriseSettings(type="apprise", urls=[json_url(sink)]))
        box = Outbox(store, {"phones": channel}, first_retry=timedelta(seconds=0.1))

        async def go() -> None:
            first = await box.deliver_due()
            assert (first.sent, first.retrying) == (1, 1)
            await asyncio.sleep(0.2)
            assert (await box.deliver_due()).sent == 1

        asyncio.run(go())
        assert sorted(p["title"] for p in sink.posts) == ["w: Story 0", "w: Story 1"]
    finally:
        store.close()
        sink.close()
