"""Seed files → Seed values, refusing with a clear Problem what cannot be a seed (missing, binary, empty).

A seed is an article the user already has: plain text (the first line is the headline when it reads
like one) or an HTML page, read by `monitor.extract.extract_text_file` so that a seed is read the
way the daemon reads articles. A seed that is only a headline still counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.errors import ConfigError
from monitor.matching.text import primary_lang
from monitor.types import Article, Problem

BINARY_SAMPLE = 8192
MAX_CONTROL_SHARE = 0.05
MIN_LETTERS = 3


@dataclass(frozen=True, slots=True)
class Seed:
    path: Path
    title: str
    text: str
    lang: str | None
    published: datetime | None = None
    """The page's own date (an HTML seed's metadata); None for plain text."""

    @property
    def full_text(self) -> str:
        return f"{self.title}\n{self.text}" if self.title else self.text

    def as_article(self) -> Article:
        """The seed as the matcher would see it, to check that a draft matches its own seed."""
        return Article(url="", title=self.title, text=self.text, lang=self.lang, id=str(self.path))


def read_seeds(paths: list[Path]) -> list[Seed]:
    """Every seed, or ConfigError naming each file that cannot be one (all of them, not just the first)."""
    if not paths:
        raise ConfigError([Problem("--seed", None, None, "give at least one seed article")])
    seeds: list[Seed] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            seeds.append(read_seed(path))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return seeds


def read_seed(path: Path) -> Seed:
    from monitor.extract.page import extract_text_file

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _refuse(path, f"cannot read the seed: {exc.strerror or exc}") from exc
    if _looks_binary(raw[:BINARY_SAMPLE]):
        raise _refuse(path, "not a text or HTML file (it holds binary data): a seed is an article, "
                            "saved as plain text or as the HTML page")
    try:
        page = extract_text_file(path)
    except OSError as exc:
        raise _refuse(path, f"cannot read the seed: {exc.strerror or exc}") from exc
    title = (page.title or "").strip()
    text = page.text.strip()
    if sum(ch.isalpha() for ch in f"{title} {text}") < MIN_LETTERS:
        raise _refuse(path, "the seed has no text: give an article (a headline and its text)")
    return Seed(path, title, text, primary_lang(page.lang), page.published)


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control / len(sample) > MAX_CONTROL_SHARE


def _refuse(path: Path, message: str) -> ConfigError:
    return ConfigError([Problem(str(path), None, None, message)])
