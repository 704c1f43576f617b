"""Live reload: the watch rules, the reload of a running pipeline, and the real daemon edited while it runs."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import HookSink, Route, WebServer, rss

from monitor.app import load_all, open_pipeline
from monitor.config import load_settings
from monitor.reload import Reloader, WatchedFiles, config_changes, is_editor_temp, keep_restart_settings
from monitor.types import Article


def test_editor_temp_files_are_not_watchlists(tmp_path: Path) -> None:
    for name in (".alpha.yaml.swp", "alpha.yaml~", ".#alpha.yaml", "#alpha.yaml#", "4913", "alpha.yaml.tmp"):
        assert is_editor_temp(name), name
    assert not is_editor_temp("alpha.yaml")
    folder = tmp_path / "watchlists"
    files = WatchedFiles(tmp_path / "monitor.yaml", folder, frozenset({tmp_path / "seeds" / "s.txt"}))
    relevant = [tmp_path / "monitor.yaml", folder / "alpha.yaml", folder / "Beta.YML", tmp_path / "seeds" / "s.txt"]
    ignored = [folder / ".alpha.yaml.swp", folder / "alpha.yaml~", folder / ".#alpha.yaml", folder / "#alpha.yaml#",
               folder / "4913", folder / "notes.txt", folder / "sub" / "deep.yaml", tmp_path / "monitor.db",
               tmp_path / "monitor.db-wal", tmp_path / "other.yaml", tmp_path / "seeds" / "t.txt"]
    assert [p for p in relevant if not files.relevant(p)] == []
    assert [p for p in ignored if files.relevant(p)] == []
    assert files.folders() == [tmp_path]  # a folder that does not exist (yet) is not watched
    folder.mkdir()
    assert files.folders() == sorted([tmp_path, folder])


def test_a_save_is_one_batch_and_temp_files_are_ignored(tmp_path: Path) -> None:
    """Real inotify events through watchfiles: a file written in pieces and an editor's swap file
    give one batch naming the file; nothing follows once the writing stopped."""
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (tmp_path / "monitor.yaml").write_text("feeds: []\n")
    files = WatchedFiles(tmp_path / "monitor.yaml", folder)

    async def go() -> list[set[Path]]:
        stop = asyncio.Event()
        batches: list[set[Path]] = []

        async def watch() -> None:
            async for batch in config_changes(files, stop, quiet=1.0, tick=0.5):
                if batch:
                    batches.append(batch)

        task = asyncio.create_task(watch())
        await asyncio.sleep(1.0)  # the watch is set up
        (folder / ".alpha.yaml.swp").write_text("swap")
        (folder / "alpha.yaml~").write_text("backup")
        (tmp_path / "monitor.db").write_bytes(b"sqlite")
        with (folder / "alpha.yaml").open("w") as f:
            for part in ("name: Alpha\n", "notify: [chat]\n", "match: aardvark\n"):
                f.write(part)
                f.flush()
                await asyncio.sleep(0.05)
        deadline = time.monotonic() + 30
        while not batches and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)  # a second batch would be here by now
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        return batches

    batches = asyncio.run(go())
    assert batches == [{folder / "alpha.yaml"}]


def test_settings_that_need_a_restart_keep_their_value(tmp_path: Path) -> None:
    (tmp_path / "watchlists").mkdir()
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("database: sqlite:///a.db\ndelivery: {every: 5s, first_retry: 30s}\nbackfill: 24h\n")
    old = load_settings(cfg)
    cfg.write_text("database: sqlite:///b.db\nserver: {port: 0}\nworkers: {concurrency: 8}\n"
                   "delivery: {every: 1s, first_retry: 10s}\nbackfill: 2h\n")
    kept, keys = keep_restart_settings(old, load_settings(cfg))
    assert sorted(keys) == ["database", "delivery.every", "server", "workers"]
    assert kept.database == "sqlite:///a.db" and kept.server is None and kept.workers.concurrency == 4
    assert kept.delivery.every == timedelta(seconds=5) and kept.delivery.first_retry == timedelta(seconds=10)
    assert kept.backfill == timedelta(hours=2)


def _project(tmp_path: Path, admin: HookSink, chat: HookSink, feeds: list[str], extra: str = "") -> Path:
    (tmp_path / "watchlists").mkdir(exist_ok=True)
    # Each later article is about another animal: articles about one animal would be one story, which alerts once.
    write(tmp_path / "watchlists" / "alpha.yaml",
          "name: Alpha\nnotify: [chat]\nmatch: {any: [aardvark, pangolin, wombat]}\n")
    cfg = tmp_path / "monitor.yaml"
    lines = [f"database: sqlite:///{tmp_path / 'monitor.db'}", "watchlists: watchlists", "every: 1s",
             "fetch: {allow_private_networks: true, fetch_articles: false, timeout: 10}", "delivery: {every: 1s}",
             "feeds:", *(f"  - url: {u}" for u in feeds), "channels:",
             f"  chat: {{type: slack, webhook_url: '{chat.url}'}}",
             f"  ops: {{type: slack, webhook_url: '{admin.url}'}}", "admin: {channels: [ops]}"]
    write(cfg, "\n".join(lines) + "\n" + extra)
    return cfg


def write(path: Path, text: str) -> None:
    """Write as editors do: a temporary file renamed over the old one."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


@pytest.fixture
def hooks() -> Iterator[tuple[HookSink, HookSink]]:
    chat, ops = HookSink(), HookSink()
    yield chat, ops
    chat.close(), ops.close()


def test_reload_swaps_a_running_pipeline_and_keeps_it_on_errors(tmp_path: Path,
                                                                  hooks: tuple[HookSink, HookSink]) -> None:
    """In-process: Reloader.reload() on the real pipeline, without waiting for the file watch."""
    chat, ops = hooks
    cfg = _project(tmp_path, ops, chat, ["http://127.0.0.1:9/a.xml"])
    zebra = Article(url="https://example.org/z", title="A zebra crossing", text="", lang="en")

    async def go() -> None:
        async with open_pipeline(load_all(cfg), extract_workers=0) as pipeline:
            reloader = Reloader(cfg, pipeline)
            old_chat = pipeline.outbox.channels["chat"]
            assert await reloader.reload() is not None and pipeline.outbox.channels["chat"] is old_chat
            write(tmp_path / "watchlists" / "beta.yaml", "name: Beta\nnotify: [chat]\nmatch: zebra\n")
            changes = await reloader.reload()
            assert changes is not None and changes.watchlists_added == ("Beta",) and not changes.watchlists_removed
            assert [m.watchlist for m in pipeline.matcher.match(zebra)] == ["Beta"]
            assert pipeline.routes()["Beta"] == ["chat"]
            matcher = pipeline.matcher
            write(tmp_path / "watchlists" / "broken.yaml", "name: Broken\nmatch: {regex: '(unclosed'}\n")
            assert await reloader.reload() is None and await reloader.reload() is None
            assert pipeline.matcher is matcher and reloader.failing
            assert len(ops.posts) == 1 and "broken.yaml:2" in ops.texts()[0], ops.texts()
            write(tmp_path / "watchlists" / "broken.yaml", "name: Broken\nmatch: {regex: 'ok+'}\n")
            # a changed channel is rebuilt, the unchanged one kept; the replaced one is closed
            write(cfg, cfg.read_text().replace("'}\n  ops:", "', timeout: 5}\n  ops:"))
            changes = await reloader.reload()
            assert changes is not None and changes.watchlists_added == ("Broken",)
            assert changes.channels_changed == ("chat",) and not reloader.failing
            assert pipeline.outbox.channels["chat"] is not old_chat
            write(cfg, cfg.read_text().replace("  - url: http://127.0.0.1:9/a.xml\n",
                                               "  - url: http://127.0.0.1:9/b.xml\n"))
            changes = await reloader.reload()
            assert changes is not None
            assert (changes.feeds_added, changes.feeds_removed) == (("http://127.0.0.1:9/b.xml",),
                                                                    ("http://127.0.0.1:9/a.xml",))
            assert [f.url for f in pipeline.store.feeds()] == ["http://127.0.0.1:9/b.xml"]
            await reloader.stop()

    asyncio.run(go())
    assert len(ops.posts) == 1


def test_without_admin_a_broken_file_is_told_on_every_channel_once(tmp_path: Path,
                                                                     hooks: tuple[HookSink, HookSink]) -> None:
    """No `admin:`: a watchlist edit that did not take effect must still reach a person, once."""
    chat, ops = hooks
    cfg = _project(tmp_path, ops, chat, ["http://127.0.0.1:9/a.xml"])
    write(cfg, cfg.read_text().replace("admin: {channels: [ops]}", ""))

    async def go() -> None:
        async with open_pipeline(load_all(cfg), extract_workers=0) as pipeline:
            reloader = Reloader(cfg, pipeline)
            write(tmp_path / "watchlists" / "broken.yaml", "name: Broken\nmatch: {any: [\n")
            assert await reloader.reload() is None and await reloader.reload() is None
            await reloader.stop()

    asyncio.run(go())
    for sink in (chat, ops):
        assert len(sink.posts) == 1 and "broken.yaml:3" in sink.texts()[0], sink.texts()


# --- the real daemon, edited while it runs -------------------------------------------------------------

TIMEOUT = 90.0  # two slow shared cores: generous, but each wait ends as soon as the outcome is there


class Daemon:
    """`monitor run` in a subprocess, its log in a file."""

    def __init__(self, cfg: Path) -> None:
        exe = Path(sys.executable).parent / "monitor"
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "monitor"]
        env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
        self.log_path = cfg.parent / "daemon.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen([*cmd, "--config", str(cfg), "run", "--extract-workers", "0"], cwd=cfg.parent,
                                     env=env, stdout=subprocess.DEVNULL, stderr=self._log)

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_log(self, pattern: str, count: int = 1) -> str:
        wait_for(lambda: len(re.findall(pattern, self.log())) >= count, f"{count}× {pattern!r} in the log", self)
        return self.log()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def wait_for(check: Callable[[], Any], what: str, daemon: Daemon) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if check():
            return
        assert daemon.proc.poll() is None, f"the daemon died waiting for {what}:\n{daemon.log()[-3000:]}"
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {TIMEOUT:.0f} s:\n{daemon.log()[-3000:]}")


class Feed:
    """A feed on the local web server to which a test publishes articles."""

    def __init__(self, web: WebServer, path: str) -> None:
        self.web, self.path, self.items = web, path, list[dict[str, Any]]()
        self.url = web.base + path
        self._serve()

    def publish(self, slug: str, title: str, summary: str) -> str:
        self.items.append({"id": slug, "title": title, "path": f"/news/{slug}.html", "summary": summary,
                           "published": datetime.now(UTC) - timedelta(minutes=1)})
        self._serve()
        return f"/news/{slug}.html"

    def _serve(self) -> None:
        self.web.routes[self.path] = Route(rss("Wire", self.web.base, self.items), "application/rss+xml")


def alerts_for(sink: HookSink, path: str) -> list[str]:
    return [t for t in sink.texts() if path in t]


@pytest.fixture
def web() -> Iterator[WebServer]:
    server = WebServer()
    yield server
    server.close()


def test_daemon_picks_up_a_new_watchlist_and_a_new_feed(tmp_path: Path, web: WebServer,
                                                        hooks: tuple[HookSink, HookSink]) -> None:
    chat, ops = hooks
    one = Feed(web, "/feeds/one.xml")
    first = one.publish("a1", "Aardvark escapes the city zoo", "Keepers searched the park all night for the animal.")
    cfg = _project(tmp_path, ops, chat, [one.url])
    daemon = Daemon(cfg)
    try:
        wait_for(lambda: alerts_for(chat, first), "the first alert", daemon)
        daemon.wait_log("config_watch_started")
        # (a) a new watchlist while it runs: it matches the articles that arrive from then on
        write(tmp_path / "watchlists" / "beta.yaml", "name: Beta\nnotify: [chat]\nmatch: zebra\n")
        log = daemon.wait_log(r"config_reloaded .*watchlists_added=Beta")
        assert "config_reload_failed" not in log
        zebra = one.publish("z1", "Zebra foal born at the wildlife reserve", "Rangers named the striped newborn.")
        wait_for(lambda: alerts_for(chat, zebra), "an alert for the new watchlist", daemon)
        assert len(alerts_for(chat, zebra)) == 1 and "Beta" in alerts_for(chat, zebra)[0]
        # (d) a feed added to monitor.yaml is polled; the database cannot change without a restart
        two = Feed(web, "/feeds/two.xml")
        pangolin = two.publish("p1", "Pangolin rescued from smugglers at the border",
                               "Customs officers handed the scaly mammal to a sanctuary.")
        text = cfg.read_text().replace(f"  - url: {one.url}\n", f"  - url: {one.url}\n  - url: {two.url}\n")
        write(cfg, text.replace(f"sqlite:///{tmp_path / 'monitor.db'}", f"sqlite:///{tmp_path / 'other.db'}"))
        log = daemon.wait_log(r"config_reloaded .*feeds_added=" + re.escape(two.url))
        assert re.search(r"restart_needed key=database", log)
        wait_for(lambda: web.hits("/feeds/two.xml"), "a poll of the added feed", daemon)
        wait_for(lambda: alerts_for(chat, pangolin), "an alert from the added feed", daemon)
        assert not (tmp_path / "other.db").exists()
        assert ops.posts == []
    finally:
        code = daemon.stop()
    assert code == 0, daemon.log()[-3000:]


def test_daemon_keeps_the_last_valid_watchlists_and_tells_the_admin_once(tmp_path: Path, web: WebServer,
                                                                        hooks: tuple[HookSink, HookSink]) -> None:
    chat, ops = hooks
    feed = Feed(web, "/feeds/one.xml")
    first = feed.publish("a1", "Aardvark escapes the city zoo", "Keepers searched the park all night for the animal.")
    cfg = _project(tmp_path, ops, chat, [feed.url])
    broken = tmp_path / "watchlists" / "broken.yaml"
    daemon = Daemon(cfg)
    try:
        wait_for(lambda: alerts_for(chat, first), "the first alert", daemon)
        daemon.wait_log("config_watch_started")
        # (b) invalid YAML: the log names the file and line, the admin channel hears once
        write(broken, "name: Broken\nnotify: [chat]\nmatch: [unclosed\n")
        log = daemon.wait_log("config_reload_failed")
        assert re.search(rf"config_reload_failed .*{re.escape(str(broken))}:\d+: invalid YAML", log), log[-2000:]
        assert len(ops.posts) == 1 and re.search(r"broken\.yaml:\d+", ops.texts()[0]), ops.texts()
        write(broken, "name: Broken\nnotify: [chat]\nmatch: [unclosed\n")  # saved again, same mistake
        log = daemon.wait_log("config_reload_failed", count=2)
        assert "admin_alert=already_sent" in log and len(ops.posts) == 1, ops.texts()
        # the last valid watchlists keep alerting
        second = feed.publish("w1", "Wombat census counts record numbers in Tasmania",
                              "Biologists tallied burrows across three provinces this spring.")
        wait_for(lambda: alerts_for(chat, second), "an alert from the last valid watchlists", daemon)
        # a bad regular expression: named with its file, line and key; a new problem, a new admin alert
        write(broken, "name: Broken\nnotify: [chat]\nmatch:\n  regex: '(unclosed'\n")
        log = daemon.wait_log("config_reload_failed", count=3)
        assert f"{broken}:4: match.regex: invalid regular expression" in log, log[-2000:]
        assert len(ops.posts) == 2 and "broken.yaml:4" in ops.texts()[1], ops.texts()
        # (c) fixed: it takes effect
        write(broken, "name: Gamma\nnotify: [chat]\nmatch: okapi\n")
        daemon.wait_log(r"config_reloaded .*watchlists_added=Gamma")
        assert "config_reload_recovered" in daemon.log()
        okapi = feed.publish("o1", "Okapi calf spotted in the Ituri forest", "Camera traps recorded the shy animal.")
        wait_for(lambda: alerts_for(chat, okapi), "an alert for the fixed watchlist", daemon)
        assert "Gamma" in alerts_for(chat, okapi)[0]
        assert len(ops.posts) == 2
    finally:
        code = daemon.stop()
    assert code == 0, daemon.log()[-3000:]


def test_no_reload_leaves_the_files_unwatched(tmp_path: Path, web: WebServer,
                                              hooks: tuple[HookSink, HookSink]) -> None:
    chat, ops = hooks
    feed = Feed(web, "/feeds/one.xml")
    first = feed.publish("a1", "Aardvark escapes the city zoo", "Keepers searched the park all night for the animal.")
    cfg = _project(tmp_path, ops, chat, [feed.url])
    exe = Path(sys.executable).parent / "monitor"
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    with (tmp_path / "daemon.log").open("w") as log:
        proc = subprocess.Popen([str(exe), "--config", str(cfg), "run", "--no-reload", "--extract-workers", "0"],
                                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + TIMEOUT
            while not alerts_for(chat, first) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert alerts_for(chat, first)
            write(tmp_path / "watchlists" / "broken.yaml", "name: [unclosed\n")
            time.sleep(3)  # what a reload would take, had it been on
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=40) == 0
    text = (tmp_path / "daemon.log").read_text()
    assert "daemon_started" in text and "config_watch_started" not in text and "config_reload" not in text
    assert ops.posts == []
