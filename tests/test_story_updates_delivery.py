"""Story updates through the real store (SQLite and PostgreSQL), outbox and receivers (SMTP, Slack
stand-ins, a webhook): counted once per story across restarts, never before their first alert,
threaded where the channel can."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support import HookSink, SmtpSink

from monitor.notify.email import EmailChannel, build_message, message_id
from monitor.notify.settings import EmailSettings, SlackSettings, WebhookSettings
from monitor.notify.slack import SlackChannel
from monitor.notify.webhook import WebhookChannel
from monitor.outbox import HoldPolicy, Outbox
from monitor.quiet import DigestSchedule
from monitor.store import PendingDelivery, SavedArticle, Store, open_store
from monitor.store.timeutil import utcnow
from monitor.story_updates import UpdatePolicy
from monitor.types import Article, Match

NOW_POLICY = UpdatePolicy(min_gap=timedelta(0))
TITLE = "Earthquake of magnitude 6 hits Portsville"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    yield s
    s.close()


def save(store: Store, outlet: str, title: str | None = None, *, channels: tuple[str, ...] = ("hook",),
         policy: UpdatePolicy | None = NOW_POLICY, alert: bool = True, story: str = "quake") -> SavedArticle:
    slug = outlet.lower().replace(" ", "-")
    url = f"https://{slug}.example/{story}"
    saved = store.save_article(
        Article(url=url, title=title or f"{outlet}: {TITLE}", outlet=outlet,
                text="A strong earthquake hit Portsville on Monday morning, damaging the harbour."),
        link=url, keys=[f"url:{url}"], feed_id=None, now=utcnow(), matches=[Match("Quakes", 0.9, ("earthquake",))],
        alert=alert, channels={"Quakes": list(channels)}, story_id=story, updates=policy)
    assert saved is not None
    return saved


def claim(store: Store) -> list[PendingDelivery]:
    return store.claim_deliveries(now=utcnow(), lease=timedelta(seconds=30))


# ---- the store: decided in the joining article's transaction, counted across restarts ----------------


def test_three_new_outlets_write_one_update_per_channel_once(database_url: str) -> None:
    store = open_store(database_url)
    try:
        assert save(store, "Wire", TITLE, channels=("mail", "chat")).alerted == ("Quakes",)
        assert save(store, "Courier", channels=("mail", "chat")).updated == ()
        assert save(store, "Herald", channels=("mail", "chat")).updated == ()
        third = save(store, "Gazette", channels=("mail", "chat"))
        assert third.alerted == () and third.updated == ("Quakes",)
        assert save(store, "Tribune", channels=("mail", "chat")).updated == ()  # at most one per story
    finally:
        store.close()
    store = open_store(database_url)  # a restart: the count is in the database
    try:
        for outlet in ("Post", "Globe", "Sun"):
            assert save(store, outlet, channels=("mail", "chat")).updated == ()
        rows = claim(store)
        alerts = {r.channel: r for r in rows if r.alert.update is None}
        updates = {r.channel: r for r in rows if r.alert.update is not None}
        assert set(alerts) == set(updates) == {"mail", "chat"}
        for channel, row in updates.items():
            update = row.alert.update
            assert update is not None
            first = alerts[channel]
            assert update.first_key == first.alert.delivery_key and update.first.title == TITLE
            assert row.waits_for == first.id  # its alert is still pending
            # Sent later, the update lists every outlet that joined until then, the first one each.
            assert [a.outlet for a in update.reports] == ["Courier", "Herald", "Gazette", "Tribune", "Post",
                                                          "Globe", "Sun"]
            assert update.reason == "7 new outlets" and update.confirmation is None
            assert row.alert.article.outlet == "Gazette"  # the report that earned it
    finally:
        store.close()


def test_no_update_when_turned_off_for_backfill_or_for_copies(store: Store) -> None:
    save(store, "Wire", TITLE)
    for outlet in ("Courier", "Herald", "Gazette"):
        assert save(store, outlet, policy=None).updated == ()
    assert save(store, "Tribune", alert=False).updated == ()  # old news joins silently
    # The Courier's article again under a new URL with the same headline is the same article.
    again = store.save_article(
        Article(url="https://courier.example/quake-2", title="Courier: " + TITLE, outlet="Courier", text="x"),
        link="https://courier.example/quake-2", keys=["url:courier-2"], feed_id=None, now=utcnow(),
        matches=[Match("Quakes", 0.9, ("earthquake",))], channels={"Quakes": ["hook"]}, story_id="quake",
        updates=UpdatePolicy(min_gap=timedelta(0), outlets=1))
    assert again is not None and again.updated == ()
    assert [r.alert.update for r in claim(store)] == [None]


def test_an_official_confirmation_earns_the_update_after_the_gap(store: Store) -> None:
    save(store, "Wire", TITLE)
    policy = UpdatePolicy(min_gap=timedelta(hours=1))
    saved = save(store, "Courier", "Government confirms 12 dead in Portsville earthquake", policy=policy)
    assert saved.updated == ("Quakes",)
    [row] = [d for d in store.deliveries(status="pending") if d.url.startswith("https://courier.")]
    assert row.next_attempt_at > utcnow() + timedelta(minutes=55)  # not before the gap after the alert
    later = store.claim_deliveries(now=utcnow() + timedelta(hours=1, seconds=5), lease=timedelta(seconds=30))
    [update] = [r.alert.update for r in later if r.alert.update is not None]
    assert update.reason == "official confirmation, 1 new outlet"
    assert update.confirmation is not None and update.confirmation.outlet == "Courier"


# ---- the outbox: never before the first alert ----------------------------------------------------------


def hook_outbox(store: Store, sink: HookSink, policy: HoldPolicy | None = None) -> Outbox:
    hook = WebhookChannel("hook", WebhookSettings(type="webhook", url=sink.url, timeout=5))
    return Outbox(store, {"hook": hook}, first_retry=timedelta(seconds=0.2), policies={"hook": policy} if policy else {})


def grow(store: Store, *outlets: str) -> None:
    for outlet in outlets or ("Courier", "Herald", "Gazette"):
        save(store, outlet)


def test_an_update_waits_for_its_pending_alert(store: Store) -> None:
    sink = HookSink([(500, {})])  # the alert fails once
    save(store, "Wire", TITLE)
    grow(store)
    box = hook_outbox(store, sink)
    try:
        async def go() -> None:
            first = await box.deliver_due()
            assert (first.sent, first.retrying) == (0, 1) and sink.posts == []
            waiting = [d for d in store.deliveries(status="pending") if d.last_error and "waits for" in d.last_error]
            assert len(waiting) == 1 and waiting[0].attempts == 0
            await asyncio.sleep(0.35)
            assert (await box.deliver_due()).sent == 1  # the alert; the update waited for it
            assert (await box.deliver_due()).sent == 1
            await box.aclose()

        asyncio.run(go())
        alert, update = sink.posts
        assert "kind" not in alert and alert["article"]["title"] == TITLE
        assert update["kind"] == "update" and update["update_of"] == alert["delivery_key"]
        assert [o["outlet"] for o in update["update"]["new_outlets"]] == ["Courier", "Herald", "Gazette"]
        assert update["update"]["first"]["title"] == TITLE and update["update"]["first"]["sent_at"]
    finally:
        sink.close()


def test_an_update_of_a_dead_alert_is_sent_as_the_alert(store: Store) -> None:
    sink = HookSink([(400, {})])  # the alert is refused for good
    save(store, "Wire", TITLE)
    grow(store)
    box = hook_outbox(store, sink)
    try:
        async def go() -> None:
            assert (await box.deliver_due()).dead == 1
            assert (await box.deliver_due()).sent == 1
            await box.aclose()

        asyncio.run(go())
        [post] = sink.posts
        assert "kind" not in post and post["article"]["outlet"] == "Gazette"
    finally:
        sink.close()


def test_a_held_update_is_listed_as_an_update_in_the_digest(store: Store) -> None:
    sink = HookSink()
    digest = DigestSchedule.parse("hourly")
    box = hook_outbox(store, sink, HoldPolicy(digest=digest))
    save(store, "Wire", TITLE)
    save(store, "Other", "Ferry strike in Highpeak", story="strike")
    try:
        async def go() -> None:
            assert (await box.deliver_due()).sent == 0
            grow(store)
            assert (await box.deliver_due()).sent == 0
            slot = digest.next_after(utcnow())
            assert (await box.deliver_due(slot + timedelta(seconds=1))).sent == 3
            await box.aclose()

        asyncio.run(go())
        [post] = sink.posts
        assert post["digest"] == "Digest: 2 new stories, 1 update"
        kinds = [(a.get("kind", "alert"), a["article"]["title"]) for a in post["alerts"]]
        assert kinds[0] == ("alert", TITLE) and ("update", "Gazette: " + TITLE) in kinds
    finally:
        sink.close()


# ---- channels: email replies to the alert, Slack threads with a bot, says what it updates without ------


def test_email_update_replies_to_the_first_alert(store: Store) -> None:
    smtp = SmtpSink()
    save(store, "Wire", TITLE, channels=("mail",))
    mail = EmailChannel("mail", EmailSettings.model_validate(
        {"type": "email", "host": "127.0.0.1", "port": smtp.port, "from": "m@example.org", "to": "a@example.org",
         "timeout": 5}))
    box = Outbox(store, {"mail": mail})
    try:
        async def go() -> None:
            assert (await box.deliver_due()).sent == 1
            for outlet in ("Courier", "Herald", "Gazette"):
                save(store, outlet, channels=("mail",))
            assert (await box.deliver_due()).sent == 1

        asyncio.run(go())
        alert, update = smtp.messages
        assert update["In-Reply-To"] == alert["Message-ID"] and update["References"] == alert["Message-ID"]
        assert update["Message-ID"] != alert["Message-ID"]
        assert update["Subject"] == f"Re: {alert['Subject']}"
        text = smtp.texts()[1]
        assert "Update: 3 new outlets" in text and "https://gazette.example/quake" in text
        assert "Courier: Courier: " + TITLE in text
    finally:
        smtp.close()


def test_email_update_derives_the_parent_id_without_a_receipt(store: Store) -> None:
    """An alert sent before receipts were kept: the parent's Message-ID derives from its delivery."""
    save(store, "Wire", TITLE, channels=("mail",))
    for outlet in ("Courier", "Herald", "Gazette"):
        save(store, outlet, channels=("mail",))
    rows = claim(store)
    [first] = [r for r in rows if r.alert.update is None]
    [update] = [r for r in rows if r.alert.update is not None]
    settings = EmailSettings.model_validate({"type": "email", "host": "h", "from": "m@example.org", "to": "a@x.org"})
    assert update.alert.update is not None and update.alert.update.first_receipt is None
    msg = build_message(update.alert, settings)
    assert msg["In-Reply-To"] == message_id(first.alert.delivery_key) == build_message(first.alert, settings)["Message-ID"]


def slack_api() -> tuple[HookSink, list[str]]:
    stamps: list[str] = []

    def answer(post: dict[str, Any]) -> dict[str, Any]:
        if post.get("thread_ts") == "404.0":
            return {"ok": False, "error": "thread_not_found"}
        if post["channel"] == "#nowhere":
            return {"ok": False, "error": "channel_not_found"}
        stamps.append(f"1700000000.{len(stamps) + 1:06d}")
        return {"ok": True, "channel": "C0ALERTS", "ts": stamps[-1], "message": {"text": post["text"]}}

    return HookSink(reply=answer), stamps


def slack(sink: HookSink, *, channel: str = "#alerts", token: bool = True) -> SlackChannel:
    if token:
        settings = SlackSettings(type="slack", token="xoxb-test-token", channel=channel,
                                 api_url=f"http://127.0.0.1:{sink.port}/api", timeout=5)
    else:
        settings = SlackSettings(type="slack", webhook_url=sink.url, timeout=5)
    return SlackChannel("chat", settings)


def test_slack_bot_threads_the_update_under_the_alert(store: Store) -> None:
    sink, stamps = slack_api()
    save(store, "Wire", TITLE, channels=("chat",))
    box = Outbox(store, {"chat": slack(sink)})
    try:
        async def go() -> None:
            assert (await box.deliver_due()).sent == 1
            for outlet in ("Courier", "Herald", "Gazette"):
                save(store, outlet, channels=("chat",))
            assert (await box.deliver_due()).sent == 1
            await box.aclose()

        asyncio.run(go())
        alert, update = sink.posts
        assert alert["channel"] == "#alerts" and "thread_ts" not in alert
        assert update["channel"] == "C0ALERTS" and update["thread_ts"] == stamps[0]
        assert sink.headers[0]["Authorization"] == "Bearer xoxb-test-token"
        assert "*Update:* 3 new outlets" in update["blocks"][0]["text"]["text"]
        assert "gazette.example" in str(update["blocks"])
    finally:
        sink.close()


def test_slack_bot_posts_on_its_own_when_the_thread_is_gone_and_gives_up_on_a_bad_channel() -> None:
    from monitor.types import Alert, StoryUpdate

    sink, _stamps = slack_api()
    try:
        first = Article(url="https://wire.example/quake", title=TITLE, text="", outlet="Wire")
        update = StoryUpdate(first=first, first_key="delivery-1-match-1-chat", first_receipt="C0ALERTS 404.0",
                             reason="3 new outlets")
        alert = Alert("Quakes", Article(url="https://g.example/q", title="G", text=""), Match("Quakes", 0.9, ()),
                      delivery_key="delivery-9-match-9-chat", update=update)

        async def go() -> None:
            channel = slack(sink)
            assert await channel.send(alert) == "C0ALERTS 1700000000.000001"
            bad = slack(sink, channel="#nowhere")
            from monitor.errors import PermanentDeliveryError

            with pytest.raises(PermanentDeliveryError, match="channel_not_found"):
                await bad.send(replace_update(alert))
            await channel.aclose()
            await bad.aclose()

        asyncio.run(go())
        threaded, alone = sink.posts[0], sink.posts[1]
        assert threaded["thread_ts"] == "404.0" and "thread_ts" not in alone
        assert "Updates the alert of" in alone["blocks"][0]["text"]["text"]
    finally:
        sink.close()


def replace_update(alert: Any) -> Any:
    from dataclasses import replace

    return replace(alert, update=replace(alert.update, first_receipt=None))


def test_slack_webhook_update_says_what_it_updates(store: Store) -> None:
    sink = HookSink()
    save(store, "Wire", TITLE, channels=("chat",))
    box = Outbox(store, {"chat": slack(sink, token=False)})
    try:
        async def go() -> None:
            assert (await box.deliver_due()).sent == 1
            for outlet in ("Courier", "Herald", "Gazette"):
                save(store, outlet, channels=("chat",))
            assert (await box.deliver_due()).sent == 1
            await box.aclose()

        asyncio.run(go())
        _alert, update = sink.posts
        head = update["blocks"][0]["text"]["text"]
        assert "thread_ts" not in update and "channel" not in update
        assert head.startswith("*Update:* 3 new outlets") and TITLE in head and "Updates the alert of 20" in head
        assert update["text"].startswith(f"Update: {TITLE}")
    finally:
        sink.close()


def test_slack_settings_take_a_webhook_or_a_bot() -> None:
    from pydantic import ValidationError

    assert SlackSettings.model_validate({"type": "slack", "token": "x", "channel": "#a"}).api_url == \
        "https://slack.com/api"
    for bad in ({"type": "slack"}, {"type": "slack", "token": "x"},
                {"type": "slack", "token": "x", "channel": "#a", "webhook_url": "https://h.example/x"},
                {"type": "slack", "webhook_url": "https://h.example/x", "channel": "#a"},
                {"type": "slack", "token": "x", "channel": "#a", "api_url": "slack.com/api"}):
        with pytest.raises(ValidationError):
            SlackSettings.model_validate(bad)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_reports_saved_at_once_by_several_workers_make_one_update(database_url: str) -> None:
    """Workers saving reports of one story at the same moment (PostgreSQL, READ COMMITTED): every
    report is stored, and the story still earns exactly one update."""
    import threading

    stores = [open_store(database_url) for _ in range(4)]
    policy = UpdatePolicy(outlets=1, min_gap=timedelta(0))
    try:
        save(stores[0], "Wire", TITLE)

        def work(store: Store, outlet: str, barrier: threading.Barrier, results: list[SavedArticle]) -> None:
            barrier.wait()
            results.append(save(store, outlet, policy=policy))

        for round_ in range(3):
            barrier = threading.Barrier(len(stores))
            results: list[SavedArticle] = []
            threads = [threading.Thread(target=work, args=(s, f"Outlet {round_}-{i}", barrier, results))
                       for i, s in enumerate(stores)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert len(results) == len(stores)  # save() asserts each one was stored
        updates = [r for r in claim(stores[0]) if r.alert.update is not None]
        assert len(updates) == 1
    finally:
        for s in stores:
            s.close()
