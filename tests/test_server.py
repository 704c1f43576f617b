"""monitor.server: the HTTP handler on real sockets, and the real daemon's /healthz and /metrics.

The handler tests speak raw bytes to an endpoint on 127.0.0.1 (malformed, oversized, slow and
vanishing clients). The daemon tests start `monitor run` in a subprocess, as systemd does, with a
local news site, local webhook receivers and, for the outage, a TCP relay in front of the real
PostgreSQL that is cut and restored, as when the database host goes away and comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families
from support import HookSink, Route, WebServer, free_port, page_html, rss
from test_e2e import monitor_exe

from monitor.app import load_all, open_pipeline
from monitor.daemon import Daemon
from monitor.server import Health, HttpEndpoint, OffLoop, daemon_health

WORD = "wombatfair"

# ---------------------------------------------------------------- the handler, in-process


class Switch:
    """A health check whose answer the test sets."""

    def __init__(self) -> None:
        self.ok = True

    async def __call__(self) -> Health:
        return Health(self.ok, {"scheduler": "running" if self.ok else "paused", "database": "ok"})


def serve(test: Callable[[HttpEndpoint], Any], **options: Any) -> Any:
    """Run `test(endpoint)` (a coroutine function) against an endpoint on a free port."""
    registry = CollectorRegistry()
    Counter("monitor_things", "Things.", registry=registry).inc(3)

    async def main() -> Any:
        endpoint = HttpEndpoint(Switch(), registry, **options)
        await endpoint.start("127.0.0.1", 0)
        try:
            return await test(endpoint)
        finally:
            await endpoint.close()

    return asyncio.run(main())


async def raw(endpoint: HttpEndpoint, data: bytes, *, finish: bool = True) -> tuple[int, dict[str, str], bytes]:
    """Send `data`, read until the server closes, and split the answer into status, headers, body."""
    reader, writer = await asyncio.open_connection(*endpoint.address)
    writer.write(data)
    await writer.drain()
    if finish:
        writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


def test_healthz_is_200_or_503_with_a_json_body() -> None:
    async def go(endpoint: HttpEndpoint) -> None:
        status, headers, body = await raw(endpoint, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (status, headers["content-type"], headers["connection"]) == (200, "application/json", "close")
        assert json.loads(body) == {"status": "ok", "scheduler": "running", "database": "ok"}
        assert isinstance(endpoint.health, Switch)
        endpoint.health.ok = False
        status, _, body = await raw(endpoint, b"GET /healthz HTTP/1.1\r\n\r\n")
        assert status == 503 and json.loads(body)["status"] == "unavailable"
        assert json.loads(body)["scheduler"] == "paused"

    serve(go)


def test_metrics_in_both_formats_and_head_without_body() -> None:
    async def go(endpoint: HttpEndpoint) -> None:
        status, headers, body = await raw(endpoint, b"GET /metrics HTTP/1.1\r\n\r\n")
        assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
        assert b"monitor_things_total 3.0" in body and int(headers["content-length"]) == len(body)
        openmetrics = b"GET /metrics?x=1 HTTP/1.1\r\nAccept: application/openmetrics-text; version=1.0.0\r\n\r\n"
        status, headers, body = await raw(endpoint, openmetrics)
        assert status == 200 and headers["content-type"].startswith("application/openmetrics-text")
        assert body.endswith(b"# EOF\n")
        status, headers, body = await raw(endpoint, b"HEAD /metrics HTTP/1.1\r\n\r\n")
        assert status == 200 and body == b"" and int(headers["content-length"]) > 0

    serve(go)


def test_unknown_paths_404_and_other_methods_405() -> None:
    async def go(endpoint: HttpEndpoint) -> None:
        assert (await raw(endpoint, b"GET /metrics/ HTTP/1.1\r\n\r\n"))[0] == 404
        assert (await raw(endpoint, b"GET / HTTP/1.0\r\n\r\n"))[0] == 404
        status, headers, _ = await raw(endpoint, b"POST /healthz HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
        assert status == 405 and headers["allow"] == "GET, HEAD"

    serve(go)


@pytest.mark.parametrize(("request_bytes", "expected"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /healthz\r\n\r\n", 400),
    (b"GET  /healthz HTTP/1.1\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1 extra\r\n\r\n", 400),
    (b"GET /healthz SPDY/3\r\n\r\n", 400),
    (b"G(T /healthz HTTP/1.1\r\n\r\n", 400),
    (b"GET healthz HTTP/1.1\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),  # TLS to a plain-HTTP port
    # what is valid: an empty line first, bare LF line ends, the absolute form
    (b"\r\nGET /healthz HTTP/1.1\r\n\r\n", 200),
    (b"GET /healthz HTTP/1.1\nHost: x\n\n", 200),
    (b"GET http://127.0.0.1/healthz HTTP/1.1\r\n\r\n", 200),
])
def test_malformed_requests_get_a_clear_status(request_bytes: bytes, expected: int) -> None:
    async def go(endpoint: HttpEndpoint) -> int:
        return (await raw(endpoint, request_bytes))[0]

    assert serve(go) == expected


def test_oversized_heads_get_431() -> None:
    async def go(endpoint: HttpEndpoint) -> tuple[int, int, int]:
        one_long_line = b"GET /healthz HTTP/1.1\r\nCookie: " + b"a" * 20_000 + b"\r\n\r\n"
        many_lines = b"GET /healthz HTTP/1.1\r\n" + b"X-Filler: 0123456789012345678901234567890123456789\r\n" * 400
        long_target = b"GET /" + b"m" * 9000 + b" HTTP/1.1\r\n\r\n"
        return ((await raw(endpoint, one_long_line))[0], (await raw(endpoint, many_lines + b"\r\n"))[0],
                (await raw(endpoint, long_target))[0])

    assert serve(go, max_head=8192) == (431, 431, 431)


def test_a_slow_client_gets_408_and_others_are_still_served() -> None:
    async def go(endpoint: HttpEndpoint) -> None:
        started = time.monotonic()
        slow = asyncio.create_task(raw(endpoint, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", finish=False))
        assert (await raw(endpoint, b"GET /healthz HTTP/1.1\r\n\r\n"))[0] == 200  # while the slow one waits
        status, _, _ = await slow
        assert status == 408 and 0.3 <= time.monotonic() - started < 5

    serve(go, read_timeout=0.3)


def test_clients_that_vanish_mid_request_do_not_stop_the_endpoint() -> None:
    async def go(endpoint: HttpEndpoint) -> int:
        for partial in (b"", b"GET /hea", b"GET /healthz HTTP/1.1\r\nHost: x"):
            _reader, writer = await asyncio.open_connection(*endpoint.address)
            writer.write(partial)
            await writer.drain()
            writer.close()
        return (await raw(endpoint, b"GET /healthz HTTP/1.1\r\n\r\n"))[0]

    assert serve(go) == 200


def test_the_connection_cap_turns_extra_clients_away() -> None:
    async def go(endpoint: HttpEndpoint) -> int:
        held = [await asyncio.open_connection(*endpoint.address) for _ in range(3)]
        await asyncio.sleep(0.1)
        try:
            return (await raw(endpoint, b"GET /healthz HTTP/1.1\r\n\r\n"))[0]
        finally:
            for _reader, writer in held:
                writer.close()

    assert serve(go, max_connections=3) == 503


def test_a_port_in_use_is_an_error_at_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def go() -> None:
            with pytest.raises(OSError):
                await HttpEndpoint(Switch()).start("127.0.0.1", port)

        asyncio.run(go())


def test_off_loop_work_is_shared_while_running_and_bounded_by_its_deadline() -> None:
    release, calls = threading.Event(), []

    def blocking() -> str:
        calls.append(1)
        release.wait(10)
        return "answered"

    async def go() -> None:
        off = OffLoop()
        results = await asyncio.gather(*(off.run("db", blocking, 0.2) for _ in range(5)), return_exceptions=True)
        assert all(isinstance(r, TimeoutError) for r in results)
        with pytest.raises(TimeoutError):
            await off.run("db", blocking, 0.1)  # still the first call: no second thread is started
        assert len(calls) == 1
        release.set()
        assert await off.run("db", blocking, 5) in ("answered",)
        assert await off.run("db", lambda: "fresh", 5) == "fresh"  # once done, the next call runs anew

    asyncio.run(go())


def test_an_unstarted_daemon_is_unhealthy(tmp_path: Path) -> None:
    (tmp_path / "watchlists").mkdir()
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(f"database: sqlite:///{tmp_path / 'm.db'}\nserver: {{port: 0}}\n")

    async def go() -> Health:
        async with open_pipeline(load_all(cfg), extract_workers=0) as pipeline:
            return await daemon_health(Daemon(pipeline))()

    health = asyncio.run(go())
    assert not health.ok and dict(health.checks) == {"scheduler": "starting", "database": "ok",
                                                      "version": health.checks["version"]}

# ---------------------------------------------------------------- the real daemon


class MonitorProcess:
    """`monitor --log-format json run` in a subprocess; its log events collected as they come."""

    def __init__(self, cfg: Path, *, extract_workers: int = 0) -> None:
        env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
        self.proc = subprocess.Popen(
            [*monitor_exe(), "--log-format", "json", "--config", str(cfg), "run", "--extract-workers",
             str(extract_workers)], cwd=cfg.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        self.events: list[dict[str, Any]] = []
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            with contextlib.suppress(ValueError):
                self.events.append(json.loads(line))

    def event(self, name: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in list(self.events) if e.get("event") == name]
            if found:
                return found[0]
            assert self.proc.poll() is None, "".join(self.lines)[-3000:]
            time.sleep(0.1)
        raise AssertionError(f"no {name} event in:\n" + "".join(self.lines)[-3000:])

    @property
    def port(self) -> int:
        return int(self.event("server_listening")["port"])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=40)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def get(port: int, path: str, method: str = "GET") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def until(check: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, body = get(port, "/metrics")
    assert status == 200
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(body.decode()) for s in family.samples}


def sample(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def news_config(tmp_path: Path, web: WebServer, channel: str, database: str | None = None) -> Path:
    now = datetime.now(UTC)
    entries = []
    for i, (title, text) in enumerate([  # two stories, so two alerts
            (f"Harbour city opens the {WORD}", f"The {WORD} in Portsville opened on Monday with 40 stalls. " * 5),
            (f"Mountain village hosts a chess {WORD}", f"Eleven grandmasters came to Highpeak for the {WORD}. " * 5)]):
        web.routes[f"/a/{i}.html"] = Route(page_html(title, text))
        entries.append({"id": f"a{i}", "title": title, "path": f"/a/{i}.html", "published": now - timedelta(hours=1)})
    web.routes["/feed.xml"] = Route(rss("Wire", web.base, entries), "application/rss+xml", etag='"v1"')
    (tmp_path / "watchlists").mkdir()
    (tmp_path / "watchlists" / "fairs.yaml").write_text(f"name: Fairs\nmatch: {{any: [{WORD}]}}\n")
    cfg = tmp_path / "monitor.yaml"
    database = database or f"sqlite:///{tmp_path / 'monitor.db'}"
    cfg.write_text("\n".join([
        f"database: {database}", "watchlists: watchlists",
        "fetch: {allow_private_networks: true, timeout: 10}", f"feeds: [{{url: '{web.base}/feed.xml'}}]",
        "every: 2s", "delivery: {every: 1s}", "server: {host: 127.0.0.1, port: 0}",
        "channels:", f"  hook: {channel}"]) + "\n")
    return cfg


def test_the_daemon_serves_healthz_and_metrics_that_follow_its_work(tmp_path: Path) -> None:
    web, hook = WebServer(), HookSink()
    daemon = None
    try:
        cfg = news_config(tmp_path, web, f"{{type: webhook, url: '{hook.url}', timeout: 5}}")
        daemon = MonitorProcess(cfg, extract_workers=1)
        port = daemon.port
        assert daemon.event("server_listening")["host"] == "127.0.0.1"
        until(lambda: get(port, "/healthz")[0] == 200, 30, "/healthz 200")
        status, body = get(port, "/healthz")
        assert status == 200 and json.loads(body) | {"version": "-"} == {"status": "ok", "scheduler": "running", "database": "ok",
                                                       "version": "-"}
        until(lambda: len(hook.posts) == 2, 60, "two alerts")
        until(lambda: sample(scrape(port), "monitor_deliveries_total", channel="hook", status="sent") == 2, 10,
              "the sent counter")
        until(lambda: sample(scrape(port), "monitor_polls_total", outcome="not_modified") >= 1, 30, "a 304 poll")
        samples = scrape(port)
        assert sample(samples, "monitor_polls_total", outcome="ok") == 1
        assert sample(samples, "monitor_polls_total", outcome="error") == 0
        assert sum(sample(samples, "monitor_articles_total", extraction=e)
                   for e in ("full", "teaser", "summary", "failed")) == 2
        assert sample(samples, "monitor_matches_total", watchlist="Fairs") == 2
        assert sample(samples, "monitor_fetch_seconds_count", kind="page") == 2
        assert sample(samples, "monitor_fetch_seconds_count", kind="feed") >= 2
        assert sample(samples, "monitor_extract_seconds_count") == 2  # measured in the extraction process
        assert sample(samples, "monitor_delivery_seconds_count", channel="hook") == 2
        assert sample(samples, "monitor_delivery_queue_depth", channel="hook") == 0
        assert sample(samples, "monitor_feeds") == 1 and sample(samples, "monitor_watchlists") == 1
        assert sample(samples, "monitor_process_resident_memory_bytes") > 0
        assert str(hook.port) not in get(port, "/metrics")[1].decode()
        assert get(port, "/healthz", "HEAD") == (200, b"")
        assert get(port, "/nothing")[0] == 404
        assert daemon.stop() == 0
        with pytest.raises(ConnectionRefusedError):
            get(port, "/healthz")
    finally:
        if daemon is not None:
            daemon.stop()
        web.close(), hook.close()


class StallingReceiver:
    """A webhook receiver that holds every request until `release` is set."""

    def __init__(self) -> None:
        self.arrived, self.release = threading.Event(), threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.arrived.set()
                receiver.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def test_healthz_is_503_while_the_daemon_stops(tmp_path: Path) -> None:
    web, receiver = WebServer(), StallingReceiver()
    daemon = None
    try:
        cfg = news_config(tmp_path, web, f"{{type: webhook, url: '{receiver.url}', timeout: 25}}")
        daemon = MonitorProcess(cfg)
        port = daemon.port
        assert receiver.arrived.wait(60), "no delivery started"
        assert get(port, "/healthz")[0] == 200
        daemon.proc.send_signal(signal.SIGTERM)  # the delivery in hand is allowed to finish...
        daemon.event("daemon_stopping")
        status, body = get(port, "/healthz")  # ...while probes are told not to count on this daemon
        assert status == 503 and json.loads(body)["scheduler"] == "paused" and json.loads(body)["database"] == "ok"
        assert get(port, "/metrics")[0] == 200
        receiver.release.set()
        assert daemon.stop() == 0
    finally:
        if daemon is not None:
            daemon.stop()
        web.close(), receiver.close()


def test_a_port_in_use_stops_the_daemon_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (tmp_path / "watchlists").mkdir()
        cfg = tmp_path / "monitor.yaml"
        cfg.write_text(f"database: sqlite:///{tmp_path / 'm.db'}\nserver: {{host: 127.0.0.1, port: {port}}}\n")
        r = subprocess.run([*monitor_exe(), "--config", str(cfg), "run"], capture_output=True, text=True,
                           timeout=60, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert f"monitor.yaml: server: cannot listen on 127.0.0.1:{port}" in r.stderr


class TcpRelay:
    """Forwards a local port to PostgreSQL. `cut()` closes the port and every connection through it,
    as when the database host goes away; `restore()` listens on the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[tuple[str, str]]:
    """(database name, admin URL) of a new PostgreSQL database, dropped afterwards."""
    import psycopg
    from conftest import PG_ADMIN

    name = f"monitor_h_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, PG_ADMIN
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_healthz_is_503_while_postgres_is_unreachable_and_200_when_it_is_back(
        tmp_path: Path, fresh_postgres: tuple[str, str]) -> None:
    from sqlalchemy.engine import make_url

    name, admin = fresh_postgres
    server = make_url(admin)
    relay = TcpRelay((server.host or "127.0.0.1", server.port or 5432))
    web, hook = WebServer(), HookSink()
    daemon = None
    try:
        database = f"postgresql+psycopg://{server.username}@127.0.0.1:{relay.port}/{name}"
        cfg = news_config(tmp_path, web, f"{{type: webhook, url: '{hook.url}', timeout: 5}}", database)
        upgrade = subprocess.run([*monitor_exe(), "--config", str(cfg), "db", "upgrade"], capture_output=True,
                                 text=True, timeout=120, cwd=tmp_path)
        assert upgrade.returncode == 0, upgrade.stderr
        daemon = MonitorProcess(cfg)
        port = daemon.port
        until(lambda: len(hook.posts) == 2, 60, "two alerts")
        assert get(port, "/healthz")[0] == 200

        relay.cut()
        status, body = get(port, "/healthz")
        assert status == 503, body
        answer = json.loads(body)
        assert answer["scheduler"] == "running" and answer["database"].startswith("error: OperationalError")
        assert answer["status"] == "unavailable"
        status, body = get(port, "/metrics")  # still served, without the queue depth it cannot read
        assert status == 200 and b"monitor_polls_total" in body and b"monitor_delivery_queue_depth{" not in body
        daemon.event("health_changed")

        relay.restore()
        until(lambda: get(port, "/healthz")[0] == 200, 30, "/healthz back to 200")
        assert b'monitor_delivery_queue_depth{channel="hook"} 0.0' in get(port, "/metrics")[1]
        assert daemon.proc.poll() is None
        assert daemon.stop() == 0
    finally:
        if daemon is not None:
            daemon.stop()
        relay.cut()
        web.close(), hook.close()


def test_the_readme_server_example_is_valid(tmp_path: Path) -> None:
    from test_docs import REPO, yaml_blocks

    from monitor.config import load_settings

    [block] = [b for b in yaml_blocks(REPO / "README.md") if b.startswith("server:")]
    (tmp_path / "monitor.yaml").write_text(block)
    server = load_settings(tmp_path / "monitor.yaml", env={}).server
    assert server is not None and (server.host, server.port) == ("127.0.0.1", 9108)


def test_a_locked_outbox_leaves_the_queue_depth_out_without_holding_the_scrape(
        tmp_path: Path, fresh_postgres: tuple[str, str]) -> None:
    """A migration's ALTER TABLE holds an ACCESS EXCLUSIVE lock: the COUNT waits behind it."""
    import psycopg

    from monitor.metrics import DaemonCollector

    name, admin = fresh_postgres
    (tmp_path / "watchlists").mkdir()
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(f"database: {admin.rsplit('/', 1)[0]}/{name}\nchannels: {{screen: {{type: console}}}}\n")

    async def go() -> None:
        async with open_pipeline(load_all(cfg), extract_workers=0) as pipeline:
            collector = DaemonCollector(lambda: pipeline, timeout=0.5)

            def names() -> list[str]:
                return [f.name for f in collector.collect()]

            assert names()[-1] == "monitor_delivery_queue_depth"
            with psycopg.connect(f"{admin.rsplit('/', 1)[0]}/{name}") as locker:
                locker.execute("LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE")
                started = time.monotonic()
                assert names() == ["monitor_feeds", "monitor_watchlists"]
                assert names() == ["monitor_feeds", "monitor_watchlists"]  # the first query still waits...
                assert time.monotonic() - started < 3  # ...and is not waited for again
                hung = [t for t in threading.enumerate() if t.name == "monitor-queue-depth"]
                assert len(hung) == 1
                locker.rollback()
            hung[0].join(10)
            assert names()[-1] == "monitor_delivery_queue_depth"

    asyncio.run(go())


def test_a_failing_collector_gets_a_500_and_the_endpoint_goes_on() -> None:
    class Broken:
        def collect(self) -> list[Any]:
            raise RuntimeError("bug in a collector")

    registry = CollectorRegistry()
    registry.register(Broken())

    async def go() -> tuple[int, int]:
        endpoint = HttpEndpoint(Switch(), registry)
        await endpoint.start("127.0.0.1", 0)
        try:
            return (await raw(endpoint, b"GET /metrics HTTP/1.1\r\n\r\n"))[0], \
                (await raw(endpoint, b"GET /healthz HTTP/1.1\r\n\r\n"))[0]
        finally:
            await endpoint.close()

    assert asyncio.run(go()) == (500, 200)
