"""Matching speed: one article against 10, 100 and 1,000 watchlists.

    python bench/matching_speed.py [--sizes 10,100,1000] [--repeat 3] [--profile]

Watchlists are generated (deterministically) in the shapes people write: words and phrases under
all/any, near: windows, sums with penalties, a few regular expressions, entity classes (EU
leaders, places, actions), and a tenth of them shaped like the shipped EU-leader watchlist. The
articles are ../shared/data/events/ecbplus (or $MONITOR_SHARED_DATA) when present, plus the labelled
EU-leader reports in tests/data/matching. Prints, per size, the time to compile the matcher,
articles per second and milliseconds per article for match() (what the daemon calls) and evaluate()
(one verdict per watchlist), and the cost ratio between the largest and the smallest size.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import wordfreq  # noqa: E402

from monitor.articles_io import read_articles  # noqa: E402
from monitor.matching import Matcher, Watchlist, watchlist_from_text  # noqa: E402
from monitor.types import Article  # noqa: E402

SHARED = Path(os.environ.get("MONITOR_SHARED_DATA", REPO.parent / "shared" / "data"))
CLASSES = ["entity: eu_head_of_government_or_state", "place: moscow", "place: kyiv", "place: beijing",
           "place: washington", "place: brussels", "person: putin", "person: trump", "person: zelensky",
           "action: visit", "action: attack", "action: election", "action: arrest", "action: resignation",
           "action: disaster", "action: data_breach", "action: acquisition", "action: sanctions",
           "action: protest"]
EU_LEADER_SHAPE = """
  sum:
    - any:
        - near: [{{entity: eu_head_of_government_or_state}}, {{place: moscow}}, {{action: visit}}]
          in: title
        - near: [{{entity: eu_head_of_government_or_state}}, {{place: moscow}}, {{action: visit}}]
          in: lead
          weight: 0.8
    - near: [{{action: phone_call}}, {{person: putin}}]
      in: title
      weight: -1
    - terms: [{a}, {b}]
      weight: 0.1
"""


def vocabulary() -> list[str]:
    words = wordfreq.top_n_list("en", 40000)[1500:]
    return [w for w in words if w.isascii() and w.isalpha() and len(w) > 3]


def one_watchlist(n: int, rng: random.Random, words: list[str]) -> str:
    def pick(k: int) -> str:
        return ", ".join(json.dumps(w) for w in rng.sample(words, k))

    shape = n % 10
    if shape == 0:
        body = EU_LEADER_SHAPE.format(a=rng.choice(words), b=rng.choice(words))
    elif shape in (1, 2, 3):
        body = f"\n  all:\n    - any: [{pick(3)}]\n    - any: [{pick(2)}, \"{rng.choice(words)} {rng.choice(words)}\"]\n"
    elif shape in (4, 5):
        body = f"\n  near: [{{{rng.choice(CLASSES)}}}, {{terms: [{pick(2)}]}}]\n  within: 10\n"
    elif shape == 6:
        body = (f"\n  sum:\n    - {{terms: [{pick(3)}], weight: 0.6}}\n    - {{{rng.choice(CLASSES)}, weight: 0.4}}\n"
                f"    - {{terms: [{pick(2)}], in: title, weight: -0.5}}\n")
    elif shape == 7:
        word = rng.choice(words)
        body = f"\n  all:\n    - regex: '\\b{word}s?\\b'\n    - {{terms: [{pick(2)}]}}\n"
    elif shape == 8:
        body = f"\n  all:\n    - {{{rng.choice(CLASSES)}}}\n    - {{terms: [{rng.choice(words)}*, {pick(2)}], in: lead}}\n"
    else:
        body = f"\n  any:\n    - \"{rng.choice(words)} {rng.choice(words)}\"\n    - {{terms: [{pick(4)}], in: title}}\n"
    return f"name: generated {n}\nmin_score: 0.5\nmatch:{body}"


def generate(count: int, seed: int = 7) -> list[Watchlist]:
    rng = random.Random(seed)
    words = vocabulary()
    return [watchlist_from_text(one_watchlist(n, rng, words)) for n in range(count)]


def articles() -> list[Article]:
    found = read_articles(REPO / "tests" / "data" / "matching" / "eu_leaders.jsonl")
    ecb = SHARED / "events" / "ecbplus" / "articles.jsonl"
    if ecb.is_file():
        found += read_articles(ecb)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    docs = articles()
    chars = sum(len(a.title) + len(a.text) for a in docs) / len(docs)
    print(f"{len(docs)} articles, {chars:.0f} characters on average; one core; best of {args.repeat} runs")
    print(f"{'watchlists':>10} {'compile s':>10} {'match art/s':>12} {'match ms':>9} {'evaluate ms':>12} {'matches':>8}")
    per_article: dict[int, float] = {}
    for size in sizes:
        lists = generate(size)
        t0 = time.perf_counter()
        matcher = Matcher(lists)
        compile_s = time.perf_counter() - t0
        for a in docs[:20]:
            matcher.match(a)
        best = best_eval = float("inf")
        found = 0
        for _ in range(args.repeat):
            t0 = time.process_time()
            found = sum(len(matcher.match(a)) for a in docs)
            best = min(best, time.process_time() - t0)
            t0 = time.process_time()
            for a in docs:
                matcher.evaluate(a)
            best_eval = min(best_eval, time.process_time() - t0)
        per_article[size] = best / len(docs)
        print(f"{size:>10} {compile_s:>10.2f} {len(docs) / best:>12.0f} {best / len(docs) * 1000:>9.2f} "
              f"{best_eval / len(docs) * 1000:>12.2f} {found:>8}")
        if args.profile and size == max(sizes):
            profiler = cProfile.Profile()
            profiler.enable()
            for a in docs:
                matcher.match(a)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(20)
    if len(sizes) > 1:
        ratio = per_article[max(sizes)] / per_article[min(sizes)]
        print(f"cost per article at {max(sizes)} watchlists = {ratio:.2f}x the cost at {min(sizes)}")


if __name__ == "__main__":
    main()
