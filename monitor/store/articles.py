"""Articles, the keys they were seen under, and matches with their outbox rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, bindparam, func, insert
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from monitor.errors import StoreError
from monitor.store.base import StoreBase
from monitor.store.story_updates import add_update, report_of
from monitor.store.tables import ArticleRow, DeliveryRow, EntryKeyRow, FeedRow, MatchRow
from monitor.store.timeutil import from_db, to_db
from monitor.store.values import StoredMatch, StoryInfo, StoryMember
from monitor.story_updates import UpdatePolicy
from monitor.types import Article, ExtractionStatus, Match

_ARTICLES: Table = ArticleRow.__table__  # type: ignore[attr-defined]
_KEYS: Table = EntryKeyRow.__table__  # type: ignore[attr-defined]
# Built once: building a statement, and the key SQLAlchemy caches its SQL by, is most of the cost of
# running one.
_FIND_ARTICLE = sa_select(_ARTICLES.c.id).where(_ARTICLES.c.url == bindparam("url"))
_INSERT_ARTICLE = insert(_ARTICLES).returning(_ARTICLES.c.id)
_FIND_KEYS = sa_select(_KEYS.c.key).where(_KEYS.c.key.in_(bindparam("keys", expanding=True)))
_INSERT_KEY = insert(_KEYS)


@dataclass(frozen=True, slots=True)
class SavedArticle:
    """What save_article stored: the article's id, and which watchlists alerted or joined a story."""

    id: int
    alerted: tuple[str, ...]
    joined_story: tuple[str, ...]
    updated: tuple[str, ...] = ()
    """Watchlists for which the article made its story earn an update (monitor.story_updates)."""


def entry_keys(feed_id: int | None, canonical_link: str | None, guid: str | None) -> list[str]:
    """The keys an entry is known by: its canonical link, and its guid within its feed.

    A feed that changes an entry's link keeps its guid, and one that changes the guid keeps the
    link, so either key recognises the article again.
    """
    keys = []
    if canonical_link:
        keys.append(f"url:{canonical_link}")
    if guid:
        keys.append(f"guid:{feed_id}:{guid.strip()}")
    return keys


def article_value(row: ArticleRow) -> Article:
    return Article(
        url=row.url, title=row.title, text=row.text, published=from_db(row.published), lang=row.lang,
        author=row.author, outlet=row.outlet, summary=row.summary, status=ExtractionStatus(row.status),
        id=str(row.id),
    )


class ArticleStore(StoreBase):
    def seen_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` the store knows already."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        with self.session() as s:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                found.update(s.exec(select(EntryKeyRow.key).where(col(EntryKeyRow.key).in_(chunk))).all())
        return found

    def save_article(self, article: Article, *, link: str, keys: Sequence[str], feed_id: int | None,
                     now: datetime, matches: Sequence[Match] = (), alert: bool = True,
                     channels: Mapping[str, Sequence[str]] | None = None, story_id: str | None = None,
                     features: str | None = None, updates: UpdatePolicy | None = None) -> SavedArticle | None:
        """Store an article, its keys, its matches and their outbox rows in ONE transaction.

        Returns what was stored, or None when another key of it was stored meanwhile (the article
        is then already known and nothing is written). `channels` maps a watchlist to the channels
        it notifies; a delivery row is written per match and channel when `alert`, unless the
        article's story already alerted for that watchlist: one alert per story, not per outlet.
        Then, with `updates`, the story may earn an update (monitor.story_updates), written here too.
        """
        try:
            with self.session() as s:
                # Core statements, not the ORM's unit of work: an article is stored for every new
                # entry, and the ORM's bookkeeping cost as much as the writes themselves.
                conn = s.connection()
                existing = conn.execute(_FIND_ARTICLE, {"url": article.url}).scalar()
                if existing is not None:
                    self._add_keys(conn, existing, keys)
                    return None
                values = dict(
                    url=article.url, link=link, feed_id=feed_id, title=article.title, text=article.text,
                    summary=article.summary, author=article.author, published=to_db(article.published),
                    lang=article.lang, outlet=article.outlet, status=str(article.status),
                    fetched_at=to_db(now), story_id=story_id, features=features)
                article_id = conn.execute(_INSERT_ARTICLE, values).scalar_one()
                self._add_keys(conn, article_id, keys)
                alerted: list[str] = []
                duplicates: list[str] = []
                joined: list[tuple[int, int, str]] = []
                for match in matches:
                    first = self._story_alert(s, story_id, match.watchlist) if alert and story_id else None
                    match_id = self._add_match(s, article_id, match, now=now, alert=alert and first is None,
                                               duplicate_of=first, channels=(channels or {}).get(match.watchlist, ()))
                    (alerted if alert and first is None else duplicates).append(match.watchlist)
                    if first is not None:
                        joined.append((first, match_id, match.watchlist))
                updated: list[str] = []
                if updates is not None and joined:
                    feed = s.get(FeedRow, feed_id) if feed_id is not None else None
                    report = report_of(s.get_one(ArticleRow, article_id), feed)
                    for first, match_id, watchlist in sorted(joined):  # one lock order: no deadlock
                        if add_update(s, first_match_id=first, match_id=match_id, joining=report, now=now,
                                      policy=updates, channels=(channels or {}).get(watchlist, ())):
                            updated.append(watchlist)
                return SavedArticle(article_id, tuple(alerted), tuple(duplicates), tuple(updated))
        except IntegrityError:
            return None

    @staticmethod
    def _add_keys(conn: Connection, article_id: int, keys: Sequence[str]) -> None:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return
        known = set(conn.execute(_FIND_KEYS, {"keys": wanted}).scalars())
        new = [{"key": key, "article_id": article_id} for key in wanted if key not in known]
        if new:
            conn.execute(_INSERT_KEY, new)

    @staticmethod
    def _story_alert(s: Session, story_id: str, watchlist: str) -> int | None:
        """The match that already alerted for this story and watchlist, if any."""
        return s.exec(
            select(MatchRow.id).join(ArticleRow, col(ArticleRow.id) == col(MatchRow.article_id))
            .where(ArticleRow.story_id == story_id).where(MatchRow.watchlist == watchlist)
            .where(MatchRow.alerted == True)  # noqa: E712
            .order_by(col(MatchRow.id)).limit(1)
        ).first()

    @staticmethod
    def _add_match(s: Session, article_id: int, match: Match, *, now: datetime, alert: bool,
                   channels: Sequence[str], duplicate_of: int | None = None) -> int:
        row = MatchRow(article_id=article_id, watchlist=match.watchlist, score=match.score,
                       why=json.dumps(list(match.why), ensure_ascii=False), snippet=match.snippet,
                       parts=json.dumps([list(p) for p in match.parts]), alerted=alert,
                       duplicate_of=duplicate_of, created_at=to_db(now))  # type: ignore[arg-type]
        s.add(row)
        s.flush()
        assert row.id is not None
        if alert:
            for channel in dict.fromkeys(channels):
                s.add(DeliveryRow(match_id=row.id, channel=channel, status="pending",
                                  next_attempt_at=to_db(now), created_at=to_db(now)))  # type: ignore[arg-type]
        return row.id

    def extraction_by_feed(self, feed_ids: Sequence[int] | None = None, *, last: int = 50) -> dict[int, dict[str, int]]:
        """How each feed's `last` articles were read: {feed id: {status: count}} over full, teaser,
        summary and failed, every status present (0 when none), for `monitor feeds`: a feed whose
        pages only give teasers is a feed to fix or to stop fetching pages of."""
        recent = func.row_number().over(partition_by=col(ArticleRow.feed_id),
                                        order_by=col(ArticleRow.id).desc()).label("recent")
        wanted = [col(ArticleRow.feed_id).is_not(None)]
        if feed_ids is not None:
            wanted.append(col(ArticleRow.feed_id).in_(list(feed_ids)))
        inner = select(col(ArticleRow.feed_id).label("feed_id"), col(ArticleRow.status).label("status"), recent) \
            .where(*wanted).subquery()
        query = select(inner.c.feed_id, inner.c.status, func.count()).where(inner.c.recent <= last) \
            .group_by(inner.c.feed_id, inner.c.status)
        out: dict[int, dict[str, int]] = {
            feed_id: dict.fromkeys(map(str, ExtractionStatus), 0) for feed_id in feed_ids or ()}
        with self.session() as s:
            for feed_id, status, count in s.execute(query).all():
                out.setdefault(int(feed_id), dict.fromkeys(map(str, ExtractionStatus), 0))[str(status)] = int(count)
        return out

    def articles(self, *, since: datetime | None = None, limit: int | None = None) -> list[Article]:
        with self.session() as s:
            query = select(ArticleRow).order_by(col(ArticleRow.id))
            if since is not None:
                query = query.where(col(ArticleRow.fetched_at) >= to_db(since))
            if limit is not None:
                query = query.limit(limit)
            return [article_value(r) for r in s.exec(query).all()]

    def matches(self, *, since: datetime | None = None, watchlist: str | None = None,
                limit: int | None = None) -> list[StoredMatch]:
        with self.session() as s:
            query = (select(MatchRow, ArticleRow, FeedRow)
                     .join(ArticleRow, col(ArticleRow.id) == col(MatchRow.article_id))
                     .join(FeedRow, col(FeedRow.id) == col(ArticleRow.feed_id), isouter=True)
                     .order_by(col(MatchRow.created_at).desc(), col(MatchRow.id).desc()))
            if since is not None:
                query = query.where(col(MatchRow.created_at) >= to_db(since))
            if watchlist is not None:
                query = query.where(col(MatchRow.watchlist) == watchlist)
            if limit is not None:
                query = query.limit(limit)
            rows = s.exec(query).all()
            ids = [m.id for m, _a, _f in rows]
            deliveries: dict[int, list[tuple[str, str]]] = {}
            if ids:
                for d in s.exec(select(DeliveryRow).where(col(DeliveryRow.match_id).in_(ids))).all():
                    deliveries.setdefault(d.match_id, []).append((d.channel, d.status))
            out = []
            for m, a, f in rows:
                assert m.id is not None and a.id is not None
                out.append(StoredMatch(
                    id=m.id, watchlist=m.watchlist, score=m.score, why=tuple(json.loads(m.why)),
                    snippet=m.snippet, created_at=from_db(m.created_at),  # type: ignore[arg-type]
                    alerted=m.alerted, article_id=a.id, url=a.link or a.url, title=a.title,
                    outlet=a.outlet or (f.name or f.title if f else None), published=from_db(a.published),
                    status=a.status, deliveries=tuple(sorted(deliveries.get(m.id, []))),
                    story_id=a.story_id, duplicate_of=m.duplicate_of,
                ))
            return out

    def story_members(self, *, since: datetime) -> list[StoryMember]:
        """Articles of the stories still open (fetched since `since`), oldest first."""
        with self.session() as s:
            rows = s.exec(select(ArticleRow)
                          .where(col(ArticleRow.fetched_at) >= to_db(since))
                          .where(col(ArticleRow.story_id).is_not(None))
                          .order_by(col(ArticleRow.fetched_at), col(ArticleRow.id))).all()
            out = []
            for row in rows:
                at = from_db(row.published) or from_db(row.fetched_at)
                if row.story_id and row.features and at is not None:
                    out.append(StoryMember(row.url, row.story_id, row.features, at))
            return out

    def last_article_id(self) -> int:
        """The highest article id stored so far (0 on an empty database)."""
        with self.session() as s:
            return int(s.exec(select(func.max(ArticleRow.id))).one() or 0)

    def story_members_after(self, article_id: int, *, since: datetime, limit: int = 5000,
                            connection: Connection | None = None) -> tuple[list[StoryMember], int, bool]:
        """Story members stored after `article_id` (fetched since `since`), in id order, the highest
        id read, and whether `limit` cut the answer short: how a distributed worker learns what the
        other workers grouped. Ids are assigned and committed in order while the story lock is held
        (monitor.distributed.stories), so none is skipped. `connection`: read on that one (the
        lock's, one round trip while the lock is held) instead of a session of the store's own."""
        # Core select: the six columns only (not the article's text), which sqlmodel's select cannot type.
        query = (sa_select(col(ArticleRow.id), col(ArticleRow.url), col(ArticleRow.story_id), col(ArticleRow.features),
                           col(ArticleRow.published), col(ArticleRow.fetched_at))
                 .where(col(ArticleRow.id) > article_id).where(col(ArticleRow.fetched_at) >= to_db(since))
                 .order_by(col(ArticleRow.id)).limit(limit))
        if connection is not None:
            try:
                rows = connection.execute(query).all()
            except SQLAlchemyError as exc:
                raise StoreError(f"database error: {exc.__class__.__name__}: {exc}".splitlines()[0][:300]) from exc
        else:
            with self.session() as s:
                rows = s.execute(query).all()
        last = article_id
        out = []
        for row_id, url, story_id, features, published, fetched_at in rows:
            last = max(last, int(row_id or 0))
            at = from_db(published) or from_db(fetched_at)
            if story_id and features and at is not None:
                out.append(StoryMember(url, story_id, features, at))
        return out, last, len(rows) >= limit

    def stories(self, *, since: datetime | None = None, limit: int | None = None) -> list[StoryInfo]:
        """Stories with articles fetched since `since`, newest first, with their outlets."""
        with self.session() as s:
            query = select(ArticleRow, FeedRow).join(FeedRow, col(FeedRow.id) == col(ArticleRow.feed_id),
                                                     isouter=True).where(col(ArticleRow.story_id).is_not(None))
            if since is not None:
                query = query.where(col(ArticleRow.fetched_at) >= to_db(since))
            rows = s.exec(query.order_by(col(ArticleRow.fetched_at), col(ArticleRow.id))).all()
            watchlists: dict[str, set[str]] = {}
            ids = [a.id for a, _f in rows]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for watchlist, story in s.exec(
                        select(MatchRow.watchlist, ArticleRow.story_id)
                        .join(ArticleRow, col(ArticleRow.id) == col(MatchRow.article_id))
                        .where(col(MatchRow.article_id).in_(chunk))).all():
                    if story:
                        watchlists.setdefault(story, set()).add(watchlist)
        grouped: dict[str, list[tuple[ArticleRow, FeedRow | None]]] = {}
        for a, f in rows:
            assert a.story_id is not None
            grouped.setdefault(a.story_id, []).append((a, f))
        out = []
        for story_id, members in grouped.items():
            first = members[0][0]
            outlets = tuple(dict.fromkeys(
                o for a, f in members if (o := a.outlet or (f.name or f.title if f else None))))
            seen = [from_db(a.fetched_at) for a, _f in members]
            out.append(StoryInfo(story_id, first.title, first.link or first.url, len(members), outlets,
                                 min(t for t in seen if t), max(t for t in seen if t),
                                 tuple(sorted(watchlists.get(story_id, ())))))
        out.sort(key=lambda st: st.last_seen, reverse=True)
        return out[:limit] if limit is not None else out
