"""Distributed mode on Procrastinate, against the real PostgreSQL server.

The end-to-end test runs one `monitor run` (the scheduler) and two `monitor worker` processes over
200 local feeds, kills one worker with SIGKILL half-way, and checks what the issue promises: every
feed polled once in the interval (a feed in flight in the killed worker at most twice), every
match alerted exactly once at the webhook, and the rest ending on SIGTERM with exit 0. The other
tests pin the parts: the job queue's schema, one waiting and one running job per feed, the
recovery of a dead worker's jobs, and one alert per story across two workers' story indexes.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import HookSink, Route, WebServer, page_html, rss
from test_e2e import monitor_exe

pytestmark = pytest.mark.postgres

PG_ADMIN = os.environ.get("MONITOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
WORD = "quokkafest"
FEEDS = 200
PAIRS = 10
"""Syndicated copies: one article published by two adjacent feeds, which two workers poll at once."""
SEED = 20261206
SYLLABLES = ["ka", "lo", "mi", "ter", "vos", "du", "ren", "pa", "shi", "gor", "bel", "nu", "zan", "fi", "ox",
             "tam", "quil", "bro", "sev", "yun"]


@pytest.fixture
def fresh_pg(postgres_url: str) -> Iterator[str]:
    """A database of its own (the session's is shared with other tests), dropped afterwards."""
    import psycopg

    name = f"monitor_dist_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


Servers = tuple[WebServer, HookSink, list[subprocess.Popen[bytes]]]


@pytest.fixture
def servers() -> Iterator[Servers]:
    """The publishers' site, the alert webhook, and a list for the monitor processes a test starts:
    whatever the test's outcome, the processes still running are killed and both servers closed."""
    web, hook = WebServer(), HookSink()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        yield web, hook, procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        web.close()
        hook.close()


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(libpq(url), autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]


def made_up(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(4)).capitalize()


def story(rng: random.Random, i: int, matching: bool) -> tuple[str, str]:
    """A title and text about a made-up event of its own, naming WORD when it must match."""
    place, person, thing, guild = made_up(rng), made_up(rng), made_up(rng).lower(), made_up(rng)
    fest = f" for the {WORD}" if matching else ""
    title = f"{person} opens {thing} works in {place}{fest} ({i})"
    text = (f"{person} opened the new {thing} works in {place} on day {i} of the season{fest}. "
            f"{rng.randint(100, 999)} {thing} makers from the {guild} guild attended. "
            f"The {thing} hall cost {rng.randint(10, 99)} million {made_up(rng)} crowns, "
            f"said {made_up(rng)} {made_up(rng)}.")
    return title, text


def site(web: WebServer) -> tuple[list[str], set[str], list[tuple[str, str]]]:
    """FEEDS feeds of one or two entries each, about a third of the articles matching WORD.

    Returns the feed URLs, the article URLs that must alert (one story each), and the syndicated
    pairs (two URLs of one text: exactly one of them must alert)."""
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    feeds: list[str] = []
    alerting: set[str] = set()
    pairs: list[tuple[str, str]] = []
    shared = {20 + 2 * k: story(rng, 9000 + k, True) for k in range(PAIRS)}
    for f in range(FEEDS):
        items = []
        for a in range(2 if f % 3 == 0 else 1):
            path = f"/news/{f}/{a}.html"
            origin = f - 1 if f - 1 in shared and a == 0 else f
            if origin in shared and a == 0:
                title, text = shared[origin]
            else:
                matching = (f * 7 + a) % 3 == 0
                title, text = story(rng, f * 10 + a, matching)
                if matching:
                    alerting.add(web.base + path)
            web.routes[path] = Route(page_html(title, text))
            items.append({"id": f"{f}-{a}", "title": title, "path": path,
                          "published": now - timedelta(minutes=5 + a)})
        web.routes[f"/feeds/{f}.xml"] = Route(rss(f"Wire {f}", web.base, items), "application/rss+xml")
        feeds.append(f"{web.base}/feeds/{f}.xml")
    for first in shared:
        pairs.append((f"{web.base}/news/{first}/0.html", f"{web.base}/news/{first + 1}/0.html"))
    return feeds, alerting, pairs


def write_config(tmp: Path, db: str, feeds: list[str], hook: HookSink, *, stalled_after: str = "8s") -> Path:
    (tmp / "watchlists").mkdir(exist_ok=True)
    (tmp / "watchlists" / "fest.yaml").write_text(f"name: Fest\nmatch: {{any: [{WORD}]}}\n")
    cfg = tmp / "monitor.yaml"
    cfg.write_text("\n".join([
        f"database: {db}", "watchlists: watchlists", "every: 1h",
        "fetch: {allow_private_networks: true, timeout: 10, per_host: 8}",
        f"workers: {{mode: distributed, concurrency: 4, stalled_after: {stalled_after}}}",
        "delivery: {every: 1s, first_retry: 1s, lease: 10s}",
        "channels:", f"  hook: {{type: webhook, url: '{hook.url}', timeout: 10}}",
        "feeds:", *[f"  - url: {u}" for u in feeds], ""]))
    return cfg


def start(cfg: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    with log.open("ab") as sink:
        return subprocess.Popen([*monitor_exe(), "--config", str(cfg), *args], cwd=cfg.parent,
                                stdout=sink, stderr=subprocess.STDOUT, env=env)


def wait_for(condition: Callable[[], bool], timeout: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def alerts_by_url(hook: HookSink) -> Counter[str]:
    """Alerts per article URL, counting each delivery once: the receiver deduplicates on the delivery
    key, as the webhook's documentation asks (a resend of one delivery carries the same key)."""
    with hook.lock:
        posts = list(hook.posts)
    deliveries = {p["delivery_key"]: p["article"]["url"] for p in posts if p.get("kind") != "update" and "article" in p}
    return Counter(deliveries.values())


def resends(hook: HookSink) -> int:
    with hook.lock:
        keys = Counter(p["delivery_key"] for p in hook.posts)
    return sum(n - 1 for n in keys.values())


def tails(*logs: Path) -> str:
    return "\n".join(f"--- {log.name}\n" + log.read_text(errors="replace")[-2500:] for log in logs if log.exists())


@pytest.mark.slow
def test_scheduler_and_two_workers_one_killed(tmp_path: Path, fresh_pg: str, servers: Servers) -> None:
    web, hook, procs = servers
    logs = [tmp_path / "scheduler.log", tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    feeds, alerting, pairs = site(web)
    cfg = write_config(tmp_path, fresh_pg, feeds, hook)
    upgrade = subprocess.run([*monitor_exe(), "--config", str(cfg), "db", "upgrade"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "job queue (Procrastinate): created" in upgrade.stdout

    procs.append(start(cfg, logs[0], "run", "--no-reload", "--extract-workers", "0"))
    assert wait_for(lambda: "daemon_started" in logs[0].read_text(), 60), tails(*logs)
    victim = start(cfg, logs[1], "worker", "--extract-workers", "0")
    survivor = start(cfg, logs[2], "worker", "--extract-workers", "0")
    procs += [victim, survivor]

    def feed_hits() -> Counter[str]:
        with web.lock:
            return Counter(p.split("?")[0] for (_m, p, _h) in web.log if p.startswith("/feeds/"))

    assert wait_for(lambda: sum(feed_hits().values()) >= FEEDS // 2, 90, 0.01), tails(*logs)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    killed_at = time.monotonic()

    def all_polled() -> bool:
        return query(fresh_pg, "SELECT count(*) FROM feeds WHERE polls > 0")[0][0] == FEEDS

    assert wait_for(all_polled, 90, 0.5), tails(*logs)
    expected = len(alerting) + len(pairs)
    assert wait_for(lambda: sum(alerts_by_url(hook).values()) >= expected, 60, 0.2), tails(*logs)
    time.sleep(1.5)  # a duplicate still on its way would show up now
    recovered_in = time.monotonic() - killed_at

    for proc in (survivor, procs[0]):
        proc.send_signal(signal.SIGTERM)
    assert survivor.wait(40) == 0, tails(*logs)
    assert procs[0].wait(40) == 0, tails(*logs)

    # Every feed fetched once in the interval; twice only if it was in the killed worker's hands.
    hits = feed_hits()
    assert set(hits) == {f"/feeds/{f}.xml" for f in range(FEEDS)}
    stalled = query(fresh_pg, "SELECT (args->>'feed_id')::int FROM procrastinate_jobs "
                              "WHERE status = 'failed' AND task_name = 'monitor.poll_feed'")
    in_flight = {f"/feeds/{url.rsplit('/', 1)[1]}" for (url,) in query(
        fresh_pg, "SELECT url FROM feeds WHERE id = ANY(%s)", [row[0] for row in stalled])}
    assert stalled, "the killed worker had no job in hand: the recovery was not exercised\n" + tails(*logs)
    assert max(hits.values()) <= 2, hits.most_common(5)
    twice = {path for path, n in hits.items() if n == 2}
    assert twice <= in_flight, (twice, in_flight)
    assert "job_stalled" in logs[0].read_text()

    # Every match alerted exactly once; a syndicated copy joined its story and did not alert again.
    # Delivery is at-least-once: an alert the receiver accepted just before the kill, whose "sent"
    # the dead worker never committed, is sent again under the same delivery key; no other.
    assert resends(hook) <= 1
    got = alerts_by_url(hook)
    for url in alerting:
        assert got[url] == 1, (url, got[url])
    for first, second in pairs:
        assert got[first] + got[second] == 1, (first, got[first], second, got[second])
    assert set(got) <= alerting | {u for pair in pairs for u in pair}
    print(f"killed with {len(stalled)} job(s) in hand, {len(twice)} feed(s) fetched twice, "
          f"{sum(got.values())} alerts, all done {recovered_in:.1f} s after the kill")


def test_queue_schema_is_created_once_and_required(fresh_pg: str) -> None:
    from monitor.distributed.schema import QueueSchema, apply_queue_schema, queue_schema_state, require_queue_schema
    from monitor.errors import StoreError
    from monitor.store.engine import make_engine

    engine = make_engine(fresh_pg)
    try:
        assert queue_schema_state(engine) is QueueSchema.MISSING
        with pytest.raises(StoreError, match="run `monitor db upgrade`"):
            require_queue_schema(engine)
        assert apply_queue_schema(engine) is True
        assert apply_queue_schema(engine) is False  # idempotent
        assert queue_schema_state(engine) is QueueSchema.CURRENT
        require_queue_schema(engine)
        with engine.begin() as conn:  # an older Procrastinate schema: reported, never altered
            conn.exec_driver_sql("DROP TABLE procrastinate_workers CASCADE")
        assert queue_schema_state(engine) is QueueSchema.OUTDATED
        with pytest.raises(StoreError, match="migrations"):
            apply_queue_schema(engine)
    finally:
        engine.dispose()


def test_commands_refuse_to_start_without_the_queue_schema(tmp_path: Path, fresh_pg: str) -> None:
    hook = HookSink()
    try:
        cfg = write_config(tmp_path, fresh_pg, [], hook)
        env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
        for args in (["run", "--no-reload"], ["worker"]):
            done = subprocess.run([*monitor_exe(), "--config", str(cfg), *args], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 1, (args, done.stderr)
            assert "run `monitor db upgrade`" in done.stderr, done.stderr
        local = tmp_path / "local.yaml"
        local.write_text(cfg.read_text().replace("mode: distributed", "mode: local"))
        done = subprocess.run([*monitor_exe(), "--config", str(local), "worker"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "workers: {mode: distributed}" in done.stderr, done.stderr
    finally:
        hook.close()


def _settings(tmp_path: Path, db: str, stalled_after: str = "4s") -> Any:
    from monitor.config import load_settings

    hook = HookSink()
    try:
        return load_settings(write_config(tmp_path, db, ["http://127.0.0.1:9/feed.xml"], hook,
                                          stalled_after=stalled_after))
    finally:
        hook.close()


def test_one_waiting_and_one_running_job_per_feed(tmp_path: Path, fresh_pg: str) -> None:
    from monitor.distributed.queue import JobQueue
    from monitor.distributed.schema import apply_queue_schema
    from monitor.store import open_store

    settings = _settings(tmp_path, fresh_pg)
    store = open_store(settings.database_url)
    apply_queue_schema(store.engine)
    store.close()

    async def scenario() -> None:
        queue = JobQueue(settings)
        await queue.open()
        try:
            assert await queue.defer_polls([1, 2, 3]) == (3, 0)
            # Claimed again while its job waits: the queueing lock turns it away, the others go in.
            assert await queue.defer_polls([2, 3, 4]) == (1, 2)
            assert await queue.defer_delivery() is True
            assert await queue.defer_delivery() is False  # one waits at most
            manager = queue.app.job_manager
            worker_id = await manager.register_worker()
            first = await manager.fetch_job(queues=list(queue.queues), worker_id=worker_id)
            assert first is not None and first.task_name == "monitor.deliver"  # alerts before polls
            job = await manager.fetch_job(queues=[queue.poll_queue], worker_id=worker_id)
            assert job is not None and job.task_kwargs == {"feed_id": 1}
            # Feed 1 is being polled: a new job for it may wait, but no worker can take it.
            assert await queue.defer_polls([1]) == (1, 0)
            taken = []
            while (other := await manager.fetch_job(queues=[queue.poll_queue], worker_id=worker_id)) is not None:
                taken.append(other.task_kwargs["feed_id"])
            assert sorted(taken) == [2, 3, 4]
        finally:
            await queue.close()

    asyncio.run(scenario())


def test_jobs_of_a_silent_worker_are_failed_and_their_feeds_freed(tmp_path: Path, fresh_pg: str) -> None:
    from monitor.app import load_all, open_pipeline
    from monitor.distributed.queue import JobQueue
    from monitor.distributed.scheduler import Dispatcher
    from monitor.distributed.schema import apply_queue_schema
    from monitor.store import open_store
    from monitor.store.timeutil import utcnow

    settings = _settings(tmp_path, fresh_pg, stalled_after="4s")
    store = open_store(settings.database_url)
    apply_queue_schema(store.engine)
    store.close()
    loaded = load_all(settings.source)

    async def scenario() -> None:
        async with open_pipeline(loaded, extract_workers=0) as pipeline:
            queue = JobQueue(settings)
            await queue.open()
            try:
                dispatcher = Dispatcher(pipeline, queue)
                assert await dispatcher.poll() == 1  # the one feed is due: claimed and queued
                assert await dispatcher.poll() == 0  # leased now: not claimed again
                manager = queue.app.job_manager
                dead = await manager.register_worker()
                job = await manager.fetch_job(queues=[queue.poll_queue], worker_id=dead)
                assert job is not None
                assert await dispatcher.recover() == 0  # its heartbeat is fresh
                await asyncio.sleep(5)  # the worker "dies": no heartbeat for longer than stalled_after
                assert await dispatcher.recover() == 1
                assert job.id is not None and (await manager.get_job_status_async(job.id)).value == "failed"
                feed = pipeline.store.feeds()[0]
                assert feed.next_check_at is not None and feed.next_check_at <= utcnow()
                assert await dispatcher.poll() == 1  # handed back: queued again at once, lock free
                live = await manager.register_worker()
                again = await manager.fetch_job(queues=[queue.poll_queue], worker_id=live)
                assert again is not None and again.task_kwargs == {"feed_id": feed.id}

                # A delivery job dies with alerts claimed: they are released, not held for delivery.lease.
                match = _store_alert(pipeline.store)
                claimed = pipeline.store.claim_deliveries(now=utcnow(), lease=timedelta(minutes=5), owner="gone:1")
                assert [d.id for d in claimed] and not pipeline.store.claim_deliveries(
                    now=utcnow(), lease=timedelta(minutes=5), owner="other:2")
                assert await dispatcher.deliver()
                sender = await manager.register_worker()
                assert await manager.fetch_job(queues=[queue.deliver_queue], worker_id=sender) is not None
                await asyncio.sleep(5)
                await manager.update_heartbeat(live)
                assert await dispatcher.recover() == 1
                reclaimed = pipeline.store.claim_deliveries(now=utcnow(), lease=timedelta(minutes=5), owner="other:2")
                assert [d.id for d in reclaimed] == [d.id for d in claimed], match
            finally:
                await queue.close()

    asyncio.run(scenario())


def _store_alert(store: Any) -> int:
    """One article with one match and one pending delivery on channel `hook`; the article's id."""
    from monitor.store.timeutil import utcnow
    from monitor.types import Article, Match

    article = Article(url="https://example.org/released", title="Released", text="A fest.", lang="en")
    saved = store.save_article(article, link=article.url, keys=[article.url], feed_id=None, now=utcnow(),
                               matches=[Match("Fest", 1.0, ("fest",))], channels={"Fest": ["hook"]})
    assert saved is not None and saved.alerted == ("Fest",)
    return int(saved.id)


def test_two_workers_story_indexes_alert_once_per_story(tmp_path: Path, fresh_pg: str) -> None:
    """Two pipelines restored before either stored anything, each polling one outlet's copy of one
    story: with SharedStories the second joins the first's story; without, it would alert again."""
    from monitor.app import load_all, open_pipeline
    from monitor.distributed.stories import SharedStories
    from monitor.store import open_store

    web, hook = WebServer(), HookSink()
    try:
        rng = random.Random(SEED + 1)
        now = datetime.now(UTC)
        title, text = story(rng, 1, True)
        urls = []
        for outlet in ("a", "b", "c"):
            web.routes[f"/{outlet}/1.html"] = Route(page_html(title, text))
            web.routes[f"/{outlet}.xml"] = Route(rss(outlet, web.base, [
                {"id": f"{outlet}1", "title": title, "path": f"/{outlet}/1.html", "published": now}]),
                "application/rss+xml")
            urls.append(f"{web.base}/{outlet}.xml")
        cfg = write_config(tmp_path, fresh_pg, urls, hook)
        loaded = load_all(cfg)

        async def scenario() -> list[int]:
            stores = [open_store(loaded.settings.database_url) for _ in range(3)]
            shared = [SharedStories(s) for s in stores[:2]]
            async with open_pipeline(loaded, extract_workers=0, store=stores[0]) as one, \
                    open_pipeline(loaded, extract_workers=0, store=stores[1], sync_feeds=False) as two, \
                    open_pipeline(loaded, extract_workers=0, store=stores[2], sync_feeds=False) as alone:
                shared[0].attach(one)
                shared[1].attach(two)
                feeds = {f.url: f for f in one.store.feeds()}
                results = [await one.poll_feed(feeds[urls[0]]), await two.poll_feed(feeds[urls[1]]),
                           await alone.poll_feed(feeds[urls[2]])]
                assert shared[1].caught_up == 1  # the second worker learnt the first one's article
                return [r.alerts for r in results]

        # The third pipeline decides without catching up: it cannot know the story, and alerts again.
        assert asyncio.run(scenario()) == [1, 0, 1]
    finally:
        web.close()
        hook.close()


def test_two_senders_never_claim_the_same_alert(fresh_pg: str) -> None:
    """Outbox.deliver_due in several workers: each row is claimed by one sender (a concurrent UPDATE
    re-checks the lease after the first one commits), and together they claim every row."""
    import threading

    from monitor.store import open_store
    from monitor.store.timeutil import utcnow
    from monitor.types import Article, Match

    store = open_store(fresh_pg)
    now = utcnow()
    for i in range(120):
        store.save_article(Article(url=f"https://example.org/{i}", title=f"t{i}", text="x"), link=f"https://example.org/{i}",
                           keys=[f"url:{i}"], feed_id=None, now=now, matches=[Match("Fest", 1.0, ("x",))],
                           channels={"Fest": ["hook", "mail"]})
    store.close()
    claimed: dict[str, list[int]] = {}
    start = threading.Barrier(4)
    total = [0]
    lock = threading.Lock()

    def sender(name: str) -> None:
        own = open_store(fresh_pg)  # its own engine and connections, as another process has
        got: list[int] = []
        try:
            start.wait()
            deadline = time.monotonic() + 60
            # Senders racing for the same first rows: a loser claims nothing this round and tries again.
            while total[0] < 240 and time.monotonic() < deadline:
                batch = own.claim_deliveries(now=utcnow(), lease=timedelta(minutes=5), owner=name, limit=7)
                got += [d.id for d in batch]
                with lock:
                    total[0] += len(batch)
        finally:
            claimed[name] = got
            own.close()

    threads = [threading.Thread(target=sender, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    everything = [i for got in claimed.values() for i in got]
    assert len(claimed) == 4
    assert len(everything) == len(set(everything)) == 240  # no row twice, none left
    assert sum(1 for got in claimed.values() if got) >= 2, {k: len(v) for k, v in claimed.items()}


@pytest.mark.slow
def test_worker_applies_an_added_watchlist_and_feed_live(tmp_path: Path, fresh_pg: str, servers: Servers) -> None:
    """Edits reach the workers, who match: a watchlist and a feed added while everything runs alert
    on the next article, without a restart; the article stored before the edit stays silent."""
    web, hook, procs = servers
    logs = [tmp_path / "scheduler.log", tmp_path / "worker.log"]
    rng, now = random.Random(SEED + 2), datetime.now(UTC)
    for n, name in ((1, "old"), (2, "new")):
        title, text = story(rng, n, False)
        web.routes[f"/a/{n}.html"] = Route(page_html(title, f"{text} The zebrafair opened its gates."))
        web.routes[f"/{name}.xml"] = Route(rss(name, web.base, [
            {"id": str(n), "title": title, "path": f"/a/{n}.html", "published": now}]), "application/rss+xml")
    cfg = write_config(tmp_path, fresh_pg, [f"{web.base}/old.xml"], hook)
    assert subprocess.run([*monitor_exe(), "--config", str(cfg), "db", "upgrade"], cwd=tmp_path,
                          capture_output=True, timeout=120).returncode == 0
    procs += [start(cfg, logs[0], "run", "--extract-workers", "0"),
              start(cfg, logs[1], "worker", "--extract-workers", "0", "--port", "0")]
    assert wait_for(lambda: "feed_polled" in logs[1].read_text(), 90), tails(*logs)
    # The worker's own /healthz and /metrics: in distributed mode the polls are counted there.
    port = re.search(r"server_listening .*port=(\d+)", logs[1].read_text())
    assert port, tails(*logs)
    with urllib.request.urlopen(f"http://127.0.0.1:{port.group(1)}/healthz", timeout=10) as answer:
        assert answer.status == 200
        health = json.loads(answer.read())
        assert (health["status"], health["worker"], health["database"]) == ("ok", "running", "ok")
    with urllib.request.urlopen(f"http://127.0.0.1:{port.group(1)}/metrics", timeout=10) as answer:
        polls = re.search(r'^monitor_polls_total\{outcome="ok"\} (\S+)$', answer.read().decode(), re.M)
    assert polls and float(polls.group(1)) >= 1
    assert wait_for(lambda: "config_watch_started" in logs[1].read_text(), 30), tails(*logs)
    (tmp_path / "watchlists" / "zebra.yaml").write_text("name: Zebra\nmatch: {any: [zebrafair]}\n")
    cfg.write_text(cfg.read_text().replace(f"  - url: {web.base}/old.xml",
                                           f"  - url: {web.base}/old.xml\n  - url: {web.base}/new.xml"))
    assert wait_for(lambda: len(alerts_by_url(hook)) >= 1, 60), tails(*logs)
    time.sleep(1)
    assert alerts_by_url(hook) == Counter({f"{web.base}/a/2.html": 1})
    assert "watchlists_added=Zebra" in logs[1].read_text()
    # Only the scheduler writes the feeds table on a reload: the worker must not race it.
    assert "config_reload_failed" not in logs[0].read_text() + logs[1].read_text(), tails(*logs)
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    assert [proc.wait(40) for proc in procs] == [0, 0], tails(*logs)


def test_readme_scaling_out_example_loads(tmp_path: Path) -> None:
    import re
    from datetime import timedelta as td

    from monitor.config import load_settings

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Scaling out", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```yaml\n(.*?)```", section, re.S)
    (tmp_path / "monitor.yaml").write_text(block)
    settings = load_settings(tmp_path / "monitor.yaml", env={"PGPASSWORD": "secret"})
    assert settings.workers.mode == "distributed" and settings.workers.concurrency == 16
    assert settings.workers.stalled_after == td(seconds=30) and settings.workers.queue == "monitor"
    (tmp_path / "monitor.yaml").write_text(block.replace("stalled_after: 30s", "stalled_after: 2s"))
    from monitor.errors import ConfigError

    with pytest.raises(ConfigError, match="stalled_after must be at least 4s"):
        load_settings(tmp_path / "monitor.yaml", env={"PGPASSWORD": "secret"})


def test_a_job_for_a_feed_polled_since_is_skipped(tmp_path: Path, fresh_pg: str) -> None:
    """The second job of a feed whose lease ran out mid-poll waits behind the feed's lock, then finds
    the feed polled: it fetches nothing and frees the lease; a due feed is polled."""
    from monitor.app import load_all, open_pipeline
    from monitor.distributed.queue import JobQueue
    from monitor.distributed.worker import FeedWorker
    from monitor.store.timeutil import utcnow

    web, hook = WebServer(), HookSink()
    try:
        web.routes["/f.xml"] = Route(rss("f", web.base, []), "application/rss+xml")
        loaded = load_all(write_config(tmp_path, fresh_pg, [f"{web.base}/f.xml"], hook))

        async def scenario() -> None:
            async with open_pipeline(loaded, extract_workers=0) as pipeline:
                store = pipeline.store
                worker = FeedWorker(pipeline, JobQueue(loaded.settings))  # the queue is not used here
                [feed] = store.claim_due_feeds(now=utcnow(), owner="scheduler", lease=timedelta(minutes=5))
                store.record_poll(feed.id, now=utcnow(), next_check=utcnow() + timedelta(hours=1))
                store.claim_due_feeds(now=utcnow() + timedelta(hours=2), owner="scheduler",
                                      lease=timedelta(minutes=5))  # claimed again: a lease is held
                await worker.poll_feed(feed.id)
                assert (worker.skipped, worker.polled, len(web.hits("/f.xml"))) == (1, 0, 0)
                assert query(fresh_pg, "SELECT lease_until FROM feeds") == [(None,)]
                store.record_poll(feed.id, now=utcnow(), next_check=utcnow() + timedelta(seconds=2))  # due, by
                await worker.poll_feed(feed.id)  # the scheduler's clock, a little ahead of this worker's
                assert (worker.skipped, worker.polled, len(web.hits("/f.xml"))) == (1, 1, 1)

        asyncio.run(scenario())
    finally:
        web.close()
        hook.close()


@pytest.mark.slow
def test_benchmark_runs_and_prints_its_figures(postgres_url: str) -> None:
    import sys

    from support import REPO, SHARED_DATA

    if not (SHARED_DATA / "extraction").is_dir():
        pytest.skip(f"no shared data at {SHARED_DATA}")
    done = subprocess.run([sys.executable, str(REPO / "bench" / "distributed.py"), "--feeds", "4", "--articles", "1",
                           "--workers", "1", "--queue-jobs", "50"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MONITOR_TEST_PG": PG_ADMIN})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 worker(s):" in done.stdout and "articles/s" in done.stdout and "304: 4 feeds" in done.stdout
    assert "story lock held" in done.stdout and "jobs/s on one connection" in done.stdout
