"""Slack: one Block Kit message per alert, with a plain-text fallback, by incoming webhook or bot token.

An incoming webhook answers 200 `ok` when it accepted the message, 429 with Retry-After when rate
limited (one message per second per webhook), 5xx when Slack is down, and 400/403/404/410 with a
one-word reason (`invalid_payload`, `action_prohibited`, `no_service`, `channel_is_archived`) when
it never will (api.slack.com/messaging/webhooks#handling_errors). It returns no message id, so
nothing can reply to what it posted: a story update goes out as a message of its own that says
which alert it updates.

With a bot token, messages go through chat.postMessage (api.slack.com/methods/chat.postMessage),
which answers 200 with `{"ok": true, "channel": "C…", "ts": "…"}`, or `{"ok": false, "error": …}`:
the channel and ts are kept on the delivery, and an update replies with `thread_ts` in the alert's
thread. The webhook URL and the token are secrets: errors name the channel, never them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from monitor.digest import Digest
from monitor.errors import DeliveryError, PermanentDeliveryError
from monitor.notify.base import JsonPoster
from monitor.notify.settings import SlackSettings
from monitor.render import render_digest_slack, render_slack
from monitor.render_updates import render_update_slack
from monitor.types import Alert, StoryUpdate

REPLY_BYTES = 512 * 1024
"""chat.postMessage echoes the message it made (blocks and all) after `ts`: read enough of it."""
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                              "request_timeout"})
"""chat.postMessage errors that a later attempt may not meet; every other error is permanent."""
NO_THREAD = frozenset({"thread_not_found", "invalid_thread_ts"})
"""The alert's message is gone (deleted, or the history expired): post the update on its own."""

_RECEIPT = re.compile(r"([A-Z0-9]+) (\d+\.\d+)")


class SlackChannel:
    """Posts each alert to one Slack channel, through an incoming webhook or as a bot."""

    def __init__(self, name: str, settings: SlackSettings) -> None:
        self.name = name
        self._settings = settings
        if settings.token is not None:
            url = settings.api_url.rstrip("/") + "/chat.postMessage"
            self._poster = JsonPoster(name, url, timeout=settings.timeout, secrets=(settings.token,))
        else:
            assert settings.webhook_url is not None
            # The path carries the token (/services/T…/B…/secret): scrub it wherever it might be echoed.
            path = httpx.URL(settings.webhook_url).path
            self._poster = JsonPoster(name, settings.webhook_url, timeout=settings.timeout, secrets=(path,))

    @property
    def threads(self) -> bool:
        """True in bot mode: updates reply in their alert's thread."""
        return self._settings.token is not None

    async def send(self, alert: Alert) -> str | None:
        """Returns "<channel id> <ts>" of the message in bot mode (None for a webhook)."""
        if alert.update is None:
            return await self._post(render_slack(alert))
        parent = self._parent(alert.update)
        if parent is not None:
            try:
                return await self._post(render_update_slack(alert, threaded=True), thread=parent)
            except PermanentDeliveryError as exc:
                if exc.reason not in NO_THREAD:
                    raise
        return await self._post(render_update_slack(alert, threaded=False))

    async def send_digest(self, digest: Digest) -> str | None:
        return await self._post(render_digest_slack(digest.title, digest.alerts))

    def _parent(self, update: StoryUpdate) -> tuple[str, str] | None:
        """The first alert's message to reply to: its channel and ts, when it was posted by the bot."""
        found = _RECEIPT.fullmatch(update.first_receipt or "") if self.threads else None
        return (found.group(1), found.group(2)) if found else None

    async def _post(self, payload: dict[str, Any], *, thread: tuple[str, str] | None = None) -> str | None:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if not self.threads:
            await self._poster.post(json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers)
            return None
        payload = {**payload, "channel": thread[0] if thread else self._settings.channel}
        if thread is not None:
            payload["thread_ts"] = thread[1]
        headers["Authorization"] = f"Bearer {self._settings.token}"
        reply = await self._poster.post(json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers,
                                        reply_bytes=REPLY_BYTES)
        return self._receipt(reply)

    def _receipt(self, reply: bytes) -> str | None:
        """Slack's answer to chat.postMessage: the message's channel and ts, or why it refused."""
        try:
            answer = json.loads(reply)
        except ValueError as exc:
            # Not Slack's JSON (a proxy's page, a cut answer): whether it posted is unknown, so try again.
            raise DeliveryError(self.name, "chat.postMessage answered 200 without its JSON") from exc
        if not isinstance(answer, dict):
            raise DeliveryError(self.name, "chat.postMessage answered 200 without its JSON")
        if answer.get("ok") is not True:
            error = str(answer.get("error") or "unknown_error")
            if error in TRANSIENT_ERRORS:
                raise DeliveryError(self.name, error)
            raise PermanentDeliveryError(self.name, error)
        channel, ts = answer.get("channel"), answer.get("ts")
        if not isinstance(channel, str) or not isinstance(ts, str) or not _RECEIPT.fullmatch(f"{channel} {ts}"):
            # Posted, but it cannot be replied to: the row is sent; an update will go out on its own.
            return None
        return f"{channel} {ts}"

    async def aclose(self) -> None:
        await self._poster.aclose()

    def __repr__(self) -> str:
        return f"SlackChannel({self.name!r})"
