"""`monitor feeds`: each feed's health: last success, last error, errors in a row, next check."""

from __future__ import annotations

from datetime import timedelta
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
    """Each feed's health: last success, last error, errors in a row, next check, entries per day."""
    _list(ctx, fmt)


def _list(ctx: click.Context, fmt: str) -> None:
    from monitor.app import load_all
    from monitor.store import open_store
    from monitor.store.timeutil import utcnow

    loaded = load_all(chosen_config(ctx))
    store = open_store(loaded.settings.database_url)
    try:
        store.sync_feeds(loaded.settings.feed_specs(), default_interval=loaded.settings.first_interval,
                         now=utcnow())
        feeds = store.feeds()
    finally:
        store.close()
    now = utcnow()

    def per_day(entries: int, since: timedelta) -> float:
        days = max(since.total_seconds() / 86400, 1.0)
        return round(entries / days, 1)

    rows: list[dict[str, Any]] = []
    for f in feeds:
        age = now - (f.last_success_at or now) if f.last_success_at else timedelta(0)
        rows.append({"url": f.url, "name": f.outlet, "interval": format_duration(f.interval),
                     "next_check": f.next_check_at, "last_success": f.last_success_at,
                     "last_error": f.last_error, "last_error_at": f.last_error_at,
                     "errors_in_a_row": f.error_count, "polls": f.polls, "entries_seen": f.entries_seen,
                     "entries_per_day": per_day(f.entries_seen, age) if f.last_success_at else None,
                     "healthy": f.error_count == 0})
    if fmt == "jsonl":
        print_jsonl(rows)
        return
    print_table(f"{len(rows)} feed(s)", ["feed", "every", "next check", "last success", "errors", "last error"], [
        (f"{r['name'] or ''}\n{r['url']}".strip(), r["interval"], when(r["next_check"]), when(r["last_success"]),
         r["errors_in_a_row"], r["last_error"] or "") for r in rows])


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
