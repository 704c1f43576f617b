"""Many watchlists at once: pruning by the automaton's hits never changes a verdict (untimed; the
figures come from bench/matching_speed.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from monitor.articles_io import read_articles
from monitor.matching import Matcher

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from matching_speed import generate  # noqa: E402


def test_pruned_matching_equals_evaluating_every_watchlist() -> None:
    watchlists = generate(300)
    assert len({w.name for w in watchlists}) == 300
    matcher = Matcher(watchlists)
    articles = read_articles(REPO / "tests" / "data" / "matching" / "eu_leaders.jsonl")[::3]
    evaluated = 0
    total_matches = 0
    started = time.perf_counter()
    for article in articles:
        matched = {m.watchlist for m in matcher.match(article)}
        verdicts = matcher.evaluate(article)
        assert matched == {v.watchlist for v in verdicts if v.matched}
        state, candidates = matcher._prepare(article)
        every = {w.name for w in watchlists if (v := matcher._verdict(w, state)) is not None and v.matched}
        assert matched == every, article.id
        evaluated += len(candidates)
        total_matches += len(matched)
    elapsed = time.perf_counter() - started
    assert total_matches > 0
    assert evaluated < len(articles) * len(watchlists) / 4, "most watchlists must be skipped for most articles"
    print(f"{len(articles)} articles x 300 watchlists: {elapsed:.2f} s (including the brute-force check)")
