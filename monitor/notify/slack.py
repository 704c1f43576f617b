"""Slack incoming webhooks: one Block Kit message per alert, with a plain-text fallback.

Slack answers 200 `ok` when it accepted the message, 429 with Retry-After when rate limited (one
message per second per webhook), 5xx when it is down, and 400/403/404/410 with a one-word reason
(`invalid_payload`, `action_prohibited`, `no_service`, `channel_is_archived`) when it never will
(api.slack.com/messaging/webhooks#handling_errors). The webhook URL is a secret: errors name the
channel, never the URL.
"""

from __future__ import annotations

import json

import httpx

from monitor.digest import Digest
from monitor.notify.base import JsonPoster
from monitor.notify.settings import SlackSettings
from monitor.render import render_digest_slack, render_slack
from monitor.types import Alert


class SlackChannel:
    """Posts each alert to one Slack incoming webhook."""

    def __init__(self, name: str, settings: SlackSettings) -> None:
        self.name = name
        # The path carries the token (/services/T…/B…/secret): scrub it wherever it might be echoed.
        path = httpx.URL(settings.webhook_url).path
        self._poster = JsonPoster(name, settings.webhook_url, timeout=settings.timeout, secrets=(path,))

    async def send(self, alert: Alert) -> None:
        body = json.dumps(render_slack(alert), ensure_ascii=False).encode("utf-8")
        await self._poster.post(body, {"Content-Type": "application/json; charset=utf-8"})

    async def send_digest(self, digest: Digest) -> None:
        body = json.dumps(render_digest_slack(digest.title, digest.alerts), ensure_ascii=False).encode("utf-8")
        await self._poster.post(body, {"Content-Type": "application/json; charset=utf-8"})

    async def aclose(self) -> None:
        await self._poster.aclose()

    def __repr__(self) -> str:
        return f"SlackChannel({self.name!r})"
