"""`monitor stories`: which articles the monitor counts as one story (and so alerts on once)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from monitor.articles_io import read_articles
from monitor.commands.common import (
    chosen_config,
    config_option,
    guard,
    print_jsonl,
    print_table,
    since_option,
    when,
)
from monitor.durations import parse_duration


def _window(_ctx: click.Context, _param: click.Parameter, value: str) -> timedelta:
    try:
        window = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if window <= timedelta(0):
        raise click.BadParameter("the window must be longer than zero")
    return window


@click.group("stories", invoke_without_command=True)
@config_option
@click.option("--since", default="2d", show_default=True, help="Stories with articles in the last 12h, 2d, 7d...")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.option("--limit", type=int, default=None)
@click.pass_context
@guard
def stories_group(ctx: click.Context, since: str, fmt: str, limit: int | None) -> None:
    """Stories: the articles of every outlet about one event, alerted on once.

    Without a subcommand, lists the stored stories with their outlets, newest first.
    """
    if ctx.invoked_subcommand is not None:
        return
    from monitor.app import load_all
    from monitor.store import open_store

    loaded = load_all(chosen_config(ctx))
    store = open_store(loaded.settings.database_url)
    try:
        stories = store.stories(since=since_option(since), limit=limit)
    finally:
        store.close()
    if fmt == "jsonl":
        print_jsonl([{"story": st.id, "title": st.title, "url": st.url, "articles": st.articles,
                      "outlets": list(st.outlets), "first_seen": st.first_seen.isoformat(),
                      "last_seen": st.last_seen.isoformat(), "watchlists": list(st.watchlists)} for st in stories])
        return
    print_table(f"{len(stories)} stories", ["last seen", "story", "articles", "outlets", "watchlists"], [
        (when(st.last_seen), f"{st.title}\n{st.url}", st.articles, ", ".join(st.outlets), ", ".join(st.watchlists))
        for st in stories])


@stories_group.command("group")
@click.option("--articles", "path", required=True, metavar="FILE.jsonl",
              type=click.Path(dir_okay=False, path_type=Path),
              help="One article per line: id, title, text, published (optional: url, lang, outlet).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True)
@click.option("--window", default="48h", show_default=True, callback=_window,
              metavar="DURATION",
              help="How long after its first article a story takes new articles: 12h, 48h, 3d...")
@guard
def group_command(path: Path, fmt: str, window: timedelta) -> None:
    """Group the articles of FILE.jsonl into stories, as the daemon would have.

    Each article goes to the story whose first article it follows; a story's id is the id of its
    first article. jsonl prints {"id", "story"} per article in input order; table shows the stories
    with the reason each article joined.
    """
    articles = read_articles(path)
    from monitor.stories import article_key, assign_articles

    assigned = assign_articles(articles, window=window)
    if fmt == "jsonl":
        print_jsonl([{"id": article_key(a), "story": assigned[article_key(a)].story_id} for a in articles])
        return
    order: dict[str, int] = {}
    for a in articles:
        order.setdefault(assigned[article_key(a)].story_id, len(order))
    rows = sorted(articles, key=lambda a: (order[assigned[article_key(a)].story_id],
                                           not assigned[article_key(a)].is_new))
    print_table(f"{len(order)} stories in {len(articles)} article(s)",
                ["story", "article", "published", "title", "why"],
                [(assigned[article_key(a)].story_id, article_key(a), when(a.published),
                  a.title + (f"\n{a.outlet}" if a.outlet else ""),
                  ("starts the story" if assigned[article_key(a)].is_new
                   else f"{assigned[article_key(a)].similarity:.2f} {assigned[article_key(a)].reason}"))
                 for a in rows])


COMMANDS = [stories_group]
