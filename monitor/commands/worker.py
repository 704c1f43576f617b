"""`monitor worker`: runs poll and delivery jobs for the scheduler (`workers: {mode: distributed}`)."""

from __future__ import annotations

import click

from monitor.commands.common import chosen_config, config_option, guard, run_async
from monitor.commands.run import _load
from monitor.errors import ConfigError
from monitor.types import Problem


@click.command("worker")
@config_option
@click.option("--concurrency", type=click.IntRange(1, 256), default=None, metavar="N",
              help="Jobs run at once (default: workers.concurrency in monitor.yaml).")
@click.option("--extract-workers", type=int, default=None, metavar="N",
              help="Processes for article extraction (default: one per core; 0: in-process).")
@click.option("--no-reload", is_flag=True, help="Do not watch monitor.yaml and the watchlists for changes.")
@click.option("--port", type=click.IntRange(0, 65535), default=None, metavar="PORT",
              help="Serve /healthz and /metrics on this port (host: server.host, else 127.0.0.1). "
                   "Each worker on one machine needs its own port.")
@click.pass_context
@guard
def worker_command(ctx: click.Context, concurrency: int | None, extract_workers: int | None, no_reload: bool,
                   port: int | None) -> None:
    """Fetch, extract, match, store and deliver for `monitor run`, on this machine.

    Needs `workers: {mode: distributed}` and a PostgreSQL `database:`; run `monitor run` once (the
    scheduler) and `monitor worker` on as many machines as needed, each with the same monitor.yaml
    and watchlists. A feed is never polled by two workers at once. SIGTERM or SIGINT lets the jobs
    in hand finish and exits 0; a worker that dies is noticed by the scheduler, which has its feeds
    polled again by the others. Edits of monitor.yaml and the watchlists apply live, as in the daemon.
    """
    from monitor.distributed.worker import run_worker

    loaded = _load(ctx)
    settings = loaded.settings
    if settings.workers.mode != "distributed":
        raise ConfigError([Problem(str(settings.source or "monitor.yaml"), None, "workers.mode",
                                   "`monitor worker` needs workers: {mode: distributed} (with mode local, "
                                   "`monitor run` does all the work itself)")])
    run_async(run_worker(loaded, concurrency=concurrency, extract_workers=extract_workers,
                         reload_from=None if no_reload else chosen_config(ctx), port=port))


COMMANDS = [worker_command]
