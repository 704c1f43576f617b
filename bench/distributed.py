"""Distributed mode's throughput with one and with two `monitor worker` processes on this machine.

    python bench/distributed.py [--feeds 200] [--articles 2] [--workers 1,2] [--queue-jobs 5000]

For each worker count, on a fresh PostgreSQL database (127.0.0.1:5432, or $MONITOR_TEST_PG): a
local HTTP server serves FEEDS feeds of ARTICLES real article pages each (../shared/data/extraction),
the shipped watchlists match, alerts go to a console channel in /dev/null. The bench itself plays
the scheduler (the same Dispatcher `monitor run` ticks with), so the clock starts when the jobs are
deferred. Each worker extracts in one process of its own (--extract-workers 1).

  phase "new"   every feed is new: fetch the feed, fetch and extract each page, match, group, store
  phase "304"   every feed is due again and answers 304 Not Modified (ETag): the cost of a poll

Prints, per phase: feeds/s and articles/s, and the CPU seconds of the workers, of their PostgreSQL
backends and of this process (the scheduler), per feed and per article; then the raw job-queue rates
(poll jobs deferred per second in batches, jobs fetched and finished per second by one connection)
and how long a worker holds the story lock per article.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from cycle import build_site  # noqa: E402
from support import SHARED_DATA, WebServer  # noqa: E402

PG_ADMIN = os.environ.get("MONITOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """utime + stime of a live process, in seconds (fields 14 and 15 of /proc/PID/stat); 0 once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def tree_cpu(root: int) -> float:
    """CPU of a process and of all its live descendants (the worker, its forkserver, its extraction
    processes)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    family, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in family and pid not in family:
                family.add(pid)
                grew = True
    return sum(cpu_of(pid) for pid in family)


def monitor_exe() -> list[str]:
    exe = Path(sys.executable).parent / "monitor"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "monitor"]


def write_config(tmp: Path, db: str, feeds: list[str]) -> Path:
    cfg = tmp / "monitor.yaml"
    cfg.write_text("\n".join([
        f"database: {db}", f"watchlists: {REPO / 'watchlists'}", "every: 1h",
        "fetch: {allow_private_networks: true, concurrency: 16, per_host: 16}",
        "workers: {mode: distributed, concurrency: 4}",
        "channels:", "  screen:", "    type: console", "feeds:", *[f"  - url: {u}" for u in feeds], ""]))
    return cfg


def psql(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        cursor = conn.execute(sql, params)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description is not None else []


def backends(db: str) -> dict[int, float]:
    """The PostgreSQL backends serving `db`, with their CPU so far."""
    name = db.rsplit("/", 1)[1]
    pids = [pid for (pid,) in psql(PG_ADMIN, "SELECT pid FROM pg_stat_activity WHERE datname = %s", name)]
    return {pid: cpu_of(pid) for pid in pids}


def wait_until(condition: Any, timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


class Run:
    """One worker count on its own database: the workers, the dispatcher, the measurements."""

    def __init__(self, workdir: Path, db: str, feeds: list[str], n_workers: int, extract_workers: int) -> None:
        self.workdir, self.db, self.n_feeds, self.n_workers = workdir, db, len(feeds), n_workers
        self.extract_workers = extract_workers
        self.cfg = write_config(workdir, db, feeds)
        self.logs = [workdir / f"worker-{i}.log" for i in range(n_workers)]
        self.procs: list[subprocess.Popen[bytes]] = []

    def start_workers(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
        for log in self.logs:
            with log.open("ab") as sink:
                self.procs.append(subprocess.Popen(
                    [*monitor_exe(), "--config", str(self.cfg), "worker", "--extract-workers", str(self.extract_workers)],
                    cwd=self.workdir, stdout=sink, stderr=subprocess.STDOUT, env=env))
        ok = wait_until(lambda: all("worker_started" in log.read_text() for log in self.logs), 120)
        if not ok:
            sys.exit("workers did not start:\n" + "\n".join(log.read_text()[-2000:] for log in self.logs))

    def stop_workers(self) -> dict[str, float]:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            proc.wait(60)
        held, decisions = 0.0, 0
        for log in self.logs:
            found = re.search(r"worker_stopped .*story_decisions=(\d+) story_lock_ms=([\d.]+)", log.read_text())
            if found:
                decisions += int(found.group(1))
                held += int(found.group(1)) * float(found.group(2))
        return {"story_lock_ms": held / decisions if decisions else 0.0, "decisions": decisions}

    async def phase(self, dispatcher: Any, polls: int) -> dict[str, float]:
        """Defer a job per due feed, wait until every feed has `polls` polls; wall and CPU."""
        import psycopg

        workers0 = {p.pid: tree_cpu(p.pid) for p in self.procs}
        pg0 = backends(self.db)
        articles0 = psql(self.db, "SELECT count(*) FROM articles")[0][0]
        t0, c0 = time.perf_counter(), time.process_time()
        deferred = await dispatcher.poll()
        scheduler_cpu = time.process_time() - c0  # the scheduler's work: claim the feeds, defer their jobs
        assert deferred == self.n_feeds, deferred
        with psycopg.connect(self.db.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            while conn.execute("SELECT count(*) FROM feeds WHERE polls >= %s", (polls,)).fetchone() != (self.n_feeds,):
                await asyncio.sleep(0.1)
        wall = time.perf_counter() - t0
        pg1 = backends(self.db)
        return {"wall": wall, "feeds": self.n_feeds,
                "articles": psql(self.db, "SELECT count(*) FROM articles")[0][0] - articles0,
                "workers_cpu": sum(tree_cpu(pid) - c for pid, c in workers0.items()),
                "pg_cpu": sum(pg1[pid] - c for pid, c in pg0.items() if pid in pg1),
                "scheduler_cpu": scheduler_cpu}


async def measure(run: Run) -> dict[str, Any]:
    from monitor.app import load_all, open_pipeline
    from monitor.distributed.queue import JobQueue
    from monitor.distributed.scheduler import Dispatcher
    from monitor.store.timeutil import to_db, utcnow

    loaded = load_all(run.cfg)
    with open(os.devnull, "w") as sink:
        async with open_pipeline(loaded, console=sink, extract_workers=0) as pipeline:
            queue = JobQueue(loaded.settings)
            await queue.open()
            try:
                dispatcher = Dispatcher(pipeline, queue)
                run.start_workers()
                new = await run.phase(dispatcher, 1)
                psql(run.db, "UPDATE feeds SET next_check_at = %s", to_db(utcnow() - timedelta(seconds=1)))
                not_modified = await run.phase(dispatcher, 2)
                stories = run.stop_workers()
            finally:
                await queue.close()
    return {"new": new, "304": not_modified, **stories}


async def queue_rates(db: str, n_jobs: int) -> dict[str, float]:
    """The job queue alone: poll jobs deferred per second (in the scheduler's batches), and jobs
    fetched (FOR UPDATE SKIP LOCKED) and finished per second on one connection."""
    from procrastinate.jobs import Status

    from monitor.config import Settings
    from monitor.distributed.queue import JobQueue

    queue = JobQueue(Settings.model_validate({"database": db, "workers": {"mode": "distributed"}}))
    await queue.open()
    try:
        t0 = time.perf_counter()
        deferred, _ = await queue.defer_polls(list(range(1_000_000, 1_000_000 + n_jobs)))
        defer_rate = deferred / (time.perf_counter() - t0)
        await queue.analyze()  # as the scheduler does after a burst (see JobQueue.analyze)
        manager = queue.app.job_manager
        worker = await manager.register_worker()
        t0, done = time.perf_counter(), 0
        while (job := await manager.fetch_job(queues=[queue.poll_queue], worker_id=worker)) is not None:
            assert job.id is not None
            await manager.finish_job_by_id_async(job.id, status=Status.SUCCEEDED, delete_job=True)
            done += 1
        fetch_rate = done / (time.perf_counter() - t0)
    finally:
        await queue.close()
    return {"defer": defer_rate, "fetch_finish": fetch_rate}


def fresh_database() -> str:
    import psycopg

    name = f"monitor_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def drop_database(db: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db.rsplit("/", 1)[1]}" WITH (FORCE)')


def upgrade(cfg: Path) -> None:
    done = subprocess.run([*monitor_exe(), "--config", str(cfg), "db", "upgrade"], capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        sys.exit(f"monitor db upgrade failed:\n{done.stdout}{done.stderr}")


def report(n_workers: int, result: dict[str, Any]) -> None:
    print(f"{n_workers} worker(s):")
    for name in ("new", "304"):
        r = result[name]
        per_feed = 1000 / r["feeds"]
        line = (f"  {name:>3}: {r['feeds']} feeds in {r['wall']:.2f} s = {r['feeds'] / r['wall']:6.1f} feeds/s")
        if r["articles"]:
            line += f", {r['articles']} articles = {r['articles'] / r['wall']:5.1f} articles/s"
        print(line)
        unit, n = ("article", r["articles"]) if r["articles"] else ("feed", r["feeds"])
        print(f"       cpu: workers {r['workers_cpu']:.2f} s ({r['workers_cpu'] * 1000 / n:.1f} ms/{unit}), "
              f"postgres {r['pg_cpu']:.2f} s ({r['pg_cpu'] * 1000 / n:.1f} ms/{unit}), "
              f"scheduler {r['scheduler_cpu']:.2f} s ({r['scheduler_cpu'] * per_feed:.2f} ms/feed)")
    print(f"  story lock held {result['story_lock_ms']:.2f} ms per article ({result['decisions']} decisions)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--articles", type=int, default=2, help="articles per feed")
    ap.add_argument("--workers", default="1,2", help="worker counts to measure, comma-separated ('' for none)")
    ap.add_argument("--queue-jobs", type=int, default=5000, help="jobs for the raw queue rates (0: skip)")
    ap.add_argument("--extract-workers", type=int, default=1,
                    help="extraction processes per worker (0: in a thread of the worker)")
    args = ap.parse_args()
    if not (SHARED_DATA / "extraction").is_dir():
        sys.exit(f"no shared data at {SHARED_DATA}")
    print(f"{args.feeds} feeds x {args.articles} real pages; {os.cpu_count()} cores; "
          f"workers with --extract-workers {args.extract_workers} and concurrency 4")
    web = WebServer()
    try:
        feeds = build_site(web, args.feeds, args.articles, etags=True)
        for n in (int(x) for x in args.workers.split(",") if x.strip()):
            db = fresh_database()
            try:
                run = Run(Path(tempfile.mkdtemp(prefix=f"bench-distributed-{n}-")), db, feeds, n,
                          args.extract_workers)
                upgrade(run.cfg)
                report(n, asyncio.run(measure(run)))
            finally:
                drop_database(db)
        if args.queue_jobs:
            db = fresh_database()
            try:
                upgrade(write_config(Path(tempfile.mkdtemp(prefix="bench-queue-")), db, []))
                rates = asyncio.run(queue_rates(db, args.queue_jobs))
            finally:
                drop_database(db)
            print(f"job queue alone ({args.queue_jobs} jobs): deferred {rates['defer']:,.0f} jobs/s in batches; "
                  f"fetched and finished {rates['fetch_finish']:,.0f} jobs/s on one connection")
    finally:
        web.close()


if __name__ == "__main__":
    main()
