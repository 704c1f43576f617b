"""The daemon's HTTP endpoint for operators: GET /healthz for probes, GET /metrics for Prometheus.

    GET|HEAD /healthz   200 {"status": "ok", ...} while the scheduler runs and the database answers;
                        503 {"status": "unavailable", ...} saying which of the two is wrong
    GET|HEAD /metrics   the registry of monitor.metrics, in the format the Accept header asks for
    anything else       404 (405 for another method, 400 for what is not HTTP/1.x)

It runs on the daemon's own event loop (asyncio.start_server), not in a thread as prometheus_client's
`start_http_server` does: a probe answered by a thread says 200 while the event loop is wedged and
nothing is polled, whereas an answer from the loop proves the loop turns. Blocking work (the
`SELECT 1`, reading the queue depth for /metrics) goes to threads, one at a time per kind, with a
deadline: a database that stops answering turns /healthz into 503 within seconds instead of hanging
it, and stuck probes do not pile up threads. No new dependency: the handler reads one request with
a cap on its size and a deadline, answers, and closes the connection (`Connection: close`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import text
from sqlalchemy.engine import Engine

from monitor import __version__, metrics
from monitor.errors import ConfigError
from monitor.logs import redact
from monitor.types import Problem

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from monitor.config import Settings
    from monitor.daemon import Daemon
    from monitor.pipeline import Pipeline

log = logging.getLogger("monitor.server")

T = TypeVar("T")

MAX_HEAD = 8 * 1024
"""Request line and headers together; Prometheus and curl send a few hundred bytes."""
READ_TIMEOUT = 5.0
"""For the whole request head: a client that drips bytes (slowloris) is cut off."""
WRITE_TIMEOUT = 10.0
DB_TIMEOUT = 2.0
"""How long /healthz waits for SELECT 1."""
METRICS_TIMEOUT = 8.0
"""Under Prometheus's default scrape timeout (10 s), so a slow database gives a clear 503."""
MAX_CONNECTIONS = 64

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 §5.6.2
_VERSION = re.compile(r"HTTP/(\d)\.(\d)")


@dataclass(frozen=True, slots=True)
class Health:
    """What /healthz answers: ok or not, and each check's state as a short string."""

    ok: bool
    checks: Mapping[str, str] = field(default_factory=dict)


HealthCheck = Callable[[], Awaitable[Health]]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


class HeadTooLarge(Exception):
    """The request line and headers passed MAX_HEAD."""


def _plain(status: int, message: str | None = None, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, ((message or HTTPStatus(status).phrase) + "\n").encode(), headers=headers)


def _json(status: int, document: Mapping[str, object]) -> Response:
    return Response(status, json.dumps(document, sort_keys=True).encode() + b"\n", "application/json")


async def read_head(reader: asyncio.StreamReader, limit: int = MAX_HEAD) -> list[bytes] | None:
    """The request line and header lines, without line ends; None when the client left mid-way.

    Lines may end in CRLF or a bare LF (RFC 9112 §2.2 allows recipients to accept both), and empty
    lines before the request line are skipped, as that section asks.
    """
    lines: list[bytes] = []
    size = 0
    while True:
        try:
            line = await reader.readline()
        except ValueError as exc:  # one line longer than the reader's limit
            raise HeadTooLarge from exc
        size += len(line)
        if size > limit:
            raise HeadTooLarge
        if not line.endswith(b"\n"):
            return None
        if line in (b"\r\n", b"\n"):
            if lines:
                return lines
            continue
        lines.append(line.rstrip(b"\r\n"))


def parse_request(lines: Sequence[bytes]) -> Request | Response:
    """The request, or the error response that a malformed one gets."""
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1]:
        return _plain(400, "bad request line")
    method, target, version = parts
    matched = _VERSION.fullmatch(version)
    if matched is None:
        return _plain(400, "bad request line")
    if matched.group(1) != "1":
        return _plain(505)
    headers: dict[str, str] = {}
    for raw in lines[1:]:
        name, colon, value = raw.decode("latin-1").partition(":")
        if not colon or not _TOKEN.fullmatch(name):  # RFC 9112 §5.1: no whitespace before the colon
            return _plain(400, "bad header line")
        headers[name.lower()] = value.strip()
    if method not in ("GET", "HEAD"):
        return _plain(405, headers=(("Allow", "GET, HEAD"),))
    if target.startswith("/"):
        path = target.split("?", 1)[0]
    elif target.lower().startswith(("http://", "https://")):  # absolute-form, RFC 9112 §3.2.2
        path = urlsplit(target).path or "/"
    else:
        return _plain(400, "bad request target")
    return Request(method, path, headers)


class OffLoop:
    """Blocking calls on daemon threads, one per key at a time: callers meanwhile share its result.

    A database that stops answering leaves one thread waiting, not one per probe, and a daemon
    thread does not hold the process at exit (a ThreadPoolExecutor's threads are joined).
    """

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[Any]] = {}

    async def run(self, key: str, work: Callable[[], T], timeout: float) -> T:
        future = self._running.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = loop.create_future()
            self._running[key] = future
            future.add_done_callback(lambda done: self._finished(key, done))
            threading.Thread(target=self._call, args=(loop, future, work), name=f"monitor-{key}", daemon=True).start()
        return cast(T, await asyncio.wait_for(asyncio.shield(future), timeout))

    def _finished(self, key: str, future: asyncio.Future[Any]) -> None:
        if self._running.get(key) is future:
            del self._running[key]
        if not future.cancelled():
            future.exception()  # retrieved here: a caller that timed out no longer waits for it

    @staticmethod
    def _call(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], work: Callable[[], object]) -> None:
        try:
            result: object = work()
        except BaseException as exc:  # handed to the awaiting caller, who decides what it means
            outcome: tuple[object, BaseException | None] = (None, exc)
        else:
            outcome = (result, None)
        with contextlib.suppress(RuntimeError):  # the loop closed while we worked: nobody is waiting
            loop.call_soon_threadsafe(_settle, future, *outcome)


def _settle(future: asyncio.Future[Any], result: object, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class _Snapshot:
    """Metric families collected off the loop, handed to the encoder as a registry."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


class HttpEndpoint:
    """Serves /healthz from `health` and /metrics from `registry` on one address."""

    def __init__(self, health: HealthCheck, registry: CollectorRegistry = metrics.REGISTRY, *,
                 collectors: Sequence[Collector] = (), read_timeout: float = READ_TIMEOUT,
                 max_head: int = MAX_HEAD, max_connections: int = MAX_CONNECTIONS,
                 metrics_timeout: float = METRICS_TIMEOUT) -> None:
        self.health = health
        self.registry = registry
        self.read_timeout = read_timeout
        self.max_head = max_head
        self.max_connections = max_connections
        self.metrics_timeout = metrics_timeout
        self._collectors = list(collectors)
        self._registered: list[Collector] = []
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._off = OffLoop()
        self.address: tuple[str, int] = ("", 0)

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen on host:port (0: a free port) and return the address bound; OSError if it cannot."""
        self._server = await asyncio.start_server(self._handle, host, port, limit=self.max_head)
        for collector in self._collectors:  # after the bind: a failed start leaves the registry as it was
            self.registry.register(collector)
            self._registered.append(collector)
        sockname = self._server.sockets[0].getsockname()
        self.address = (str(sockname[0]), int(sockname[1]))
        return self.address

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            if self._handlers:
                await asyncio.wait(set(self._handlers), timeout=2)
            await self._server.wait_closed()
            self._server = None
        while self._registered:
            self.registry.unregister(self._registered.pop())

    async def respond(self, request: Request) -> Response:
        if request.path == "/healthz":
            health = await self.health()
            body: dict[str, object] = {"status": "ok" if health.ok else "unavailable", **health.checks}
            return _json(200 if health.ok else 503, body)
        if request.path == "/metrics":
            return await self._metrics(request.headers.get("accept", ""))
        return _plain(404)

    async def _metrics(self, accept: str) -> Response:
        encoder, content_type = choose_encoder(accept)
        try:
            families = await self._off.run("metrics", lambda: list(self.registry.collect()), self.metrics_timeout)
        except TimeoutError:
            return _plain(503, f"metrics not collected within {self.metrics_timeout:g} s")
        return Response(200, encoder(_Snapshot(families)), content_type)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            method, response = await self._answer(reader)
            if response is not None:
                await self._write(writer, response, head_only=method == "HEAD")
                await self._linger(reader)
        except (ConnectionError, TimeoutError):
            pass  # the client went away or stopped reading: nothing to answer
        except Exception:  # a bug answering one request must not reach the daemon
            log.exception("http_internal_error")
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[str, Response | None]:
        if len(self._handlers) > self.max_connections:
            return "GET", _plain(503, "too many connections")
        try:
            async with asyncio.timeout(self.read_timeout):
                lines = await read_head(reader, self.max_head)
        except TimeoutError:
            return "GET", _plain(408)
        except HeadTooLarge:
            return "GET", _plain(431)
        if lines is None:
            return "GET", None
        request = parse_request(lines)
        if isinstance(request, Response):
            return "GET", request
        try:
            return request.method, await self.respond(request)
        except Exception:  # a bug (a collector that raises): the client gets a 500, the log the traceback
            log.exception("http_internal_error", extra={"path": request.path})
            return request.method, _plain(500)

    async def _write(self, writer: asyncio.StreamWriter, response: Response, *, head_only: bool) -> None:
        head = [f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}",
                f"Content-Type: {response.content_type}", f"Content-Length: {len(response.body)}",
                "Cache-Control: no-store", "Connection: close"]
        head += [f"{name}: {value}" for name, value in response.headers]
        # HEAD gets the headers GET would get, Content-Length included, and no body (RFC 9110 §9.3.2).
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else response.body))
        async with asyncio.timeout(WRITE_TIMEOUT):
            await writer.drain()

    @staticmethod
    async def _linger(reader: asyncio.StreamReader) -> None:
        """Read what the client still sends before closing: closing a socket with unread input sends
        a TCP reset, which can destroy our answer (a 431, a 405 to a POST) before the client reads it."""
        with contextlib.suppress(TimeoutError, ConnectionError):
            async with asyncio.timeout(1.0):
                for _ in range(64):
                    if not await reader.read(16 * 1024):
                        break


def ping(engine: Engine) -> None:
    """SELECT 1 on a connection from the pool (PostgreSQL's pre-ping replaces a dead one first)."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def scheduler_state(scheduler: Any) -> str:
    """`running`, or why not: `starting` (no scheduler yet), `paused` (stopping), `stopped`."""
    if scheduler is None:
        return "starting"
    return {0: "stopped", 1: "running", 2: "paused"}.get(int(scheduler.state), "unknown")


class ProcessHealth:
    """A process is healthy while its work loop runs and its database answers SELECT 1 in time.

    `part` names the loop in the JSON ("scheduler" for `monitor run`, "worker" for `monitor worker`)
    and `state` says how it is: "running" or why not.
    """

    def __init__(self, part: str, state: Callable[[], str], engine: Callable[[], Engine], *,
                 db_timeout: float = DB_TIMEOUT) -> None:
        self._part = part
        self._state = state
        self._engine = engine
        self._db_timeout = db_timeout
        self._off = OffLoop()
        self._was_ok: bool | None = None

    async def __call__(self) -> Health:
        state = self._state()
        database = await self._database()
        health = Health(state == "running" and database == "ok",
                        {self._part: state, "database": database, "version": __version__})
        if health.ok != self._was_ok and (self._was_ok is not None or not health.ok):
            # Logged when the answer changes, not on every probe: a probe every few seconds would drown the log.
            (log.info if health.ok else log.warning)("health_changed", extra={
                "healthy": health.ok, self._part: state, "database": database})
        self._was_ok = health.ok
        return health

    async def _database(self) -> str:
        engine = self._engine()
        try:
            await self._off.run("database", lambda: ping(engine), self._db_timeout)
        except TimeoutError:
            return f"no answer within {self._db_timeout:g} s"
        except Exception as exc:  # whatever the driver raised, the database did not answer
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            return redact(f"error: {exc.__class__.__name__}: {first}")
        return "ok"


def daemon_health(daemon: Daemon, *, db_timeout: float = DB_TIMEOUT) -> ProcessHealth:
    """The daemon's health: its scheduler runs and its database answers."""
    return ProcessHealth("scheduler", lambda: scheduler_state(daemon.scheduler),
                         lambda: daemon.pipeline.store.engine, db_timeout=db_timeout)


async def serve_endpoint(settings: Settings, health: HealthCheck, pipeline: Callable[[], Pipeline], *,
                         host: str | None = None, port: int | None = None) -> HttpEndpoint:
    """Start /healthz and /metrics; a port that cannot be bound is a configuration error naming `server`."""
    metrics.declare(settings.active_channels, [w.name for w in pipeline().watchlists])
    endpoint = HttpEndpoint(health, metrics.REGISTRY, collectors=[metrics.DaemonCollector(pipeline)])
    server = settings.server
    host = host or (server.host if server is not None else "127.0.0.1")
    port = port if port is not None else (server.port if server is not None else 0)
    try:
        host, port = await endpoint.start(host, port)
    except OSError as exc:
        raise ConfigError([Problem(str(settings.source or "monitor.yaml"), None, "server",
                                   f"cannot listen on {host}:{port}: {exc.strerror or exc}")]) from exc
    log.info("server_listening", extra={"host": host, "port": port})
    return endpoint


async def open_endpoint(daemon: Daemon) -> HttpEndpoint | None:
    """Start /healthz and /metrics for `daemon` when monitor.yaml has `server:`; None otherwise.

    A port that cannot be bound stops the start-up with the file and key to change: a daemon that
    runs without the endpoint its probes expect would be restarted by them forever.
    """
    settings = daemon.pipeline.settings
    if settings.server is None:
        return None
    return await serve_endpoint(settings, daemon_health(daemon), lambda: daemon.pipeline)
