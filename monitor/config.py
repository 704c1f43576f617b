"""monitor.yaml → validated Settings, every problem reported at once with file, line and key.

The path comes from --config, else $MONITOR_CONFIG, else ./monitor.yaml. `${VAR}` takes a value
from the environment; a missing variable is an error naming it. Relative paths (the SQLite file,
the watchlists folder) are relative to the folder of monitor.yaml, so the daemon behaves the same
whatever directory systemd starts it in.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.durations import parse_duration
from monitor.errors import ConfigError
from monitor.notify.settings import CHANNEL_SETTINGS, ChannelSettings, ConsoleSettings
from monitor.story_updates import UpdatePolicy
from monitor.types import FeedSource, Problem
from monitor.yamlfile import YamlDocument, read_yaml, validation_problems

DEFAULT_CONFIG = "monitor.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: object) -> timedelta:
    return parse_duration(value)  # type: ignore[arg-type]


class FeedSettings(_Strict):
    url: str
    every: timedelta | None = None
    name: str | None = None

    _every = field_validator("every", mode="before")(classmethod(lambda cls, v: None if v is None else _duration(v)))

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        value = value.strip()
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("a feed URL must start with http:// or https://")
        return value

    @field_validator("every")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(seconds=1):
            raise ValueError("every must be at least 1s")
        return value

    def source(self) -> FeedSource:
        return FeedSource(url=self.url, name=self.name, every=self.every)


class FetchSettings(_Strict):
    allow_private_networks: bool = False
    timeout: float = Field(20.0, gt=0, description="seconds for a whole request, body included")
    connect_timeout: float = Field(10.0, gt=0)
    max_bytes: int = Field(15 * 1024 * 1024, gt=0, description="cap on a decompressed body")
    max_redirects: int = Field(5, ge=0)
    concurrency: int = Field(8, ge=1, description="requests in flight at once")
    per_host: int = Field(2, ge=1, description="requests in flight to one host")
    host_gap: float = Field(0.0, ge=0, description="seconds between two requests to one host")
    user_agent: str | None = None
    contact: str | None = Field(None, description="a URL or address publishers can reach you at")
    fetch_articles: bool = True


class DeliverySettings(_Strict):
    first_retry: timedelta = timedelta(seconds=30)
    max_retry: timedelta = timedelta(hours=6)
    every: timedelta = timedelta(seconds=5)
    """How often the daemon's sender looks for due alerts."""
    lease: timedelta = timedelta(minutes=5)
    """How long a claimed alert is reserved for one sender: after a crash, alerts in hand are resent after it."""

    _durations = field_validator("first_retry", "max_retry", "every", "lease", mode="before")(
        classmethod(lambda cls, v: _duration(v))
    )


class AdminSettings(_Strict):
    """Alerts for the operator: a feed failing for longer than `feed_failing_after`, and its recovery."""

    channels: list[str] = Field(min_length=1)
    feed_failing_after: timedelta = timedelta(hours=6)

    _durations = field_validator("feed_failing_after", mode="before")(classmethod(lambda cls, v: _duration(v)))


class ServerSettings(_Strict):
    """The daemon's HTTP endpoint for operators: /healthz for probes, /metrics for Prometheus."""

    host: str = "127.0.0.1"
    port: int = Field(9108, ge=0, le=65535, description="0 picks a free port (tests)")


class WorkersSettings(_Strict):
    """Where the work runs: in the daemon (`local`), or in `monitor worker` processes on Procrastinate.

    `distributed` needs `database:` to be PostgreSQL: the queue lives in the same database.
    """

    mode: Literal["local", "distributed"] = "local"
    concurrency: int = Field(4, ge=1, le=256, description="jobs one `monitor worker` runs at once")
    queue: str = Field("monitor", min_length=1, description="the Procrastinate queue name prefix")
    stalled_after: timedelta = timedelta(seconds=30)
    """A worker without a heartbeat for this long is taken for dead: the scheduler fails its jobs and
    their feeds are polled again. Workers beat four times per period."""

    _stalled = field_validator("stalled_after", mode="before")(classmethod(lambda cls, v: _duration(v)))

    @field_validator("stalled_after")
    @classmethod
    def _stalled_floor(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=4):
            raise ValueError("stalled_after must be at least 4s (workers beat every quarter of it)")
        return value


class StoryUpdateSettings(_Strict):
    """When a story that alerted earns one more message, threaded under its alert (monitor.story_updates)."""

    outlets: int = Field(3, ge=1, description="new outlets since the alert that make an update")
    min_gap: timedelta = timedelta(hours=1)
    """No update sooner than this after the alert."""
    max: int = Field(1, ge=1, description="updates per story and watchlist (`story_updates: false` for none)")

    _gap = field_validator("min_gap", mode="before")(classmethod(lambda cls, v: _duration(v)))

    @property
    def policy(self) -> UpdatePolicy:
        return UpdatePolicy(outlets=self.outlets, min_gap=self.min_gap, most=self.max)


class Settings(_Strict):
    """Everything monitor.yaml says, validated, with paths made absolute."""

    database: str = "sqlite:///monitor.db"
    watchlists: Path = Path("watchlists")
    feeds: list[FeedSettings] = Field(default_factory=list)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    channels: dict[str, ChannelSettings] = Field(default_factory=dict)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    admin: AdminSettings | None = None
    server: ServerSettings | None = None
    """Unset: no HTTP endpoint. `server: {}` serves on 127.0.0.1:9108."""
    workers: WorkersSettings = Field(default_factory=WorkersSettings)
    every: timedelta | None = None
    """Pins every feed without its own `every:` to this interval; unset, intervals adapt to each feed's pace."""
    backfill: timedelta = timedelta(hours=24)
    story_window: timedelta = timedelta(hours=48)
    """Articles about the same story within this window alert once."""
    story_updates: StoryUpdateSettings | None = Field(default_factory=StoryUpdateSettings)
    """None (`story_updates: false`): a story never sends an update after its alert."""
    min_interval: timedelta = timedelta(minutes=5)
    max_interval: timedelta = timedelta(hours=24)
    log_level: str = "INFO"
    base_dir: Path = Path(".")
    source: Path | None = None

    _durations = field_validator("every", "backfill", "story_window", "min_interval", "max_interval", mode="before")(
        classmethod(lambda cls, v: None if v is None else _duration(v))
    )

    @property
    def first_interval(self) -> timedelta:
        """A new, unpinned feed's interval until its pace is known."""
        return min(max(timedelta(minutes=15), self.min_interval), self.max_interval)

    def feed_specs(self) -> list[tuple[str, str | None, timedelta | None]]:
        """(url, name, pinned interval or None) for each configured feed."""
        return [(f.url, f.name, f.every or self.every) for f in self.feeds]

    @field_validator("feeds", "channels", mode="before")
    @classmethod
    def _empty(cls, value: object, info: ValidationInfo) -> object:
        # `feeds:` with nothing under it is YAML null: the user means none yet.
        if value is None:
            return [] if info.field_name == "feeds" else {}
        return value

    @field_validator("database")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a SQLAlchemy database URL: {value!r}") from exc
        return value

    @field_validator("story_updates", mode="before")
    @classmethod
    def _updates_switch(cls, value: object) -> object:
        # `story_updates: false` turns updates off; `true` or an empty key means the defaults.
        if value is False:
            return None
        return {} if value is None or value is True else value

    @property
    def update_policy(self) -> UpdatePolicy | None:
        return self.story_updates.policy if self.story_updates is not None else None

    @field_validator("server", mode="before")
    @classmethod
    def _server_empty(cls, value: object) -> object:
        # `server:` with nothing under it is YAML null: the user means the defaults.
        return {} if value is None else value

    @model_validator(mode="after")
    def _distributed_needs_postgres(self) -> Settings:
        if self.workers.mode == "distributed" and make_url(self.database).get_backend_name() != "postgresql":
            raise ValueError("workers: {mode: distributed} needs a PostgreSQL database (database: postgresql://...)")
        return self

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log_level is one of DEBUG, INFO, WARNING, ERROR")
        return level

    @property
    def feed_sources(self) -> list[FeedSource]:
        return [f.source() for f in self.feeds]

    @property
    def active_channels(self) -> dict[str, ChannelSettings]:
        """The configured channels, or one console channel when none is."""
        return dict(self.channels) or {"console": ConsoleSettings(type="console")}

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path made relative to monitor.yaml's folder."""
        url = make_url(self.database)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            path = Path(url.database)
            if not path.is_absolute():
                return str(url.set(database=str(self.base_dir / path)))
        return self.database

    @property
    def watchlist_dir(self) -> Path:
        return self.watchlists if self.watchlists.is_absolute() else self.base_dir / self.watchlists


def config_path(option: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> Path:
    """--config, else $MONITOR_CONFIG, else ./monitor.yaml."""
    environ = os.environ if env is None else env
    return Path(option or environ.get("MONITOR_CONFIG") or DEFAULT_CONFIG)


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate monitor.yaml; raise ConfigError listing every problem with file and line."""
    if not path.exists():
        raise ConfigError([Problem(str(path), None, None,
                                   "no such configuration file (give --config or set MONITOR_CONFIG)")])
    doc = read_yaml(path, expand_env=True, env=env)
    data: Any = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError([Problem(str(path), 1, None, "the configuration must be a mapping of keys")])
    problems: list[Problem] = list(doc.problems)
    for reserved in ("base_dir", "source"):
        if reserved in data:
            problems.append(doc.problem((reserved,), "unknown key (misspelt?)"))
    data = _precheck(doc, data, problems)
    base = path.resolve().parent
    try:
        settings = Settings.model_validate({**data, "base_dir": base, "source": path.resolve()})
    except ValidationError as exc:
        problems.extend(validation_problems(doc, exc))
        raise ConfigError(problems) from exc
    if problems:
        raise ConfigError(problems)
    return settings


def _precheck(doc: YamlDocument, data: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """What pydantic cannot say well: an unknown channel type at its own line, a feed listed twice.

    Channels with an unknown type are left out of validation so the others are still checked.
    """
    channels = data.get("channels")
    if isinstance(channels, dict):
        known = ", ".join(sorted(CHANNEL_SETTINGS))
        kept = {}
        for name, channel in channels.items():
            kind = channel.get("type") if isinstance(channel, dict) else None
            if isinstance(channel, dict) and kind not in CHANNEL_SETTINGS:
                where = ("channels", name, "type") if "type" in channel else ("channels", name)
                problems.append(doc.problem(where, f"type must be one of {known}, not {kind!r}"))
            else:
                kept[name] = channel
        data = {**data, "channels": kept}
    feeds = data.get("feeds")
    if isinstance(feeds, list):
        seen: dict[str, int] = {}
        for i, feed in enumerate(feeds):
            url = feed.get("url") if isinstance(feed, dict) else None
            if isinstance(url, str):
                if url.strip() in seen:
                    problems.append(doc.problem(("feeds", i, "url"),
                                                f"the same feed is listed twice (also item {seen[url.strip()]})"))
                seen.setdefault(url.strip(), i)
    return data

