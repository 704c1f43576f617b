"""`monitor feeds add/import/list/remove` against a real local web server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import Route, WebServer, rss
from test_e2e import run_monitor, workdir, write_config


@pytest.fixture
def web() -> Iterator[WebServer]:
    server = WebServer()
    yield server
    server.close()


def feed_rows(cfg: Path, wd: Path) -> dict[str, dict[str, object]]:
    r = run_monitor("--config", str(cfg), "feeds", "list", "--format", "jsonl", cwd=wd)
    assert r.returncode == 0, r.stderr
    return {row["url"]: row for row in map(json.loads, r.stdout.splitlines())}


def test_add_by_page_discovers_the_feed_then_remove(tmp_path: Path, web: WebServer) -> None:
    now = datetime.now(UTC)
    web.routes["/rss.xml"] = Route(rss("Site News", web.base, [{"id": "1", "title": "T", "path": "/a",
                                                                "published": now}]), "application/rss+xml")
    web.routes["/"] = Route(b'<html><head><link rel="alternate" type="application/rss+xml" title="News" '
                            b'href="/rss.xml"></head><body>Home</body></html>')
    wd = workdir(tmp_path)
    cfg = write_config(wd, [], None, None)
    r = run_monitor("--config", str(cfg), "feeds", "add", web.base + "/", "--every", "10m", cwd=wd)
    assert r.returncode == 0, r.stderr
    assert "/rss.xml" in r.stdout and "found on" in r.stdout
    rows = feed_rows(cfg, wd)
    assert list(rows) == [web.base + "/rss.xml"] and rows[web.base + "/rss.xml"]["interval"] == "10m"
    r = run_monitor("--config", str(cfg), "feeds", "remove", web.base + "/rss.xml", cwd=wd)
    assert r.returncode == 0, r.stderr
    assert feed_rows(cfg, wd) == {}


def test_add_a_page_without_feed_fails_clearly(tmp_path: Path, web: WebServer) -> None:
    web.routes["/"] = Route(b"<html><body>No feed here</body></html>")
    wd = workdir(tmp_path)
    cfg = write_config(wd, [], None, None)
    r = run_monitor("--config", str(cfg), "feeds", "add", web.base + "/", cwd=wd)
    assert r.returncode == 1 and "links no feed" in r.stderr


def test_import_opml_and_config_feeds_cannot_be_removed_here(tmp_path: Path) -> None:
    wd = workdir(tmp_path)
    cfg = write_config(wd, ["https://config.example/rss"], None, None)
    opml = tmp_path / "subs.opml"
    opml.write_text("""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
      <outline text="Politics"><outline type="rss" text="A" xmlUrl="https://a.example/feed"/>
      <outline type="rss" text="B" xmlUrl="https://b.example/rss.xml"/></outline>
      <outline type="rss" text="C" xmlUrl="https://config.example/rss"/></body></opml>""")
    r = run_monitor("--config", str(cfg), "feeds", "import", str(opml), cwd=wd)
    assert r.returncode == 0, r.stderr
    assert "2 feed(s) added" in r.stdout
    assert set(feed_rows(cfg, wd)) == {"https://a.example/feed", "https://b.example/rss.xml",
                                       "https://config.example/rss"}
    r = run_monitor("--config", str(cfg), "feeds", "remove", "https://config.example/rss", cwd=wd)
    assert r.returncode != 0 and "monitor.yaml" in r.stderr
    bad = tmp_path / "bad.opml"
    bad.write_text("<opml><body><outline")
    r = run_monitor("--config", str(cfg), "feeds", "import", str(bad), cwd=wd)
    assert r.returncode == 2 and "bad.opml" in r.stderr
