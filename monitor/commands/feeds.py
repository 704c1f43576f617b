"""`monitor feeds`: each feed's health: last success, last error, errors in a row, next check,
entries per day, and whether its pages extract to full text or only teasers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.commands.common import (
    chosen_config,
    config_option,
    err,
    guard,
    out,
    print_jsonl,
    print_table,
    run_async,
    when,
)
from monitor.durations import format_duration, parse_duration

if TYPE_CHECKING:
    from monitor.config import Settings
    from monitor.feedsources import FoundFeed
    from monitor.store import FeedState, Store


@click.group("feeds", invoke_without_command=True)
@config_option
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.pass_context
@guard
def feeds_group(ctx: click.Context, fmt: str) -> None:
    """Each feed's health (the same as `monitor feeds list`)."""
    if ctx.invoked_subcommand is None:
        _list(ctx, fmt)


@feeds_group.command("list")
@config_option
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.pass_context
@guard
def list_command(ctx: click.Context, fmt: str) -> None:
    """Each feed's health: last success, last error, errors in a row, next check, entries per day,
    and how its last 50 articles extracted (full text, teaser, feed summary, failed)."""
    _list(ctx, fmt)


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """A feed as `monitor feeds` shows it: its fetch state, its pace, and how well its pages read."""

    feed: FeedState
    entries_per_day: float
    """Articles published (or first seen, when undated) in the last PACE_WINDOW, per day."""
    extraction: Mapping[str, int]
    """Statuses (full, teaser, summary, failed) of its last EXTRACTION_WINDOW articles."""

    @property
    def extraction_label(self) -> str:
        """"full 46/50, teaser 3, summary 1"; empty before the feed's first article."""
        total = sum(self.extraction.values())
        if not total:
            return ""
        rest = [f"{status} {n}" for status, n in self.extraction.items() if status != "full" and n]
        return ", ".join([f"full {self.extraction.get('full', 0)}/{total}", *rest])


PACE_WINDOW = timedelta(days=7)
EXTRACTION_WINDOW = 50


def feed_health(store: Store, *, now: datetime) -> list[FeedHealth]:
    """Every active feed's health, from three queries whatever the number of feeds."""
    feeds = store.feeds()
    ids = [f.id for f in feeds]
    paces = store.entries_per_feed(now - PACE_WINDOW, ids)
    extraction = store.extraction_by_feed(ids, last=EXTRACTION_WINDOW)
    days = PACE_WINDOW.total_seconds() / 86400
    return [FeedHealth(f, round(paces.get(f.id, 0) / days, 1), extraction.get(f.id, {})) for f in feeds]


def _list(ctx: click.Context, fmt: str) -> None:
    from monitor.app import load_all
    from monitor.store import open_store
    from monitor.store.timeutil import utcnow

    loaded = load_all(chosen_config(ctx))
    store = open_store(loaded.settings.database_url)
    try:
        store.sync_feeds(loaded.settings.feed_specs(), default_interval=loaded.settings.first_interval,
                         now=utcnow())
        health = feed_health(store, now=utcnow())
    finally:
        store.close()
    rows: list[dict[str, Any]] = []
    for h in health:
        f = h.feed
        rows.append({"url": f.url, "name": f.outlet, "interval": format_duration(f.interval),
                     "next_check": f.next_check_at, "last_success": f.last_success_at,
                     "last_error": f.last_error, "last_error_at": f.last_error_at,
                     "errors_in_a_row": f.error_count, "polls": f.polls, "entries_seen": f.entries_seen,
                     "entries_per_day": h.entries_per_day, "extraction": dict(h.extraction),
                     "healthy": f.error_count == 0})
    if fmt == "jsonl":
        print_jsonl(rows)
        return
    columns = ["feed", "every", "next check", "last success", "errors", "last error", "entries/day", "extraction"]
    print_table(f"{len(rows)} feed(s)", columns, [
        (f"{r['name'] or ''}\n{r['url']}".strip(), r["interval"], when(r["next_check"]), when(r["last_success"]),
         r["errors_in_a_row"], _error(r["last_error"], r["last_error_at"]), r["entries_per_day"],
         h.extraction_label) for r, h in zip(rows, health, strict=True)])


def _error(message: str | None, at: datetime | None) -> str:
    return f"{message} ({when(at)})" if message and at else message or ""


def _every(value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from exc


@feeds_group.command("add")
@config_option
@click.argument("url")
@click.option("--every", default=None, help="Pin the interval (30s, 15m, 1h...); default: adapt to the feed's pace.")
@click.option("--name", default=None, help="The outlet's name in alerts.")
@click.pass_context
@guard
def add_command(ctx: click.Context, url: str, every: str | None, name: str | None) -> None:
    """Add a feed by its URL, or by a web page's URL (the page's <link rel="alternate"> feed is found)."""
    from monitor.app import load_all
    from monitor.store import open_store
    from monitor.store.timeutil import utcnow

    loaded = load_all(chosen_config(ctx))
    interval = _every(every)
    found = run_async(_find(loaded.settings, url))
    store = open_store(loaded.settings.database_url)
    try:
        store.sync_feeds(loaded.settings.feed_specs(), default_interval=loaded.settings.first_interval, now=utcnow())
        state, is_new = store.add_feed(found.url, name=name or found.title, every=interval,
                                       default_interval=loaded.settings.first_interval, now=utcnow())
    finally:
        store.close()
    via = f" (found on {found.discovered_from})" if found.discovered_from else ""
    verb = "added" if is_new else "already monitored:"
    out.print(f"{verb} {state.url}{via}: {found.title or 'untitled'}, {found.entries} entries now", markup=False)


async def _find(settings: Settings, url: str) -> FoundFeed:
    from monitor.app import user_agent
    from monitor.feedsources import find_feed
    from monitor.fetch import Fetcher

    async with Fetcher(settings.fetch, user_agent=user_agent(settings)) as fetcher:
        return await find_feed(fetcher, url)


@feeds_group.command("import")
@config_option
@click.argument("opml", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--every", default=None, help="Pin the interval of every imported feed.")
@click.pass_context
@guard
def import_command(ctx: click.Context, opml: Path, every: str | None) -> None:
    """Import the subscriptions of a feed reader (OPML). Feeds are checked on their first poll."""
    from monitor.app import load_all
    from monitor.feedsources import read_opml
    from monitor.store import open_store
    from monitor.store.timeutil import utcnow

    loaded = load_all(chosen_config(ctx))
    interval = _every(every)
    feeds = read_opml(opml)
    store = open_store(loaded.settings.database_url)
    added = 0
    try:
        store.sync_feeds(loaded.settings.feed_specs(), default_interval=loaded.settings.first_interval, now=utcnow())
        for feed in feeds:
            if not feed.url.lower().startswith(("http://", "https://")):
                err.print(f"skipped {feed.url}: not an http(s) URL", markup=False)
                continue
            _state, is_new = store.add_feed(feed.url, name=feed.title, every=interval,
                                            default_interval=loaded.settings.first_interval, now=utcnow())
            added += is_new
    finally:
        store.close()
    out.print(f"{added} feed(s) added, {len(feeds) - added} already monitored or skipped, from {opml}", markup=False)


@feeds_group.command("remove")
@config_option
@click.argument("url")
@click.pass_context
@guard
def remove_command(ctx: click.Context, url: str) -> None:
    """Stop polling a feed added with `feeds add` or `feeds import` (its articles and matches stay)."""
    from monitor.app import load_all
    from monitor.store import open_store

    loaded = load_all(chosen_config(ctx))
    store = open_store(loaded.settings.database_url)
    try:
        state = store.remove_feed(url)
    finally:
        store.close()
    if state is None:
        raise click.UsageError(f"no such feed: {url} (see `monitor feeds list`)")
    if state.origin == "config":
        raise click.UsageError(f"{url} is listed in monitor.yaml: remove it there")
    out.print(f"removed {url}", markup=False)


COMMANDS = [feeds_group]
