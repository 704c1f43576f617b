"""Alert → the text a person reads, one function per channel. Pure: no I/O, no clock, no settings.

Every string that comes from a feed (title, outlet, snippet, text) is untrusted: it is flattened to
one line where a header or a console line needs it, stripped of control characters (a title with
ANSI escapes must not repaint a terminal), HTML-escaped for email and Slack-escaped for Slack, so
an article can neither inject markup nor ping ``<!channel>``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from monitor.types import Alert, Article, ExtractionStatus, StoryUpdate

EXCERPT_CHARS = 400
SUBJECT_TITLE_CHARS = 180
SLACK_HEADER_CHARS = 150  # Block Kit: header text is at most 150 characters
SLACK_SECTION_CHARS = 3000  # Block Kit: section text is at most 3000 characters
SLACK_CONTEXT_CHARS = 2000

STATUS_NOTES: dict[ExtractionStatus, str] = {
    ExtractionStatus.TEASER: "Only a teaser of the article could be read (paywall or short page).",
    ExtractionStatus.SUMMARY: "The article page could not be read: this is the feed's summary.",
    ExtractionStatus.FAILED: "The article text could not be read: matched on the title only.",
}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u2029]")
_SPACE = re.compile(r"\s+")
_LANG_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True, slots=True)
class EmailContent:
    """One email: its subject and both bodies of a multipart/alternative message."""

    subject: str
    text: str
    html: str


# ---- shared pieces -------------------------------------------------------------------------------


def one_line(value: str) -> str:
    """Collapse every run of whitespace (newlines included) and drop control characters."""
    return _SPACE.sub(" ", _CONTROL.sub(" ", value)).strip()


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ~limit characters, cut at a word boundary so no word is shown half."""
    flat = one_line(text)
    if len(flat) <= limit:
        return flat
    cut = flat[: limit + 1]
    space = cut.rfind(" ")
    # Scripts written without spaces (Chinese, Japanese, Thai) have no boundary to find: cut hard.
    cut = cut[:space] if space > limit // 2 else flat[:limit]
    return cut.rstrip(" ,;:-–—") + "…"


def format_time(when: datetime | None) -> str:
    """'2024-07-05 09:30 UTC'; a naive time is taken to be UTC already (feeds without a zone)."""
    if when is None:
        return "time unknown"
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M UTC")


def iso_time(when: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z, or None."""
    if when is None:
        return None
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")


def format_score(score: float) -> str:
    return f"{score:.2f}"


def reasons_line(alert: Alert) -> str:
    """The reasons joined into one line a person reads at a glance."""
    return "; ".join(one_line(w) for w in alert.match.why if one_line(w))


def why_line(alert: Alert) -> str:
    """The reasons with the score, for channels that show the score nowhere else."""
    reasons = reasons_line(alert)
    score = f"score {format_score(alert.match.score)}"
    if any(reason.startswith("score ") for reason in alert.match.why):
        return reasons  # the matcher already said it, with its threshold
    return f"{reasons} ({score})" if reasons else score


def _title(alert: Alert) -> str:
    return one_line(alert.article.title) or alert.article.url


def _outlet(alert: Alert) -> str:
    return one_line(alert.article.outlet or "") or _host(alert.article.url)


def _host(url: str) -> str:
    match = re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#@]*@)?([^/?#:]+)", url)
    return match.group(2) if match else "unknown outlet"


def _body_text(alert: Alert) -> str:
    return alert.article.text or alert.article.summary


def _reading_excerpt(alert: Alert) -> str:
    """The excerpt shown under the snippet; when the text opens with the snippet, it goes on after it
    rather than show the same sentence twice."""
    body = one_line(_body_text(alert))
    snippet = one_line(alert.match.snippet)
    if snippet and body.startswith(snippet):
        body = body[len(snippet) :].lstrip()
    return excerpt(body)


def _related(alert: Alert) -> str:
    names = [one_line(o) for o in alert.related_outlets if one_line(o)]
    return ", ".join(names)


def _truncate(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _is_web_url(url: str) -> bool:
    """Only http(s) becomes a link: a feed must not smuggle javascript: or data: into a mail."""
    return url.lower().startswith(("http://", "https://"))


# ---- email ---------------------------------------------------------------------------------------


def render_email(alert: Alert, *, subject_prefix: str = "[news-monitor]") -> EmailContent:
    """Subject, plain text and HTML of the email for one alert."""
    title = _title(alert)
    watchlist = one_line(alert.watchlist)
    subject = f"{watchlist}: {_truncate(title, SUBJECT_TITLE_CHARS)}"
    prefix = one_line(subject_prefix)
    return EmailContent(
        subject=f"{prefix} {subject}" if prefix else subject,
        text=_email_text(alert),
        html=_email_html(alert),
    )


def _email_text(alert: Alert) -> str:
    article = alert.article
    lines = [
        f"Watchlist: {one_line(alert.watchlist)}",
        "",
        _title(alert),
        article.url,  # on a line of its own, verbatim, so every client makes it clickable
        f"{_outlet(alert)} · {format_time(article.published)}",
        "",
        f"Why: {why_line(alert)}",
    ]
    snippet = one_line(alert.match.snippet)
    if snippet:
        lines += ["", f"> {snippet}"]
    body = _reading_excerpt(alert)
    if body:
        lines += ["", body]
    note = STATUS_NOTES.get(article.status)
    if note:
        lines += ["", f"Note: {note}"]
    related = _related(alert)
    if related:
        lines += ["", f"Also reported by: {related}"]
    lines += ["", "-- ", f"news-monitor · watchlist {one_line(alert.watchlist)}"]
    return "\n".join(lines) + "\n"


_FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"
_MUTED = "color:#5f6368"


def _email_html(alert: Alert) -> str:
    """Inline styles only and nothing remote: clients strip <style> and block remote content."""
    article = alert.article

    def esc(value: str) -> str:
        return html.escape(value, quote=True)

    title = esc(_title(alert))
    if _is_web_url(article.url):
        headline = f'<a href="{esc(article.url)}" style="color:#0b57d0;text-decoration:none">{title}</a>'
    else:
        headline = title
    lang_attr = f' lang="{article.lang}"' if article.lang and _LANG_TAG.fullmatch(article.lang) else ""
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{esc(one_line(alert.watchlist))}</title></head>",
        f'<body style="margin:0;padding:16px;background:#ffffff;color:#202124;{_FONT};'
        'font-size:15px;line-height:1.5">',
        '<div style="max-width:640px;margin:0 auto">',
        f'<p style="margin:0 0 4px;font-size:12px;{_MUTED};letter-spacing:.03em">'
        f"WATCHLIST · {esc(one_line(alert.watchlist))}</p>",
        f'<h1 style="margin:0 0 6px;font-size:20px;line-height:1.3;font-weight:600"{lang_attr}>'
        f"{headline}</h1>",
        f'<p style="margin:0 0 14px;font-size:13px;{_MUTED}">{esc(_outlet(alert))} · '
        f"{esc(format_time(article.published))}</p>",
        '<p style="margin:0 0 14px;padding:8px 12px;background:#f1f5fb;border-left:3px solid #0b57d0">'
        f"<strong>Why:</strong> {esc(why_line(alert))}</p>",
    ]
    snippet = one_line(alert.match.snippet)
    if snippet:
        parts.append(
            '<blockquote style="margin:0 0 14px;padding:0 0 0 12px;border-left:3px solid #dadce0;'
            f'{_MUTED};font-style:italic">{esc(snippet)}</blockquote>'
        )
    body = _reading_excerpt(alert)
    if body:
        parts.append(f'<p style="margin:0 0 14px">{esc(body)}</p>')
    note = STATUS_NOTES.get(article.status)
    if note:
        parts.append(
            f'<p style="margin:0 0 14px;padding:6px 10px;background:#fef7e0;font-size:13px">{esc(note)}</p>'
        )
    related = _related(alert)
    if related:
        parts.append(f'<p style="margin:0 0 14px;font-size:13px">Also reported by: {esc(related)}</p>')
    if _is_web_url(article.url):
        parts.append(
            f'<p style="margin:0 0 14px;font-size:13px;word-break:break-all"><a href="{esc(article.url)}"'
            f' style="color:#0b57d0">{esc(article.url)}</a></p>'
        )
    parts += [
        f'<p style="margin:24px 0 0;font-size:12px;{_MUTED}">Sent by news-monitor for the watchlist '
        f"{esc(one_line(alert.watchlist))}.</p>",
        "</div></body></html>",
    ]
    return "\n".join(parts) + "\n"


# ---- Slack ---------------------------------------------------------------------------------------


def slack_escape(value: str) -> str:
    """Slack's three control characters, and only those (api.slack.com/reference/surfaces/formatting)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_fit(value: str, limit: int) -> str:
    """Escape, then cut so the escaped text fits `limit` without splitting an entity."""
    out: list[str] = []
    used = 0
    for char in value:
        piece = slack_escape(char)
        if used + len(piece) > limit - 1:
            return "".join(out).rstrip() + "…"
        out.append(piece)
        used += len(piece)
    return "".join(out)


def _slack_url(url: str) -> str:
    """The URL as it must stand inside <url|text>: < > | would end the link, so percent-encode them."""
    return url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace(" ", "%20")


def render_slack(alert: Alert) -> dict[str, Any]:
    """A Block Kit payload for an incoming webhook, with a plain-text fallback for notifications."""
    article = alert.article
    url = _slack_url(article.url)
    title = _slack_fit(_title(alert), 500)
    link = f"*<{url}|{title}>*" if _is_web_url(article.url) else f"*{title}*"
    score = f"score {format_score(alert.match.score)}"
    meta = f"{_slack_fit(_outlet(alert), 300)} · {format_time(article.published)} · {score}"
    header = _truncate(one_line(alert.watchlist), SLACK_HEADER_CHARS) or "news-monitor"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": False}},
        {"type": "section", "text": _mrkdwn(link)},
        {"type": "context", "elements": [_mrkdwn(meta)]},
    ]
    # The score is in the context line above; here only the reasons.
    why = "*Why:* " + _slack_fit(reasons_line(alert) or score, SLACK_SECTION_CHARS // 2)
    snippet = one_line(alert.match.snippet)
    if snippet:
        why += "\n>" + _slack_fit(snippet, SLACK_SECTION_CHARS - len(why) - 2)
    blocks.append({"type": "section", "text": _mrkdwn(why)})
    body = _reading_excerpt(alert)
    if body:
        blocks.append({"type": "section", "text": _mrkdwn(_slack_fit(body, SLACK_SECTION_CHARS))})
    status_note = STATUS_NOTES.get(article.status)
    notes = [status_note] if status_note else []
    related = _related(alert)
    if related:
        notes.append("Also reported by: " + related)
    if notes:
        elements = [_mrkdwn(_slack_fit(note, SLACK_CONTEXT_CHARS)) for note in notes]
        blocks.append({"type": "context", "elements": elements})
    fallback = f"{_slack_fit(one_line(alert.watchlist), 200)}: {title}\n{url}"
    return {"text": fallback, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


# ---- console -------------------------------------------------------------------------------------


def render_console(alert: Alert) -> str:
    """One block per alert, readable in a terminal or a journal, ending with a blank line."""
    if alert.update is not None:
        return _console_update(alert, alert.update)
    article = alert.article
    head = f"── {one_line(alert.watchlist)} "
    lines = [
        head + "─" * max(3, 72 - len(head)),
        _title(alert),
        one_line(article.url),
        f"{_outlet(alert)} · {format_time(article.published)}",
        f"Why: {why_line(alert)}",
    ]
    snippet = one_line(alert.match.snippet)
    if snippet:
        lines.append(f"  “{_truncate(snippet, 600)}”")
    note = STATUS_NOTES.get(article.status)
    if note:
        lines.append(f"Note: {note}")
    related = _related(alert)
    if related:
        lines.append(f"Also reported by: {related}")
    return "\n".join(lines) + "\n\n"


def _console_update(alert: Alert, update: StoryUpdate) -> str:
    """An update: the story it updates (the first alert's title and time), then what is new."""
    head = f"── Update · {one_line(alert.watchlist)} "
    lines = [head + "─" * max(3, 72 - len(head)), story_title(update),
             f"Alerted {format_time(alert_time(update))}; since then: {one_line(update.reason)}"]
    if update.confirmation is not None:
        lines += [f"Confirmed: {article_line(update.confirmation)}", f"  {one_line(update.confirmation.url)}"]
    for report in update.reports:
        if report != update.confirmation:
            lines += [f"New: {article_line(report)}", f"  {one_line(report.url)}"]
    return "\n".join(lines) + "\n\n"


# ---- story updates: shared pieces ------------------------------------------------------------------


def story_title(update: StoryUpdate) -> str:
    """The story's title as its first alert showed it."""
    return one_line(update.first.title) or update.first.url


def alert_time(update: StoryUpdate) -> datetime | None:
    """When the first alert went out (or, before it did, when its article was published)."""
    return update.first_sent_at or update.first.published


def article_line(article: Article) -> str:
    """"Outlet: Title", one line."""
    outlet = one_line(article.outlet or "") or _host(article.url)
    return f"{outlet}: {one_line(article.title) or article.url}"


def update_summary(alert: Alert) -> str:
    """One line saying what an update adds: "official confirmation, 3 new outlets (A, B, C)"."""
    update = alert.update
    if update is None:
        return ""
    outlets = ", ".join(dict.fromkeys(one_line(a.outlet or "") or _host(a.url) for a in update.reports))
    return f"{one_line(update.reason)} ({outlets})" if outlets else one_line(update.reason)


def _digest_title(alert: Alert) -> str:
    """A digest lists an update under its story's title, marked as an update."""
    return f"Update: {story_title(alert.update)}" if alert.update is not None else _title(alert)


# ---- webhook -------------------------------------------------------------------------------------


def render_webhook(alert: Alert) -> dict[str, Any]:
    """A stable JSON document: receivers parse these keys, so add keys but never rename them."""
    article = alert.article
    if alert.update is not None:
        return render_webhook_update(alert)
    return {
        "watchlist": alert.watchlist,
        "article": {
            "url": article.url,
            "title": article.title,
            "outlet": article.outlet,
            "published": iso_time(article.published),
            "lang": article.lang,
            "status": article.status.value,
            "excerpt": excerpt(_body_text(alert)),
        },
        "match": {
            "score": alert.match.score,
            "why": list(alert.match.why),
            "snippet": alert.match.snippet,
        },
        "delivery_key": alert.delivery_key,
    }


# ---- digests: several alerts in one message --------------------------------------------------------

SLACK_DIGEST_ITEMS = 45  # Block Kit allows 50 blocks per message: a header, the items, a "more" line


def render_digest_text(title: str, alerts: Sequence[Alert]) -> str:
    """The plain-text digest (email text part, console, Apprise): one short block per story."""
    lines = [one_line(title), ""]
    for i, alert in enumerate(alerts, 1):
        article = alert.article
        lines += [
            f"{i}. [{one_line(alert.watchlist)}] {_digest_title(alert)}",
            f"   {article.url}",
            f"   {_outlet(alert)} · {format_time(article.published)}",
            *([f"   Since the alert: {update_summary(alert)}"] if alert.update is not None else []),
            f"   Why: {why_line(alert)}",
            "",
        ]
    lines += ["-- ", "news-monitor"]
    return "\n".join(lines) + "\n"


def render_digest_email(title: str, alerts: Sequence[Alert], *,
                        subject_prefix: str = "[news-monitor]") -> EmailContent:
    watchlists = sorted({one_line(a.watchlist) for a in alerts})
    subject = f"{one_line(title)} ({_truncate(', '.join(watchlists), SUBJECT_TITLE_CHARS)})"
    prefix = one_line(subject_prefix)

    def esc(value: str) -> str:
        return html.escape(value, quote=True)

    items = []
    for alert in alerts:
        article = alert.article
        head = esc(_digest_title(alert))
        if _is_web_url(article.url):
            head = f'<a href="{esc(article.url)}" style="color:#0b57d0;text-decoration:none">{head}</a>'
        since = (f'<span style="font-size:13px">Since the alert: {esc(update_summary(alert))}</span><br>'
                 if alert.update is not None else "")
        items.append(
            f'<li style="margin:0 0 14px"><span style="font-size:12px;{_MUTED}">'
            f"{esc(one_line(alert.watchlist))}</span><br><strong>{head}</strong><br>"
            f'<span style="font-size:13px;{_MUTED}">{esc(_outlet(alert))} · '
            f"{esc(format_time(article.published))}</span><br>{since}"
            f'<span style="font-size:13px">Why: {esc(why_line(alert))}</span></li>')
    page = "\n".join([
        "<!DOCTYPE html>", '<html><head><meta charset="utf-8">', f"<title>{esc(one_line(title))}</title></head>",
        f'<body style="margin:0;padding:16px;color:#202124;{_FONT};font-size:15px;line-height:1.5">',
        '<div style="max-width:640px;margin:0 auto">',
        f'<h1 style="margin:0 0 12px;font-size:20px">{esc(one_line(title))}</h1>',
        '<ol style="padding-left:20px">', *items, "</ol>",
        f'<p style="margin:24px 0 0;font-size:12px;{_MUTED}">Sent by news-monitor.</p>',
        "</div></body></html>"])
    return EmailContent(subject=f"{prefix} {subject}" if prefix else subject,
                        text=render_digest_text(title, alerts), html=page + "\n")


def render_digest_slack(title: str, alerts: Sequence[Alert]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _truncate(one_line(title), SLACK_HEADER_CHARS)}}]
    for alert in alerts[:SLACK_DIGEST_ITEMS]:
        article = alert.article
        head = _slack_fit(_digest_title(alert), 500)
        if _is_web_url(article.url):
            head = f"<{_slack_url(article.url)}|{head}>"
        meta = f"{_slack_fit(one_line(alert.watchlist), 200)} · {_slack_fit(_outlet(alert), 300)}"
        since = f"_Since the alert:_ {_slack_fit(update_summary(alert), 600)}\n" if alert.update is not None else ""
        text = (f"*{head}*\n{meta} · {format_time(article.published)}\n{since}"
                f"_Why:_ {_slack_fit(why_line(alert), SLACK_SECTION_CHARS - 1200)}")
        blocks.append({"type": "section", "text": _mrkdwn(text)})
    if len(alerts) > SLACK_DIGEST_ITEMS:
        more = f"…and {len(alerts) - SLACK_DIGEST_ITEMS} more: see `monitor matches`"
        blocks.append({"type": "context", "elements": [_mrkdwn(more)]})
    fallback = f"{_slack_fit(one_line(title), 200)}"
    return {"text": fallback, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def render_digest_console(title: str, alerts: Sequence[Alert]) -> str:
    head = f"══ {one_line(title)} "
    return head + "═" * max(3, 72 - len(head)) + "\n" + "".join(render_console(a) for a in alerts)


def render_digest_webhook(title: str, alerts: Sequence[Alert], key: str) -> dict[str, Any]:
    """`{"digest": title, "alerts": [the single-alert document...], "delivery_key"}`."""
    return {"digest": title, "alerts": [render_webhook(a) for a in alerts], "delivery_key": key}


def render_webhook_update(alert: Alert) -> dict[str, Any]:
    """The single-alert document of the report that made the story earn the update, plus
    `"kind": "update"`, `"update_of"` (the first alert's delivery key: receivers that deduplicate on
    it find the alert this updates) and `"update"` saying what changed. Alerts have neither key."""
    update = alert.update
    if update is None:
        return render_webhook(alert)

    def article(a: Article) -> dict[str, Any]:
        return {"url": a.url, "title": a.title, "outlet": a.outlet, "published": iso_time(a.published)}

    return {**render_webhook(replace(alert, update=None)), "kind": "update", "update_of": update.first_key, "update": {
        "reason": update.reason, "first": {**article(update.first), "sent_at": iso_time(update.first_sent_at)},
        "new_outlets": [article(a) for a in update.reports],
        "confirmation": article(update.confirmation) if update.confirmation is not None else None}}
