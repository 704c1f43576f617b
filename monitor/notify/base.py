"""What every channel promises, and the HTTP delivery that Slack and the generic webhook share.

A channel's ``send`` returns only once the receiver has accepted the alert, so the outbox may mark
the row sent; every failure is one of two errors, which the outbox tells apart to decide between
"try again later" and "give up":

    DeliveryError            timeouts, connection errors, HTTP 5xx, 429 (with Retry-After), SMTP 4xx
    PermanentDeliveryError   other HTTP 4xx, SMTP 5xx, a refused recipient: retrying will not help

Webhook URLs and passwords are secrets (a Slack webhook URL is all it takes to post into a
channel), so no error message carries them: errors name the channel instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Protocol, runtime_checkable

import httpx

from monitor import __version__
from monitor.digest import Digest
from monitor.errors import DeliveryError, PermanentDeliveryError
from monitor.types import Alert

USER_AGENT = f"news-monitor/{__version__}"
ERROR_BODY_BYTES = 2048
"""How much of a refusal's body is read: Slack says why in a word (`invalid_payload`)."""


@runtime_checkable
class Channel(Protocol):
    """A destination for alerts, built from one `channels:` entry of monitor.yaml."""

    name: str

    async def send(self, alert: Alert) -> str | None:
        """Deliver one alert; return only when the receiver accepted it.

        Returns what the receiver named the message, when a later update may reply to it (an
        email's Message-ID, a Slack message's channel and ts); the outbox keeps it on the row.
        An alert with `update` set is an update of an earlier alert: thread it under that one
        where the channel can, else say in the message what it updates.
        """
        ...

    async def aclose(self) -> None:
        """Release connections; the channel is not used afterwards."""
        ...


@runtime_checkable
class DigestChannel(Channel, Protocol):
    """A channel that can send several alerts as one message (digests, alerts held by quiet hours)."""

    async def send_digest(self, digest: Digest) -> str | None:
        """Deliver one digest; return only when the receiver accepted it (and what it named it, as `send`)."""
        ...


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> timedelta | None:
    """Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - (now or datetime.now(UTC)), timedelta(0))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (longest first, so a URL goes before its path) with a placeholder."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def check_status(channel: str, status: int, headers: Mapping[str, str], body: str) -> None:
    """Map an HTTP answer to accepted (2xx), retry later or give up."""
    if 200 <= status < 300:
        return
    detail = _one_line(body)
    reason = f"HTTP {status}: {detail}" if detail else f"HTTP {status}"
    # 408 is a timeout on the receiver's side; 429 and 5xx are the server asking us to come back.
    if status in (408, 429) or status >= 500:
        raise DeliveryError(channel, reason, retry_after=parse_retry_after(headers.get("retry-after")))
    if 300 <= status < 400:
        # A POST is not replayed across a redirect: the configured URL is wrong or has moved.
        raise PermanentDeliveryError(channel, f"HTTP {status}: redirected, update the channel's URL")
    raise PermanentDeliveryError(channel, reason)


class JsonPoster:
    """POSTs bodies to one URL with its own httpx client, mapping every failure to our errors.

    The client is made on first use inside the running event loop and remade if a later send
    runs in another loop: an httpx connection pool must not be shared between loops.
    """

    def __init__(self, channel: str, url: str, *, timeout: float, secrets: Iterable[str] = ()) -> None:
        self.channel = channel
        self.url = url
        self.timeout = timeout
        self._secrets = (url, *secrets)
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client_here(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
            )
            self._loop = loop
        return self._client

    async def post(self, body: bytes, headers: Mapping[str, str], *, reply_bytes: int = 0) -> bytes:
        """Send `body`; return when the receiver answered 2xx, with up to `reply_bytes` of its answer
        (an API that names the message it made: Slack's chat.postMessage)."""
        client = self._client_here()
        reply = b""
        try:
            async with client.stream("POST", self.url, content=body, headers=dict(headers)) as response:
                refusal = b""
                if not 200 <= response.status_code < 300:
                    async for chunk in response.aiter_bytes():
                        refusal += chunk
                        if len(refusal) >= ERROR_BODY_BYTES:
                            break
                elif reply_bytes:
                    async for chunk in response.aiter_bytes():
                        reply += chunk
                        if len(reply) >= reply_bytes:
                            break
        except httpx.TimeoutException as exc:
            raise DeliveryError(self.channel, f"no answer within {self.timeout:g}s") from exc
        except httpx.HTTPError as exc:
            what = scrub(str(exc) or type(exc).__name__, self._secrets)
            raise DeliveryError(self.channel, f"cannot reach the receiver: {what}") from exc
        text = scrub(refusal[:ERROR_BODY_BYTES].decode("utf-8", "replace"), self._secrets)
        check_status(self.channel, response.status_code, response.headers, text)
        return reply[:reply_bytes]

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()
