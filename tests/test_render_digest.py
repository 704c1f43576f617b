"""Digest rendering: several alerts in one message, escaped like single alerts, within Slack's limits."""

from __future__ import annotations

from monitor.render import (
    SLACK_DIGEST_ITEMS,
    render_digest_console,
    render_digest_email,
    render_digest_slack,
    render_digest_webhook,
)
from monitor.types import Alert, Article, Match


def alert(i: int, title: str | None = None) -> Alert:
    return Alert(f"List {i % 2}", Article(url=f"https://n.example/{i}", title=title or f"Story {i}", text="x"),
                 Match(f"List {i % 2}", 0.7, (f"term {i}",)), delivery_key=f"k{i}")


def test_email_digest_lists_every_story_and_escapes_html() -> None:
    alerts = [alert(0, "<script>alert(1)</script> & co"), alert(1)]
    content = render_digest_email("Digest: 2 new stories", alerts)
    assert content.subject == "[news-monitor] Digest: 2 new stories (List 0, List 1)"
    assert "<script>" not in content.html and "&lt;script&gt;" in content.html
    assert 'href="https://n.example/1"' in content.html
    assert "1. [List 0] <script>alert(1)</script> & co" in content.text
    assert "   Why: term 1" in content.text


def test_slack_digest_stays_within_block_kit_limits_and_escapes() -> None:
    alerts = [alert(i) for i in range(SLACK_DIGEST_ITEMS + 5)] + [alert(999, "<!channel> ping")]
    doc = render_digest_slack("Digest: many", alerts)
    assert len(doc["blocks"]) <= 50
    assert doc["blocks"][-1]["elements"][0]["text"].startswith("…and 6 more")
    small = render_digest_slack("Digest", [alert(999, "<!channel> ping")])
    assert "<!channel>" not in str(small) and "&lt;!channel&gt;" in str(small)


def test_console_and_webhook_digests() -> None:
    alerts = [alert(0), alert(1)]
    text = render_digest_console("Held during quiet hours: 2 new stories", alerts)
    assert text.startswith("══ Held during quiet hours: 2 new stories ")
    assert text.count("https://n.example/") == 2
    doc = render_digest_webhook("Digest", alerts, "digest-hook-1-2-2")
    assert doc["delivery_key"] == "digest-hook-1-2-2"
    assert [a["article"]["url"] for a in doc["alerts"]] == ["https://n.example/0", "https://n.example/1"]
