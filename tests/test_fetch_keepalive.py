"""A cycle of 304s reuses connections: a 304 left unread used to cost a new connection per feed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from monitor.config import FetchSettings
from monitor.fetch import Fetcher
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
