"""parse_feed and discover_feeds on small fixtures and on the shared feed corpora."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.parse import discover_feeds, html_to_text, parse_feed
from monitor.types import ParsedFeed
from monitor.urls import canonical_url

DATA = Path(__file__).parent / "data" / "feeds"
SHARED = Path(os.environ.get("MONITOR_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
FEEDS = SHARED / "feeds"
FEED_URL = "https://news.example.org/feeds/main.xml"


def parse(name: str, content_type: str | None = None) -> ParsedFeed:
    return parse_feed((DATA / name).read_bytes(), url=FEED_URL, content_type=content_type)


def test_rss2_entries_are_plain_absolute_and_utc() -> None:
    feed = parse("rss2_full.xml", "application/rss+xml; charset=utf-8")
    assert feed.title == "Example & Co. News"
    assert feed.ttl == timedelta(minutes=30)
    assert feed.problem is None
    first, by_guid, scripted = feed.entries
    assert first.title == "Minister resigns after \u201cleak\u201d"
    assert first.link == "https://news.example.org/politics/minister-resigns?utm_source=rss"
    assert first.guid == "urn:example:1001"
    # content:encoded is the fuller text, so it wins over the one-line description; no script text
    assert first.summary == "The minister resigned on Tuesday.\nSecond paragraph été with a link."
    assert first.published == datetime(2024, 10, 1, 12, 30, tzinfo=UTC)
    assert first.author == "Jane Reporter"
    assert first.lang == "en"
    assert by_guid.link == "https://news.example.org/only-guid"  # a permalink guid is the link
    assert scripted.link is None  # javascript: never becomes a link


def test_atom_xml_base_xhtml_and_languages() -> None:
    feed = parse("atom_base.xml")
    assert feed.title == "Das Blog"
    first, second = feed.entries
    assert first.link == "https://blog.example.de/2024/erster"
    assert first.summary == "Zusammenfassung fett."
    assert first.published == datetime(2024, 9, 30, 22, 30, 2, tzinfo=UTC)  # updated, -04:00 → UTC
    assert first.author == "Max Muster"
    assert first.lang == "de"
    assert second.lang == "en"
    assert second.published == datetime(2024, 9, 29, 8, 0, tzinfo=UTC)  # published beats updated
    assert second.summary == "Text with <not a tag> kept."  # type="text": angle brackets are text


def test_json_feed_1_1() -> None:
    feed = parse("jsonfeed_1_1.json", "application/feed+json")
    assert feed.title == "JSON & Friends"
    assert feed.problem == "1 item(s) are not JSON objects"
    first, second = feed.entries
    assert first.link == "https://news.example.org/articles/42"
    assert first.guid == "42"
    assert first.title == "Élection : résultats"
    assert first.summary == "Les résultats officiels."
    assert first.published == datetime(2024, 10, 1, 7, 15, tzinfo=UTC)
    assert (first.author, first.lang) == ("Claire", "fr")
    assert second.link == "https://elsewhere.example.com/post"
    assert second.guid == "43"
    assert second.summary == "Plain text & <literal> markup."
    assert (second.author, second.lang) == ("Équipe", "en")


def test_json_feed_detected_without_content_type() -> None:
    feed = parse_feed((DATA / "jsonfeed_1_1.json").read_bytes(), url=FEED_URL)
    assert len(feed.entries) == 2


def test_broken_feed_gives_entries_and_problem() -> None:
    feed = parse("broken_rss.xml", "text/xml")
    assert [e.title for e in feed.entries] == ["First item survives", "Second item"]
    assert feed.entries[0].summary == "Body one © 2024"
    assert feed.problem is not None and "line 4" in feed.problem


@pytest.mark.parametrize(
    ("content", "content_type", "words"),
    [
        (b"", None, "empty document"),
        (b"   \n ", None, "empty document"),
        (b"<!DOCTYPE html><html><head><title>Home</title></head><body>hi</body></html>", None, "HTML page"),
        (b"\x00\x01\x02 binary garbage \xff\xfe", None, "not a feed"),
        (b'{"hello": "world"}', "application/json", "JSON"),
        (b"{not json", None, "invalid JSON"),
        (b"[1, 2, 3]", "application/json", "JSON"),
        (b"<?xml version='1.0'?><note><to>x</to></note>", "application/xml", "XML without RSS"),
    ],
)
def test_no_feed_raises_parse_error(content: bytes, content_type: str | None, words: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_feed(content, url=FEED_URL, content_type=content_type)
    assert words in info.value.reason
    assert info.value.url == FEED_URL


def test_bytes_naming_a_file_are_not_opened(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text('<rss version="2.0"><channel><item><title>leak</title></item></channel></rss>')
    with pytest.raises(ParseError):
        parse_feed(str(secret).encode(), url=FEED_URL)


def test_html_to_text() -> None:
    assert html_to_text("<p>One&nbsp;two</p><p>three <b>four</b></p>") == "One two\nthree four"
    assert html_to_text("a < b and c > d") == "a < b and c > d"
    assert html_to_text("<style>p{}</style><script>x()</script>kept<br>line") == "kept\nline"
    assert html_to_text("<img alt='A photo of the summit'> caption") == "A photo of the summit caption"
    assert html_to_text("<p>unclosed <div>tags &amp; stuff") == "unclosed\ntags & stuff"


def test_discover_feeds() -> None:
    found = discover_feeds((DATA / "page_with_feeds.html").read_bytes(), "https://www.example.com/section/page")
    assert found == [
        "https://www.example.com/section/feed.atom",
        "https://www.example.com/rss.xml",
        "https://cdn.example.com/feed.json",
    ]
    assert discover_feeds(b"<html><body>no feeds</body></html>", "https://x.example/") == []
    assert discover_feeds(b"\xff\xfe garbage <link", "https://x.example/") == []


# --- shared corpora ---------------------------------------------------------------------------


def _corpus() -> list[tuple[Path, str | None]]:
    if not FEEDS.is_dir():
        return []
    headers: dict[str, dict[str, str]] = {}
    index = FEEDS / "feedparser_tests" / "index.jsonl"
    if index.exists():
        for line in index.read_text().splitlines():
            row = json.loads(line)
            headers[row["file"]] = {k.lower(): v for k, v in row["headers"].items()}
    files = []
    for path in sorted(FEEDS.rglob("*")):
        if path.suffix in (".xml", ".json") and not path.name.endswith(".serde.json"):
            inside = "feedparser_tests" in path.parts
            rel = path.relative_to(FEEDS / "feedparser_tests").as_posix() if inside else ""
            files.append((path, headers.get(rel, {}).get("content-type")))
    return files


@pytest.mark.skipif(not FEEDS.is_dir(), reason=f"shared feed data not found at {FEEDS}")
def test_every_shared_feed_parses_or_raises_parse_error() -> None:
    corpus = _corpus()
    assert len(corpus) > 2000
    parsed = failed = 0
    for path, content_type in corpus:
        try:
            feed = parse_feed(path.read_bytes(), url="http://example.com/feed.xml", content_type=content_type)
        except ParseError as exc:
            assert exc.reason, path
            failed += 1
            continue
        assert isinstance(feed, ParsedFeed), path
        for entry in feed.entries:
            assert isinstance(entry.title, str) and isinstance(entry.summary, str), path
            assert entry.link is None or entry.link.startswith(("http://", "https://")), (path, entry.link)
            assert entry.published is None or entry.published.tzinfo is not None, path
        parsed += 1
    # The misses are the few documents that hold no feed (empty, bare XML samples, CDF channels).
    assert failed <= 15, failed
    assert parsed >= len(corpus) - 15


def _expected(serde: Path) -> tuple[Path, dict[str, object]]:
    stem = serde.name.removesuffix(".serde.json")
    source = next(p for p in serde.parent.glob(stem + ".*") if not p.name.endswith(".serde.json"))
    return source, json.loads(serde.read_text())


@pytest.mark.skipif(not (FEEDS / "feed_rs_fixtures").is_dir(), reason="feed_rs fixtures not found")
@pytest.mark.parametrize(
    "name",
    ["rss2/rss_2.0_bbc", "rss2/rss_2.0_spiegel", "rss2/rss_2.0_nbcny", "rss1/rss_1.0_debian",
     "atom/atom_example_reddit", "atom/atom_mediarss_youtube_1", "rss0/rss_0.92_spec_1",
     "jsonfeed/jsonfeed_spec_1", "jsonfeed/jsonfeed_elastic_1.1", "jsonfeed/jsonfeed_example_1"],
)
def test_titles_and_links_agree_with_feed_rs(name: str) -> None:
    source, expected = _expected(FEEDS / "feed_rs_fixtures" / f"{name}.serde.json")
    feed = parse_feed(source.read_bytes(), url="http://example.com/feed.xml")
    entries = expected["entries"]
    assert isinstance(entries, list)
    assert len(feed.entries) == len(entries)
    for ours, theirs in zip(feed.entries, entries, strict=True):
        title = " ".join(((theirs.get("title") or {}).get("content") or "").split())
        assert ours.title == title
        links = [canonical_url(link["href"]) for link in theirs["links"] if link["href"].startswith("http")]
        if links:
            assert ours.link is not None and canonical_url(ours.link) in links


@pytest.mark.skipif(not (FEEDS / "feed_rs_fixtures").is_dir(), reason="feed_rs fixtures not found")
def test_all_feed_rs_titles_agree() -> None:
    checked = 0
    for serde in sorted((FEEDS / "feed_rs_fixtures").rglob("*.serde.json")):
        source, expected = _expected(serde)
        feed = parse_feed(source.read_bytes(), url="http://example.com/feed.xml")
        entries = expected["entries"]
        assert isinstance(entries, list)
        for ours, theirs in zip(feed.entries, entries, strict=True):
            assert ours.title == " ".join(((theirs.get("title") or {}).get("content") or "").split()), serde
            checked += 1
    assert checked >= 100
