"""Runs extraction, which is CPU-bound, in a pool of processes that uses every core.

Workers come from a forkserver that has already imported and warmed up trafilatura and the story
features (monitor.extract.preload), so a new worker costs a fork, not a second of imports and
first-page costs, and the pages holding those libraries are shared by the workers; nothing of the
daemon's threads or sockets is inherited. Nor is its main module: see `_WorkerPopen`.

A worker does all an article's CPU-bound work in one call (`Extractor.article`): it extracts the
page, builds the article and weighs its story features, so the article crosses between processes
once. Story features once ran in a process of their own, to hold wordfreq's word lists (30 to 90
MiB a language) once; monitor.wordfreqs keeps them in a tenth of that, and the second round trip
per article cost more than the copies.
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
from dataclasses import dataclass
from multiprocessing import popen_forkserver
from multiprocessing.context import ForkServerContext, ForkServerProcess
from multiprocessing.process import BaseProcess
from typing import TypeVar

from monitor import metrics
from monitor.extract import extract_page
from monitor.extract.entry import entry_article
from monitor.matching.text import Analysed, analyse
from monitor.stories import ArticleFeatures
from monitor.stories import extract as story_features
from monitor.types import Article, ExtractedPage, FeedEntry

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Prepared:
    """An article with all its CPU-bound preparation done, in a worker: what the event loop then
    only matches (on `doc`), groups (by `features`) and stores."""

    article: Article
    features: ArticleFeatures
    doc: Analysed
    """`analyse(article)`: the story features read it for their anchors, and the matcher reads it."""

TRIM_EVERY = 64
"""Pages between two calls of malloc_trim in a worker (see `_quiet_libraries`)."""
TRIM_PAGE_BYTES = 1 << 20
"""A page this large is followed by malloc_trim at once: its trees can leave tens of MiB behind."""


class Extractor:
    """Extraction and story features off the event loop: in processes (workers > 0) or one thread (0)."""

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
                self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context(),
                                                     initializer=_quiet_libraries)
            else:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
        return self._executor

    async def _run(self, fn: Callable[..., _T], *args: object) -> _T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool(), fn, *args)
        except BrokenProcessPool:
            # A worker died (out of memory on a monstrous page, a C-level crash): start a new pool
            # and give this task one more chance, so one bad page cannot stop extraction for good.
            self._drop_pool()
            return await loop.run_in_executor(self._pool(), fn, *args)

    async def extract(self, content: bytes, *, url: str, feed_summary: str = "",
                      feed_title: str = "", encoding: str | None = None, need_date: bool = True) -> ExtractedPage:
        """extract_page() in a worker; `need_date` False when the feed dates the article (see there)."""
        page, cpu = await self._run(_extract, content, url, feed_summary, feed_title, encoding, need_date)
        self._count(cpu, 0.0)
        return page

    async def article(self, content: bytes, *, url: str, encoding: str | None, entry: FeedEntry,
                      outlet: str | None) -> Prepared:
        """The entry's article from its page (`url` is where the page was found, `encoding` the charset
        its server declared), prepared, in one call to a worker."""
        prepared, cpu, features_cpu = await self._run(_article, content, url, encoding, entry, outlet)
        self._count(cpu, features_cpu)
        return prepared

    async def prepare(self, article: Article) -> Prepared:
        """An article that has no page to extract, prepared in a worker all the same."""
        prepared, cpu = await self._run(_prepare, article)
        self.features_cpu_seconds += cpu
        return prepared

    async def story_features(self, article: Article) -> ArticleFeatures:
        """The story features (monitor.stories) of an article."""
        return (await self.prepare(article)).features

    def _count(self, cpu: float, features_cpu: float) -> None:
        self.cpu_seconds += cpu
        self.features_cpu_seconds += features_cpu
        self.pages += 1
        metrics.EXTRACT_SECONDS.observe(cpu)

    def close(self) -> None:
        self._drop_pool()

    def _drop_pool(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


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
_pages_since_trim = 0


def _quiet_libraries() -> None:
    """The initializer of every worker process."""
    global _trim
    # Workers do not inherit the daemon's logging set-up; trafilatura's per-page warnings stay out.
    for chatty in ("trafilatura", "htmldate", "courlan", "readability", "justext"):
        logging.getLogger(chatty).setLevel(logging.ERROR)
    # A page's lxml trees and strings are freed when it is done, but glibc keeps the freed heap for
    # later: a large page leaves 10 to 20 MiB behind per worker. malloc_trim hands it back (glibc
    # only; elsewhere nothing is done), but what it returns faults back in on the next pages: a trim
    # after every page cost 7 % of extraction's CPU, and one every 16 pages still 70,000 page faults
    # in a burst of 300 (0.2 to 0.3 s), for a peak only 2 to 13 MiB lower than never trimming.
    with suppress(OSError):
        _trim = getattr(ctypes.CDLL(None), "malloc_trim", None)


def _after_page(size: int) -> None:
    global _pages_since_trim
    _pages_since_trim += 1
    if _trim is not None and (_pages_since_trim >= TRIM_EVERY or size >= TRIM_PAGE_BYTES):
        _trim(0)
        _pages_since_trim = 0


def _extract(content: bytes, url: str, feed_summary: str, feed_title: str,
             encoding: str | None, need_date: bool) -> tuple[ExtractedPage, float]:
    started = time.thread_time()
    page = extract_page(content, url=url, feed_summary=feed_summary, feed_title=feed_title, encoding=encoding,
                        need_date=need_date)
    _after_page(len(content))
    return page, time.thread_time() - started


def _article(content: bytes, url: str, encoding: str | None, entry: FeedEntry,
             outlet: str | None) -> tuple[Prepared, float, float]:
    started = time.thread_time()
    page = extract_page(content, url=url, feed_summary=entry.summary, feed_title=entry.title, encoding=encoding,
                        need_date=entry.published is None,  # the feed's date wins
                        need_author=entry.author is None)  # and so does its author
    article = entry_article(entry, outlet, page)
    extracted = time.thread_time()
    prepared = _prepared(article)
    _after_page(len(content))
    return prepared, extracted - started, time.thread_time() - extracted


def _prepare(article: Article) -> tuple[Prepared, float]:
    started = time.thread_time()
    prepared = _prepared(article)
    return prepared, time.thread_time() - started


def _prepared(article: Article) -> Prepared:
    doc = analyse(article)
    return Prepared(article, story_features(article, doc), doc)
