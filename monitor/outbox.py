"""The sender: claims due outbox rows, sends each, and records what the receiver said.

A row is marked sent only after the channel returned, that is after the receiver accepted the
alert; so delivery is at-least-once: a duplicate can happen only when the process dies between
the receiver's acceptance and our commit. Retries back off exponentially with jitter (the first
within a minute), a channel that answers 429 is paused as a whole for at least its Retry-After,
and permanent refusals mark the row dead with the reason.

Before sending, the outbox applies what the user asked for:

- a muted watchlist's rows (matches made while it was muted) are marked `muted` and never sent;
- a channel (or watchlist) with `digest:` holds each new row until the next digest slot;
- a channel (or watchlist) with `quiet_hours:` holds rows until the quiet period ends;
- rows that were held go out together, as one message per channel (a Digest), when they are due.

A story update (monitor.story_updates) never goes out before its first alert: while that alert is
pending, the update waits (without counting an attempt), unless both were held and go out in the
same digest, the alert first. What a channel named a sent message (a Slack ts, an email's
Message-ID) is kept on the row, for updates to thread under.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from monitor import metrics
from monitor.digest import DIGEST, QUIET, make_digest
from monitor.errors import DeliveryError, MonitorError, PermanentDeliveryError
from monitor.notify.base import Channel, DigestChannel
from monitor.quiet import DigestSchedule, QuietHours
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


@dataclass(frozen=True, slots=True)
class HoldPolicy:
    """When a channel holds its alerts instead of sending them at once."""

    digest: DigestSchedule | None = None
    quiet_hours: tuple[QuietHours, ...] = ()

    def hold_until(self, *, now: datetime, already_held: bool) -> tuple[datetime, str] | None:
        """(until, reason) when a due row must wait, else None (send it now)."""
        until: datetime | None = None
        reason = ""
        if self.digest is not None and not already_held:
            until, reason = self.digest.next_after(now), DIGEST
        for quiet in self.quiet_hours:
            quiet_end = quiet.end_if_quiet(now)
            if quiet_end is not None and (until is None or quiet_end > until):
                until, reason = quiet_end, reason or QUIET
        return (until, reason) if until is not None else None

    @staticmethod
    def of(digest: DigestSchedule | None, quiet_hours: QuietHours | None) -> HoldPolicy | None:
        if digest is None and quiet_hours is None:
            return None
        return HoldPolicy(digest, (quiet_hours,) if quiet_hours is not None else ())


def merged(channel: HoldPolicy | None, watchlist: HoldPolicy | None) -> HoldPolicy | None:
    """A watchlist's digest replaces its channel's; both quiet hours apply."""
    if channel is None or watchlist is None:
        return channel or watchlist
    return HoldPolicy(watchlist.digest or channel.digest, channel.quiet_hours + watchlist.quiet_hours)


@dataclass
class Outbox:
    store: Store
    channels: Mapping[str, Channel]
    lease: timedelta = timedelta(minutes=5)
    owner: str | None = None
    """host:pid written on claimed rows (see Store.release_stale_leases)."""
    first_retry: timedelta = FIRST_RETRY
    max_retry: timedelta = MAX_RETRY
    paused_until: dict[str, datetime] = field(default_factory=dict)
    policies: Mapping[str, HoldPolicy] = field(default_factory=dict)
    """By channel name."""
    watchlist_policies: Mapping[str, HoldPolicy] = field(default_factory=dict)
    """By watchlist name."""

    async def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """Send every due row; channels work in parallel, each channel's rows in order."""
        now = now or utcnow()
        channels = self.channels  # this tick sends on the channels it claimed for, even if a reload swaps them
        open_channels = {name for name in channels if self.paused_until.get(name, now) <= now}
        if not open_channels:
            return DeliveryReport()
        muted = self.store.apply_mutes(now=now)
        if muted:
            log.info("deliveries_muted", extra={"deliveries": muted})
        claimed = self.store.claim_deliveries(now=now, lease=self.lease, channels=open_channels, owner=self.owner)
        holds = self.store.holds([d.id for d in claimed])
        by_channel: dict[str, list[PendingDelivery]] = {}
        batches: dict[str, list[PendingDelivery]] = {}
        for delivery in claimed:
            policy = merged(self.policies.get(delivery.channel), self.watchlist_policies.get(delivery.alert.watchlist))
            hold = policy.hold_until(now=now, already_held=delivery.id in holds) if policy else None
            if hold is not None:
                self.store.hold(delivery.id, now=now, until=hold[0], reason=hold[1])
                metrics.delivered(delivery.channel, "held")
                log.info("delivery_held", extra={"channel": delivery.channel, "delivery_id": delivery.id,
                                                 "reason": hold[1], "until": hold[0].isoformat()})
            elif delivery.id in holds:
                batches.setdefault(delivery.channel, []).append(delivery)
            else:
                by_channel.setdefault(delivery.channel, []).append(delivery)
        reports = await asyncio.gather(
            *(self._send_all(name, rows, channels[name]) for name, rows in by_channel.items()),
            *(self._send_batch(name, rows, {holds[r.id] for r in rows}, channels[name])
              for name, rows in batches.items()))
        return DeliveryReport(sum(r.sent for r in reports), sum(r.retrying for r in reports),
                              sum(r.dead for r in reports))

    async def _send_batch(self, name: str, rows: list[PendingDelivery], reasons: set[str],
                          channel: Channel) -> DeliveryReport:
        """Held rows go out as one message; a channel that cannot send digests gets them one by one.

        A quiet-hours hold of a single alert is sent as that alert: a "digest" of one says less.
        """
        ids = {r.id for r in rows}
        waiting = [r for r in rows if r.waits_for is not None and r.waits_for not in ids]
        for row in waiting:
            self._wait_for_first(name, row)
        rows = [r for r in rows if r not in waiting]
        if not rows:
            return DeliveryReport()
        if not isinstance(channel, DigestChannel) or (len(rows) == 1 and DIGEST not in reasons):
            return await self._send_all(name, rows, channel, in_batch=True)
        digest = make_digest([r.alert for r in rows], reasons, [r.id for r in rows], name)
        try:
            with metrics.DELIVERY_SECONDS.labels(channel=name).time():
                receipt = await channel.send_digest(digest)
        except PermanentDeliveryError as exc:
            metrics.delivered(name, "dead", len(rows))
            for row in rows:
                self.store.mark_dead(row.id, now=utcnow(), error=exc.reason)
            log.error("digest_dead", extra={"channel": name, "deliveries": len(rows), "error": exc.reason})
            return DeliveryReport(dead=len(rows))
        except Exception as exc:
            now = utcnow()
            retry_after = exc.retry_after if isinstance(exc, DeliveryError) else None
            reason = str(exc) if isinstance(exc, MonitorError) else f"internal error: {exc.__class__.__name__}"
            if not isinstance(exc, MonitorError):
                log.exception("digest_internal_error", extra={"channel": name})
            if isinstance(exc, DeliveryError):
                reason = exc.reason
            retry_at = now + self._delay(max(r.attempts for r in rows), retry_after)
            metrics.delivered(name, "retry", len(rows))
            for row in rows:
                self.store.mark_retry(row.id, now=now, error=reason, retry_at=retry_at)
            if retry_after is not None:
                self.paused_until[name] = now + retry_after
            log.warning("digest_retry", extra={"channel": name, "deliveries": len(rows), "error": reason,
                                               "retry_at": retry_at.isoformat()})
            return DeliveryReport(retrying=len(rows))
        now = utcnow()
        metrics.delivered(name, "sent", len(rows))
        for row in rows:
            self.store.mark_sent(row.id, now=now, receipt=receipt)
        log.info("digest_sent", extra={"channel": name, "deliveries": len(rows), "title": digest.title})
        return DeliveryReport(sent=len(rows))

    async def _send_all(self, name: str, rows: list[PendingDelivery], channel: Channel, *,
                        in_batch: bool = False) -> DeliveryReport:
        """Send rows one by one, in order. Held rows (`in_batch`) sent singly may follow their first
        alert in the same list; any other update whose first alert is pending waits for it."""
        sent = retrying = dead = 0
        done: dict[int, str | None] = {}
        for i, row in enumerate(rows):
            if row.waits_for is not None:
                if not (in_batch and row.waits_for in done):
                    self._wait_for_first(name, row)
                    continue
                if row.alert.update is not None:  # its first alert went out just before: thread under it
                    first = replace(row.alert.update, first_receipt=done[row.waits_for], first_sent_at=utcnow())
                    row = replace(row, alert=replace(row.alert, update=first))
            try:
                with metrics.DELIVERY_SECONDS.labels(channel=name).time():
                    receipt = await channel.send(row.alert)
            except PermanentDeliveryError as exc:
                metrics.delivered(name, "dead")
                self.store.mark_dead(row.id, now=utcnow(), error=exc.reason)
                log.error("delivery_dead", extra={"channel": name, "delivery_id": row.id, "error": exc.reason})
                dead += 1
            except DeliveryError as exc:
                now = utcnow()
                retry_at = now + self._delay(row.attempts, exc.retry_after)
                metrics.delivered(name, "retry")
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
                metrics.delivered(name, "retry")
                self.store.mark_retry(row.id, now=now, error=reason, retry_at=now + self._delay(row.attempts))
                retrying += 1
            else:
                metrics.delivered(name, "sent")
                self.store.mark_sent(row.id, now=utcnow(), receipt=receipt)
                log.info("delivery_sent", extra={"channel": name, "delivery_id": row.id,
                                                 "watchlist": row.alert.watchlist, "article_url": row.alert.article.url,
                                                 **({"update_of": row.alert.update.first_key}
                                                    if row.alert.update is not None else {})})
                sent += 1
                done[row.id] = receipt
        return DeliveryReport(sent, retrying, dead)

    def _wait_for_first(self, name: str, row: PendingDelivery) -> None:
        """An update must not arrive before the alert it updates: release it until that alert is due
        (it is tried again then, after it), without counting an attempt."""
        now = utcnow()
        until = max(now, row.first_due or now)
        self.store.mark_retry(row.id, now=now, error=f"waits for its first alert (delivery {row.waits_for})",
                              retry_at=until, count_attempt=False)
        log.info("delivery_waits", extra={"channel": name, "delivery_id": row.id, "first_delivery": row.waits_for,
                                          "until": until.isoformat()})

    def _delay(self, attempts: int, retry_after: timedelta | None = None) -> timedelta:
        return retry_delay(attempts, retry_after, first=self.first_retry, most=self.max_retry)

    async def aclose(self) -> None:
        for channel in self.channels.values():
            await channel.aclose()
