"""A cycle of 304s reuses connections: a 304 left unread used to cost a new connection per feed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore
import pytest

from monitor.config import FetchSettings
from monitor.fetch import Fetcher
from monitor.fetch.transport import _Pool
from monitor.types import NotModified


class _Counting(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        type(self).connections += 1
        super().process_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.end_headers()
            return
        body = b'<rss version="2.0"><channel><title>x</title></channel></rss>'
        self.send_response(200)
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[_Counting]:
    httpd = _Counting(("127.0.0.1", 0), _Handler)
    _Counting.connections = 0
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_not_modified_responses_keep_the_connection_alive(server: _Counting) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings = FetchSettings(allow_private_networks=True, concurrency=1, per_host=1)

    async def poll() -> list[object]:
        async with Fetcher(settings) as fetcher:
            return [await fetcher.fetch_feed(f"{base}/feed/{i}.xml", etag='"v1"', last_modified=None)
                    for i in range(10)]

    results = asyncio.run(poll())
    assert all(isinstance(r, NotModified) and r.etag == '"v1"' for r in results)
    assert _Counting.connections == 1


class _ClosingHandler(_Handler):
    """Answers as if the connection stayed open, then closes it: what a server does when its
    keep-alive timeout is shorter than ours."""

    def do_GET(self) -> None:
        super().do_GET()
        self.wfile.flush()
        self.close_connection = True


def test_a_connection_the_server_closed_is_noticed_before_it_is_reused() -> None:
    """The pool asks each idle connection whether its socket turned readable (monitor.fetch.guard's
    _Stream answers with one poll): a dead one is dropped, not sent the next request."""
    httpd = _Counting(("127.0.0.1", 0), _ClosingHandler)
    _Counting.connections = 0
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    settings = FetchSettings(allow_private_networks=True, concurrency=1, per_host=1)

    async def poll() -> list[object]:
        async with Fetcher(settings) as fetcher:
            results = []
            for i in range(5):
                results.append(await fetcher.fetch_feed(f"{base}/feed/{i}.xml", etag=None, last_modified=None))
                await asyncio.sleep(0.05)  # the server's close reaches us
            return results

    try:
        results = asyncio.run(poll())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert len(results) == 5 and not any(isinstance(r, NotModified) for r in results)
    assert _Counting.connections == 5  # each closed connection was noticed, and a new one made


def _pool_run(pool_class: type[httpcore.AsyncConnectionPool], urls: list[str], *, max_connections: int,
              max_keepalive: int) -> list[int]:
    async def run() -> list[int]:
        async with pool_class(max_connections=max_connections, max_keepalive_connections=max_keepalive) as pool:
            async def one(url: str) -> int:
                response = await pool.request("GET", url)
                assert len(pool.connections) <= max_connections
                return response.status
            return list(await asyncio.gather(*(one(u) for u in urls)))
    return asyncio.run(run())


@pytest.mark.parametrize("max_keepalive", [4, 1])
def test_the_linear_pool_pass_serves_a_queue_like_httpcores(server: _Counting, max_keepalive: int) -> None:
    """monitor.fetch.transport._Pool makes httpcore's decisions in one pass instead of one per
    queued request: 60 requests queued on 4 connections all get answered, on no more connections
    than httpcore's own pool opens for the same queue."""
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = [f"{base}/feed/{i}.xml" for i in range(60)]
    assert _pool_run(_Pool, urls, max_connections=4, max_keepalive=max_keepalive) == [200] * 60
    ours = _Counting.connections
    _Counting.connections = 0
    assert _pool_run(httpcore.AsyncConnectionPool, urls, max_connections=4, max_keepalive=max_keepalive) == [200] * 60
    assert ours <= max(4, _Counting.connections)
    assert ours < 60 if max_keepalive == 4 else ours >= 4  # kept alive and reused; or closed as surplus


def test_the_linear_pool_pass_makes_room_for_another_origin(server: _Counting) -> None:
    """A full pool of idle connections to one origin closes one of them for a request to another."""
    other = _Counting(("127.0.0.1", 0), _Handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        first = [f"http://127.0.0.1:{server.server_address[1]}/feed/{i}.xml" for i in range(6)]
        second = [f"http://127.0.0.1:{other.server_address[1]}/feed/{i}.xml" for i in range(6)]

        async def run() -> list[int]:
            async with _Pool(max_connections=2, max_keepalive_connections=2) as pool:
                statuses = [r.status for r in await asyncio.gather(*(pool.request("GET", u) for u in first[:2]))]
                assert len(pool.connections) == 2 and all(c.is_idle() for c in pool.connections)
                # full of idle connections to the first origin: one must make way, not wait for ever
                response = await asyncio.wait_for(pool.request("GET", second[0]), 5)
                assert len(pool.connections) == 2
                results = await asyncio.gather(*(pool.request("GET", u) for u in first[2:] + second[1:]))
                assert len(pool.connections) <= 2
                return [*statuses, response.status, *(r.status for r in results)]
        assert asyncio.run(run()) == [200] * 12
    finally:
        other.shutdown()
        other.server_close()
