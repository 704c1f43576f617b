"""Watchlist files → Watchlist values, with every problem (file, line, key) collected, never just the first.

A folder holds watchlists and, optionally, class files: a YAML file with a top-level `classes:` and
neither `name:` nor `match:` defines classes every watchlist of the folder can use. A broken file
never hides the others: `load_watchlists` returns every valid watchlist and every problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.errors import ConfigError
from monitor.matching.entities import ClassError, EntityClass, build_class, builtin_classes
from monitor.matching.nodes import Node, SimilarNode, walk
from monitor.matching.similarity import SeedModel, build_seed_model
from monitor.matching.syntax import Context, parse_condition, parse_definitions
from monitor.matching.text import primary_lang
from monitor.quiet import DigestSchedule, QuietHours
from monitor.types import Problem
from monitor.yamlfile import YamlDocument, parse_yaml, read_yaml

WATCHLIST_KEYS = ("name", "description", "notify", "lang", "seeds", "min_score", "classes", "define", "match",
                  "digest", "quiet_hours")
CLASS_FILE_KEYS = ("classes", "description", "version", "sources")
DEFAULT_MIN_SCORE = 0.5
_CLASS_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, eq=False)
class Watchlist:
    """A loaded watchlist: what to match (`root`), how well (`min_score`), and who hears about it."""

    name: str
    path: Path | None
    notify: tuple[str, ...] | None
    """Channel names; None: every channel."""
    seeds: tuple[Path, ...]
    root: Node
    min_score: float = DEFAULT_MIN_SCORE
    lang: frozenset[str] | None = None
    """Only articles in these languages (articles of unknown language pass)."""
    description: str = ""
    classes: Mapping[str, EntityClass] = field(default_factory=dict)
    """The classes defined in the watchlist itself."""
    seed_model: SeedModel | None = None
    digest: DigestSchedule | None = None
    """Send this watchlist's alerts as a digest (on every channel it notifies) instead of at once."""
    quiet_hours: QuietHours | None = None
    """Hold this watchlist's alerts during this daily window (on top of each channel's own)."""


def load_watchlist(path: Path, *, project_dir: Path | None = None) -> Watchlist:
    """One watchlist file (with the class files beside it); raises ConfigError with every problem."""
    problems: list[Problem] = []
    folder_classes = _folder_classes(_class_files(path.parent, exclude=path), problems)
    try:
        doc = read_yaml(path)
    except ConfigError as exc:
        raise ConfigError([*problems, *exc.problems]) from exc
    watchlist = _watchlist(doc, folder_classes, project_dir, problems)
    if problems or watchlist is None:
        raise ConfigError(problems or [doc.problem((), "not a watchlist: it needs name: and match:")])
    return watchlist


def load_watchlists(folder: Path, *, project_dir: Path | None = None) -> tuple[list[Watchlist], list[Problem]]:
    """Every valid watchlist of `folder` (*.yaml, *.yml) and every problem of every file."""
    problems: list[Problem] = []
    docs: list[YamlDocument] = []
    class_docs: list[YamlDocument] = []
    for path in _yaml_files(folder):
        try:
            doc = read_yaml(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        (class_docs if is_class_file(doc.data) else docs).append(doc)
    folder_classes = _folder_classes(class_docs, problems)
    watchlists: list[Watchlist] = []
    for doc in docs:
        found: list[Problem] = []
        watchlist = _watchlist(doc, folder_classes, project_dir, found)
        problems.extend(found)
        if watchlist is not None and not found:
            watchlists.append(watchlist)
    return watchlists, problems


def watchlist_from_text(text: str, *, path: Path | None = None, project_dir: Path | None = None,
                        classes: Mapping[str, EntityClass] | None = None) -> Watchlist:
    """A watchlist from YAML text (tests, drafts); raises ConfigError with every problem."""
    doc = parse_yaml(text, path or Path("<watchlist>"))
    problems: list[Problem] = []
    watchlist = _watchlist(doc, dict(classes or {}), project_dir, problems)
    if problems or watchlist is None:
        raise ConfigError(problems or [doc.problem((), "not a watchlist: it needs name: and match:")])
    return watchlist


def is_class_file(data: Any) -> bool:
    return isinstance(data, Mapping) and "classes" in data and "name" not in data and "match" not in data


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".yaml", ".yml")
                  and not p.name.startswith("."))


def _class_files(folder: Path, exclude: Path) -> list[YamlDocument]:
    docs: list[YamlDocument] = []
    if not folder.is_dir():
        return docs
    for path in _yaml_files(folder):
        if path.resolve() == exclude.resolve():
            continue
        try:
            doc = read_yaml(path)
        except ConfigError:
            continue  # a broken file that may not be a class file: load_watchlists reports it
        if is_class_file(doc.data):
            docs.append(doc)
    return docs


def _folder_classes(docs: list[YamlDocument], problems: list[Problem]) -> dict[str, EntityClass]:
    defined: dict[str, EntityClass] = {}
    for doc in docs:
        for key in doc.data:
            if key not in CLASS_FILE_KEYS:
                problems.append(doc.problem((str(key),), f"unknown key in a class file (one of: "
                                                         f"{', '.join(CLASS_FILE_KEYS)})"))
        defined.update(_classes(doc, ("classes",), defined, problems))
    return defined


def _classes(doc: YamlDocument, loc: tuple[str, ...], known: Mapping[str, EntityClass],
             problems: list[Problem]) -> dict[str, EntityClass]:
    """The classes of a `classes:` block; `known` are those defined before (folder, then built-in)."""
    block = doc.data
    for part in loc:
        block = block.get(part) if isinstance(block, Mapping) else None
    if not isinstance(block, Mapping):
        problems.append(doc.problem(loc, "maps class names to definitions (kind, terms, members, include)"))
        return {}
    builtin = builtin_classes()
    out: dict[str, EntityClass] = {}
    version = str(doc.data.get("version", "")) if loc == ("classes",) else ""
    for name, spec in block.items():
        where = (*loc, str(name))
        if not isinstance(name, str) or not _CLASS_NAME.match(name):
            problems.append(doc.problem(where, "a class name is lower-case letters, digits and _ (e.g. my_people)"))
            continue
        if name in builtin:
            problems.append(doc.problem(where, f"'{name}' is a built-in class: choose another name"))
            continue
        if name in known or name in out:
            origin = (known.get(name) or out[name]).origin
            problems.append(doc.problem(where, f"class '{name}' is already defined in {origin}"))
            continue
        try:
            out[name] = build_class(name, spec, {**builtin, **known, **out}, version=version,
                                    origin=str(doc.path))
        except ClassError as exc:
            problems.append(doc.problem((*where, *exc.where), exc.message))
    return out


def _watchlist(doc: YamlDocument, folder_classes: Mapping[str, EntityClass], project_dir: Path | None,
               problems: list[Problem]) -> Watchlist | None:
    data = doc.data
    if not isinstance(data, Mapping):
        problems.append(doc.problem((), "a watchlist is a mapping with name: and match:"))
        return None
    for key in data:
        if key not in WATCHLIST_KEYS:
            problems.append(doc.problem((str(key),), f"unknown key (one of: {', '.join(WATCHLIST_KEYS)})"))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(doc.problem(("name",), "required: the watchlist's name, as alerts will show it"))
    notify = _strings(doc, data, "notify", problems)
    langs = _strings(doc, data, "lang", problems)
    seeds = _seeds(doc, data, project_dir, problems)
    min_score = data.get("min_score", DEFAULT_MIN_SCORE)
    if isinstance(min_score, bool) or not isinstance(min_score, int | float) or not 0 < min_score <= 1:
        problems.append(doc.problem(("min_score",), "a number above 0 and at most 1"))
        min_score = DEFAULT_MIN_SCORE
    digest, quiet_hours = _delivery_timing(doc, data, problems)
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(doc.problem(("description",), "must be text"))
    own: dict[str, EntityClass] = {}
    if "classes" in data:
        own = _classes(doc, ("classes",), folder_classes, problems)
    if "match" not in data:
        problems.append(doc.problem(("match",), "required: the condition an article must meet "
                                                "(see docs/watchlists.md)"))
        return None
    block = data.get("define")
    defined: Mapping[Any, Any] = block if isinstance(block, Mapping) else {}
    ctx = Context({**builtin_classes(), **folder_classes, **own}, doc.problem, doc.line_of, has_seeds=bool(seeds),
                  defined={str(k): (v, ("define", str(k))) for k, v in defined.items()})
    if "define" in data:
        parse_definitions(data["define"], ("define",), ctx)
    root = parse_condition(data["match"], ("match",), ctx)
    problems.extend(ctx.problems)
    if root is None or not isinstance(name, str) or not name.strip():
        return None
    seed_model = None
    if seeds is not None and any(isinstance(n, SimilarNode) for n in walk(root)):
        seed_model = _seed_model(doc, seeds, problems)
    return Watchlist(
        name=name.strip(), path=doc.path if doc.path.name != "<watchlist>" else None,
        notify=tuple(notify) if notify is not None else None, seeds=tuple(seeds or ()), root=root,
        min_score=float(min_score), lang=frozenset(filter(None, map(primary_lang, langs))) if langs else None,
        description=description if isinstance(description, str) else "", classes=own, seed_model=seed_model,
        digest=digest, quiet_hours=quiet_hours)


def _delivery_timing(doc: YamlDocument, data: Mapping[str, Any],
                     problems: list[Problem]) -> tuple[DigestSchedule | None, QuietHours | None]:
    """`digest:` and `quiet_hours:`, the same keys a channel takes in monitor.yaml."""
    digest = quiet = None
    if data.get("digest") is not None:
        try:
            digest = DigestSchedule.parse(str(data["digest"]))
        except ValueError as exc:
            problems.append(doc.problem(("digest",), str(exc)))
    if data.get("quiet_hours") is not None:
        try:
            quiet = QuietHours.model_validate(data["quiet_hours"])
        except ValidationError as exc:
            for error in exc.errors():
                where = ("quiet_hours", *(str(p) for p in error["loc"]))
                problems.append(doc.problem(where, error["msg"].removeprefix("Value error, ")))
    return digest, quiet


def _strings(doc: YamlDocument, data: Mapping[str, Any], key: str, problems: list[Problem]) -> list[str] | None:
    if key not in data or data[key] is None:
        return None
    value = data[key]
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and v.strip() for v in items):
        problems.append(doc.problem((key,), "a list of names, e.g. [mail, chat]" if key == "notify"
                                    else "a list of language codes, e.g. [en, de]"))
        return None
    return [v.strip() for v in items]


def _seeds(doc: YamlDocument, data: Mapping[str, Any], project_dir: Path | None,
           problems: list[Problem]) -> list[Path] | None:
    """Seed paths are relative to the project folder; also tried: the watchlist folder's parent, the
    watchlist folder, the current folder."""
    raw = _strings(doc, data, "seeds", problems)
    if raw is None:
        return None
    bases = list(dict.fromkeys(b.resolve() for b in (project_dir, doc.path.parent.parent, doc.path.parent, Path.cwd())
                               if b is not None))  # each folder once in the message
    found: list[Path] = []
    for n, text in enumerate(raw):
        given = Path(text).expanduser()
        candidates = [given] if given.is_absolute() else [base / given for base in bases]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            where = ", ".join(str(b) for b in bases) if not given.is_absolute() else str(given)
            problems.append(doc.problem(("seeds", n) if isinstance(data["seeds"], list) else ("seeds",),
                                        f"seed file '{text}' not found (looked in {where})"))
        else:
            found.append(hit)
    return found


def _seed_model(doc: YamlDocument, seeds: list[Path], problems: list[Problem]) -> SeedModel | None:
    from monitor.extract.lang import guess_language
    from monitor.extract.page import extract_text_file

    texts: list[str] = []
    for n, path in enumerate(seeds):
        try:
            page = extract_text_file(path)
        except OSError as exc:
            problems.append(doc.problem(("seeds", n), f"cannot read seed '{path}': {exc.strerror or exc}"))
            continue
        text = f"{page.title or ''}\n{page.text}".strip()
        if not text:
            problems.append(doc.problem(("seeds", n), f"seed '{path}' has no text"))
            continue
        texts.append(text)
    if not texts:
        return None
    return build_seed_model(texts, guess_language(" ".join(texts)))
