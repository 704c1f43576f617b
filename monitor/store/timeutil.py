"""Every datetime is aware UTC, in the database (SQLModel insists) and out of it.

SQLite keeps no time zone, so values read back may be naive: from_db makes them aware again.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def from_db(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
