"""The command line: parse arguments, load and validate configuration, call the library.

Every command exits 2 when what the user wrote is invalid, after printing every problem with
file and line; `run --once` exits non-zero only then.
"""

from __future__ import annotations

import click

from monitor import __version__
from monitor.commands import register
from monitor.commands.common import config_option
from monitor.logs import setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@config_option
@click.option("--log-level", default=None, type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"],
              case_sensitive=False), help="Override log_level from monitor.yaml.")
@click.option("--log-format", default="text", type=click.Choice(["text", "json"]), show_default=True,
              help="Logs (on stderr) as key=value text or JSON lines.")
@click.version_option(__version__, prog_name="news-monitor")
@click.pass_context
def main(ctx: click.Context, log_level: str | None, log_format: str) -> None:
    """news-monitor: polls news feeds, matches articles against your watchlists, and alerts you
    once per story by email, Slack or the console, saying why it matched.

    \b
    Quick start:
      monitor check                      validate monitor.yaml and every watchlist
      monitor watchlist new --seed seeds/x.txt --name "..." --out watchlists/x.yaml
      monitor watchlist test watchlists/ --articles articles.jsonl
      monitor run --once                 one cycle over every due feed, then exit
      monitor run                        the daemon
    """
    obj = ctx.ensure_object(dict)
    obj["log_level"] = log_level.upper() if log_level else None
    obj["log_format"] = log_format
    setup_logging(obj["log_level"] or "INFO", log_format)


register(main)
