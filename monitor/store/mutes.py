"""Muted watchlists, and the outbox rows the mutes silence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select

from monitor.store.base import StoreBase
from monitor.store.tables import DeliveryRow, MatchRow, MuteRow
from monitor.store.timeutil import from_db, to_db


@dataclass(frozen=True, slots=True)
class Mute:
    watchlist: str
    since: datetime
    until: datetime


class MuteStore(StoreBase):
    def mute(self, watchlist: str, *, now: datetime, until: datetime) -> Mute:
        """Mute from now until `until`; an active mute of the watchlist is replaced, not stacked."""
        with self.session() as s:
            for row in s.exec(select(MuteRow).where(MuteRow.watchlist == watchlist)
                              .where(col(MuteRow.until) > to_db(now))).all():
                row.until = to_db(now)  # type: ignore[assignment]
            s.add(MuteRow(watchlist=watchlist, since=to_db(now), until=to_db(until)))  # type: ignore[arg-type]
        return Mute(watchlist, now, until)

    def unmute(self, watchlist: str, *, now: datetime) -> int:
        """End the watchlist's active mutes now; returns how many there were."""
        with self.session() as s:
            rows = s.exec(select(MuteRow).where(MuteRow.watchlist == watchlist)
                          .where(col(MuteRow.until) > to_db(now))).all()
            for row in rows:
                row.until = to_db(now)  # type: ignore[assignment]
            return len(rows)

    def active_mutes(self, *, now: datetime) -> list[Mute]:
        with self.session() as s:
            rows = s.exec(select(MuteRow).where(col(MuteRow.until) > to_db(now))
                          .where(col(MuteRow.since) <= to_db(now)).order_by(col(MuteRow.until))).all()
            return [Mute(r.watchlist, from_db(r.since), from_db(r.until)) for r in rows]  # type: ignore[arg-type]

    def apply_mutes(self, *, now: datetime) -> int:
        """Mark 'muted' every pending delivery of a match made while its watchlist was muted.

        Called by the sender before it claims rows, so a muted alert is never sent, however late
        the sender runs. A mute that has ended is settled once: its matches all have their rows.
        """
        muted = 0
        with self.session() as s:
            for mute in s.exec(select(MuteRow).where(MuteRow.settled == False)  # noqa: E712
                               .where(col(MuteRow.since) <= to_db(now))).all():
                matches = (select(MatchRow.id).where(MatchRow.watchlist == mute.watchlist)
                           .where(col(MatchRow.created_at) >= to_db(from_db(mute.since)))
                           .where(col(MatchRow.created_at) < to_db(from_db(mute.until))))
                result = s.execute(
                    update(DeliveryRow).where(col(DeliveryRow.status) == "pending")
                    .where(col(DeliveryRow.match_id).in_(matches))
                    .values(status="muted", lease_until=None,
                            last_error=f"watchlist muted until {from_db(mute.until):%Y-%m-%d %H:%M} UTC"))
                muted += int(result.rowcount)  # type: ignore[attr-defined]
                if from_db(mute.until) <= now:  # type: ignore[operator]
                    mute.settled = True
        return muted
