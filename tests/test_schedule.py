"""When a feed is polled next: its interval, servers' floors, exponential backoff on errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config import Settings
from monitor.schedule import next_check_after_error, next_check_after_success
from monitor.store.values import FeedState

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SETTINGS = Settings(base_dir=Path("."))
FEED = FeedState(id=1, url="http://a/rss", name=None, title=None, interval=timedelta(minutes=15), pinned=False,
                 next_check_at=None, etag=None, last_modified=None, polls=3, last_polled_at=None,
                 last_success_at=None, error_count=0, last_error=None, last_error_at=None, entries_seen=0,
                 active=True)


def within(value: datetime, low: timedelta, high: timedelta) -> bool:
    return NOW + low <= value <= NOW + high


def test_success_uses_the_interval_with_a_little_jitter() -> None:
    assert within(next_check_after_success(FEED, SETTINGS, now=NOW), timedelta(minutes=15), timedelta(minutes=15.5))


def test_server_floor_is_respected_but_capped() -> None:
    got = next_check_after_success(FEED, SETTINGS, now=NOW, floor=timedelta(hours=1))
    assert within(got, timedelta(hours=1), timedelta(hours=1.05))
    got = next_check_after_success(FEED, SETTINGS, now=NOW, floor=timedelta(days=30))
    assert within(got, timedelta(hours=24), timedelta(hours=24.5))


def test_errors_back_off_exponentially_up_to_the_maximum_and_never_stop() -> None:
    waits = []
    for errors in range(10):
        got = next_check_after_error(replace(FEED, error_count=errors), SETTINGS, now=NOW)
        waits.append(got - NOW)
    assert waits[0] >= timedelta(minutes=15) and waits[1] >= timedelta(minutes=30) and waits[2] >= timedelta(hours=1)
    assert all(w <= timedelta(hours=24.5) for w in waits)
    assert waits[-1] >= timedelta(hours=24)


def test_retry_after_is_a_floor_on_the_backoff() -> None:
    got = next_check_after_error(FEED, SETTINGS, now=NOW, retry_after=timedelta(hours=2))
    assert within(got, timedelta(hours=2), timedelta(hours=2.1))
