"""Story updates end to end: the real `monitor run --once`, a local news site whose story spreads
from one outlet to seven, a real SMTP server, a Slack Web API stand-in (bot token: threads) and a
Slack incoming-webhook stand-in (no threads). Every run is a new process: a restart each time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import HookSink, Route, SmtpSink, WebServer, page_html, rss
from test_e2e import run_monitor

OUTLETS = ["Wire", "Courier", "Herald", "Gazette", "Tribune", "Post", "Globe"]
STORY = ("A magnitude 6.1 earthquake struck Portsville on Monday morning, damaging the old harbour and "
         "cutting power to 40,000 homes, the regional seismic office said. Rescue teams from Highpeak and "
         "Lowmoor were searching collapsed warehouses near the ferry terminal, and the Portsville mayor, "
         "Anna Kovalenko, asked residents to stay away from the waterfront while aftershocks continued.")


def publish(web: WebServer, outlets: list[str]) -> list[str]:
    """One feed per outlet, each with its own report of the story (a syndicated text with a line of its own)."""
    published = datetime.now(UTC) - timedelta(hours=1)
    for outlet in outlets:
        slug = outlet.lower()
        title = f"Earthquake hits Portsville harbour, {outlet} reports"
        text = f"{STORY}\nThe {outlet} newsroom will follow the story through the day."
        web.routes[f"/{slug}/quake.html"] = Route(page_html(title, text))
        item = {"id": f"{slug}-quake", "title": title, "path": f"/{slug}/quake.html", "published": published,
                "summary": STORY[:200]}
        web.routes[f"/{slug}/feed.xml"] = Route(rss(outlet, web.base, [item]), "application/rss+xml")
    return [f"{web.base}/{o.lower()}/feed.xml" for o in outlets]


def configure(wd: Path, web: WebServer, outlets: list[str], smtp: SmtpSink, bot: HookSink, hook: HookSink) -> Path:
    feeds = "\n".join(f"  - {{url: '{url}', name: {name}}}" for url, name in zip(publish(web, outlets), outlets,
                                                                                  strict=True))
    cfg = wd / "monitor.yaml"
    cfg.write_text(f"""database: sqlite:///{wd / 'monitor.db'}
watchlists: watchlists
fetch: {{allow_private_networks: true, timeout: 10}}
story_updates: {{outlets: 3, min_gap: 0s, max: 1}}
feeds:
{feeds}
channels:
  mail: {{type: email, host: 127.0.0.1, port: {smtp.port}, from: monitor@example.org, to: desk@example.org}}
  team: {{type: slack, token: "${{SLACK_BOT_TOKEN}}", channel: "#alerts", api_url: "http://127.0.0.1:{bot.port}/api"}}
  hook: {{type: slack, webhook_url: "{hook.url}"}}
""")
    return cfg


def unfolded(header: str) -> str:
    """A header's value without the folding a long header gets in transit (RFC 5322 §2.2.3)."""
    return " ".join(str(header).split())


def run_once(cfg: Path) -> None:
    r = run_monitor("--config", str(cfg), "run", "--once", "--extract-workers", "0", cwd=cfg.parent)
    assert r.returncode == 0, r.stderr[-3000:]


def test_a_growing_story_sends_one_threaded_update_on_every_channel(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-e2e-token")
    (tmp_path / "watchlists").mkdir()
    (tmp_path / "watchlists" / "quakes.yaml").write_text("name: Portsville quake\nmatch: {any: [Portsville]}\n")
    stamps: list[str] = []

    def chat_post_message(post: dict[str, Any]) -> dict[str, Any]:
        stamps.append(f"1767225600.{len(stamps) + 1:06d}")
        return {"ok": True, "channel": "C0ALERTS", "ts": stamps[-1]}

    web, smtp, bot, hook = WebServer(), SmtpSink(), HookSink(reply=chat_post_message), HookSink()
    try:
        # One outlet: the story alerts once on every channel.
        run_once(configure(tmp_path, web, OUTLETS[:1], smtp, bot, hook))
        assert len(smtp.messages) == 1 and len(bot.posts) == 1 and len(hook.posts) == 1
        alert_mail = smtp.messages[0]
        assert "Portsville" in alert_mail["Subject"] and alert_mail["In-Reply-To"] is None
        assert bot.posts[0]["channel"] == "#alerts" and "thread_ts" not in bot.posts[0]

        # Three more outlets (after a restart): one update, threaded where the channel can.
        run_once(configure(tmp_path, web, OUTLETS[:4], smtp, bot, hook))
        assert len(smtp.messages) == 2 and len(bot.posts) == 2 and len(hook.posts) == 2
        update_mail = smtp.messages[1]
        assert update_mail["In-Reply-To"] == alert_mail["Message-ID"]
        assert update_mail["References"] == alert_mail["Message-ID"]
        assert unfolded(update_mail["Subject"]) == f"Re: {unfolded(alert_mail['Subject'])}"
        text = smtp.texts()[1]
        assert "Update: 3 new outlets" in text
        assert all(f"{web.base}/{o.lower()}/quake.html" in text for o in OUTLETS[1:4])
        threaded = bot.posts[1]
        assert threaded["thread_ts"] == stamps[0] and threaded["channel"] == "C0ALERTS"
        assert bot.headers[1]["Authorization"] == "Bearer xoxb-e2e-token"
        alone = hook.posts[1]
        assert "thread_ts" not in alone
        head = alone["blocks"][0]["text"]["text"]
        assert head.startswith("*Update:* 3 new outlets") and "Updates the alert of" in head
        assert "Earthquake hits Portsville harbour, Wire reports" in head  # quotes the alert it updates

        # Three more outlets, another restart: the story has had its update.
        run_once(configure(tmp_path, web, OUTLETS, smtp, bot, hook))
        assert len(smtp.messages) == 2 and len(bot.posts) == 2 and len(hook.posts) == 2

        listed = run_monitor("--config", str(tmp_path / "monitor.yaml"), "stories", "--format", "jsonl", cwd=tmp_path)
        [story] = [json.loads(line) for line in listed.stdout.splitlines()]
        assert len(story["outlets"]) == len(OUTLETS)  # they all joined the one story
    finally:
        web.close(), smtp.close(), bot.close(), hook.close()
