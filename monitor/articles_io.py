"""Reading articles from JSON lines (`--articles FILE.jsonl`), with errors naming file and line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from monitor.errors import ConfigError
from monitor.types import Article, ExtractionStatus, Problem


def parse_datetime(value: object) -> datetime | None:
    """ISO 8601 dates and datetimes ('2024-07-05', '2024-07-05T10:00:00Z'); naive means UTC."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    text = value.strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def read_articles(path: Path) -> list[Article]:
    """Each line: `id`, `title`, `text`, and optionally `url`, `lang`, `published`, `outlet`."""
    problems: list[Problem] = []
    articles: list[Article] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError([Problem(str(path), None, None, f"cannot read: {exc.strerror or exc}")]) from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(str(path), number, None, f"not JSON: {exc.msg}"))
            continue
        if not isinstance(row, dict):
            problems.append(Problem(str(path), number, None, "each line must be a JSON object"))
            continue
        if "id" not in row:
            problems.append(Problem(str(path), number, "id", "required key is missing"))
            continue
        try:
            published = parse_datetime(row.get("published") or row.get("date"))
        except ValueError as exc:
            problems.append(Problem(str(path), number, "published", str(exc)))
            continue
        text = str(row.get("text") or "")
        articles.append(Article(
            id=str(row["id"]), url=str(row.get("url") or f"urn:article:{row['id']}"),
            title=str(row.get("title") or ""), text=text, published=published,
            lang=(str(row["lang"]) if row.get("lang") else None),
            outlet=(str(row["outlet"]) if row.get("outlet") else None),
            summary=str(row.get("summary") or ""), status=ExtractionStatus.FULL,
        ))
    if problems:
        raise ConfigError(problems)
    return articles


def read_labels(path: Path) -> dict[str, bool]:
    """Lines of {"id": ..., "relevant": true|false}."""
    labels: dict[str, bool] = {}
    problems: list[Problem] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            labels[str(row["id"])] = bool(row["relevant"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            problems.append(Problem(str(path), number, None, f'expected {{"id": ..., "relevant": true}}: {exc}'))
    if problems:
        raise ConfigError(problems)
    return labels
