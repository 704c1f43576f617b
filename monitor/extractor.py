"""Runs extraction, which is CPU-bound, in a pool of processes that uses every core.

Workers come from a forkserver that has already imported trafilatura, so a new worker costs a
fork, not a second of imports; and nothing of the daemon's threads or sockets is inherited.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from monitor.extract import extract_page
from monitor.types import ExtractedPage


class Extractor:
    """extract_page() off the event loop: in processes (workers > 0) or one thread (workers == 0)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self._executor: Executor | None = None

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.workers > 0:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["monitor.extract"])
                self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                                     initializer=_quiet_libraries)
            else:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
        return self._executor

    async def extract(self, content: bytes, *, url: str, feed_summary: str = "",
                      feed_title: str = "", encoding: str | None = None) -> ExtractedPage:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._pool(), _extract, content, url, feed_summary, feed_title, encoding)
        except BrokenProcessPool:
            # A worker died (out of memory on a monstrous page, a C-level crash): start a new pool
            # and give this page one more chance, so one bad page cannot stop extraction for good.
            self.close()
            return await loop.run_in_executor(self._pool(), _extract, content, url, feed_summary, feed_title, encoding)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _quiet_libraries() -> None:
    # Workers do not inherit the daemon's logging set-up; trafilatura's per-page warnings stay out.
    for chatty in ("trafilatura", "htmldate", "courlan", "readability", "justext"):
        logging.getLogger(chatty).setLevel(logging.ERROR)


def _extract(content: bytes, url: str, feed_summary: str, feed_title: str, encoding: str | None) -> ExtractedPage:
    return extract_page(content, url=url, feed_summary=feed_summary, feed_title=feed_title, encoding=encoding)
