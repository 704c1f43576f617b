"""The real `monitor` command end to end: a local news site, a real SMTP server, a Slack stand-in.

These run the installed command in a subprocess, exactly as a user (or systemd) does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import REPO, SHARED_DATA, HookSink, Route, SmtpSink, WebServer, page_html, rss

SEED = REPO / "seeds" / "orban-moscow-2024-07.txt"
SEED_TITLE = "Hungarian Prime Minister Orban arrives in Moscow for talks with Putin"
PAGES = SHARED_DATA / "extraction" / "scrapinghub"


def monitor_exe() -> list[str]:
    exe = Path(sys.executable).parent / "monitor"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "monitor"]


def run_monitor(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    return subprocess.run([*monitor_exe(), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def servers() -> Iterator[tuple[WebServer, SmtpSink, HookSink]]:
    web, smtp, slack = WebServer(), SmtpSink(), HookSink()
    yield web, smtp, slack
    web.close(), smtp.close(), slack.close()


def workdir(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "watchlists", tmp_path / "watchlists")
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    return tmp_path


def write_config(wd: Path, feeds: list[str], smtp: SmtpSink | None, slack: HookSink | None, extra: str = "",
                 database: str | None = None) -> Path:
    database = database or f"sqlite:///{wd / 'monitor.db'}"
    lines = [f"database: {database}", f"watchlists: {wd / 'watchlists'}",
             "fetch:", "  allow_private_networks: true", "  timeout: 10", "feeds:"]
    lines += [f"  - url: {u}" for u in feeds]
    lines.append("channels:")
    if smtp:
        lines += ["  mail:", "    type: email", "    host: 127.0.0.1", f"    port: {smtp.port}",
                  "    from: monitor@example.org", "    to: [analyst@example.org]"]
    if slack:
        lines += ["  chat:", "    type: slack", f"    webhook_url: {slack.url}"]
    if not smtp and not slack:
        lines += ["  screen:", "    type: console"]
    cfg = wd / "monitor.yaml"
    cfg.write_text("\n".join(lines) + "\n" + extra)
    return cfg


def news_site(web: WebServer, n_pages: int = 8) -> list[str]:
    """Feed 'wire' (the seed and real pages), 'old' (a matching story from last week), 'broken' (500)."""
    if not PAGES.is_dir():
        pytest.skip(f"shared data not found at {PAGES}")
    now = datetime.now(UTC)
    expected = [json.loads(line) for line in (PAGES / "expected.jsonl").open()][:n_pages]
    entries = [{"id": "seed", "title": SEED_TITLE, "path": "/news/seed.html", "published": now - timedelta(hours=1)}]
    web.routes["/news/seed.html"] = Route(page_html(SEED_TITLE, SEED.read_text()))
    for k, item in enumerate(expected):
        path = f"/news/dev-{k}.html"
        web.routes[path] = Route((PAGES / item["html_file"]).read_bytes())
        entries.append({"id": f"dev-{k}", "title": f"Report {k}", "path": path, "published": now - timedelta(hours=2)})
    web.routes["/feeds/wire.xml"] = Route(rss("Wire", web.base, entries), "application/rss+xml", etag='"wire-v1"')
    old = [{"id": "old", "title": "Austrian Chancellor Nehammer arrives in Moscow to meet Putin",
            "path": "/news/old.html", "published": now - timedelta(days=7)}]
    web.routes["/news/old.html"] = Route(page_html(old[0]["title"], (
        "Austrian Chancellor Karl Nehammer arrived in Moscow on Monday for talks with Russian President "
        "Vladimir Putin, the first EU leader to visit Russia since the invasion of Ukraine.")))
    web.routes["/feeds/old.xml"] = Route(rss("Archive", web.base, old), "application/rss+xml")
    web.routes["/feeds/broken.xml"] = Route(b"boom", "text/plain", status=500)
    return [web.base + p for p in ("/feeds/wire.xml", "/feeds/old.xml", "/feeds/broken.xml")]


def test_run_once_alerts_once_by_email_and_slack(tmp_path: Path, database_url: str,
                                                servers: tuple[WebServer, SmtpSink, HookSink]) -> None:
    """On a SQLite file and on PostgreSQL: the database is the only difference a user sees."""
    web, smtp, slack = servers
    wd = workdir(tmp_path)
    cfg = write_config(wd, news_site(web), smtp, slack, database=database_url)
    r = run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "2", cwd=wd)
    assert r.returncode == 0, r.stderr[-2000:]
    mails, posts = smtp.texts(), slack.texts()
    assert len(mails) == 1 and "/news/seed.html" in mails[0], mails
    assert len(posts) == 1 and "/news/seed.html" in posts[0], posts
    message = smtp.messages[0]
    assert "EU leader" in message["Subject"] and "Orban" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    assert {p.get_content_type() for p in message.walk()} >= {"text/plain", "text/html"}
    assert "blocks" in slack.posts[0] and "text" in slack.posts[0]
    # the broken feed is named in the log, and the others went on
    assert "feeds/broken.xml" in r.stderr and "500" in r.stderr
    # the old story was stored and matched silently: adding a feed never floods anyone
    listed = run_monitor("--config", str(cfg), "matches", "--format", "jsonl", cwd=wd)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    by_url = {row["url"].rsplit("/", 1)[-1]: row for row in rows}
    assert by_url["seed.html"]["alerted"] and by_url["seed.html"]["why"]
    assert "old.html" in by_url and not by_url["old.html"]["alerted"]

    r = run_monitor("--config", str(cfg), "run", "--once", cwd=wd)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(smtp.texts()) == 1 and len(slack.texts()) == 1, "the second cycle sent alerts again"


def test_second_cycle_is_conditional_and_new_entries_alert(tmp_path: Path, database_url: str,
                                                           servers: tuple[WebServer, SmtpSink, HookSink]) -> None:
    web, smtp, _slack = servers
    wd = workdir(tmp_path)
    feeds = news_site(web, n_pages=2)
    cfg = write_config(wd, feeds[:1], smtp, None, extra="every: 1s\n", database=database_url)
    assert run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=wd).returncode == 0
    time.sleep(1.2)
    assert run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=wd).returncode == 0
    feed_hits = web.hits("/feeds/wire.xml")
    assert len(feed_hits) == 2 and feed_hits[1].get("If-None-Match") == '"wire-v1"'
    assert len(smtp.messages) == 1
    # a new report of another EU leader's visit appears in the feed: it alerts, the old ones do not
    now = datetime.now(UTC)
    title = "Slovak Prime Minister Robert Fico arrives in Moscow for talks with Putin"
    web.routes["/news/fico.html"] = Route(page_html(title, (
        "Slovak Prime Minister Robert Fico has arrived in Moscow, where he will hold talks with Russian "
        "President Vladimir Putin, his office said on Sunday. Fico is one of the few EU leaders to visit "
        "Russia since the invasion of Ukraine.")))
    entries = [{"id": "fico", "title": title, "path": "/news/fico.html", "published": now},
               {"id": "seed", "title": SEED_TITLE + " (updated)", "path": "/news/seed.html", "published": now}]
    web.routes["/feeds/wire.xml"] = Route(rss("Wire", web.base, entries), "application/rss+xml", etag='"wire-v2"')
    time.sleep(1.2)
    assert run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=wd).returncode == 0
    texts = smtp.texts()
    assert len(texts) == 2 and "/news/fico.html" in texts[1]


def test_failed_delivery_stays_pending_and_is_sent_later(tmp_path: Path, database_url: str,
                                                          servers: tuple[WebServer, SmtpSink, HookSink]) -> None:
    web, smtp, slack = servers
    wd = workdir(tmp_path)
    smtp.refuse = 1
    slack.script = [(500, {})]
    cfg = write_config(wd, news_site(web, n_pages=1)[:1], smtp, slack, extra="delivery:\n  first_retry: 1s\n",
                       database=database_url)
    assert run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=wd).returncode == 0
    assert smtp.messages == [] and slack.posts == []
    pending = run_monitor("--config", str(cfg), "deliveries", "--status", "pending", "--format", "jsonl", cwd=wd)
    rows = [json.loads(line) for line in pending.stdout.splitlines()]
    assert sorted(r["channel"] for r in rows) == ["chat", "mail"] and all(r["last_error"] for r in rows)
    time.sleep(1.5)
    assert run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=wd).returncode == 0
    assert len(smtp.messages) == 1 and len(slack.posts) == 1
    assert run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=wd).returncode == 0
    assert len(smtp.messages) == 1 and len(slack.posts) == 1


def test_console_is_the_default_channel(tmp_path: Path, servers: tuple[WebServer, SmtpSink, HookSink]) -> None:
    web, _smtp, _slack = servers
    wd = workdir(tmp_path)
    cfg = write_config(wd, news_site(web, n_pages=1)[:1], None, None)
    cfg.write_text(cfg.read_text().replace("channels:\n  screen:\n    type: console\n", ""))
    r = run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=wd)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "/news/seed.html" in r.stdout and "EU leader" in r.stdout


def test_invalid_config_exits_non_zero_naming_file_and_line(tmp_path: Path) -> None:
    wd = workdir(tmp_path)
    cfg = write_config(wd, ["http://127.0.0.1:9/feed.xml"], None, None, extra="fetch_typo: 1\n")
    r = run_monitor("--config", str(cfg), "run", "--once", cwd=wd)
    assert r.returncode == 2 and f"{cfg}:" in r.stderr and "fetch_typo" in r.stderr
    r = run_monitor("--config", str(cfg), "check", cwd=wd)
    assert r.returncode == 2 and "fetch_typo" in r.stderr


def test_check_names_a_broken_watchlist(tmp_path: Path) -> None:
    wd = workdir(tmp_path)
    cfg = write_config(wd, ["http://127.0.0.1:9/feed.xml"], None, None)
    r = run_monitor("--config", str(cfg), "check", cwd=wd)
    assert r.returncode == 0, r.stdout + r.stderr
    (wd / "watchlists" / "broken.yaml").write_text("name: [unclosed\n  - :\n")
    r = run_monitor("--config", str(cfg), "check", cwd=wd)
    assert r.returncode == 2 and "broken.yaml:" in r.stderr


def test_daemon_polls_alerts_and_stops_on_sigterm(tmp_path: Path, database_url: str,
                                                   servers: tuple[WebServer, SmtpSink, HookSink]) -> None:
    web, smtp, slack = servers
    wd = workdir(tmp_path)
    cfg = write_config(wd, news_site(web, n_pages=2), smtp, slack, extra="every: 2s\ndelivery:\n  every: 1s\n",
                       database=database_url)
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    proc = subprocess.Popen([*monitor_exe(), "--config", str(cfg), "run", "--extract-workers", "1"], cwd=wd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (smtp.messages and slack.posts and
                                                   len(web.hits("/feeds/wire.xml")) >= 2):
            time.sleep(0.3)
        assert smtp.messages and slack.posts, "the daemon sent nothing"
        assert len(web.hits("/feeds/wire.xml")) >= 2, "the daemon did not poll again"
        assert proc.poll() is None, "the daemon died"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        assert code == 0 and time.monotonic() - started < 30
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(smtp.messages) == 1 and len(slack.posts) == 1
