"""Several alerts sent as one message: a scheduled digest, or what quiet hours held back.

The outbox groups the held rows of one channel into a Digest; a channel that can send digests
(`DigestChannel`) sends it as one message, any other gets the alerts one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.types import Alert

DIGEST = "digest"
QUIET = "quiet"


@dataclass(frozen=True, slots=True)
class Digest:
    """One message listing several alerts."""

    title: str
    alerts: tuple[Alert, ...]
    key: str
    """Stable across retries of the same rows, like an Alert's delivery_key."""


def digest_title(reasons: set[str], count: int, updates: int = 0) -> str:
    """ "Digest: 2 new stories, 1 update": an update is listed as the update of its story, not as news."""
    stories = f"{count} new {'story' if count == 1 else 'stories'}" if count or not updates else ""
    if updates:
        stories += f"{', ' if stories else ''}{updates} update{'s' if updates != 1 else ''}"
    if DIGEST in reasons:
        return f"Digest: {stories}"
    return f"Held during quiet hours: {stories}"


def make_digest(alerts: list[Alert], reasons: set[str], ids: list[int], channel: str) -> Digest:
    updates = sum(1 for a in alerts if a.update is not None)
    return Digest(title=digest_title(reasons, len(alerts) - updates, updates), alerts=tuple(alerts),
                  key=f"digest-{channel}-{min(ids)}-{max(ids)}-{len(ids)}")
