"""Storage with SQLModel: feeds (with their schedule), articles, matches and the delivery outbox.

Tables stay inside this package; callers get values (monitor.store.values, monitor.types).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor.store.articles import ArticleStore, SavedArticle, entry_keys
from monitor.store.deliveries import DeliveryStore
from monitor.store.engine import make_engine
from monitor.store.feed_alerts import FeedAlertStore
from monitor.store.feeds import FeedStore
from monitor.store.migrate import ensure_schema
from monitor.store.mutes import Mute, MuteStore
from monitor.store.tables import DeliveryRow, FeedRow
from monitor.store.values import DeliveryInfo, FeedState, PendingDelivery, StoredMatch, StoryInfo, StoryMember

__all__ = ["DeliveryInfo", "FeedState", "Mute", "PendingDelivery", "SavedArticle", "Store", "StoredMatch", "StoryInfo",
           "StoryMember", "entry_keys", "open_store"]


class Store(FeedStore, ArticleStore, DeliveryStore, MuteStore, FeedAlertStore):
    """The repository: one object, split by table like lemon24/reader's storage mixins."""

    def release_stale_leases(self, *, host: str, alive: Callable[[int], bool]) -> int:
        """Free the feeds and deliveries claimed by processes of this host that are gone.

        A daemon killed with SIGKILL leaves its leases behind; waiting them out would delay its
        feeds and alerts by the lease (minutes). Leases of live processes and of other hosts stay.
        """
        freed = 0
        with self.session() as s:
            for table in (FeedRow, DeliveryRow):
                owners = s.exec(select(table.lease_owner).where(col(table.lease_owner).is_not(None))
                                .where(col(table.lease_until).is_not(None)).distinct()).all()
                for owner in owners:
                    name, _, pid = (owner or "").rpartition(":")
                    if name == host and pid.isdigit() and not alive(int(pid)):
                        result = s.execute(update(table).where(col(table.lease_owner) == owner)
                                           .values(lease_until=None, lease_owner=None))
                        freed += int(result.rowcount)  # type: ignore[attr-defined]
        return freed

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, create: bool = True) -> Store:
    """The store on `url`, its schema checked: an empty database is created at head when `create`.

    Raises SchemaOutdated when the schema is behind this news-monitor (the user runs `monitor db
    upgrade`, after a backup) and SchemaTooNew when a newer news-monitor migrated it.
    """
    engine: Engine = make_engine(url)
    try:
        ensure_schema(engine, create=create)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)
