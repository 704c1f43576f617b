"""The frozen values that flow between the pipeline stages.

    FeedSource ─fetch─▶ FetchedFeed | NotModified ─parse─▶ FeedEntry[] ─(new? ask the store)─▶
    FeedEntry ─fetch page, extract─▶ Article ─match─▶ Match[] ─▶ Alert ─render─▶ Message ─deliver─▶ Delivery

Stages exchange these values, never dicts or ORM rows, so each stage can be tested on its own and the
store is free to change its tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class FeedSource:
    """A feed as configured: where it lives and how often to look."""

    url: str
    name: str | None = None
    every: timedelta | None = None


@dataclass(frozen=True, slots=True)
class FetchedFeed:
    """A feed document that changed since the last poll (HTTP 200)."""

    url: str
    final_url: str
    content: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    max_age: timedelta | None = None
    """A floor on the interval the server asked for (Cache-Control max-age / Expires)."""


@dataclass(frozen=True, slots=True)
class NotModified:
    """The server answered 304: nothing to parse."""

    url: str
    etag: str | None
    last_modified: str | None
    max_age: timedelta | None = None


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a parsed feed, before its page is fetched."""

    link: str | None
    guid: str | None
    title: str
    summary: str
    published: datetime | None
    author: str | None = None
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What parse() makes of a feed document."""

    title: str | None
    entries: tuple[FeedEntry, ...]
    ttl: timedelta | None = None
    problem: str | None = None
    """Why the document was only partly readable (feedparser's bozo reason), when it was."""


class ExtractionStatus(StrEnum):
    """How much of an article the monitor could read, shown to users next to every match."""

    FULL = "full"          # the page's main text
    TEASER = "teaser"      # the page gave less than the feed, or a paywall teaser
    SUMMARY = "summary"    # page not fetched or not extractable: the feed's summary only
    FAILED = "failed"      # nothing but a title


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """What extract() found in an article page."""

    title: str | None
    text: str
    author: str | None
    published: datetime | None
    lang: str | None
    status: ExtractionStatus


@dataclass(frozen=True, slots=True)
class Article:
    """An article as the matcher sees it: the unit that is stored, matched and alerted on."""

    url: str
    title: str
    text: str
    published: datetime | None = None
    lang: str | None = None
    author: str | None = None
    outlet: str | None = None
    summary: str = ""
    status: ExtractionStatus = ExtractionStatus.FULL
    id: str | None = None
    """A caller's id (the `id` of a line of --articles), or the store's id once stored."""


@dataclass(frozen=True, slots=True)
class Match:
    """An article matched a watchlist: how well, and why, in words a person reads at a glance."""

    watchlist: str
    score: float
    why: tuple[str, ...]
    snippet: str = ""
    """The sentence that shows the match best."""
    parts: tuple[tuple[str, float], ...] = ()
    """The score's parts, (signal, contribution), for people tuning a watchlist."""


@dataclass(frozen=True, slots=True)
class StoryUpdate:
    """What makes an alert an update: the story it alerted for grew (monitor.story_updates).

    The alert's article is the report that made the story earn the update; this says what it
    updates (the first alert, to thread under) and what changed since.
    """

    first: Article
    """The first alert's article (without its text)."""
    first_key: str
    """The first alert's delivery key on the same channel: its email Message-ID derives from it."""
    first_sent_at: datetime | None = None
    first_receipt: str | None = None
    """What the channel named the first alert's message when it sent it (a Slack ts, a Message-ID)."""
    reason: str = ""
    """Why, in words: "3 new outlets", "official confirmation"."""
    reports: tuple[Article, ...] = ()
    """The reports that joined the story since the alert (or the last update), one per new outlet, oldest first."""
    confirmation: Article | None = None
    """The report that says the story is officially confirmed, when that is what changed."""


@dataclass(frozen=True, slots=True)
class Alert:
    """A match ready to be rendered for a channel."""

    watchlist: str
    article: Article
    match: Match
    delivery_key: str = ""
    """A stable id of the delivery: the channel's Message-ID and idempotency key derive from it."""
    related_outlets: tuple[str, ...] = field(default_factory=tuple)
    update: StoryUpdate | None = None
    """Set when this is an update of an earlier alert of the same story, to be threaded under it."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a user's file, with where it is."""

    file: str
    line: int | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"
