"""Running watchlists over articles without fetching anything, and scoring them against labels."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from monitor.matching import Matcher, Verdict, Watchlist
from monitor.types import Article


@dataclass(frozen=True, slots=True)
class Row:
    article: Article
    verdict: Verdict


def evaluate(watchlists: Sequence[Watchlist], articles: Sequence[Article]) -> Iterator[Row]:
    """One row per article and watchlist, in input order."""
    matcher = Matcher(watchlists)
    for article in articles:
        for verdict in matcher.evaluate(article):
            yield Row(article, verdict)


@dataclass(frozen=True, slots=True)
class Scores:
    watchlist: str
    precision: float
    recall: float
    f1: float
    true_positives: int
    misses: tuple[str, ...]
    false_alarms: tuple[str, ...]


def score(rows: Sequence[Row], labels: Mapping[str, bool]) -> list[Scores]:
    """Precision, recall and F1 per watchlist over the labelled articles (others are ignored)."""
    out = []
    for name in dict.fromkeys(r.verdict.watchlist for r in rows):
        predicted = {str(r.article.id): r.verdict.matched for r in rows if r.verdict.watchlist == name}
        tp = sum(1 for k, rel in labels.items() if rel and predicted.get(k))
        misses = tuple(k for k, rel in labels.items() if rel and k in predicted and not predicted[k])
        false_alarms = tuple(k for k, rel in labels.items() if not rel and predicted.get(k))
        precision = tp / (tp + len(false_alarms)) if tp + len(false_alarms) else 0.0
        recall = tp / (tp + len(misses)) if tp + len(misses) else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append(Scores(name, precision, recall, f1, tp, misses, false_alarms))
    return out
