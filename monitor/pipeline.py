"""One cycle: the one place where the stages meet.

    due feeds ─fetch─▶ FetchedFeed | NotModified ─parse─▶ FeedEntry[] ─(new? ask the store)─▶
    FeedEntry ─fetch page, extract─▶ Article ─match─▶ Match[] ─store (+ outbox rows, one transaction)─▶
    outbox ─deliver─▶ sent | retry later | dead

Failures are isolated per feed, per article and per channel: each is logged with its URL or name,
stored on the feed's state, and never stops the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor import metrics
from monitor.config import Settings
from monitor.errors import FetchError, MonitorError
from monitor.extract.entry import entry_article, entry_link
from monitor.extractor import Extractor, Prepared
from monitor.fetch import Fetcher
from monitor.matching import Matcher, Watchlist
from monitor.outbox import DeliveryReport, Outbox
from monitor.parse import parse_feed
from monitor.schedule import WEEK, adaptive_interval, next_check_after_error, next_check_after_success
from monitor.store import Store, entry_keys
from monitor.store.feeds import PollOutcome
from monitor.store.timeutil import utcnow
from monitor.store.values import FeedState
from monitor.stories import ArticleFeatures, StoryIndex, article_key
from monitor.types import Article, FeedEntry, FetchedFeed, Match

log = logging.getLogger("monitor.pipeline")


@dataclass(frozen=True, slots=True)
class FeedResult:
    """What one poll of one feed did."""

    url: str
    new_articles: int = 0
    matches: int = 0
    alerts: int = 0
    not_modified: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CycleReport:
    feeds: tuple[FeedResult, ...]
    delivery: DeliveryReport
    seconds: float

    @property
    def errors(self) -> int:
        return sum(1 for f in self.feeds if f.error)


@dataclass
class Timings:
    """Seconds spent per stage in a cycle, for profiles and benchmarks.

    fetch/fetch_pages are wall time summed over concurrent requests (they overlap); parse, group,
    match and store are CPU-bound work on the event loop; extraction's CPU is counted by the
    Extractor, in the processes that did it.
    """

    stages: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds


@dataclass
class Pipeline:
    """Everything one cycle needs, passed in explicitly: no globals."""

    settings: Settings
    store: Store
    fetcher: Fetcher
    extractor: Extractor
    matcher: Matcher
    watchlists: Sequence[Watchlist]
    outbox: Outbox
    stories: StoryIndex = field(default_factory=StoryIndex)
    owner: str = "local"
    timings: Timings = field(default_factory=Timings)
    story_guard: Callable[[], AbstractAsyncContextManager[object]] = field(default=nullcontext, repr=False)
    """Held around deciding an article's story and storing it. Local mode: nothing. Distributed
    workers (monitor.distributed.stories) catch up with the other workers' articles and hold a
    PostgreSQL advisory lock, so two reports of one story in two workers still alert once."""
    _paces: dict[int, int] = field(default_factory=dict, init=False, repr=False)
    _not_modified: list[PollOutcome] | None = field(default=None, init=False, repr=False)
    _page_slots: asyncio.Semaphore | None = field(default=None, init=False, repr=False)

    def restore_stories(self, now: datetime | None = None) -> int:
        """Rebuild the story index from the stored articles of the open window, after a restart."""
        now = now or utcnow()
        restored = 0
        for member in self.store.story_members(since=now - self.stories.window):
            try:
                features = ArticleFeatures.from_json(json.loads(member.features))
            except ValueError:
                continue  # features of an older version: the article's story stays as stored
            self.stories.restore(article_key(Article(url=member.url, title="", text="")), member.story_id,
                                 features, at=member.at)
            restored += 1
        return restored

    def routes(self) -> dict[str, list[str]]:
        """Which channels each watchlist notifies: its `notify:` list, or every channel."""
        channels = list(self.settings.active_channels)
        return {w.name: list(w.notify) if w.notify is not None else channels for w in self.watchlists}

    async def run_cycle(self, now: datetime | None = None) -> CycleReport:
        """Poll every due feed, then deliver every due alert."""
        started = time.perf_counter()
        results = await self.poll_due(now)
        t0 = time.perf_counter()
        delivery = await self.outbox.deliver_due()
        self.timings.add("deliver", time.perf_counter() - t0)
        report = CycleReport(tuple(results), delivery, time.perf_counter() - started)
        log.info("cycle_done", extra={
            "feeds": len(results), "feed_errors": report.errors,
            "new_articles": sum(r.new_articles for r in results), "matches": sum(r.matches for r in results),
            "sent": delivery.sent, "retrying": delivery.retrying, "dead": delivery.dead,
            "seconds": round(report.seconds, 3)})
        return report

    async def poll_due(self, now: datetime | None = None) -> list[FeedResult]:
        """Claim the feeds that are due and poll them concurrently."""
        feeds = self.store.claim_due_feeds(now=now or utcnow(), owner=self.owner, lease=self._lease())
        unpinned = [feed.id for feed in feeds if not feed.pinned]
        if unpinned:
            # Every feed's pace in one query, for the feeds that answer 304 (nothing of theirs changes
            # before their interval is set): one query per feed was a third of a cycle of 304s.
            self._paces.update(self.store.entries_per_feed(utcnow() - WEEK, unpinned))
        deferred: list[PollOutcome] = []
        self._not_modified = deferred  # a 304 changes nothing but the schedule: stored together below
        try:
            return list(await asyncio.gather(*(self.poll_feed(feed) for feed in feeds)))
        finally:
            self._not_modified = None
            for feed_id in unpinned:
                self._paces.pop(feed_id, None)
            self._record_not_modified(deferred)

    def _record_not_modified(self, outcomes: list[PollOutcome]) -> None:
        """The schedules of the feeds that answered 304, in one transaction. Should it fail, their
        leases lapse and they are polled again then: a 304 costs nothing to repeat."""
        try:
            self.store.record_polls(outcomes)
        except MonitorError as exc:
            log.error("feed_state_not_saved", extra={"feeds": len(outcomes), "error": str(exc)})

    def _lease(self) -> timedelta:
        # Long enough for the slowest poll: the feed, then its pages one host-gap after another.
        return timedelta(seconds=max(300.0, self.settings.fetch.timeout * 10))

    async def poll_feed(self, feed: FeedState) -> FeedResult:
        """Fetch, parse, store and match one feed; any failure is recorded on the feed, not raised."""
        now = utcnow()
        try:
            return await self._poll(feed, now)
        except MonitorError as exc:
            return self._failed(feed, now, exc)
        except Exception as exc:  # a bug must not stop the daemon: log it with its traceback, keep going
            log.exception("feed_internal_error", extra={"feed_url": feed.url})
            return self._failed(feed, now, exc)

    def _failed(self, feed: FeedState, now: datetime, exc: Exception) -> FeedResult:
        reason = str(exc) if isinstance(exc, MonitorError) else f"internal error: {exc.__class__.__name__}: {exc}"
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        next_check = next_check_after_error(feed, self.settings, now=now, retry_after=retry_after)
        metrics.POLLS.labels(outcome="error").inc()
        state = self.store.record_poll(feed.id, now=now, next_check=next_check, error=reason)
        log.warning("feed_error", extra={"feed_url": feed.url, "error": reason,
                                         "errors_in_a_row": state.error_count, "next_check": next_check.isoformat()})
        return FeedResult(feed.url, error=reason)

    async def _poll(self, feed: FeedState, now: datetime) -> FeedResult:
        t0 = time.perf_counter()
        result = await self.fetcher.fetch_feed(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        self.timings.add("fetch", time.perf_counter() - t0)
        if not isinstance(result, FetchedFeed):
            interval = self._interval(feed, now, paced=True)
            next_check = next_check_after_success(feed, self.settings, now=now, floor=result.max_age,
                                                  interval=interval)
            outcome = PollOutcome(feed.id, now, next_check, interval=interval, etag=result.etag,
                                  last_modified=result.last_modified, modified=False)
            if self._not_modified is not None:
                self._not_modified.append(outcome)
            else:
                self.store.record_polls([outcome])
            metrics.POLLS.labels(outcome="not_modified").inc()
            log.info("feed_not_modified", extra={"feed_url": feed.url})
            return FeedResult(feed.url, not_modified=True)
        t0 = time.perf_counter()
        parsed = parse_feed(result.content, url=result.final_url, content_type=result.content_type)
        self.timings.add("parse", time.perf_counter() - t0)
        if parsed.problem:
            log.info("feed_not_well_formed", extra={"feed_url": feed.url, "problem": parsed.problem})
        new = self._unseen(feed, parsed.entries)
        first_poll = feed.last_success_at is None
        outlet = feed.name or parsed.title or feed.title
        outcomes = await asyncio.gather(*(self._article(feed, entry, outlet, first_poll, now) for entry in new))
        floors = [f for f in (result.max_age, parsed.ttl) if f is not None]
        interval = self._interval(feed, now)
        next_check = next_check_after_success(feed, self.settings, now=now, floor=max(floors) if floors else None,
                                              interval=interval)
        self.store.record_poll(feed.id, now=now, next_check=next_check, etag=result.etag, interval=interval,
                               last_modified=result.last_modified, title=parsed.title, new_entries=len(new))
        stored = [o for o in outcomes if o is not None]
        matches = sum(len(m) for m, _ in stored)
        alerts = sum(1 for _m, alerted in stored if alerted)
        metrics.POLLS.labels(outcome="ok").inc()
        log.info("feed_polled", extra={"feed_url": feed.url, "entries": len(parsed.entries), "new": len(new),
                                       "matches": matches, "alerts": alerts})
        return FeedResult(feed.url, new_articles=len(stored), matches=matches, alerts=alerts)

    def _interval(self, feed: FeedState, now: datetime, *, paced: bool = False) -> timedelta | None:
        """The adapted interval of an unpinned feed (None keeps a pinned feed's); `paced` takes the
        pace poll_due read for this feed, when there is one."""
        if feed.pinned:
            return None
        entries = self._paces.pop(feed.id, None) if paced else None
        if entries is None:
            entries = self.store.entries_since(feed.id, now - WEEK)
        return adaptive_interval(entries, self.settings)

    def _unseen(self, feed: FeedState, entries: Sequence[FeedEntry]) -> list[FeedEntry]:
        """Entries the store does not know under any of their keys (first of duplicates in the feed)."""
        keyed = [(entry, entry_keys(feed.id, entry_link(entry), entry.guid)) for entry in entries]
        known = self.store.seen_keys(k for _, keys in keyed for k in keys)
        new, taken = [], set(known)
        for entry, keys in keyed:
            if keys and not taken.intersection(keys):
                new.append(entry)
                taken.update(keys)
        return new

    async def _article(self, feed: FeedState, entry: FeedEntry, outlet: str | None, first_poll: bool,
                       now: datetime) -> tuple[list[Match], bool] | None:
        """Fetch, extract, match and store one entry; a failure here costs this article only."""
        link = entry.link or entry.guid or ""
        try:
            prepared = await self._prepared(entry, outlet)
            article, features = prepared.article, prepared.features
            t0 = time.perf_counter()
            matcher, routes = self.matcher, self.routes()  # read together: a live reload never splits them
            matches = matcher.match(article, prepared.doc)
            self.timings.add("match", time.perf_counter() - t0)
            alert = self._alertable(entry, article, first_poll, now)
            async with self.story_guard():
                t0 = time.perf_counter()
                story = self.stories.add(article, at=now, features=features)
                self.timings.add("group", time.perf_counter() - t0)
                t0 = time.perf_counter()
                saved = self.store.save_article(
                    article, link=link, keys=entry_keys(feed.id, entry_link(entry), entry.guid),
                    feed_id=feed.id, now=now, matches=matches, alert=alert, channels=routes,
                    story_id=story.story_id, features=json.dumps(features.to_json(), separators=(",", ":")),
                    updates=self.settings.update_policy)
                self.timings.add("store", time.perf_counter() - t0)
        except MonitorError as exc:
            log.warning("article_error", extra={"feed_url": feed.url, "article_url": link, "error": str(exc)})
            return None
        except Exception:  # a bug on one article must not cost the feed's other articles
            log.exception("article_internal_error", extra={"feed_url": feed.url, "article_url": link})
            return None
        if saved is None:
            return None
        metrics.ARTICLES.labels(extraction=article.status.value).inc()
        for match in matches:
            metrics.MATCHES.labels(watchlist=match.watchlist).inc()
            log.info("article_matched", extra={
                "article_url": link, "watchlist": match.watchlist, "score": round(match.score, 3),
                "alert": match.watchlist in saved.alerted, "story": story.story_id,
                **({"joined_story": story.reason} if match.watchlist in saved.joined_story and alert else {}),
                **({"story_update": True} if match.watchlist in saved.updated else {})})
        return matches, bool(saved.alerted)

    def _alertable(self, entry: FeedEntry, article: Article, first_poll: bool, now: datetime) -> bool:
        """Old news never alerts: adding a feed must not flood anyone.

        On a feed's first poll only entries published within `backfill` alert; later, an entry
        without a date is news, one dated before the window is a feed re-listing old items.
        """
        published = entry.published or article.published
        if published is None:
            return not first_poll
        return published >= now - self.settings.backfill

    async def _prepared(self, entry: FeedEntry, outlet: str | None) -> Prepared:
        """The entry's article, from its page when there is one to fetch, prepared for matching and grouping."""
        if entry.link and self.settings.fetch.fetch_articles:
            if self._page_slots is None:
                # A page fetched and not yet extracted waits in memory: in a burst the fetches outrun
                # the workers, and 300 new articles held 208 pages (47 MiB) at once. This many at most:
                # fetching keeps its full concurrency, and each worker has two pages queued.
                self._page_slots = asyncio.Semaphore(
                    self.settings.fetch.concurrency + 2 * max(1, self.extractor.workers))
            async with self._page_slots:
                extracted = await self._fetch_and_extract(entry, entry.link, outlet)
            if extracted is not None:
                return extracted
        return await self.extractor.prepare(entry_article(entry, outlet, None))

    async def _fetch_and_extract(self, entry: FeedEntry, link: str, outlet: str | None) -> Prepared | None:
        """None when the page cannot be had: the article is then what the feed says of it."""
        t0 = time.perf_counter()
        try:
            page = await self.fetcher.fetch_page(link)
        except FetchError as exc:
            log.warning("article_fetch_error", extra={"article_url": link, "error": exc.reason})
            return None
        finally:
            self.timings.add("fetch_pages", time.perf_counter() - t0)
        try:
            return await self.extractor.article(page.content, url=page.final_url, encoding=page.encoding,
                                                entry=entry, outlet=outlet)
        except MonitorError as exc:
            log.warning("article_extract_error", extra={"article_url": link, "error": str(exc)})
            return None
