"""`monitor feeds`: each feed's health: last success, last error, errors in a row, next check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from monitor.app import load_all
from monitor.commands.common import chosen_config, config_option, guard, print_jsonl, print_table, when
from monitor.durations import format_duration
from monitor.store import open_store
from monitor.store.timeutil import utcnow


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
    loaded = load_all(chosen_config(ctx))
    store = open_store(loaded.settings.database_url)
    try:
        store.sync_feeds([(f.url, f.name, f.every) for f in loaded.settings.feeds],
                         default_interval=loaded.settings.every, now=utcnow())
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


COMMANDS = [feeds_group]
