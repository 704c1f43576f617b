"""The commands of `monitor`, one module per group; `register` attaches them to the CLI."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    from monitor.commands import db, deliveries, extract, feeds, matches, mute, notify, run, stories, watchlist, worker

    for module in (run, matches, watchlist, mute, extract, feeds, deliveries, notify, stories, db, worker):
        for command in module.COMMANDS:
            main.add_command(command)
