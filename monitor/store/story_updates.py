"""Story updates in the store: decided in the transaction that saves the joining article, rendered
from what the story holds when the update is sent.

A story's matches for one watchlist are its first (alerting) match and the matches that joined it
(`duplicate_of` = the first). Each update a story earned is a StoryUpdateRow, numbered per first
match under a unique constraint, and one outbox row (kind 'update') per channel the first alert
went to, pointing at that alert's row (`update_of`): the count survives restarts, and two
processes saving reports of one story at once are serialised on the first match's row (a row
lock on PostgreSQL; SQLite has one writer anyway).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session, col, select

from monitor.store import articles as _articles  # a module: articles.py calls add_update in turn
from monitor.store.tables import ArticleRow, DeliveryRow, FeedRow, MatchRow, StoryUpdateRow
from monitor.store.timeutil import from_db, to_db
from monitor.story_updates import Report, StorySoFar, UpdateDecision, UpdatePolicy, decide, growth, lead_of
from monitor.types import Article, StoryUpdate

Member = tuple[MatchRow, ArticleRow, FeedRow | None]


def add_update(s: Session, *, first_match_id: int, match_id: int, joining: Report, now: datetime,
               policy: UpdatePolicy, channels: Sequence[str]) -> UpdateDecision | None:
    """Decide whether the match `match_id`, which just joined the story of `first_match_id`, makes the
    story earn an update; if so, count it and write its outbox rows (due at the decision's time)."""
    # FOR NO KEY UPDATE: it serialises the deciders of one story, and unlike FOR UPDATE does not wait
    # for the KEY SHARE lock each joining match's foreign key (duplicate_of) takes on this row, which
    # would deadlock two of them.
    first = s.exec(select(MatchRow).where(col(MatchRow.id) == first_match_id).with_for_update(key_share=True)).one()
    previous = s.exec(select(StoryUpdateRow).where(col(StoryUpdateRow.first_match_id) == first_match_id)
                      .order_by(col(StoryUpdateRow.number))).all()
    if len(previous) >= policy.most:
        return None  # the usual case once a story updated: one query, nothing more
    story, _ = _story(s, first, previous[-1].match_id if previous else None, before=match_id)
    story = replace(story, updates=len(previous))
    decision = decide(policy, story, joining, now=now)
    if decision is None:
        return None
    firsts = s.exec(select(DeliveryRow).where(col(DeliveryRow.match_id) == first_match_id)
                    .where(col(DeliveryRow.kind) == "alert")
                    .where(col(DeliveryRow.channel).in_(list(dict.fromkeys(channels))))
                    .order_by(col(DeliveryRow.id))).all()
    if not firsts:
        return None  # the alert went to none of the channels the watchlist notifies now
    s.add(StoryUpdateRow(first_match_id=first_match_id, match_id=match_id, number=len(previous) + 1,
                         reason=decision.reason, due_at=to_db(decision.due_at),  # type: ignore[arg-type]
                         created_at=to_db(now)))  # type: ignore[arg-type]
    for alert in firsts:
        s.add(DeliveryRow(match_id=match_id, channel=alert.channel, status="pending", kind="update",
                          update_of=alert.id, next_attempt_at=to_db(decision.due_at),  # type: ignore[arg-type]
                          created_at=to_db(now)))  # type: ignore[arg-type]
    return decision


def story_update(s: Session, row: DeliveryRow, first: DeliveryRow) -> StoryUpdate:
    """What an update row says when it is sent: what its first alert was, and how the story grew
    since (or since the previous update), counting everything that joined until now."""
    first_match = s.get(MatchRow, first.match_id)
    assert first_match is not None and first.id is not None
    earlier = s.exec(select(StoryUpdateRow.match_id).where(col(StoryUpdateRow.first_match_id) == first_match.id)
                     .where(col(StoryUpdateRow.match_id) < row.match_id)
                     .order_by(col(StoryUpdateRow.match_id).desc())).first()
    reason = s.exec(select(StoryUpdateRow.reason).where(col(StoryUpdateRow.match_id) == row.match_id)).first()
    story, articles = _story(s, first_match, earlier)
    found = growth(story)
    by_url = {report.url: article for report, article in articles}
    first_article = _article(*_member(s, first_match)[1:])
    return StoryUpdate(
        first=replace(first_article, text="", summary=""), first_key=delivery_key(first),
        first_sent_at=from_db(first.sent_at), first_receipt=first.receipt,
        reason=found.reason or reason or "the story grew",
        reports=tuple(by_url[r.url] for r in found.reports if r.url in by_url),
        confirmation=by_url.get(found.confirmation.url) if found.confirmation else None)


def story_outlets(s: Session, first_match_id: int) -> tuple[str, ...]:
    """Every outlet of the story for the first match's watchlist, first one first."""
    first = s.get(MatchRow, first_match_id)
    if first is None:
        return ()
    members = [_member(s, first), *_joined(s, first_match_id)]
    return tuple(dict.fromkeys(outlet_of(a, f) for _m, a, f in members))


def delivery_key(row: DeliveryRow) -> str:
    """The key every channel derives its message id from: the same for every retry of the row."""
    return f"delivery-{row.id}-match-{row.match_id}-{row.channel}"


def outlet_of(article: ArticleRow, feed: FeedRow | None) -> str:
    """The article's outlet, else its feed's name or title, else the host of its URL."""
    named = article.outlet or (feed.name or feed.title if feed is not None else None)
    if named and named.strip():
        return named.strip()
    host = re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#@]*@)?([^/?#:]+)", article.link or article.url)
    return host.group(2) if host else "unknown outlet"


def report_of(article: ArticleRow, feed: FeedRow | None) -> Report:
    return Report(url=article.url, outlet=outlet_of(article, feed), title=article.title,
                  lead=lead_of(article.text, article.summary))


def _story(s: Session, first: MatchRow, covered_until: int | None, *,
           before: int | None = None) -> tuple[StorySoFar, list[tuple[Report, Article]]]:
    """The story so far for the first match's watchlist: joined reports are matches with ids up to
    `before` (excluded); those up to `covered_until` (the last update's match) count as covered."""
    assert first.id is not None
    _m, alert_article, alert_feed = _member(s, first)
    joined: list[tuple[Report, Article]] = []
    covered = 0
    for match, article, feed in _joined(s, first.id):
        assert match.id is not None
        if before is not None and match.id >= before:
            break
        joined.append((report_of(article, feed), _article(article, feed)))
        if covered_until is not None and match.id <= covered_until:
            covered = len(joined)
    story = StorySoFar(alerted_at=from_db(first.created_at),  # type: ignore[arg-type]
                       alert=report_of(alert_article, alert_feed), joined=tuple(r for r, _a in joined),
                       covered=covered)
    return story, joined


def _joined(s: Session, first_match_id: int) -> list[Member]:
    rows = s.exec(select(MatchRow, ArticleRow, FeedRow)
                  .join(ArticleRow, col(ArticleRow.id) == col(MatchRow.article_id))
                  .join(FeedRow, col(FeedRow.id) == col(ArticleRow.feed_id), isouter=True)
                  .where(col(MatchRow.duplicate_of) == first_match_id)
                  .order_by(col(MatchRow.id))).all()
    return [(m, a, f) for m, a, f in rows]


def _member(s: Session, match: MatchRow) -> Member:
    article = s.get(ArticleRow, match.article_id)
    assert article is not None
    feed = s.get(FeedRow, article.feed_id) if article.feed_id is not None else None
    return match, article, feed


def _article(article: ArticleRow, feed: FeedRow | None) -> Article:
    """The article as a message shows it: its link as published, its outlet resolved, its lead for text."""
    value = _articles.article_value(article)
    return replace(value, url=article.link or article.url, outlet=outlet_of(article, feed),
                   text=lead_of(article.text, article.summary))
