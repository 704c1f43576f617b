"""The httpx transport under the one client: httpcore's pool over the guarded network backend.

httpx's own AsyncHTTPTransport cannot be given a network backend, so this is the same thin adapter
over httpcore's public API (request in, streamed response out), with one difference: failures leave
it as our errors with a sentence a person can read ("connection refused", "DNS lookup failed for
x.example"), not as "[Errno 111]" inside three layers of wrapped exceptions.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager

import httpcore
import httpx

from monitor.config import FetchSettings
from monitor.errors import BlockedAddress, FetchError
from monitor.fetch.guard import AddressRefused, GuardedBackend, Unresolvable

_ERRNO_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by the server",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ETIMEDOUT: "connection timed out",
    errno.EPIPE: "connection closed by the server",
}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        for nxt in (current.__cause__, current.__context__):
            if nxt is not None:
                todo.append(nxt)


def _os_reason(exc: BaseException) -> str | None:
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not accepted: {cause.verify_message or cause.reason}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {cause.reason or cause}"
        if isinstance(cause, socket.gaierror):
            return "DNS lookup failed"
        if isinstance(cause, OSError) and cause.errno in _ERRNO_REASONS:
            return _ERRNO_REASONS[cause.errno]
    return None


def describe(exc: Exception, settings: FetchSettings) -> str:
    """A short sentence for an httpcore failure, for logs and the feed's error column."""
    if isinstance(exc, httpcore.ConnectTimeout):
        return f"connection timed out after {settings.connect_timeout:g} s"
    if isinstance(exc, httpcore.ReadTimeout | httpcore.WriteTimeout):
        return f"timed out after {settings.timeout:g} s without data"
    if isinstance(exc, httpcore.PoolTimeout):
        return "timed out waiting for a free connection"
    if isinstance(exc, httpcore.RemoteProtocolError):
        text = str(exc) or "invalid HTTP response"
        if "without sending" in text or "disconnected" in text:
            return "the server closed the connection without a complete response"
        return f"the server broke the HTTP protocol: {text}"
    if isinstance(exc, httpcore.LocalProtocolError | httpcore.UnsupportedProtocol):
        return f"the request could not be made: {exc}"
    reason = _os_reason(exc)
    if isinstance(exc, httpcore.ConnectError):
        return reason or f"could not connect: {exc or type(exc).__name__}"
    if isinstance(exc, httpcore.ReadError | httpcore.WriteError):
        return f"connection lost: {reason or exc or type(exc).__name__}"
    return reason or f"{type(exc).__name__}: {exc}"


@contextmanager
def _translated(url: str, settings: FetchSettings) -> Iterator[None]:
    try:
        yield
    except AddressRefused as exc:
        if exc.host == exc.address:
            what = f"{exc.address} is not a public address ({exc.reason})"
        else:
            what = f"{exc.host} resolves to {exc.address} ({exc.reason})"
        raise BlockedAddress(url, f"{what}, and fetch.allow_private_networks is off") from exc
    except Unresolvable as exc:
        raise FetchError(url, f"DNS lookup failed for {exc.host}") from exc
    except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
            httpcore.UnsupportedProtocol, httpcore.ProxyError) as exc:
        raise FetchError(url, describe(exc, settings)) from exc


class _Body(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes], url: str, settings: FetchSettings) -> None:
        self._stream = stream
        self._url = url
        self._settings = settings

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _translated(self._url, self._settings):
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            with _translated(self._url, self._settings):
                await close()


class _Pool(httpcore.AsyncConnectionPool):
    """httpcore's pool, with its bookkeeping pass made linear and otherwise unchanged.

    httpcore runs `_assign_requests_to_connections` whenever a request starts or ends. In 1.0.x
    it counts the connections afresh for every idle one (`len([c.is_idle() for c in ...])`, which
    is just the number of connections) and lists the available and the idle connections afresh for
    every queued request: with 16 connections to a news site, 300 idle checks a pass, and a tenth
    of the daemon's CPU in a burst of new articles (encode/httpcore#1035, not merged). This pass
    makes the same decisions in the same order: connection states do not change during a pass,
    so each list is made once and kept up to date as the pass closes connections.
    """

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        closing: list[httpcore.AsyncConnectionInterface] = []
        for connection in list(self._connections):
            if connection.is_closed():
                self._connections.remove(connection)
            elif connection.has_expired() or (
                    # surplus keep-alive; httpcore writes the count as len([c.is_idle() for c in ...])
                    connection.is_idle() and len(self._connections) > self._max_keepalive_connections):
                self._connections.remove(connection)
                closing.append(connection)
        queued = [request for request in self._requests if request.is_queued()]
        if not queued:
            return closing
        # Made before any connection is added below: a new one is neither available nor idle.
        available = [connection for connection in self._connections if connection.is_available()]
        idle = [connection for connection in self._connections if connection.is_idle()]
        for pool_request in queued:
            origin = pool_request.request.url.origin
            reuse = next((c for c in available if c.can_handle_request(origin)), None)
            if reuse is not None:
                pool_request.assign_to_connection(reuse)
                continue
            if len(self._connections) >= self._max_connections:
                if not idle:
                    continue
                victim = idle.pop(0)  # make room: close an idle connection to another origin
                self._connections.remove(victim)
                if victim in available:
                    available.remove(victim)
                closing.append(victim)
            connection = self.create_connection(origin)
            self._connections.append(connection)
            pool_request.assign_to_connection(connection)
        return closing


class GuardedTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over httpcore's connection pool, connecting through `GuardedBackend`."""

    def __init__(
        self, settings: FetchSettings, *, backend: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._settings = settings
        self._pool = _Pool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=settings.concurrency,
            max_keepalive_connections=settings.concurrency,
            keepalive_expiry=30.0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=backend or GuardedBackend(allow_private=settings.allow_private_networks),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = str(request.url)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _translated(url, self._settings):
            response = await self._pool.handle_async_request(core_request)
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream, url, self._settings),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()
