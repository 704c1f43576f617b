"""The SQLModel tables. They stay inside monitor/store/: the rest of the program sees values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class FeedRow(SQLModel, table=True):
    """A feed with its fetch state: the schedule lives here, so a restart loses nothing."""

    __tablename__ = "feeds"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column_kwargs={"unique": True}, max_length=2048)
    name: str | None = None
    title: str | None = None
    active: bool = True
    """False once the feed left monitor.yaml (or was removed); kept so its articles keep their outlet."""
    origin: str = "config"
    """'config' for feeds listed in monitor.yaml, 'cli' for feeds added with `monitor feeds add/import`."""
    interval_seconds: int = 900
    pinned: bool = False
    """True when `every:` fixes the interval."""
    next_check_at: datetime | None = Field(default=None, index=True)
    lease_until: datetime | None = None
    lease_owner: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    polls: int = 0
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    error_count: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    last_error_at: datetime | None = None
    entries_seen: int = 0
    created_at: datetime


class ArticleRow(SQLModel, table=True):
    """An article, unique by canonical URL."""

    __tablename__ = "articles"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column_kwargs={"unique": True}, max_length=2048)
    link: str = Field(max_length=4096)
    feed_id: int | None = Field(default=None, foreign_key="feeds.id", index=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    author: str | None = None
    published: datetime | None = Field(default=None, index=True)
    lang: str | None = None
    outlet: str | None = None
    status: str = "full"
    fetched_at: datetime = Field(index=True)
    story_id: str | None = Field(default=None, index=True, max_length=64)
    """The story the article belongs to (monitor.stories): the first article's key."""
    features: str | None = Field(default=None, sa_column=Column(Text))
    """The article's story features as JSON, so the story index is rebuilt after a restart."""


class EntryKeyRow(SQLModel, table=True):
    """Every key under which an article was seen (canonical link, feed guid), so a feed entry whose
    title or URL changes is still recognised as the same article."""

    __tablename__ = "entry_keys"

    key: str = Field(primary_key=True, max_length=4096)
    article_id: int = Field(foreign_key="articles.id", index=True)


class MatchRow(SQLModel, table=True):
    """An article matched a watchlist; unique per article and watchlist."""

    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("article_id", "watchlist", name="uq_match_article_watchlist"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="articles.id", index=True)
    watchlist: str = Field(index=True)
    score: float
    why: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of reasons."""
    snippet: str = Field(default="", sa_column=Column(Text, nullable=False))
    parts: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    alerted: bool = True
    """False for matches made silently: old entries (backfill), or a story that already alerted."""
    duplicate_of: int | None = Field(default=None, foreign_key="matches.id")
    """The match that alerted for this story and watchlist first, when this one joined its story."""
    created_at: datetime = Field(index=True)


class DeliveryRow(SQLModel, table=True):
    """The outbox: one row per match and channel, written in the same transaction as the match."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("match_id", "channel", name="uq_delivery_match_channel"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="matches.id", index=True)
    channel: str
    status: str = "pending"
    """pending → sent | dead."""
    attempts: int = 0
    next_attempt_at: datetime
    lease_until: datetime | None = None
    lease_owner: str | None = None
    """host:pid of the sender that claimed the row, so a restart frees what a killed sender held."""
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    sent_at: datetime | None = None
    created_at: datetime
    kind: str = Field(default="alert", sa_column_kwargs={"server_default": "alert"})
    """'alert', or 'update': a story that alerted grew (monitor.story_updates), threaded under `update_of`."""
    update_of: int | None = Field(default=None, foreign_key="deliveries.id")
    """For an update, the first alert's delivery on the same channel."""
    receipt: str | None = Field(default=None, sa_column=Column(Text))
    """What the receiver named the sent message, for replies to thread under it: an email's Message-ID,
    a Slack message's channel and ts."""


class StoryUpdateRow(SQLModel, table=True):
    """An update a story earned for a watchlist: counted, so the limit per story holds across restarts."""

    __tablename__ = "story_updates"
    __table_args__ = (UniqueConstraint("first_match_id", "number", name="uq_story_update_number"),)

    id: int | None = Field(default=None, primary_key=True)
    first_match_id: int = Field(foreign_key="matches.id", index=True)
    """The match that alerted for the story and watchlist."""
    match_id: int = Field(foreign_key="matches.id")
    """The joining article's match that made the story earn the update; its outbox rows carry it."""
    number: int
    """1 for the story's first update, 2 for the next..."""
    reason: str
    due_at: datetime
    created_at: datetime


class MuteRow(SQLModel, table=True):
    """A watchlist muted from `since` to `until`: its matches made then are stored but never delivered.

    Kept after it ends (`until` in the past), so `monitor matches` can say why nothing was sent.
    """

    __tablename__ = "mutes"

    id: int | None = Field(default=None, primary_key=True)
    watchlist: str = Field(index=True)
    since: datetime
    until: datetime = Field(index=True)
    settled: bool = False
    """True once the mute ended and every delivery of its matches was marked muted."""


class DeliveryHoldRow(SQLModel, table=True):
    """An outbox row held back by its channel's digest or quiet hours: when due, it goes out
    in one message with the other held rows of its channel."""

    __tablename__ = "delivery_holds"

    delivery_id: int = Field(primary_key=True, foreign_key="deliveries.id")
    reason: str
    """'digest' or 'quiet'."""
    held_at: datetime


class FeedAlertRow(SQLModel, table=True):
    """A feed seen failing, for the admin alert: one alert when it has failed too long, one when it recovers."""

    __tablename__ = "feed_alerts"

    feed_id: int = Field(primary_key=True, foreign_key="feeds.id")
    failing_since: datetime
    alerted_at: datetime | None = None
