"""Real servers on 127.0.0.1 for tests: a web server for feeds and pages, an SMTP server
(aiosmtpd) and a webhook receiver standing in for Slack. Nothing here is a mock."""

from __future__ import annotations

import contextlib
import html
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MONITOR_SHARED_DATA", REPO.parent / "shared" / "data"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None


class WebServer:
    """Serves `routes` on 127.0.0.1 and records every request (method, path, headers)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with server.lock:
                    server.log.append(("GET", self.path, dict(self.headers)))
                    route = server.routes.get(path)
                if route is None:
                    self._send(404, b"not found", "text/plain", {})
                elif route.etag and self.headers.get("If-None-Match") == route.etag:
                    self._send(304, b"", None, {"ETag": route.etag})
                else:
                    headers = dict(route.headers)
                    if route.etag:
                        headers["ETag"] = route.etag
                    self._send(route.status, route.body, route.content_type, headers)

            def _send(self, status: int, body: bytes, ctype: str | None, headers: dict[str, str]) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def hits(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [h for (_m, p, h) in self.log if p.split("?")[0] == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class HookSink:
    """A webhook receiver (Slack stand-in): records JSON posts, can answer scripted statuses first.

    `reply` makes it an API that answers each accepted post with JSON (Slack's chat.postMessage)."""

    def __init__(self, script: list[tuple[int, dict[str, str]]] | None = None,
                 reply: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self.posts: list[dict[str, Any]] = []
        self.attempts: list[tuple[float, int]] = []
        self.headers: list[dict[str, str]] = []
        self.bodies: list[bytes] = []
        self.script = list(script or [])
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with sink.lock:
                    status, headers = sink.script.pop(0) if sink.script else (200, {})
                    sink.attempts.append((time.monotonic(), status))
                    answer = None
                    if status == 200:
                        sink.posts.append(json.loads(raw))
                        sink.headers.append(dict(self.headers))
                        sink.bodies.append(raw)
                        answer = reply(sink.posts[-1]) if reply is not None else None
                body = b"ok" if status == 200 else b"error"
                if answer is not None:
                    body = json.dumps(answer).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json" if answer is not None else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/services/T000/B000/XXXX"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def texts(self) -> list[str]:
        with self.lock:
            return [json.dumps(p, ensure_ascii=False) for p in self.posts]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback; records messages; can refuse with 451 for a while."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Message] = []
        self.refuse = 0
        """How many more DATA commands to refuse with 451."""
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                if sink.refuse > 0:
                    sink.refuse -= 1
                    return "451 4.3.0 Try again later"
                sink.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def texts(self) -> list[str]:
        out = []
        for m in self.messages:
            parts = [str(m.get("Subject", ""))]
            for part in m.walk():
                if part.get_content_maintype() == "text":
                    payload = part.get_payload(decode=True)
                    assert isinstance(payload, bytes)
                    parts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
            out.append("\n".join(parts))
        return out

    def close(self) -> None:
        self.controller.stop()


def page_html(title: str, text: str, lang: str = "en") -> bytes:
    """An article page with the chrome real sites have: navigation, cookie banner, sidebar, footer."""
    paras = "\n".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n") if p.strip())
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{html.escape(title)} | Daily Wire</title><meta property="og:title" content="{html.escape(title)}"></head>
<body><header><nav><a href="/world">World</a> <a href="/politics">Politics</a></nav>
<div class="cookie">We use cookies. Accept all</div></header>
<main><article><h1>{html.escape(title)}</h1><div class="byline">By Staff Reporter</div>
{paras}</article><aside><h3>Most read</h3><a href="/x/1">Weather: a cold week ahead</a></aside></main>
<footer>Copyright Daily Wire. All rights reserved.</footer></body></html>""".encode()


def rss(title: str, base: str, items: list[dict[str, Any]], ttl: int | None = None) -> bytes:
    """RSS 2.0 with items {id, title, path, published: datetime, summary?}."""
    out = []
    for it in items:
        published: datetime = it["published"]
        out.append(
            f"<item><title>{html.escape(it['title'])}</title><link>{base}{it['path']}</link>"
            f'<guid isPermaLink="false">{html.escape(it["id"])}</guid>'
            f"<pubDate>{format_datetime(published)}</pubDate>"
            f"<description>{html.escape(it.get('summary', ''))}</description></item>")
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>{html.escape(title)}</title><link>{base}/</link><description>x</description>{ttl_tag}\n"
            + "\n".join(out) + "\n</channel></rss>\n").encode()
