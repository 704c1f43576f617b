"""State of the admin alert about failing feeds: so each failure alerts once, and its recovery once."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from monitor.store.base import StoreBase
from monitor.store.tables import FeedAlertRow
from monitor.store.timeutil import from_db, to_db


class FeedAlertStore(StoreBase):
    def feed_alert_states(self) -> dict[int, tuple[datetime, datetime | None]]:
        """feed id → (failing since, alerted at or None)."""
        with self.session() as s:
            return {r.feed_id: (from_db(r.failing_since), from_db(r.alerted_at))  # type: ignore[misc]
                    for r in s.exec(select(FeedAlertRow)).all()}

    def feed_failing(self, feed_id: int, *, since: datetime) -> None:
        with self.session() as s:
            if s.get(FeedAlertRow, feed_id) is None:
                s.add(FeedAlertRow(feed_id=feed_id, failing_since=to_db(since)))  # type: ignore[arg-type]

    def feed_alerted(self, feed_id: int, *, at: datetime) -> None:
        with self.session() as s:
            row = s.get(FeedAlertRow, feed_id)
            if row is not None:
                row.alerted_at = to_db(at)

    def feed_recovered(self, feed_id: int) -> None:
        with self.session() as s:
            row = s.get(FeedAlertRow, feed_id)
            if row is not None:
                s.delete(row)
