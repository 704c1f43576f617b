"""A burst of new articles through one full cycle, next to feedparser + trafilatura alone.

    python bench/burst.py [--feeds 4] [--articles 75] [--workers N]

A real HTTP server on 127.0.0.1 serves `--feeds` feeds of `--articles` new articles each, whose
pages come from ../shared/data/extraction (or $MONITOR_SHARED_DATA), reused under distinct URLs.
One `run_cycle()` fetches, parses, extracts (in the worker processes), computes story features,
groups, matches against the shipped watchlists, stores and delivers (console to /dev/null).

Reported: wall time; CPU of the main process plus the extraction workers (read from /proc before the
pool shuts down); peak memory: the sum of the PSS of the main process, the forkserver and the
workers, sampled every 0.2 s (PSS splits pages that forked processes share), and each one's VmHWM. The peer, in a fresh process of its own, parses the
same feed bytes with feedparser and extracts the same pages with trafilatura using the options
monitor.extract uses, one after the other: its CPU is the work a single process must do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

from cycle import bench_config, build_site  # noqa: E402
from support import SHARED_DATA, WebServer  # noqa: E402

from monitor.app import load_all, open_pipeline  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")

PEER = r"""
import pickle, resource, sys, time
import feedparser, trafilatura
from monitor.extract.page import TRAFILATURA_OPTIONS, _DATE_PARAMS
feeds, pages = pickle.load(open(sys.argv[1], "rb"))
t0, c0 = time.perf_counter(), time.process_time()
entries = sum(len(feedparser.parse(body).entries) for body in feeds)
texts = 0
for body, url in pages:
    doc = trafilatura.bare_extraction(body, url=url, with_metadata=True, date_extraction_params=_DATE_PARAMS,
                                      **TRAFILATURA_OPTIONS)
    texts += bool(doc is not None and doc.text)
cpu, wall = time.process_time() - c0, time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f'{{"cpu": {cpu}, "wall": {wall}, "peak": {peak}, "entries": {entries}, "texts": {texts}}}')
"""


def _cpu(pid: int) -> float:
    """utime + stime of a process, in seconds (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _peak(pid: int) -> int:
    """VmHWM, the peak resident set of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _pss(pid: int) -> int:
    """Proportional set size in bytes: pages shared by forked processes are split between them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:  # the process ended between listing and reading
        pass
    return 0


class _PssPeak(threading.Thread):
    """Samples the summed PSS of the main process, the forkserver and the workers every 0.2 s: the
    peak memory the whole monitor takes, without counting shared pages once per process."""

    def __init__(self, pipeline: object) -> None:
        super().__init__(daemon=True)
        self.pipeline = pipeline
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            server = _forkserver_pid()
            pids = [os.getpid(), *([server] if server else []), *list(_workers(self.pipeline))]
            self.peak = max(self.peak, sum(_pss(pid) for pid in pids))


def _workers(pipeline: object) -> dict[int, float]:
    executor = getattr(pipeline, "extractor")._executor  # noqa: B009 (a benchmark may look inside)
    processes = getattr(executor, "_processes", None) or {}
    return {pid: _cpu(pid) for pid in processes}


def _forkserver_pid() -> int | None:
    from multiprocessing import forkserver
    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    return int(pid) if pid else None


async def ours(config: Path, workers: int | None) -> dict[str, float]:
    loaded = load_all(config)
    with open(os.devnull, "w") as sink:
        async with open_pipeline(loaded, console=sink, extract_workers=workers) as pipeline:
            if workers != 0:  # start the pool before the clock, as a running daemon has it
                await pipeline.extractor.extract(b"<html><body><p>warm up</p></body></html>", url="http://x/")
            before = _workers(pipeline)
            sampler = _PssPeak(pipeline)
            sampler.start()
            t0, c0 = time.perf_counter(), time.process_time()
            report = await pipeline.run_cycle()
            wall, cpu_main = time.perf_counter() - t0, time.process_time() - c0
            after = _workers(pipeline)
            sampler.done.set()
            sampler.join()
            cpu_workers = sum(c - before.get(pid, 0.0) for pid, c in after.items())
            server = _forkserver_pid()
            peaks = {"main": _peak(os.getpid()), **({"forkserver": _peak(server)} if server else {}),
                     **{f"worker {pid}": _peak(pid) for pid in after}}
            peak = sum(peaks.values())
            return {"wall": wall, "cpu_main": cpu_main, "cpu_workers": cpu_workers, "peak": peak,
                    "articles": sum(r.new_articles for r in report.feeds),
                    "matches": sum(r.matches for r in report.feeds), "workers": len(after),
                    "pss_peak": sampler.peak,
                    **{f"peak_{k}": v for k, v in peaks.items()},
                    "extract_cpu": pipeline.extractor.cpu_seconds,
                    "features_cpu": pipeline.extractor.features_cpu_seconds,
                    **{f"stage_{k}": v for k, v in pipeline.timings.stages.items()}}


def peer(web: WebServer, tmp: Path) -> dict[str, float]:
    feeds = [r.body for path, r in web.routes.items() if path.startswith("/feeds/")]
    pages = [(r.body, f"{web.base}{path}") for path, r in web.routes.items() if path.startswith("/news/")]
    work = tmp / "peer.pickle"
    work.write_bytes(pickle.dumps((feeds, pages)))
    done = subprocess.run([sys.executable, "-c", PEER, str(work)], capture_output=True, text=True, check=True,
                          cwd=REPO)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=4)
    ap.add_argument("--articles", type=int, default=75)
    ap.add_argument("--workers", type=int, default=None, help="extraction processes (default: one per core)")
    args = ap.parse_args()
    if not (SHARED_DATA / "extraction").is_dir():
        sys.exit(f"no shared data at {SHARED_DATA}")
    web = WebServer()
    try:
        tmp = Path(tempfile.mkdtemp(prefix="bench-burst-"))
        cfg = bench_config(tmp, build_site(web, args.feeds, args.articles))
        os.chdir(REPO)
        result = asyncio.run(ours(cfg, args.workers))
        alone = peer(web, tmp)
    finally:
        web.close()
    cpu = result["cpu_main"] + result["cpu_workers"]
    mib = 1024 * 1024
    print(f"burst: {args.feeds} feeds x {args.articles} = {int(result['articles'])} new articles in one cycle "
          f"({int(result['matches'])} matches, {int(result['workers'])} extraction workers)")
    print(f"  ours  wall {result['wall']:.2f} s   cpu {cpu:.2f} s (main {result['cpu_main']:.2f} + workers "
          f"{result['cpu_workers']:.2f}; of which extract {result['extract_cpu']:.2f}, story features "
          f"{result['features_cpu']:.2f})   peak memory {result['pss_peak'] / mib:.0f} MiB (PSS of main + forkserver + workers, sampled; "
          f"summed VmHWM {result['peak'] / mib:.0f} MiB)")
    print(f"  peer  feedparser + trafilatura in one process: cpu {alone['cpu']:.2f} s   wall {alone['wall']:.2f} s   "
          f"peak memory {alone['peak'] / mib:.0f} MiB ({int(alone['entries'])} entries, {int(alone['texts'])} texts)")
    print(f"  cpu ratio {cpu / alone['cpu']:.2f}x (target <= 1.3x)   wall / peer cpu {result['wall'] / alone['cpu']:.2f} "
          f"(target <= 0.65)   peak {result['pss_peak'] / mib:.0f} MiB (target < 500)")
    print("  peak memory per process: " + ", ".join(
        f"{k[5:]} {v / mib:.0f} MiB" for k, v in result.items() if k.startswith("peak_")))
    stages = {k[6:]: v for k, v in result.items() if k.startswith("stage_")}
    print("  main-process stage seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))


if __name__ == "__main__":
    main()
