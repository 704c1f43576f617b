"""The one scheduler of distributed mode: what `monitor run`'s ticks do when work goes to workers.

    poll tick (5 s)      fail the jobs of workers whose heartbeat stopped, free their feeds;
                         claim the due feeds (a lease each) and defer one poll job per feed
    delivery tick        defer an outbox run (one waits at most: they never pile up)
    feed health (1 min)  the admin check, as in local mode, on this process's channels

Recovery from a killed worker: Procrastinate workers write a heartbeat (every quarter of
`workers.stalled_after`); the jobs of a worker silent for longer stay "doing" and keep their feed's
lock, so each tick the scheduler marks them failed (which frees the lock) and drops their feeds'
leases: the next tick claims those feeds again and a live worker polls them, about
`stalled_after` plus two ticks after the kill. When the failed job was the delivery job (one runs
at a time), the alerts it had claimed are released too and sent by the next delivery job, rather
than after their `delivery.lease`.

The lease the scheduler puts on a queued feed only matters when a job is lost without a worker
dying (the scheduler killed between claiming and deferring): then the feed is claimed again when
the lease ends. Shorter leases cost nothing else: a feed claimed again while its job waits is
turned away by the queueing lock, and a second job for a feed being polled waits behind its lock
and finds the feed polled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from monitor.pipeline import Pipeline
from monitor.store.timeutil import utcnow

if TYPE_CHECKING:  # imported when distributed: `monitor run` in local mode never loads Procrastinate
    from monitor.distributed.queue import JobQueue

log = logging.getLogger("monitor.scheduler")

FEED_LEASE = timedelta(minutes=5)
"""How long a claimed feed stays out of the next claims while its job waits or runs."""
ANALYZE_AFTER = 100
ANALYZE_EVERY = 60.0
"""After a tick that deferred this many jobs, fresh statistics for the jobs table (JobQueue.analyze),
at most once a minute."""


class Dispatcher:
    """The scheduler's ticks: they defer jobs, and recover those of dead workers."""

    def __init__(self, pipeline: Pipeline, queue: JobQueue, *, lease: timedelta = FEED_LEASE) -> None:
        self.pipeline = pipeline
        self.queue = queue
        self.lease = lease
        self.stalled_after = pipeline.settings.workers.stalled_after
        self.deferred = 0
        self.recovered = 0
        self._analyzed = float("-inf")

    async def poll(self) -> int:
        """Recover stalled jobs, then defer a poll job per due feed; how many were deferred."""
        await self.recover()
        feeds = self.pipeline.store.claim_due_feeds(now=utcnow(), owner=self.pipeline.owner, lease=self.lease)
        if not feeds:
            return 0
        deferred, waiting = await self.queue.defer_polls([feed.id for feed in feeds])
        self.deferred += deferred
        log.info("feeds_queued", extra={"feeds": deferred, "already_queued": waiting})
        now = time.monotonic()
        if deferred >= ANALYZE_AFTER and now - self._analyzed >= ANALYZE_EVERY:
            self._analyzed = now
            from procrastinate.exceptions import ConnectorException

            try:
                await self.queue.analyze()
            except ConnectorException as exc:  # e.g. not the tables' owner: only slower fetches
                log.warning("queue_analyze_failed", extra={"error": str(exc.__cause__ or exc)})
        return deferred

    async def deliver(self) -> bool:
        return await self.queue.defer_delivery()

    async def recover(self) -> int:
        """Fail the running jobs of workers without a recent heartbeat, and hand their feeds back."""
        from procrastinate.exceptions import ConnectorException
        from procrastinate.jobs import Status

        from monitor.distributed.queue import DELIVER_TASK, POLL_TASK

        manager = self.queue.app.job_manager
        seconds = self.stalled_after.total_seconds()
        stalled = [job for job in await manager.get_stalled_jobs(seconds_since_heartbeat=seconds)
                   if job.queue in self.queue.queues]
        feeds: list[int] = []
        for job in stalled:
            assert job.id is not None
            try:
                await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
            except ConnectorException:
                continue  # it ended meanwhile: its worker was slow, not dead
            feed_id = job.task_kwargs.get("feed_id") if job.task_name == POLL_TASK else None
            if isinstance(feed_id, int):
                feeds.append(feed_id)
            log.warning("job_stalled", extra={"job_id": job.id, "task": job.task_name, "feed_id": feed_id,
                                              "worker_id": job.worker_id, "silent_for": f">{seconds:g}s"})
        if feeds:
            self.pipeline.store.release_feeds(feeds)
        if any(job.task_name == DELIVER_TASK for job in stalled):
            freed = self.pipeline.store.release_delivery_leases()
            log.warning("deliveries_released", extra={"deliveries": freed, "reason": "their sender's worker died"})
        await manager.prune_stalled_workers(seconds)
        self.recovered += len(feeds)
        return len(stalled)


@asynccontextmanager
async def open_dispatcher(pipeline: Pipeline) -> AsyncIterator[Dispatcher | None]:
    """The distributed ticks for `monitor run`, or None in local mode (the daemon polls itself).

    Refuses (StoreError) when the job queue's tables are missing: `monitor db upgrade` makes them.
    """
    if pipeline.settings.workers.mode != "distributed":
        yield None
        return
    from monitor.distributed.queue import JobQueue
    from monitor.distributed.schema import require_queue_schema

    require_queue_schema(pipeline.store.engine)
    queue = JobQueue(pipeline.settings)
    await queue.open()
    log.info("scheduler_distributed", extra={"queues": ",".join(queue.queues),
                                             "stalled_after": f"{pipeline.settings.workers.stalled_after}"})
    try:
        yield Dispatcher(pipeline, queue)
    finally:
        await queue.close()
