"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser does not read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

from monitor.errors import ParseError
from monitor.parse.html import html_to_text, language_tag, one_line, tidy
from monitor.types import FeedEntry, ParsedFeed

_VERSION_PREFIX = "https://jsonfeed.org/version/"


def looks_like_json(content: bytes, content_type: str | None) -> bool:
    """A JSON document rather than XML: by its media type, or by its first character."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind.endswith(("/json", "+json")):
        return True
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse_date(value: object) -> datetime | None:
    """RFC 3339 as the spec asks, or RFC 2822 as some generators write; always aware UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _author(obj: dict[str, Any]) -> str | None:
    authors = obj.get("authors")
    candidates = authors if isinstance(authors, list) else []
    if isinstance(obj.get("author"), dict):
        candidates = [*candidates, obj["author"]]  # 1.0's single author, deprecated in 1.1
    for author in candidates:
        if isinstance(author, dict) and _text(author.get("name")).strip():
            return one_line(author["name"])
    return None


def _entry(item: dict[str, Any], base: str, feed_author: str | None, feed_lang: str | None) -> FeedEntry:
    link = _text(item.get("url")) or _text(item.get("external_url"))
    guid = item.get("id")
    bodies = [
        html_to_text(_text(item.get("content_html"))),
        tidy(_text(item.get("content_text"))),  # plain text by the spec: "&amp;" there is literal
        tidy(_text(item.get("summary"))),
    ]
    return FeedEntry(
        link=urljoin(base, link.strip()) if link.strip() else None,
        guid=str(guid) if isinstance(guid, str | int) and str(guid) else None,
        title=one_line(_text(item.get("title"))),
        summary=max(bodies, key=len),
        published=parse_date(item.get("date_published")) or parse_date(item.get("date_modified")),
        author=_author(item) or feed_author,
        lang=language_tag(item.get("language")) or feed_lang,
    )


def parse_json_feed(content: bytes, *, url: str) -> ParsedFeed:
    """A JSON Feed document → ParsedFeed; ParseError when it is not JSON or not a JSON Feed."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(url, f"not a feed: invalid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ParseError(url, "not a feed: a JSON document, but not a JSON Feed object")
    version = _text(data.get("version"))
    items = data.get("items")
    if not version.startswith(_VERSION_PREFIX) and not isinstance(items, list):
        raise ParseError(url, "not a feed: a JSON document without a JSON Feed version or items")
    problems: list[str] = []
    if not version.startswith(_VERSION_PREFIX):
        problems.append(f"unknown JSON Feed version {version!r}" if version else "no JSON Feed version")
    if not isinstance(items, list):
        problems.append("items is not a list")
        items = []
    feed_author = _author(data)
    feed_lang = language_tag(data.get("language"))
    entries = []
    skipped = 0
    for item in items:
        if isinstance(item, dict):
            entries.append(_entry(item, url, feed_author, feed_lang))
        else:
            skipped += 1
    if skipped:
        problems.append(f"{skipped} item(s) are not JSON objects")
    title = one_line(_text(data.get("title"))) or None
    return ParsedFeed(title=title, entries=tuple(entries), problem="; ".join(problems) or None)
