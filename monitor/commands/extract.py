"""`monitor extract URL|FILE...`: exactly what the monitor extracts, for when a story was missed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from monitor.commands.common import chosen_config, config_option, guard, out, print_jsonl, run_async
from monitor.errors import MonitorError
from monitor.types import ExtractedPage


def _row(source: str, page: ExtractedPage | None, error: str | None = None) -> dict[str, Any]:
    if page is None:
        return {"input": source, "title": None, "author": None, "date": None, "language": None, "text": "",
                "status": "failed", "error": error}
    return {"input": source, "title": page.title, "author": page.author,
            "date": page.published.isoformat() if page.published else None, "language": page.lang,
            "text": page.text, "status": str(page.status), "error": None}


async def _extract_all(sources: tuple[str, ...], allow_private: bool | None,
                       config: Path) -> list[dict[str, Any]]:
    from monitor.config import FetchSettings, load_settings
    from monitor.extract import extract_page, extract_text_file
    from monitor.fetch import Fetcher

    settings = load_settings(config).fetch if config.exists() else FetchSettings()
    if allow_private is not None:
        settings = settings.model_copy(update={"allow_private_networks": allow_private})
    rows: list[dict[str, Any]] = []
    fetcher: Fetcher | None = None
    try:
        for source in sources:
            try:
                if source.startswith(("http://", "https://")):
                    fetcher = fetcher or Fetcher(settings)
                    page = await fetcher.fetch_page(source)
                    rows.append(_row(source, extract_page(page.content, url=page.final_url)))
                else:
                    rows.append(_row(source, extract_text_file(Path(source))))
            except MonitorError as exc:
                rows.append(_row(source, None, str(exc)))
            except OSError as exc:
                rows.append(_row(source, None, f"cannot read: {exc.strerror or exc}"))
    finally:
        if fetcher is not None:
            await fetcher.aclose()
    return rows


@click.command("extract")
@config_option
@click.argument("sources", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl"]), default="text", show_default=True)
@click.option("--allow-private-networks/--no-allow-private-networks", default=None,
              help="Override fetch.allow_private_networks for URLs.")
@click.pass_context
@guard
def extract_command(ctx: click.Context, sources: tuple[str, ...], fmt: str, allow_private_networks: bool | None) -> None:
    """Show what the monitor extracts from pages (URLs or files): title, author, date, language,
    text and status, one result per input in order."""
    rows = run_async(_extract_all(sources, allow_private_networks, chosen_config(ctx)))
    if fmt == "jsonl":
        print_jsonl(rows)
    elif fmt == "json":
        out.print_json(json.dumps(rows if len(rows) > 1 else rows[0], ensure_ascii=False))
    else:
        for row in rows:
            out.print(f"== {row['input']}  [{row['status']}]", markup=False)
            for key in ("title", "author", "date", "language", "error"):
                if row[key]:
                    out.print(f"{key}: {row[key]}", markup=False)
            out.print("", row["text"], "", sep="\n", markup=False)


COMMANDS = [extract_command]
