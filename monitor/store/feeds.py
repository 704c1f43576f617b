"""Feeds and their fetch state: the schedule is held in the database."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Table, Update, bindparam, case, func, or_, true, update
from sqlmodel import Session, col, select

from monitor.store.base import StoreBase
from monitor.store.tables import ArticleRow, FeedRow
from monitor.store.timeutil import from_db, to_db
from monitor.store.values import FeedState

_TABLE: Table = FeedRow.__table__  # type: ignore[attr-defined]


def _state(row: FeedRow | Row[Any]) -> FeedState:
    """A feed's value from its ORM row or a Core row of the same columns (UPDATE ... RETURNING)."""
    assert row.id is not None
    return FeedState(
        id=row.id, url=row.url, name=row.name, title=row.title,
        interval=timedelta(seconds=row.interval_seconds), pinned=row.pinned,
        next_check_at=from_db(row.next_check_at), etag=row.etag, last_modified=row.last_modified,
        polls=row.polls, last_polled_at=from_db(row.last_polled_at),
        last_success_at=from_db(row.last_success_at), error_count=row.error_count,
        last_error=row.last_error, last_error_at=from_db(row.last_error_at),
        entries_seen=row.entries_seen, active=row.active, origin=row.origin,
    )


class FeedStore(StoreBase):
    def sync_feeds(self, feeds: Sequence[tuple[str, str | None, timedelta | None]], *,
                   default_interval: timedelta, now: datetime) -> None:
        """Make the config's feeds in the table agree with monitor.yaml: (url, name, every) per feed.

        New feeds are due at once; a feed that left the configuration is kept inactive, so its
        articles keep their history; a changed `every:` takes effect from the next check. Feeds
        added from the command line are left alone.
        """
        wanted = {url: (name, every) for url, name, every in feeds}
        with self.session() as s:
            rows = {r.url: r for r in s.exec(select(FeedRow)).all()}
            for url, (name, every) in wanted.items():
                self._upsert(s, rows.get(url), url=url, name=name, every=every, default_interval=default_interval,
                             now=now, origin="config")
            for url, row in rows.items():
                if url not in wanted and row.active and row.origin == "config":
                    row.active = False

    def add_feed(self, url: str, *, name: str | None, every: timedelta | None, default_interval: timedelta,
                 now: datetime) -> tuple[FeedState, bool]:
        """Add (or re-activate) a feed from the command line; returns it and whether it is new."""
        with self.session() as s:
            row = s.exec(select(FeedRow).where(FeedRow.url == url)).first()
            is_new = row is None or not row.active
            row = self._upsert(s, row, url=url, name=name, every=every, default_interval=default_interval, now=now,
                               origin="cli" if row is None or row.origin != "config" else "config")
            s.flush()
            return _state(row), is_new

    def remove_feed(self, url: str) -> FeedState | None:
        """Deactivate a feed added from the command line (history stays); None if unknown."""
        with self.session() as s:
            row = s.exec(select(FeedRow).where(FeedRow.url == url)).first()
            if row is None:
                return None
            if row.origin == "cli":
                row.active = False
            return _state(row)

    @staticmethod
    def _upsert(s: Session, row: FeedRow | None, *, url: str, name: str | None, every: timedelta | None,
                default_interval: timedelta, now: datetime, origin: str) -> FeedRow:
        interval = int((every or default_interval).total_seconds())
        if row is None:
            row = FeedRow(url=url, name=name, interval_seconds=interval, pinned=every is not None, origin=origin,
                          next_check_at=to_db(now), created_at=to_db(now))  # type: ignore[arg-type]
            s.add(row)
            return row
        if not row.active:
            row.next_check_at = to_db(now)
        row.active, row.origin = True, origin
        row.name = name or row.name
        if every is not None or row.pinned:
            if row.interval_seconds != interval and row.next_check_at is not None:
                row.next_check_at = min(row.next_check_at, to_db(now + timedelta(seconds=interval)))  # type: ignore[type-var]
            row.interval_seconds, row.pinned = interval, every is not None
        return row

    def claim_due_feeds(self, *, now: datetime, owner: str, lease: timedelta,
                        limit: int = 10_000) -> list[FeedState]:
        """Claim the active feeds that are due, with a lease, so two workers never poll one feed.

        One UPDATE per 500 feeds, whose WHERE re-checks the lease: a feed another worker claimed
        between the SELECT and the UPDATE is not returned here (a transaction per feed cost a
        millisecond each, the biggest part of a cycle of 304s).
        """
        db_now = to_db(now)
        free = or_(col(FeedRow.lease_until).is_(None), col(FeedRow.lease_until) < db_now)
        with self.session() as s:
            candidates = list(s.exec(
                select(FeedRow.id).where(FeedRow.active == True)  # noqa: E712
                .where(or_(col(FeedRow.next_check_at).is_(None), col(FeedRow.next_check_at) <= db_now))
                .where(free).order_by(col(FeedRow.next_check_at)).limit(limit)
            ).all())
        if not candidates:
            return []
        claimed: dict[int, FeedState] = {}
        with self.session() as s:
            for start in range(0, len(candidates), 500):
                chunk = candidates[start:start + 500]
                rows = s.execute(
                    update(_TABLE).where(col(FeedRow.id).in_(chunk)).where(free)
                    .values(lease_until=to_db(now + lease), lease_owner=owner)
                    .returning(*_TABLE.columns)
                ).all()
                claimed.update((row.id, _state(row)) for row in rows)
        return [claimed[i] for i in candidates if i in claimed]

    def record_poll(self, feed_id: int, *, now: datetime, next_check: datetime, interval: timedelta | None = None,
                    etag: str | None = None, last_modified: str | None = None, title: str | None = None,
                    new_entries: int = 0, error: str | None = None, modified: bool = True) -> FeedState:
        """Store a poll's outcome and release the lease: one UPDATE ... RETURNING, one round trip."""
        params = _poll_params(PollOutcome(feed_id, now, next_check, interval, etag, last_modified, title,
                                          new_entries, error, modified))
        with self.session() as s:
            row = s.execute(_record_statement(frozenset(params), True), params).one()
            return _state(row)

    def record_polls(self, outcomes: Sequence[PollOutcome]) -> None:
        """record_poll for many feeds in one transaction (a cycle of 304s: a commit per feed was a
        third of its cost); the same rows result as from record_poll one by one."""
        groups: dict[frozenset[str], list[dict[str, Any]]] = {}
        for outcome in outcomes:
            params = _poll_params(outcome)
            groups.setdefault(frozenset(params), []).append(params)
        if not groups:
            return
        with self.session() as s:
            for given, rows in groups.items():
                s.execute(_record_statement(given, False), rows)

    def entries_since(self, feed_id: int, since: datetime) -> int:
        """How many of a feed's articles were published (or first seen) since `since`: its pace."""
        return self.entries_per_feed(since, [feed_id])[feed_id]

    def entries_per_feed(self, since: datetime, feed_ids: Sequence[int] | None = None) -> dict[int, int]:
        """entries_since for many feeds in one query: {feed id: articles published (or first seen)
        since `since`}; every feed asked about is in the answer, 0 when it had none."""
        dated = func.coalesce(col(ArticleRow.published), col(ArticleRow.fetched_at))
        query = (select(col(ArticleRow.feed_id), func.count()).where(col(ArticleRow.feed_id).is_not(None))
                 .where(col(ArticleRow.fetched_at) >= to_db(since - timedelta(days=30)))
                 .where(dated >= to_db(since)).group_by(col(ArticleRow.feed_id)))
        counts: dict[int, int] = dict.fromkeys(feed_ids or (), 0)
        with self.session() as s:
            if feed_ids is None:
                chunks: list[Sequence[int] | None] = [None]
            else:
                chunks = [feed_ids[i:i + 500] for i in range(0, len(feed_ids), 500)]
            for chunk in chunks:
                q = query if chunk is None else query.where(col(ArticleRow.feed_id).in_(chunk))
                counts.update((int(feed_id), int(n)) for feed_id, n in s.exec(q).all() if feed_id is not None)
        return counts

    def feeds(self, *, include_inactive: bool = False) -> list[FeedState]:
        with self.session() as s:
            query = select(FeedRow).order_by(col(FeedRow.id))
            if not include_inactive:
                query = query.where(FeedRow.active == True)  # noqa: E712
            return [_state(r) for r in s.exec(query).all()]

    def feed(self, url: str) -> FeedState | None:
        with self.session() as s:
            row = s.exec(select(FeedRow).where(FeedRow.url == url)).first()
            return _state(row) if row else None

    def feed_by_id(self, feed_id: int) -> FeedState | None:
        """A feed's state as it is now: a distributed worker reads it when its job starts, not when
        the job was queued, so it polls with the latest ETag and schedule."""
        with self.session() as s:
            row = s.get(FeedRow, feed_id)
            return _state(row) if row else None

    def release_feeds(self, feed_ids: Sequence[int]) -> int:
        """Drop the leases of these feeds (their poll was abandoned), so the next tick claims them
        again instead of waiting for the leases to run out."""
        if not feed_ids:
            return 0
        with self.session() as s:
            result = s.execute(update(_TABLE).where(col(FeedRow.id).in_(list(feed_ids)))
                               .values(lease_until=None, lease_owner=None))
            return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """One poll's outcome, as record_poll takes it, for record_polls."""

    feed_id: int
    now: datetime
    next_check: datetime
    interval: timedelta | None = None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    new_entries: int = 0
    error: str | None = None
    modified: bool = True


def _poll_params(o: PollOutcome) -> dict[str, Any]:
    """The bound values of record_poll's UPDATE; which are present decides the statement's shape."""
    params: dict[str, Any] = {"p_id": o.feed_id, "p_now": to_db(o.now), "p_next": to_db(o.next_check)}
    if o.interval is not None:
        params["p_interval"] = int(o.interval.total_seconds())
    if o.error is None:
        params["p_new"] = o.new_entries
        if o.modified or o.etag is not None:
            params["p_etag"] = o.etag
        if o.modified or o.last_modified is not None:
            params["p_last_modified"] = o.last_modified
        if o.title:
            params["p_title"] = o.title
    else:
        params["p_error"] = o.error
    return params


@functools.lru_cache(maxsize=64)
def _record_statement(given: frozenset[str], returning: bool) -> Update:
    """record_poll's UPDATE for one combination of given values, built once: building the SQL
    expression each time cost four times as much as running it."""
    c = _TABLE.c
    values: dict[str, Any] = {"polls": c.polls + 1, "last_polled_at": bindparam("p_now"),
                              "next_check_at": bindparam("p_next"), "lease_until": None, "lease_owner": None}
    if "p_interval" in given:  # a pinned feed keeps its interval
        values["interval_seconds"] = case((c.pinned == true(), c.interval_seconds), else_=bindparam("p_interval"))
    if "p_error" in given:
        values.update(error_count=c.error_count + 1, last_error=bindparam("p_error"), last_error_at=bindparam("p_now"))
    else:
        values.update(last_success_at=bindparam("p_now"), error_count=0,
                      entries_seen=c.entries_seen + bindparam("p_new"))
        for column in ("etag", "last_modified", "title"):
            if f"p_{column}" in given:
                values[column] = bindparam(f"p_{column}")
    statement = update(_TABLE).where(c.id == bindparam("p_id")).values(**values)
    return statement.returning(*_TABLE.columns) if returning else statement
