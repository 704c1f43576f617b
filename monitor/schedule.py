"""When to poll a feed next (pure): its interval on success, exponential backoff on errors.

A server's own wishes (Cache-Control max-age, Expires, RSS <ttl>, Retry-After) are a floor: we
never poll sooner than asked. Errors back off to the maximum interval but never stop a feed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from monitor.config import Settings
from monitor.store.values import FeedState

WEEK = timedelta(days=7)


def adaptive_interval(entries_last_week: int, settings: Settings) -> timedelta:
    """A feed's interval from its pace, as Miniflux's entry-frequency scheduler does: a week divided by
    the entries of the last week, clamped to [min_interval, max_interval]; a silent feed gets the maximum."""
    if entries_last_week <= 0:
        return settings.max_interval
    return min(max(WEEK / entries_last_week, settings.min_interval), settings.max_interval)


def next_check_after_success(feed: FeedState, settings: Settings, *, now: datetime,
                             floor: timedelta | None = None, interval: timedelta | None = None) -> datetime:
    """`interval` is the feed's new (adapted) interval; pinned feeds keep theirs."""
    interval = feed.interval if feed.pinned or interval is None else interval
    if floor is not None:
        interval = max(interval, min(floor, settings.max_interval))
    return now + _jitter(interval)


def next_check_after_error(feed: FeedState, settings: Settings, *, now: datetime,
                           retry_after: timedelta | None = None) -> datetime:
    """Double the wait after each consecutive error (1, 2, 4... intervals), capped at max_interval."""
    errors = feed.error_count + 1
    base = min(feed.interval, settings.max_interval)
    backoff = min(base * (1 << min(errors - 1, 16)), max(settings.max_interval, base))
    if retry_after is not None:
        backoff = max(backoff, min(retry_after, settings.max_interval))
    return now + _jitter(backoff)


def _jitter(interval: timedelta) -> timedelta:
    # Up to 2% later, so feeds added together drift apart instead of polling in lockstep forever.
    return interval + timedelta(seconds=interval.total_seconds() * random.uniform(0, 0.02))
