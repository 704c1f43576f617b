"""The job queue's tables in the monitor's database: find out whether they are there, create them.

Procrastinate ships its schema as one SQL file (`SchemaManager.get_schema`) and keeps no version
table, so "current" is judged by the objects this version of Procrastinate calls: the heartbeat
table (3.1), batch defer (3.2) and retrying failed jobs (3.4). `monitor db upgrade` creates the
schema in a database that has none; a database holding an older Procrastinate schema is reported,
with the folder of Procrastinate's own migrations to apply, never altered behind the user's back.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from procrastinate.schema import SchemaManager
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import StoreError

log = logging.getLogger("monitor.distributed")

TABLES = ("procrastinate_jobs", "procrastinate_workers", "procrastinate_events", "procrastinate_periodic_defers")
FUNCTIONS = ("procrastinate_defer_jobs_v1", "procrastinate_fetch_job_v2", "procrastinate_retry_job_v2",
             "procrastinate_finish_job_v1", "procrastinate_prune_stalled_workers_v1",
             "procrastinate_update_heartbeat_v1")
UPGRADE_LOCK = 0x6D6F6E6974_01
"""pg_advisory_xact_lock key that serialises two `monitor db upgrade` run at once ('monit' + 1)."""


class QueueSchema(enum.Enum):
    MISSING = "missing"
    OUTDATED = "outdated"
    CURRENT = "current"


def queue_schema_state(engine: Engine) -> QueueSchema:
    """Whether the database holds the job queue's schema, an older one, or none."""
    try:
        with engine.connect() as conn:
            return _state(conn)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the job queue's schema: {exc.__class__.__name__}: {_first_line(exc)}") from exc


def _state(conn: Any) -> QueueSchema:
    tables = {name for (name,) in conn.execute(
        text("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE n.nspname = current_schema() AND c.relname = ANY(:names)"), {"names": list(TABLES)})}
    if "procrastinate_jobs" not in tables:
        return QueueSchema.MISSING
    functions = {name for (name,) in conn.execute(
        text("SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
             "WHERE n.nspname = current_schema() AND p.proname = ANY(:names)"), {"names": list(FUNCTIONS)})}
    if set(TABLES) <= tables and set(FUNCTIONS) <= functions:
        return QueueSchema.CURRENT
    return QueueSchema.OUTDATED


def apply_queue_schema(engine: Engine) -> bool:
    """Create the job queue's schema unless it is there; True when it was created now.

    Idempotent and safe to run from two places at once (an advisory lock, then a second look).
    Raises StoreError for an older Procrastinate schema, naming the migrations to apply.
    """
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
            state = _state(conn)
            if state is QueueSchema.CURRENT:
                return False
            if state is QueueSchema.OUTDATED:
                raise StoreError(_outdated())
            # The schema is many statements; psycopg runs them in one call when no parameters are
            # given (its '%' signs are then left alone), on this connection, inside this
            # transaction: all or nothing.
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(SchemaManager.get_schema())
            finally:
                cursor.close()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot create the job queue's schema: {exc.__class__.__name__}: "
                         f"{_first_line(exc)}") from exc
    log.info("queue_schema_created")
    return True


def require_queue_schema(engine: Engine) -> None:
    """Refuse to schedule or work without the job queue's tables, saying which command makes them."""
    state = queue_schema_state(engine)
    if state is QueueSchema.MISSING:
        raise StoreError("workers: {mode: distributed} needs the job queue's tables (Procrastinate), and this "
                         "database has none: run `monitor db upgrade` first")
    if state is QueueSchema.OUTDATED:
        raise StoreError(_outdated())


def _outdated() -> str:
    return ("the database holds an older Procrastinate schema than the installed Procrastinate needs: apply "
            f"Procrastinate's migrations from {SchemaManager.get_migrations_path()} (newer than the version that "
            "created it), then run `monitor db upgrade`")


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or ["?"])[0][:300]
