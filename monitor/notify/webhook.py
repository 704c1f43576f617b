"""A generic JSON webhook: one POST per alert, signed when a secret is configured.

The body is ``render_webhook``'s document. Receivers verify
``X-News-Monitor-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes, keyed by the secret>``
(the scheme GitHub webhooks use) and deduplicate on ``X-News-Monitor-Delivery``, which stays the same
when a delivery is retried: a retry after a lost 200 must not become a second alert.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from monitor.digest import Digest
from monitor.notify.base import JsonPoster
from monitor.notify.settings import WebhookSettings
from monitor.render import render_digest_webhook, render_webhook
from monitor.types import Alert

SIGNATURE_HEADER = "X-News-Monitor-Signature"
DELIVERY_HEADER = "X-News-Monitor-Delivery"


def encode_body(alert: Alert) -> bytes:
    """The exact bytes sent and signed: compact UTF-8 JSON with sorted keys."""
    document = render_webhook(alert)
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """The signature header's value for `body`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """POSTs each alert as JSON to one URL."""

    def __init__(self, name: str, settings: WebhookSettings) -> None:
        self.name = name
        self._settings = settings
        # Configured header values are often credentials (Authorization: Bearer …).
        secrets = [v for v in settings.headers.values()] + ([settings.secret] if settings.secret else [])
        self._poster = JsonPoster(name, settings.url, timeout=settings.timeout, secrets=secrets)

    async def send(self, alert: Alert) -> None:
        await self._post(encode_body(alert), alert.delivery_key)

    async def send_digest(self, digest: Digest) -> None:
        """One POST with every alert: `{"digest": title, "alerts": [...], "delivery_key": ...}`."""
        document = render_digest_webhook(digest.title, digest.alerts, digest.key)
        body = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
        await self._post(body, digest.key)

    async def _post(self, body: bytes, delivery_key: str) -> None:
        headers = dict(self._settings.headers)
        # Ours are set last so a configured header cannot unsign the body or change its type.
        headers["Content-Type"] = "application/json; charset=utf-8"
        if delivery_key:
            headers[DELIVERY_HEADER] = delivery_key
        if self._settings.secret:
            headers[SIGNATURE_HEADER] = signature(self._settings.secret, body)
        await self._poster.post(body, headers)

    async def aclose(self) -> None:
        await self._poster.aclose()

    def __repr__(self) -> str:
        return f"WebhookChannel({self.name!r})"
