"""similar_to_seeds by words, phrases and names, graded or not: what story watchlists are made of."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.matching import Matcher, Verdict, Watchlist, watchlist_from_text
from monitor.matching.similarity import ArticleVectors, build_seed_model, zipf
from monitor.matching.text import analyse
from monitor.types import Article

SEED_TEXT = """Tara Reid checks into rehab at Promises Treatment Center

Actress Tara Reid, 33, has entered the Promises Treatment Center in Malibu, her representative Jack Ketsoyan
confirmed on Friday. The American Pie star did not say what she was being treated for.
"""
SAME_STORY = Article(url="https://a.example/1", title="Tara Reid enters Promises Treatment Center",
                     text="A representative, Jack Ketsoyan, confirmed that Tara Reid, 33, is at the Promises "
                          "Treatment Center in Malibu.", lang="en")
SAME_KIND = Article(url="https://a.example/2", title="Lindsay Lohan checks into rehab at Betty Ford Center",
                    text="Actress Lindsay Lohan has entered the Betty Ford Center in Rancho Mirage, her lawyer "
                         "Shawn Holley confirmed on Friday. The star did not say what she was being treated for.",
                    lang="en")
SAME_WORDS = Article(url="https://a.example/3", title="Treatment promises",
                     text="Reid treatment centre: Tara, Promises? Center rehab. Malibu. Checks into actress.",
                     lang="en")


def _seeded(tmp_path: Path, match: str, min_score: float = 0.5) -> Watchlist:
    (tmp_path / "seeds").mkdir(exist_ok=True)
    (tmp_path / "seeds" / "reid.txt").write_text(SEED_TEXT, encoding="utf-8")
    (tmp_path / "watchlists").mkdir(exist_ok=True)
    path = tmp_path / "watchlists" / "w.yaml"
    body = f"name: story\nseeds: [seeds/reid.txt]\nmin_score: {min_score}\nmatch:\n{match}"
    return watchlist_from_text(body, path=path, project_dir=tmp_path)


def _judge(watchlist: Watchlist, article: Article) -> Verdict:
    return Matcher([watchlist]).evaluate(article)[0]


def _cosines(article: Article) -> dict[str, float]:
    model = build_seed_model([SEED_TEXT], "en")
    vectors = ArticleVectors(analyse(article))
    return {m: vectors.cosine(model, m) for m in ("words", "phrases", "names")}


def test_phrases_and_names_tell_the_story_from_its_kind() -> None:
    same, kind = _cosines(SAME_STORY), _cosines(SAME_KIND)
    ratio = {m: kind[m] / same[m] for m in same}
    assert ratio["phrases"] < 0.2 and ratio["names"] < 0.2
    # Single words tell them apart much less: another rehab check-in reads like this one word by word.
    assert ratio["words"] > 2 * max(ratio["phrases"], ratio["names"])


def test_phrases_need_the_words_side_by_side() -> None:
    scrambled = _cosines(SAME_WORDS)
    assert scrambled["words"] > 0.3
    assert scrambled["phrases"] < 0.5 * _cosines(SAME_STORY)["phrases"]


def test_names_are_capitalised_words_never_written_in_lower_case_and_numbers() -> None:
    model = build_seed_model(["The page was read.\nThey met Bettie Page, 85, at Page Hall on Friday."], "en")
    assert "page" not in model.names, "written in lower case once: a common word"
    assert {"bettie", "hall", "#85"} <= set(model.names)
    assert "they" not in model.names, "a capital that starts a sentence says nothing"


def test_graded_similarity_counts_its_value_and_explains_what_is_shared(tmp_path: Path) -> None:
    watchlist = _seeded(tmp_path, "  sum:\n"
                                  "    - {similar_to_seeds: {by: phrases, threshold: 0.02, graded: true}, weight: 4}\n"
                                  "    - {similar_to_seeds: {by: names, threshold: 0.05, graded: true}, weight: 1}\n")
    same = _judge(watchlist, SAME_STORY)
    cosines = _cosines(SAME_STORY)
    assert same.matched
    assert same.score == pytest.approx(min(1.0, 4 * cosines["phrases"] + cosines["names"]), abs=0.01)
    phrases_note = next(w for w in same.why if w.startswith("phrases like the seeds'"))
    assert "tara reid" in phrases_note or "treatment center" in phrases_note
    assert not _judge(watchlist, SAME_KIND).matched


def test_ungraded_similarity_is_one_from_the_threshold_up(tmp_path: Path) -> None:
    threshold = _cosines(SAME_STORY)["names"] - 0.01
    watchlist = _seeded(tmp_path, f"  similar_to_seeds: {{by: names, threshold: {threshold:.3f}}}\n", min_score=1.0)
    verdict = _judge(watchlist, SAME_STORY)
    assert verdict.matched and verdict.score == 1.0
    assert not _judge(watchlist, SAME_KIND).matched


@pytest.mark.parametrize(("value", "message"), [
    ("{by: letters, threshold: 0.1}", "compare by one of: words, phrases, names"),
    ("{graded: maybe, threshold: 0.1}", "true (the similarity itself counts)"),
    ("{threshold: 0.1, weight: 2, size: 3}", "similar_to_seeds takes threshold, weight, by, graded"),
])
def test_similarity_options_are_checked(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _seeded(tmp_path, f"  similar_to_seeds: {value}\n")
    assert any(message in p.message for p in caught.value.problems)


def test_zipf_reads_chinese_japanese_and_korean_without_a_tokeniser() -> None:
    # wordfreq.zipf_frequency would import jieba or MeCab, which are not installed.
    assert zipf("地震", "zh") > 3 and zipf("地震", "ja") > 3 and zipf("지진", "ko") > 3
    assert zipf("qzxv", "en") == 0.0
