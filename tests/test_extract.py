"""extract_page and extract_text_file: real pages, teasers, fallbacks, charsets, process pools."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
import trafilatura
import wordfreq

from monitor.extract import extract_page, extract_text_file
from monitor.extract.lang import _profiles, declared_language, guess_language
from monitor.extract.page import _DATE_PARAMS, _metadata
from monitor.extract.teaser import paywall_phrase
from monitor.parse import decode_html
from monitor.types import ExtractedPage, ExtractionStatus

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MONITOR_SHARED_DATA", ROOT.parent / "shared" / "data"))
EXTRACTION = SHARED / "extraction"

PARAGRAPHS = [
    "The city council voted on Tuesday to approve the new budget for public transport, ending months "
    "of debate over fares, routes and the future of the night bus network across the region.",
    "Councillors from both parties said the compromise would keep fares flat for two years while "
    "adding twelve new routes to districts that have been poorly served since the depot closed.",
    "Opponents warned that the plan relied on optimistic forecasts of passenger numbers and that a "
    "shortfall would have to be covered from reserves that are already lower than planned.",
    "The mayor said the vote showed that the council could still agree on the services people use "
    "every day, and promised a public review of the network in the spring of next year.",
]


def article_html(paragraphs: list[str], *, head: str = "", before: str = "", after: str = "",
                 charset: str = "utf-8", lang: str = "en") -> str:
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="{charset}"><title>Council approves transport budget</title>
<meta property="og:title" content="Council approves transport budget">
<meta name="author" content="Ann Writer">
<meta property="article:published_time" content="2024-10-01T09:30:00+02:00">{head}</head>
<body><header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<main><article><h1>Council approves transport budget</h1>{before}
{body}{after}</article></main>
<footer><p>© 2024 The Example Gazette. All rights reserved.</p></footer></body></html>"""


def test_full_article_with_metadata() -> None:
    page = extract_page(article_html(PARAGRAPHS).encode(), url="https://gazette.example.com/news/budget")
    assert page.status is ExtractionStatus.FULL
    assert page.title == "Council approves transport budget"
    assert page.author == "Ann Writer"
    assert page.lang == "en"
    assert page.published is not None and page.published.isoformat() == "2024-10-01T07:30:00+00:00"
    assert "night bus network" in page.text and "spring of next year" in page.text
    assert "All rights reserved" not in page.text
    assert page.text.count("\n") == 3  # one line per paragraph


def test_paywall_sentence_makes_a_teaser() -> None:
    html = article_html(PARAGRAPHS[:1], after="<p>Subscribe to continue reading this article.</p>")
    page = extract_page(html.encode(), url="https://gazette.example.com/news/budget")
    assert page.status is ExtractionStatus.TEASER
    assert "night bus network" in page.text


@pytest.mark.parametrize(
    "sentence",
    ["Dieser Artikel ist nur für Abonnenten verfügbar.", "Cet article est réservé aux abonnés.",
     "Contenido exclusivo para suscriptores.", "Questo articolo è riservato agli abbonati.",
     "Этот материал доступен только для подписчиков."],
)
def test_paywall_sentences_in_other_languages(sentence: str) -> None:
    html = article_html(PARAGRAPHS[:2], after=f"<p>{sentence}</p>")
    assert extract_page(html.encode(), url="https://example.com/a").status is ExtractionStatus.TEASER


def test_not_free_markup_with_short_text_is_a_teaser() -> None:
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": false}</script>'
    page = extract_page(article_html(PARAGRAPHS[:2], head=ld).encode(), url="https://example.com/a")
    assert page.status is ExtractionStatus.TEASER
    # the same markup on a long text: the publisher served the article anyway
    page = extract_page(article_html(PARAGRAPHS * 4, head=ld).encode(), url="https://example.com/a")
    assert page.status is ExtractionStatus.FULL


def test_login_header_on_a_long_article_is_still_full() -> None:
    html = article_html(PARAGRAPHS * 3, before="<div class='promo'>Already a subscriber? Log in</div>")
    page = extract_page(html.encode(), url="https://example.com/a")
    assert page.status is ExtractionStatus.FULL


def test_text_shorter_than_feed_summary_is_a_teaser() -> None:
    summary = " ".join(PARAGRAPHS * 2)
    page = extract_page(article_html(PARAGRAPHS).encode(), url="https://example.com/a", feed_summary=summary)
    assert page.status is ExtractionStatus.TEASER
    assert "night bus network" in page.text  # the page's own text; the pipeline picks the longer


def test_no_article_falls_back_to_summary_or_fails() -> None:
    empty = b"<html><head><title>Just a moment...</title></head><body><div id='x'></div></body></html>"
    summary = "<p>The council <b>approved</b> it.</p>"
    page = extract_page(empty, url="https://x.example/a", feed_summary=summary, feed_title="Council approves")
    assert page.status is ExtractionStatus.SUMMARY
    assert page.text == "The council approved it."
    assert page.title is not None
    page = extract_page(empty, url="https://x.example/a", feed_title="Council approves")
    assert page.status is ExtractionStatus.FAILED
    assert page.text == ""


@pytest.mark.parametrize(
    "junk",
    [b"", b"\x00\xff\xfe\x00" * 500, b"<html><<<<>>>></html>", b"<" * 10000, b"<div>" * 5000,
     b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "<p>\ud800</p>".encode("utf-8", "surrogatepass"),
     b"<?xml version='1.0'?><rss><channel></channel></rss>", b"<html><body><p>x</p></body>"],
)
def test_bad_html_never_raises(junk: bytes) -> None:
    page = extract_page(junk, url="https://example.com/junk", feed_summary="A summary of the story.")
    assert page.status in (ExtractionStatus.SUMMARY, ExtractionStatus.FAILED, ExtractionStatus.TEASER)


def test_charset_from_meta() -> None:
    russian = ["Городской совет во вторник утвердил новый бюджет общественного транспорта после "
               "нескольких месяцев споров о тарифах, маршрутах и ночных автобусах в регионе."] * 4
    raw = article_html(russian, charset="windows-1251", lang="ru").encode("cp1251")
    page = extract_page(raw, url="https://example.ru/a")
    assert "Городской совет" in page.text
    assert page.lang == "ru"


def test_charset_declared_by_server_and_mislabelled_utf8() -> None:
    french = ["Le conseil municipal a approuvé mardi le nouveau budget des transports publics, après des "
              "mois de débats sur les tarifs, les lignes et l'avenir des bus de nuit de la région."] * 4
    latin1 = article_html(french, charset="", lang="fr").replace('<meta charset="">', "").encode("latin-1")
    assert "approuvé" in extract_page(latin1, url="https://example.fr/a", encoding="iso-8859-1").text
    utf8 = article_html(french, charset="", lang="fr").replace('<meta charset="">', "").encode("utf-8")
    # A server default of ISO-8859-1 on a UTF-8 page: the valid UTF-8 wins.
    assert "approuvé" in extract_page(utf8, url="https://example.fr/a", encoding="iso-8859-1").text


def test_decode_html_order() -> None:
    assert decode_html(b"\xef\xbb\xbfcaf\xc3\xa9", "iso-8859-1") == "café"  # BOM first
    assert decode_html(b"<meta charset=gb2312>\xd6\xd0\xce\xc4") == "<meta charset=gb2312>中文"
    assert decode_html("<meta charset=gb2312>中文".encode()) == "<meta charset=gb2312>中文"  # label disproved
    assert decode_html(b"\x93quoted\x94", "iso-8859-1") == "\u201cquoted\u201d"  # WHATWG: latin-1 is cp1252
    assert decode_html(b"plain \xe9t\xe9") == "plain été"  # not UTF-8, no label: windows-1252
    assert decode_html(b"<meta charset='utf-16'>ascii only") == "<meta charset='utf-16'>ascii only"


def test_languages() -> None:
    assert declared_language('<html xml:lang="de-AT" lang="de-AT"><head>') == "de"
    assert declared_language('<html><head><meta property="og:locale" content="pt_BR">') == "pt"
    assert declared_language('<html><head><meta http-equiv="Content-Language" content="nl, en">') == "nl"
    assert declared_language("<html><head><title>x</title>") is None
    samples = {
        "en": "The government said on Monday that it would not change the law before the election.",
        "de": "Die Regierung hat am Montag erklärt, dass sie das Gesetz vor der Wahl nicht ändern wird.",
        "fr": "Le gouvernement a déclaré lundi qu'il ne modifierait pas la loi avant les élections.",
        "es": "El gobierno dijo el lunes que no cambiaría la ley antes de las elecciones del país.",
        "it": "Il governo ha detto lunedì che non cambierà la legge prima delle elezioni di maggio.",
        "ru": "Правительство заявило в понедельник, что не будет менять закон до выборов в этом году.",
        "pl": "Rząd poinformował w poniedziałek, że nie zmieni prawa przed wyborami w tym roku.",
        "ja": "政府は月曜日、選挙前に法律を変更しないと発表した。",
        "ko": "정부는 월요일 선거 전에 법을 바꾸지 않겠다고 밝혔다.",
        "el": "Η κυβέρνηση δήλωσε τη Δευτέρα ότι δεν θα αλλάξει τον νόμο πριν από τις εκλογές.",
    }
    for lang, text in samples.items():
        assert guess_language(text) == lang, (lang, guess_language(text))
    assert guess_language("Putin Orban Moscow") is None  # too short to tell


def test_paywall_phrase_normalises_quotes_and_spaces() -> None:
    found = paywall_phrase("You\u2019ve reached your\n free article limit.")
    assert found == "you've reached your free article limit"
    assert paywall_phrase("Subscribe to our newsletter") is None


def test_extract_text_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.txt"
    seed.write_text("Council approves transport budget\n\n" + "\n\n".join(PARAGRAPHS), encoding="utf-8")
    page = extract_text_file(seed)
    assert page.title == "Council approves transport budget"
    assert page.text.startswith("The city council voted")
    assert (page.status, page.lang) == (ExtractionStatus.FULL, "en")
    lead = tmp_path / "lead.txt"
    lead.write_text("\n".join(PARAGRAPHS), encoding="utf-8")
    assert extract_text_file(lead).title is None  # a sentence, not a headline
    html = tmp_path / "page.html"
    html.write_text(article_html(PARAGRAPHS), encoding="utf-8")
    assert extract_text_file(html).title == "Council approves transport budget"
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert extract_text_file(empty).status is ExtractionStatus.FAILED
    with pytest.raises(OSError):
        extract_text_file(tmp_path / "missing.txt")


def test_repo_seed_file() -> None:
    seed = ROOT / "seeds" / "orban-moscow-2024-07.txt"
    if not seed.exists():
        pytest.skip("seed file not present")
    page = extract_text_file(seed)
    assert page.text.startswith("Hungarian Prime Minister Viktor Orban")
    assert page.lang == "en"


def _pool_job(html: bytes) -> ExtractedPage:
    return extract_page(html, url="https://example.com/a")


def test_runs_in_a_process_pool() -> None:
    pickle.dumps(extract_page)
    html = article_html(PARAGRAPHS).encode()
    with ProcessPoolExecutor(max_workers=1) as pool:
        page = pool.submit(extract_page, html, url="https://example.com/a").result(timeout=120)
    assert page == extract_page(html, url="https://example.com/a")
    assert pickle.loads(pickle.dumps(page)) == page


# --- real pages -------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+")


def token_f1(got: str, want: str) -> float:
    a, b = Counter(_TOKEN.findall(got.lower())), Counter(_TOKEN.findall(want.lower()))
    overlap = sum((a & b).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(a.values()), overlap / sum(b.values())
    return 2 * precision * recall / (precision + recall)


REAL_PAGES = [  # (corpus, id prefix, language, F1 floor)
    ("scrapinghub", "05844573ca7e", "en", 0.95),
    ("scrapinghub", "076f4f33bf75", "en", 0.95),
    ("readability", "001", "en", 0.95),
    ("readability", "ars-1", "en", 0.95),
    ("readability", "citylab-1", "en", 0.9),
    ("readability", "aktualne", "cs", 0.9),
    ("readability", "qq", "zh", 0.85),  # UTF-8 bytes under a stale <meta charset=gb2312>
]


def _real(corpus: str, prefix: str) -> tuple[bytes, str, str]:
    field = "articleBody" if corpus == "scrapinghub" else "expected_text"
    for line in (EXTRACTION / corpus / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if str(row["id"]).startswith(prefix):
            html = EXTRACTION / corpus / (row.get("html_file") or f"html/{row['id']}.html")
            return html.read_bytes(), row.get("url") or f"https://example.org/{row['id']}", row[field]
    raise LookupError(prefix)


@pytest.mark.skipif(not EXTRACTION.is_dir(), reason=f"shared extraction data not found at {EXTRACTION}")
@pytest.mark.parametrize(("corpus", "prefix", "lang", "floor"), REAL_PAGES)
def test_real_page_quality(corpus: str, prefix: str, lang: str, floor: float) -> None:
    html, url, expected = _real(corpus, prefix)
    page = extract_page(html, url=url)
    assert page.status is ExtractionStatus.FULL
    assert token_f1(page.text, expected) >= floor
    assert page.lang == lang
    assert page.title


# --- what extraction leaves out, and what it keeps in memory --------------------------------------


def test_need_date_false_skips_only_the_date() -> None:
    html = article_html(PARAGRAPHS).encode()
    full = extract_page(html, url="https://gazette.example.com/news/budget")
    undated = extract_page(html, url="https://gazette.example.com/news/budget", need_date=False)
    assert full.published is not None and undated.published is None
    assert undated == replace(full, published=None)


def test_need_author_false_skips_only_the_byline() -> None:
    """The feed names the author: the page's byline is not looked for (a byline in the page's text,
    not its metadata, is what costs: trafilatura walks a copy of the whole page for it)."""
    html = article_html(PARAGRAPHS, before='<p class="byline">By Ann Writer and Bo Reporter</p>')
    html = html.replace('<meta name="author" content="Ann Writer">', "").encode()
    full = extract_page(html, url="https://gazette.example.com/news/budget")
    anonymous = extract_page(html, url="https://gazette.example.com/news/budget", need_author=False)
    assert full.author and "Ann Writer" in full.author and anonymous.author is None
    assert anonymous == replace(full, author=None)


@pytest.mark.skipif(not EXTRACTION.is_dir(), reason=f"shared extraction data not found at {EXTRACTION}")
def test_metadata_agrees_with_trafilatura() -> None:
    """page._metadata repeats trafilatura's extract_metadata for the fields we keep: an upgrade of
    trafilatura that changes how it finds them must fail here, not drift silently."""
    checked = found = 0
    for corpus in ("scrapinghub", "readability"):
        rows = (EXTRACTION / corpus / "expected.jsonl").read_text(encoding="utf-8").splitlines()
        for line in rows[::4]:
            row = json.loads(line)
            url = row.get("url") or f"https://example.org/{row['id']}"
            page = decode_html((EXTRACTION / corpus / (row.get("html_file") or f"html/{row['id']}.html")).read_bytes())
            theirs = trafilatura.extract_metadata(trafilatura.load_html(page), default_url=url,
                                                  date_config=_DATE_PARAMS)
            ours = _metadata(trafilatura.load_html(page), url, need_date=True)
            assert (ours.title, ours.author, ours.date) == (theirs.title, theirs.author, theirs.date), row["id"]
            checked += 1
            found += bool(ours.title) + bool(ours.author) + bool(ours.date)
    assert checked > 25 and found > 2 * checked  # most pages give a title and a date, many an author


def test_language_profiles_are_wordfreqs_top_words() -> None:
    profiles = _profiles()
    for lang, words in profiles.items():
        assert words == frozenset(wordfreq.top_n_list(lang, 120, wordlist="small")), lang
    # ...read without wordfreq's cache, which would keep every word of the 33 lists (104 MiB)
    script = ("import wordfreq; from monitor.extract.lang import guess_language; "
              "assert guess_language('Die Regierung hat am Montag erklärt, dass sie das Gesetz nicht ändert.') == 'de'; "
              "print(wordfreq.get_frequency_list.cache_info().currsize)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "0"
