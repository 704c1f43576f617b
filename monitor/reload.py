"""Live reload: monitor.yaml and the watchlists are watched while the daemon runs.

    a file is saved ─watchfiles (debounced; editor temp files ignored)─▶ load_all + Matcher, off the loop
        ─valid─▶ sync the feeds table, then swap settings, watchlists, matcher, routes, channels and the
                 HTTP client in one synchronous step ─▶ `config_reloaded` (what changed)
        ─ConfigError─▶ `config_reload_failed` (every problem, file:line) and ONE admin alert per distinct
                 set of problems; the last valid configuration keeps running

Why the swap is safe: it runs on the event loop without awaiting, so no other coroutine sees half of
it; an article is matched and routed with the matcher and routes read together (Pipeline._article),
and a delivery tick sends on the channels it claimed for (Outbox.deliver_due). What the swap replaces
(channels, the HTTP client) is closed only once the jobs that were running at the swap are done.

Settings the running daemon cannot change (the database, the HTTP server, the workers' mode, the
delivery tick, the log level) keep their old value and are logged as `restart_needed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from watchfiles import Change, awatch

from monitor.admin import ADMIN_WATCHLIST
from monitor.app import Loaded, hold_policies, load_all, user_agent, watchlist_policies
from monitor.config import Settings
from monitor.errors import ConfigError, MonitorError
from monitor.fetch import Fetcher
from monitor.matching import Matcher, Watchlist
from monitor.notify import Channel, build_channel
from monitor.pipeline import Pipeline
from monitor.store.timeutil import utcnow
from monitor.types import Alert, Article, Match, Problem

log = logging.getLogger("monitor.reload")

QUIET = 0.5
"""Seconds without a new change before a batch of changes is read: an editor's save is one batch."""
MOST = 5.0
"""Longest a batch is held while changes keep coming."""
RETRY = 30.0
"""Seconds before a reload that failed on something other than the files (the database) is retried."""
RESTART_KEYS = ("database", "server", "workers", "log_level")
"""Top-level settings a running daemon keeps: the store, the HTTP endpoint, the mode and logging are set up once."""
_TEMP_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".bak", ".orig")


def is_editor_temp(name: str) -> bool:
    """vim's .swp and its 4913 probe, emacs's .#lock and #autosave#, backups~: never a watchlist."""
    return (name.startswith((".", "#")) or name.endswith(_TEMP_SUFFIXES) or name.endswith("#")
            or name == "4913")


@dataclass(frozen=True)
class WatchedFiles:
    """What a running daemon reads: monitor.yaml, the watchlist folder's YAML files, their seed files.

    Used as watchfiles' filter. Folders are watched rather than files, because editors save by
    writing a new file and renaming it over the old one, which ends a watch on the old file.
    """

    config: Path
    folder: Path
    seeds: frozenset[Path] = frozenset()

    @classmethod
    def of(cls, settings: Settings, watchlists: Iterable[Watchlist], config: Path) -> WatchedFiles:
        return cls(Path(settings.source or config).resolve(), settings.watchlist_dir.resolve(),
                   frozenset(seed.resolve() for w in watchlists for seed in w.seeds))

    def folders(self) -> list[Path]:
        """The folders to watch (not recursively: watchlists are read from the folder's top level)."""
        wanted = {self.config.parent, self.folder, *(seed.parent for seed in self.seeds)}
        return sorted(folder for folder in wanted if folder.is_dir())

    def relevant(self, path: Path) -> bool:
        if path == self.config or path in self.seeds:
            return True
        return (path.parent == self.folder and path.suffix.lower() in (".yaml", ".yml")
                and not is_editor_temp(path.name))

    def __call__(self, change: Change, path: str) -> bool:
        return self.relevant(Path(path))


async def config_changes(files: WatchedFiles, stop: asyncio.Event, *, quiet: float = QUIET,
                         most: float = MOST, tick: float = 1.0) -> AsyncIterator[set[Path]]:
    """Batches of changed files: a batch ends after `quiet` seconds without a change (or `most` seconds).

    Yields an empty set every `tick` seconds without a change, so the caller can retry or stop.
    Returns when `stop` is set (within `tick` seconds).
    """
    async for batch in awatch(*files.folders(), watch_filter=files, debounce=int(most * 1000),
                              step=int(quiet * 1000), stop_event=stop, rust_timeout=int(tick * 1000),
                              yield_on_timeout=True, recursive=False):
        yield {Path(path) for _change, path in batch}


@dataclass(frozen=True)
class Fingerprints:
    """Digests of each watchlist's file and seeds, and of the folder's other YAML files (classes),
    to tell a changed watchlist from an untouched one."""

    watchlists: Mapping[str, str] = field(default_factory=dict)
    shared: str = ""

    @classmethod
    def of(cls, watchlists: Sequence[Watchlist], folder: Path) -> Fingerprints:
        own = {w.path.resolve() for w in watchlists if w.path is not None}
        digests = {w.name: _digest([w.path, *w.seeds] if w.path else list(w.seeds)) for w in watchlists}
        files = WatchedFiles(Path(), folder.resolve())
        others = sorted(p for p in folder.resolve().iterdir() if files.relevant(p) and p not in own) \
            if folder.is_dir() else []
        return cls(digests, _digest(others))


def _digest(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path).encode())
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"\0unreadable")
    return h.hexdigest()


@dataclass(frozen=True)
class Prepared:
    """A validated configuration, ready to swap in: built off the event loop."""

    loaded: Loaded
    matcher: Matcher
    fingerprints: Fingerprints
    files: WatchedFiles


def prepare(config: Path) -> Prepared:
    """Load and validate everything, and compile the matcher: raises ConfigError with every problem."""
    loaded = load_all(config)
    watchlists = loaded.watchlists
    return Prepared(loaded, Matcher(watchlists), Fingerprints.of(watchlists, loaded.settings.watchlist_dir),
                    WatchedFiles.of(loaded.settings, watchlists, config))


def keep_restart_settings(old: Settings, new: Settings) -> tuple[Settings, list[str]]:
    """The new settings with what needs a restart kept as it runs, and the keys that differed."""
    keys = [key for key in RESTART_KEYS if getattr(old, key) != getattr(new, key)]
    update: dict[str, Any] = {key: getattr(old, key) for key in keys}
    if old.delivery.every != new.delivery.every:  # the daemon's delivery tick is scheduled once
        keys.append("delivery.every")
        update["delivery"] = new.delivery.model_copy(update={"every": old.delivery.every})
    return (new.model_copy(update=update) if update else new), keys


@dataclass(frozen=True)
class Changes:
    """What a reload changed, by name; logged as `config_reloaded`."""

    watchlists_added: tuple[str, ...] = ()
    watchlists_removed: tuple[str, ...] = ()
    watchlists_changed: tuple[str, ...] = ()
    feeds_added: tuple[str, ...] = ()
    feeds_removed: tuple[str, ...] = ()
    feeds_changed: tuple[str, ...] = ()
    channels_added: tuple[str, ...] = ()
    channels_removed: tuple[str, ...] = ()
    channels_changed: tuple[str, ...] = ()
    settings_changed: tuple[str, ...] = ()
    restart_needed: tuple[str, ...] = ()

    def fields(self) -> dict[str, str]:
        """The non-empty ones, as log fields."""
        return {name: ",".join(value) for name, value in self.__dict__.items() if value}

    @property
    def applied(self) -> bool:
        return any(value for name, value in self.__dict__.items() if name != "restart_needed")


class _Closeable(Protocol):
    async def aclose(self) -> None: ...


@dataclass
class Plan:
    """The objects a reload swaps in, built before anything running is touched."""

    settings: Settings
    prepared: Prepared
    channels: dict[str, Channel]
    fetcher: Fetcher
    changes: Changes
    built: list[_Closeable]
    """Made for this plan: closed if the plan is not applied."""
    retired: list[_Closeable]
    """Replaced by this plan: closed once the work running at the swap is done."""


def plan(pipeline: Pipeline, prepared: Prepared, fingerprints: Fingerprints) -> Plan:
    """Build the new channels and HTTP client (only those whose settings changed) and say what changes."""
    old = pipeline.settings
    new, restart = keep_restart_settings(old, prepared.loaded.settings)
    old_channels, old_config = pipeline.outbox.channels, old.active_channels
    channels: dict[str, Channel] = {}
    built: list[_Closeable] = []
    try:
        for name, cfg in new.active_channels.items():
            if name in old_channels and old_config.get(name) == cfg:
                channels[name] = old_channels[name]
            else:
                channels[name] = build_channel(name, cfg, console_stream=sys.stdout)
                built.append(channels[name])
    except (ValueError, MonitorError) as exc:
        source = str(new.source or "monitor.yaml")
        raise _Unbuilt(built, [Problem(source, None, f"channels.{name}", str(exc))]) from exc
    fetcher = pipeline.fetcher
    if new.fetch != old.fetch or user_agent(new) != user_agent(old):
        fetcher = Fetcher(new.fetch, user_agent=user_agent(new))
        built.append(fetcher)
    retired: list[_Closeable] = [ch for name, ch in old_channels.items() if channels.get(name) is not ch]
    if fetcher is not pipeline.fetcher:
        retired.append(pipeline.fetcher)
    before = {w.name for w in pipeline.watchlists}
    after = {w.name for w in prepared.loaded.watchlists}
    shared_changed = fingerprints.shared != prepared.fingerprints.shared
    old_feeds, new_feeds = [f.url for f in old.feeds], [f.url for f in new.feeds]
    old_by_url = {f.url: f for f in old.feeds}
    skip = {"feeds", "channels", "source", "base_dir", *RESTART_KEYS}
    changes = Changes(
        watchlists_added=tuple(sorted(after - before)), watchlists_removed=tuple(sorted(before - after)),
        watchlists_changed=tuple(sorted(n for n in after & before if shared_changed or fingerprints.watchlists.get(n)
                                        != prepared.fingerprints.watchlists.get(n))),
        feeds_added=tuple(u for u in new_feeds if u not in old_feeds),
        feeds_removed=tuple(u for u in old_feeds if u not in new_feeds),
        channels_added=tuple(n for n in channels if n not in old_channels),
        channels_removed=tuple(n for n in old_channels if n not in channels),
        channels_changed=tuple(n for n in channels if n in old_channels and channels[n] is not old_channels[n]),
        feeds_changed=tuple(f.url for f in new.feeds if f.url in old_by_url and old_by_url[f.url] != f),
        settings_changed=tuple(k for k in Settings.model_fields if k not in skip and getattr(old, k) != getattr(new, k)),
        restart_needed=tuple(restart))
    return Plan(new, prepared, channels, fetcher, changes, built, retired)


class _Unbuilt(Exception):
    """A channel could not be built from settings that validated: the plan is dropped."""

    def __init__(self, built: list[_Closeable], problems: list[Problem]) -> None:
        self.built, self.problems = built, problems
        super().__init__("; ".join(str(p) for p in problems))


def swap(pipeline: Pipeline, plan: Plan) -> None:
    """Put the plan in place in one synchronous step: no coroutine runs in between."""
    new, prepared = plan.settings, plan.prepared
    outbox = pipeline.outbox
    for name in (*plan.changes.channels_changed, *plan.changes.channels_removed):
        outbox.paused_until.pop(name, None)  # a pause was the old receiver's: the new one starts fresh
    pipeline.settings = new
    pipeline.watchlists = prepared.loaded.watchlists
    pipeline.matcher = prepared.matcher
    pipeline.fetcher = plan.fetcher
    pipeline.stories.window = new.story_window
    outbox.channels = plan.channels
    outbox.policies = hold_policies(new)
    outbox.watchlist_policies = watchlist_policies(prepared.loaded.watchlists)
    outbox.first_retry, outbox.max_retry, outbox.lease = new.delivery.first_retry, new.delivery.max_retry, \
        new.delivery.lease


def config_alert(problems: Sequence[Problem], now: datetime) -> Alert:
    """The admin alert for a configuration that did not load: the file and line first, every problem listed."""
    first = problems[0]
    where = first.file if first.line is None else f"{first.file}:{first.line}"
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    text = "\n".join(str(p) for p in problems)
    article = Article(url=Path(first.file).absolute().as_uri(), title=f"Configuration not reloaded: {where}{more}",
                      text=text, published=now, outlet="news-monitor", lang="en")
    why = (*(str(p) for p in problems[:10]), "the last valid configuration keeps running")
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Alert(ADMIN_WATCHLIST, article, Match(ADMIN_WATCHLIST, 1.0, why),
                 delivery_key=f"admin-config-{key}-{now:%Y%m%dT%H%M%S}")


class Reloader:
    """Watches the configuration of a running pipeline and applies each valid version of it."""

    def __init__(self, config: Path, pipeline: Pipeline, *,
                 in_flight: Callable[[], set[asyncio.Task[None]]] = set, quiet: float = QUIET,
                 sync_feeds: bool = True, admin_alerts: bool = True) -> None:
        self.config = config
        self.pipeline = pipeline
        self.sync_feeds = sync_feeds
        """False in distributed workers: the one scheduler writes the feeds table, workers racing it would fail."""
        self.admin_alerts = admin_alerts
        """False in distributed workers: the scheduler tells the admin about a broken file, once, not once per process."""
        self.in_flight = in_flight
        """The jobs running now: what the swap replaces is closed after they finish."""
        self.quiet = quiet
        self.files = WatchedFiles.of(pipeline.settings, pipeline.watchlists, config)
        self.fingerprints = Fingerprints.of(pipeline.watchlists, pipeline.settings.watchlist_dir)
        self.failing = False
        self._alerted: set[frozenset[str]] = set()
        """The sets of problems the admin channels were told about since the last valid version."""
        self._retry_at: float | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="config-reload")

    async def stop(self) -> None:
        """Stop watching, and close what earlier reloads replaced."""
        self._stop.set()
        if self._task is not None:
            _done, pending = await asyncio.wait({self._task}, timeout=10)
            for task in pending:
                task.cancel()
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=10)

    async def run(self) -> None:
        """Watch until stopped; a failure of the watch itself is logged and the watch restarted."""
        log.info("config_watch_started", extra={"config": str(self.files.config), "watchlists": str(self.files.folder)})
        while not self._stop.is_set():
            files = self.files
            try:
                async for changed in config_changes(files, self._stop, quiet=self.quiet):
                    if changed or (self._retry_at is not None and time.monotonic() >= self._retry_at):
                        log.debug("config_changed", extra={"files": ",".join(sorted(str(p) for p in changed))})
                        await self.reload()
                    if self.files != files:
                        break  # the watchlist folder or the seeds moved: watch the new places
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a watch error (a folder deleted) must not stop the daemon
                log.warning("config_watch_error", extra={"error": f"{exc.__class__.__name__}: {exc}"})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=5)

    async def reload(self) -> Changes | None:
        """Load, validate and apply the configuration; None when it did not apply (and why is logged)."""
        self._retry_at = None
        try:
            prepared = await asyncio.to_thread(prepare, self.config)
        except ConfigError as exc:
            await self._failed(exc.problems)
            return None
        except Exception:  # a bug must not stop the daemon: the last valid version keeps running
            log.exception("config_reload_error", extra={"config": str(self.config)})
            self.failing = True
            return None
        try:
            new = plan(self.pipeline, prepared, self.fingerprints)
        except _Unbuilt as exc:
            await _close(exc.built)
            await self._failed(exc.problems)
            return None
        try:
            new_settings = new.settings
            if self.sync_feeds:
                self.pipeline.store.sync_feeds(new_settings.feed_specs(),
                                               default_interval=new_settings.first_interval, now=utcnow())
        except MonitorError as exc:  # the database, not the files: try again in a while
            await _close(new.built)
            self._retry_at = time.monotonic() + RETRY
            log.error("config_reload_failed", extra={"error": str(exc), "retry_in": RETRY})
            return None
        swap(self.pipeline, new)
        self.files, self.fingerprints = prepared.files, prepared.fingerprints
        if new.retired:
            closing = asyncio.create_task(self._retire(new.retired, self.in_flight()))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        if self.failing:
            log.info("config_reload_recovered", extra={"config": str(self.config)})
        self.failing = False
        self._alerted.clear()
        for key in new.changes.restart_needed:
            log.warning("restart_needed", extra={"key": key, "reason": "kept as it runs until the daemon restarts"})
        if new.changes.applied:
            log.info("config_reloaded", extra={"watchlists": len(prepared.loaded.watchlists),
                                               "feeds": len(new_settings.feeds), **new.changes.fields()})
        else:
            log.info("config_unchanged", extra={"config": str(self.config)})
        return new.changes

    async def _failed(self, problems: Sequence[Problem]) -> None:
        """Tell the admin channels once per distinct set of problems, then log (so the log line
        follows the alert: what it says about the alert is what happened)."""
        self.failing = True
        key = frozenset(str(p) for p in problems)
        if not self.admin_alerts:
            admin_alert = "left_to_the_scheduler"
        elif key in self._alerted:
            admin_alert = "already_sent"
        elif await self._alert_admin(problems):
            self._alerted.add(key)
            admin_alert = "sent"
        else:
            admin_alert = "failed"
        log.error("config_reload_failed", extra={
            "count": len(problems), "problems": "; ".join(str(p) for p in problems),
            "kept": "the last valid configuration", "admin_alert": admin_alert})

    async def _alert_admin(self, problems: Sequence[Problem]) -> bool:
        """One alert on the running configuration's admin channels; True when each accepted it.

        Without `admin:` it goes to every channel: an edit that silently did not take effect (a new
        watchlist that never alerts) is worse than one message where the user reads alerts anyway.
        """
        if not problems:
            return True
        admin = self.pipeline.settings.admin
        names = list(admin.channels) if admin is not None else list(self.pipeline.outbox.channels)
        alert = config_alert(problems, datetime.now(UTC))
        accepted = True
        for name in names:
            channel = self.pipeline.outbox.channels.get(name)
            if channel is None:
                continue
            try:
                await channel.send(alert)
            except MonitorError as exc:
                accepted = False
                log.warning("admin_alert_failed", extra={"channel": name, "error": str(exc)})
            except Exception:  # a bug in a channel must not stop the watcher
                accepted = False
                log.exception("admin_alert_failed", extra={"channel": name})
        return accepted

    @staticmethod
    async def _retire(objects: list[_Closeable], busy: set[asyncio.Task[None]]) -> None:
        if busy:
            await asyncio.wait(busy)
        await _close(objects)


async def _close(objects: Iterable[_Closeable]) -> None:
    for obj in objects:
        try:
            await obj.aclose()
        except Exception as exc:  # closing a replaced connection must not stop the reload
            log.warning("close_failed", extra={"error": f"{exc.__class__.__name__}: {exc}"})
