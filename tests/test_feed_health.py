"""Feed health in `monitor feeds`: pace, extraction quality, errors, on a real SQLite store."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_e2e import run_monitor, workdir, write_config

from monitor.commands.feeds import feed_health
from monitor.store import Store, entry_keys, open_store
from monitor.store.timeutil import utcnow
from monitor.types import Article, ExtractionStatus

A, B, C = "https://a.example/rss", "https://b.example/rss", "https://c.example/rss"


def _save(store: Store, feed_id: int, n: int, status: ExtractionStatus, *, published: datetime | None,
          now: datetime, tag: str) -> None:
    for i in range(n):
        url = f"https://news.example/{feed_id}/{tag}/{i}"
        article = Article(url=url, title=f"T {tag} {i}", text="text", published=published, status=status)
        saved = store.save_article(article, link=url, keys=entry_keys(feed_id, url, None), feed_id=feed_id,
                                   now=now)
        assert saved is not None


def _populate(store: Store, now: datetime) -> dict[str, int]:
    store.sync_feeds([(A, "Alpha", None), (B, None, None), (C, "Quiet", None)],
                     default_interval=timedelta(minutes=15), now=now)
    ids = {f.url: f.id for f in store.feeds()}
    # A: 5 old failures, then 46 full and 4 teasers this week: only the last 50 count, 50 this week.
    _save(store, ids[A], 5, ExtractionStatus.FAILED, published=now - timedelta(days=30), now=now, tag="old")
    _save(store, ids[A], 46, ExtractionStatus.FULL, published=now - timedelta(days=1), now=now, tag="full")
    _save(store, ids[A], 4, ExtractionStatus.TEASER, published=now - timedelta(days=2), now=now, tag="teaser")
    # B: 7 undated summaries first seen now (they count by when they were fetched), 3 dated last month.
    _save(store, ids[B], 7, ExtractionStatus.SUMMARY, published=None, now=now, tag="undated")
    _save(store, ids[B], 3, ExtractionStatus.FULL, published=now - timedelta(days=20), now=now, tag="backfill")
    feed = store.claim_due_feeds(now=now, owner="t", lease=timedelta(minutes=5))
    by_url = {f.url: f for f in feed}
    store.record_poll(by_url[A].id, now=now, next_check=now + timedelta(minutes=15), etag='"1"')
    store.record_poll(by_url[B].id, now=now, next_check=now + timedelta(minutes=30), error="HTTP 503")
    store.record_poll(by_url[B].id, now=now, next_check=now + timedelta(minutes=60), error="connection refused")
    return ids


def test_health_counts_pace_and_extraction_per_feed(tmp_path: Path) -> None:
    now = utcnow()
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        ids = _populate(store, now)
        assert store.entries_per_feed(now - timedelta(days=7), list(ids.values())) == {
            ids[A]: 50, ids[B]: 7, ids[C]: 0}
        extraction = store.extraction_by_feed(list(ids.values()), last=50)
        assert extraction[ids[A]] == {"full": 46, "teaser": 4, "summary": 0, "failed": 0}
        assert extraction[ids[B]] == {"full": 3, "teaser": 0, "summary": 7, "failed": 0}
        assert extraction[ids[C]] == {"full": 0, "teaser": 0, "summary": 0, "failed": 0}
        assert store.extraction_by_feed([ids[A]], last=3)[ids[A]]["teaser"] == 3  # the newest first
        health = {h.feed.url: h for h in feed_health(store, now=now)}
    finally:
        store.close()
    assert health[A].entries_per_day == round(50 / 7, 1)
    assert health[A].extraction_label == "full 46/50, teaser 4"
    assert health[B].entries_per_day == 1.0 and health[B].extraction_label == "full 3/10, summary 7"
    assert health[B].feed.error_count == 2 and health[B].feed.last_error == "connection refused"
    assert health[C].entries_per_day == 0.0 and health[C].extraction_label == ""


def test_feeds_command_shows_health_in_jsonl_and_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # a wide terminal, so no cell is folded
    wd = workdir(tmp_path)
    cfg = write_config(wd, [A, B, C], None, None)
    store = open_store(f"sqlite:///{wd / 'monitor.db'}")
    try:
        _populate(store, utcnow())
    finally:
        store.close()
    r = run_monitor("--config", str(cfg), "feeds", "--format", "jsonl", cwd=wd)
    assert r.returncode == 0, r.stderr
    rows = {row["url"]: row for row in map(json.loads, r.stdout.splitlines())}
    assert rows[A]["extraction"] == {"full": 46, "teaser": 4, "summary": 0, "failed": 0}
    assert rows[A]["entries_per_day"] == 7.1 and rows[A]["errors_in_a_row"] == 0 and rows[A]["last_success"]
    assert rows[B]["errors_in_a_row"] == 2 and rows[B]["last_error"] == "connection refused"
    assert rows[B]["healthy"] is False and rows[B]["next_check"]
    r = run_monitor("--config", str(cfg), "feeds", "list", cwd=wd)
    assert r.returncode == 0, r.stderr
    assert "full 46/50" in r.stdout and "teaser 4" in r.stdout and "connection refused" in r.stdout
    assert "entries/day" in r.stdout and "7.1" in r.stdout
