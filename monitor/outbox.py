"""The sender: claims due outbox rows, sends each, and records what the receiver said.

A row is marked sent only after the channel returned, that is after the receiver accepted the
alert; so delivery is at-least-once: a duplicate can happen only when the process dies between
the receiver's acceptance and our commit. Retries back off exponentially with jitter (the first
within a minute), a channel that answers 429 is paused as a whole for at least its Retry-After,
and permanent refusals mark the row dead with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.errors import DeliveryError, MonitorError, PermanentDeliveryError
from monitor.notify.base import Channel
from monitor.store import PendingDelivery, Store
from monitor.store.timeutil import utcnow

log = logging.getLogger("monitor.outbox")

FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0


def retry_delay(attempts: int, retry_after: timedelta | None = None, *, first: timedelta = FIRST_RETRY,
                most: timedelta = MAX_RETRY) -> timedelta:
    """30 s, 1 min, 2 min... up to 6 h, with jitter in [50%, 100%]; never sooner than Retry-After."""
    base = min(first * (1 << min(attempts, 20)), most)
    delay = base * random.uniform(0.5, 1.0)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


@dataclass
class Outbox:
    store: Store
    channels: Mapping[str, Channel]
    lease: timedelta = timedelta(minutes=5)
    first_retry: timedelta = FIRST_RETRY
    max_retry: timedelta = MAX_RETRY
    paused_until: dict[str, datetime] = field(default_factory=dict)

    async def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """Send every due row; channels work in parallel, each channel's rows in order."""
        now = now or utcnow()
        open_channels = {name for name in self.channels if self.paused_until.get(name, now) <= now}
        if not open_channels:
            return DeliveryReport()
        claimed = self.store.claim_deliveries(now=now, lease=self.lease, channels=open_channels)
        by_channel: dict[str, list[PendingDelivery]] = {}
        for delivery in claimed:
            by_channel.setdefault(delivery.channel, []).append(delivery)
        reports = await asyncio.gather(*(self._send_all(name, rows) for name, rows in by_channel.items()))
        return DeliveryReport(sum(r.sent for r in reports), sum(r.retrying for r in reports),
                              sum(r.dead for r in reports))

    async def _send_all(self, name: str, rows: list[PendingDelivery]) -> DeliveryReport:
        channel = self.channels[name]
        sent = retrying = dead = 0
        for i, row in enumerate(rows):
            try:
                await channel.send(row.alert)
            except PermanentDeliveryError as exc:
                self.store.mark_dead(row.id, now=utcnow(), error=exc.reason)
                log.error("delivery_dead", extra={"channel": name, "delivery_id": row.id, "error": exc.reason})
                dead += 1
            except DeliveryError as exc:
                now = utcnow()
                retry_at = now + self._delay(row.attempts, exc.retry_after)
                self.store.mark_retry(row.id, now=now, error=exc.reason, retry_at=retry_at)
                log.warning("delivery_retry", extra={"channel": name, "delivery_id": row.id, "error": exc.reason,
                                                     "retry_at": retry_at.isoformat()})
                retrying += 1
                if exc.retry_after is not None:
                    # A rate limit is on the channel, not the message: hold the rest back too.
                    self.paused_until[name] = now + exc.retry_after
                    for rest in rows[i + 1:]:
                        self.store.mark_retry(rest.id, now=now, error="channel paused by rate limit",
                                              retry_at=retry_at, count_attempt=False)
                    log.warning("channel_paused", extra={"channel": name, "until": retry_at.isoformat()})
                    break
            except Exception as exc:  # a bug in a channel must not lose the alert: keep it for a retry
                log.exception("delivery_internal_error", extra={"channel": name, "delivery_id": row.id})
                now = utcnow()
                reason = str(exc) if isinstance(exc, MonitorError) else f"internal error: {exc.__class__.__name__}"
                self.store.mark_retry(row.id, now=now, error=reason, retry_at=now + self._delay(row.attempts))
                retrying += 1
            else:
                self.store.mark_sent(row.id, now=utcnow())
                log.info("delivery_sent", extra={"channel": name, "delivery_id": row.id,
                                                 "watchlist": row.alert.watchlist, "article_url": row.alert.article.url})
                sent += 1
        return DeliveryReport(sent, retrying, dead)

    def _delay(self, attempts: int, retry_after: timedelta | None = None) -> timedelta:
        return retry_delay(attempts, retry_after, first=self.first_retry, most=self.max_retry)

    async def aclose(self) -> None:
        for channel in self.channels.values():
            await channel.aclose()
