"""`monitor matches`: what matched, when, and why."""

from __future__ import annotations

import click

from monitor.commands.common import (
    chosen_config,
    config_option,
    guard,
    print_jsonl,
    print_table,
    since_option,
    when,
)
from monitor.store.values import StoredMatch


@click.command("matches")
@config_option
@click.option("--since", default="7d", show_default=True, help="How far back: 30m, 12h, 7d...")
@click.option("--watchlist", default=None, help="Only this watchlist (by name).")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.option("--limit", type=int, default=None)
@click.pass_context
@guard
def matches_command(ctx: click.Context, since: str, watchlist: str | None, fmt: str, limit: int | None) -> None:
    """What matched, when, and why, newest first."""
    from monitor.app import load_all
    from monitor.store import open_store

    loaded = load_all(chosen_config(ctx))
    store = open_store(loaded.settings.database_url)
    try:
        rows = store.matches(since=since_option(since), watchlist=watchlist, limit=limit)
    finally:
        store.close()
    if fmt == "jsonl":
        print_jsonl([{
            "id": m.id, "watchlist": m.watchlist, "score": round(m.score, 4), "why": list(m.why),
            "snippet": m.snippet, "matched_at": m.created_at.isoformat(), "alerted": m.alerted,
            "url": m.url, "title": m.title, "outlet": m.outlet,
            "published": m.published.isoformat() if m.published else None, "extraction": m.status,
            "deliveries": dict(m.deliveries), "story": m.story_id, "duplicate_of": m.duplicate_of} for m in rows])
        return
    print_table(f"{len(rows)} match(es)", ["when", "watchlist", "score", "article", "why", "extraction", "alerts"], [
        (when(m.created_at), m.watchlist, f"{m.score:.2f}", f"{m.title}\n{m.url}" + (f"\n{m.outlet}" if m.outlet else ""),
         "; ".join(m.why), m.status,
         _alerts(m))
        for m in rows])


def _alerts(m: StoredMatch) -> str:
    """Where the match went, or why it went nowhere: its story alerted already, or it was backfill."""
    sent = ", ".join(f"{c}: {s}" for c, s in m.deliveries)
    if m.alerted:
        return sent
    if m.duplicate_of is not None:
        return f"joined the story of match {m.duplicate_of}" + (f" ({sent})" if sent else "")
    return "silent (backfill)"


COMMANDS = [matches_command]
