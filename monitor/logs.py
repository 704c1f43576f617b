"""Structured logging: one event name per line plus stable snake_case keys.

    2026-11-28T03:05:00Z WARNING feed_error feed_url=https://example.org/rss error="HTTP 500"

`--log-format json` prints the same events as JSON lines. Secrets never reach a log line: the
callers name channels, never their URLs or passwords, and `redact` masks anything that looks like
a credential in free text (error messages from libraries).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_SECRET = re.compile(r"(https://hooks\.slack\.com/services/)[^\s\"']+|(://[^/\s:@]+:)[^@\s/]+@", re.I)


def redact(text: str) -> str:
    """Mask Slack webhook paths and passwords in URLs."""
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + "***" + ("@" if m.group(2) else ""), text)


def _redacted(value: Any) -> Any:
    """`value` for a JSON line, with every string in it redacted: lists and mappings too (a list of
    refused addresses, a dict of headers), and anything else by its str(), as json.dumps would print it."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {redact(str(k)): _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redacted(v) for v in value]
    return redact(str(value))


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


def _quote(value: Any) -> str:
    text = redact(str(value))
    if not text or any(c in text for c in ' ="\n\t'):
        return json.dumps(text, ensure_ascii=False)
    return text


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [stamp, record.levelname, redact(record.getMessage())]
        parts += [f"{k}={_quote(v)}" for k, v in _fields(record).items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": redact(record.getMessage()),
            "logger": record.name,
        }
        doc.update({k: _redacted(v) for k, v in _fields(record).items()})
        if record.exc_info:
            doc["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(doc, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Logs go to stderr, so alerts printed by the console channel stay alone on stdout."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "charset_normalizer", "watchfiles", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    for chatty in ("trafilatura", "htmldate", "courlan", "readability", "justext"):
        # They log "discarding data" at WARNING for every page without text: our status says it better.
        logging.getLogger(chatty).setLevel(logging.ERROR)
