"""One alert per story across worker processes.

Each Pipeline groups articles with an in-memory StoryIndex; in one process that index has seen
every article, in N workers each has seen only its own. So before a worker decides an article's
story it catches up: it reads the articles the others stored since its last look (their story ids
and features, by article id) into its index. Catching up and deciding must not interleave with
another worker's decide-and-store, or two reports of one story processed at the same moment would
both start it: the step runs under a PostgreSQL transaction-level advisory lock, released by the
commit or rollback of its own connection (a killed worker's lock goes with its connection).

    catch up (no lock) ─▶ lock ─▶ catch up (the last few) ─▶ group ─▶ store article + matches + outbox ─▶ unlock

Holding the lock across the store's commit is what makes article ids a log: every id is assigned
and committed while the lock is held, so "ids above the last one I read" misses nothing.
The lock is held for milliseconds (grouping plus one transaction); extraction, matching and the
story features stay outside it, in parallel across workers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import StoreError
from monitor.pipeline import Pipeline
from monitor.store import Store
from monitor.store.timeutil import utcnow
from monitor.stories import ArticleFeatures, StoryIndex, article_key
from monitor.types import Article

log = logging.getLogger("monitor.distributed")

STORY_LOCK = 0x6D6F6E6974_02
"""pg_advisory_xact_lock key of the decide-and-store step ('monit' + 2)."""
LOCK_TIMEOUT = "30s"
"""A worker waiting longer than this for the lock gives up on the article (stored on a later poll)."""


class SharedStories:
    """Keeps one worker's StoryIndex in step with the others' and serialises the story decision.

    Create it BEFORE the pipeline restores its index from the store: it notes the last article id
    (under the lock, so no article is between its INSERT and its COMMIT), and everything after
    that id is read on the first catch-up; the overlap with the restore is skipped by key.
    """

    def __init__(self, store: Store, *, mark: bool = True) -> None:
        """`mark=False` (a pipeline that has restored its index already) reads the whole window on
        the first catch-up instead."""
        self.store = store
        self.index: StoryIndex | None = None
        self.last_id = 0
        self.caught_up = 0
        """Articles of other workers put into the index so far."""
        self.held_seconds = 0.0
        """Time the lock was held by this process (for benchmarks and the README's limits)."""
        self.decisions = 0
        self._local = asyncio.Lock()
        if not mark:
            return
        conn = self._acquire()
        try:
            self.last_id = store.last_article_id()
        finally:
            _finish(conn, commit=False)

    def attach(self, pipeline: Pipeline) -> None:
        """Make `pipeline` decide stories through this object."""
        self.index = pipeline.stories
        pipeline.story_guard = self.guard

    def catch_up(self, connection: Connection | None = None) -> int:
        """Put the articles stored after the last one read into the index; how many there were."""
        index = self.index
        if index is None:
            return 0
        added = 0
        since = utcnow() - index.window
        more = True
        while more:
            members, self.last_id, more = self.store.story_members_after(self.last_id, since=since,
                                                                         connection=connection)
            for member in members:
                key = article_key(Article(url=member.url, title="", text=""))
                if key in index:
                    continue  # this worker's own article, or one restored at start
                try:
                    features = ArticleFeatures.from_json(json.loads(member.features))
                except ValueError:
                    continue  # features of an older version: that article's story stays as stored
                index.restore(key, member.story_id, features, at=member.at)
                added += 1
        self.caught_up += added
        return added

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Catch up, take the lock, catch up with the last few, and hold it until the block ends.

        In-process, an asyncio lock keeps a second article of this worker waiting without blocking
        the event loop. The database lock is waited for on the event loop itself, as every store
        call is: the other holders are other processes, which never wait for this loop, and once
        granted the lock is used at once (waiting in a thread, the lock sat idle until the busy
        loop came back to this coroutine).
        """
        async with self._local:
            self.catch_up()
            conn = self._acquire()
            started = time.perf_counter()
            try:
                self.catch_up(conn)
                yield
            except BaseException:
                _finish(conn, commit=False)
                raise
            else:
                _finish(conn, commit=True)
            finally:
                self.held_seconds += time.perf_counter() - started
                self.decisions += 1

    def _acquire(self) -> Connection:
        """A connection in a transaction that holds the story lock."""
        try:
            conn = self.store.engine.connect()
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {exc.__class__.__name__}: {_first_line(exc)}") from exc
        try:
            conn.begin()
            # One round trip: the wait's limit for this transaction, then the lock.
            conn.execute(text("SELECT set_config('lock_timeout', :timeout, true), pg_advisory_xact_lock(:key)"),
                         {"timeout": LOCK_TIMEOUT, "key": STORY_LOCK})
        except SQLAlchemyError as exc:
            conn.close()
            raise StoreError(f"cannot take the story lock: {exc.__class__.__name__}: {_first_line(exc)}") from exc
        return conn


def _finish(conn: Connection, *, commit: bool) -> None:
    """End the lock's transaction (which releases the lock) and give the connection back."""
    try:
        if commit:
            conn.commit()
        else:
            conn.rollback()
    except SQLAlchemyError as exc:  # the lock went with the connection: nothing is held any more
        log.warning("story_lock_release_failed", extra={"error": _first_line(exc)})
    finally:
        conn.close()


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or ["?"])[0][:300]
