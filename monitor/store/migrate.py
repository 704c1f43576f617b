"""Schema migrations with Alembic, run from Python: nothing to set up in the user's folder.

The revisions live in monitor/store/migrations/versions, shipped with the package. Every store
opener calls `ensure_schema`:

    empty database                      → created at head (SQLite stays zero-setup)
    at head                             → go on
    tables but no alembic_version       → made by news-monitor before migrations: it is at 0001_baseline
    behind head                         → SchemaOutdated: run `monitor db upgrade`
    at a revision we do not know        → SchemaTooNew: a newer news-monitor migrated it

Creating and upgrading run in one transaction under a lock, so a scheduler and its workers starting
at once on an empty database do not race: `pg_advisory_xact_lock` on PostgreSQL (transactional DDL,
the lock goes with the commit), `BEGIN IMMEDIATE` on SQLite (the database's write lock). The second
process reads the revision again once it holds the lock and finds nothing left to do.
"""

# ruff: noqa: E402  (alembic is imported after its logger is quietened, see below)
from __future__ import annotations

import logging

# Alembic logs at INFO, unstructured, as soon as it is imported ("setup plugin ...") and at each
# step of a migration; we log our own events (schema_upgraded), so it only speaks up for warnings.
logging.getLogger("alembic").setLevel(logging.WARNING)

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import SchemaOutdated, SchemaTooNew, StoreError

log = logging.getLogger("monitor.store")

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001_baseline"
BASELINE_TABLES = frozenset({"feeds", "articles", "entry_keys", "matches", "deliveries", "mutes", "delivery_holds",
                             "feed_alerts"})
"""The tables of the first release, made by SQLModel.metadata.create_all before there were migrations."""

_LOCK_KEY = 0x6E6D5F736368656D
"""pg_advisory_xact_lock key ("nm_schem"); advisory locks are per database, so one key is enough."""

State = Literal["empty", "current", "outdated", "ahead"]

_ONE_AT_A_TIME = threading.Lock()
"""Alembic's `op` and `context` are module-level proxies: two threads migrating at once would mix them up."""


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands: `current` is its alembic_version (None when it has none)."""

    current: str | None
    head: str
    known: frozenset[str]
    legacy: bool = False
    """Tables made before migrations, without alembic_version: at the baseline."""

    @property
    def found(self) -> str | None:
        return BASELINE if self.legacy else self.current

    @property
    def state(self) -> State:
        found = self.found
        if found is None:
            return "empty"
        if found == self.head:
            return "current"
        return "outdated" if found in self.known else "ahead"


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade_schema` did: `applied` lists the revisions it ran, oldest first."""

    before: str | None
    after: str
    applied: tuple[str, ...]
    stamped: bool
    """The database predates migrations and was marked as being at the baseline first."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an alembic.ini: the scripts in the package, our connection.

    env.py runs the migrations on `connection` (in its transaction; the caller commits).
    """
    config = Config(attributes={"connection": connection} if connection is not None else None)
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def _script(location: Path) -> ScriptDirectory:
    """The revision scripts, read once per process: they are package data and do not change."""
    config = Config()
    config.set_main_option("script_location", str(location))
    return ScriptDirectory.from_config(config)


def script_directory() -> ScriptDirectory:
    return _script(MIGRATIONS)


def head_revision() -> str:
    head = script_directory().get_current_head()
    if head is None:  # only when versions/ is empty: a broken install
        raise StoreError(f"no migrations found in {MIGRATIONS}: the news-monitor installation is incomplete")
    return head


def known_revisions() -> frozenset[str]:
    return frozenset(s.revision for s in script_directory().walk_revisions())


def pending_revisions(found: str | None, head: str) -> tuple[str, ...]:
    """The revisions an upgrade from `found` to `head` runs, oldest first."""
    scripts = script_directory().iterate_revisions(head, found or "base")
    return tuple(reversed([s.revision for s in scripts if s is not None]))


def _status(conn: Connection) -> SchemaStatus:
    current = MigrationContext.configure(conn).get_current_revision()
    legacy = False
    if current is None:
        present = BASELINE_TABLES & set(inspect(conn).get_table_names())
        if present and present != BASELINE_TABLES:
            missing = ", ".join(sorted(BASELINE_TABLES - present))
            raise StoreError(f"the database has some of news-monitor's tables ({', '.join(sorted(present))}) but "
                             f"not {missing}, and no alembic_version: it was not made by a released news-monitor; "
                             "point `database:` at an empty database")
        legacy = bool(present)
    return SchemaStatus(current=current, head=head_revision(), known=known_revisions(), legacy=legacy)


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def _translated(engine: Engine, doing: str) -> Iterator[None]:
    """SQLAlchemy's and Alembic's errors as ours, naming the database (without its password)."""
    try:
        yield
    except SQLAlchemyError as exc:
        first = (str(exc).strip().splitlines() or ["?"])[0][:300]
        raise StoreError(f"{doing} {_where(engine)} failed: {exc.__class__.__name__}: {first}") from exc
    except CommandError as exc:
        raise StoreError(f"{doing} {_where(engine)} failed: {exc}") from exc


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the schema lock until it commits."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # pysqlite would start a deferred transaction, and only at the first write: too late.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        yield conn
        conn.commit()


def schema_status(engine: Engine) -> SchemaStatus:
    """Read the database's revision (without a lock: a reader never needs one)."""
    with _translated(engine, "reading the schema revision of"), engine.connect() as conn:
        return _status(conn)


def upgrade_schema(engine: Engine, *, create_only: bool = False) -> Upgrade:
    """Create the schema or bring it to head; a no-op when it is there. What `monitor db upgrade` does.

    With `create_only`, an existing schema behind head raises SchemaOutdated instead: the store
    openers create a new database, but upgrading one is the user's decision (and their backup).
    """
    with _ONE_AT_A_TIME, _translated(engine, "upgrading the schema of"), _locked(engine) as conn:
        status = _status(conn)
        if status.state == "ahead":
            raise SchemaTooNew(status.found or "", status.head)
        if create_only and status.state == "outdated":
            raise SchemaOutdated(status.found, status.head)
        config = alembic_config(conn)
        if status.legacy:
            command.stamp(config, BASELINE)
        applied = pending_revisions(status.found, status.head)
        if applied:
            command.upgrade(config, status.head)
    result = Upgrade(before=status.found, after=status.head, applied=applied, stamped=status.legacy)
    if applied or result.stamped:
        log.info("schema_upgraded", extra={"database": _where(engine), "before": result.before or "empty",
                                           "after": result.after, "applied": ",".join(applied)})
    return result


def ensure_schema(engine: Engine, *, create: bool = True) -> SchemaStatus:
    """The check every store opener makes; creates an empty database when `create`.

    Raises SchemaOutdated (behind head, or empty and not `create`) or SchemaTooNew.
    """
    status = schema_status(engine)
    match status.state:
        case "current" if not status.legacy:
            return status
        case "ahead":
            raise SchemaTooNew(status.found or "", status.head)
        case "empty" if not create:
            raise SchemaOutdated(None, status.head)
    # Empty, or made before migrations while head is still the baseline: create or stamp, quietly.
    # Behind head: SchemaOutdated, but as read again under the lock. The read above is several
    # statements, each its own snapshot: while another process commits a new database, the first
    # finds no alembic_version and the next finds every table, which reads as a database made
    # before migrations, at the baseline (seen once in CI). The lock waits out that commit.
    upgrade_schema(engine, create_only=True)
    return schema_status(engine)
