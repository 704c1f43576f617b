"""Migrations (Alembic) on SQLite and PostgreSQL: a database made by the first release, with a row in
every table, upgraded by the installed `monitor db upgrade`; the refusals; head against the models.

The first release's schema is frozen in tests/data/migrations/baseline_<dialect>.sql: the statements
its SQLModel.metadata.create_all executed, so these tests do not depend on git.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel
from test_e2e import run_monitor

from monitor.cli import main
from monitor.errors import SchemaOutdated, SchemaTooNew, StoreError
from monitor.store import migrate, open_store
from monitor.store.engine import make_engine
from monitor.store.migrate import BASELINE, BASELINE_TABLES, alembic_config, head_revision, upgrade_schema

DATA = Path(__file__).parent / "data" / "migrations"
HEAD = head_revision()
NOW = datetime.now(UTC).replace(microsecond=250000)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def later(**delta: float) -> datetime:
    return NOW + timedelta(**delta)


# A row in every table of the first release, with the columns it had then (insertion order matters:
# foreign keys). Text with accents and newlines, NULLs, booleans both ways, floats, timestamps.
BASELINE_ROWS: dict[str, list[dict[str, Any]]] = {
    "feeds": [
        {"id": 1, "url": "https://news.example/feed.xml", "name": "Example News", "title": "Example — Nachrichten",
         "active": True, "origin": "config", "interval_seconds": 900, "pinned": False, "next_check_at": later(minutes=15),
         "lease_until": None, "lease_owner": None, "etag": '"v1"', "last_modified": "Wed, 27 Nov 2026 10:00:00 GMT",
         "polls": 12, "last_polled_at": ago(minutes=5), "last_success_at": ago(minutes=5), "error_count": 0,
         "last_error": None, "last_error_at": None, "entries_seen": 40, "created_at": ago(days=10)},
        {"id": 2, "url": "https://broken.example/rss", "name": None, "title": None, "active": False, "origin": "cli",
         "interval_seconds": 3600, "pinned": True, "next_check_at": None, "lease_until": later(minutes=1),
         "lease_owner": "host-a:4242", "etag": None, "last_modified": None, "polls": 3, "last_polled_at": ago(hours=1),
         "last_success_at": None, "error_count": 3, "last_error": "HTTP 500\nInternal Server Error",
         "last_error_at": ago(hours=1), "entries_seen": 0, "created_at": ago(days=2)},
    ],
    "articles": [
        {"id": 1, "url": "https://news.example/a/1", "link": "https://news.example/a/1?utm_source=rss", "feed_id": 1,
         "title": "Orbán arrives in Moscow", "text": "Hungary's prime minister Viktor Orbán arrived…\nSecond paragraph.",
         "summary": "", "author": "A. Writer", "published": ago(hours=2), "lang": "en", "outlet": "Example News",
         "status": "full", "fetched_at": ago(minutes=90), "story_id": "https://news.example/a/1",
         "features": '{"entities": ["viktor orban", "moscow"]}'},
        {"id": 2, "url": "https://news.example/a/2", "link": "https://news.example/a/2", "feed_id": 1,
         "title": "Orbán meets Putin", "text": "Teaser only.", "summary": "Orbán and Putin met on Friday.",
         "author": None, "published": None, "lang": None, "outlet": None, "status": "teaser",
         "fetched_at": ago(minutes=80), "story_id": "https://news.example/a/1", "features": None},
    ],
    "entry_keys": [
        {"key": "guid:tag:news.example,2026:1", "article_id": 1},
        {"key": "https://news.example/a/1", "article_id": 1},
        {"key": "https://news.example/a/2", "article_id": 2},
    ],
    "matches": [
        {"id": 1, "article_id": 1, "watchlist": "EU leaders", "score": 3.25, "why": '["title: orbán", "text: moscow"]',
         "snippet": "…Viktor Orbán arrived…", "parts": '[{"rule": "leaders", "score": 3.25}]', "alerted": True,
         "duplicate_of": None, "created_at": ago(minutes=85)},
        {"id": 2, "article_id": 2, "watchlist": "EU leaders", "score": 1.5, "why": "[]", "snippet": "",
         "parts": "[]", "alerted": False, "duplicate_of": 1, "created_at": ago(minutes=75)},
    ],
    "deliveries": [
        {"id": 1, "match_id": 1, "channel": "mail", "status": "sent", "attempts": 1, "next_attempt_at": ago(minutes=85),
         "lease_until": None, "lease_owner": None, "last_error": None, "sent_at": ago(minutes=84),
         "created_at": ago(minutes=85)},
        {"id": 2, "match_id": 1, "channel": "chat", "status": "pending", "attempts": 2,
         "next_attempt_at": later(minutes=5), "lease_until": None, "lease_owner": None,
         "last_error": "HTTP 503: try later", "sent_at": None, "created_at": ago(minutes=85)},
    ],
    "delivery_holds": [{"delivery_id": 2, "reason": "quiet", "held_at": ago(minutes=84)}],
    "mutes": [{"id": 1, "watchlist": "EU leaders", "since": ago(days=1), "until": ago(hours=12), "settled": True}],
    "feed_alerts": [{"feed_id": 2, "failing_since": ago(hours=1), "alerted_at": None}],
}


def dialect(url: str) -> str:
    return make_url(url).get_backend_name()


def engine_for(url: str) -> Engine:
    return create_engine(url)


def build_baseline(url: str) -> None:
    """A database as the first release left it: its tables, no alembic_version."""
    ddl = (DATA / f"baseline_{dialect(url)}.sql").read_text()
    body = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    engine = engine_for(url)
    with engine.begin() as conn:
        for statement in body.split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
    engine.dispose()


def fill_baseline(url: str) -> None:
    """Insert BASELINE_ROWS through the reflected tables (so each dialect stores values its own way)."""
    engine = engine_for(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        for table, rows in BASELINE_ROWS.items():
            conn.execute(meta.tables[table].insert(), rows)
        if dialect(url) == "postgresql":  # as if the ids had come from the sequences
            for table, rows in BASELINE_ROWS.items():
                if "id" in rows[0]:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                      f"(SELECT max(id) FROM {table}))"))
    engine.dispose()


def _plain(value: Any) -> Any:
    """Timestamps as naive UTC: SQLite keeps them naive, PostgreSQL returns them in the session's zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def stored_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """The baseline columns of every baseline table, ordered by primary key."""
    engine = engine_for(url)
    meta = MetaData()
    meta.reflect(engine)
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name, rows in BASELINE_ROWS.items():
            table = meta.tables[name]
            columns = [table.c[c] for c in rows[0]]
            result = conn.execute(select(*columns).order_by(*table.primary_key.columns))
            found[name] = [{k: _plain(v) for k, v in row._mapping.items()} for row in result]
    engine.dispose()
    return found


def expected_rows() -> dict[str, list[dict[str, Any]]]:
    """BASELINE_ROWS as stored_rows reads them back (each table's rows are listed in key order)."""
    return {name: [{k: _plain(v) for k, v in row.items()} for row in rows] for name, rows in BASELINE_ROWS.items()}


def version(url: str) -> str | None:
    engine = engine_for(url)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    return current


def set_version(url: str, revision: str) -> None:
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :rev"), {"rev": revision})
    engine.dispose()


def reset(url: str) -> None:
    """Empty the database again (the database_url fixture does this before each test)."""
    if dialect(url) == "sqlite":
        path = Path(make_url(url).database or "")
        for extra in ("", "-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
        return
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def schema_snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The schema as the database itself describes it, alembic_version left out."""
    engine = engine_for(url)
    with engine.connect() as conn:
        if dialect(url) == "sqlite":
            queries = {"objects": "SELECT type, name, tbl_name, sql FROM sqlite_master "
                                  "WHERE tbl_name <> 'alembic_version' ORDER BY type, name"}
        else:
            queries = {
                "columns": "SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length, "
                           "is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' "
                           "AND table_name <> 'alembic_version' ORDER BY 1, 3",
                "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE connamespace = 'public'::regnamespace "
                               "AND conrelid::regclass::text <> 'alembic_version' ORDER BY 1, 2",
                "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                           "AND tablename <> 'alembic_version' ORDER BY 1, 2",
                "sequences": "SELECT sequencename, data_type::text FROM pg_sequences WHERE schemaname = 'public' "
                             "ORDER BY 1",
            }
        snapshot = {key: [tuple(row) for row in conn.exec_driver_sql(query)] for key, query in queries.items()}
    engine.dispose()
    return snapshot


def write_config(folder: Path, url: str) -> Path:
    (folder / "watchlists").mkdir(exist_ok=True)
    cfg = folder / "monitor.yaml"
    cfg.write_text(f"database: {url}\nwatchlists: watchlists\nfeeds: []\nchannels:\n  screen:\n    type: console\n")
    return cfg


@pytest.fixture
def cfg(tmp_path: Path, database_url: str) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    return write_config(folder, database_url)


def test_baseline_revision_makes_the_first_release_schema(database_url: str) -> None:
    build_baseline(database_url)
    released = schema_snapshot(database_url)
    assert released[next(iter(released))], "the frozen DDL made nothing"
    reset(database_url)
    engine = engine_for(database_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), BASELINE)
    engine.dispose()
    assert version(database_url) == BASELINE
    assert schema_snapshot(database_url) == released


def test_upgrade_keeps_every_row_of_a_first_release_database(database_url: str, cfg: Path) -> None:
    build_baseline(database_url)
    fill_baseline(database_url)
    assert stored_rows(database_url) == expected_rows()

    r = run_monitor("--config", str(cfg), "db", "upgrade", cwd=cfg.parent)
    assert r.returncode == 0, r.stderr
    if HEAD == BASELINE:
        assert "marked the database made before migrations" in r.stdout
    else:
        assert f"upgraded from {BASELINE} (made before migrations) to {HEAD}" in r.stdout
    assert version(database_url) == HEAD
    assert stored_rows(database_url) == expected_rows()
    engine = engine_for(database_url)
    assert set(inspect(engine).get_table_names()) >= BASELINE_TABLES
    engine.dispose()

    again = run_monitor("--config", str(cfg), "db", "upgrade", cwd=cfg.parent)
    assert again.returncode == 0, again.stderr
    assert f"already at {HEAD}" in again.stdout
    assert stored_rows(database_url) == expected_rows()

    current = run_monitor("--config", str(cfg), "db", "current", cwd=cfg.parent)
    assert current.returncode == 0, current.stdout + current.stderr
    assert f"revision: {HEAD}" in current.stdout and "up to date" in current.stdout

    # Today's code reads what the first release wrote.
    listed = run_monitor("--config", str(cfg), "matches", "--since", "30d", "--format", "jsonl", cwd=cfg.parent)
    assert listed.returncode == 0, listed.stderr
    matches = {m["id"]: m for m in map(json.loads, listed.stdout.splitlines())}
    assert set(matches) == {1, 2}
    assert matches[1]["title"] == "Orbán arrives in Moscow" and matches[1]["alerted"] is True


def test_run_refuses_an_outdated_database_and_names_the_command(database_url: str, cfg: Path) -> None:
    build_baseline(database_url)
    if HEAD == BASELINE:  # nothing is outdated yet: a first-release database is silently stamped
        r = run_monitor("--config", str(cfg), "run", "--once", cwd=cfg.parent)
        assert r.returncode == 0, r.stderr
        assert version(database_url) == BASELINE
        return
    # Default monitor.yaml in the working folder: the plain command.
    r = run_monitor("run", "--once", cwd=cfg.parent)
    assert r.returncode == 1
    assert f"at revision {BASELINE}" in r.stderr and f"needs revision {HEAD}" in r.stderr
    assert "Run `monitor db upgrade` to upgrade it" in r.stderr and "Traceback" not in r.stderr
    # Another file: the command names it, for whoever runs it from another folder.
    daemon = run_monitor("--config", str(cfg), "run", cwd=cfg.parent, timeout=120)
    assert daemon.returncode == 1
    assert f"Run `monitor db upgrade --config {cfg.resolve()}`" in daemon.stderr and "Traceback" not in daemon.stderr
    current = run_monitor("--config", str(cfg), "db", "current", cwd=cfg.parent)
    assert current.returncode == 1 and f"revision: {BASELINE} (made before migrations" in current.stdout
    assert "outdated" in current.stdout
    assert version(database_url) is None  # nothing was written


def test_database_migrated_by_a_newer_version_is_refused(database_url: str, cfg: Path) -> None:
    open_store(database_url).close()
    set_version(database_url, "9999_from_the_future")
    with pytest.raises(SchemaTooNew, match="newer news-monitor"):
        open_store(database_url)
    for args in (("run", "--once"), ("db", "upgrade")):
        r = run_monitor("--config", str(cfg), *args, cwd=cfg.parent)
        assert r.returncode == 1, args
        assert "9999_from_the_future" in r.stderr and "migrated by a newer news-monitor" in r.stderr
        assert "Traceback" not in r.stderr
    current = run_monitor("--config", str(cfg), "db", "current", cwd=cfg.parent)
    assert current.returncode == 1 and "ahead" in current.stdout
    assert version(database_url) == "9999_from_the_future"


def test_an_empty_database_is_created_at_head(database_url: str, cfg: Path) -> None:
    args = ("run", "--once") if dialect(database_url) == "sqlite" else ("db", "upgrade")
    r = run_monitor("--config", str(cfg), *args, cwd=cfg.parent)
    assert r.returncode == 0, r.stderr
    if args[0] == "db":
        assert f"created the schema at {HEAD}" in r.stdout
    assert version(database_url) == HEAD
    engine = engine_for(database_url)
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_head_agrees_with_the_models(database_url: str) -> None:
    """The test that keeps migrations honest: a change to tables.py needs a revision that makes it."""
    open_store(database_url).close()
    engine = engine_for(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


STARTER = """
import sys, time
from pathlib import Path
from monitor.store import open_store
print("ready", flush=True)
while not Path(sys.argv[2]).exists():
    time.sleep(0.002)
open_store(sys.argv[1]).close()
"""


def test_a_database_caught_mid_creation_is_read_again_under_the_lock(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The unlocked read is several statements: while another process commits a new database, it can
    find no alembic_version and then every table, which reads as a pre-migration database at the
    baseline. The verdict "outdated" must come from a read under the lock, which sees the commit."""
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    open_store(url).close()  # the other process's work, committed
    caught = migrate.SchemaStatus(current=None, head=HEAD, known=migrate.known_revisions(), legacy=True)
    assert caught.state == "outdated"
    monkeypatch.setattr(migrate, "schema_status", lambda engine, real=migrate.schema_status: (
        monkeypatch.setattr(migrate, "schema_status", real) or caught))  # the first read only
    engine = make_engine(url)
    try:
        assert migrate.ensure_schema(engine).state == "current"
    finally:
        engine.dispose()
    assert version(url) == HEAD


def test_processes_starting_together_on_an_empty_database_create_it_once(database_url: str, tmp_path: Path) -> None:
    """A scheduler and its workers starting at once: the lock makes one create, the others find it done."""
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", STARTER, database_url, str(go)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        for proc in procs:  # every one imported and waiting, then all at once
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        go.touch()
        results = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    assert [proc.returncode for proc in procs] == [0, 0, 0, 0], [err for _, err in results]
    assert version(database_url) == HEAD


def test_legacy_database_with_missing_tables_is_not_taken_for_ours(database_url: str) -> None:
    engine = engine_for(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE feeds (id INTEGER PRIMARY KEY, url VARCHAR(2048))")
    engine.dispose()
    with pytest.raises(StoreError, match="not made by a released news-monitor") as info:
        open_store(database_url)
    assert "delivery_holds" in str(info.value)


@pytest.fixture
def ship_next_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Make news-monitor's migrations those of a next release: today's plus one revision after head."""

    def ship(*, fail: bool = False) -> str:
        scripts = tmp_path / "migrations"
        shutil.copytree(migrate.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
        steps = ['op.create_table("probe", sa.Column("id", sa.Integer(), primary_key=True))',
                 'op.add_column("feeds", sa.Column("probe", sa.Integer(), nullable=True))',
                 'op.execute("UPDATE feeds SET probe = 1")']
        if fail:  # a migration that breaks half-way, after DDL and data changes
            steps.append('raise RuntimeError("broken migration")')
        (scripts / "versions" / "9000_probe.py").write_text(
            '"""A test revision: what the next release would ship."""\n\nimport sqlalchemy as sa\n'
            'from alembic import op\n\n'
            f'revision = "9000_probe"\ndown_revision = {HEAD!r}\nbranch_labels = None\ndepends_on = None\n\n\n'
            'def upgrade() -> None:\n' + "".join(f"    {step}\n" for step in steps))
        monkeypatch.setattr(migrate, "MIGRATIONS", scripts)
        return "9000_probe"

    return ship


def invoke(cfg: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(cfg), *args])
    return result.exit_code, result.stdout, result.stderr


def test_an_upgrade_shipped_later_is_refused_then_applied(database_url: str, cfg: Path,
                                                          ship_next_release: Callable[..., str]) -> None:
    open_store(database_url).close()  # at today's head
    new = ship_next_release()

    with pytest.raises(SchemaOutdated) as info:
        open_store(database_url)
    assert (info.value.found, info.value.needed) == (HEAD, new)
    assert "Run `monitor db upgrade`" in str(info.value)

    code, _, stderr = invoke(cfg, "run", "--once")
    assert code == 1
    assert f"Run `monitor db upgrade --config {cfg.resolve()}`" in stderr
    code, stdout, _ = invoke(cfg, "db", "current")
    assert code == 1 and f"head:     {new}" in stdout and "outdated" in stdout

    code, stdout, stderr = invoke(cfg, "db", "upgrade")
    assert code == 0, stderr
    assert f"upgraded from {HEAD} to {new}: applied {new}" in stdout
    assert version(database_url) == new
    open_store(database_url).close()


def test_a_migration_that_fails_changes_nothing(database_url: str, ship_next_release: Callable[..., str]) -> None:
    """One transaction (PostgreSQL and SQLite both roll DDL back): no half-migrated database."""
    build_baseline(database_url)
    fill_baseline(database_url)
    before = schema_snapshot(database_url)
    ship_next_release(fail=True)
    engine = make_engine(database_url)
    with pytest.raises(RuntimeError, match="broken migration"):  # a bug in a migration is not hidden
        upgrade_schema(engine)
    engine.dispose()
    assert version(database_url) is None  # not even stamped
    assert schema_snapshot(database_url) == before
    assert stored_rows(database_url) == expected_rows()


def test_migrations_are_package_data() -> None:
    """A wheel carries every file of migrations/: pyproject's package-data globs cover them all."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    globs: Mapping[str, list[str]] = tomllib.loads((root / "pyproject.toml").read_text())[
        "tool"]["setuptools"]["package-data"]
    package = root / "monitor" / "store"
    files = [p.relative_to(package).as_posix() for p in (package / "migrations").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    assert "migrations/env.py" in files and "migrations/versions/0001_baseline.py" in files
    shipped = {p.relative_to(package).as_posix() for g in globs.get("monitor.store", []) for p in package.glob(g)}
    uncovered = [f for f in files if f not in shipped]
    assert uncovered == []


def test_alembic_runs_only_through_news_monitor(tmp_path: Path) -> None:
    """env.py refuses to run without the connection monitor.store.migrate hands it (no alembic.ini)."""
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(RuntimeError, match="monitor db upgrade"):
        command.upgrade(config, "head")

