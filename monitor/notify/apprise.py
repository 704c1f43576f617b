"""Apprise: the long tail of channels (Teams, Telegram, Discord, Matrix, ntfy...) by URL.

    channels:
      phones: {type: apprise, urls: ["ntfys://ntfy.sh/${NTFY_TOPIC}", "tgram://${TG_TOKEN}/${TG_CHAT}"]}

Apprise reports a failure as `False` and a log line; here each URL is notified on its own, once
(the outbox does the retrying, with backoff), and a failure becomes a DeliveryError carrying
Apprise's logged reason with the URLs' secrets scrubbed. A URL that accepted an alert is not
notified again when the alert is retried for another URL of the same channel.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence

import apprise

from monitor.digest import Digest
from monitor.errors import DeliveryError
from monitor.notify.base import scrub
from monitor.notify.settings import AppriseSettings
from monitor.render import render_digest_text, render_email
from monitor.render_updates import update_text, update_title
from monitor.types import Alert

# Apprise logs to one global logger: two captures at once would mix their reasons.
_CAPTURE = threading.Lock()
_REMEMBERED = 1000
"""How many partly delivered alerts to remember (per channel) so a retry skips the URLs that took them."""


def unknown_urls(urls: Sequence[str]) -> list[int]:
    """1-based positions of the URLs Apprise cannot parse."""
    return [i for i, url in enumerate(urls, 1) if not apprise.Apprise().add(url)]


class AppriseChannel:
    """Sends each alert (title and plain text) to every configured Apprise URL."""

    def __init__(self, name: str, settings: AppriseSettings) -> None:
        self.name = name
        self.settings = settings
        self._targets: list[apprise.Apprise] = []
        for url in settings.urls:
            target = apprise.Apprise()
            target.add(url)
            self._targets.append(target)
        self._done: dict[str, set[int]] = {}

    async def send(self, alert: Alert) -> None:
        if alert.update is not None:  # no threads here: a plain message that says what it updates
            await self._notify(update_title(alert), update_text(alert), alert.delivery_key)
            return
        content = render_email(alert, subject_prefix="")
        await self._notify(content.subject, content.text, alert.delivery_key)

    async def send_digest(self, digest: Digest) -> None:
        await self._notify(digest.title, render_digest_text(digest.title, digest.alerts), digest.key)

    async def _notify(self, title: str, body: str, key: str) -> None:
        done = self._done.setdefault(key, set()) if key else set()
        failures = []
        for i, target in enumerate(self._targets):
            if i in done:
                continue
            ok, reason = await asyncio.to_thread(self._one, target, title, body)
            if ok:
                done.add(i)
            else:
                failures.append(f"URL {i + 1}: {reason}")
        if failures:
            while len(self._done) > _REMEMBERED:
                self._done.pop(next(iter(self._done)))
            raise DeliveryError(self.name, scrub("; ".join(failures), self._secrets()))
        self._done.pop(key, None)

    def _one(self, target: apprise.Apprise, title: str, body: str) -> tuple[bool, str]:
        with _CAPTURE, apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
            ok = bool(target.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT))
            log = captured.getvalue()
        lines = [line.split(" - ", 2)[-1].strip() for line in log.splitlines() if line.strip()]
        return ok, " ".join(lines) or "Apprise reported a failure without a reason"

    def _secrets(self) -> list[str]:
        secrets = list(self.settings.urls)
        for url in self.settings.urls:
            rest = url.split("://", 1)[-1]
            secrets += [rest, *(part for part in rest.replace("@", "/").replace(":", "/").split("/") if len(part) >= 8)]
        return secrets

    async def aclose(self) -> None:
        """Apprise holds no connection between sends."""

    def __repr__(self) -> str:
        return f"AppriseChannel({self.name!r})"
