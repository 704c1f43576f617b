"""One cycle over four local feeds of 35 articles each: total time and where it goes.

    python bench/cycle.py [--feeds 4] [--articles 35] [--workers N] [--profile]

A real HTTP server on 127.0.0.1 serves the feeds and real article pages from
../shared/data/extraction (or $MONITOR_SHARED_DATA); the shipped watchlists match; alerts go to a
console channel writing to /dev/null. Prints wall time, CPU time, and the per-stage split the
pipeline records (stages overlap: fetching and extraction run concurrently), and with --profile the
top functions of a cProfile of the main process.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from support import SHARED_DATA, Route, WebServer, rss  # noqa: E402

from monitor.app import load_all, open_pipeline  # noqa: E402


def pages() -> list[bytes]:
    out = []
    for sub in ("scrapinghub", "readability"):
        folder = SHARED_DATA / "extraction" / sub
        for line in (folder / "expected.jsonl").open():
            out.append((folder / json.loads(line)["html_file"]).read_bytes())
    return out


def build_site(web: WebServer, n_feeds: int, n_articles: int, *, etags: bool = False) -> list[str]:
    """Feeds of real article pages; with `etags`, each feed has one, so a second poll is a 304."""
    bodies = pages()
    now = datetime.now(UTC)
    urls = []
    k = 0
    for f in range(n_feeds):
        items = []
        for a in range(n_articles):
            path = f"/news/{f}/{a}.html"
            web.routes[path] = Route(bodies[k % len(bodies)])
            items.append({"id": f"{f}-{a}", "title": f"Story {f}-{a}", "path": path,
                          "published": now - timedelta(minutes=a), "summary": "A summary of the story."})
            k += 1
        web.routes[f"/feeds/{f}.xml"] = Route(rss(f"Feed {f}", web.base, items), "application/rss+xml",
                                              etag=f'"feed-{f}"' if etags else None)
        urls.append(f"{web.base}/feeds/{f}.xml")
    return urls


def bench_config(tmp: Path, feeds: list[str]) -> Path:
    """monitor.yaml for a benchmark: a fresh SQLite file, the shipped watchlists, alerts to the console."""
    cfg = tmp / "monitor.yaml"
    cfg.write_text("\n".join([
        f"database: sqlite:///{tmp / 'monitor.db'}", f"watchlists: {REPO / 'watchlists'}",
        "fetch:", "  allow_private_networks: true", "  concurrency: 16", "  per_host: 16",
        "feeds:", *[f"  - url: {u}" for u in feeds], "channels:", "  screen:", "    type: console", ""]))
    return cfg


async def one_cycle(config: Path, workers: int | None) -> dict[str, float]:
    loaded = load_all(config)
    with open(os.devnull, "w") as sink:
        async with open_pipeline(loaded, console=sink, extract_workers=workers) as pipeline:
            if workers != 0:  # start the pool's workers before the clock, as a running daemon has them
                await pipeline.extractor.extract(b"<html><body><p>warm up</p></body></html>", url="http://x/")
            pipeline.timings.stages.clear()
            pipeline.extractor.cpu_seconds = pipeline.extractor.features_cpu_seconds = 0.0
            t0, c0 = time.perf_counter(), time.process_time()
            report = await pipeline.run_cycle()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            articles = sum(r.new_articles for r in report.feeds)
            stages = dict(pipeline.timings.stages)
            extract_cpu = pipeline.extractor.cpu_seconds
            features_cpu = pipeline.extractor.features_cpu_seconds
    return {"wall": wall, "cpu_main": cpu, "articles": articles, "extract (cpu, workers)": extract_cpu,
            "story features (cpu, workers)": features_cpu, **stages}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=4)
    ap.add_argument("--articles", type=int, default=35)
    ap.add_argument("--workers", type=int, default=None, help="extraction processes (default: one per core)")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    if not (SHARED_DATA / "extraction").is_dir():
        sys.exit(f"no shared data at {SHARED_DATA}")
    web = WebServer()
    try:
        tmp = Path(tempfile.mkdtemp(prefix="bench-cycle-"))
        cfg = bench_config(tmp, build_site(web, args.feeds, args.articles))
        os.chdir(REPO)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        result = asyncio.run(one_cycle(cfg, args.workers))
        if profiler:
            profiler.disable()
    finally:
        web.close()
    print(f"one cycle: {args.feeds} feeds x {args.articles} articles = {int(result['articles'])} new articles")
    print(f"  wall {result['wall']:.2f} s   cpu main process {result['cpu_main']:.2f} s   "
          f"cpu extraction {result['extract (cpu, workers)']:.2f} s")
    print("  stage seconds (fetch: wall summed over concurrent requests; the others: CPU):")
    for stage in ("fetch", "fetch_pages", "parse", "extract (cpu, workers)", "story features (cpu, workers)",
                  "group", "match", "store", "deliver"):
        if stage in result:
            print(f"    {stage:<24} {result[stage]:8.3f}")
    if profiler:
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(25)
        print(buf.getvalue())


if __name__ == "__main__":
    main()
