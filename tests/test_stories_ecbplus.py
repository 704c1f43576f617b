"""Story grouping on ECB+ (real coverage, sister stories as hard negatives) stays as good as measured.

bench/grouping_quality.py prints the full figures; this guards them with a margin, and checks on the
held-out topics that the particulars (names, figures, years) tell sister stories apart better than
the words alone. Skipped when the shared data is absent.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest
from support import SHARED_DATA

import monitor.stories.group as group
from monitor.articles_io import read_articles
from monitor.stories import ArticleFeatures, StoryIndex, extract, pair_similarity
from monitor.types import Article

REPO = Path(__file__).resolve().parents[1]
ECBPLUS = SHARED_DATA / "events" / "ecbplus"

pytestmark = pytest.mark.skipif(not (ECBPLUS / "articles.jsonl").is_file(), reason=f"no {ECBPLUS}")

# Measured with the defaults (bench/grouping_quality.py); the margin absorbs harmless retuning only.
HELD_OUT_F1 = 0.878
THREE_PER_STORY_F1 = 0.803
MARGIN = 0.03


@pytest.fixture(scope="module")
def labelled() -> list[tuple[Article, str, int]]:
    path = ECBPLUS / "articles.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(a, r["story_id"], r["topic_id"]) for a, r in zip(read_articles(path), rows, strict=True)]


def _pairs(counts: Counter[object]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def _f1(items: list[tuple[Article, str, int]], features: dict[str, ArticleFeatures]) -> float:
    index = StoryIndex()
    predicted = {a.id: index.add(a, features=features[a.id or ""]).story_id for a, _, _ in items}
    gold = {a.id: story for a, story, _ in items}
    both = _pairs(Counter((gold[k], predicted[k]) for k in gold))
    said, true = _pairs(Counter(predicted.values())), _pairs(Counter(gold.values()))
    precision, recall = both / said, both / true
    return 2 * precision * recall / (precision + recall)


@pytest.fixture(scope="module")
def features(labelled: list[tuple[Article, str, int]]) -> dict[str, ArticleFeatures]:
    return {a.id or "": extract(a) for a, _, _ in labelled}


def test_held_out_topics_pairwise_f1(labelled: list[tuple[Article, str, int]],
                                     features: dict[str, ArticleFeatures]) -> None:
    held_out = [x for x in labelled if x[2] % 2 == 1]
    random.Random(0).shuffle(held_out)
    assert _f1(held_out, features) >= HELD_OUT_F1 - MARGIN


def test_three_articles_per_story_pairwise_f1(labelled: list[tuple[Article, str, int]],
                                              features: dict[str, ArticleFeatures]) -> None:
    scores = []
    for seed in (1000, 1001, 1002):
        rng = random.Random(seed)
        by_story: dict[str, list[tuple[Article, str, int]]] = {}
        for x in labelled:
            by_story.setdefault(x[1], []).append(x)
        sample = [x for story in sorted(by_story) for x in rng.sample(by_story[story], 3)]
        rng.shuffle(sample)
        scores.append(_f1(sample, features))
    assert sum(scores) / len(scores) >= THREE_PER_STORY_F1 - MARGIN


def _auc(positives: list[float], negatives: list[float]) -> float:
    """The chance that a random positive scores above a random negative (ties count half)."""
    ranked = sorted([(v, 1) for v in positives] + [(v, 0) for v in negatives])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        rank_sum += (i + j + 1) / 2 * sum(label for _, label in ranked[i:j])
        i = j
    n = len(positives)
    return (rank_sum - n * (n + 1) / 2) / (n * len(negatives))


def test_particulars_separate_sister_stories_on_held_out_topics(
        labelled: list[tuple[Article, str, int]], features: dict[str, ArticleFeatures]) -> None:
    """Pairs of one topic: same story (positive) or its sister (negative), scored two ways."""
    cosine: tuple[list[float], list[float]] = ([], [])
    corrected: tuple[list[float], list[float]] = ([], [])
    topics: dict[int, list[tuple[Article, str]]] = {}
    for article, story, topic in labelled:
        if topic % 2 == 1:
            topics.setdefault(topic, []).append((article, story))
    for members in topics.values():
        for (a, story_a), (b, story_b) in itertools.combinations(members, 2):
            fa, fb = features[a.id or ""], features[b.id or ""]
            va, vb = fa.vector(), fb.vector()
            side = 0 if story_a == story_b else 1
            cosine[side].append(sum(w * vb[t] for t, w in va.items() if t in vb))
            corrected[side].append(pair_similarity(fa, fb))
    assert len(cosine[1]) > 1000
    # Measured: 0.919 by the cosine, 0.930 with the particulars.
    assert _auc(*corrected) >= _auc(*cosine) + 0.005


def test_dismissing_stories_by_their_upper_bound_changes_no_decision(
        labelled: list[tuple[Article, str, int]], features: dict[str, ArticleFeatures],
        monkeypatch: pytest.MonkeyPatch) -> None:
    items = [a for a, _, topic in labelled if topic % 2 == 1]
    random.Random(3).shuffle(items)

    def decide() -> list[tuple[str, float, str]]:
        index = StoryIndex()
        return [(d.story_id, d.similarity, d.reason)
                for d in (index.add(a, features=features[a.id or ""]) for a in items)]

    pruned = decide()
    monkeypatch.setattr(group, "_upper_bound", lambda story, scored: math.inf)
    assert decide() == pruned
