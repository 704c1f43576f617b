"""Values the store hands out: the rest of the program never sees a row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.types import Alert


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed as the scheduler and the health table see it."""

    id: int
    url: str
    name: str | None
    title: str | None
    interval: timedelta
    pinned: bool
    next_check_at: datetime | None
    etag: str | None
    last_modified: str | None
    polls: int
    last_polled_at: datetime | None
    last_success_at: datetime | None
    error_count: int
    last_error: str | None
    last_error_at: datetime | None
    entries_seen: int
    active: bool
    origin: str = "config"

    @property
    def outlet(self) -> str | None:
        return self.name or self.title


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """A match as `monitor matches` shows it."""

    id: int
    watchlist: str
    score: float
    why: tuple[str, ...]
    snippet: str
    created_at: datetime
    alerted: bool
    article_id: int
    url: str
    title: str
    outlet: str | None
    published: datetime | None
    status: str
    deliveries: tuple[tuple[str, str], ...]
    """(channel, status) of each delivery."""
    story_id: str | None = None
    duplicate_of: int | None = None


@dataclass(frozen=True, slots=True)
class StoryMember:
    """What the story index needs to be rebuilt after a restart."""

    url: str
    story_id: str
    features: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StoryInfo:
    """A story as `monitor stories` lists it."""

    id: str
    title: str
    url: str
    articles: int
    outlets: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    watchlists: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A claimed outbox row with everything needed to send it."""

    id: int
    channel: str
    attempts: int
    alert: Alert
    waits_for: int | None = None
    """An update whose first alert (this delivery id) is not sent yet: it must not go out before it."""
    first_due: datetime | None = None
    """When that first alert is due next: the update waits until then at least."""


@dataclass(frozen=True, slots=True)
class DeliveryInfo:
    """An outbox row as `monitor deliveries` shows it."""

    id: int
    channel: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    watchlist: str
    title: str
    url: str
