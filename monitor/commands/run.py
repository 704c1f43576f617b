"""`monitor run` (the daemon), `monitor run --once` (one cycle) and `monitor check`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from monitor.commands.common import chosen_config, config_option, err, fail_config, guard, out, run_async
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.app import Loaded

log = logging.getLogger("monitor")


def _load(ctx: click.Context) -> Loaded:
    from monitor.app import load_all

    try:
        loaded = load_all(chosen_config(ctx))
    except ConfigError as exc:
        fail_config(exc)
    if not (ctx.find_root().obj or {}).get("log_level"):
        logging.getLogger().setLevel(loaded.settings.log_level)
    return loaded


@click.command("run")
@config_option
@click.option("--once", is_flag=True, help="One full cycle over every due feed (on a fresh database: all), "
              "including delivery, then exit.")
@click.option("--extract-workers", type=int, default=None, metavar="N",
              help="Processes for article extraction (default: one per core; 0: in-process).")
@click.option("--no-reload", is_flag=True, help="Do not watch monitor.yaml and the watchlists for changes "
              "(by default the daemon applies each valid edit within seconds).")
@click.pass_context
@guard
def run_command(ctx: click.Context, once: bool, extract_workers: int | None, no_reload: bool) -> None:
    """Poll feeds, match, store and alert: as a daemon, or once with --once.

    The daemon polls each feed at its interval (APScheduler), delivers alerts continuously, and on
    SIGTERM or SIGINT finishes the work in hand and exits 0. Feed and channel errors are logged and
    retried; they never stop the daemon. Exits non-zero only when the configuration is invalid at
    start; later edits of monitor.yaml and the watchlists are applied live when they are valid.
    """
    from monitor.app import open_pipeline
    from monitor.daemon import Daemon, check_health

    loaded = _load(ctx)

    async def main() -> None:
        async with open_pipeline(loaded, extract_workers=extract_workers) as pipeline:
            if once:
                if loaded.settings.workers.mode == "distributed":  # workers may be deciding stories too
                    from monitor.distributed.stories import SharedStories

                    SharedStories(pipeline.store, mark=False).attach(pipeline)
                await pipeline.run_cycle()
                await check_health(pipeline)
            else:
                from monitor.distributed.scheduler import open_dispatcher

                async with open_dispatcher(pipeline) as jobs:  # distributed: the ticks defer jobs to workers
                    await Daemon(pipeline, reload_from=None if no_reload else chosen_config(ctx),
                                 poll=jobs.poll if jobs else None, deliver=jobs.deliver if jobs else None).run()

    run_async(main())


@click.command("check")
@config_option
@click.pass_context
def check_command(ctx: click.Context) -> None:
    """Validate monitor.yaml and every watchlist; print every problem with file and line."""
    from monitor.app import load_all

    path = chosen_config(ctx)
    try:
        loaded = load_all(path)
    except ConfigError as exc:
        fail_config(exc)
    s = loaded.settings
    out.print(f"{path}: OK — {len(s.feeds)} feed(s), {len(loaded.watchlists)} watchlist(s), "
              f"channels: {', '.join(s.active_channels)}", markup=False)
    for w in loaded.watchlists:
        notify = ", ".join(w.notify) if w.notify is not None else "every channel"
        out.print(f"  watchlist {w.name!r} ({w.path}) → {notify}", markup=False)
    if not s.channels:
        err.print("note: no channels configured: alerts go to the console", markup=False)


COMMANDS = [run_command, check_command]
