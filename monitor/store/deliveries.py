"""The outbox: claim due deliveries with a lease, then record what the receiver said."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import col, select

from monitor.store.articles import article_value
from monitor.store.base import StoreBase
from monitor.store.story_updates import delivery_key, story_outlets, story_update
from monitor.store.tables import ArticleRow, DeliveryHoldRow, DeliveryRow, FeedRow, MatchRow
from monitor.store.timeutil import from_db, to_db
from monitor.store.values import DeliveryInfo, PendingDelivery
from monitor.types import Alert, Match


class DeliveryStore(StoreBase):
    def claim_deliveries(self, *, now: datetime, lease: timedelta, channels: set[str] | None = None,
                         limit: int = 200, owner: str | None = None) -> list[PendingDelivery]:
        """Claim pending rows that are due; a claimed row is invisible to others until its lease ends."""
        db_now = to_db(now)
        with self.session() as s:
            query = (select(DeliveryRow.id).where(col(DeliveryRow.status) == "pending")
                     .where(col(DeliveryRow.next_attempt_at) <= db_now)
                     .where(or_(col(DeliveryRow.lease_until).is_(None), col(DeliveryRow.lease_until) < db_now))
                     .order_by(col(DeliveryRow.next_attempt_at), col(DeliveryRow.id)).limit(limit))
            if channels is not None:
                query = query.where(col(DeliveryRow.channel).in_(sorted(channels)))
            candidates = s.exec(query).all()
        claimed = []
        for delivery_id in candidates:
            with self.session() as s:
                result = s.execute(
                    update(DeliveryRow).where(col(DeliveryRow.id) == delivery_id)
                    .where(col(DeliveryRow.status) == "pending")
                    .where(or_(col(DeliveryRow.lease_until).is_(None), col(DeliveryRow.lease_until) < db_now))
                    .values(lease_until=to_db(now + lease), lease_owner=owner)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                row = s.get(DeliveryRow, delivery_id)
                assert row is not None and row.id is not None
                match = s.get(MatchRow, row.match_id)
                assert match is not None
                article = s.get(ArticleRow, match.article_id)
                assert article is not None
                feed = s.get(FeedRow, article.feed_id) if article.feed_id is not None else None
                value = article_value(article)
                outlet = value.outlet or (feed.name or feed.title if feed else None)
                value = replace(value, url=article.link or article.url, outlet=outlet)
                alert = Alert(
                    watchlist=match.watchlist, article=value,
                    match=Match(watchlist=match.watchlist, score=match.score, why=tuple(json.loads(match.why)),
                                snippet=match.snippet,
                                parts=tuple((str(k), float(v)) for k, v in json.loads(match.parts))),
                    delivery_key=delivery_key(row),
                )
                first = s.get(DeliveryRow, row.update_of) if row.update_of is not None else None
                if first is None:
                    claimed.append(PendingDelivery(id=row.id, channel=row.channel, attempts=row.attempts, alert=alert))
                elif first.status in ("dead", "muted"):
                    # Its first alert never reached anyone: the update is the story's alert on this channel.
                    others = tuple(o for o in story_outlets(s, first.match_id) if o != outlet)
                    claimed.append(PendingDelivery(id=row.id, channel=row.channel, attempts=row.attempts,
                                                   alert=replace(alert, related_outlets=others)))
                else:
                    pending = first.status == "pending"
                    claimed.append(PendingDelivery(
                        id=row.id, channel=row.channel, attempts=row.attempts,
                        alert=replace(alert, update=story_update(s, row, first)),
                        waits_for=first.id if pending else None,
                        first_due=from_db(first.next_attempt_at) if pending else None))
        return claimed

    def release_delivery_leases(self) -> int:
        """Drop every lease on a pending delivery, so the next sender claims those rows at once.

        For distributed mode, where one delivery job runs at a time (its Procrastinate lock): when
        the scheduler fails the job of a dead worker, every leased row was that job's, and waiting
        out `delivery.lease` would hold its alerts for minutes. A row the receiver accepted just
        before the death is sent again: the one duplicate at-least-once delivery allows per kill.
        """
        with self.session() as s:
            result = s.execute(update(DeliveryRow).where(col(DeliveryRow.status) == "pending")
                               .where(col(DeliveryRow.lease_until).is_not(None))
                               .values(lease_until=None, lease_owner=None))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def mark_sent(self, delivery_id: int, *, now: datetime, receipt: str | None = None) -> None:
        """The receiver accepted the row; `receipt` is what it named the message (for replies to thread under)."""
        with self.session() as s:
            row = s.get(DeliveryRow, delivery_id)
            assert row is not None
            row.status, row.sent_at, row.lease_until = "sent", to_db(now), None
            if receipt is not None:
                row.receipt = receipt
            row.attempts += 1
            row.last_error = None

    def mark_retry(self, delivery_id: int, *, now: datetime, error: str, retry_at: datetime,
                   count_attempt: bool = True) -> None:
        with self.session() as s:
            row = s.get(DeliveryRow, delivery_id)
            assert row is not None
            if count_attempt:
                row.attempts += 1
            row.last_error = error
            row.next_attempt_at = to_db(retry_at)  # type: ignore[assignment]
            row.lease_until = None

    def mark_dead(self, delivery_id: int, *, now: datetime, error: str) -> None:
        with self.session() as s:
            row = s.get(DeliveryRow, delivery_id)
            assert row is not None
            row.attempts += 1
            row.status, row.last_error, row.lease_until = "dead", error, None

    def hold(self, delivery_id: int, *, now: datetime, until: datetime, reason: str) -> None:
        """Hold a claimed row until `until` (a digest slot, the end of quiet hours) without counting an
        attempt; the first reason is kept, so a digest row stays a digest row through quiet hours."""
        with self.session() as s:
            row = s.get(DeliveryRow, delivery_id)
            assert row is not None
            row.next_attempt_at = to_db(until)  # type: ignore[assignment]
            row.lease_until = None
            row.last_error = None
            if s.get(DeliveryHoldRow, delivery_id) is None:
                s.add(DeliveryHoldRow(delivery_id=delivery_id, reason=reason, held_at=to_db(now)))  # type: ignore[arg-type]

    def holds(self, delivery_ids: list[int]) -> dict[int, str]:
        """Which of these rows were held, and why ('digest' or 'quiet')."""
        if not delivery_ids:
            return {}
        with self.session() as s:
            rows = s.exec(select(DeliveryHoldRow).where(col(DeliveryHoldRow.delivery_id).in_(delivery_ids))).all()
            return {r.delivery_id: r.reason for r in rows}

    def retry_deliveries(self, *, ids: list[int] | None = None, dead: bool = False, now: datetime) -> int:
        """Make dead (or the given) rows pending again, due now."""
        with self.session() as s:
            query = update(DeliveryRow).values(status="pending", next_attempt_at=to_db(now), lease_until=None)
            if ids is not None:
                # A muted alert stays muted: the user asked for no alerts from that period.
                query = query.where(col(DeliveryRow.id).in_(ids)).where(col(DeliveryRow.status).notin_(["sent", "muted"]))
            elif dead:
                query = query.where(col(DeliveryRow.status) == "dead")
            else:
                return 0
            return int(s.execute(query).rowcount)  # type: ignore[attr-defined]

    def deliveries(self, *, status: str | None = None, limit: int | None = None) -> list[DeliveryInfo]:
        with self.session() as s:
            query = (select(DeliveryRow, MatchRow, ArticleRow)
                     .join(MatchRow, col(MatchRow.id) == col(DeliveryRow.match_id))
                     .join(ArticleRow, col(ArticleRow.id) == col(MatchRow.article_id))
                     .order_by(col(DeliveryRow.id).desc()))
            if status is not None:
                query = query.where(DeliveryRow.status == status)
            if limit is not None:
                query = query.limit(limit)
            out = []
            for d, m, a in s.exec(query).all():
                assert d.id is not None
                out.append(DeliveryInfo(
                    id=d.id, channel=d.channel, status=d.status, attempts=d.attempts,
                    next_attempt_at=from_db(d.next_attempt_at),  # type: ignore[arg-type]
                    last_error=d.last_error, sent_at=from_db(d.sent_at), watchlist=m.watchlist,
                    title=a.title, url=a.link or a.url))
            return out

    def pending_count(self) -> int:
        with self.session() as s:
            return len(s.exec(select(DeliveryRow.id).where(col(DeliveryRow.status) == "pending")).all())

    def pending_by_channel(self) -> dict[str, int]:
        """Rows not yet sent, dead or muted, per channel: the outbox's depth (monitor_delivery_queue_depth).

        One COUNT over the (status, next_attempt_at) index, so Prometheus can ask on every scrape."""
        with self.session() as s:
            rows = s.exec(select(DeliveryRow.channel, func.count()).where(col(DeliveryRow.status) == "pending")
                          .group_by(col(DeliveryRow.channel))).all()
        return {channel: int(count) for channel, count in rows}
