"""The batched store calls of a cycle of 304s leave the same rows as the one-by-one calls."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from monitor.store import Store
from monitor.store.feeds import PollOutcome
from monitor.store.timeutil import utcnow


def test_record_polls_equals_record_poll_one_by_one(database_url: str) -> None:
    from monitor.store import open_store

    store: Store = open_store(database_url)
    try:
        now = utcnow()
        store.sync_feeds([("http://a/rss", None, None), ("http://b/rss", None, None), ("http://p/rss", None,
                          timedelta(minutes=5))], default_interval=timedelta(minutes=15), now=now)
        claimed = store.claim_due_feeds(now=now, owner="w", lease=timedelta(minutes=5))
        assert [f.url for f in claimed] == ["http://a/rss", "http://b/rss", "http://p/rss"]
        for f in claimed:
            store.record_poll(f.id, now=now, next_check=now, etag='"1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
        a, b, p = store.claim_due_feeds(now=now + timedelta(seconds=1), owner="w", lease=timedelta(minutes=5))
        later = now + timedelta(minutes=1)
        one = PollOutcome(a.id, later, later + timedelta(hours=1), interval=timedelta(hours=1), etag='"2"',
                          last_modified=None, modified=False)
        store.record_poll(one.feed_id, now=one.now, next_check=one.next_check, interval=one.interval,
                          etag=one.etag, last_modified=one.last_modified, modified=False)
        store.record_polls([replace(one, feed_id=b.id), replace(one, feed_id=p.id)])
        rows = {f.url: f for f in store.feeds()}
        # the leases are released: all three are claimed again once their next check has come
        again = store.claim_due_feeds(now=later + timedelta(hours=2), owner="w2", lease=timedelta(minutes=5))
        assert len(again) == 3
    finally:
        store.close()
    fields = ("interval", "next_check_at", "etag", "last_modified", "polls", "last_success_at", "error_count")
    assert [getattr(rows["http://a/rss"], k) for k in fields] == [getattr(rows["http://b/rss"], k) for k in fields]
    assert rows["http://b/rss"].etag == '"2"' and rows["http://b/rss"].last_modified is not None
    assert rows["http://b/rss"].polls == 2 and rows["http://b/rss"].interval == timedelta(hours=1)
    assert rows["http://p/rss"].interval == timedelta(minutes=5)  # pinned: keeps its `every:`
    assert rows["http://p/rss"].next_check_at == rows["http://a/rss"].next_check_at
