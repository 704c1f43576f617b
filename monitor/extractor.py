"""Runs extraction, which is CPU-bound, in a pool of processes that uses every core.

Workers come from a forkserver that has already imported and warmed up trafilatura and the story
features (monitor.extract.preload), so a new worker costs a fork, not a second of imports and
first-page costs, and the pages holding those libraries are shared by the workers; nothing of the
daemon's threads or sockets is inherited. Nor is its main module: see `_WorkerPopen`. Story
features run in one more process of their own, which holds the word lists they weigh words by.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import sys
import time
import types
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from multiprocessing import popen_forkserver
from multiprocessing.context import ForkServerContext, ForkServerProcess
from multiprocessing.process import BaseProcess

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
        self._features_executor: Executor | None = None
        self.cpu_seconds = 0.0
        """CPU time spent extracting, in whichever process did it (for profiles and benchmarks)."""
        self.pages = 0
        self.features_cpu_seconds = 0.0

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.workers > 0:
                self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context(),
                                                     initializer=_quiet_libraries)
            else:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
        return self._executor

    def _features_pool(self) -> Executor:
        """Story features run in one process of their own. They weigh words by wordfreq's list for
        the article's language, 30 to 90 MiB each once loaded (and a tenth to half a second to
        load): one process holds each list once, where every extraction worker would load and keep
        its own copy of every language it met."""
        if self._features_executor is None:
            if self.workers > 0:
                self._features_executor = ProcessPoolExecutor(max_workers=1, mp_context=_context(),
                                                              initializer=_quiet_libraries)
            else:
                self._features_executor = self._pool()
        return self._features_executor

    async def extract(self, content: bytes, *, url: str, feed_summary: str = "",
                      feed_title: str = "", encoding: str | None = None, need_date: bool = True) -> ExtractedPage:
        """extract_page() in a worker; `need_date` False when the feed dates the article (see there)."""
        loop = asyncio.get_running_loop()
        try:
            page, cpu = await loop.run_in_executor(
                self._pool(), _extract, content, url, feed_summary, feed_title, encoding, need_date)
        except BrokenProcessPool:
            # A worker died (out of memory on a monstrous page, a C-level crash): start a new pool
            # and give this page one more chance, so one bad page cannot stop extraction for good.
            self._drop_pool()
            page, cpu = await loop.run_in_executor(
                self._pool(), _extract, content, url, feed_summary, feed_title, encoding, need_date)
        self.cpu_seconds += cpu
        self.pages += 1
        metrics.EXTRACT_SECONDS.observe(cpu)
        return page

    async def story_features(self, article: Article) -> ArticleFeatures:
        """The article's story features (monitor.stories), computed off the event loop as well:
        weighing every word of an article costs a quarter of extracting it."""
        loop = asyncio.get_running_loop()
        try:
            features, cpu = await loop.run_in_executor(self._features_pool(), _features, article)
        except BrokenProcessPool:
            self._drop_features_pool()
            features, cpu = await loop.run_in_executor(self._features_pool(), _features, article)
        self.features_cpu_seconds += cpu
        return features

    def close(self) -> None:
        self._drop_features_pool()
        self._drop_pool()

    def _drop_pool(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _drop_features_pool(self) -> None:
        # Only the pool that broke: the other one's queued work must go on.
        if self._features_executor is not None and self._features_executor is not self._executor:
            self._features_executor.shutdown(wait=True, cancel_futures=True)
        self._features_executor = None


_NO_MAIN = types.ModuleType("__main__")


class _WorkerPopen(popen_forkserver.Popen):
    """Starts a worker that does not run the daemon's main module.

    multiprocessing makes every child of a forkserver re-run the parent's `__main__` (as
    `__mp_main__`, so that functions defined there unpickle), and the installed `monitor` script's
    main module imports the whole daemon: SQLAlchemy, pydantic, apprise, httpx, the watchlist
    engine, 30 MiB and a second of imports in each worker, copied rather than shared since they
    happen after the fork. Workers only ever run functions of this module and monitor.extract, so
    the main module is hidden while the child's start-up data is written: with no `__file__` and
    no `__spec__`, multiprocessing leaves the child's `__main__` alone (spawn.get_preparation_data).
    """

    def _launch(self, process_obj: BaseProcess) -> None:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = _NO_MAIN
        try:
            super()._launch(process_obj)  # type: ignore[misc]  # not in typeshed's stub
        finally:
            sys.modules["__main__"] = main


class _WorkerProcess(ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: BaseProcess) -> popen_forkserver.Popen:
        return _WorkerPopen(process_obj)


class _WorkerContext(ForkServerContext):
    """The forkserver start method, with workers that leave the main module alone."""

    Process = _WorkerProcess


def _context() -> _WorkerContext:
    context = _WorkerContext()
    context.set_forkserver_preload(["monitor.extractor", "monitor.extract.preload"])
    return context


_trim: Callable[[int], int] | None = None


def _quiet_libraries() -> None:
    """The initializer of every worker process."""
    global _trim
    # Workers do not inherit the daemon's logging set-up; trafilatura's per-page warnings stay out.
    for chatty in ("trafilatura", "htmldate", "courlan", "readability", "justext"):
        logging.getLogger(chatty).setLevel(logging.ERROR)
    # A page's lxml trees and strings are freed when it is done, but glibc keeps the freed heap for
    # later: a large page leaves 10 to 20 MiB behind per worker. malloc_trim hands it back, for half
    # a millisecond a page (glibc only; elsewhere nothing is done).
    with suppress(OSError):
        _trim = getattr(ctypes.CDLL(None), "malloc_trim", None)


def _extract(content: bytes, url: str, feed_summary: str, feed_title: str,
             encoding: str | None, need_date: bool) -> tuple[ExtractedPage, float]:
    started = time.thread_time()
    page = extract_page(content, url=url, feed_summary=feed_summary, feed_title=feed_title, encoding=encoding,
                        need_date=need_date)
    if _trim is not None:
        _trim(0)
    return page, time.thread_time() - started


def _features(article: Article) -> tuple[ArticleFeatures, float]:
    started = time.thread_time()
    features = story_features(article)
    return features, time.thread_time() - started
