"""Grouping articles into stories: one alert per story, not one per outlet.

    Article ─extract─▶ ArticleFeatures (JSON-storable) ─StoryIndex.add─▶ StoryAssignment

`group_articles` groups a batch; `StoryIndex` is the incremental form the daemon keeps in memory and
rebuilds from the store with `restore`.
"""

from monitor.stories.features import FEATURES_VERSION, ArticleFeatures, extract
from monitor.stories.fingerprint import Sketch, containment, jaccard, sketch
from monitor.stories.group import (
    DEFAULT_WINDOW,
    StoryAssignment,
    StoryIndex,
    article_key,
    assign_articles,
    group_articles,
    pair_similarity,
)

__all__ = [
    "DEFAULT_WINDOW",
    "FEATURES_VERSION",
    "ArticleFeatures",
    "Sketch",
    "StoryAssignment",
    "StoryIndex",
    "article_key",
    "assign_articles",
    "containment",
    "extract",
    "group_articles",
    "jaccard",
    "pair_similarity",
    "sketch",
]
