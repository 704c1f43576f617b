"""RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed through our own reader."""

from __future__ import annotations

import io
import time
import xml.sax
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import feedparser

from monitor.errors import ParseError
from monitor.parse.html import html_to_text, language_tag, one_line, tidy
from monitor.parse.jsonfeed import looks_like_json, parse_json_feed
from monitor.types import FeedEntry, ParsedFeed

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})


def _when(value: Any) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_time; some are out of range for datetime."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (ValueError, OverflowError, TypeError):
        return None


def _plain(detail: Any, fallback: str = "") -> str:
    """Text of a feedparser *_detail value, stripping markup only where the feed says it is markup."""
    if not isinstance(detail, dict):
        return tidy(fallback)
    value = detail.get("value") or ""
    return html_to_text(value) if detail.get("type") in _HTML_TYPES else tidy(value)


def _link(base: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    absolute = urljoin(base, value.strip())
    # Only web links: a "javascript:" or "data:" link must never reach a page fetch or an alert.
    return absolute if absolute.lower().startswith(("http://", "https://")) else None


def _lang(entry: Any, feed_lang: str | None) -> str | None:
    for key in ("title_detail", "summary_detail"):
        detail = entry.get(key)
        if isinstance(detail, dict) and (tag := language_tag(detail.get("language"))):
            return tag
    for content in entry.get("content") or ():
        if tag := language_tag(content.get("language")):
            return tag
    return language_tag(entry.get("language")) or feed_lang


def _entry(entry: Any, base: str, feed_lang: str | None) -> FeedEntry:
    bodies = [_plain(entry.get("summary_detail"), entry.get("summary") or "")]
    bodies += [_plain(content) for content in entry.get("content") or ()]
    author_detail = entry.get("author_detail")
    author = (author_detail.get("name") if isinstance(author_detail, dict) else None) or entry.get("author")
    guid = entry.get("id")
    return FeedEntry(
        link=_link(base, entry.get("link")),
        guid=guid.strip() if isinstance(guid, str) and guid.strip() else None,
        title=one_line(entry.get("title") or ""),
        # The summary stands in for the article when its page cannot be read, so the fullest text
        # the feed offers (content:encoded, atom:content) wins over a one-line description.
        summary=max(bodies, key=len),
        # dict.get, not FeedParserDict.get: the latter maps a missing updated_parsed to
        # published_parsed with a DeprecationWarning (feedparser issue 310).
        published=_when(dict.get(entry, "published_parsed"))
        or _when(dict.get(entry, "updated_parsed"))
        or _when(dict.get(entry, "created_parsed")),
        author=(one_line(author) or None) if isinstance(author, str) else None,
        lang=_lang(entry, feed_lang),
    )


def _reason(exc: object) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        return f"not well-formed XML at line {exc.getLineNumber()}: {exc.getMessage()}"
    text = str(exc).strip()
    return text or type(exc).__name__


def _ttl(value: Any) -> timedelta | None:
    """RSS 2.0 <ttl>: minutes the feed may be cached."""
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return timedelta(minutes=minutes) if 0 < minutes <= 7 * 24 * 60 else None


def _what_it_is(content: bytes) -> str:
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1024].lower()
    if not head:
        return "an empty document"
    if head.startswith(b"<!doctype html") or b"<html" in head:
        return "an HTML page (its feeds may be listed in its <link rel=\"alternate\"> tags)"
    if not head.startswith(b"<"):
        return "neither XML nor JSON"
    return "XML without RSS, Atom or RDF elements"


def parse_feed(content: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """A feed document → ParsedFeed. Partly readable documents give what could be read plus
    `problem`; a document with no feed in it raises ParseError with a readable reason."""
    if looks_like_json(content, content_type):
        return parse_json_feed(content, url=url)
    # application/xml lets the document's own encoding declaration decide (RFC 7303 §3.2) when the
    # server sent no type; feedparser would otherwise flag every such feed.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    try:
        # A stream, never the bytes themselves: feedparser opens a str or bytes that names an
        # existing file or URL. HTML is stripped to text here, so feedparser's sanitizer is skipped.
        parsed = feedparser.parse(io.BytesIO(content), response_headers=headers, sanitize_html=False)
    except Exception as exc:  # feedparser reports problems through `bozo`; this is its failure
        raise ParseError(url, f"the feed parser failed: {type(exc).__name__}: {exc}") from exc
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    bozo_exception = parsed.get("bozo_exception")
    # A feed served as text/html or text/plain parses the same; the label is the server's slip, not
    # a problem with the feed worth showing to a user.
    mislabelled = isinstance(bozo_exception, feedparser.NonXMLContentType)
    problem = _reason(bozo_exception) if parsed.get("bozo") and not mislabelled else None
    if not version and not entries:
        reason = f"not a feed: {_what_it_is(content)}"
        if problem and not content.lstrip().lower().startswith((b"<!doctype html", b"<html")):
            reason += f" ({problem})"
        raise ParseError(url, reason)
    if not version and problem is None:
        problem = "unknown feed format; read what looked like entries"
    feed = parsed.get("feed") or {}
    feed_lang = language_tag(feed.get("language"))
    title = one_line(feed.get("title") or "") or None
    return ParsedFeed(
        title=title,
        entries=tuple(_entry(entry, url, feed_lang) for entry in entries),
        ttl=_ttl(feed.get("ttl")),
        problem=problem,
    )
