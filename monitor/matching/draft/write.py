"""Plain values with comments → the YAML text of a drafted watchlist, written for a person to edit.

A YAML library would drop or misplace the comments that say where each rule comes from, and those
comments are the point of a draft, so the text is written here: block style for the structure,
flow style (`{near: [...], in: title}`) for conditions that fit on a line, long word lists wrapped.
A condition used twice (the same Python object) is written once with an anchor (`&leader`) and
then referred to (`*leader`), so that editing it once edits it everywhere. The text is parsed back
and compared with the values it was written from before anyone sees it.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

WIDTH = 110
_PLAIN = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`<][^:#,\[\]{}]*$")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})
_NUMBER = re.compile(r"^[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?$|^0[xob]|^[-+]?\.(inf|nan)$", re.I)
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Commented:
    """A list item or mapping value with comment lines written above it."""

    value: Any
    comment: tuple[str, ...]


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
    return str(json.dumps(text, ensure_ascii=False))


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Commented) else value


def _children(value: Any) -> list[Any]:
    value = _unwrap(value)
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, list | tuple):
        return list(value)
    return []


def _has_comments(value: Any) -> bool:
    return isinstance(value, Commented) or any(_has_comments(c) for c in _children(value))


def _plain(value: Any) -> Any:
    """The value as the YAML loader will give it back: comments gone, numbers as written."""
    value = _unwrap(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return float(scalar(value))
    return value


def _hint(value: Any) -> str:
    """A short anchor name from what a condition is about: its label, else its first class or word."""
    value = _unwrap(value)
    if isinstance(value, Mapping):
        label = value.get("label")
        if isinstance(label, str):
            return label
        for key, item in value.items():
            if isinstance(item, str) and key not in ("in", "within"):
                return item
        for item in value.values():
            found = _hint(item)
            if found:
                return found
    if isinstance(value, list | tuple):
        for item in value:
            found = _hint(item)
            if found:
                return found
    if isinstance(value, str):
        return value
    return ""


class _Writer:
    def __init__(self, body: Mapping[str, Any], wanted: Mapping[int, str]) -> None:
        counts: dict[int, int] = {}
        self._count(body, counts)
        self.shared = {k for k, n in counts.items() if n > 1}
        self.wanted = wanted
        self.names: dict[int, str] = {}
        self.used: set[str] = set()

    def _count(self, value: Any, counts: dict[int, int]) -> None:
        value = _unwrap(value)
        if isinstance(value, Mapping | list) and value:
            counts[id(value)] = counts.get(id(value), 0) + 1
            if counts[id(value)] > 1:
                return  # written once, aliased after: its insides are not repeated
        for child in _children(value):
            self._count(child, counts)

    def ref(self, value: Any) -> tuple[str, bool]:
        """('&name ', False) the first time a shared value is written, ('*name', True) after."""
        key = id(value)
        if key not in self.shared:
            return "", False
        if key in self.names:
            return f"*{self.names[key]}", True
        base = _SLUG.sub("_", (self.wanted.get(key) or _hint(value)).lower()).strip("_")[:24].strip("_") or "same"
        name = base
        n = 2
        while name in self.used:
            name = f"{base}_{n}"
            n += 1
        self.used.add(name)
        self.names[key] = name
        return f"&{name} ", False

    def flow(self, value: Any) -> str:
        value = _unwrap(value)
        if isinstance(value, Mapping | list | tuple):
            mark, alias = self.ref(value)
            if alias:
                return mark
            if isinstance(value, Mapping):
                return mark + "{" + ", ".join(f"{scalar(k)}: {self.flow(v)}" for k, v in value.items()) + "}"
            return mark + "[" + ", ".join(self.flow(v) for v in value) + "]"
        return scalar(value)

    def _fits(self, prefix: str, value: Any) -> bool:
        if _has_comments(value):
            return False
        saved = (dict(self.names), set(self.used))
        text = self.flow(value)
        self.names, self.used = saved  # measuring must not hand out anchors
        return len(prefix) + len(text) <= WIDTH

    def block(self, value: Any, indent: int) -> list[str]:
        lines: list[str] = []
        pad = " " * indent
        items = value.items() if isinstance(value, Mapping) else ((None, v) for v in value)
        for key, item in items:
            comment: Sequence[str] = ()
            if isinstance(item, Commented):
                comment, item = item.comment, item.value
            lines += comment_lines(comment, indent)
            lines += self._entry(f"{pad}{scalar(key)}:", item, indent) if key is not None else \
                self._item(f"{pad}- ", item, indent)
        return lines

    def _entry(self, prefix: str, item: Any, indent: int) -> list[str]:
        if not isinstance(item, Mapping | list | tuple):
            return [f"{prefix} {scalar(item)}"]
        if self._fits(prefix + " ", item):
            return [f"{prefix} {self.flow(item)}"]
        mark, alias = self.ref(item)
        if alias:
            return [f"{prefix} {mark}"]
        if isinstance(item, list | tuple) and all(not isinstance(v, Mapping | list | tuple | Commented) for v in item):
            return self._wrapped(f"{prefix} {mark}", item)
        return [f"{prefix} {mark}".rstrip(), *self.block(item, indent + 2)]

    def _item(self, prefix: str, item: Any, indent: int) -> list[str]:
        if not isinstance(item, Mapping | list | tuple) or self._fits(prefix, item):
            return [prefix + self.flow(item)]
        mark, alias = self.ref(item)
        if alias:
            return [prefix + mark]
        if isinstance(item, list | tuple):
            return [(prefix + mark).rstrip(), *self.block(item, indent + 2)]
        inner = self.block(item, indent + 2)
        head = 0
        while inner[head].lstrip().startswith("#"):
            head += 1
        if mark:  # an anchored mapping in a list: the anchor alone on the dash's line
            return [(prefix + mark).rstrip(), *inner]
        return [*inner[:head], prefix + inner[head].lstrip(), *inner[head + 1:]]

    def _wrapped(self, prefix: str, items: Sequence[Any]) -> list[str]:
        """`prefix[a, b, c,` continued on lines aligned under the first item."""
        pad = " " * (len(prefix) + 1)
        lines: list[str] = []
        current = prefix + "["
        for n, item in enumerate(items):
            piece = self.flow(item) + (", " if n < len(items) - 1 else "]")
            if len(current) + len(piece.rstrip()) > WIDTH and not current.endswith("["):
                lines.append(current.rstrip())
                current = pad + piece
            else:
                current += piece
        lines.append(current.rstrip())
        return lines


def comment_lines(comment: Sequence[str], indent: int) -> list[str]:
    """Comment lines at `indent`, long ones wrapped (continuations indented two more)."""
    pad = " " * indent + "#"
    lines: list[str] = []
    for line in comment:
        if not line:
            lines.append(pad)
            continue
        lead = len(line) - len(line.lstrip())
        wrapped = textwrap.wrap(line.strip(), max(40, WIDTH - indent - 2 - lead), subsequent_indent="  ",
                                break_on_hyphens=False, break_long_words=False)
        lines += [f"{pad} {' ' * lead}{w}".rstrip() for w in wrapped]
    return lines


def document(header: Sequence[str], body: Mapping[str, Any], anchors: Mapping[int, str] | None = None) -> str:
    """The whole file: a comment header, then the top-level keys, a blank line before each block.
    `anchors` names shared values (by id) that would otherwise be named after what they contain."""
    writer = _Writer(body, anchors or {})
    lines = comment_lines(header, 0)
    for key, value in body.items():
        part = writer.block({key: value}, 0)
        if lines and lines[-1] != "" and (len(part) > 1 or isinstance(value, Commented)):
            lines.append("")
        lines += part
    text = "\n".join(lines) + "\n"
    if YAML(typ="safe", pure=True).load(text) != _plain(dict(body)):
        raise AssertionError("the drafted YAML does not read back as written")  # a bug in this module
    return text
