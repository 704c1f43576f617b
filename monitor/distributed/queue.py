"""The job queue: news-monitor's Procrastinate app, its two tasks, and how jobs are deferred.

Two queues under the configured prefix (`workers.queue`, "monitor"): `monitor.poll` holds one job
per due feed, `monitor.deliver` the outbox sender's runs. Every poll job carries the feed's id as
its queueing lock (one waiting job per feed: a feed the scheduler claims again while its job waits
is not queued twice) and as its lock (one running job per feed: a feed is never polled by two
workers at once). Delivery jobs share one queueing lock and one lock: one runs and one waits, so
they never pile up behind a slow channel, and they rank above polls, so alerts go out while a
backlog of feeds is being worked through.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector
from procrastinate import exceptions as pq
from procrastinate.jobs import Job
from sqlalchemy.engine import make_url

from monitor.config import Settings
from monitor.errors import StoreError

log = logging.getLogger("monitor.distributed")

POLL_TASK = "monitor.poll_feed"
DELIVER_TASK = "monitor.deliver"
DELIVER_PRIORITY = 10
BATCH = 500
"""Poll jobs inserted per statement: one round trip for a tick's worth of due feeds."""

Runner = Callable[..., Awaitable[None]]


def libpq_url(database_url: str) -> str:
    """`postgresql+psycopg://u:p@h/db` (SQLAlchemy's form) → `postgresql://u:p@h/db` (libpq's)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise StoreError("the job queue needs a PostgreSQL database")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class JobQueue:
    """The Procrastinate app over the monitor's database, with defer helpers for the scheduler.

    The tasks call whatever the worker registered with `serve` (through the job context): the
    scheduler builds the same app to defer jobs, and never runs them.
    """

    def __init__(self, settings: Settings, *, pool_size: int = 5) -> None:
        workers = settings.workers
        self.prefix = workers.queue
        self.poll_queue = f"{self.prefix}.poll"
        self.deliver_queue = f"{self.prefix}.deliver"
        self.queues = (self.poll_queue, self.deliver_queue)
        self.connector = PsycopgConnector(conninfo=libpq_url(settings.database_url), min_size=1,
                                          max_size=pool_size, timeout=30, name=f"{self.prefix}-queue")
        if logging.getLogger().level > logging.DEBUG and logging.getLogger("procrastinate").level == logging.NOTSET:
            # Procrastinate logs every job's start and end (and its set-up) at INFO; ours say what the
            # job did with the feed. --log-level DEBUG shows them.
            logging.getLogger("procrastinate").setLevel(logging.WARNING)
        self.app = App(connector=self.connector)
        self.app.task(name=POLL_TASK, queue=self.poll_queue, pass_context=True)(_poll_feed)
        self.app.task(name=DELIVER_TASK, queue=self.deliver_queue, pass_context=True,
                      priority=DELIVER_PRIORITY)(_deliver)

    async def open(self) -> None:
        try:
            await self.app.open_async()
        except Exception as exc:  # psycopg_pool.PoolTimeout and connection errors: the database is not there
            raise StoreError(f"cannot connect the job queue to the database: {exc.__class__.__name__}: "
                             f"{exc}") from exc

    async def close(self) -> None:
        await self.app.close_async()

    def feed_lock(self, feed_id: int) -> str:
        return f"{self.prefix}:feed:{feed_id}"

    def poll_job(self, feed_id: int) -> Job:
        lock = self.feed_lock(feed_id)
        return Job(queue=self.poll_queue, task_name=POLL_TASK, lock=lock, queueing_lock=lock,
                   task_kwargs={"feed_id": feed_id})

    async def defer_polls(self, feed_ids: Sequence[int]) -> tuple[int, int]:
        """One poll job per feed: (deferred, already waiting). A batch is one INSERT; a batch in
        which some feed already has a waiting job is retried feed by feed."""
        deferred = waiting = 0
        manager = self.app.job_manager
        for start in range(0, len(feed_ids), BATCH):
            chunk = [self.poll_job(i) for i in feed_ids[start:start + BATCH]]
            try:
                await manager.batch_defer_jobs_async(chunk)
                deferred += len(chunk)
                continue
            except pq.AlreadyEnqueued:
                pass
            for job in chunk:
                try:
                    await manager.defer_job_async(job)
                    deferred += 1
                except pq.AlreadyEnqueued:
                    waiting += 1
        return deferred, waiting

    async def analyze(self) -> None:
        """Refresh the planner's statistics of the jobs table.

        Procrastinate's fetch query skips jobs whose lock is taken with an anti-join; planned from
        the statistics of a table that was nearly empty, it runs that check for every waiting job
        before taking the first (measured: 0.5 s per fetch with 4,000 waiting, so a burst of N jobs
        costs O(N²)); with fresh statistics it walks the priority index and stops at the first
        (0.4 ms). Autovacuum gets there within minutes, long after a burst (the first tick of a new
        installation defers every feed at once) is over.
        """
        await self.connector.execute_query_async("ANALYZE procrastinate_jobs")

    async def defer_delivery(self) -> bool:
        """Queue an outbox run unless one is already waiting; True when one was queued now."""
        lock = f"{self.prefix}:deliver"
        job = Job(queue=self.deliver_queue, task_name=DELIVER_TASK, lock=lock, queueing_lock=lock,
                  priority=DELIVER_PRIORITY)
        try:
            await self.app.job_manager.defer_job_async(job)
        except pq.AlreadyEnqueued:
            return False
        return True


class WorkerTasks:
    """What a worker's jobs run: set up once per worker process (see monitor.distributed.worker)."""

    poll_feed: Runner
    deliver: Runner

    def __init__(self, poll_feed: Runner, deliver: Runner) -> None:
        self.poll_feed = poll_feed
        self.deliver = deliver


CONTEXT_KEY = "monitor_tasks"


def _tasks(context: JobContext) -> WorkerTasks:
    tasks: Any = context.additional_context.get(CONTEXT_KEY)
    if not isinstance(tasks, WorkerTasks):  # a job run by a Procrastinate worker that is not `monitor worker`
        raise RuntimeError("news-monitor jobs run in `monitor worker` only")
    return tasks


async def _poll_feed(context: JobContext, feed_id: int) -> None:
    await _tasks(context).poll_feed(feed_id)


async def _deliver(context: JobContext) -> None:
    await _tasks(context).deliver()
