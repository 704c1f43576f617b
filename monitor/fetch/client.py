"""The one HTTP client: feeds with conditional GET, article pages, every limit in one place.

Every request goes through `Fetcher._get`, which follows redirects itself (each hop takes its own
politeness slot and its connection passes the SSRF guard again), puts one deadline over the whole
exchange including the body (a server dripping a byte a second is abandoned at `timeout`), caps the
decompressed body, and turns every failure into one of our errors.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

from monitor import metrics
from monitor.config import FetchSettings
from monitor.errors import FetchError, HTTPStatusError
from monitor.fetch.body import ACCEPT_ENCODING, read_body
from monitor.fetch.headers import charset_of, max_age, retry_after
from monitor.fetch.headers import user_agent as make_user_agent
from monitor.fetch.limits import HostLimiter
from monitor.fetch.transport import GuardedTransport
from monitor.types import FetchedFeed, NotModified
from monitor.urls import host_of

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Page:
    """An article page as downloaded: bytes, with what the server said about their encoding."""

    url: str
    final_url: str
    content: bytes
    content_type: str | None
    encoding: str | None


@dataclass(frozen=True, slots=True)
class _Response:
    final_url: str
    status: int
    headers: httpx.Headers
    content: bytes


def _http_url(url: str, original: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError(original, f"not a valid URL: {url!r} ({exc})") from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchError(original, f"only http and https URLs are fetched, not {url!r}")
    if not parsed.host:
        raise FetchError(original, f"no host in URL {url!r}")
    return parsed


class Fetcher:
    """Fetches feeds and pages for the whole daemon through one httpx.AsyncClient.

    Use it as ``async with Fetcher(settings) as fetcher:`` or call `aclose` when done.
    """

    def __init__(self, settings: FetchSettings, *, user_agent: str | None = None) -> None:
        self._settings = settings
        self._limiter = HostLimiter(
            concurrency=settings.concurrency, per_host=settings.per_host, gap=settings.host_gap
        )
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(settings),
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            follow_redirects=False,
            trust_env=False,  # no proxies or .netrc from the environment: all traffic passes the guard
            headers={"User-Agent": make_user_agent(settings, user_agent), "Accept-Encoding": ACCEPT_ENCODING},
        )

    @property
    def user_agent(self) -> str:
        return self._client.headers["User-Agent"]

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch_feed(
        self, url: str, *, etag: str | None, last_modified: str | None
    ) -> FetchedFeed | NotModified:
        """GET a feed, conditionally when validators from the last poll are given (RFC 9110 §13.1)."""
        headers = {"Accept": FEED_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        with metrics.FETCH_SECONDS.labels(kind="feed").time():
            response = await self._get(url, headers)
        if response.status == 304:
            # RFC 9110 §15.4.5: a 304 may omit validators that did not change; keep the old ones.
            return NotModified(
                url=url,
                etag=response.headers.get("etag") or etag,
                last_modified=response.headers.get("last-modified") or last_modified,
                max_age=max_age(response.headers),
            )
        return FetchedFeed(
            url=url,
            final_url=response.final_url,
            content=response.content,
            content_type=response.headers.get("content-type"),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            max_age=max_age(response.headers),
        )

    async def fetch_page(self, url: str) -> Page:
        """GET an article page."""
        with metrics.FETCH_SECONDS.labels(kind="page").time():
            response = await self._get(url, {"Accept": PAGE_ACCEPT})
        content_type = response.headers.get("content-type")
        return Page(
            url=url,
            final_url=response.final_url,
            content=response.content,
            content_type=content_type,
            encoding=charset_of(content_type),
        )

    async def _get(self, url: str, headers: dict[str, str]) -> _Response:
        settings = self._settings
        loop = asyncio.get_running_loop()
        current = _http_url(url, url)
        deadline: float | None = None
        for hop in range(settings.max_redirects + 1):
            async with self._limiter.slot(host_of(str(current))):
                if deadline is None:  # the clock starts when the first request can go out
                    deadline = loop.time() + settings.timeout
                try:
                    async with asyncio.timeout_at(deadline):
                        outcome = await self._exchange(url, current, headers)
                except TimeoutError:
                    raise FetchError(url, f"timed out after {settings.timeout:g} s") from None
                except FetchError as exc:
                    if exc.url == url:
                        raise
                    # The transport names the URL it requested; callers know the feed by the one they gave.
                    reason = exc.reason if hop == 0 else f"{exc.reason} (redirected to {current})"
                    raise type(exc)(url, reason) from exc
            if isinstance(outcome, _Response):
                return outcome
            current = outcome
        raise FetchError(url, f"too many redirects (more than {settings.max_redirects})")

    async def _exchange(self, url: str, current: httpx.URL, headers: dict[str, str]) -> _Response | httpx.URL:
        """One request: the response, or the URL a redirect points to."""
        try:
            request = self._client.build_request("GET", current, headers=headers)
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:  # a failure of httpx itself; the transport raises ours
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc
        try:
            status = response.status_code
            if status in _REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(url, f"HTTP {status} redirect without a Location header")
                try:
                    target = current.join(location.strip())
                except httpx.InvalidURL as exc:
                    raise FetchError(url, f"redirected to an invalid URL: {location!r}") from exc
                if target.scheme not in ("http", "https"):
                    raise FetchError(url, f"redirected to a non-HTTP URL: {location.strip()!r}")
                return _http_url(str(target), url)
            if status == 304:
                # A 304 has no body (RFC 9110 §15.4.5), but httpcore keeps the connection alive only
                # once the response was read to its end: without this, every 304 costs a new connection.
                await read_body(response, url=url, max_bytes=self._settings.max_bytes)
                return _Response(str(current), status, response.headers, b"")
            if not 200 <= status < 300:
                later = retry_after(response.headers) if status in _RETRY_AFTER_STATUSES else None
                raise HTTPStatusError(url, status, retry_after=later)
            content = await read_body(response, url=url, max_bytes=self._settings.max_bytes)
            return _Response(str(current), status, response.headers, content)
        except httpx.HTTPError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc
        finally:
            await response.aclose()

