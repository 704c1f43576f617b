"""Builds a Pipeline from validated settings, and validates everything a user wrote at once."""

from __future__ import annotations

import gc
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from monitor import __version__
from monitor.config import Settings, load_settings
from monitor.errors import ConfigError
from monitor.extractor import Extractor
from monitor.fetch import Fetcher
from monitor.matching import Matcher, Watchlist, load_watchlists
from monitor.notify import build_channel
from monitor.outbox import HoldPolicy, Outbox
from monitor.pipeline import Pipeline
from monitor.store import Store, open_store
from monitor.store.timeutil import utcnow
from monitor.stories import StoryIndex
from monitor.types import Problem


@dataclass(frozen=True)
class Loaded:
    settings: Settings
    watchlists: list[Watchlist]


def load_all(config: Path) -> Loaded:
    """monitor.yaml and every watchlist, validated together: raises ConfigError with every problem."""
    settings = load_settings(config)
    folder = settings.watchlist_dir
    if not folder.is_dir():
        raise ConfigError([Problem(str(settings.source or config), None, "watchlists",
                                   f"no such folder: {folder}")])
    watchlists, problems = load_watchlists(folder, project_dir=settings.base_dir)
    problems = list(problems)
    channels = set(settings.active_channels)
    names: dict[str, Path | None] = {}
    for w in watchlists:
        where = str(w.path) if w.path else str(folder)
        for name in w.notify or ():
            if name not in channels:
                known = ", ".join(sorted(channels))
                problems.append(Problem(where, None, "notify",
                                        f"no channel named {name!r} in monitor.yaml (channels: {known})"))
        if w.name in names:
            problems.append(Problem(where, None, "name", f"the name {w.name!r} is used by {names[w.name]} too"))
        names[w.name] = w.path
    if settings.admin is not None:
        for name in settings.admin.channels:
            if name not in channels:
                problems.append(Problem(str(settings.source or config), None, "admin.channels",
                                        f"no channel named {name!r} (channels: {', '.join(sorted(channels))})"))
    if problems:
        raise ConfigError(problems)
    return Loaded(settings, watchlists)


def hold_policies(settings: Settings) -> dict[str, HoldPolicy]:
    """The channels with `digest:` or `quiet_hours:`, and what they hold."""
    policies = {name: HoldPolicy.of(cfg.digest_schedule, cfg.quiet_hours)
                for name, cfg in settings.active_channels.items()}
    return {name: policy for name, policy in policies.items() if policy is not None}


def watchlist_policies(watchlists: list[Watchlist]) -> dict[str, HoldPolicy]:
    """The watchlists with `digest:` or `quiet_hours:` of their own."""
    policies = {w.name: HoldPolicy.of(w.digest, w.quiet_hours) for w in watchlists}
    return {name: policy for name, policy in policies.items() if policy is not None}


def lease_owner() -> str:
    """host:pid, written on every feed and delivery this process claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


def user_agent(settings: Settings) -> str:
    contact = settings.fetch.contact
    base = settings.fetch.user_agent or f"news-monitor/{__version__}"
    return f"{base} (+{contact})" if contact and "+" not in base else base


@asynccontextmanager
async def open_pipeline(loaded: Loaded, *, console: TextIO | None = None, extract_workers: int | None = None,
                        store: Store | None = None, sync_feeds: bool = True) -> AsyncIterator[Pipeline]:
    """A ready Pipeline: the store synced with the configured feeds, channels open; closed on exit.

    `sync_feeds=False` leaves the feeds table alone: distributed workers, which the one scheduler
    (`monitor run`) feeds with jobs, must not race it inserting the same new feeds."""
    settings = loaded.settings
    store = store or open_store(settings.database_url)
    if sync_feeds:
        store.sync_feeds(settings.feed_specs(), default_interval=settings.first_interval, now=utcnow())
    channels = {name: build_channel(name, cfg, console_stream=console or sys.stdout)
                for name, cfg in settings.active_channels.items()}
    owner = lease_owner()
    store.release_stale_leases(host=socket.gethostname(), alive=pid_alive)
    outbox = Outbox(store, channels, owner=owner, first_retry=settings.delivery.first_retry,
                    max_retry=settings.delivery.max_retry, lease=settings.delivery.lease,
                    policies=hold_policies(settings), watchlist_policies=watchlist_policies(loaded.watchlists))
    extractor = Extractor(extract_workers)
    fetcher = Fetcher(settings.fetch, user_agent=user_agent(settings))
    pipeline: Pipeline | None = None
    try:
        pipeline = Pipeline(settings=settings, store=store, fetcher=fetcher, extractor=extractor,
                            matcher=Matcher(loaded.watchlists), watchlists=loaded.watchlists, outbox=outbox,
                            stories=StoryIndex(window=settings.story_window), owner=owner)
        pipeline.restore_stories()
        yield pipeline
    finally:
        await (pipeline.fetcher if pipeline is not None else fetcher).aclose()  # a live reload may have replaced it
        await outbox.aclose()
        extractor.close()
        store.close()


@contextmanager
def settled() -> Iterator[None]:
    """While a daemon runs: what it loaded at start-up kept out of the cyclic collector's sight.

    Libraries, settings, watchlist automata and the restored story index live as long as the
    process: some 350,000 objects (bench/burst.py's daemon) that every full collection walked again,
    90 ms each time, in the middle of a burst of new articles as much as anywhere. gc.freeze() sets
    them aside after one collection of what is garbage already; what is made later is collected as
    before, and all is handed back to the collector when the daemon stops.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
