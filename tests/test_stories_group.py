"""Grouping into stories: across languages, within the window, deterministically, and rebuildable."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.articles_io import read_articles
from monitor.stories import (
    ArticleFeatures,
    StoryIndex,
    article_key,
    assign_articles,
    extract,
    group_articles,
    pair_similarity,
)
from monitor.types import Article

DATA = Path(__file__).parent / "data" / "stories"
T0 = datetime(2024, 7, 5, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
def articles() -> dict[str, Article]:
    return {a.id or "": a for a in read_articles(DATA / "articles.jsonl")}


def expected() -> dict[str, str]:
    rows = map(json.loads, (DATA / "expected.jsonl").read_text(encoding="utf-8").splitlines())
    return {row["id"]: row["story"] for row in rows}


def test_sample_groups_as_expected(articles: dict[str, Article]) -> None:
    assert group_articles(list(articles.values())) == expected()


def test_names_link_reports_across_languages(articles: dict[str, Article]) -> None:
    english, german = articles["a1"], articles["a3"]
    assert german.lang == "de"
    index = StoryIndex()
    index.add(english)
    joined = index.add(german)
    assert (joined.story_id, joined.is_new) == ("a1", False)
    assert "szijjarto" in joined.reason and "orban" in joined.reason
    assert "orban" in extract(german).names


def test_second_earthquake_in_the_same_days_is_a_new_story(articles: dict[str, Article]) -> None:
    index = StoryIndex(window=timedelta(days=7))
    index.add(articles["b1"])
    index.add(articles["b2"])
    japan = index.add(articles["c1"])
    assert japan.is_new and japan.story_id == "c1"
    assert japan.reason.startswith("new story")


def test_window_splits_an_old_story_from_a_new_one(articles: dict[str, Article]) -> None:
    follow_up = articles["d1"]
    index = StoryIndex(window=timedelta(hours=48))
    index.add(articles["a1"])
    assert len(index) == 1
    later = index.add(follow_up)
    assert later.is_new and later.story_id == "d1"
    assert "a1" not in index and len(index) == 1  # the old story left memory

    # The same follow-up within a wider window joins the story it follows.
    wide = StoryIndex(window=timedelta(days=7))
    wide.add(articles["a1"])
    assert wide.add(follow_up).story_id == "a1"


def test_same_text_outside_the_window_starts_again(articles: dict[str, Article]) -> None:
    original = articles["b1"]
    index = StoryIndex(window=timedelta(hours=48))
    index.add(original)
    within = Article(url="u-w", id="within", title=original.title, text=original.text,
                     published=original.published + timedelta(hours=47) if original.published else None)
    after = Article(url="u-a", id="after", title=original.title, text=original.text,
                    published=original.published + timedelta(hours=49) if original.published else None)
    assert index.add(within).story_id == "b1"
    assert index.add(after).story_id == "after"


def test_grouping_is_deterministic_and_independent_of_input_order(articles: dict[str, Article]) -> None:
    listed = list(articles.values())
    first = group_articles(listed)
    shuffled = listed[:]
    random.Random(7).shuffle(shuffled)
    assert group_articles(shuffled) == first
    assert group_articles(listed) == first
    assert [extract(a) for a in listed] == [extract(a) for a in listed]


def test_undated_articles_take_the_time_of_the_article_before_them(articles: dict[str, Article]) -> None:
    a1, d1 = articles["a1"], articles["d1"]
    undated = Article(url="u-x", id="x", title=d1.title, text=d1.text)
    # After a1 in the input, the undated follow-up counts as a1's time: same story.
    assert group_articles([a1, undated])["x"] == "a1"
    # After a dated article five days on, it counts as that late and starts its own story.
    late = Article(url="u-l", id="late", title=articles["e1"].title, text=articles["e1"].text,
                   published=T0 + timedelta(days=5))
    assert group_articles([a1, late, undated])["x"] == "x"


def test_articles_without_time_or_id() -> None:
    one = Article(url="https://a.example/1", title="Volcano erupts on Iceland's Reykjanes peninsula near Grindavik",
                  text="Lava fountains rose from a fissure near Grindavik on the Reykjanes peninsula.")
    two = Article(url="https://b.example/2", title="Reykjanes eruption: Grindavik evacuated as lava flows",
                  text="Iceland's Met Office said the fissure near Grindavik opened on Reykjanes overnight.")
    result = group_articles([one, two])
    assert set(result) == {article_key(one), article_key(two)}
    assert article_key(one).startswith("u") and result[article_key(two)] == article_key(one)


def test_adding_the_same_article_twice_keeps_its_story(articles: dict[str, Article]) -> None:
    index = StoryIndex()
    assert index.add(articles["b1"]).is_new
    again = index.add(articles["b1"])
    assert (again.story_id, again.is_new, again.reason) == ("b1", False, "already grouped")


def test_features_round_trip_through_json(articles: dict[str, Article]) -> None:
    for article in articles.values():
        features = extract(article)
        stored = json.loads(json.dumps(features.to_json()))
        assert ArticleFeatures.from_json(stored) == features
    with pytest.raises(ValueError):
        ArticleFeatures.from_json({"v": -1})
    with pytest.raises(ValueError):
        ArticleFeatures.from_json({**extract(articles["a1"]).to_json(), "terms": 5})


def test_index_rebuilt_from_stored_features_decides_like_the_original(articles: dict[str, Article]) -> None:
    ordered = sorted(articles.values(), key=lambda a: (a.published or T0, a.id or ""))
    head, tail = ordered[:4], ordered[4:]
    original = StoryIndex()
    stored = []
    for article in head:
        assignment = original.add(article)
        stored.append((article_key(article), assignment.story_id, json.dumps(extract(article).to_json()),
                       article.published))
    rebuilt = StoryIndex()
    for key, story, features, at in stored:
        rebuilt.restore(key, story, ArticleFeatures.from_json(json.loads(features)), at=at)
    assert len(rebuilt) == len(original)
    assert rebuilt.members_of("a1") == original.members_of("a1") == ("a1", "a2", "a3")
    for article in tail:
        assert rebuilt.add(article) == original.add(article)


def test_restore_skips_stories_already_out_of_the_window(articles: dict[str, Article]) -> None:
    index = StoryIndex(window=timedelta(hours=48))
    index.add(articles["d1"])
    index.restore("a1", "a1", extract(articles["a1"]), at=articles["a1"].published)
    assert "a1" not in index and index.story_of("d1") == "d1"


def test_assignments_explain_themselves(articles: dict[str, Article]) -> None:
    assigned = assign_articles(list(articles.values()))
    assert assigned["a1"].is_new and assigned["a1"].story_id == "a1"
    assert assigned["b2"].reason.startswith("same event as b1") and "senapred" in assigned["b2"].reason
    assert 0.25 <= assigned["b2"].similarity <= 1.0
    assert assigned["e1"].is_new


# Three reports of island earthquakes, written after ECB+ topic 20: two of one quake (same magnitude,
# town, governor, weekday and year, in other words) and one of another quake on the same island.
QUAKE = Article(url="u1", title="Magnitude 5.6 earthquake hits Iran's Qeshm island, five hurt",
                text="A magnitude 5.6 earthquake struck near the town of Dargahan on Qeshm island on Sunday, "
                     "injuring five people and damaging buildings, Iranian media said. Governor Mehdi Irannejad "
                     "said rescue teams reached the villages of Zinbi and Kavoei. The tremor in 2008 was followed "
                     "by aftershocks.")
SAME_QUAKE = Article(url="u2", title="Quake of magnitude 5.6 jolts Qeshm island in the Gulf",
                     text="An earthquake of magnitude 5.6 shook Qeshm island off Iran's southern coast on Sunday. "
                          "Five people were hurt around Dargahan, said Mehdi Irannejad, the local governor, in "
                          "2008. Several houses in Zinbi were damaged and aftershocks followed.")
OTHER_QUAKE = Article(url="u3", title="Magnitude 6.0 earthquake kills ten on Iran's Qeshm island",
                      text="A magnitude 6.0 earthquake struck the village of Ziranag on Qeshm island on Monday, "
                           "killing ten people and flattening houses, Iranian media said. Governor Heidar "
                           "Alishvandi said rescue teams reached the villages. The tremor in 2005 was followed "
                           "by aftershocks.")


def _cosine(a: ArticleFeatures, b: ArticleFeatures) -> float:
    va, vb = a.vector(), b.vector()
    return sum(w * vb[t] for t, w in va.items() if t in vb)


def test_features_keep_the_particulars() -> None:
    features = extract(QUAKE)
    assert {"magnitude<56", "earthquake>56"} <= features.figures  # "magnitude 5.6 earthquake"
    assert "@weekday<6" in features.figures  # Sunday
    assert features.years == frozenset({2008})
    assert {"dargahan", "irannejad", "qeshm", "zinbi"} <= features.mentions
    assert not {"the", "a", "sunday"} & features.mentions  # common words and weekdays prove nothing
    german = extract(Article(url="u", title="Erdbeben", text="Am Freitag bebte die Erde mit Stärke 5,6.",
                             lang="de"))
    assert {"@weekday<4", "starke<56"} <= german.figures


def test_particulars_lift_the_same_event_and_sink_a_sister_story() -> None:
    quake, same, other = extract(QUAKE), extract(SAME_QUAKE), extract(OTHER_QUAKE)
    # Same magnitude, weekday and year, names found in each other: more alike than the words say.
    assert pair_similarity(quake, same) > _cosine(quake, same)
    # Another magnitude, weekday and year, the town and governor missing: less alike, and now below
    # the threshold although the words (magnitude, earthquake, Qeshm, villages) are shared.
    assert pair_similarity(quake, other) < _cosine(quake, other) - 0.1
    index = StoryIndex()
    index.add(QUAKE)
    assert index.add(SAME_QUAKE).story_id == article_key(QUAKE)
    assert index.add(OTHER_QUAKE).is_new


def test_absent_names_count_within_one_language_only() -> None:
    quake, other = extract(QUAKE), extract(OTHER_QUAKE)
    in_german = dataclasses.replace(other, lang="de")
    # Across languages names are spelled otherwise, so a name missing there is no evidence.
    assert pair_similarity(quake, other) < pair_similarity(quake, in_german)


def test_features_stored_before_the_particulars_are_still_read(articles: dict[str, Article]) -> None:
    """An upgrade keeps the open stories whole: version 1 features (no particulars) still restore."""
    current = extract(articles["a1"]).to_json()
    stored = {key: current[key] for key in ("terms", "names", "sketch", "shingles")} | {"v": 1}
    old = ArticleFeatures.from_json(json.loads(json.dumps(stored)))
    assert old.terms == extract(articles["a1"]).terms
    assert (old.mentions, old.figures, old.years, old.lang) == (frozenset(), frozenset(), frozenset(), "")
    index = StoryIndex()
    index.restore("a1", "a1", old, at=articles["a1"].published)
    assert index.add(articles["a3"]).story_id == "a1"  # the German report still joins through the names
