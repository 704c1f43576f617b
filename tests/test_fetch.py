"""Fetcher against real HTTP servers on the loopback interface."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from monitor import __version__
from monitor.config import FetchSettings
from monitor.errors import BlockedAddress, FetchError, HTTPStatusError, ResponseTooLarge
from monitor.fetch import Fetcher, Page
from monitor.fetch import guard as guard_module
from monitor.types import FetchedFeed, NotModified

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class Server:
    host: str
    port: int
    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"


def _serve(host: str, context: ssl.SSLContext | None = None) -> Iterator[Server]:
    state = Server(host, 0)

    class Handle(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                state.seen.append(Seen(self.path, dict(self.headers.items()), time.monotonic()))
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                route = state.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                else:
                    route(self)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                with state.lock:
                    state.in_flight -= 1

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handle)
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    yield from _serve("127.0.0.1")


@pytest.fixture
def server2() -> Iterator[Server]:
    yield from _serve("127.0.0.2")


def reply(body: bytes = b"", status: int = 200, **headers: str) -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name.replace("_", "-"), value)
        if "Content_Length" not in headers:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handle


def settings(**overrides: Any) -> FetchSettings:
    values: dict[str, Any] = {"allow_private_networks": True, "timeout": 5.0, "connect_timeout": 2.0}
    values.update(overrides)
    return FetchSettings(**values)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def get_feed(s: FetchSettings, url: str, etag: str | None = None, modified: str | None = None) -> Any:
    async with Fetcher(s) as fetcher:
        return await fetcher.fetch_feed(url, etag=etag, last_modified=modified)


async def get_page(s: FetchSettings, url: str) -> Page:
    async with Fetcher(s) as fetcher:
        return await fetcher.fetch_page(url)


RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


# --- conditional GET, validators, freshness -------------------------------------------------


def test_feed_200_returns_body_validators_and_max_age(server: Server) -> None:
    server.routes["/feed"] = reply(
        RSS, ETag='"v1"', Last_Modified="Tue, 01 Oct 2024 10:00:00 GMT",
        Content_Type="application/rss+xml; charset=utf-8", Cache_Control="public, max-age=600",
    )
    result = run(get_feed(settings(), server.url("/feed")))
    assert isinstance(result, FetchedFeed)
    assert result.content == RSS
    assert result.etag == '"v1"'
    assert result.last_modified == "Tue, 01 Oct 2024 10:00:00 GMT"
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert result.max_age == timedelta(seconds=600)
    assert result.final_url == server.url("/feed")
    sent = server.seen[0].headers
    assert "If-None-Match" not in sent and "If-Modified-Since" not in sent
    assert "application/rss+xml" in sent["Accept"]
    assert sent["Accept-Encoding"] == "gzip, deflate"


def test_conditional_get_sends_validators_and_304_keeps_old_ones(server: Server) -> None:
    def conditional(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            reply(b"", 304, Expires=format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True))(h)
        else:
            reply(RSS, ETag='"v1"')(h)

    server.routes["/feed"] = conditional
    result = run(get_feed(settings(), server.url("/feed"), '"v1"', "Tue, 01 Oct 2024 10:00:00 GMT"))
    assert isinstance(result, NotModified)
    assert result.etag == '"v1"'
    assert result.last_modified == "Tue, 01 Oct 2024 10:00:00 GMT"
    assert result.max_age is not None and timedelta(minutes=58) < result.max_age <= timedelta(hours=1)
    assert server.seen[0].headers["If-None-Match"] == '"v1"'
    assert server.seen[0].headers["If-Modified-Since"] == "Tue, 01 Oct 2024 10:00:00 GMT"


def test_304_with_new_validators_replaces_them(server: Server) -> None:
    server.routes["/feed"] = reply(b"", 304, ETag='"v2"')
    result = run(get_feed(settings(), server.url("/feed"), '"v1"', None))
    assert isinstance(result, NotModified)
    assert result.etag == '"v2"'
    assert result.last_modified is None


# --- status errors and Retry-After ----------------------------------------------------------


def test_429_retry_after_seconds(server: Server) -> None:
    server.routes["/feed"] = reply(b"slow down", 429, Retry_After="120")
    with pytest.raises(HTTPStatusError) as info:
        run(get_feed(settings(), server.url("/feed")))
    assert info.value.status == 429
    assert info.value.retry_after == timedelta(seconds=120)
    assert info.value.url == server.url("/feed")


def test_503_retry_after_http_date_is_relative_to_server_date(server: Server) -> None:
    server_now = datetime(2024, 10, 1, 12, 0, 0, tzinfo=UTC)

    def unavailable(h: BaseHTTPRequestHandler) -> None:
        h.send_response_only(503)
        h.send_header("Date", format_datetime(server_now, usegmt=True))
        h.send_header("Retry-After", format_datetime(server_now + timedelta(seconds=90), usegmt=True))
        h.send_header("Content-Length", "0")
        h.end_headers()

    server.routes["/feed"] = unavailable
    with pytest.raises(HTTPStatusError) as info:
        run(get_feed(settings(), server.url("/feed")))
    assert info.value.status == 503
    assert info.value.retry_after == timedelta(seconds=90)


def test_404_is_status_error_without_retry_after(server: Server) -> None:
    with pytest.raises(HTTPStatusError) as info:
        run(get_page(settings(), server.url("/missing")))
    assert info.value.status == 404
    assert info.value.retry_after is None
    assert "HTTP 404" in str(info.value)


# --- redirects ------------------------------------------------------------------------------


def test_redirect_followed_and_final_url_reported(server: Server) -> None:
    server.routes["/old"] = reply(b"", 301, Location="/new")
    server.routes["/new"] = reply(b"<html>x</html>", Content_Type="text/html; charset=ISO-8859-1")
    page = run(get_page(settings(), server.url("/old")))
    assert page.url == server.url("/old")
    assert page.final_url == server.url("/new")
    assert page.content == b"<html>x</html>"
    assert page.encoding == "iso-8859-1"
    assert [s.path for s in server.seen] == ["/old", "/new"]


def test_redirect_loop_stops_at_max_redirects(server: Server) -> None:
    server.routes["/loop"] = reply(b"", 302, Location="/loop")
    with pytest.raises(FetchError) as info:
        run(get_page(settings(max_redirects=3), server.url("/loop")))
    assert "too many redirects (more than 3)" in info.value.reason
    assert len(server.seen) == 4


def test_redirect_to_other_scheme_refused(server: Server) -> None:
    server.routes["/x"] = reply(b"", 302, Location="file:///etc/passwd")
    with pytest.raises(FetchError) as info:
        run(get_page(settings(), server.url("/x")))
    assert "file:///etc/passwd" in info.value.reason


def test_only_http_schemes() -> None:
    for url in ("ftp://example.com/feed", "file:///etc/passwd", "gopher://x/"):
        with pytest.raises(FetchError) as info:
            run(get_page(settings(), url))
        assert "only http and https" in info.value.reason


# --- SSRF guard -----------------------------------------------------------------------------


def test_loopback_refused_by_default_and_nothing_sent(server: Server) -> None:
    server.routes["/feed"] = reply(RSS)
    for host, address in (("127.0.0.1", "127.0.0.1"), ("localhost", None)):
        with pytest.raises(BlockedAddress) as info:
            run(get_feed(FetchSettings(), server.url("/feed", host=host)))
        assert host in info.value.reason and "loopback" in info.value.reason
        if address is None:
            assert "resolves to" in info.value.reason
    assert server.seen == []


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://2130706433:9/", "127.0.0.1"),  # decimal
        ("http://0x7f.1:9/", "127.0.0.1"),  # hex, short form
        ("http://127.1:9/", "127.0.0.1"),
        ("http://[::ffff:127.0.0.1]:9/", "::ffff:127.0.0.1"),
        ("http://[::1]:9/", "::1"),
        ("http://0:9/", "0.0.0.0"),
    ],
)
def test_encoded_local_addresses_refused(url: str, address: str) -> None:
    with pytest.raises(BlockedAddress) as info:
        run(get_page(FetchSettings(), url))
    assert address in info.value.reason
    assert "allow_private_networks" in info.value.reason


def _only_127_0_0_2(ip: object) -> str | None:
    """A stand-in rule: 127.0.0.2 plays a private address and 127.0.0.1 a public one."""
    return "private" if str(ip) == "127.0.0.2" else None


def test_every_redirect_hop_is_checked(
    server: Server, server2: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guard_module, "blocked_reason", _only_127_0_0_2)
    server.routes["/feed"] = reply(b"", 302, Location=server2.url("/secret"))
    server2.routes["/secret"] = reply(b"secret")
    with pytest.raises(BlockedAddress) as info:
        run(get_feed(FetchSettings(), server.url("/feed")))
    assert "127.0.0.2" in info.value.reason and "redirected to" in info.value.reason
    assert info.value.url == server.url("/feed")
    assert [s.path for s in server.seen] == ["/feed"]
    assert server2.seen == []


def test_dns_answer_checked_at_connection_time(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name resolves to a public address first, to a private one next time."""
    monkeypatch.setattr(guard_module, "blocked_reason", _only_127_0_0_2)
    answers = iter([["127.0.0.1"], ["127.0.0.2"]])

    async def rebinding(host: str, port: int) -> list[str]:
        assert host == "rebind.test"
        return next(answers)

    monkeypatch.setattr(guard_module, "resolve_host", rebinding)
    server.routes["/feed"] = reply(RSS)

    async def twice() -> None:
        url = server.url("/feed", host="rebind.test")
        async with Fetcher(FetchSettings()) as fetcher:
            first = await fetcher.fetch_feed(url, etag=None, last_modified=None)
            assert isinstance(first, FetchedFeed) and first.content == RSS
            with pytest.raises(BlockedAddress) as info:
                await fetcher.fetch_feed(url, etag=None, last_modified=None)
            assert "rebind.test resolves to 127.0.0.2" in info.value.reason

    run(twice())
    assert server.seen[0].headers["Host"] == f"rebind.test:{server.port}"  # Host kept, IP connected


def test_dns_failure_reads_as_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fail(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(guard_module, "resolve_host", fail)
    with pytest.raises(FetchError) as info:
        run(get_page(FetchSettings(), "http://no-such-host.test/"))
    assert info.value.reason == "DNS lookup failed for no-such-host.test"
    assert not isinstance(info.value, BlockedAddress)


def test_connection_refused_reads_as_such() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(FetchError) as info:
        run(get_page(settings(), f"http://127.0.0.1:{port}/"))
    assert info.value.reason == "connection refused"


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=news.test",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def test_tls_uses_host_name_for_sni_and_reports_bad_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        cert, key = _self_signed(tmp_path)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"openssl cannot make a test certificate: {exc}")
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,func-returns-value]

    async def local(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(guard_module, "resolve_host", local)
    tls = _serve("127.0.0.1", context)
    srv = next(tls)
    try:
        with pytest.raises(FetchError) as info:
            run(get_page(settings(), f"https://news.test:{srv.port}/"))
    finally:
        next(tls, None)
    assert names == ["news.test"]
    assert info.value.reason.startswith("TLS certificate not accepted")


# --- deadline, body cap, decompression ------------------------------------------------------


def test_dripping_server_abandoned_at_deadline(server: Server) -> None:
    def drip(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.end_headers()
        for _ in range(40):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.2)

    server.routes["/drip"] = drip
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        run(get_page(settings(timeout=1.0), server.url("/drip")))
    elapsed = time.monotonic() - started
    assert info.value.reason == "timed out after 1 s"
    assert 0.9 < elapsed < 3.0


def _gzip_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(size // len(zeros))]
    return b"".join(parts) + compressor.flush()


def test_gzip_bomb_refused_within_memory_of_the_cap(server: Server) -> None:
    bomb = _gzip_bomb(200 * 1024 * 1024)
    assert len(bomb) < 300 * 1024  # 200 MB of zeros in a ~200 KB body
    server.routes["/bomb"] = reply(bomb, Content_Encoding="gzip", Content_Type="text/html")
    cap = 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLarge) as info:
            run(get_page(settings(max_bytes=cap), server.url("/bomb")))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "1,048,576 bytes" in info.value.reason
    assert peak < 3 * cap, f"peak {peak:,} bytes while reading a gzip bomb with a {cap:,} byte cap"


def test_gzip_deflate_and_raw_deflate_decoded(server: Server) -> None:
    text = ("<p>Ünïcödé article text</p>" * 2000).encode()
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    server.routes["/gz"] = reply(gzip.compress(text), Content_Encoding="gzip")
    two_members = gzip.compress(text[:1000]) + gzip.compress(text[1000:])
    server.routes["/gz2"] = reply(two_members, Content_Encoding="gzip")
    server.routes["/zlib"] = reply(zlib.compress(text), Content_Encoding="deflate")
    server.routes["/raw"] = reply(raw.compress(text) + raw.flush(), Content_Encoding="deflate")
    for path in ("/gz", "/gz2", "/zlib", "/raw"):
        assert run(get_page(settings(), server.url(path))).content == text, path


def test_body_just_under_and_over_the_cap(server: Server) -> None:
    server.routes["/exact"] = reply(b"a" * 1000)
    server.routes["/over"] = reply(b"a" * 1001)
    server.routes["/gz_over"] = reply(gzip.compress(b"a" * 1001), Content_Encoding="gzip")

    def unsized(h: BaseHTTPRequestHandler) -> None:  # no Content-Length: the body ends at close
        h.send_response(200)
        h.end_headers()
        h.wfile.write(b"b" * 5000)

    server.routes["/unsized"] = unsized
    assert len(run(get_page(settings(max_bytes=1000), server.url("/exact"))).content) == 1000
    for path in ("/over", "/gz_over", "/unsized"):
        with pytest.raises(ResponseTooLarge):
            run(get_page(settings(max_bytes=1000), server.url(path)))


def test_corrupt_gzip_and_unknown_encoding_are_fetch_errors(server: Server) -> None:
    server.routes["/bad"] = reply(b"this is not gzip at all", Content_Encoding="gzip")
    server.routes["/br"] = reply(b"\x0b\x02\x80hello\x03", Content_Encoding="br")
    with pytest.raises(FetchError) as info:
        run(get_page(settings(), server.url("/bad")))
    assert "not valid gzip" in info.value.reason
    with pytest.raises(FetchError) as info:
        run(get_page(settings(), server.url("/br")))
    assert "unsupported content-encoding: br" in info.value.reason


# --- identity and politeness ----------------------------------------------------------------


def test_user_agent_names_version_and_contact(server: Server) -> None:
    server.routes["/"] = reply(b"ok")
    run(get_page(settings(contact="mailto:ops@example.org"), server.url("/")))
    run(get_page(settings(), server.url("/")))
    assert server.seen[0].headers["User-Agent"] == f"news-monitor/{__version__} (+mailto:ops@example.org)"
    assert server.seen[1].headers["User-Agent"] == f"news-monitor/{__version__}"


def _slow(seconds: float) -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        reply(b"ok")(h)

    return handle


async def _many(s: FetchSettings, urls: list[str]) -> None:
    async with Fetcher(s) as fetcher:
        await asyncio.gather(*(fetcher.fetch_page(u) for u in urls))


def test_per_host_limit(server: Server) -> None:
    server.routes["/slow"] = _slow(0.3)
    run(_many(settings(per_host=2, concurrency=8), [server.url("/slow")] * 6))
    assert len(server.seen) == 6
    assert server.max_in_flight == 2


def test_overall_concurrency_limit_across_hosts(server: Server, server2: Server) -> None:
    server.routes["/slow"] = server2.routes["/slow"] = _slow(0.2)
    urls = [server.url("/slow"), server2.url("/slow")] * 2
    started = time.monotonic()
    run(_many(settings(per_host=2, concurrency=1), urls))
    assert time.monotonic() - started >= 0.75  # four 0.2 s requests, one at a time
    assert server.max_in_flight == 1 and server2.max_in_flight == 1


def test_gap_between_requests_to_one_host(server: Server) -> None:
    server.routes["/"] = reply(b"ok")
    run(_many(settings(per_host=4, host_gap=0.3), [server.url("/")] * 3))
    starts = sorted(s.at for s in server.seen)
    assert len(starts) == 3
    # Arrival times carry some scheduling jitter on a busy machine; without the gap they would be
    # a few milliseconds apart.
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(g >= 0.2 for g in gaps), gaps
    assert starts[-1] - starts[0] >= 0.5, gaps
