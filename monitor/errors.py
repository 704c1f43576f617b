"""One exception tree for news-monitor.

Third-party exceptions (httpx, feedparser, trafilatura, SQLAlchemy, smtplib) are caught where that
library is called and re-raised as one of these, ``raise FetchError(...) from exc``. Anything else
that escapes a stage is a bug.

    MonitorError
    ├── ConfigError          monitor.yaml or a watchlist is invalid (carries every Problem at once)
    ├── FetchError           a feed or page could not be fetched
    │   ├── BlockedAddress   the address is private/loopback and private networks are not allowed
    │   ├── ResponseTooLarge the (decompressed) body passed the cap
    │   └── HTTPStatusError  the server answered with an error status (carries retry_after)
    ├── ParseError           a feed document could not be read at all
    ├── ExtractError         an article page gave no text
    ├── StoreError           the database failed
    │   ├── SchemaOutdated   the schema is behind this news-monitor: `monitor db upgrade`
    │   └── SchemaTooNew     the schema was migrated by a newer news-monitor
    └── DeliveryError        a channel did not accept an alert
        └── PermanentDeliveryError   retrying will not help (bad address, 4xx other than 429)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from monitor.types import Problem


class MonitorError(Exception):
    """Base of every error news-monitor raises on purpose."""


class ConfigError(MonitorError):
    """The configuration or a watchlist is invalid; `problems` lists every one found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class FetchError(MonitorError):
    """A feed or page could not be fetched."""

    def __init__(self, url: str, reason: str, *, retry_after: timedelta | None = None) -> None:
        self.url = url
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"{url}: {reason}")


class BlockedAddress(FetchError):
    """The host resolves to an address that private networks rules refuse."""


class ResponseTooLarge(FetchError):
    """The body, once decompressed, is larger than the configured cap."""


class HTTPStatusError(FetchError):
    """The server answered with a status that is not a success."""

    def __init__(self, url: str, status: int, *, retry_after: timedelta | None = None) -> None:
        self.status = status
        super().__init__(url, f"HTTP {status}", retry_after=retry_after)


class ParseError(MonitorError):
    """A feed document could not be read at all."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class ExtractError(MonitorError):
    """An article page gave no text."""


class StoreError(MonitorError):
    """The database failed."""


class SchemaOutdated(StoreError):
    """The database's schema is behind the one this news-monitor needs (or it has none and may not be made).

    `command` is what the user should run; the CLI replaces it with one that names its --config.
    """

    def __init__(self, found: str | None, needed: str, *, command: str = "monitor db upgrade") -> None:
        self.found = found
        self.needed = needed
        self.command = command
        super().__init__(found, needed, command)

    def __str__(self) -> str:
        found = f"at revision {self.found}" if self.found else "empty (no news-monitor tables)"
        return (f"the database schema is out of date: the database is {found}, this news-monitor needs "
                f"revision {self.needed}. Run `{self.command}` to upgrade it (back up the database first).")


class SchemaTooNew(StoreError):
    """The database is at a revision this news-monitor does not know: a newer version migrated it."""

    def __init__(self, found: str, head: str) -> None:
        self.found = found
        self.head = head
        super().__init__(found, head)

    def __str__(self) -> str:
        return (f"the database is at schema revision {self.found}, which this news-monitor does not know "
                f"(its newest is {self.head}): it was migrated by a newer news-monitor. "
                "Install that version (or newer) of news-monitor, or point `database:` at another database.")


class DeliveryError(MonitorError):
    """A channel did not accept an alert; it may be retried."""

    def __init__(self, channel: str, reason: str, *, retry_after: timedelta | None = None) -> None:
        self.channel = channel
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"{channel}: {reason}")


class PermanentDeliveryError(DeliveryError):
    """A channel refused an alert for good: retrying will not help."""
