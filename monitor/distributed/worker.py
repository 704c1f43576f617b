"""`monitor worker`: a Procrastinate worker that polls feeds and sends alerts with one Pipeline.

The worker opens one Pipeline at start (store, HTTP client, extraction processes, channels,
watchlists, story index) and runs every job with it; up to `workers.concurrency` jobs at once, on
one event loop, as the local daemon polls many feeds at once. SIGTERM or SIGINT stops fetching
jobs and lets the jobs in hand finish (up to GRACE seconds; a poll cut short then gives its feed
back to the scheduler at once), and the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack, suppress
from datetime import timedelta
from pathlib import Path

from procrastinate.exceptions import ConnectorException

from monitor.app import Loaded, lease_owner, open_pipeline, settled
from monitor.distributed.queue import CONTEXT_KEY, JobQueue, WorkerTasks
from monitor.distributed.schema import require_queue_schema
from monitor.distributed.stories import SharedStories
from monitor.errors import StoreError
from monitor.pipeline import Pipeline
from monitor.reload import Reloader
from monitor.server import ProcessHealth, serve_endpoint
from monitor.store import open_store
from monitor.store.timeutil import utcnow

log = logging.getLogger("monitor.worker")

GRACE = 25.0
"""Seconds the jobs in hand get to finish after SIGTERM (systemd's default stop timeout is 90)."""
CLOCK_SKEW = timedelta(seconds=5)
"""The scheduler judged the feed due by its clock; a worker whose clock is behind must not take
the feed for polled already."""


class FeedWorker:
    """The bodies of the two jobs, on one Pipeline."""

    def __init__(self, pipeline: Pipeline, queue: JobQueue) -> None:
        self.pipeline = pipeline
        self.queue = queue
        self.polled = 0
        self.skipped = 0
        self.busy: set[asyncio.Task[None]] = set()
        """The jobs running now: a live reload closes the HTTP client and channels it replaced after them."""

    def _track(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.busy.add(task)
            task.add_done_callback(self.busy.discard)

    async def poll_feed(self, feed_id: int) -> None:
        """Poll one feed as the local daemon does (fetch, parse, extract, match, store with outbox
        rows in one transaction), unless it was polled since the job was queued."""
        self._track()
        store = self.pipeline.store
        feed = store.feed_by_id(feed_id)
        if feed is None or not feed.active:
            store.release_feeds([feed_id])
            log.info("feed_skipped", extra={"feed_id": feed_id, "reason": "removed"})
            return
        if feed.next_check_at is not None and feed.next_check_at > utcnow() + CLOCK_SKEW:
            # A second job for a feed whose lease ran out while its first job was still running:
            # the first one polled it, and this one waited behind the feed's lock.
            self.skipped += 1
            store.release_feeds([feed_id])
            log.info("feed_skipped", extra={"feed_url": feed.url, "reason": "polled since it was queued"})
            return
        try:
            result = await self.pipeline.poll_feed(feed)
        except asyncio.CancelledError:
            # Stopping, and the grace period is over: hand the feed back now, not after its lease.
            store.release_feeds([feed_id])
            raise
        self.polled += 1
        if result.alerts:
            # Send now rather than at the scheduler's next delivery tick (which sends them anyway).
            try:
                await self.queue.defer_delivery()
            except ConnectorException as exc:
                log.warning("delivery_not_queued", extra={"error": str(exc.__cause__ or exc)})

    async def deliver(self) -> None:
        self._track()
        await self.pipeline.outbox.deliver_due()


async def run_worker(loaded: Loaded, *, concurrency: int | None = None, extract_workers: int | None = None,
                     reload_from: Path | None = None, port: int | None = None) -> None:
    """Run `monitor worker` until SIGTERM or SIGINT. Raises StoreError when the job queue's schema is
    missing (`monitor db upgrade`) or the worker stops without being asked to.

    `reload_from`: monitor.yaml, watched with the watchlists as the daemon watches them, so an
    edited watchlist matches in the workers too within seconds (None: no reload).
    `port`: serve /healthz and /metrics there (on `server.host`, else 127.0.0.1), as the daemon does on
    `server.port`: the polls, articles and deliveries of distributed mode are counted in the workers."""
    settings = loaded.settings
    workers = settings.workers
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with AsyncExitStack() as stack:
            store = open_store(settings.database_url)
            stack.callback(store.close)
            require_queue_schema(store.engine)
            shared = SharedStories(store)  # before the pipeline restores its index: see SharedStories
            queue = JobQueue(settings)
            await queue.open()
            stack.push_async_callback(queue.close)
            pipeline = await stack.enter_async_context(
                open_pipeline(loaded, extract_workers=extract_workers, store=store, sync_feeds=False))
            shared.attach(pipeline)
            worker = FeedWorker(pipeline, queue)
            if stop.is_set():
                return
            if reload_from is not None:
                reloader = Reloader(reload_from, pipeline, in_flight=lambda: set(worker.busy),
                                    sync_feeds=False, admin_alerts=False)
                reloader.start()
                stack.push_async_callback(reloader.stop)
            stalled = workers.stalled_after.total_seconds()
            name = lease_owner()
            task = asyncio.create_task(queue.app.run_worker_async(
                queues=list(queue.queues), concurrency=concurrency or workers.concurrency, name=name,
                install_signal_handlers=False, delete_jobs="successful",
                additional_context={CONTEXT_KEY: WorkerTasks(worker.poll_feed, worker.deliver)},
                update_heartbeat_interval=stalled / 4, stalled_worker_timeout=stalled,
                shutdown_graceful_timeout=GRACE, fetch_job_polling_interval=2.0))
            log.info("worker_started", extra={"worker": name, "concurrency": concurrency or workers.concurrency,
                                              "queues": ",".join(queue.queues),
                                              "watchlists": len(pipeline.watchlists)})
            if port is not None:
                endpoint = await serve_endpoint(
                    settings, ProcessHealth("worker", lambda: "stopping" if stop.is_set() else
                                            "running" if not task.done() else "stopped", lambda: store.engine),
                    lambda: pipeline, port=port)
                stack.push_async_callback(endpoint.close)
            stopping = asyncio.create_task(stop.wait())
            with settled():
                await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not task.done():
                log.info("worker_stopping")
                task.cancel()  # Procrastinate's graceful stop: no new job, the ones in hand finish
                with suppress(asyncio.CancelledError):
                    await task
            elif task.exception() is not None:
                raise StoreError(f"the worker stopped: {task.exception()}") from task.exception()
            else:
                raise StoreError("the worker stopped on its own (the database connection was lost?)")
            held = shared.held_seconds / shared.decisions * 1000 if shared.decisions else 0.0
            log.info("worker_stopped", extra={"polled": worker.polled, "skipped": worker.skipped,
                                              "story_decisions": shared.decisions, "story_lock_ms": round(held, 2),
                                              "story_catch_up": shared.caught_up})
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
