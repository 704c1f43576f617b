"""What both kinds of draft share: the file's frame (name, seeds, classes, match) and the names of
the classes a draft defines, which must not collide with a built-in class or a class file beside it."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.matching.draft.write import Commented
from monitor.matching.entities import builtin_classes

_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class Draft:
    """A watchlist being drafted: the top-level keys, each value possibly with its comment."""

    name: str
    description: str
    header: list[str]
    seeds: list[str]
    min_score: float
    match: Any
    classes: dict[str, Any] = field(default_factory=dict)
    match_comment: tuple[str, ...] = ()
    anchors: dict[int, str] = field(default_factory=dict)
    """Names for conditions used more than once (by id), written once as &name and then *name."""

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "seeds": Commented(self.seeds, ("The seed articles: similar_to_seeds compares articles with them.",)),
            "min_score": Commented(self.min_score, ("An article matches when its score reaches this.",)),
        }
        if self.classes:
            body["classes"] = Commented(self.classes, ("Classes this watchlist defines for itself (edit freely).",))
        body["match"] = Commented(self.match, self.match_comment) if self.match_comment else self.match
        return body


class ClassNames:
    """Hands out class names for a draft's own classes, avoiding every name already taken."""

    def __init__(self, out: Path) -> None:
        self.taken = set(builtin_classes()) | folder_class_names(out.parent)

    def new(self, wanted: str) -> str:
        """`wanted` as a class name, else `wanted_words`, else numbered: `wanted_words_2`."""
        base = _SLUG.sub("_", wanted.lower()).strip("_") or "words"
        if not base[0].isalpha():
            base = "c_" + base
        name = base
        if name in self.taken:
            base = name = f"{base}_words"
        n = 2
        while name in self.taken:
            name = f"{base}_{n}"
            n += 1
        self.taken.add(name)
        return name


def folder_class_names(folder: Path) -> set[str]:
    """Classes defined by class files in the watchlists folder (load.py reads them for every watchlist)."""
    from monitor.matching.load import is_class_file
    from monitor.yamlfile import read_yaml

    names: set[str] = set()
    if not folder.is_dir():
        return names
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".yaml", ".yml") or path.name.startswith("."):
            continue
        try:
            doc = read_yaml(path)
        except ConfigError:
            continue
        if is_class_file(doc.data) and isinstance(doc.data.get("classes"), dict):
            names.update(str(k) for k in doc.data["classes"])
    return names


def seed_paths(seeds: Sequence[Path], out: Path) -> list[str]:
    """Seeds relative to the project folder (the one above the watchlists folder), as load.py resolves
    them; absolute when a seed lies outside it."""
    project = out.resolve().parent.parent
    paths: list[str] = []
    for seed in seeds:
        full = seed.resolve()
        try:
            paths.append(full.relative_to(project).as_posix())
        except ValueError:
            paths.append(str(full))
    return paths


def rounded(value: float) -> float:
    return round(value, 3)


def project_dir(out: Path) -> Path:
    return Path(os.path.abspath(out)).parent.parent
