"""`monitor watchlist new` (draft from seeds) and `monitor watchlist test` (run over articles)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.articles_io import read_articles, read_labels
from monitor.commands.common import (
    chosen_config,
    config_option,
    err,
    guard,
    out,
    print_jsonl,
    print_table,
    since_option,
)
from monitor.errors import ConfigError
from monitor.types import Article, Problem

if TYPE_CHECKING:
    from monitor.matching import Watchlist


@click.group("watchlist")
def watchlist_group() -> None:
    """Draft watchlists from seed articles and test them before trusting them."""


@watchlist_group.command("new")
@click.option("--seed", "seeds", multiple=True, required=True, type=click.Path(path_type=Path),
              help="A seed article: plain text (first line the headline) or an HTML page. Repeatable.")
@click.option("--name", default=None, help='What you mean, e.g. "EU leader visits to Moscow" (the kind of '
              "event), or a short slug to follow the seed's own story.")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path),
              help="Where to write the drafted watchlist (YAML).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@guard
def new_command(seeds: tuple[Path, ...], name: str | None, out_path: Path, force: bool) -> None:
    """Draft a watchlist from seed articles, as commented YAML meant to be edited."""
    from monitor.matching import load_watchlist
    from monitor.matching.draft import draft_watchlist

    missing = [Problem(str(s), None, None, "no such seed file") for s in seeds if not s.is_file()]
    if missing:
        raise ConfigError(missing)
    if out_path.exists() and not force:
        raise click.UsageError(f"{out_path} exists; pass --force to overwrite it")
    text = draft_watchlist(list(seeds), name=name, out=out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text, encoding="utf-8")
    load_watchlist(out_path)  # what we write must load: fail loudly here, not in the daemon
    out.print(f"wrote {out_path}: review it, then `monitor watchlist test {out_path} --articles FILE.jsonl`",
              markup=False)


def _watchlists(paths: tuple[Path, ...], project_dir: Path | None) -> list[Watchlist]:
    from monitor.matching import load_watchlist, load_watchlists

    found: list[Watchlist] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            lists, probs = load_watchlists(path, project_dir=project_dir)
            found += lists
            problems += probs
        elif path.is_file():
            try:
                found.append(load_watchlist(path, project_dir=project_dir))
            except ConfigError as exc:
                problems += exc.problems
        else:
            problems.append(Problem(str(path), None, None, "no such file or folder"))
    if problems:
        raise ConfigError(problems)
    if not found:
        raise ConfigError([Problem(" ".join(map(str, paths)), None, None, "no watchlists found")])
    return found


@watchlist_group.command("test")
@config_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--articles", "articles_path", type=click.Path(path_type=Path), default=None,
              help="JSON lines with id, title, text and optionally url, lang, published.")
@click.option("--since", default=None, help="Run over articles stored in the last 30d, 12h... instead.")
@click.option("--labels", "labels_path", type=click.Path(path_type=Path), default=None,
              help='JSON lines {"id": ..., "relevant": true}: print precision, recall, F1, misses, false alarms.')
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Table: list articles that did not match too.")
@click.pass_context
@guard
def test_command(ctx: click.Context, paths: tuple[Path, ...], articles_path: Path | None, since: str | None,
                 labels_path: Path | None, fmt: str, show_all: bool) -> None:
    """Run watchlists (files or folders) over articles, without fetching anything."""
    if (articles_path is None) == (since is None):
        raise click.UsageError("give exactly one of --articles FILE.jsonl and --since 30d")
    articles: list[Article]
    project_dir = Path.cwd()
    if articles_path is not None:
        articles = read_articles(articles_path)
    else:
        from monitor.app import load_all
        from monitor.store import open_store

        loaded = load_all(chosen_config(ctx))
        project_dir = loaded.settings.base_dir
        store = open_store(loaded.settings.database_url)
        try:
            articles = store.articles(since=since_option(since))
        finally:
            store.close()
    from monitor.evaluate import evaluate, score

    rows = list(evaluate(_watchlists(paths, project_dir), articles))
    if fmt == "jsonl":
        print_jsonl([{"id": r.article.id, "watchlist": r.verdict.watchlist, "matched": r.verdict.matched,
                      "score": round(r.verdict.score, 4), "why": list(r.verdict.why),
                      "snippet": r.verdict.snippet} for r in rows])
    else:
        shown = [r for r in rows if show_all or r.verdict.matched]
        print_table(f"{sum(r.verdict.matched for r in rows)} match(es) in {len(articles)} article(s)",
                    ["id", "watchlist", "matched", "score", "title", "why"],
                    [(r.article.id, r.verdict.watchlist, "yes" if r.verdict.matched else "no",
                      f"{r.verdict.score:.2f}", r.article.title[:90], "; ".join(r.verdict.why)) for r in shown])
    if labels_path is not None:
        labels = read_labels(labels_path)
        for s in score(rows, labels):
            err.print(f"{s.watchlist}: precision {s.precision:.3f}  recall {s.recall:.3f}  F1 {s.f1:.3f}  "
                      f"({s.true_positives} caught, {len(s.misses)} missed, {len(s.false_alarms)} false alarms)",
                      markup=False)
            titles = {str(a.id): a.title for a in articles}
            for label, ids in (("missed", s.misses), ("false alarm", s.false_alarms)):
                for i in ids:
                    err.print(f"  {label}: {i}  {titles.get(i, '')[:100]}", markup=False)


COMMANDS = [watchlist_group]
