"""What a fetcher reads from response headers: Retry-After, freshness, charset; and the User-Agent."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime

import httpx

from monitor import __version__
from monitor.config import FetchSettings

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\s*(?:[,=]|$)", re.IGNORECASE)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _server_now(headers: httpx.Headers, now: datetime | None) -> datetime:
    """The server's clock (its Date header) when it sent one, so a skewed local clock does not
    stretch or shrink an HTTP-date into a wrong interval."""
    return _http_date(headers.get("date")) or now or datetime.now(UTC)


def retry_after(headers: httpx.Headers, *, now: datetime | None = None) -> timedelta | None:
    """Retry-After as an interval: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return timedelta(seconds=int(value))
    when = _http_date(value)
    if when is None:
        return None
    return max(when - _server_now(headers, now), timedelta(0))


def max_age(headers: httpx.Headers, *, now: datetime | None = None) -> timedelta | None:
    """How long the response stays fresh (RFC 9111 §4.2.1): Cache-Control max-age less Age, else
    Expires less Date. None when the server gave no freshness or said not to cache."""
    control = ", ".join(headers.get_list("cache-control"))
    if _NO_CACHE.search(control):
        return None
    age = headers.get("age", "").strip()
    already = int(age) if age.isdigit() else 0
    found = _MAX_AGE.search(control)
    if found:
        seconds = int(found.group(1)) - already
        return timedelta(seconds=seconds) if seconds > 0 else None
    expires = _http_date(headers.get("expires"))
    if expires is None:
        return None
    left = expires - _server_now(headers, now) - timedelta(seconds=already)
    return left if left > timedelta(0) else None


def charset_of(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, lower-cased, or None."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    if not isinstance(charset, str):
        return None
    return charset.strip().strip("'\"").lower() or None


def user_agent(settings: FetchSettings, override: str | None = None) -> str:
    """An honest User-Agent: who we are and, when configured, how a publisher reaches the operator."""
    if override:
        return override
    if settings.user_agent:
        return settings.user_agent
    base = f"news-monitor/{__version__}"
    return f"{base} (+{settings.contact})" if settings.contact else base
