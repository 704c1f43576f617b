"""Grouping articles into stories, one article at a time, the way the daemon sees them arrive.

A story is the articles of every outlet about one event within a window (48 h by default) of its
first article. The first article of a story is the one that alerts; the rest join it. Joining is
decided against the stories still open:

1. a near-duplicate (most of one body's word shingles are in the other's) of any member joins;
2. otherwise the article joins the story it is most similar to, if that similarity clears a
   threshold. Similarity to a story is the better of the cosine to its centroid (the sum of its
   members' term vectors: what the coverage has in common) and a damped cosine to its closest
   member (a report that picks up one outlet's particulars), lowered as the articles lie further
   apart in time — a second earthquake in the same week is a new story unless the reports name the
   same places and figures.

Stories whose first article is older than the window (measured from the newest time seen) are
dropped from memory: an article after that starts a new story, which is what splits yesterday's
coverage from today's second event of the same kind.

Candidates are found through an inverted index of terms, so an article is only compared with the
members that share a term with it.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from monitor.stories.features import ArticleFeatures, extract
from monitor.stories.fingerprint import containment
from monitor.types import Article

DEFAULT_WINDOW = timedelta(hours=48)
THRESHOLD = 0.28
"""Similarity at which an article joins a story (tuned on ECB+ even topics: bench/grouping_quality.py)."""
MEMBER_WEIGHT = 0.85
"""Weight of the closest single member against the centroid: one shared outlet quirk is weaker evidence."""
TIME_PENALTY = 0.3
"""Similarity lost at a full window's distance from the story's nearest member."""
TIME_GRACE = timedelta(hours=12)
"""Outlets report one event over several hours on their own schedules: no penalty that close."""
NEAR_DUPLICATE = 0.6
"""Containment of shingles above which two bodies are copies of one text."""
MIN_SHINGLES = 12
"""Bodies with fewer shingles than this are too short to call copies (a photo caption, a teaser)."""
DUPLICATE_FLOOR = 0.4
"""Members with a lower cosine are not worth a sketch comparison: copies share their terms too."""


@dataclass(frozen=True, slots=True)
class StoryAssignment:
    """Which story an article went to, whether it started it, and why, in words a person reads."""

    story_id: str
    is_new: bool
    """True when the article starts the story (its story_id is then the article's own key)."""
    similarity: float
    """To the story it joined; for a new story, to the closest open story (below the threshold)."""
    reason: str


@dataclass(slots=True)
class _Member:
    key: str
    features: ArticleFeatures
    vector: dict[str, float]
    at: datetime | None
    story: _Story


@dataclass(slots=True)
class _Story:
    id: str
    start: datetime | None
    members: list[_Member] = field(default_factory=list)
    norm2: float = 0.0
    """Squared length of the sum of the members' unit vectors."""


def article_key(article: Article) -> str:
    """The article's id, or for an article without one a short stable hash of its URL."""
    if article.id is not None:
        return article.id
    return "u" + hashlib.blake2b(article.url.encode("utf-8"), digest_size=6).hexdigest()


class StoryIndex:
    """The open stories of the last `window`, for deciding which story each new article belongs to.

    Rebuild it after a restart by `restore`-ing the stored articles of the last window, oldest
    first, with the story ids and features stored for them; then `add` new articles as they come.
    """

    def __init__(self, *, window: timedelta = DEFAULT_WINDOW, threshold: float = THRESHOLD) -> None:
        self.window = window
        self.threshold = threshold
        self._stories: dict[str, _Story] = {}
        self._members: dict[str, _Member] = {}
        self._postings: dict[str, set[str]] = defaultdict(set)
        self._expiry: list[tuple[datetime, str]] = []
        self._now: datetime | None = None

    def __len__(self) -> int:
        return len(self._stories)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._members

    def story_of(self, article_id: str) -> str | None:
        member = self._members.get(article_id)
        return member.story.id if member else None

    def members_of(self, story_id: str) -> tuple[str, ...]:
        """The keys of a story's articles in the order they joined (empty once it left the window)."""
        story = self._stories.get(story_id)
        return tuple(m.key for m in story.members) if story else ()

    def add(self, article: Article, *, at: datetime | None = None,
            features: ArticleFeatures | None = None) -> StoryAssignment:
        """Put `article` in a story and say which. `at` stands in for a missing `published`.

        An article without any time is compared with every open story, regardless of time, and a
        story it starts never expires. Pass `features` when they are already stored.
        """
        key = article_key(article)
        when = _utc(article.published) if article.published is not None else at
        when = _utc(when) if when is not None else None
        known = self._members.get(key)
        if known is not None:
            return StoryAssignment(known.story.id, False, 1.0, "already grouped")
        feats = features if features is not None else extract(article)
        self._advance(when)
        vector = feats.vector()
        best, score, reason = self._best_story(feats, vector, when)
        if best is not None and score >= self.threshold:
            self._join(best, key, feats, vector, when)
            return StoryAssignment(best.id, False, round(score, 4), reason)
        story = _Story(key, when)
        self._stories[key] = story
        if when is not None:
            heapq.heappush(self._expiry, (when, key))
        self._join(story, key, feats, vector, when)
        return StoryAssignment(key, True, round(score, 4), reason)

    def restore(self, article_id: str, story_id: str, features: ArticleFeatures, *,
                at: datetime | None) -> None:
        """Put back an article whose story was decided before (read from the store after a restart)."""
        if article_id in self._members:
            return
        self._advance(at)
        story = self._stories.get(story_id)
        if story is None:
            if at is not None and self._now is not None and at < self._now - self.window:
                return
            story = _Story(story_id, at)
            self._stories[story_id] = story
            if at is not None:
                heapq.heappush(self._expiry, (at, story_id))
        self._join(story, article_id, features, features.vector(), at)

    def _advance(self, when: datetime | None) -> None:
        if when is None:
            return
        if self._now is None or when > self._now:
            self._now = when
        horizon = self._now - self.window
        while self._expiry and self._expiry[0][0] < horizon:
            _, story_id = heapq.heappop(self._expiry)
            story = self._stories.pop(story_id, None)
            if story is not None:
                self._forget(story)

    def _forget(self, story: _Story) -> None:
        for member in story.members:
            del self._members[member.key]
            for term in member.vector:
                posting = self._postings.get(term)
                if posting is not None:
                    posting.discard(member.key)
                    if not posting:
                        del self._postings[term]

    def _join(self, story: _Story, key: str, feats: ArticleFeatures, vector: dict[str, float],
              when: datetime | None) -> None:
        cross = sum(_dot(vector, m.vector) for m in story.members)
        story.norm2 += 2 * cross + sum(w * w for w in vector.values())
        member = _Member(key, feats, vector, when, story)
        story.members.append(member)
        self._members[key] = member
        for term in vector:
            self._postings[term].add(key)

    def _best_story(self, feats: ArticleFeatures, vector: dict[str, float],
                    when: datetime | None) -> tuple[_Story | None, float, str]:
        dots: dict[str, float] = defaultdict(float)
        for term, weight in vector.items():
            for key in self._postings.get(term, ()):
                dots[key] += weight * self._members[key].vector[term]
        if not dots:
            return None, 0.0, "new story: no open story shares a distinctive term"
        per_story: dict[str, list[tuple[float, _Member]]] = defaultdict(list)
        for key, dot in dots.items():
            member = self._members[key]
            per_story[member.story.id].append((dot, member))
        story: _Story | None = None
        score, top, copied = 0.0, None, 0.0
        for story_id in sorted(per_story):
            candidate = self._stories[story_id]
            if not _in_window(candidate.start, when, self.window):
                continue
            candidate_score, candidate_top, candidate_copied = self._story_score(
                feats, candidate, per_story[story_id], when)
            if story is None or candidate_score > score:
                story, score, top, copied = candidate, candidate_score, candidate_top, candidate_copied
        if story is None or top is None:
            return None, 0.0, "new story: the stories sharing its terms are outside the window"
        if score < self.threshold:
            return story, score, f"new story: closest is {story.id} at {score:.2f}, below {self.threshold:.2f}"
        if copied:
            return story, score, f"near-duplicate of {top.key} ({copied:.0%} of the text in common)"
        return story, score, _shared(feats, vector, top)

    def _time_factor(self, story: _Story, when: datetime | None) -> float:
        """1 within TIME_GRACE of the story's nearest member, falling to 1 - TIME_PENALTY at the window."""
        gap = _nearest_gap(story, when)
        span = (self.window - TIME_GRACE).total_seconds()
        if gap is None or span <= 0:
            return 1.0
        late = max(0.0, gap - TIME_GRACE.total_seconds())
        return 1.0 - TIME_PENALTY * min(1.0, late / span)

    def _story_score(self, feats: ArticleFeatures, story: _Story, scored: list[tuple[float, _Member]],
                     when: datetime | None) -> tuple[float, _Member, float]:
        """(similarity, the closest member, the share of text copied from it when it is a copy, else 0)."""
        scored.sort(key=lambda dm: (-dm[0], dm[1].key))
        for dot, member in scored:
            if dot < DUPLICATE_FLOOR:
                break
            small = min(feats.sketch.shingles, member.features.sketch.shingles)
            if small >= MIN_SHINGLES:
                share = containment(feats.sketch, member.features.sketch)
                if share >= NEAR_DUPLICATE:
                    return 1.0, member, share
        top_dot, top = scored[0]
        centroid = sum(dot for dot, _ in scored) / math.sqrt(story.norm2) if story.norm2 > 0 else 0.0
        score = max(centroid, MEMBER_WEIGHT * top_dot)
        return score * self._time_factor(story, when), top, 0.0


def _shared(feats: ArticleFeatures, vector: dict[str, float], top: _Member) -> str:
    """The reason an article joined: the names and words it shares most with its closest member."""
    shared = sorted(((vector[t] * top.vector[t], t) for t in vector if t in top.vector), reverse=True)
    named = feats.names | top.features.names
    names = [t for _, t in shared if t in named][:4]
    words = [t for _, t in shared if t not in named][:3]
    parts = [f"names {', '.join(names)}"] if names else []
    parts += [f"terms {', '.join(words)}"] if words else []
    return f"same event as {top.key}: shares {'; '.join(parts) or 'terms'}"


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b[t] for t, w in a.items() if t in b)


def _in_window(start: datetime | None, when: datetime | None, window: timedelta) -> bool:
    return start is None or when is None or abs(when - start) <= window


def _nearest_gap(story: _Story, when: datetime | None) -> float | None:
    if when is None:
        return None
    gaps = [abs((when - m.at).total_seconds()) for m in story.members if m.at is not None]
    return min(gaps) if gaps else None


def _utc(value: datetime) -> datetime:
    """Naive datetimes are UTC, as everywhere in the monitor; aware ones compare as they are."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def assign_articles(articles: Sequence[Article], *, window: timedelta = DEFAULT_WINDOW,
                    threshold: float = THRESHOLD) -> dict[str, StoryAssignment]:
    """Article key (`article_key`) → its StoryAssignment, deciding as the daemon would have.

    Articles are taken oldest first, as the daemon would have seen them; an undated article is taken
    to be as old as the dated article before it in the input, so a batch with a few missing dates
    still groups like the feed it came from. The result depends on nothing but the input.
    """
    timed: list[tuple[datetime | None, int, Article]] = []
    last = next((_utc(a.published) for a in articles if a.published is not None), None)
    for i, article in enumerate(articles):
        if article.published is not None:
            last = _utc(article.published)
        timed.append((last, i, article))
    if last is not None:
        # Every entry has a time once any article has one; datetime.min is never used.
        timed.sort(key=lambda t: (t[0] or datetime.min.replace(tzinfo=UTC), t[1]))
    index = StoryIndex(window=window, threshold=threshold)
    return {article_key(article): index.add(article, at=when) for when, _, article in timed}


def group_articles(articles: Sequence[Article], *, window: timedelta = DEFAULT_WINDOW,
                   threshold: float = THRESHOLD) -> dict[str, str]:
    """Article id (or URL hash when it has none) → story id, the id of the story's first article."""
    return {key: a.story_id for key, a in assign_articles(articles, window=window, threshold=threshold).items()}
