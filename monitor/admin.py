"""Alerts for the operator: a feed failing for longer than `admin.feed_failing_after`, and its recovery.

    admin: {channels: [mail], feed_failing_after: 6h}

A periodic check over the feeds' stored state (not a hook in the pipeline): a feed whose errors in
a row have lasted longer than the threshold raises ONE alert on the admin channels, and ONE more
when it polls successfully again. The state (failing since, alerted at) is stored, so a restart
does not alert twice; an alert is recorded as sent only when every admin channel accepted it, so
a channel that was down gets it at the next check.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config import AdminSettings
from monitor.errors import DeliveryError
from monitor.notify.base import Channel
from monitor.store import Store
from monitor.store.values import FeedState
from monitor.types import Alert, Article, Match

log = logging.getLogger("monitor.admin")

ADMIN_WATCHLIST = "news-monitor admin"
CHECK_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class HealthReport:
    failing: tuple[str, ...] = ()
    """Feeds alerted as failing by this check."""
    recovered: tuple[str, ...] = ()


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def failing_alert(feed: FeedState, since: datetime, now: datetime) -> Alert:
    name = feed.outlet or feed.url
    article = Article(url=feed.url, title=f"Feed failing for {_span(now - since)}: {name}",
                      text=feed.last_error or "", published=now, outlet="news-monitor", lang="en")
    why = (f"failing since {since:%Y-%m-%d %H:%M} UTC", f"{feed.error_count} errors in a row",
           f"last error: {feed.last_error or 'unknown'}")
    return Alert(ADMIN_WATCHLIST, article, Match(ADMIN_WATCHLIST, 1.0, why, snippet=feed.last_error or ""),
                 delivery_key=f"admin-feed-{feed.id}-failing-{since:%Y%m%dT%H%M%S}")


def recovered_alert(feed: FeedState, since: datetime, now: datetime) -> Alert:
    name = feed.outlet or feed.url
    article = Article(url=feed.url, title=f"Feed recovered: {name}", text="", published=now,
                      outlet="news-monitor", lang="en")
    why = (f"failed from {since:%Y-%m-%d %H:%M} UTC to {now:%Y-%m-%d %H:%M} UTC ({_span(now - since)})",)
    return Alert(ADMIN_WATCHLIST, article, Match(ADMIN_WATCHLIST, 1.0, why),
                 delivery_key=f"admin-feed-{feed.id}-recovered-{since:%Y%m%dT%H%M%S}")


async def _send(alert: Alert, channels: Mapping[str, Channel], names: list[str]) -> bool:
    accepted = True
    for name in names:
        try:
            await channels[name].send(alert)
        except DeliveryError as exc:
            accepted = False
            log.warning("admin_alert_failed", extra={"channel": name, "error": exc.reason,
                                                     "feed_url": alert.article.url})
    return accepted


async def check_feed_health(store: Store, admin: AdminSettings, channels: Mapping[str, Channel], *,
                            now: datetime) -> HealthReport:
    """One pass over the active feeds: record new failures, alert long ones and recoveries."""
    states = store.feed_alert_states()
    failing: list[str] = []
    recovered: list[str] = []
    for feed in store.feeds():
        state = states.get(feed.id)
        if feed.error_count > 0:
            if state is None:
                since = min(feed.last_error_at or now, now)
                store.feed_failing(feed.id, since=since)
                state = (since, None)
            since, alerted = state
            if (alerted is None and now - since >= admin.feed_failing_after
                    and await _send(failing_alert(feed, since, now), channels, admin.channels)):
                store.feed_alerted(feed.id, at=now)
                failing.append(feed.url)
                log.warning("admin_feed_failing", extra={"feed_url": feed.url, "since": since.isoformat()})
        elif state is not None:
            since, alerted = state
            if alerted is None or await _send(recovered_alert(feed, since, now), channels, admin.channels):
                store.feed_recovered(feed.id)
                if alerted is not None:
                    recovered.append(feed.url)
                    log.info("admin_feed_recovered", extra={"feed_url": feed.url})
    return HealthReport(tuple(failing), tuple(recovered))
