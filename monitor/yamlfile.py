"""YAML files users edit (monitor.yaml, watchlists) → plain data, with the line of every key.

Every error a user sees names the file and line, so we keep ruamel's line marks while turning the
document into plain dicts and lists, and translate pydantic's error locations back into lines.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from monitor.errors import ConfigError
from monitor.types import Problem

Loc = tuple[str | int, ...]
_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class YamlDocument:
    """A parsed YAML file: its plain data and the 1-based line of every key or list item."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    """Problems found while reading (missing environment variables); the caller reports them with its own."""

    def line_of(self, loc: Iterable[str | int]) -> int | None:
        """The line of the deepest part of `loc` that the document has (pydantic locs may go deeper)."""
        parts = tuple(loc)
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return self.lines.get((), 1)

    def problem(self, loc: Iterable[str | int], message: str) -> Problem:
        parts = tuple(loc)
        key = ".".join(str(p) for p in parts) or None
        return Problem(str(self.path), self.line_of(parts), key, message)


def read_yaml(path: Path, *, expand_env: bool = False, env: Mapping[str, str] | None = None) -> YamlDocument:
    """Read and parse `path`; raise ConfigError naming file and line when it is not valid YAML.

    With `expand_env`, `${VAR}` in string values is replaced from `env` (default: os.environ) and
    every missing variable is recorded in `doc.problems`, each with its line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(str(path), None, None, f"cannot read: {exc.strerror or exc}")]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(str(path), None, None, f"not UTF-8 text: {exc.reason}")]) from exc
    return parse_yaml(text, path, expand_env=expand_env, env=env)


def parse_yaml(text: str, path: Path, *, expand_env: bool = False,
               env: Mapping[str, str] | None = None) -> YamlDocument:
    yaml = YAML(typ="rt")
    try:
        raw = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or exc.context or "invalid YAML"
        raise ConfigError([Problem(str(path), line, None, f"invalid YAML: {reason}")]) from exc
    except YAMLError as exc:
        raise ConfigError([Problem(str(path), None, None, f"invalid YAML: {exc}")]) from exc
    doc = YamlDocument(path, None, {(): 1})
    source = os.environ if env is None else env
    doc.data = _plain(raw, (), doc, doc.problems, source if expand_env else None)
    return doc


def _plain(node: Any, loc: Loc, doc: YamlDocument, problems: list[Problem],
           env: Mapping[str, str] | None) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            try:
                line, _col = node.lc.key(key)
                doc.lines[(*loc, str(key))] = line + 1
            except (KeyError, TypeError, AttributeError):
                pass
            out[str(key) if not isinstance(key, str | int) else key] = _plain(
                value, (*loc, str(key)), doc, problems, env)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            try:
                line, _col = node.lc.item(i)
                doc.lines[(*loc, i)] = line + 1
            except (KeyError, TypeError, AttributeError, IndexError):
                pass
            items.append(_plain(value, (*loc, i), doc, problems, env))
        return items
    if isinstance(node, str):
        text = str(node)
        if env is not None:
            text = _expand(text, loc, doc, problems, env)
        return text
    return node


def _expand(text: str, loc: Loc, doc: YamlDocument, problems: list[Problem], env: Mapping[str, str]) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in env:
            problems.append(doc.problem(loc, f"environment variable {name} is not set"))
            return ""
        return env[name]

    return _ENV_VAR.sub(value, text)


def validation_problems(doc: YamlDocument, exc: ValidationError, *, prefix: Loc = ()) -> list[Problem]:
    """pydantic's errors as Problems with file, line and dotted key."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = _in_document(doc, (*prefix, *_clean_loc(err["loc"])))
        problems.append(doc.problem(loc, _message(err)))
    return problems


def _in_document(doc: YamlDocument, loc: Loc) -> Loc:
    """Drop the parts of a pydantic loc the user never wrote (discriminator tags such as 'email')."""
    kept: list[str | int] = []
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if last or (*kept, part) in doc.lines or not isinstance(part, str):
            kept.append(part)
    return tuple(kept)


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    # pydantic puts the names of union members and function validators into loc; users never wrote those.
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, int) or (isinstance(part, str) and not (part.startswith("function-") or "[" in part or part in _UNION_TAGS)):
            out.append(part)
    return tuple(out)


_UNION_TAGS = {"str", "int", "float", "bool", "list", "dict", "tagged-union", "union"}


def _message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key (misspelt?)"
    if kind == "missing":
        return "required key is missing"
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")


def validate(model: type[BaseModel], doc: YamlDocument, data: Any = None, *, prefix: Loc = ()) -> Any:
    """Validate `data` (default: the whole document) with `model`, raising ConfigError with lines."""
    try:
        return model.model_validate(doc.data if data is None else data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(doc, exc, prefix=prefix)) from exc
