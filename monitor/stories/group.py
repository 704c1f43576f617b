"""Grouping articles into stories, one article at a time, the way the daemon sees them arrive.

A story is the articles of every outlet about one event within a window (48 h by default) of its
first article. The first article of a story is the one that alerts; the rest join it. Joining is
decided against the stories still open:

1. a near-duplicate (most of one body's word shingles are in the other's) of any member joins;
2. otherwise the article joins the story it is most similar to, if that similarity clears a
   threshold. Similarity to a story is the mean over its three closest members (all of them while
   it has fewer) of the similarity to each: an average, not the single closest member, because one
   member that happens to resemble the article is how a story swallows its sister story of the
   same kind, and a chain of such links how it swallows many (single-link chaining); three, not
   all, because a story of twenty reports in ten languages resembles a new report through a few
   of them only. The mean is lowered as the articles lie further apart in time.

The similarity of two articles is the cosine of their term vectors, corrected by their particulars,
which is what tells a second earthquake in the same week, or a second arrest of a player of the
same team, from a further report of the first (ECB+'s sister stories; bench/grouping_quality.py):
less when each leaves out names central to the other (the opponent, the town, the player: in
reports of one language, as other languages spell and inflect names otherwise), less when they
mention years far apart, more when they give the same figure for the same thing ("magnitude 5.6" in
both, or the same weekday) and less when they give only different ones. Each correction is small
(a tenth of a cosine at most), so it decides close calls only; the weights were fitted on ECB+'s
even topics and checked on the odd ones.

Two reports in different languages share names, not words, and often not even the names' spelling
("Orbánnal", "Орбана"). Their similarity is instead the cosine of their anchors (monitor.stories.
anchors: the known people, places and kinds of event they name, whatever the language, the keys of
their other names, their numbers), scaled by ANCHOR_SCALE to the words' scale; less when each leaves
out known entities central to the other (reports of Fico's and of Vučić's visits to Moscow on one day
share Putin and Moscow, not the visitor) and when they mention years far apart. Measured on
tests/data/matching/eu_leaders.jsonl (155 reports of 52 events in 24 languages) and checked on 40
held-out reports: bench/grouping_quality.py --multilingual. Features stored before anchors existed
compare by their words, as they did.

Stories whose first article is older than the window (measured from the newest time seen) are
dropped from memory: an article after that starts a new story, which is what splits yesterday's
coverage from today's second event of the same kind.

Candidates are found through an inverted index of terms and one of anchors, so an article is only
compared with the members that share a term with it, or an anchor and not the language.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from monitor.stories.anchors import ACTION_PREFIX, ENTITY_PREFIX, anchor_name
from monitor.stories.features import ArticleFeatures, extract
from monitor.stories.fingerprint import containment
from monitor.types import Article

DEFAULT_WINDOW = timedelta(hours=48)
THRESHOLD = 0.18
"""Similarity at which an article joins a story (tuned on ECB+ even topics: bench/grouping_quality.py)."""
CLOSEST_MEMBERS = 3
"""How many of a story's closest members its similarity to an article is the mean of."""
PARTICULARS_FLOOR = 0.08
"""Pairs with a lower cosine are far below the threshold: their particulars are not worth comparing."""
ABSENT_NAMES = 0.095
"""Lost when each article leaves out this share of the other's names (the smaller of the two shares)."""
YEARS_APART = 2
YEARS_PENALTY = 0.085
"""Lost when both mention years and the latest they mention lie YEARS_APART or more apart."""
SAME_FIGURE = 0.06
"""Gained when both give the same number next to the same word ("magnitude 5.6", "aged 33")."""
OTHER_FIGURES = 0.08
"""Lost when numbers next to the same words differ more often than they agree."""
ANCHOR_SCALE = 0.5
"""Across languages the anchors' cosine counts this much: it is the cosine of a few names, which two
reports of one event share more fully than their words (fitted on eu_leaders.jsonl, see `_across`)."""
ABSENT_ANCHORS = 0.2
"""Lost across languages when each leaves out this share of the other's known entities (by weight²)."""
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


@dataclass(frozen=True, slots=True)
class _Particulars:
    """An article's particulars in the form they are compared in, computed once per article."""

    names: tuple[tuple[str, float], ...]
    """Its single-word names that can be looked for in another article (they are mentions), by weight²."""
    names_mass: float
    """The total weight² of all its single-word names."""
    mentions: frozenset[str]
    figures: Mapping[str, frozenset[str]]
    """Neighbouring word ("magnitude>") → the numbers given next to it."""
    latest_year: int | None
    lang: str
    anchors: Mapping[str, float]
    """Its language-neutral anchors and their weights (see monitor.stories.anchors)."""
    entity_mass: float
    """The total weight² of its anchors that are known entities."""


def _particulars(features: ArticleFeatures) -> _Particulars:
    names = [(t, w * w) for t, w in features.terms if t in features.names and " " not in t]
    figures: dict[str, set[str]] = defaultdict(set)
    for figure in features.figures:
        split = max(figure.find("<"), figure.find(">")) + 1
        figures[figure[:split]].add(figure[split:])
    anchors = dict(features.anchors)
    return _Particulars(tuple((t, w2) for t, w2 in names if t in features.mentions), sum(w2 for _, w2 in names),
                        features.mentions, {k: frozenset(v) for k, v in figures.items()},
                        max(features.years) if features.years else None, features.lang, anchors,
                        sum(w * w for a, w in anchors.items() if a.startswith(ENTITY_PREFIX)))


@dataclass(frozen=True, slots=True)
class _Scored:
    """A member that shares terms or anchors with the article being placed, and how much."""

    dot: float
    """The cosine of their term vectors (0 when they share no term)."""
    anchor_dot: float
    """The cosine of their anchors, when they are in different languages (else 0)."""
    member: _Member


@dataclass(slots=True)
class _Member:
    key: str
    features: ArticleFeatures
    vector: dict[str, float]
    at: datetime | None
    story: _Story
    particulars: _Particulars


@dataclass(slots=True)
class _Story:
    id: str
    start: datetime | None
    members: list[_Member] = field(default_factory=list)


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
        self._postings: dict[str, dict[str, float]] = defaultdict(dict)
        """Term → the members whose vectors have it, with its weight there."""
        self._anchor_postings: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
        """Anchor → the members that have it, with its weight there and the member's language."""
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
        particulars = _particulars(feats)
        best, score, reason = self._best_story(feats, vector, particulars, when)
        if best is not None and score >= self.threshold:
            self._join(best, key, feats, vector, when, particulars)
            return StoryAssignment(best.id, False, round(score, 4), reason)
        story = _Story(key, when)
        self._stories[key] = story
        if when is not None:
            heapq.heappush(self._expiry, (when, key))
        self._join(story, key, feats, vector, when, particulars)
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
        self._join(story, article_id, features, features.vector(), at, _particulars(features))

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
            for postings, keys in ((self._postings, member.vector), (self._anchor_postings, member.particulars.anchors)):
                for term in keys:
                    posting = postings.get(term)
                    if posting is not None:
                        posting.pop(member.key, None)
                        if not posting:
                            del postings[term]

    def _join(self, story: _Story, key: str, feats: ArticleFeatures, vector: dict[str, float],
              when: datetime | None, particulars: _Particulars) -> None:
        member = _Member(key, feats, vector, when, story, particulars)
        story.members.append(member)
        self._members[key] = member
        for term, weight in vector.items():
            self._postings[term][key] = weight
        for anchor, weight in particulars.anchors.items():
            self._anchor_postings[anchor][key] = (weight, particulars.lang)

    def _best_story(self, feats: ArticleFeatures, vector: dict[str, float], particulars: _Particulars,
                    when: datetime | None) -> tuple[_Story | None, float, str]:
        dots: dict[str, float] = defaultdict(float)
        postings = self._postings
        for term, weight in vector.items():
            posting = postings.get(term)
            if posting:
                for key, theirs in posting.items():
                    dots[key] += weight * theirs
        # Reports in other languages share names, not words: they are found through their anchors.
        anchor_dots: dict[str, float] = defaultdict(float)
        lang = particulars.lang
        for anchor, weight in particulars.anchors.items():
            for key, (their_weight, their_lang) in self._anchor_postings.get(anchor, {}).items():
                if their_lang != lang:
                    anchor_dots[key] += weight * their_weight
        if not dots and not anchor_dots:
            return None, 0.0, "new story: no open story shares a distinctive term"
        per_story: dict[str, list[_Scored]] = defaultdict(list)
        for key in dots.keys() | anchor_dots.keys():
            member = self._members[key]
            per_story[member.story.id].append(_Scored(dots.get(key, 0.0), anchor_dots.get(key, 0.0), member))
        # Stories are scored in order of what they could score at best, so that the many sharing a
        # common word or two are dismissed unscored once a closer story is known. Ties go to the
        # smaller story id, whatever the order, so the outcome is the same as scoring them all.
        bounds: list[tuple[float, str]] = []
        for story_id, scored in per_story.items():
            candidate = self._stories[story_id]
            if _in_window(candidate.start, when, self.window):
                bounds.append((-_upper_bound(candidate, scored), story_id))
        bounds.sort()
        story: _Story | None = None
        score, top, copied = 0.0, None, 0.0
        for negative_bound, story_id in bounds:
            if story is not None and -negative_bound < score:
                break
            candidate = self._stories[story_id]
            candidate_score, candidate_top, candidate_copied = self._story_score(
                feats, particulars, candidate, per_story[story_id], when)
            if story is None or candidate_score > score or (candidate_score == score and story_id < story.id):
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

    def _story_score(self, feats: ArticleFeatures, particulars: _Particulars, story: _Story,
                     scored: list[_Scored], when: datetime | None) -> tuple[float, _Member, float]:
        """(similarity, the closest member, the share of text copied from it when it is a copy, else 0).

        Members that share no term or anchor with the article are not in `scored`: they count as 0
        in the mean.
        """
        close = sorted(((s.dot, s.member) for s in scored if s.dot >= DUPLICATE_FLOOR),
                       key=lambda dm: (-dm[0], dm[1].key))
        for _, member in close:
            small = min(feats.sketch.shingles, member.features.sketch.shingles)
            if small >= MIN_SHINGLES:
                share = containment(feats.sketch, member.features.sketch)
                if share >= NEAR_DUPLICATE:
                    return 1.0, member, share
        closest = heapq.nsmallest(CLOSEST_MEMBERS, (
            (-_pair(s.dot, s.anchor_dot, particulars, s.member.particulars), s.member.key, s.member) for s in scored))
        score = -sum(s for s, _, _ in closest) / min(CLOSEST_MEMBERS, len(story.members))
        return score * self._time_factor(story, when), closest[0][2], 0.0


def _upper_bound(story: _Story, scored: list[_Scored]) -> float:
    """What `_story_score` can give at most: a copy's 1, or every particular agreeing and no penalty."""
    top = sorted((max(s.dot, ANCHOR_SCALE * s.anchor_dot) for s in scored), reverse=True)[:CLOSEST_MEMBERS]
    if max(s.dot for s in scored) >= DUPLICATE_FLOOR:
        return max(1.0, sum(top) / min(CLOSEST_MEMBERS, len(story.members)) + SAME_FIGURE)
    return (sum(top) + SAME_FIGURE * len(top)) / min(CLOSEST_MEMBERS, len(story.members))


def pair_similarity(a: ArticleFeatures, b: ArticleFeatures) -> float:
    """How alike two articles are, as the index weighs a story's members: cosine and particulars, and
    across languages their anchors."""
    va, vb = a.vector(), b.vector()
    cosine = sum(w * vb[t] for t, w in va.items() if t in vb)
    pa, pb = _particulars(a), _particulars(b)
    return _pair(cosine, sum(w * pb.anchors[k] for k, w in pa.anchors.items() if k in pb.anchors), pa, pb)


def _pair(cosine: float, anchor_dot: float, a: _Particulars, b: _Particulars) -> float:
    """The similarity of two members: by their words, or across languages by their anchors."""
    if a.lang != b.lang and a.anchors and b.anchors:
        return _across(anchor_dot, a, b)
    return _corrected(cosine, a, b)


def _across(anchor_dot: float, a: _Particulars, b: _Particulars) -> float:
    """Two reports in different languages, by their anchors (see the module's docstring).

    Their words are left out: what two languages share are mostly names spelled alike ("Donald
    Trump" in every Latin script, "Vladimirom Putinom" in Slovak and Croatian), weighed by two word
    lists that disagree, so a famous name made reports of any two events of its day alike.
    """
    score = ANCHOR_SCALE * anchor_dot
    score -= ABSENT_ANCHORS * min(_absent_anchors(a, b), _absent_anchors(b, a))
    if a.latest_year is not None and b.latest_year is not None and abs(a.latest_year - b.latest_year) >= YEARS_APART:
        score -= YEARS_PENALTY
    return score


def _absent_anchors(a: _Particulars, b: _Particulars) -> float:
    """The share of `a`'s known entities (by weight²) that `b` does not name."""
    if a.entity_mass <= 0.0:
        return 0.0
    missing = sum(w * w for k, w in a.anchors.items() if k.startswith(ENTITY_PREFIX) and k not in b.anchors)
    return missing / a.entity_mass


def _corrected(cosine: float, a: _Particulars, b: _Particulars) -> float:
    """Two articles' cosine corrected by their particulars (see the module's docstring)."""
    if cosine < PARTICULARS_FLOOR:
        return cosine
    score = cosine
    if a.lang == b.lang:
        # Across languages a name is often spelled or inflected otherwise ("Moskau", "Orbánt"): its
        # absence there proves nothing.
        score -= ABSENT_NAMES * min(_absent(a, b), _absent(b, a))
    if a.latest_year is not None and b.latest_year is not None and abs(a.latest_year - b.latest_year) >= YEARS_APART:
        score -= YEARS_PENALTY
    same = other = 0
    for word, numbers in a.figures.items():
        theirs = b.figures.get(word)
        if theirs is not None:
            if numbers & theirs:
                same += 1
            else:
                other += 1
    if same:
        score += SAME_FIGURE
    if other > same:
        score -= OTHER_FIGURES
    return score


def _absent(a: _Particulars, b: _Particulars) -> float:
    """The share of `a`'s name weight that `b` never mentions."""
    if a.names_mass <= 0.0:
        return 0.0
    return sum(w2 for name, w2 in a.names if name not in b.mentions) / a.names_mass


def _shared(feats: ArticleFeatures, vector: dict[str, float], top: _Member) -> str:
    """The reason an article joined: the names and words it shares most with its closest member."""
    shared = sorted(((vector[t] * top.vector[t], t) for t in vector if t in top.vector), reverse=True)
    named = feats.names | top.features.names
    names = [t for _, t in shared if t in named][:4]
    words = [t for _, t in shared if t not in named][:3]
    if feats.lang != top.features.lang:
        # Across languages the names are first the people and places both name, by their English names.
        theirs = top.particulars.anchors
        entities = sorted(((w * theirs[a], a) for a, w in feats.anchors if a in theirs
                           and a.startswith(ENTITY_PREFIX) and not a.startswith(ACTION_PREFIX)), reverse=True)
        names = list(dict.fromkeys([anchor_name(a) for _, a in entities] + names))[:4]
    parts = [f"names {', '.join(names)}"] if names else []
    parts += [f"terms {', '.join(words)}"] if words else []
    return f"same event as {top.key}: shares {'; '.join(parts) or 'terms'}"


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
