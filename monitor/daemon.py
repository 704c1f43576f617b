"""`monitor run`: APScheduler ticks that poll due feeds and deliver due alerts, and a graceful stop.

The schedule itself lives in the database (each feed's next check), so the scheduler only ticks:
every few seconds it claims what is due. A restart loses nothing and polls nothing twice.
SIGTERM and SIGINT stop new work, let the work in hand finish (up to `grace` seconds), and exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.admin import CHECK_EVERY, HealthReport, check_feed_health
from monitor.app import settled
from monitor.pipeline import Pipeline
from monitor.reload import Reloader
from monitor.server import open_endpoint
from monitor.store.timeutil import utcnow

log = logging.getLogger("monitor.daemon")

POLL_TICK = 5.0
DELIVERY_TICK = 5.0


class Daemon:
    def __init__(self, pipeline: Pipeline, *, poll_tick: float = POLL_TICK, delivery_tick: float | None = None,
                 grace: float = 20.0, reload_from: Path | None = None,
                 poll: Callable[[], Awaitable[object]] | None = None,
                 deliver: Callable[[], Awaitable[object]] | None = None) -> None:
        self.pipeline = pipeline
        # What the ticks run: polling and sending here, or (distributed) deferring jobs to workers.
        # Looked up at each tick by default: a live reload may give the pipeline a new outbox.
        self.poll = poll or (lambda: self.pipeline.poll_due())
        self.deliver = deliver or (lambda: self.pipeline.outbox.deliver_due())
        self.reload_from = reload_from
        """monitor.yaml, watched with its watchlists for live reload; None: no reload."""
        self.poll_tick = poll_tick
        self.delivery_tick = delivery_tick or pipeline.settings.delivery.every.total_seconds() or DELIVERY_TICK
        self.grace = grace
        self._stop = asyncio.Event()
        self._busy: set[asyncio.Task[None]] = set()
        self.scheduler: AsyncIOScheduler | None = None
        """Set once started; /healthz reads its state (monitor.server)."""

    def stop(self) -> None:
        self._stop.set()

    def _job(self, name: str, work: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if self._stop.is_set():
                return
            task = asyncio.current_task()
            assert task is not None
            self._busy.add(task)
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one tick must not stop the daemon
                log.exception("tick_failed", extra={"job": name})
            finally:
                self._busy.discard(task)

        return run

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        scheduler = AsyncIOScheduler(event_loop=loop, timezone="UTC")
        common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        scheduler.add_job(self._job("poll", self.poll), "interval", seconds=self.poll_tick,
                          id="poll", next_run_time=_now(), **common)
        scheduler.add_job(self._job("deliver", self.deliver), "interval",
                          seconds=self.delivery_tick, id="deliver", next_run_time=_now(), **common)
        # Always scheduled: a live reload may add `admin:` (check_health does nothing without it).
        scheduler.add_job(self._job("feed_health", lambda: check_health(self.pipeline)), "interval",
                          seconds=CHECK_EVERY.total_seconds(), id="feed_health", next_run_time=_now(), **common)
        endpoint = await open_endpoint(self)  # before any work: a port in use stops the start-up here
        scheduler.start()
        self.scheduler = scheduler
        reloader = Reloader(self.reload_from, self.pipeline, in_flight=lambda: set(self._busy)) \
            if self.reload_from is not None else None
        if reloader is not None:
            reloader.start()
        log.info("daemon_started", extra={"feeds": len(self.pipeline.settings.feeds),
                                          "watchlists": len(self.pipeline.watchlists),
                                          "channels": ",".join(self.pipeline.settings.active_channels)})
        try:
            with settled():
                await self._stop.wait()
        finally:
            log.info("daemon_stopping", extra={"in_flight": len(self._busy)})
            scheduler.pause()
            if self._busy:
                _done, pending = await asyncio.wait(set(self._busy), timeout=self.grace)
                for task in pending:
                    task.cancel()
                if pending:
                    await asyncio.wait(pending, timeout=5)
            if reloader is not None:
                await reloader.stop()
            scheduler.shutdown(wait=False)
            if endpoint is not None:  # last: /healthz answers 503 while the work in hand finishes
                await endpoint.close()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            log.info("daemon_stopped")


async def check_health(pipeline: Pipeline) -> HealthReport:
    """The admin check over the feeds' state, on the outbox's open channels; nothing without `admin:`."""
    admin = pipeline.settings.admin
    if admin is None:
        return HealthReport()
    return await check_feed_health(pipeline.store, admin, pipeline.outbox.channels, now=utcnow())


def _now() -> object:
    from datetime import UTC, datetime

    return datetime.now(UTC)
