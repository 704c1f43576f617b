"""monitor.logs: JSON lines with stable keys, and no secret in any line whatever the format.

The end-to-end test runs `monitor --log-format json run --once` against receivers that fail in the
ways that put text from the far side into our logs: a Slack stand-in whose 404 page echoes the
webhook path, and an SMTP server that cannot take the configured password.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support import Route, SmtpSink, WebServer, page_html, rss
from test_e2e import monitor_exe

from monitor.logs import JsonFormatter, KeyValueFormatter

SLACK = "https://hooks.slack.com/services/T0AAAA/B0BBBB/tokenSECRET123"
PASSWORD = "hunter2-Sm7p-pass"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("monitor.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream, handler
    logger.removeHandler(handler)


def emit_secrets(logger: logging.Logger) -> None:
    logger.warning("delivery_retry", extra={"channel": "chat", "error": f"cannot reach {SLACK}: timed out"})
    logger.error("delivery_dead", extra={"channel": "mail", "refused": [f"smtp://monitor:{PASSWORD}@mail.example.org"],
                                         "headers": {"X-Hook": SLACK}, "attempts": 3, "final": True})
    try:
        raise RuntimeError(f"POST {SLACK} failed")
    except RuntimeError:
        logger.exception("delivery_internal_error", extra={"channel": "chat"})


def test_json_lines_have_stable_keys_and_no_secrets(captured: tuple[logging.Logger, io.StringIO,
                                                                    logging.Handler]) -> None:
    logger, stream, handler = captured
    handler.setFormatter(JsonFormatter())
    emit_secrets(logger)
    text = stream.getvalue()
    assert "tokenSECRET123" not in text and PASSWORD not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert [line["event"] for line in lines] == ["delivery_retry", "delivery_dead", "delivery_internal_error"]
    assert all(list(line)[:4] == ["ts", "level", "event", "logger"] for line in lines)
    assert datetime.fromisoformat(lines[0]["ts"]).tzinfo is not None
    assert lines[0]["level"] == "warning" and lines[0]["channel"] == "chat"
    assert lines[0]["error"].startswith("cannot reach https://hooks.slack.com/services/***")
    assert lines[1]["refused"] == ["smtp://monitor:***@mail.example.org"]
    assert lines[1]["headers"] == {"X-Hook": "https://hooks.slack.com/services/***"}
    assert (lines[1]["attempts"], lines[1]["final"]) == (3, True)  # numbers stay numbers
    assert "RuntimeError" in lines[2]["exception"]


def test_key_value_lines_have_no_secrets(captured: tuple[logging.Logger, io.StringIO, logging.Handler]) -> None:
    logger, stream, handler = captured
    handler.setFormatter(KeyValueFormatter())
    emit_secrets(logger)
    text = stream.getvalue()
    assert "tokenSECRET123" not in text and PASSWORD not in text
    assert "delivery_dead channel=mail" in text and "attempts=3" in text


class EchoingHook:
    """Answers every POST with a 404 page that repeats the path, as many web servers do."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = f"no webhook at {self.path}".encode()
                self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/services/T0AAAA/B0BBBB/tokenSECRET123"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_the_daemon_logs_json_lines_without_webhook_urls_or_passwords(tmp_path: Path) -> None:
    web, hook, smtp = WebServer(), EchoingHook(), SmtpSink()
    try:
        title = "Harbour city opens the wombatfair"
        web.routes["/a.html"] = Route(page_html(title, "The wombatfair in Portsville opened on Monday. " * 5))
        web.routes["/feed.xml"] = Route(rss("Wire", web.base, [{"id": "a", "title": title, "path": "/a.html",
                                                                "published": datetime.now(UTC) - timedelta(hours=1)}]),
                                        "application/rss+xml")
        (tmp_path / "watchlists").mkdir()
        (tmp_path / "watchlists" / "fairs.yaml").write_text("name: Fairs\nmatch: {any: [wombatfair]}\n")
        cfg = tmp_path / "monitor.yaml"
        cfg.write_text("\n".join([
            f"database: sqlite:///{tmp_path / 'monitor.db'}", "watchlists: watchlists",
            "fetch: {allow_private_networks: true, timeout: 10}", f"feeds: [{{url: '{web.base}/feed.xml'}}]",
            "channels:", f"  chat: {{type: slack, webhook_url: '{hook.url}', timeout: 5}}",
            f"  mail: {{type: email, host: 127.0.0.1, port: {smtp.port}, username: monitor,",
            "          password: '${SMTP_PASSWORD}', from: m@example.org, to: [a@example.org], timeout: 5}"]) + "\n")
        env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"} | {"SMTP_PASSWORD": PASSWORD}
        r = subprocess.run([*monitor_exe(), "--log-format", "json", "--log-level", "DEBUG", "--config", str(cfg),
                            "run", "--once", "--extract-workers", "0"], capture_output=True, text=True, timeout=120,
                           cwd=tmp_path, env=env)
    finally:
        web.close(), hook.close(), smtp.close()
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(line) for line in r.stderr.splitlines()]  # every line is one JSON document
    assert lines and all(list(line)[:4] == ["ts", "level", "event", "logger"] for line in lines)
    dead = {line["channel"]: line["error"] for line in lines if line["event"] == "delivery_dead"}
    assert set(dead) == {"chat", "mail"}, dead  # both failures were logged, with the receivers' words
    assert "HTTP 404: no webhook at" in dead["chat"] and "AUTH" in dead["mail"]
    assert "tokenSECRET123" not in r.stderr and "B0BBBB" not in r.stderr and PASSWORD not in r.stderr
    assert smtp.messages == []
