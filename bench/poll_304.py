"""The CPU cost of a cycle in which every feed answers 304 Not Modified, next to raw httpx.

    python bench/poll_304.py [--feeds 1000] [--concurrency 16] [--repeat 3] [--log] [--profile]

A small asyncio server in a separate process (so its CPU is not counted) serves `--feeds` feeds on
127.0.0.1; each answers 200 with an ETag the first time and 304 to a conditional GET carrying it.
A first `Pipeline.poll_due()` stores the ETags; then each measured `poll_due()` claims every feed
again (as due a day later) and gets 304 from all of them. The peer is a bare httpx.AsyncClient making
the same conditional requests with the same concurrency. CPU is process_time() of this process, all
threads included. `--log` logs at INFO to /dev/null as the daemon does (one line per feed);
`--profile` prints the top functions of a cProfile of one measured pipeline cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import multiprocessing
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.app import load_all, open_pipeline  # noqa: E402
from monitor.store.timeutil import utcnow  # noqa: E402

ETAG = b'"v1"'


class _Feeds(asyncio.Protocol):
    """HTTP/1.1 keep-alive, just enough for GET: 304 when If-None-Match carries the ETag."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            path = head.split(b" ", 2)[1].decode()
            if b"if-none-match: " + ETAG in head.lower():
                self.transport.write(b"HTTP/1.1 304 Not Modified\r\nETag: " + ETAG + b"\r\n\r\n")
                continue
            body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {path}</title>'
                    f"<link>http://127.0.0.1{path}</link><description>quiet</description></channel></rss>"
                    ).encode()
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: " + ETAG
                                 + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def _serve(conn: Connection) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Feeds, "127.0.0.1", 0, backlog=1024)
        conn.send(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


def start_server() -> tuple[multiprocessing.Process, int]:
    """The feed server in its own process, so the CPU measured here is the client's alone."""
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(target=_serve, args=(theirs,), daemon=True)
    process.start()
    port = int(ours.recv())
    return process, port


async def measure(config: Path, urls: list[str], concurrency: int, repeat: int,
                  profile: bool) -> tuple[list[float], list[float], str]:
    """Rounds of the pipeline and of raw httpx, interleaved, so both see the same machine load."""
    loaded = load_all(config)
    ours: list[float] = []
    peer: list[float] = []
    report = ""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    with open(os.devnull, "w") as sink:
        async with open_pipeline(loaded, console=sink, extract_workers=0) as pipeline, \
                httpx.AsyncClient(limits=limits, trust_env=False) as client:

            async def get(url: str) -> int:
                async with gate:
                    response = await client.get(url, headers={"If-None-Match": ETAG.decode()})
                    return response.status_code

            first = await pipeline.poll_due()  # stores the ETags, opens the connections
            assert all(not r.error for r in first), [r.error for r in first if r.error][:3]
            statuses = await asyncio.gather(*(get(u) for u in urls))  # opens the peer's connections
            assert all(s == 304 for s in statuses), statuses[:3]
            for round_ in range(1, repeat + 1):
                later = utcnow() + timedelta(days=2 * round_)  # every feed is due again
                profiler = cProfile.Profile() if profile and round_ == repeat else None
                c0 = time.process_time()
                if profiler:
                    profiler.enable()
                results = await pipeline.poll_due(later)
                if profiler:
                    profiler.disable()
                    buf = io.StringIO()
                    pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(30)
                    report = buf.getvalue()
                else:
                    ours.append(time.process_time() - c0)
                assert len(results) == len(first) and all(r.not_modified for r in results), \
                    [r.error for r in results if not r.not_modified][:3]
                c0 = time.process_time()
                statuses = await asyncio.gather(*(get(u) for u in urls))
                peer.append(time.process_time() - c0)
                assert all(s == 304 for s in statuses)
    return ours, peer, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=16, help="requests in flight (fetch.concurrency and per_host)")
    ap.add_argument("--repeat", type=int, default=5,
                    help="measured rounds of each, interleaved; the minimum (least disturbed) is compared")
    ap.add_argument("--log", action="store_true", help="log at INFO to /dev/null, as the daemon does")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    server, port = start_server()
    try:
        tmp = Path(tempfile.mkdtemp(prefix="bench-poll304-"))
        urls = [f"http://127.0.0.1:{port}/feeds/{i}.xml" for i in range(args.feeds)]
        cfg = tmp / "monitor.yaml"
        (tmp / "watchlists").mkdir()
        cfg.write_text("\n".join([
            f"database: sqlite:///{tmp / 'monitor.db'}", f"watchlists: {tmp / 'watchlists'}",
            "fetch:", "  allow_private_networks: true", f"  concurrency: {args.concurrency}",
            f"  per_host: {args.concurrency}", "feeds:", *[f"  - url: {u}" for u in urls],
            "channels:", "  screen:", "    type: console", ""]))
        if args.log:
            handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 (lives as long as the run)
            from monitor.logs import KeyValueFormatter
            handler.setFormatter(KeyValueFormatter())
            logging.basicConfig(level=logging.INFO, handlers=[handler])
        ours, peer, profile = asyncio.run(measure(cfg, urls, args.concurrency, args.repeat + args.profile,
                                                  args.profile))
    finally:
        server.terminate()
        server.join()
    ours_cpu, peer_cpu = min(ours), min(peer)
    print(f"poll cycle, {args.feeds} feeds all answering 304, concurrency {args.concurrency}"
          f"{', logging at INFO' if args.log else ''} (best of {args.repeat}; median {statistics.median(ours):.3f} s vs {statistics.median(peer):.3f} s):")
    print(f"  pipeline poll_due  cpu {ours_cpu:.3f} s   ({1000 * ours_cpu / args.feeds:.2f} ms per feed; "
          f"rounds {', '.join(f'{c:.3f}' for c in ours)})")
    print(f"  raw httpx          cpu {peer_cpu:.3f} s   ({1000 * peer_cpu / args.feeds:.2f} ms per feed; "
          f"rounds {', '.join(f'{c:.3f}' for c in peer)})")
    print(f"  ratio {ours_cpu / peer_cpu:.2f}x (target <= 1.5x)")
    if profile:
        print(profile)


if __name__ == "__main__":
    main()
