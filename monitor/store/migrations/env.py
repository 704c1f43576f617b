"""Alembic's environment for news-monitor: run by monitor.store.migrate, never by an alembic.ini.

monitor.store.migrate opens the connection, takes the lock (BEGIN IMMEDIATE on SQLite, an advisory
lock on PostgreSQL) and passes the connection in `config.attributes["connection"]`, already inside
its transaction: the migrations run in that transaction, which the caller commits. So two processes
starting at once on an empty database never both create the tables.

`target_metadata` is the current models, for autogenerate: a new revision starts from
`alembic.command.revision(alembic_config(connection), message, autogenerate=True, rev_id="000N_what")`
and is then edited by hand into explicit operations (tests/test_migrations.py checks that head and
the models agree on SQLite and PostgreSQL).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from monitor.store import tables  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("news-monitor's migrations run through `monitor db upgrade` "
                       "(monitor.store.migrate), which passes the database connection")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # SQLite cannot ALTER most things: autogenerate then writes batch operations (copy and move).
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
