"""`monitor deliveries`: the outbox, for operators: what is pending, what died and why; retry."""

from __future__ import annotations

import click

from monitor.commands.common import chosen_config, config_option, guard, out, print_jsonl, print_table, when


@click.group("deliveries", invoke_without_command=True)
@config_option
@click.option("--status", type=click.Choice(["pending", "sent", "dead", "muted"]), default=None)
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.option("--limit", type=int, default=200, show_default=True)
@click.pass_context
@guard
def deliveries_group(ctx: click.Context, status: str | None, fmt: str, limit: int) -> None:
    """List deliveries (newest first), optionally by status."""
    if ctx.invoked_subcommand is not None:
        return
    from monitor.app import load_all
    from monitor.store import open_store

    loaded = load_all(chosen_config(ctx))
    store = open_store(loaded.settings.database_url)
    try:
        rows = store.deliveries(status=status, limit=limit)
    finally:
        store.close()
    if fmt == "jsonl":
        print_jsonl([{"id": d.id, "channel": d.channel, "status": d.status, "attempts": d.attempts,
                      "next_attempt_at": d.next_attempt_at, "last_error": d.last_error, "sent_at": d.sent_at,
                      "watchlist": d.watchlist, "title": d.title, "url": d.url} for d in rows])
        return
    print_table(f"{len(rows)} deliveries", ["id", "channel", "status", "attempts", "next attempt", "article", "error"],
                [(d.id, d.channel, d.status, d.attempts, when(d.next_attempt_at) if d.status == "pending" else "",
                  f"{d.title}\n{d.url}", d.last_error or "") for d in rows])


@deliveries_group.command("retry")
@config_option
@click.argument("ids", nargs=-1, type=int)
@click.option("--dead", is_flag=True, help="Retry every dead delivery.")
@click.pass_context
@guard
def retry_command(ctx: click.Context, ids: tuple[int, ...], dead: bool) -> None:
    """Make deliveries (by ID, or every dead one with --dead) pending again, due now."""
    if bool(ids) == dead:
        raise click.UsageError("give delivery IDs or --dead")
    from monitor.app import load_all
    from monitor.store import open_store
    from monitor.store.timeutil import utcnow

    loaded = load_all(chosen_config(ctx))
    store = open_store(loaded.settings.database_url)
    try:
        n = store.retry_deliveries(ids=list(ids) if ids else None, dead=dead, now=utcnow())
    finally:
        store.close()
    out.print(f"{n} deliveries will be retried by the next delivery run", markup=False)


COMMANDS = [deliveries_group]
