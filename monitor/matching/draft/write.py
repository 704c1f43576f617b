"""Plain values with comments → the YAML text of a drafted watchlist, written for a person to edit.

A YAML library would drop or misplace the comments that say where each rule comes from, and those
comments are the point of a draft, so the text is written here: block style for the structure,
flow style (`{near: [...], in: title}`) for conditions that fit on a line, long word lists wrapped.
The result is parsed back and compared with the values it was written from before anyone sees it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

WIDTH = 110
_PLAIN = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`=<][^:#,\[\]{}]*$|^=[^\s:#,\[\]{}]+[^:#,\[\]{}]*$")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})
_NUMBER = re.compile(r"^[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?$|^0[xob]|^[-+]?\.(inf|nan)$", re.I)


@dataclass(frozen=True)
class Commented:
    """A list item or mapping value with comment lines written above it."""

    value: Any
    comment: tuple[str, ...]


@dataclass(frozen=True)
class Anchor:
    """A value written once with a name (&name) and reused below (*name)."""

    name: str
    value: Any


@dataclass(frozen=True)
class Alias:
    name: str


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    text = str(value)
    if (text and _PLAIN.match(text) and text == text.strip() and text.lower() not in _RESERVED
            and not _NUMBER.match(text) and ": " not in text and " #" not in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _plain_data(value: Any, anchors: dict[str, Any]) -> Any:
    """The value as the YAML loader will give it back: comments gone, aliases resolved, numbers as written."""
    if isinstance(value, Commented):
        return _plain_data(value.value, anchors)
    if isinstance(value, Anchor):
        anchors[value.name] = plain = _plain_data(value.value, anchors)
        return plain
    if isinstance(value, Alias):
        return anchors[value.name]
    if isinstance(value, Mapping):
        return {k: _plain_data(v, anchors) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_data(v, anchors) for v in value]
    if isinstance(value, float):
        return float(scalar(value))
    return value


def _has_comments(value: Any) -> bool:
    if isinstance(value, Commented):
        return True
    if isinstance(value, Anchor):
        return _has_comments(value.value)
    if isinstance(value, Mapping):
        return any(_has_comments(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_comments(v) for v in value)
    return False


def flow(value: Any) -> str:
    if isinstance(value, Anchor):
        return f"&{value.name} {flow(value.value)}"
    if isinstance(value, Alias):
        return f"*{value.name}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def _wrapped_list(prefix: str, items: Sequence[Any], indent: int) -> list[str]:
    """`prefix[a, b, c,` continued on lines aligned under the first item."""
    pad = " " * (len(prefix) + 1)
    lines: list[str] = []
    current = prefix + "["
    for n, item in enumerate(items):
        piece = flow(item) + (", " if n < len(items) - 1 else "]")
        if len(current) + len(piece.rstrip()) > WIDTH and current.strip() not in (prefix.strip() + "[",):
            lines.append(current.rstrip())
            current = pad + piece
        else:
            current += piece
    lines.append(current.rstrip())
    return lines


def _fits(prefix: str, value: Any) -> bool:
    return not _has_comments(value) and len(prefix) + len(flow(value)) <= WIDTH


def _comment_lines(comment: Sequence[str], indent: int) -> list[str]:
    return [(" " * indent + "# " + line).rstrip() if line else " " * indent + "#" for line in comment]


def block(value: Any, indent: int) -> list[str]:
    """A mapping or list written in block style at `indent`."""
    lines: list[str] = []
    pad = " " * indent
    if isinstance(value, Mapping):
        for key, item in value.items():
            comment: Sequence[str] = ()
            if isinstance(item, Commented):
                comment, item = item.comment, item.value
            lines += _comment_lines(comment, indent)
            lines += _entry(f"{pad}{scalar(key)}:", item, indent)
        return lines
    for item in value:
        comment = ()
        if isinstance(item, Commented):
            comment, item = item.comment, item.value
        lines += _comment_lines(comment, indent)
        lines += _item(f"{pad}- ", item, indent)
    return lines


def _entry(prefix: str, item: Any, indent: int) -> list[str]:
    anchor = ""
    if isinstance(item, Anchor):
        anchor, item = f" &{item.name}", item.value
    if isinstance(item, Alias):
        return [f"{prefix} *{item.name}"]
    if not isinstance(item, Mapping | list | tuple):
        return [f"{prefix}{anchor} {scalar(item)}"]
    if _fits(prefix + anchor + " ", item):
        return [f"{prefix}{anchor} {flow(item)}"]
    if isinstance(item, list | tuple) and not _has_comments(item) and all(
            not isinstance(v, Mapping | list | tuple) for v in item):
        return _wrapped_list(f"{prefix}{anchor} ", item, indent)
    return [f"{prefix}{anchor}"] + block(item, indent + 2)


def _item(prefix: str, item: Any, indent: int) -> list[str]:
    if not isinstance(item, Mapping) or _fits(prefix, item):
        if isinstance(item, list | tuple) and not _fits(prefix, item):
            return [prefix.rstrip()] + block(item, indent + 2)
        return [prefix + flow(item)]
    inner = block(item, indent + 2)
    # The first line of the mapping goes on the dash's line; comments of its first key stay above.
    head = 0
    while inner[head].lstrip().startswith("#"):
        head += 1
    return inner[:head] + [prefix + inner[head].lstrip()] + inner[head + 1:]


def document(header: Sequence[str], body: Mapping[str, Any]) -> str:
    """The whole file: a comment header, then the top-level keys with a blank line between blocks."""
    lines = _comment_lines(header, 0)
    for n, (key, value) in enumerate(body.items()):
        part = block({key: value}, 0)
        big = len(part) > 1 or (isinstance(value, Commented) and n > 0)
        if lines and big and lines[-1] != "":
            lines.append("")
        lines += part
    text = "\n".join(lines) + "\n"
    loaded = YAML(typ="safe", pure=True).load(text)
    if loaded != _plain_data(dict(body), {}):
        raise AssertionError("the drafted YAML does not read back as written")  # a bug in this module
    return text
