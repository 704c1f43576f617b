"""Soak: the real daemon, killed with SIGKILL three times while it delivers, loses no alert.

A local site publishes N articles that all match one watchlist; a slow SMTP server and a slow
webhook receiver take the alerts. At seeded random moments during delivery the daemon is killed
with SIGKILL (no chance to clean up) and started again. In the end every alert must have arrived
on both channels, with at most one duplicate per channel per kill (the alert a receiver accepted
just before the kill, whose "sent" was never committed).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support import Route, WebServer, free_port, page_html, rss
from test_e2e import monitor_exe

pytestmark = pytest.mark.slow

N = 24
KILLS = 3
SEED = 20261128
RECEIVER_DELAY = 0.08
WORD = "quokkafest"


class Received:
    """Delivery keys as they arrive, per channel (the match id identifies the alert)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: dict[str, list[str]] = {"mail": [], "hook": []}

    def add(self, channel: str, delivery_key: str) -> None:
        match_id = delivery_key.split("-match-")[1].split("-")[0]
        with self.lock:
            self.keys[channel].append(match_id)

    def total(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.keys.values())

    def unique(self, channel: str) -> set[str]:
        with self.lock:
            return set(self.keys[channel])


def slow_hook(received: Received) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(RECEIVER_DELAY)
            received.add("hook", self.headers["X-News-Monitor-Delivery"])
            with contextlib.suppress(OSError):  # the daemon may have been killed meanwhile
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def slow_smtp(received: Received) -> tuple[Any, int]:
    import asyncio

    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            await asyncio.sleep(RECEIVER_DELAY)
            received.add("mail", str(message_from_bytes(envelope.content)["X-News-Monitor-Delivery"]))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


def site(web: WebServer, rng: random.Random) -> str:
    """N articles on unrelated made-up subjects (so no two make one story), all naming WORD."""
    now = datetime.now(UTC)
    syllables = ["ka", "lo", "mi", "ter", "vos", "du", "ren", "pa", "shi", "gor", "bel", "nu", "zan", "fi", "ox"]

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(3)).capitalize()

    entries = []
    for i in range(N):
        place, person, thing = word(), word(), word().lower()
        title = f"{person} opens {thing} works in {place} for the {WORD} ({i + 1900})"
        text = (f"{person} opened the new {thing} works in {place} on day {i + 3} of the {WORD}. "
                f"{rng.randint(100, 999)} {thing} makers from {word()} and {word()} attended. "
                f"The {thing} hall cost {rng.randint(10, 99)} million {word()} crowns, said {word()} {word()}.")
        path = f"/a/{i}.html"
        web.routes[path] = Route(page_html(title, text))
        entries.append({"id": f"a{i}", "title": title, "path": path, "published": now - timedelta(minutes=i)})
    web.routes["/feed.xml"] = Route(rss("Soak wire", web.base, entries), "application/rss+xml")
    return web.base + "/feed.xml"


def start(cfg: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    with log.open("ab") as sink:
        return subprocess.Popen([*monitor_exe(), "--config", str(cfg), "run", "--extract-workers", "0"],
                                cwd=cfg.parent, stdout=sink, stderr=subprocess.STDOUT, env=env)


def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_sigkill_during_delivery_loses_no_alert(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    received = Received()
    web, hook = WebServer(), slow_hook(received)
    controller, smtp_port = slow_smtp(received)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        (tmp_path / "watchlists").mkdir()
        (tmp_path / "watchlists" / "soak.yaml").write_text(f"name: Soak\nmatch: {{any: [{WORD}]}}\n")
        cfg = tmp_path / "monitor.yaml"
        cfg.write_text("\n".join([
            f"database: sqlite:///{tmp_path / 'monitor.db'}", "watchlists: watchlists",
            "fetch: {allow_private_networks: true, timeout: 10}", f"feeds: [{{url: {site(web, rng)}}}]",
            "delivery: {every: 0.2s, first_retry: 1s, lease: 1s}",
            "channels:",
            f"  mail: {{type: email, host: 127.0.0.1, port: {smtp_port}, from: m@example.org, to: a@example.org,"
            " timeout: 10}",
            f"  hook: {{type: webhook, url: 'http://127.0.0.1:{hook.server_address[1]}/hook', timeout: 10}}",
        ]) + "\n")
        log = tmp_path / "daemon.log"
        for _kill in range(KILLS):
            before = received.total()
            target = before + rng.randint(2, 8)
            procs.append(start(cfg, log))
            # The kills are aimed at delivery: a feed killed mid-poll stays leased to the dead process
            # for minutes (the pipeline's lease), which would only make this test slow.
            assert wait_for(lambda t=target: received.total() >= t and "feed_polled" in log.read_text(), 40), \
                log.read_text()[-3000:]
            time.sleep(rng.uniform(0, RECEIVER_DELAY))  # somewhere inside the next send
            procs[-1].send_signal(signal.SIGKILL)
            procs[-1].wait(10)
        procs.append(start(cfg, log))
        done = wait_for(lambda: len(received.unique("mail")) >= N and len(received.unique("hook")) >= N, 60)
        assert done, f"{len(received.unique('mail'))}/{N} mails, {len(received.unique('hook'))}/{N} posts\n" + \
            log.read_text()[-3000:]
        time.sleep(0.5)  # anything still in flight would show up as a duplicate now
        for channel in ("mail", "hook"):
            counts = Counter(received.keys[channel])
            assert len(counts) == N
            duplicates = sum(c - 1 for c in counts.values())
            assert duplicates <= KILLS, (channel, counts)
        listed = subprocess.run([*monitor_exe(), "--config", str(cfg), "deliveries", "--format", "jsonl"],
                                capture_output=True, text=True, timeout=60, cwd=tmp_path)
        statuses = Counter(json.loads(line)["status"] for line in listed.stdout.splitlines())
        assert statuses == {"sent": 2 * N}, statuses
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        web.close()
        hook.shutdown()
        hook.server_close()
        controller.stop()
