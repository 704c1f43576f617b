"""What the quality benchmarks share: where ECB+ lies, and precision/recall/F1 figures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from support import SHARED_DATA


def default_data() -> Path:
    """The ECB+ folder of the shared development data ($MONITOR_SHARED_DATA, else ../shared/data)."""
    return SHARED_DATA / "events" / "ecbplus"


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float

    def __str__(self) -> str:
        return f"P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}"


def mean(scores: Iterable[Scores]) -> Scores:
    """The macro average: each item (a story, a run) counts once."""
    items = list(scores)
    n = len(items) or 1
    return Scores(sum(s.precision for s in items) / n, sum(s.recall for s in items) / n,
                  sum(s.f1 for s in items) / n)
