"""Adding feeds from the command line: find the feed behind a web page, read OPML subscriptions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import ConfigError, ParseError
from monitor.fetch import Fetcher
from monitor.parse import discover_feeds, parse_feed
from monitor.types import FetchedFeed, Problem


@dataclass(frozen=True, slots=True)
class FoundFeed:
    url: str
    title: str | None
    entries: int
    discovered_from: str | None = None
    """The web page the feed was found on, when the user gave a page rather than a feed."""


async def find_feed(fetcher: Fetcher, url: str) -> FoundFeed:
    """`url` itself when it is a feed; else the first feed its page links with rel=alternate."""
    fetched = await fetcher.fetch_feed(url, etag=None, last_modified=None)
    assert isinstance(fetched, FetchedFeed)
    try:
        parsed = parse_feed(fetched.content, url=fetched.final_url, content_type=fetched.content_type)
        return FoundFeed(url, parsed.title, len(parsed.entries))
    except ParseError as not_a_feed:
        candidates = discover_feeds(fetched.content, fetched.final_url)
        if not candidates:
            raise ParseError(url, f"{not_a_feed.reason}; and the page links no feed "
                                  "(<link rel=\"alternate\" type=\"application/rss+xml\">)") from not_a_feed
        problems = []
        for candidate in candidates:
            try:
                feed = await fetcher.fetch_feed(candidate, etag=None, last_modified=None)
                assert isinstance(feed, FetchedFeed)
                parsed = parse_feed(feed.content, url=feed.final_url, content_type=feed.content_type)
                return FoundFeed(candidate, parsed.title, len(parsed.entries), discovered_from=url)
            except ParseError as exc:
                problems.append(f"{candidate}: {exc.reason}")
        raise ParseError(url, "the page links feeds, but none could be read: " + "; ".join(problems)) from not_a_feed


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None
    category: str | None


def read_opml(path: Path) -> list[OpmlFeed]:
    """Every `<outline xmlUrl=...>` of an OPML file, with its title and folder."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        line = getattr(exc, "position", (None,))[0]
        raise ConfigError([Problem(str(path), line, None, f"not a readable OPML file: {exc}")]) from exc
    body = root.find("body")
    if root.tag.lower() != "opml" or body is None:
        raise ConfigError([Problem(str(path), None, None, "not an OPML file (no <opml><body>)")])
    found: list[OpmlFeed] = []

    def walk(node: ET.Element, folder: str | None) -> None:
        for outline in node.findall("outline"):
            url = outline.get("xmlUrl") or outline.get("xmlurl")
            title = outline.get("title") or outline.get("text")
            if url:
                found.append(OpmlFeed(url.strip(), title, folder))
            else:
                walk(outline, title or folder)

    walk(body, None)
    return found
