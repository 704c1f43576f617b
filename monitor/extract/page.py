"""Page bytes → ExtractedPage with trafilatura; pure, so the pipeline can run it in other processes.

Every function here is top-level and takes and returns plain values (bytes, str, frozen
dataclasses), so it pickles for a ProcessPoolExecutor. Nothing raises for bad HTML: a page that
gives no text falls back to the feed's summary (SUMMARY) or to nothing (FAILED).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import trafilatura
from htmldate import find_date
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_title, extract_url
from trafilatura.utils import line_processing

from monitor.extract import xpath
from monitor.extract.lang import guess_language, page_language
from monitor.extract.teaser import teaser_reason
from monitor.parse.html import decode_html, html_to_text, tidy
from monitor.types import ExtractedPage, ExtractionStatus

log = logging.getLogger(__name__)

TRAFILATURA_OPTIONS: dict[str, Any] = {
    # Chosen on bench/extraction_quality.py (127 pages of the scrapinghub and Readability
    # corpora): comments are not the article, and leaving them out raises precision at no cost in
    # recall; the fallback extractors (fast=False) add recall on pages trafilatura's own rules miss.
    "include_comments": False,
    "include_tables": True,
    "fast": False,
    "favor_precision": True,
    "favor_recall": False,
}
_DATE_PARAMS: dict[str, Any] = {"original_date": True, "extensive_search": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
MIN_TEXT = 150
"""Fewer characters than this is not an article: a cookie notice, a caption, an error message."""
TITLE_LINE = 150


def _published(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # htmldate gives a zone when the page states a time; a bare date reads as midnight UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parsed(page: str, url: str) -> Any:
    """The page's tree, parsed once for the text and the metadata (trafilatura copies it before
    pruning, so the metadata reads the page as it came)."""
    try:
        return trafilatura.load_html(page)  # an lxml HtmlElement, or None
    except Exception as exc:  # lxml on hostile markup; the page just gives nothing
        log.warning("extract_failed", extra={"article_url": url, "error": f"{type(exc).__name__}: {exc}"})
        return None


def _trafilatura(tree: Any, url: str) -> Any:
    try:
        return trafilatura.bare_extraction(tree, url=url or None, with_metadata=False, **TRAFILATURA_OPTIONS)
    except Exception as exc:  # lxml and trafilatura internals on hostile markup; the page just gives nothing
        log.warning("extract_failed", extra={"article_url": url, "error": f"{type(exc).__name__}: {exc}"})
        return None


@dataclass(frozen=True, slots=True)
class _Metadata:
    title: str | None = None
    author: str | None = None
    date: str | None = None


def _metadata(tree: Any, url: str, *, need_date: bool, need_author: bool = True) -> _Metadata:
    """Title, author and date as trafilatura's `extract_metadata` finds them, without what we do not
    use: its site name, categories, tags and licence cost about a third of its time, and htmldate's
    date search up to half of it, wasted when the feed already dates the article.

    The steps and their order are extract_metadata's (trafilatura 2.x); tests/test_extract.py
    checks that the three fields agree with it on the shared corpus, so an upgrade that changes
    them is noticed.
    """
    try:
        found = examine_meta(tree)
        if found.author and " " not in found.author:  # as trafilatura: one word is not a byline
            found.author = None
        with suppress(Exception):  # trafilatura's JSON-LD reader on malformed data; the other sources remain
            found = extract_meta_json(tree, found)
        title = found.title or extract_title(tree)
        author = (found.author or extract_author(tree)) if need_author else None
        date = find_date(tree, url=found.url or extract_url(tree, url or None), **_DATE_PARAMS) if need_date else None
    except Exception as exc:  # lxml and trafilatura internals on hostile markup; the page just gives nothing
        log.warning("metadata_failed", extra={"article_url": url, "error": f"{type(exc).__name__}: {exc}"})
        return _Metadata()
    return _Metadata(_trimmed(title), _trimmed(author), date)


def _trimmed(value: str | None) -> str | None:
    """What trafilatura's Document.clean_and_trim makes of a field: capped, unescaped, one line."""
    if not value:
        return None
    return line_processing(unescape(value if len(value) <= 10000 else value[:9999] + "…"))


def _clean(value: str | None) -> str | None:
    return (" ".join(value.split()) or None) if isinstance(value, str) else None


def extract_page(
    content: bytes,
    *,
    url: str,
    feed_summary: str = "",
    feed_title: str = "",
    encoding: str | None = None,
    need_date: bool = True,
    need_author: bool = True,
) -> ExtractedPage:
    """Title, text, author, date and language of an article page, and how much of it we got.

    `encoding` is the charset the server declared (Page.encoding), if any; without it the page's
    BOM and <meta charset> decide. `feed_summary` is what the feed said about the article, used to
    tell a teaser (the page gave less) and as the text when the page gives nothing. `need_date`
    False (the feed dates the article, and the feed's date is the one kept) skips the search for
    the page's own date, a tenth of the CPU of extracting a page: `published` is then None.
    `need_author` False (the feed names the author, and the feed's is kept) skips the search for a
    byline, which walks a copy of the whole page when its metadata names nobody: `author` is then None.
    """
    xpath.install()  # here, not on import: bench/burst.py's peer imports this module for its options
    page = decode_html(content, encoding)
    tree = _parsed(page, url) if page.strip() else None
    document = _trafilatura(tree, url) if tree is not None else None
    # As with_metadata=True did: a page that gives no text gives no metadata either.
    meta = _metadata(tree, url, need_date=need_date, need_author=need_author) if document is not None else _Metadata()
    text = tidy(_field_text(document))
    title = _clean(meta.title) or (" ".join(feed_title.split()) or None)
    text = _without_headline(text, title)
    summary = html_to_text(feed_summary) if "<" in feed_summary else tidy(feed_summary)
    author = _clean(meta.author)
    published = _published(meta.date)
    if len(text) < MIN_TEXT and len(summary) > len(text):
        status, text = (ExtractionStatus.SUMMARY, summary)
    elif not text:
        status = ExtractionStatus.FAILED
    elif len(text) < len(summary) or len(text) < MIN_TEXT or teaser_reason(text, page):
        status = ExtractionStatus.TEASER
    else:
        status = ExtractionStatus.FULL
    lang = page_language(page, text) if text else None
    return ExtractedPage(title=title, text=text, author=author, published=published, lang=lang, status=status)


def _without_headline(text: str, title: str | None) -> str:
    """The article's text without the <h1> that repeats its title: the title is stored on its own."""
    first, _, rest = text.partition("\n")
    if title and rest and first.casefold().strip() == title.casefold().strip():
        return rest
    return text


def _field_text(document: Any) -> str:
    text = getattr(document, "text", None) if document is not None else None
    return text if isinstance(text, str) else ""


def _read_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _is_html(path: Path, raw: bytes) -> bool:
    if path.suffix.lower() in (".html", ".htm", ".xhtml"):
        return True
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def extract_text_file(path: str | Path) -> ExtractedPage:
    """A seed article from a file: HTML goes through extract_page; in plain text the first line is
    the title when it reads like one (short, no closing full stop), the rest the text.

    Raises OSError when the file cannot be read.
    """
    path = Path(path)
    raw = path.read_bytes()
    if _is_html(path, raw):
        return extract_page(raw, url=path.resolve().as_uri())
    lines = tidy(_read_text(raw)).split("\n")
    title: str | None = None
    if len(lines) > 1 and len(lines[0]) <= TITLE_LINE and not lines[0].endswith((".", ",", ";", ":")):
        title, lines = lines[0], lines[1:]
    text = "\n".join(lines).strip()
    if not text:
        return ExtractedPage(title=title, text="", author=None, published=None, lang=None,
                             status=ExtractionStatus.FAILED)
    return ExtractedPage(title=title, text=text, author=None, published=None, lang=guess_language(text),
                         status=ExtractionStatus.FULL)
