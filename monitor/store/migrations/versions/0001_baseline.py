"""Baseline: the schema of news-monitor's first release, as its SQLModel.metadata.create_all made it.

Written out as explicit operations, not from the models, so that later changes to
monitor/store/tables.py never change what this revision creates. A database made by that release
(tables but no alembic_version) is at this revision: monitor.store.migrate stamps it.

Revision ID: 0001_baseline
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_baseline"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLModel maps `datetime` fields to an aware DateTime: TIMESTAMP WITH TIME ZONE on PostgreSQL,
# DATETIME on SQLite; `str` to VARCHAR (with the length of max_length when given).
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("next_check_at", Timestamp, nullable=True),
        sa.Column("lease_until", Timestamp, nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("etag", sa.String(), nullable=True),
        sa.Column("last_modified", sa.String(), nullable=True),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", Timestamp, nullable=True),
        sa.Column("last_success_at", Timestamp, nullable=True),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", Timestamp, nullable=True),
        sa.Column("entries_seen", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    op.create_index("ix_feeds_next_check_at", "feeds", ["next_check_at"])

    op.create_table(
        "mutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watchlist", sa.String(), nullable=False),
        sa.Column("since", Timestamp, nullable=False),
        sa.Column("until", Timestamp, nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mutes_until", "mutes", ["until"])
    op.create_index("ix_mutes_watchlist", "mutes", ["watchlist"])

    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("link", sa.String(length=4096), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("author", sa.String(), nullable=True),
        sa.Column("published", Timestamp, nullable=True),
        sa.Column("lang", sa.String(), nullable=True),
        sa.Column("outlet", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("fetched_at", Timestamp, nullable=False),
        sa.Column("story_id", sa.String(length=64), nullable=True),
        sa.Column("features", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"]),
    )
    op.create_index("ix_articles_fetched_at", "articles", ["fetched_at"])
    op.create_index("ix_articles_feed_id", "articles", ["feed_id"])
    op.create_index("ix_articles_story_id", "articles", ["story_id"])
    op.create_index("ix_articles_published", "articles", ["published"])

    op.create_table(
        "feed_alerts",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("failing_since", Timestamp, nullable=False),
        sa.Column("alerted_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("feed_id"),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"]),
    )

    op.create_table(
        "entry_keys",
        sa.Column("key", sa.String(length=4096), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"]),
    )
    op.create_index("ix_entry_keys_article_id", "entry_keys", ["article_id"])

    op.create_table(
        "matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("watchlist", sa.String(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("alerted", sa.Boolean(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "watchlist", name="uq_match_article_watchlist"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"]),
        sa.ForeignKeyConstraint(["duplicate_of"], ["matches.id"]),
    )
    op.create_index("ix_matches_article_id", "matches", ["article_id"])
    op.create_index("ix_matches_created_at", "matches", ["created_at"])
    op.create_index("ix_matches_watchlist", "matches", ["watchlist"])

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Timestamp, nullable=False),
        sa.Column("lease_until", Timestamp, nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", Timestamp, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("match_id", "channel", name="uq_delivery_match_channel"),
        sa.ForeignKeyConstraint(["match_id"], ["matches.id"]),
    )
    op.create_index("ix_deliveries_match_id", "deliveries", ["match_id"])
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])

    op.create_table(
        "delivery_holds",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("held_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("delivery_id"),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"]),
    )


def downgrade() -> None:
    for table in ("delivery_holds", "deliveries", "matches", "entry_keys", "feed_alerts", "articles", "mutes",
                  "feeds"):
        op.drop_table(table)
