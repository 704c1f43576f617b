"""Storage with SQLModel: feeds (with their schedule), articles, matches and the delivery outbox.

Tables stay inside this package; callers get values (monitor.store.values, monitor.types).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from monitor.store.articles import ArticleStore, SavedArticle, entry_keys
from monitor.store.deliveries import DeliveryStore
from monitor.store.engine import create_schema, make_engine
from monitor.store.feed_alerts import FeedAlertStore
from monitor.store.feeds import FeedStore
from monitor.store.mutes import Mute, MuteStore
from monitor.store.values import DeliveryInfo, FeedState, PendingDelivery, StoredMatch, StoryInfo, StoryMember

__all__ = ["DeliveryInfo", "FeedState", "Mute", "PendingDelivery", "SavedArticle", "Store", "StoredMatch", "StoryInfo",
           "StoryMember", "entry_keys", "open_store"]


class Store(FeedStore, ArticleStore, DeliveryStore, MuteStore, FeedAlertStore):
    """The repository: one object, split by table like lemon24/reader's storage mixins."""

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, create: bool = True) -> Store:
    engine: Engine = make_engine(url)
    if create:
        create_schema(engine)
    return Store(engine)
