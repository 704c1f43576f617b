"""monitor.metrics: what one real cycle counts, the scrape-time gauges, and what never becomes a label.

The pipeline runs in-process against a local news site and four local webhook receivers that
accept, fail (500), refuse (400) and hold (a digest channel). Counters are process-wide, so every
check compares values before and after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from support import HookSink, Route, WebServer, page_html, rss

from monitor import metrics
from monitor.app import load_all, open_pipeline
from monitor.metrics import REGISTRY, DaemonCollector
from monitor.pipeline import Pipeline
from monitor.store import Store
from monitor.store.engine import make_engine

WORD = "wombatfair"
CHANNELS = ("ok", "flaky", "refused", "held")


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def site() -> Iterator[tuple[WebServer, dict[str, HookSink]]]:
    web = WebServer()
    hooks = {"ok": HookSink(), "flaky": HookSink([(500, {})] * 2), "refused": HookSink([(400, {})] * 2),
             "held": HookSink()}
    yield web, hooks
    web.close()
    for hook in hooks.values():
        hook.close()


def configure(tmp_path: Path, web: WebServer, hooks: dict[str, HookSink]) -> Path:
    now = datetime.now(UTC)
    entries = []
    for i, (title, text) in enumerate([
            (f"Harbour city opens the {WORD}", f"The {WORD} in Portsville opened on Monday with 40 stalls. " * 5),
            (f"Mountain village hosts a chess {WORD}", f"Eleven grandmasters came to Highpeak for the {WORD}. " * 5)]):
        web.routes[f"/a/{i}.html"] = Route(page_html(title, text))
        entries.append({"id": f"a{i}", "title": title, "path": f"/a/{i}.html", "published": now - timedelta(hours=1)})
    web.routes["/feed.xml"] = Route(rss("Wire", web.base, entries), "application/rss+xml", etag='"v1"')
    web.routes["/broken.xml"] = Route(b"down", "text/plain", status=500)
    (tmp_path / "watchlists").mkdir()
    (tmp_path / "watchlists" / "fairs.yaml").write_text(f"name: Fairs\nmatch: {{any: [{WORD}]}}\n")
    channels = [f"  {name}: {{type: webhook, url: '{hooks[name].url}', timeout: 5"
                + (", digest: 'daily at 08:00 UTC'" if name == "held" else "") + "}" for name in CHANNELS]
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("\n".join([
        f"database: sqlite:///{tmp_path / 'monitor.db'}", "watchlists: watchlists",
        "fetch: {allow_private_networks: true, timeout: 10}",
        f"feeds: [{{url: '{web.base}/feed.xml'}}, {{url: '{web.base}/broken.xml'}}]",
        "channels:", *channels]) + "\n")
    return cfg


def snapshot() -> dict[str, float]:
    out = {f"polls:{o}": value("monitor_polls_total", outcome=o) for o in metrics.POLL_OUTCOMES}
    out["articles"] = sum(value("monitor_articles_total", extraction=e) for e in ("full", "teaser", "summary", "failed"))
    out["matches"] = value("monitor_matches_total", watchlist="Fairs")
    for channel in CHANNELS:
        for status in metrics.DELIVERY_STATUSES:
            out[f"{channel}:{status}"] = value("monitor_deliveries_total", channel=channel, status=status)
        out[f"{channel}:seconds"] = value("monitor_delivery_seconds_count", channel=channel)
    out["fetch:feed"] = value("monitor_fetch_seconds_count", kind="feed")
    out["fetch:page"] = value("monitor_fetch_seconds_count", kind="page")
    out["extract"] = value("monitor_extract_seconds_count")
    return out


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def depth(pipeline: Pipeline) -> dict[str, float]:
    families = {f.name: f for f in DaemonCollector(lambda: pipeline).collect()}
    assert families["monitor_feeds"].samples[0].value == 2
    assert families["monitor_watchlists"].samples[0].value == 1
    return {s.labels["channel"]: s.value for s in families["monitor_delivery_queue_depth"].samples}


def test_a_cycle_counts_polls_articles_matches_deliveries_and_durations(
        tmp_path: Path, site: tuple[WebServer, dict[str, HookSink]]) -> None:
    web, hooks = site
    loaded = load_all(configure(tmp_path, web, hooks))

    async def go() -> None:
        async with open_pipeline(loaded, extract_workers=0) as pipeline:
            before = snapshot()
            await pipeline.run_cycle()
            first = moved(before, snapshot())
            assert {k: first.pop(k) for k in ("polls:ok", "polls:error", "articles", "matches")} == \
                {"polls:ok": 1, "polls:error": 1, "articles": 2, "matches": 2}
            assert {k: first.pop(k) for k in ("fetch:feed", "fetch:page", "extract")} == \
                {"fetch:feed": 2, "fetch:page": 2, "extract": 2}
            assert first == {"ok:sent": 2, "ok:seconds": 2, "flaky:retry": 2, "flaky:seconds": 2,
                             "refused:dead": 2, "refused:seconds": 2, "held:held": 2}
            assert len(hooks["ok"].posts) == 2 and hooks["held"].posts == []
            # flaky waits for its retry, held for its digest; sent and dead rows have left the queue
            assert depth(pipeline) == {"ok": 0, "flaky": 2, "refused": 0, "held": 2}

            before = snapshot()
            await pipeline.poll_due(datetime.now(UTC) + timedelta(days=2))  # every feed due again
            assert moved(before, snapshot()) == {"polls:not_modified": 1, "polls:error": 1, "fetch:feed": 2}

    asyncio.run(go())


def test_nothing_secret_or_unbounded_becomes_a_label(tmp_path: Path,
                                                    site: tuple[WebServer, dict[str, HookSink]]) -> None:
    web, hooks = site
    loaded = load_all(configure(tmp_path, web, hooks))

    async def go() -> bytes:
        async with open_pipeline(loaded, extract_workers=0) as pipeline:
            await pipeline.run_cycle()
            REGISTRY.register(collector := DaemonCollector(lambda: pipeline))
            try:
                return generate_latest(REGISTRY)
            finally:
                REGISTRY.unregister(collector)

    text = asyncio.run(go()).decode()
    assert 'monitor_delivery_queue_depth{channel="flaky"} 2.0' in text
    for hook in hooks.values():
        assert hook.url not in text and str(hook.port) not in text
    assert "127.0.0.1" not in text and "/feed.xml" not in text and "/a/0.html" not in text and "/services/" not in text
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    assert names and all(name.startswith("monitor_") for name in names), sorted(names)
    assert 'monitor_info{version="' in text


def test_queue_depth_is_left_out_when_the_database_fails(tmp_path: Path,
                                                         site: tuple[WebServer, dict[str, HookSink]]) -> None:
    """A store on a database without our tables (the wrong file, or one another tool emptied)."""
    web, hooks = site
    loaded = load_all(configure(tmp_path, web, hooks))

    async def go() -> None:
        async with open_pipeline(loaded, extract_workers=0) as pipeline:
            good = pipeline.store
            pipeline.store = Store(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
            try:
                names = [f.name for f in DaemonCollector(lambda: pipeline).collect()]
            finally:
                pipeline.store.close()
                pipeline.store = good
            assert names == ["monitor_feeds", "monitor_watchlists"]  # no made-up 0 for the queue

    asyncio.run(go())
