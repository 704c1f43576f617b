"""The drafting assistant's parts: reading seeds (and refusing bad ones), finding names, reading the
watchlist's name, writing YAML that reads back as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from monitor.errors import ConfigError
from monitor.matching.draft import draft_watchlist
from monitor.matching.draft.analyse import analyse_seeds
from monitor.matching.draft.intent import read_name
from monitor.matching.draft.names import find_names, name_terms
from monitor.matching.draft.read import read_seed
from monitor.matching.draft.write import Commented, document, scalar

REPO = Path(__file__).resolve().parents[1]
ORBAN_SEED = REPO / "seeds" / "orban-moscow-2024-07.txt"
QUAKE_SEED = REPO / "tests" / "data" / "draft" / "seeds" / "noto-earthquake-2024-01.txt"


@pytest.mark.parametrize("content", [b"", b"   \n\n  \n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", b"12 34\n\n56"])
def test_a_seed_without_text_is_refused_naming_the_file(content: bytes, tmp_path: Path) -> None:
    seed = tmp_path / "seed.txt"
    seed.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        draft_watchlist([seed], name="Earthquakes", out=tmp_path / "watchlists" / "x.yaml")
    assert [p.file for p in err.value.problems] == [str(seed)]
    assert "seed" in err.value.problems[0].message or "binary" in err.value.problems[0].message


def test_every_bad_seed_is_reported_together(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    missing = tmp_path / "missing.txt"
    with pytest.raises(ConfigError) as err:
        draft_watchlist([empty, ORBAN_SEED, missing], name=None, out=tmp_path / "w" / "x.yaml")
    assert sorted(p.file for p in err.value.problems) == sorted([str(empty), str(missing)])


def test_an_html_seed_is_read_like_a_page(tmp_path: Path) -> None:
    page = tmp_path / "seed.html"
    page.write_text("<html><head><title>Quake hits Japan</title></head><body><article><h1>Quake hits Japan</h1>"
                    + "<p>A magnitude 7.5 earthquake struck the Noto Peninsula in Japan on Monday, officials said."
                    " Buildings collapsed in Wajima and a tsunami warning was issued for the coast.</p>" * 4
                    + "</article></body></html>", encoding="utf-8")
    seed = read_seed(page)
    assert "Noto Peninsula" in seed.text
    assert seed.title


def test_names_group_forms_and_skip_titles_and_sentence_starts() -> None:
    names = find_names("Hungarian Prime Minister Orban arrives in Moscow for talks with Putin",
                       "Viktor Orban met Vladimir Putin in the Kremlin. Mr Orban said the talks were useful. "
                       "Police closed roads. The police said the Kremlin was calm.", "en")
    texts = [n.text for n in names]
    assert "Viktor Orban" in texts
    orban = names[texts.index("Viktor Orban")]
    assert orban.mentions == 3 and orban.in_title
    assert not any("Minister" in t or t == "Police" for t in texts)
    assert name_terms(orban, "en")[0] == "Viktor Orban"


def test_a_common_word_alias_needs_its_capital() -> None:
    names = find_names("", "Pin-up model Bettie Page has died. Page was 85. Friends said Page loved Nashville.", "en")
    page = next(n for n in names if n.text == "Bettie Page")
    assert "=Page" in name_terms(page, "en")


def test_reading_names() -> None:
    analysis = analyse_seeds([read_seed(ORBAN_SEED)])
    eu = read_name("EU leader visits to Moscow", analysis)
    assert not eu.story
    assert [a.key for a in eu.actors] == ["eu_leaders"]
    assert [e.key for e in eu.events] == ["visit"]
    assert [p.builtin.name for p in eu.places if p.builtin] == ["moscow"]
    breach = read_name("Data breaches at companies", analysis)
    assert [e.key for e in breach.events] == ["data_breach"] and [a.key for a in breach.actors] == ["companies"]
    quakes = read_name("Earthquakes in the Balkans", analysis)
    assert [e.key for e in quakes.events] == ["earthquake"] and quakes.places[0].region
    orban = read_name("Orban trips", analysis)
    assert [s.in_seed for s in orban.specifics] == [True] and [e.key for e in orban.events] == ["visit"]
    for slug in ("story-42", "", None, "watch 7"):
        assert read_name(slug, analysis).story


def test_unknown_kind_falls_back_to_the_name_words(tmp_path: Path) -> None:
    out = tmp_path / "watchlists" / "x.yaml"
    text = draft_watchlist([QUAKE_SEED], name="Tsunamis", out=out)
    assert "tsunami*" in text and "no kind of event in the lexicon" in text


@pytest.mark.parametrize("value", ["yes", "no", "null", "3.5", "- dash", "key: value", "#hash", "*star",
                                   "=Mosca", "Moszkv*", "O'Brien", "quote \"inside\"", "Fico's", "[x]", "a, b",
                                   "ü Ölçü", "", " padded ", "true", "0x1F", "@at", "%pct", "`tick`"])
def test_scalars_read_back_as_written(value: str) -> None:
    assert YAML(typ="safe", pure=True).load(f"k: {scalar(value)}\n") == {"k": value}


def test_document_keeps_comments_and_shares_repeated_conditions() -> None:
    shared = {"near": [{"entity": "x"}, {"place": "y"}]}
    body = {"name": "t", "match": {"sum": [Commented({"label": "a", **shared, "weight": 1.0}, ("first rule",)),
                                           Commented({"not": shared}, ("second rule",))]}}
    text = document(["header"], body, {id(shared["near"]): "event"})
    assert text.startswith("# header\n")
    assert "# first rule" in text and "# second rule" in text
    assert "&event" in text and "*event" in text


def test_an_html_seed_dates_the_story_by_its_own_date(tmp_path: Path) -> None:
    from monitor.matching.draft.story import story_years

    page = tmp_path / "page.html"
    page.write_text("<html><head><title>Dairy building burns</title>"
                    '<meta property="article:published_time" content="2012-08-07T09:00:00Z"></head><body><article>'
                    "<h1>Dairy building burns</h1><p>The historic Matanuska Maid building in Palmer burned down "
                    "overnight, fire chief Dan Contini said. It had stood empty since 2008 and was not insured, "
                    "the owners said on Tuesday.</p></article></body></html>", encoding="utf-8")
    seed = read_seed(page)
    assert seed.published is not None and seed.published.year == 2012
    assert story_years(analyse_seeds([seed])) == [2012]


@pytest.mark.parametrize(("lang", "text"), [
    ("zh", "日本能登半岛发生7.6级地震\n\n2024年1月1日，日本石川县能登半岛发生7.6级强烈地震，造成多人死亡。日本气象厅发布了海啸警报。"),
    ("ja", "能登半島で震度7の地震\n\n2024年1月1日午後4時10分ごろ、石川県能登地方を震源とする地震があり、志賀町で震度7を観測しました。"),
    ("ko", "일본 노토반도에서 규모 7.6 지진\n\n2024년 1월 1일 일본 이시카와현 노토반도에서 규모 7.6의 강진이 발생해 여러 명이 숨졌다."),
])
@pytest.mark.parametrize("name", ["story-1", "Earthquakes in Japan"])
def test_chinese_japanese_and_korean_seeds_draft_without_jieba_or_mecab(lang: str, text: str, name: str,
                                                                         tmp_path: Path) -> None:
    seed = tmp_path / "seeds" / f"{lang}.txt"
    seed.parent.mkdir()
    seed.write_text(text, encoding="utf-8")
    drafted = draft_watchlist([seed], name=name, out=tmp_path / "watchlists" / "x.yaml")
    assert "match:" in drafted  # and draft_watchlist checked that the draft matches its own seed
