"""What every command shares: --config, clean errors, tables and JSON lines."""

from __future__ import annotations

import asyncio
import functools
import json
import shlex
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.table import Table

from monitor.config import DEFAULT_CONFIG, config_path
from monitor.durations import parse_duration
from monitor.errors import ConfigError, MonitorError, SchemaOutdated

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def fail_config(exc: ConfigError) -> NoReturn:
    """Every problem on its own line, never wrapped: people and scripts grep these for file names."""
    sys.stderr.write(f"{len(exc.problems)} problem(s) found:\n")
    for problem in exc.problems:
        sys.stderr.write(f"  {problem}\n")
    sys.stderr.flush()
    sys.exit(2)


def config_option(fn: F) -> F:
    """--config is accepted before the command (`monitor --config x run`) and after it."""
    def remember(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        if value is not None:
            root = ctx.find_root()
            root.ensure_object(dict)["config"] = value
        return value

    return click.option("--config", "-c", "config", metavar="FILE", expose_value=False, callback=remember,
                        is_eager=True, help="monitor.yaml (default: $MONITOR_CONFIG, else ./monitor.yaml)")(fn)


def chosen_config(ctx: click.Context) -> Path:
    return config_path((ctx.find_root().obj or {}).get("config"))


def db_upgrade_command(ctx: click.Context | None = None) -> str:
    """`monitor db upgrade` as the user must type it: with --config unless this run used ./monitor.yaml."""
    ctx = ctx or click.get_current_context(silent=True)
    path = chosen_config(ctx) if ctx is not None else config_path(None)
    if path == Path(DEFAULT_CONFIG):
        return "monitor db upgrade"
    return f"monitor db upgrade --config {shlex.quote(str(path.resolve()))}"


def since_option(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.now(UTC) - parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    t = Table(title=title, show_lines=False)
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    out.print(t)


def print_jsonl(rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def guard(fn: F) -> F:
    """Turn our errors into a clean message and exit status, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            fail_config(exc)
        except MonitorError as exc:
            if isinstance(exc, SchemaOutdated):
                exc.command = db_upgrade_command()
            err.print(f"error: {exc}", markup=False)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""
