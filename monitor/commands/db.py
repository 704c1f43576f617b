"""`monitor db upgrade` and `monitor db current`: the database schema, kept by Alembic migrations."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from monitor.commands.common import chosen_config, config_option, db_upgrade_command, guard, out

if TYPE_CHECKING:
    from monitor.config import Settings
    from monitor.store.migrate import SchemaStatus, Upgrade


@click.group("db")
@config_option
def db_group() -> None:
    """The database schema: create or upgrade it (after every upgrade of news-monitor), or show it."""


def _settings(ctx: click.Context) -> Settings:
    from monitor.config import load_settings

    return load_settings(chosen_config(ctx))


def _where(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


def upgrade_database(settings: Settings) -> list[str]:
    """Bring every schema news-monitor keeps in `settings.database_url` up to date; returns what to print.

    The store's tables come first (Alembic, monitor.store.migrate). Schemas of other parts that live
    in the same database (the task queue of `workers: {mode: distributed}`) are applied after them,
    here, so that `monitor db upgrade` stays the one command to run after an upgrade.
    """
    from monitor.store.engine import make_engine
    from monitor.store.migrate import upgrade_schema

    engine = make_engine(settings.database_url)
    try:
        result = upgrade_schema(engine)
        lines = [describe_upgrade(result)]
        if settings.workers.mode == "distributed":
            from monitor.distributed.schema import apply_queue_schema

            created = apply_queue_schema(engine)
            lines.append("job queue (Procrastinate): " + ("created its tables" if created else "already there: nothing to do"))
    finally:
        engine.dispose()
    return lines


def describe_upgrade(result: Upgrade) -> str:
    applied = ", ".join(result.applied)
    if not result.applied and not result.stamped:
        return f"already at {result.after}: nothing to do"
    if result.before is None:
        return f"created the schema at {result.after} (applied {applied})"
    before = f"{result.before} (made before migrations)" if result.stamped else result.before
    if not result.applied:
        return f"marked the database made before migrations as being at {result.after}"
    return f"upgraded from {before} to {result.after}: applied {applied}"


@db_group.command("upgrade")
@config_option
@click.pass_context
@guard
def upgrade_command(ctx: click.Context) -> None:
    """Create the schema, or upgrade it to the one this news-monitor needs; a no-op when it is current.

    Run it after every upgrade of news-monitor, with the daemon and workers stopped and a backup
    made: `monitor run` refuses to start on an outdated schema. Reads `database:` from monitor.yaml.
    """
    settings = _settings(ctx)
    out.print(f"database: {_where(settings)}", markup=False)
    for line in upgrade_database(settings):
        out.print(line, markup=False)


def describe_status(status: SchemaStatus, upgrade: str) -> tuple[bool, list[str]]:
    """Whether the database is up to date, and the lines `monitor db current` prints."""
    if status.found is None:
        revision = "none (empty database)"
    elif status.legacy:
        revision = f"{status.found} (made before migrations: no alembic_version table)"
    else:
        revision = status.found
    match status.state:
        case "current":
            ok, verdict = True, "up to date"
        case "empty":
            ok, verdict = False, f"empty: run `{upgrade}` to create the schema (or start `monitor run`)"
        case "outdated":
            ok, verdict = False, f"outdated: run `{upgrade}` (back up the database first)"
        case _:
            ok, verdict = False, "ahead: this database was migrated by a newer news-monitor; install that version"
    return ok, [f"revision: {revision}", f"head:     {status.head}", f"status:   {verdict}"]


@db_group.command("current")
@config_option
@click.pass_context
@guard
def current_command(ctx: click.Context) -> None:
    """Print the database's schema revision, the one this news-monitor needs, and whether they agree.

    Exits 1 when the database is not up to date (empty, outdated, or migrated by a newer version).
    """
    from monitor.store.engine import make_engine
    from monitor.store.migrate import schema_status

    settings = _settings(ctx)
    engine = make_engine(settings.database_url)
    try:
        status = schema_status(engine)
    finally:
        engine.dispose()
    ok, lines = describe_status(status, db_upgrade_command(ctx))
    out.print(f"database: {_where(settings)}", markup=False)
    for line in lines:
        out.print(line, markup=False)
    if not ok:
        sys.exit(1)


COMMANDS = [db_group]
