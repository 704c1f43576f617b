"""The shipped watchlist 'EU leader visits to Moscow' over labelled reports in 24 languages.

tests/data/matching/eu_leaders.jsonl: 155 short reports written after real events (positives: Orbán
2022 and 2024, Fico 2024 and 2025, Nehammer, Macron, Merkel, Tsipras, Kaljulaid, Anastasiades,
reports naming the leader only by title; hard negatives: Modi, Xi, Vučić, Witkoff, Erdoğan,
Lukashenko in Moscow, Orbán in Kyiv, Beijing and Washington, phone calls, criticism, drones, courts,
the Moscow Mule, Moscow, Idaho, Szijjártó alone). eu_leaders_holdout.jsonl: 41 more, written after
the watchlist, to see how it does on reports it was not built from.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.articles_io import read_articles, read_labels
from monitor.evaluate import evaluate, score
from monitor.matching import Matcher, Watchlist, load_watchlist
from monitor.types import Article

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "matching"
SHARED = Path(os.environ.get("MONITOR_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="module")
def shipped() -> Watchlist:
    return load_watchlist(REPO / "watchlists" / "eu-leader-moscow-visits.yaml", project_dir=REPO)


def scores_on(watchlist: Watchlist, name: str) -> tuple[float, float, float, list[str]]:
    path = DATA / name
    articles = read_articles(path)
    labels = {str(json.loads(line)["id"]): bool(json.loads(line)["relevant"]) for line in path.open()}
    (result,) = score(list(evaluate([watchlist], articles)), labels)
    return result.precision, result.recall, result.f1, [*result.misses, *result.false_alarms]


def test_labelled_set_is_well_formed() -> None:
    rows = [json.loads(line) for line in (DATA / "eu_leaders.jsonl").open()]
    assert len(rows) >= 120 and len({r["id"] for r in rows}) == len(rows)
    assert {"id", "title", "text", "lang", "published", "relevant", "note"} <= set(rows[0])
    assert len({r["lang"] for r in rows}) >= 20
    assert 0.3 < sum(r["relevant"] for r in rows) / len(rows) < 0.7
    labels = read_labels(DATA / "eu_leaders.labels.jsonl")
    assert labels == {r["id"]: r["relevant"] for r in rows}, "the labels file must agree with the data"


def test_shipped_watchlist_on_the_labelled_set(shipped: Watchlist) -> None:
    precision, recall, f1, wrong = scores_on(shipped, "eu_leaders.jsonl")
    assert precision >= 0.9 and f1 >= 0.9, (precision, recall, f1, wrong)


def test_shipped_watchlist_on_the_holdout_set(shipped: Watchlist) -> None:
    precision, recall, f1, wrong = scores_on(shipped, "eu_leaders_holdout.jsonl")
    assert precision >= 0.9 and f1 >= 0.9, (precision, recall, f1, wrong)


def test_the_seed_matches_and_says_why(shipped: Watchlist) -> None:
    lines = (REPO / "seeds" / "orban-moscow-2024-07.txt").read_text().split("\n", 1)
    article = Article(url="https://example.org/seed", title=lines[0], text=lines[1], lang="en",
                      published=datetime(2024, 7, 5, 8, tzinfo=UTC))
    (verdict,) = Matcher([shipped]).evaluate(article)
    assert verdict.matched and verdict.score == 1.0
    assert 'EU leader: Viktor Orbán (PM of Hungary) — "Viktor Orban"' in verdict.why
    assert 'place: Moscow — "Moscow"' in verdict.why
    assert any(w.startswith("similar to seeds: 0.9") for w in verdict.why)
    undated = Matcher([shipped]).evaluate(dataclasses.replace(article, published=None))[0]
    assert 'EU leader: Viktor Orbán (PM of Hungary 2010–; article undated) — "Viktor Orban"' in undated.why
    assert verdict.snippet.startswith("Hungarian Prime Minister Viktor Orban has arrived in Moscow")
    assert dict(verdict.parts)["the visit"] == 1.0


def test_reports_in_other_languages_say_why_in_their_words(shipped: Watchlist) -> None:
    articles = {a.id: a for a in read_articles(DATA / "eu_leaders.jsonl")}
    matcher = Matcher([shipped])
    (hu,) = matcher.evaluate(articles["orban24-hu-1"])
    assert 'place: Moscow — "Moszkvába"' in hu.why and 'action: visit (arrival) — "érkezett"' in hu.why
    (pl,) = matcher.evaluate(articles["title-pl-1"])
    assert 'EU leader: head of government of Slovakia (by title) — "Premier Słowacji"' in pl.why


def test_background_mentions_do_not_match(shipped: Watchlist) -> None:
    matcher = Matcher([shipped])
    beijing = Article(url="u", lang="en", title="Orban arrives in Beijing", published=None,
                      text="Orban, who visited Moscow in July, today went to Beijing. He met Xi Jinping.")
    later = Article(url="u", lang="en", title="Hungary's budget debate",
                    text="Parliament debated the budget. Taxes will rise. Spending falls. Much later in the "
                         "report: Orban visited Moscow in July for talks with Putin.")
    no_plans = Article(url="u", lang="en", title="Merz says he has no plans to visit Moscow",
                       text="Chancellor Friedrich Merz said on Monday he would not travel to Moscow.",
                       published=datetime(2025, 6, 2, tzinfo=UTC))
    former = Article(url="u", lang="de", title="Altkanzler Schröder in Moskau eingetroffen",
                     text="Der frühere Bundeskanzler Gerhard Schröder ist in Moskau eingetroffen.",
                     published=datetime(2022, 7, 27, tzinfo=UTC))
    for article in (beijing, later, no_plans, former):
        (verdict,) = matcher.evaluate(article)
        assert not verdict.matched, verdict.why


def test_short_headlines_and_lead_only_reports_match(shipped: Watchlist) -> None:
    matcher = Matcher([shipped])
    day = datetime(2024, 12, 22, tzinfo=UTC)
    short = Article(url="u", lang="de", title="Fico in Moskau", text="Mehr in Kürze.", published=day)
    lead_only = Article(url="u", lang="en", title="Gas talks anger Kyiv", published=day,
                        text="Slovak Prime Minister Robert Fico arrived in Moscow on Sunday. He met Putin.")
    for article in (short, lead_only):
        (verdict,) = matcher.evaluate(article)
        assert verdict.matched, verdict.why


def test_ecbplus_has_no_eu_leader_in_moscow(shipped: Watchlist) -> None:
    path = SHARED / "events" / "ecbplus" / "articles.jsonl"
    if not path.is_file():
        pytest.skip(f"shared data not found at {path}")
    matcher = Matcher([shipped])
    matched = [a.id for a in read_articles(path) if matcher.match(a)]
    assert matched == []
