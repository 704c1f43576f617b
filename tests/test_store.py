"""The store on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.store import Store, entry_keys, open_store
from monitor.store.timeutil import utcnow
from monitor.types import Article, Match


@pytest.fixture
def store(database_url: str) -> Store:
    s = open_store(database_url)
    yield s  # type: ignore[misc]
    s.close()


def test_new_feeds_are_due_and_claimed_once(store: Store) -> None:
    now = utcnow()
    store.sync_feeds([("http://a/rss", "A", None), ("http://b/rss", None, timedelta(minutes=1))],
                     default_interval=timedelta(minutes=15), now=now)
    first = store.claim_due_feeds(now=now, owner="w1", lease=timedelta(minutes=5))
    assert sorted(f.url for f in first) == ["http://a/rss", "http://b/rss"]
    assert store.claim_due_feeds(now=now, owner="w2", lease=timedelta(minutes=5)) == []
    pinned = next(f for f in first if f.url == "http://b/rss")
    assert pinned.pinned and pinned.interval == timedelta(minutes=1)
    # the lease ends: a crashed worker's feed is claimed again
    again = store.claim_due_feeds(now=now + timedelta(minutes=6), owner="w2", lease=timedelta(minutes=5))
    assert len(again) == 2


def test_record_poll_keeps_schedule_validators_and_errors(store: Store) -> None:
    now = utcnow()
    store.sync_feeds([("http://a/rss", None, None)], default_interval=timedelta(minutes=15), now=now)
    feed = store.claim_due_feeds(now=now, owner="w", lease=timedelta(minutes=5))[0]
    state = store.record_poll(feed.id, now=now, next_check=now + timedelta(minutes=15), etag='"v1"',
                              last_modified="Tue, 01 Jul 2024 10:00:00 GMT", title="Feed A", new_entries=3)
    assert (state.etag, state.title, state.entries_seen, state.error_count) == ('"v1"', "Feed A", 3, 0)
    assert store.claim_due_feeds(now=now + timedelta(minutes=1), owner="w", lease=timedelta(minutes=5)) == []
    later = now + timedelta(minutes=16)
    feed = store.claim_due_feeds(now=later, owner="w", lease=timedelta(minutes=5))[0]
    assert feed.etag == '"v1"'
    state = store.record_poll(feed.id, now=later, next_check=later + timedelta(minutes=30), error="HTTP 500")
    assert state.error_count == 1 and state.last_error == "HTTP 500" and state.etag == '"v1"'
    assert state.last_success_at is not None


def test_feed_removed_from_config_becomes_inactive(store: Store) -> None:
    now = utcnow()
    store.sync_feeds([("http://a/rss", None, None), ("http://b/rss", None, None)],
                     default_interval=timedelta(minutes=15), now=now)
    store.sync_feeds([("http://a/rss", None, None)], default_interval=timedelta(minutes=15), now=now)
    assert [f.url for f in store.feeds()] == ["http://a/rss"]
    assert len(store.feeds(include_inactive=True)) == 2
    assert [f.url for f in store.claim_due_feeds(now=now, owner="w", lease=timedelta(minutes=1))] == ["http://a/rss"]


def _article(url: str = "https://news.example/a/1") -> Article:
    return Article(url=url, title="Orban arrives in Moscow", text="Viktor Orban arrived in Moscow.", lang="en")


def test_article_matches_and_outbox_rows_in_one_transaction(store: Store) -> None:
    now = utcnow()
    match = Match("EU leaders", 0.9, ("EU leader: Orban", "place: Moscow"), snippet="Orban arrived in Moscow.")
    keys = entry_keys(1, "https://news.example/a/1", "guid-1")
    saved = store.save_article(_article(), link="https://news.example/a/1?utm_source=x", keys=keys, feed_id=None,
                               now=now, matches=[match], channels={"EU leaders": ["mail", "chat"]})
    assert saved is not None and saved.alerted == ("EU leaders",)
    assert store.seen_keys(keys) == set(keys)
    claimed = store.claim_deliveries(now=now, lease=timedelta(minutes=1))
    assert sorted(d.channel for d in claimed) == ["chat", "mail"]
    assert claimed[0].alert.article.url == "https://news.example/a/1?utm_source=x"
    assert claimed[0].alert.match.why == match.why
    assert store.claim_deliveries(now=now, lease=timedelta(minutes=1)) == []
    [stored] = store.matches()
    assert stored.watchlist == "EU leaders" and stored.snippet == match.snippet


def test_same_article_twice_is_stored_once(store: Store) -> None:
    now = utcnow()
    match = Match("w", 0.5, ("x",))
    first = store.save_article(_article(), link="l", keys=["url:a", "guid:1:g"], feed_id=None, now=now,
                               matches=[match], channels={"w": ["c"]})
    second = store.save_article(_article(), link="l", keys=["url:a", "guid:1:h"], feed_id=None, now=now,
                                matches=[match], channels={"w": ["c"]})
    assert first is not None and second is None
    assert store.seen_keys(["guid:1:h"]) == {"guid:1:h"}  # the new key points at the known article
    assert len(store.matches()) == 1 and store.pending_count() == 1


def test_silent_matches_write_no_delivery(store: Store) -> None:
    now = utcnow()
    store.save_article(_article(), link="l", keys=["url:a"], feed_id=None, now=now,
                       matches=[Match("w", 0.5, ("x",))], alert=False, channels={"w": ["c"]})
    assert store.pending_count() == 0
    assert store.matches()[0].alerted is False


def test_delivery_retry_sent_dead_and_operator_retry(store: Store) -> None:
    now = utcnow()
    store.save_article(_article(), link="l", keys=["url:a"], feed_id=None, now=now,
                       matches=[Match("w", 0.5, ("x",))], channels={"w": ["mail", "chat"]})
    mail, chat = sorted(store.claim_deliveries(now=now, lease=timedelta(minutes=1)), key=lambda d: d.channel != "mail")
    store.mark_retry(mail.id, now=now, error="451 try later", retry_at=now + timedelta(seconds=30))
    store.mark_dead(chat.id, now=now, error="404 no_service")
    assert store.claim_deliveries(now=now + timedelta(seconds=10), lease=timedelta(minutes=1)) == []
    [again] = store.claim_deliveries(now=now + timedelta(seconds=31), lease=timedelta(minutes=1))
    assert again.id == mail.id and again.attempts == 1
    store.mark_sent(again.id, now=now)
    by_status = {d.status: d for d in store.deliveries()}
    assert by_status["sent"].attempts == 2 and by_status["dead"].last_error == "404 no_service"
    assert store.retry_deliveries(dead=True, now=now) == 1
    assert [d.channel for d in store.claim_deliveries(now=now, lease=timedelta(minutes=1))] == ["chat"]


def test_one_alert_per_story_and_watchlist(store: Store) -> None:
    now = utcnow()
    a, b = Match("EU leaders", 0.9, ("x",)), Match("Russia", 0.6, ("y",))
    first = store.save_article(_article("https://one.example/1"), link="l1", keys=["url:1"], feed_id=None, now=now,
                               matches=[a], channels={"EU leaders": ["mail"], "Russia": ["mail"]}, story_id="s1")
    second = store.save_article(_article("https://two.example/2"), link="l2", keys=["url:2"], feed_id=None, now=now,
                                matches=[a, b], channels={"EU leaders": ["mail"], "Russia": ["mail"]}, story_id="s1")
    other = store.save_article(_article("https://three.example/3"), link="l3", keys=["url:3"], feed_id=None,
                               now=now, matches=[a], channels={"EU leaders": ["mail"]}, story_id="s2")
    assert first is not None and second is not None and other is not None
    assert first.alerted == ("EU leaders",)
    assert second.alerted == ("Russia",) and second.joined_story == ("EU leaders",)
    assert other.alerted == ("EU leaders",)
    assert store.pending_count() == 3
    dup = next(m for m in store.matches() if m.url == "l2" and m.watchlist == "EU leaders")
    assert not dup.alerted and dup.duplicate_of is not None
    [s1, s2] = sorted(store.stories(), key=lambda st: st.id)
    assert (s1.id, s1.articles, s1.watchlists) == ("s1", 2, ("EU leaders", "Russia"))
    assert s2.articles == 1


def test_leases_of_dead_local_processes_are_freed(store: Store) -> None:
    now = utcnow()
    store.sync_feeds([("http://a/rss", None, None), ("http://b/rss", None, None)],
                     default_interval=timedelta(minutes=15), now=now)
    store.claim_due_feeds(now=now, owner="here:111", lease=timedelta(minutes=5), limit=1)
    store.claim_due_feeds(now=now, owner="elsewhere:222", lease=timedelta(minutes=5), limit=1)
    store.save_article(_article(), link="l", keys=["url:a"], feed_id=None, now=now,
                       matches=[Match("w", 0.5, ("x",))], channels={"w": ["c"]})
    store.claim_deliveries(now=now, lease=timedelta(minutes=5), owner="here:111")
    assert store.claim_due_feeds(now=now, owner="me", lease=timedelta(minutes=5)) == []
    freed = store.release_stale_leases(host="here", alive=lambda pid: pid != 111)
    assert freed == 2
    # the dead local process's feed and delivery are free again; the other host's lease stays
    assert len(store.claim_due_feeds(now=now, owner="me", lease=timedelta(minutes=5))) == 1
    assert len(store.claim_deliveries(now=now, lease=timedelta(minutes=5), owner="me")) == 1
    assert store.release_stale_leases(host="here", alive=lambda pid: True) == 0
