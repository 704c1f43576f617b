"""A story update → the text a person reads, per channel. Pure, like monitor.render, whose escaping it uses.

An update says which alert it updates (its title and time: in a thread that is context, outside
one it is the whole link) and what changed: the confirming report, and the outlets that reported
the story since, each with its link.

Email threads by subject as much as by headers: Gmail files a message in a conversation only when
its subject is the conversation's (a "Re: " prefix is ignored) and Outlook groups by subject
(Thread-Topic), while Thunderbird follows In-Reply-To/References. So the update's subject is
"Re: " and the first alert's subject, and what changed goes first in the body.
"""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Any

from monitor.render import (
    _FONT,
    _MUTED,
    SLACK_CONTEXT_CHARS,
    SLACK_SECTION_CHARS,
    EmailContent,
    alert_time,
    article_line,
    format_time,
    one_line,
    render_email,
    story_title,
)
from monitor.render import _is_web_url as _web
from monitor.render import _slack_fit as _fit
from monitor.render import _slack_url as _url
from monitor.types import Alert, Article, StoryUpdate

SLACK_REPORTS = 12
"""New outlets listed in a Slack update; the rest are counted (a section holds 3000 characters)."""


def update_of(alert: Alert) -> StoryUpdate:
    if alert.update is None:
        raise ValueError("not an update: the alert has no `update`")
    return alert.update


def first_subject(alert: Alert, *, subject_prefix: str) -> str:
    """The subject the first alert's email had (same watchlist, its article's title)."""
    first = replace(alert, article=update_of(alert).first, update=None)
    return render_email(first, subject_prefix=subject_prefix).subject


def render_update_email(alert: Alert, *, subject_prefix: str = "[news-monitor]") -> EmailContent:
    """Subject "Re: <the first alert's subject>", and a body that says what changed, with links."""
    subject = first_subject(alert, subject_prefix=subject_prefix)
    return EmailContent(subject=f"Re: {subject}", text=update_text(alert), html=_update_html(alert))


def update_title(alert: Alert) -> str:
    """"Update: <story title>", for channels with a title line (Apprise)."""
    return f"Update: {story_title(update_of(alert))}"


def update_text(alert: Alert) -> str:
    """The plain-text update (email text part, Apprise)."""
    update = update_of(alert)
    lines = [f"Update: {one_line(update.reason)}", "",
             f"The story of the alert of {format_time(alert_time(update))} for {one_line(alert.watchlist)}:",
             story_title(update), update.first.url]
    if update.confirmation is not None:
        lines += ["", "Confirmed:", *_text_item(update.confirmation)]
    others = [r for r in update.reports if r != update.confirmation]
    if others:
        lines += ["", "Now also reported by:"]
        for report in others:
            lines += _text_item(report)
    lines += ["", "-- ", f"news-monitor · watchlist {one_line(alert.watchlist)}"]
    return "\n".join(lines) + "\n"


def _text_item(article: Article) -> list[str]:
    return [f"- {article_line(article)}", f"  {article.url}"]


def _update_html(alert: Alert) -> str:
    """Inline styles only and nothing remote, like the alert it replies to."""
    update = update_of(alert)

    def esc(value: str) -> str:
        return html.escape(value, quote=True)

    def link(article: Article, text: str) -> str:
        if _web(article.url):
            return f'<a href="{esc(article.url)}" style="color:#0b57d0">{esc(text)}</a>'
        return esc(text)

    def item(article: Article) -> str:
        outlet = one_line(article.outlet or "")
        title = one_line(article.title) or article.url
        when = format_time(article.published)
        return (f'<li style="margin:0 0 8px">{esc(outlet) + ": " if outlet else ""}{link(article, title)}'
                f'<br><span style="font-size:12px;{_MUTED}">{esc(when)}</span></li>')

    parts = [
        "<!DOCTYPE html>", '<html><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{esc(story_title(update))}</title></head>",
        f'<body style="margin:0;padding:16px;background:#ffffff;color:#202124;{_FONT};font-size:15px;line-height:1.5">',
        '<div style="max-width:640px;margin:0 auto">',
        f'<p style="margin:0 0 4px;font-size:12px;{_MUTED};letter-spacing:.03em">'
        f"UPDATE · {esc(one_line(alert.watchlist))}</p>",
        f'<h1 style="margin:0 0 6px;font-size:20px;line-height:1.3;font-weight:600">{esc(one_line(update.reason))}</h1>',
        f'<p style="margin:0 0 14px;font-size:13px;{_MUTED}">The story of the alert of '
        f"{esc(format_time(alert_time(update)))}: {link(update.first, story_title(update))}</p>",
    ]
    if update.confirmation is not None:
        parts += ['<p style="margin:0 0 4px"><strong>Confirmed:</strong></p>',
                  f'<ul style="margin:0 0 14px;padding-left:20px">{item(update.confirmation)}</ul>']
    others = [r for r in update.reports if r != update.confirmation]
    if others:
        parts += ['<p style="margin:0 0 4px"><strong>Now also reported by:</strong></p>',
                  '<ul style="margin:0 0 14px;padding-left:20px">', *(item(r) for r in others), "</ul>"]
    parts += [f'<p style="margin:24px 0 0;font-size:12px;{_MUTED}">Sent by news-monitor for the watchlist '
              f"{esc(one_line(alert.watchlist))}.</p>", "</div></body></html>"]
    return "\n".join(parts) + "\n"


def render_update_slack(alert: Alert, *, threaded: bool) -> dict[str, Any]:
    """Block Kit for an update. In its alert's thread it says what changed; posted on its own (a
    webhook cannot reply in a thread) it first quotes the alert it updates, with its time."""
    update = update_of(alert)
    reason = _fit(one_line(update.reason), 300)
    blocks: list[dict[str, Any]] = []
    if threaded:
        blocks.append({"type": "section", "text": _mrkdwn(f"*Update:* {reason}")})
    else:
        quoted = _fit(story_title(update), 500)
        first = f"<{_url(update.first.url)}|{quoted}>" if _web(update.first.url) else quoted
        blocks.append({"type": "section", "text": _mrkdwn(
            f"*Update:* {reason}\n>{first}\n_Updates the alert of {format_time(alert_time(update))}_")})
    if update.confirmation is not None:
        blocks.append({"type": "section", "text": _mrkdwn("*Confirmed:* " + _slack_item(update.confirmation))})
    others = [r for r in update.reports if r != update.confirmation]
    if others:
        lines = [f"• {_slack_item(r)}" for r in others[:SLACK_REPORTS]]
        text = _fit_lines("*Now also reported by:*", lines, SLACK_SECTION_CHARS - 40)
        blocks.append({"type": "section", "text": _mrkdwn(text)})
        if len(others) > SLACK_REPORTS:
            more = f"…and {len(others) - SLACK_REPORTS} more outlets: see `monitor stories`"
            blocks.append({"type": "context", "elements": [_mrkdwn(_fit(more, SLACK_CONTEXT_CHARS))]})
    fallback = f"Update: {_fit(story_title(update), 200)} ({reason})"
    return {"text": fallback, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def _slack_item(article: Article) -> str:
    outlet = _fit(one_line(article.outlet or ""), 200)
    title = _fit(one_line(article.title) or article.url, 300)
    linked = f"<{_url(article.url)}|{title}>" if _web(article.url) else title
    return f"{outlet}: {linked}" if outlet else linked


def _fit_lines(head: str, lines: list[str], limit: int) -> str:
    out = head
    for line in lines:
        if len(out) + 1 + len(line) > limit:
            break
        out += "\n" + line
    return out


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}
