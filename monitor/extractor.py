"""Runs extraction, which is CPU-bound, in a pool of processes that uses every core.

Workers come from a forkserver that has already imported trafilatura, so a new worker costs a
fork, not a second of imports; and nothing of the daemon's threads or sockets is inherited.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from monitor import metrics
from monitor.extract import extract_page
from monitor.stories import ArticleFeatures
from monitor.stories import extract as story_features
from monitor.types import Article, ExtractedPage


class Extractor:
    """extract_page() off the event loop: in processes (workers > 0) or one thread (workers == 0)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self._executor: Executor | None = None
        self.cpu_seconds = 0.0
        """CPU time spent extracting, in whichever process did it (for profiles and benchmarks)."""
        self.pages = 0
        self.features_cpu_seconds = 0.0

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.workers > 0:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["monitor.extract", "monitor.stories"])
                self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                                     initializer=_quiet_libraries)
            else:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
        return self._executor

    async def extract(self, content: bytes, *, url: str, feed_summary: str = "",
                      feed_title: str = "", encoding: str | None = None) -> ExtractedPage:
        loop = asyncio.get_running_loop()
        try:
            page, cpu = await loop.run_in_executor(
                self._pool(), _extract, content, url, feed_summary, feed_title, encoding)
        except BrokenProcessPool:
            # A worker died (out of memory on a monstrous page, a C-level crash): start a new pool
            # and give this page one more chance, so one bad page cannot stop extraction for good.
            self.close()
            page, cpu = await loop.run_in_executor(
                self._pool(), _extract, content, url, feed_summary, feed_title, encoding)
        self.cpu_seconds += cpu
        self.pages += 1
        metrics.EXTRACT_SECONDS.observe(cpu)
        return page

    async def story_features(self, article: Article) -> ArticleFeatures:
        """The article's story features (monitor.stories), computed off the event loop as well:
        weighing every word of an article is about as costly as extracting it."""
        loop = asyncio.get_running_loop()
        try:
            features, cpu = await loop.run_in_executor(self._pool(), _features, article)
        except BrokenProcessPool:
            self.close()
            features, cpu = await loop.run_in_executor(self._pool(), _features, article)
        self.features_cpu_seconds += cpu
        return features

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _quiet_libraries() -> None:
    # Workers do not inherit the daemon's logging set-up; trafilatura's per-page warnings stay out.
    for chatty in ("trafilatura", "htmldate", "courlan", "readability", "justext"):
        logging.getLogger(chatty).setLevel(logging.ERROR)


def _extract(content: bytes, url: str, feed_summary: str, feed_title: str,
             encoding: str | None) -> tuple[ExtractedPage, float]:
    started = time.thread_time()
    page = extract_page(content, url=url, feed_summary=feed_summary, feed_title=feed_title, encoding=encoding)
    return page, time.thread_time() - started


def _features(article: Article) -> tuple[ArticleFeatures, float]:
    started = time.thread_time()
    features = story_features(article)
    return features, time.thread_time() - started
