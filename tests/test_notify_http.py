"""Slack and webhook channels against a real HTTP server on 127.0.0.1 that records what it got."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from monitor.errors import DeliveryError, PermanentDeliveryError
from monitor.notify import build_channel
from monitor.notify.base import parse_retry_after
from monitor.notify.settings import SlackSettings, WebhookSettings
from monitor.notify.slack import SlackChannel
from monitor.notify.webhook import WebhookChannel
from monitor.types import Alert, Article, Match

ARTICLE_URL = "https://news.example.org/2024/07/05/orban-moscow?a=1&b=2"
SLACK_PATH = "/services/T000TEST/B000TEST/XyZsecretTOKEN123"
SECRET = "webhook-signing-secret"


def make_alert() -> Alert:
    article = Article(
        url=ARTICLE_URL,
        title="Orbán arrives in Moscow for talks with Putin",
        text="Hungarian Prime Minister Viktor Orbán arrived in Moscow on Friday. " * 5,
        published=datetime(2024, 7, 5, 9, 30, tzinfo=UTC),
        lang="en",
        outlet="Example News",
    )
    match = Match(
        watchlist="EU leader visits to Moscow", score=0.9, why=("Orbán", "Moscow"), snippet="Orbán arrived."
    )
    return Alert(watchlist="EU leader visits to Moscow", article=article, match=match, delivery_key="dk-7")


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the server got, and the answers it gives next: (status, headers, body, delay)."""

    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str], bytes, float]] = field(default_factory=list)

    def answer(
        self, status: int, body: bytes = b"ok", headers: dict[str, str] | None = None, delay: float = 0
    ) -> None:
        self.answers.append((status, headers or {}, body, delay))

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, headers, reply, delay = state.answers.pop(0) if state.answers else (200, {}, b"ok", 0.0)
            if delay:
                time.sleep(delay)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test asserts on what was recorded."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def send_and_close(channel: SlackChannel | WebhookChannel, alert: Alert) -> None:
    try:
        await channel.send(alert)
    finally:
        await channel.aclose()


def slack(receiver: Receiver, timeout: float = 5) -> SlackChannel:
    settings = SlackSettings(type="slack", webhook_url=receiver.url(SLACK_PATH), timeout=timeout)
    channel = build_channel("team", settings)
    assert isinstance(channel, SlackChannel)
    return channel


def webhook(receiver: Receiver, **changes: Any) -> WebhookChannel:
    values: dict[str, Any] = {"type": "webhook", "url": receiver.url("/hooks/news"), "timeout": 5}
    values.update(changes)
    channel = build_channel("archive", WebhookSettings.model_validate(values))
    assert isinstance(channel, WebhookChannel)
    return channel


def assert_secret_absent(error: Exception) -> None:
    text = str(error) + repr(error) + getattr(error, "reason", "")
    assert SLACK_PATH not in text
    assert "XyZsecretTOKEN123" not in text


# ---- Slack ---------------------------------------------------------------------------------------


def test_slack_posts_block_kit(receiver: Receiver) -> None:
    asyncio.run(send_and_close(slack(receiver), make_alert()))
    [request] = receiver.requests
    assert request.path == SLACK_PATH
    assert request.headers["content-type"].startswith("application/json")
    assert ARTICLE_URL.encode() in request.body  # verbatim, not escaped
    payload = json.loads(request.body)
    assert [b["type"] for b in payload["blocks"]][:3] == ["header", "section", "context"]
    assert (
        payload["blocks"][1]["text"]["text"]
        == f"*<{ARTICLE_URL}|Orbán arrives in Moscow for talks with Putin>*"
    )
    assert ARTICLE_URL in payload["text"]


def test_slack_server_error_is_retryable(receiver: Receiver) -> None:
    receiver.answer(500, b"internal error at " + SLACK_PATH.encode())
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(send_and_close(slack(receiver), make_alert()))
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert caught.value.channel == "team"
    assert caught.value.reason.startswith("HTTP 500")
    assert_secret_absent(caught.value)


def test_slack_rate_limit_carries_retry_after(receiver: Receiver) -> None:
    receiver.answer(429, b"rate_limited", {"Retry-After": "7"})
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(send_and_close(slack(receiver), make_alert()))
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert caught.value.retry_after == timedelta(seconds=7)
    assert "429" in caught.value.reason


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, b"invalid_payload"),
        (403, b"action_prohibited"),
        (404, b"no_service"),
        (410, b"channel_is_archived"),
    ],
)
def test_slack_refusal_is_permanent_with_slacks_reason(receiver: Receiver, status: int, body: bytes) -> None:
    receiver.answer(status, body)
    with pytest.raises(PermanentDeliveryError) as caught:
        asyncio.run(send_and_close(slack(receiver), make_alert()))
    assert caught.value.reason == f"HTTP {status}: {body.decode()}"
    assert_secret_absent(caught.value)


def test_slack_unreachable_is_retryable_without_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = SlackSettings(type="slack", webhook_url=f"http://127.0.0.1:{port}{SLACK_PATH}", timeout=2)
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(send_and_close(SlackChannel("team", settings), make_alert()))
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert caught.value.reason.startswith("cannot reach the receiver")
    assert_secret_absent(caught.value)


def test_slack_timeout_is_retryable(receiver: Receiver) -> None:
    receiver.answer(200, delay=1.5)
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(send_and_close(slack(receiver, timeout=0.3), make_alert()))
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert caught.value.reason == "no answer within 0.3s"


def test_slack_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.answer(301, b"", {"Location": "http://127.0.0.1:1/elsewhere"})
    with pytest.raises(PermanentDeliveryError, match="redirected"):
        asyncio.run(send_and_close(slack(receiver), make_alert()))
    assert len(receiver.requests) == 1


def test_one_channel_serves_several_event_loops(receiver: Receiver) -> None:
    """The daemon and the CLI may each run their own loop: the client must follow."""
    channel = slack(receiver)
    asyncio.run(channel.send(make_alert()))
    asyncio.run(channel.send(make_alert()))
    asyncio.run(channel.aclose())
    assert len(receiver.requests) == 2


# ---- webhook -------------------------------------------------------------------------------------


def test_webhook_is_signed_and_carries_the_delivery_key(receiver: Receiver) -> None:
    channel = webhook(receiver, secret=SECRET, headers={"Authorization": "Bearer abc123", "X-Team": "desk"})
    asyncio.run(send_and_close(channel, make_alert()))
    [request] = receiver.requests
    assert request.path == "/hooks/news"
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["x-news-monitor-signature"], expected)
    assert request.headers["x-news-monitor-delivery"] == "dk-7"
    assert request.headers["authorization"] == "Bearer abc123"
    assert request.headers["x-team"] == "desk"
    document = json.loads(request.body)
    assert document["watchlist"] == "EU leader visits to Moscow"
    assert document["article"]["url"] == ARTICLE_URL
    assert document["match"] == {"score": 0.9, "why": ["Orbán", "Moscow"], "snippet": "Orbán arrived."}
    assert document["delivery_key"] == "dk-7"


def test_webhook_headers_cannot_override_the_signature(receiver: Receiver) -> None:
    channel = webhook(receiver, secret=SECRET, headers={"X-News-Monitor-Signature": "sha256=forged"})
    asyncio.run(send_and_close(channel, make_alert()))
    [request] = receiver.requests
    assert request.headers["x-news-monitor-signature"] != "sha256=forged"


def test_webhook_without_secret_is_unsigned(receiver: Receiver) -> None:
    asyncio.run(send_and_close(webhook(receiver), make_alert()))
    [request] = receiver.requests
    assert "x-news-monitor-signature" not in request.headers
    assert request.headers["x-news-monitor-delivery"] == "dk-7"


def test_webhook_status_mapping(receiver: Receiver) -> None:
    receiver.answer(503, b"down", {"Retry-After": "30"})
    receiver.answer(422, b'{"error": "bad"}')
    receiver.answer(204, b"")
    channel = webhook(receiver, headers={"Authorization": "Bearer abc123"})
    with pytest.raises(DeliveryError) as transient:
        asyncio.run(channel.send(make_alert()))
    assert not isinstance(transient.value, PermanentDeliveryError)
    assert transient.value.retry_after == timedelta(seconds=30)
    with pytest.raises(PermanentDeliveryError) as permanent:
        asyncio.run(channel.send(make_alert()))
    assert permanent.value.reason == 'HTTP 422: {"error": "bad"}'
    asyncio.run(send_and_close(channel, make_alert()))  # 204 is accepted
    assert len(receiver.requests) == 3
    assert len({r.headers["x-news-monitor-delivery"] for r in receiver.requests}) == 1


def test_retry_after_as_http_date() -> None:
    now = datetime(2024, 7, 5, 9, 30, tzinfo=UTC)
    assert parse_retry_after("Fri, 05 Jul 2024 09:31:00 GMT", now=now) == timedelta(seconds=60)
    assert parse_retry_after("Fri, 05 Jul 2024 09:00:00 GMT", now=now) == timedelta(0)
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None
