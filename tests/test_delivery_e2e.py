"""The real `monitor` command: admin alerts from `run --once`, a muted watchlist, a digest channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support import HookSink, Route, WebServer, page_html, rss
from test_e2e import run_monitor

WORD = "wombatfair"


def setup(tmp_path: Path, web: WebServer, hook: HookSink, extra: str = "") -> Path:
    now = datetime.now(UTC)
    entries = []
    for i, (title, text) in enumerate([
            (f"Harbour city opens the {WORD} to visitors", f"The {WORD} in Portsville opened on Monday with 40 stalls."),
            (f"Mountain village hosts a chess {WORD}", f"Eleven grandmasters came to Highpeak for the {WORD} on Friday.")]):
        web.routes[f"/a/{i}.html"] = Route(page_html(title, text))
        entries.append({"id": f"a{i}", "title": title, "path": f"/a/{i}.html", "published": now - timedelta(hours=1)})
    web.routes["/feed.xml"] = Route(rss("Wire", web.base, entries), "application/rss+xml")
    web.routes["/broken.xml"] = Route(b"down", "text/plain", status=503)
    (tmp_path / "watchlists").mkdir()
    (tmp_path / "watchlists" / "fairs.yaml").write_text(f"name: Fairs\nmatch: {{any: [{WORD}]}}\n")
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("\n".join([
        f"database: sqlite:///{tmp_path / 'monitor.db'}", "watchlists: watchlists",
        "fetch: {allow_private_networks: true, timeout: 10}",
        f"feeds: [{{url: '{web.base}/feed.xml'}}, {{url: '{web.base}/broken.xml', name: Broken wire}}]",
        "channels:", f"  hook: {{type: webhook, url: '{hook.url}', timeout: 5}}"]) + "\n" + extra)
    return cfg


def test_run_once_raises_the_admin_alert_once(tmp_path: Path) -> None:
    web, hook, ops = WebServer(), HookSink(), HookSink()
    try:
        cfg = setup(tmp_path, web, hook, f"  ops: {{type: webhook, url: '{ops.url}', timeout: 5}}\n"
                    "admin: {channels: [ops], feed_failing_after: 0s}\n")
        (tmp_path / "watchlists" / "fairs.yaml").write_text(f"name: Fairs\nnotify: [hook]\nmatch: {{any: [{WORD}]}}\n")
        r = run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
        assert [p["article"]["title"] for p in ops.posts] == ["Feed failing for 0 min: Broken wire"]
        assert any("HTTP 503" in why for why in ops.posts[0]["match"]["why"])
        assert len(hook.posts) == 2  # the news went to the news channel only
        r = run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=tmp_path)
        assert r.returncode == 0 and len(ops.posts) == 1
    finally:
        web.close(), hook.close(), ops.close()


def test_muted_watchlist_shows_as_muted_and_sends_nothing(tmp_path: Path) -> None:
    web, hook = WebServer(), HookSink()
    try:
        cfg = setup(tmp_path, web, hook)
        r = run_monitor("--config", str(cfg), "watchlist", "mute", "Fairs", "2h", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        r = run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
        assert hook.posts == []
        listed = run_monitor("--config", str(cfg), "matches", "--format", "jsonl", cwd=tmp_path)
        rows = [json.loads(line) for line in listed.stdout.splitlines()]
        assert len(rows) == 2 and all(row["deliveries"] == {"hook": "muted"} for row in rows)
        run_monitor("--config", str(cfg), "watchlist", "unmute", "Fairs", cwd=tmp_path)
        r = run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=tmp_path)
        assert r.returncode == 0 and hook.posts == []  # muted means no alerts for that period, not later
    finally:
        web.close(), hook.close()


def test_digest_channel_holds_alerts_for_the_next_slot(tmp_path: Path) -> None:
    web, hook = WebServer(), HookSink()
    try:
        cfg = setup(tmp_path, web, hook)
        cfg.write_text(cfg.read_text().replace("timeout: 5}", "timeout: 5, digest: 'daily at 08:00 Europe/Budapest'}"))
        r = run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
        assert hook.posts == []
        listed = run_monitor("--config", str(cfg), "deliveries", "--format", "jsonl", cwd=tmp_path)
        rows = [json.loads(line) for line in listed.stdout.splitlines()]
        assert len(rows) == 2 and {row["status"] for row in rows} == {"pending"}
        due = {row["next_attempt_at"] for row in rows}
        assert len(due) == 1 and datetime.fromisoformat(due.pop()) > datetime.now(UTC)
    finally:
        web.close(), hook.close()
