"""`monitor watchlist mute NAME 2h` and `monitor watchlist unmute NAME`.

A muted watchlist keeps matching and storing (so `monitor matches` shows what happened, each
delivery marked `muted`), but nothing it matches while muted is ever delivered: muted means no
alerts for that period, not alerts later.
"""

from __future__ import annotations

import click

from monitor.commands.common import chosen_config, config_option, guard, out, when
from monitor.commands.watchlist import watchlist_group


def _known(ctx: click.Context, name: str) -> str:
    from monitor.app import load_all

    loaded = load_all(chosen_config(ctx))
    names = [w.name for w in loaded.watchlists]
    if name not in names:
        raise click.BadParameter(f"no watchlist named {name!r} (watchlists: {', '.join(sorted(names))})",
                                 param_hint="NAME")
    return loaded.settings.database_url


@watchlist_group.command("mute")
@config_option
@click.argument("name")
@click.argument("duration")
@click.pass_context
@guard
def mute_command(ctx: click.Context, name: str, duration: str) -> None:
    """Silence the watchlist NAME for DURATION (30m, 2h, 3d): its matches are stored, not delivered."""
    from monitor.durations import parse_duration
    from monitor.store import open_store
    from monitor.store.timeutil import utcnow

    try:
        length = parse_duration(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="DURATION") from exc
    store = open_store(_known(ctx, name))
    try:
        now = utcnow()
        mute = store.mute(name, now=now, until=now + length)
    finally:
        store.close()
    out.print(f"{name!r} is muted until {when(mute.until)}: its new matches are stored and shown in "
              "`monitor matches` as muted, and not delivered", markup=False)


@watchlist_group.command("unmute")
@config_option
@click.argument("name")
@click.pass_context
@guard
def unmute_command(ctx: click.Context, name: str) -> None:
    """End the mute of the watchlist NAME now; matches made while it was muted stay undelivered."""
    from monitor.store import open_store
    from monitor.store.timeutil import utcnow

    store = open_store(_known(ctx, name))
    try:
        ended = store.unmute(name, now=utcnow())
    finally:
        store.close()
    out.print(f"{name!r} unmuted" if ended else f"{name!r} was not muted", markup=False)


COMMANDS: list[click.Command] = []
"""Both commands live in the `watchlist` group."""
