"""Scale-out on Procrastinate: `monitor run` is the one scheduler, `monitor worker` processes do the work.

    monitor run (scheduler)                 PostgreSQL                      monitor worker × N (any machine)
    tick ─claim due feeds (lease)─▶ procrastinate_jobs ─fetch (FOR UPDATE SKIP LOCKED)─▶ poll_feed(feed_id)
         ─defer deliver─────────▶   (queueing lock and   ──────────────────────────────▶ deliver()
         ─fail jobs of silent workers, free their feeds)   lock per feed)

The schedule stays where it was, in the feeds table: the scheduler claims due feeds exactly as the
local daemon does and, instead of polling them, defers one job per feed. The job's queueing lock
(one waiting job per feed) and lock (one running job per feed) keep a feed out of two workers at
once; the worker polls with the same Pipeline as the local daemon, so articles, matches and their
outbox rows are still stored in one transaction. Stories stay one alert per story across workers:
each worker's story index catches up with the others' articles and decides under a PostgreSQL
advisory lock (monitor.distributed.stories).

Modules: `queue` (the Procrastinate app, its tasks, deferring), `scheduler` (the ticks of `monitor
run`), `worker` (`monitor worker`), `stories` (one alert per story across workers), `schema` (the
job queue's tables, for `monitor db upgrade`). In local mode Procrastinate is never imported.
"""
