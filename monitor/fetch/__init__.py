"""The one HTTP client of news-monitor and its parts.

    client.py     Fetcher: feeds (conditional GET) and pages; redirects, deadline, errors
    transport.py  httpx transport over httpcore with the guarded backend; failures in words
    guard.py      the SSRF guard, at connection time on every hop
    body.py       reading a body with a cap on its decompressed size
    headers.py    Retry-After, freshness (max-age/Expires), charset, User-Agent
    limits.py     politeness: overall and per-host concurrency, gap between requests to a host
"""

from monitor.fetch.client import Fetcher, Page
from monitor.fetch.guard import blocked_reason

__all__ = ["Fetcher", "Page", "blocked_reason"]
