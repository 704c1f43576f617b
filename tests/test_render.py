"""render.py: what a person reads in each channel, and that untrusted feed text stays inert."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from monitor.render import (
    SLACK_HEADER_CHARS,
    SLACK_SECTION_CHARS,
    excerpt,
    format_time,
    render_console,
    render_email,
    render_slack,
    render_webhook,
    slack_escape,
)
from monitor.types import Alert, Article, ExtractionStatus, Match

URL = "https://news.example.org/world/2024/07/05/orban-moscow?utm=rss&ref=feed"
TEXT = (
    "Hungarian Prime Minister Viktor Orbán arrived in Moscow on Friday for talks with President "
    "Vladimir Putin, days after taking over the rotating presidency of the Council of the EU. "
    "The visit drew immediate criticism from other European leaders, who said Orbán had no "
    "mandate to negotiate on behalf of the Union. Orbán called the trip a peace mission and said "
    "he wanted to hear the positions of both sides. The Kremlin confirmed the meeting would cover "
    "the war in Ukraine and relations with the European Union, according to a spokesman."
)


def make_alert(**article_changes: object) -> Alert:
    article = Article(
        url=URL,
        title="Orbán arrives in Moscow for talks with Putin",
        text=TEXT,
        published=datetime(2024, 7, 5, 11, 30, tzinfo=timezone(timedelta(hours=2))),
        lang="en",
        outlet="Example News",
    )
    article = replace(article, **article_changes)  # type: ignore[arg-type]
    match = Match(
        watchlist="EU leader visits to Moscow",
        score=0.873,
        why=("Orbán (EU head of government)", "visit to Moscow"),
        snippet="Hungarian Prime Minister Viktor Orbán arrived in Moscow on Friday.",
    )
    return Alert(watchlist="EU leader visits to Moscow", article=article, match=match, delivery_key="d-1")


HOSTILE = '<script>alert("x")</script> & <img src="http://evil.example/p.gif"> <!channel>'


def hostile_alert() -> Alert:
    alert = make_alert(title=HOSTILE, outlet=HOSTILE, text=HOSTILE + " body")
    match = replace(alert.match, why=(HOSTILE,), snippet=HOSTILE)
    return replace(alert, watchlist="W <b>&</b>", match=match, related_outlets=(HOSTILE,))


# ---- shared pieces -------------------------------------------------------------------------------


def test_excerpt_cuts_at_a_word_boundary() -> None:
    cut = excerpt(TEXT, 400)
    assert cut.endswith("…")
    body = cut[:-1]
    assert len(body) <= 400
    assert TEXT.startswith(body)
    assert TEXT[len(body)] == " "  # the next character was a space: no word was cut
    assert len(body) > 300


def test_excerpt_keeps_short_text_whole_and_flattens_whitespace() -> None:
    assert excerpt("One line.\n\n  Two\tlines.") == "One line. Two lines."


def test_excerpt_of_text_without_spaces_cuts_hard() -> None:
    text = "維克托·歐爾班抵達莫斯科" * 60
    cut = excerpt(text, 100)
    assert cut == text[:100] + "…"


def test_time_is_shown_in_utc() -> None:
    assert (
        format_time(datetime(2024, 7, 5, 11, 30, tzinfo=timezone(timedelta(hours=2))))
        == "2024-07-05 09:30 UTC"
    )
    assert format_time(datetime(2024, 7, 5, 9, 30)) == "2024-07-05 09:30 UTC"
    assert format_time(None) == "time unknown"


# ---- email ---------------------------------------------------------------------------------------


def test_email_subject_names_watchlist_and_headline() -> None:
    content = render_email(make_alert(), subject_prefix="[news-monitor]")
    assert (
        content.subject
        == "[news-monitor] EU leader visits to Moscow: Orbán arrives in Moscow for talks with Putin"
    )


def test_email_subject_is_one_line_even_when_the_title_is_not() -> None:
    content = render_email(make_alert(title="Orbán\r\nBcc: victim@example.org\tarrives"), subject_prefix="")
    assert content.subject == "EU leader visits to Moscow: Orbán Bcc: victim@example.org arrives"
    assert "\n" not in content.subject and "\r" not in content.subject


def test_email_text_has_everything_a_reader_needs() -> None:
    text = render_email(make_alert()).text
    lines = text.splitlines()
    assert URL in lines  # verbatim, on its own line
    assert "Orbán arrives in Moscow for talks with Putin" in lines
    assert "Example News · 2024-07-05 09:30 UTC" in lines
    assert "Why: Orbán (EU head of government); visit to Moscow (score 0.87)" in lines
    assert "> Hungarian Prime Minister Viktor Orbán arrived in Moscow on Friday." in lines
    assert excerpt(TEXT) in lines
    assert "Note:" not in text  # the text is complete: no extraction note


def test_email_shows_extraction_status_when_not_full() -> None:
    for status, words in [
        (ExtractionStatus.TEASER, "teaser"),
        (ExtractionStatus.SUMMARY, "summary"),
        (ExtractionStatus.FAILED, "title only"),
    ]:
        content = render_email(make_alert(status=status))
        assert words in content.text
        assert words in content.html


def test_email_html_links_the_headline_and_escapes_every_user_string() -> None:
    html = render_email(make_alert()).html
    assert '<a href="https://news.example.org/world/2024/07/05/orban-moscow?utm=rss&amp;ref=feed"' in html
    assert "max-width:640px" in html
    assert 'lang="en"' in html

    hostile = render_email(hostile_alert()).html
    assert "<script" not in hostile
    assert "<img" not in hostile
    assert "<!channel>" not in hostile
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in hostile
    assert "W &lt;b&gt;&amp;&lt;/b&gt;" in hostile


def test_email_html_loads_nothing_remote() -> None:
    html = render_email(make_alert(status=ExtractionStatus.TEASER)).html.lower()
    for remote in ("src=", "url(", "<link", "<style", "@import", "<img", "<script", "<iframe"):
        assert remote not in html, remote


def test_email_html_does_not_link_a_non_web_url() -> None:
    html = render_email(make_alert(url="javascript:alert(1)")).html
    assert "href=" not in html
    assert "javascript:alert(1)" in render_email(make_alert(url="javascript:alert(1)")).text


def test_email_lists_related_outlets() -> None:
    alert = replace(make_alert(), related_outlets=("Reuters", "AP"))
    content = render_email(alert)
    assert "Also reported by: Reuters, AP" in content.text
    assert "Also reported by: Reuters, AP" in content.html


# ---- Slack ---------------------------------------------------------------------------------------


def test_slack_payload_is_block_kit_with_linked_headline() -> None:
    payload = render_slack(make_alert())
    blocks = payload["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "EU leader visits to Moscow", "emoji": False},
    }
    assert blocks[1]["text"]["text"] == f"*<{URL}|Orbán arrives in Moscow for talks with Putin>*"
    assert blocks[2]["type"] == "context"
    assert blocks[2]["elements"][0]["text"] == "Example News · 2024-07-05 09:30 UTC · score 0.87"
    why = blocks[3]["text"]["text"]
    assert why.startswith("*Why:* Orbán (EU head of government); visit to Moscow\n>Hungarian Prime Minister")
    assert payload["text"].startswith(
        "EU leader visits to Moscow: Orbán arrives in Moscow for talks with Putin"
    )
    assert URL in payload["text"]
    assert URL in json.dumps(payload, ensure_ascii=False)
    assert URL in json.dumps(payload)


def test_slack_escapes_control_characters_so_feeds_cannot_ping_or_link() -> None:
    payload = render_slack(hostile_alert())
    dumped = json.dumps(payload, ensure_ascii=False)
    assert "<!channel>" not in dumped
    assert "<script>" not in dumped
    assert "&lt;!channel&gt;" in dumped
    assert slack_escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    # the only < left are the link we made
    assert re.findall(r"<[^>]*>", payload["blocks"][1]["text"]["text"]) == [
        f"<{URL}|{slack_escape(HOSTILE)}>"
    ]


def test_slack_respects_block_kit_limits_without_splitting_an_entity() -> None:
    alert = make_alert(text="& " * 5000, title="x" * 400)
    alert = replace(
        alert,
        watchlist="W" * 400,
        match=replace(alert.match, snippet="<" * 5000, why=tuple("reason" for _ in range(600))),
    )
    payload = render_slack(alert)
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) <= SLACK_HEADER_CHARS
    for block in payload["blocks"]:
        if block["type"] == "section":
            text = block["text"]["text"]
            assert len(text) <= SLACK_SECTION_CHARS
            assert not re.search(r"&(a|am|amp|l|lt|g|gt)?…", text), text[-20:]


def test_slack_link_survives_characters_that_would_end_it() -> None:
    payload = render_slack(make_alert(url="https://example.org/a|b<c>d"))
    assert payload["blocks"][1]["text"]["text"].startswith("*<https://example.org/a%7Cb%3Cc%3Ed|")


# ---- console -------------------------------------------------------------------------------------


def test_console_block_is_readable_and_complete() -> None:
    block = render_console(replace(make_alert(), related_outlets=("Reuters",)))
    lines = block.splitlines()
    assert lines[0].startswith("── EU leader visits to Moscow ")
    assert lines[1] == "Orbán arrives in Moscow for talks with Putin"
    assert lines[2] == URL
    assert lines[3] == "Example News · 2024-07-05 09:30 UTC"
    assert lines[4] == "Why: Orbán (EU head of government); visit to Moscow (score 0.87)"
    assert "Hungarian Prime Minister Viktor Orbán arrived in Moscow on Friday." in lines[5]
    assert "Also reported by: Reuters" in lines
    assert block.endswith("\n\n")


def test_console_strips_terminal_escape_sequences() -> None:
    block = render_console(make_alert(title="\x1b[2J\x1b[31mOrbán\x07 in Moscow"))
    assert "\x1b" not in block and "\x07" not in block
    assert "[31mOrbán in Moscow" in block


def test_console_without_outlet_names_the_host() -> None:
    block = render_console(make_alert(outlet=None, published=None))
    assert "news.example.org · time unknown" in block


# ---- webhook -------------------------------------------------------------------------------------


def test_webhook_document_is_stable() -> None:
    document = render_webhook(make_alert(status=ExtractionStatus.TEASER))
    assert document == {
        "watchlist": "EU leader visits to Moscow",
        "article": {
            "url": URL,
            "title": "Orbán arrives in Moscow for talks with Putin",
            "outlet": "Example News",
            "published": "2024-07-05T09:30:00Z",
            "lang": "en",
            "status": "teaser",
            "excerpt": excerpt(TEXT),
        },
        "match": {
            "score": 0.873,
            "why": ["Orbán (EU head of government)", "visit to Moscow"],
            "snippet": "Hungarian Prime Minister Viktor Orbán arrived in Moscow on Friday.",
        },
        "delivery_key": "d-1",
    }
    assert json.loads(json.dumps(document)) == document


def test_webhook_document_without_time() -> None:
    assert render_webhook(make_alert(published=None))["article"]["published"] is None
    naive = render_webhook(make_alert(published=datetime(2024, 1, 2, 3, 4, 5)))
    assert naive["article"]["published"] == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).isoformat().replace(
        "+00:00", "Z"
    )


def test_excerpt_does_not_repeat_the_snippet() -> None:
    first = TEXT[: TEXT.index(",") + 1]
    alert = make_alert()
    alert = replace(alert, match=replace(alert.match, snippet=first))
    text = render_email(alert).text
    assert text.count(first) == 1
    assert "\ndays after taking over the rotating presidency" in text
    assert render_slack(alert)["blocks"][4]["text"]["text"].startswith("days after taking over")
    assert render_webhook(alert)["article"]["excerpt"].startswith(first)  # data stays whole


def test_the_score_is_said_once_when_the_reasons_carry_it() -> None:
    from monitor.render import why_line
    from monitor.types import Alert, Article, Match

    alert = Alert("w", Article(url="https://n.example/a", title="T", text="x"),
                  Match("w", 0.86, ('place: Moscow — "Moscow"', "score 0.86 ≥ 0.6")))
    assert why_line(alert).count("0.86") == 1
    bare = Alert("w", Article(url="https://n.example/a", title="T", text="x"), Match("w", 0.86, ("place: Moscow",)))
    assert why_line(bare) == "place: Moscow (score 0.86)"
