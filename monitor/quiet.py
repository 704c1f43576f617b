"""When a channel holds its alerts: quiet hours and digest schedules, as pure functions of time.

    quiet_hours: {from: "22:00", to: "07:00", timezone: Europe/Budapest}
    digest: hourly                                # or "daily at 08:00 Europe/Budapest"

Both answer one question for the outbox: "hold this alert until when?" Times are wall-clock in
the given zone (zoneinfo), so quiet hours follow daylight-saving changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DIGEST = re.compile(r"^(hourly|daily)(?:\s+at\s+(\d{1,2}:\d{2}))?(?:\s+(\S+))?$", re.IGNORECASE)


def parse_clock(value: object) -> time:
    """"22:00" → 22:00. A bare number is refused: is `7` seven o'clock or seven minutes past midnight?"""
    if isinstance(value, time):
        return value
    found = _CLOCK.match(str(value).strip()) if isinstance(value, str) else None
    if found is None:
        raise ValueError(f"a time of day as HH:MM, not {value!r}")
    return time(int(found.group(1)), int(found.group(2)))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Europe/Budapest)") from None


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


class QuietHours(BaseModel):
    """A daily window in which instant alerts are held; it may span midnight (22:00 → 07:00)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: time = Field(alias="from")
    to: time
    timezone: str = "UTC"

    _clock = field_validator("from_", "to", mode="before")(classmethod(lambda cls, v: parse_clock(v)))

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.from_ == self.to:
            raise ValueError("from and to are the same time: the window would be empty")
        return self

    def end_if_quiet(self, now: datetime) -> datetime | None:
        """The end of the quiet period `now` falls in (UTC), or None when `now` is not quiet."""
        tz = zone(self.timezone)
        local = now.astimezone(tz)
        today, clock = local.date(), local.time().replace(tzinfo=None)
        if self.from_ < self.to:
            return _at(today, self.to, tz) if self.from_ <= clock < self.to else None
        if clock >= self.from_:
            return _at(today + timedelta(days=1), self.to, tz)
        if clock < self.to:
            return _at(today, self.to, tz)
        return None


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """`hourly` (at the top of each hour) or `daily at HH:MM ZONE` (default 08:00 UTC)."""

    every: str
    at: time
    timezone: str

    @classmethod
    def parse(cls, text: str) -> DigestSchedule:
        found = _DIGEST.match(" ".join(text.split()))
        if found is None:
            raise ValueError(f'digest is "hourly" or "daily at HH:MM Zone/Name", not {text!r}')
        every, clock, tz = found.group(1).lower(), found.group(2), found.group(3) or "UTC"
        if every == "hourly" and clock is not None:
            raise ValueError('"hourly" takes no time: hourly digests go out at the top of each hour')
        zone(tz)
        return cls(every, parse_clock(clock) if clock else time(8, 0), tz)

    def next_after(self, now: datetime) -> datetime:
        """The first digest slot strictly after `now` (UTC)."""
        tz = zone(self.timezone)
        local = now.astimezone(tz)
        if self.every == "hourly":
            top = local.replace(minute=0, second=0, microsecond=0)
            return (top + timedelta(hours=1)).astimezone(UTC)
        slot = _at(local.date(), self.at, tz)
        return slot if slot > now else _at(local.date() + timedelta(days=1), self.at, tz)

    def describe(self) -> str:
        return "hourly" if self.every == "hourly" else f"daily at {self.at:%H:%M} {self.timezone}"
