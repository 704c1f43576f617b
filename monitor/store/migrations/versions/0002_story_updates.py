"""Story updates: an outbox row is an alert or an update threaded under an earlier alert.

deliveries gains `kind` ('alert' | 'update'; every existing row is an alert), `update_of` (the first
alert's delivery an update is threaded under) and `receipt` (what the receiver named a sent
message: an email's Message-ID, a Slack message's channel and ts). story_updates counts the updates
each story earned per watchlist, so the limit per story holds across restarts and processes.

Revision ID: 0002_story_updates
Revises: 0001_baseline
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_story_updates"
down_revision: str | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A server default so the rows already there become alerts, which they are.
    op.add_column("deliveries", sa.Column("kind", sa.String(), nullable=False, server_default="alert"))
    # Inline REFERENCES: SQLite can add a column with a foreign key, not a constraint afterwards.
    op.add_column("deliveries", sa.Column("update_of", sa.Integer(), sa.ForeignKey("deliveries.id"), nullable=True),
                  inline_references=True)
    op.add_column("deliveries", sa.Column("receipt", sa.Text(), nullable=True))

    op.create_table(
        "story_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_match_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("due_at", Timestamp, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("first_match_id", "number", name="uq_story_update_number"),
        sa.ForeignKeyConstraint(["first_match_id"], ["matches.id"]),
        sa.ForeignKeyConstraint(["match_id"], ["matches.id"]),
    )
    op.create_index("ix_story_updates_first_match_id", "story_updates", ["first_match_id"])


def downgrade() -> None:
    op.drop_index("ix_story_updates_first_match_id", table_name="story_updates")
    op.drop_table("story_updates")
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        for column in ("receipt", "update_of", "kind"):
            op.drop_column("deliveries", column)
        return
    # SQLite cannot drop a column that is in a foreign key: batch mode copies the table without it and
    # drops the old one. delivery_holds refers to that one, and with foreign keys on (a pragma no
    # transaction can change) the drop is refused while holds exist: they wait aside meanwhile.
    holds = [dict(row._mapping) for row in bind.execute(sa.text("SELECT delivery_id, reason, held_at FROM delivery_holds"))]
    op.execute("DELETE FROM delivery_holds")
    with op.batch_alter_table("deliveries") as batch:
        for column in ("receipt", "update_of", "kind"):
            batch.drop_column(column)
    if holds:
        bind.execute(sa.text("INSERT INTO delivery_holds (delivery_id, reason, held_at) "
                             "VALUES (:delivery_id, :reason, :held_at)"), holds)
