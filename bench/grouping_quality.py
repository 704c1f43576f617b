"""How well story grouping puts the same story together and keeps sister stories apart, and how fast.

    python bench/grouping_quality.py [--data DIR] [--orders 3] [--samples 10] [--threshold T]

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
"""

from __future__ import annotations

import argparse
import json
import os
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
sys.path.insert(0, str(REPO))

from monitor.articles_io import read_articles  # noqa: E402
from monitor.stories import group_articles  # noqa: E402
from monitor.stories.group import THRESHOLD  # noqa: E402
from monitor.types import Article  # noqa: E402


def default_data() -> Path:
    shared = Path(os.environ.get("MONITOR_SHARED_DATA", REPO.parent / "shared" / "data"))
    return shared / "events" / "ecbplus"


@dataclass(frozen=True, slots=True)
class Labelled:
    article: Article
    story: str
    topic: int


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float

    def __str__(self) -> str:
        return f"P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}"


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


def mean(scores: Sequence[Scores]) -> Scores:
    n = len(scores)
    return Scores(sum(s.precision for s in scores) / n, sum(s.recall for s in scores) / n,
                  sum(s.f1 for s in scores) / n)


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--orders", type=int, default=3, help="seeded shuffles of the input order")
    parser.add_argument("--samples", type=int, default=10, help="seeded 3-per-story samples")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    args = parser.parse_args(argv)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
