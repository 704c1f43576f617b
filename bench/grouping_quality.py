"""How well story grouping puts the same story together and keeps sister stories apart, and how fast.

    python bench/grouping_quality.py [--data DIR] [--orders 3] [--samples 10] [--threshold T]
    python bench/grouping_quality.py --multilingual     # only the multilingual part (no shared data needed)

Runs `group_articles` on ECB+ (../shared/data/events/ecbplus, or $MONITOR_SHARED_DATA/events/ecbplus):
772 English articles, 66 stories in 33 topics. Each topic holds two different events of one kind
(two rehab check-ins, two bank bombings): the sister story is the hard negative. Dates are null, so
grouping rests on content alone (every article is "in the window").

Prints pairwise precision, recall and F1 of same-story pairs:
- on all articles, on the even topics (what the thresholds were tuned on) and on the odd topics
  (held out), each averaged over a few seeded shuffles of the input order, since the online
  grouping sees articles in feed order and real feeds interleave stories;
- on samples of 3 articles of every story (seeded, `--samples` of them): mean and min, the shape of
  the outside check ("three outlets' coverage of 100 stories must reach pairwise F1 ≥ 0.85"), with
  the sister stories in (every story has its hard negative: the worst case) and with only one of
  each topic's two sister stories kept, as a set of unrelated stories would be; each on all topics,
  the tuned and the held-out ones; and once with made-up `published` times, as real feeds have
  them: each story on a day drawn from one week, its outlets within 24 h of it (ECB+ has no dates,
  and the two sister stories of a topic happened years apart);
- the speed, articles per second, features included.

Then the multilingual part, on the labelled reports of tests/data/matching (eu_leaders.jsonl: 155
reports in 24 languages of some 50 events, most of them EU leaders' visits to Moscow: one story in 29
reports and 22 languages, and the same leaders' other visits, some days apart; eu_leaders_holdout.jsonl:
40 more, which the grouping was not tuned on). Each report's `note` names its event ("Orbán in
Moscow, 5 July 2024; leader by title"): the event is the note up to ";" or ": ", with the few events
named two ways joined (`SAME_EVENT`), and reports of one note more than 3 days apart counted as
different events (two drone attacks on Moscow, two years apart). Prints, with real publication
times, words alone (the grouping before anchors: every report's anchors removed) and with anchors:
pairwise precision, recall and F1, and alerts per event, the number of stories each event is split
into (one alert each): the mean over all events, over the events of 3 or more reports, and for the
largest. Then the same with the held-out reports added, with Orbán's four trips of July 2024
(Kyiv, Moscow, Beijing, Mar-a-Lago) a day apart instead of three, and with every event moved to a
random day of one week (seeded; the same leader's visits of different years then fall days apart,
which only their words and years can tell apart).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

from scoring import Scores, default_data, mean  # noqa: E402

from monitor.articles_io import read_articles  # noqa: E402
from monitor.stories import ArticleFeatures, StoryIndex, extract, group_articles  # noqa: E402
from monitor.stories.group import THRESHOLD  # noqa: E402
from monitor.types import Article  # noqa: E402

MULTILINGUAL = REPO / "tests" / "data" / "matching"
SAME_EVENT = {
    "Szijjártó (foreign minister) alone in Moscow": "Szijjártó alone in Moscow",
    "Lavrov receives Hungarian foreign minister in Moscow": "Szijjártó alone in Moscow",
    "Orbán at the White House, 7 November 2025": "Orbán in Washington, 7 November 2025",
    "planned Trump–Putin summit in Budapest": "Orbán phone call with Putin about a Budapest summit",
}
"""Notes that name one event two ways (the notes were written for matching, not for grouping)."""
HELD_OUT_EVENTS = {
    "h-nehammer-at": "Nehammer in Moscow, 11 April 2022", "h-nehammer-cs": "Nehammer in Moscow, 11 April 2022",
    "h-fico-bg": "Fico in Moscow, 22 December 2024", "h-fico-meets-en": "Fico in Moscow, 22 December 2024",
    "h-fico-el": "Fico in Moscow, 9 May 2025", "h-fico-pt": "Fico in Moscow, 9 May 2025",
    "h-fico-sk-tasr": "Fico in Moscow, 9 May 2025", "h-kaljulaid-ru": "Kaljulaid in Moscow, 18 April 2019",
    "h-macron-pl": "Macron in Moscow, 7 February 2022", "h-macron-fr-table": "Macron in Moscow, 7 February 2022",
    "h-merkel-it": "Merkel in Moscow, 20 August 2021", "h-merkel-es": "Merkel in Moscow, 20 August 2021",
    "h-orban-nl-2022": "Orbán in Moscow, 1 February 2022", "h-orban-ro-2022": "Orbán in Moscow, 1 February 2022",
    "h-orban-hu-mti": "Orbán in Moscow, 5 July 2024", "h-orban-sv": "Orbán in Moscow, 5 July 2024",
    "h-orban-tass-ru": "Orbán in Moscow, 5 July 2024", "h-orban-putin-de": "Orbán in Moscow, 5 July 2024",
    "h-orban-sk-title": "Orbán in Moscow, 5 July 2024", "h-neg-orban-beijing-pl": "Orbán in Beijing, 8 July 2024",
    "h-neg-orban-kyiv-fr": "Orbán in Kyiv, 2 July 2024", "h-tsipras-es": "Tsipras in Moscow, 8 April 2015",
    "h-neg-merz-call-de": "Tusk, Macron, Merz and Starmer in Kyiv",
    "h-neg-putin-orban-call": "Orbán phone call with Putin about a Budapest summit",
}
"""The held-out reports of an event of eu_leaders.jsonl (their notes say how they are written, not
what happened); the other held-out reports are events of their own."""
ORBAN_TRIPS = ("Orbán in Kyiv, 2 July 2024", "Orbán in Moscow, 5 July 2024", "Orbán in Beijing, 8 July 2024",
               "Orbán at Mar-a-Lago, 11 July 2024")
EVENT_GAP = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Labelled:
    article: Article
    story: str
    topic: int


def load(folder: Path) -> list[Labelled]:
    path = folder / "articles.jsonl"
    articles = read_articles(path)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Labelled(a, str(r["story_id"]), int(r["topic_id"])) for a, r in zip(articles, rows, strict=True)]


def _pairs(sizes: Counter[object]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def pairwise(gold: dict[str, str], predicted: dict[str, str]) -> Scores:
    """Precision and recall over all pairs of articles: "same story" predicted vs. labelled."""
    both = _pairs(Counter((gold[k], predicted[k]) for k in gold))
    said = _pairs(Counter(predicted[k] for k in gold))
    true = _pairs(Counter(gold.values()))
    p = both / said if said else 1.0
    r = both / true if true else 1.0
    return Scores(p, r, 2 * p * r / (p + r) if p + r else 0.0)


def run(items: Sequence[Labelled], seed: int | None, threshold: float) -> Scores:
    ordered = list(items)
    if seed is not None:
        random.Random(seed).shuffle(ordered)
    predicted = group_articles([x.article for x in ordered], threshold=threshold)
    return pairwise({x.article.id or "": x.story for x in ordered}, predicted)


def dated(items: Sequence[Labelled], seed: int, days: float = 7.0, hours: float = 24.0) -> list[Labelled]:
    """`items` with made-up `published` times: each story on a random day, its articles within hours."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    day = {story: start + timedelta(days=rng.uniform(0, days)) for story in sorted({x.story for x in items})}
    return [Labelled(replace(x.article, published=day[x.story] + timedelta(hours=rng.uniform(0, hours))),
                     x.story, x.topic) for x in items]


def sample_three(items: Sequence[Labelled], seed: int) -> list[Labelled]:
    """Three articles of every story that has them (all stories in ECB+), in a seeded random order."""
    rng = random.Random(seed)
    by_story: dict[str, list[Labelled]] = {}
    for x in items:
        by_story.setdefault(x.story, []).append(x)
    chosen = [x for story in sorted(by_story) if len(by_story[story]) >= 3
              for x in rng.sample(by_story[story], 3)]
    rng.shuffle(chosen)
    return chosen


def one_per_topic(items: Sequence[Labelled], seed: int) -> list[Labelled]:
    """One of the two sister stories of every topic, chosen by a seeded coin: no hard negatives left."""
    rng = random.Random(seed)
    topics: dict[int, list[str]] = {}
    for x in items:
        if x.story not in topics.setdefault(x.topic, []):
            topics[x.topic].append(x.story)
    keep = {rng.choice(sorted(stories)) for _, stories in sorted(topics.items())}
    return [x for x in items if x.story in keep]


def with_sisters(items: Sequence[Labelled], seed: int) -> list[Labelled]:
    return sample_three(items, seed)


def without_sisters(items: Sequence[Labelled], seed: int) -> list[Labelled]:
    return sample_three(one_per_topic(items, seed), seed)


@dataclass(frozen=True, slots=True)
class Report:
    """A labelled report of the multilingual set, with its features computed once."""

    article: Article
    event: str
    features: ArticleFeatures


def load_multilingual(folder: Path = MULTILINGUAL) -> tuple[list[Report], list[Report]]:
    """(eu_leaders.jsonl, eu_leaders_holdout.jsonl) as reports labelled with their events."""
    main: list[tuple[Article, str]] = []
    for article, row in _rows(folder / "eu_leaders.jsonl"):
        note = str(row["note"]).split(";", 1)[0].split(": ", 1)[0]
        main.append((article, SAME_EVENT.get(note, note)))
    held: list[tuple[Article, str]] = []
    for article, row in _rows(folder / "eu_leaders_holdout.jsonl"):
        held.append((article, HELD_OUT_EVENTS.get(str(row["id"]), f"held out: {row['id']}")))
    events = _split_by_gaps(main + held)
    reports = [Report(a, events[a.id or ""], extract(a)) for a, _ in main + held]
    return reports[:len(main)], reports[len(main):]


def _rows(path: Path) -> list[tuple[Article, dict[str, object]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(zip(read_articles(path), rows, strict=True))


def _split_by_gaps(labelled: list[tuple[Article, str]]) -> dict[str, str]:
    """Article id → event, a note's reports more than EVENT_GAP after the one before being a new event."""
    by_note: dict[str, list[Article]] = {}
    for article, note in labelled:
        by_note.setdefault(note, []).append(article)
    events: dict[str, str] = {}
    for note, articles in by_note.items():
        part, last = 0, None
        for article in sorted(articles, key=_published):
            if last is not None and _published(article) - last > EVENT_GAP:
                part += 1
            last = _published(article)
            events[article.id or ""] = note if part == 0 else f"{note} #{part + 1}"
    return events


def _published(article: Article) -> datetime:
    assert article.published is not None, f"{article.id}: every labelled report has a publication time"
    return article.published


@dataclass(frozen=True, slots=True)
class EventScores:
    pairs: Scores
    alerts: float
    """Stories per event (each alerts once), mean over all events."""
    alerts_large: float
    """The same over the events of 3 or more reports."""
    largest: tuple[int, int]
    """The largest event: its reports, and the stories it is split into."""

    def __str__(self) -> str:
        return (f"{self.pairs}  alerts/event {self.alerts:.2f} (3+ reports {self.alerts_large:.2f},"
                f" largest {self.largest[0]} reports: {self.largest[1]})")


def group_reports(reports: Sequence[Report], *, anchors: bool = True, threshold: float = THRESHOLD) -> dict[str, str]:
    """Report id → story, as the daemon would have decided, oldest first; without anchors, as before them."""
    index = StoryIndex(threshold=threshold)
    order = sorted(range(len(reports)), key=lambda i: (_published(reports[i].article), i))
    out: dict[str, str] = {}
    for i in order:
        r = reports[i]
        features = r.features if anchors else replace(r.features, anchors=())
        out[r.article.id or ""] = index.add(r.article, features=features).story_id
    return out


def event_scores(reports: Sequence[Report], predicted: dict[str, str]) -> EventScores:
    gold = {r.article.id or "": r.event for r in reports}
    stories: dict[str, set[str]] = {}
    for key, event in gold.items():
        stories.setdefault(event, set()).add(predicted[key])
    sizes = Counter(gold.values())
    large = [e for e in stories if sizes[e] >= 3]
    biggest = max(stories, key=lambda e: (sizes[e], e))
    return EventScores(pairwise(gold, predicted), sum(len(s) for s in stories.values()) / len(stories),
                       sum(len(stories[e]) for e in large) / len(large), (sizes[biggest], len(stories[biggest])))


def mean_events(scores: Sequence[EventScores]) -> EventScores:
    n = len(scores)
    return EventScores(mean([s.pairs for s in scores]), sum(s.alerts for s in scores) / n,
                       sum(s.alerts_large for s in scores) / n,
                       (scores[0].largest[0], round(sum(s.largest[1] for s in scores) / n)))


def retimed(reports: Sequence[Report], start: dict[str, datetime]) -> list[Report]:
    """`reports` with each event in `start` moved to start then, its reports keeping their offsets."""
    first: dict[str, datetime] = {}
    for r in reports:
        first[r.event] = min(first.get(r.event, _published(r.article)), _published(r.article))
    return [replace(r, article=replace(r.article, published=start[r.event] + (_published(r.article) - first[r.event])))
            if r.event in start else r for r in reports]


def trips_a_day_apart(reports: Sequence[Report]) -> list[Report]:
    """Orbán's trips of July 2024 one day apart instead of three (the reactions move with Moscow)."""
    first = {r.event: _published(r.article) for r in sorted(reports, key=lambda r: _published(r.article), reverse=True)}
    start = {event: first[ORBAN_TRIPS[0]] + timedelta(days=n) for n, event in enumerate(ORBAN_TRIPS)}
    moscow = start[ORBAN_TRIPS[1]] - first[ORBAN_TRIPS[1]]
    for event, at in first.items():
        if event not in start and first[ORBAN_TRIPS[1]] <= at < first[ORBAN_TRIPS[1]] + 2 * EVENT_GAP:
            start[event] = at + moscow
    return retimed(reports, start)


def one_week(reports: Sequence[Report], seed: int) -> list[Report]:
    rng = random.Random(seed)
    day = datetime(2024, 1, 1, 6, tzinfo=UTC)
    return retimed(reports, {e: day + timedelta(days=rng.uniform(0, 7)) for e in sorted({r.event for r in reports})})


def multilingual(threshold: float, samples: int) -> None:
    main, held = load_multilingual()
    languages = len({r.article.lang for r in main})
    print(f"\nmultilingual: {len(main)} reports of {len({r.event for r in main})} events in {languages} languages"
          f" (+ {len(held)} held out); threshold {threshold}")
    scenarios: dict[str, Callable[[], list[list[Report]]]] = {
        "real times": lambda: [main],
        "+ held-out reports": lambda: [main + held],
        "Orbán's trips a day apart": lambda: [trips_a_day_apart(main)],
        f"events within a week (x{samples})": lambda: [one_week(main, seed) for seed in range(samples)],
    }
    for name, make in scenarios.items():
        sets = make()
        for anchors in (False, True):
            scores = [event_scores(s, group_reports(s, anchors=anchors, threshold=threshold)) for s in sets]
            label = f"{name}, {'anchors' if anchors else 'words only'}"
            print(f"{label:44} {mean_events(scores)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--orders", type=int, default=3, help="seeded shuffles of the input order")
    parser.add_argument("--samples", type=int, default=10, help="seeded 3-per-story samples")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--multilingual", action="store_true", help="only the multilingual part")
    args = parser.parse_args(argv)
    if args.multilingual:
        multilingual(args.threshold, min(args.samples, 5))
        return 0
    if not (args.data / "articles.jsonl").is_file():
        print(f"no {args.data / 'articles.jsonl'}: set MONITOR_SHARED_DATA or --data", file=sys.stderr)
        return 2
    items = load(args.data)
    stories = {x.story for x in items}
    print(f"ECB+: {len(items)} articles, {len(stories)} stories, {len({x.topic for x in items})} topics;"
          f" threshold {args.threshold}")
    seeds = list(range(args.orders))
    subsets = {
        "all": items,
        "tuned (even topics)": [x for x in items if x.topic % 2 == 0],
        "held out (odd topics)": [x for x in items if x.topic % 2 == 1],
    }
    for name, subset in subsets.items():
        runs = [run(subset, seed, args.threshold) for seed in seeds]
        worst = min(s.f1 for s in runs)
        print(f"{name:32} {mean(runs)}  (min F1 {worst:.3f} over {len(runs)} orders)")
    samplers: dict[str, Callable[[int], list[Labelled]]] = {}
    for name, subset in subsets.items():
        samplers[f"3/story, sisters, {name.split(' (')[0]}"] = partial(with_sisters, subset)
    for name, subset in subsets.items():
        samplers[f"3/story, no sisters, {name.split(' (')[0]}"] = partial(without_sisters, subset)
    samplers["3/story, sisters, dated, all"] = lambda seed: dated(sample_three(items, seed), seed)
    for name, sampler in samplers.items():
        runs = [run(sampler(1000 + seed), None, args.threshold) for seed in range(args.samples)]
        print(f"{name:32} {mean(runs)}  (min F1 {min(s.f1 for s in runs):.3f} over {len(runs)} samples)")
    started = time.perf_counter()
    group_articles([x.article for x in items], threshold=args.threshold)
    elapsed = time.perf_counter() - started
    print(f"speed: {len(items) / elapsed:.0f} articles/s ({len(items)} articles in {elapsed:.2f} s,"
          f" features included)")
    multilingual(args.threshold, min(args.samples, 5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
