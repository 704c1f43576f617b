"""Story updates: when a story that already alerted has grown enough to be worth one more message.

    article joins a story that alerted ─(StorySoFar, from the store)─▶ decide ─▶ UpdateDecision | None

One alert per story keeps inboxes quiet, but a story can change after its alert: several more
outlets pick it up, or a report says an official source confirmed it. `decide` says when that
growth earns an update, threaded under the first alert: at least `outlets` outlets that had not
reported the story when it alerted (or when its last update went out), or a report whose title or
lead says it is confirmed when no earlier report of the story did. An update is never due sooner
than `min_gap` after the alert, and a story sends at most `most` updates per watchlist.

Pure: no store, no clock, no settings. The store gathers the story so far in the transaction that
saves the joining article, and writes the update's outbox rows there when this says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

CUES_FILE = Path(__file__).parent / "data" / "confirmation_cues.yaml"
LEAD_CHARS = 400
"""How much of an article's text counts as its lead, where a confirmation is reported."""
NEGATION_WINDOW = 3
"""A negation this many words or fewer before a cue ("has not yet been confirmed") cancels it."""

_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class UpdatePolicy:
    """When a story earns an update: `story_updates: {outlets: 3, min_gap: 1h, max: 1}` in monitor.yaml."""

    outlets: int = 3
    min_gap: timedelta = timedelta(hours=1)
    most: int = 1


@dataclass(frozen=True, slots=True)
class Report:
    """One article of a story as the decision sees it: who published it, and what it says first."""

    url: str
    outlet: str
    title: str
    lead: str = ""


@dataclass(frozen=True, slots=True)
class StorySoFar:
    """A story that alerted for a watchlist, and what joined it since."""

    alerted_at: datetime
    alert: Report
    joined: tuple[Report, ...] = ()
    """Reports that joined after the alert, oldest first."""
    updates: int = 0
    """Updates already decided for this story and watchlist."""
    covered: int = 0
    """How many of `joined` the last update counted: growth is measured from there."""


@dataclass(frozen=True, slots=True)
class Growth:
    """How a story grew since its alert (or its last update)."""

    reports: tuple[Report, ...] = ()
    """The first report of each outlet that had not reported the story before, in the order they came."""
    confirmation: Report | None = None
    """The first report that says the story is officially confirmed, when no earlier report said so."""

    @property
    def new_outlets(self) -> tuple[str, ...]:
        return tuple(r.outlet.strip() for r in self.reports)

    @property
    def reason(self) -> str:
        """What changed, in words: "official confirmation, 3 new outlets"."""
        parts = []
        if self.confirmation is not None:
            parts.append("official confirmation")
        if self.reports:
            n = len(self.reports)
            parts.append(f"{n} new outlet{'s' if n != 1 else ''}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class UpdateDecision:
    """The story earned an update: what changed, and when it may go out."""

    due_at: datetime
    growth: Growth

    @property
    def reason(self) -> str:
        return self.growth.reason


@dataclass(frozen=True, slots=True)
class ConfirmationCues:
    """Word starts that report a confirmation, and the words that negate one just before it."""

    cues: tuple[str, ...]
    negations: frozenset[str]

    def reported_in(self, text: str) -> bool:
        """Does `text` say something was confirmed (and not "not confirmed")?"""
        words = [w.casefold() for w in _WORD.findall(text)]
        for i, word in enumerate(words):
            if word.startswith(self.cues) and not self.negations.intersection(words[max(0, i - NEGATION_WINDOW):i]):
                return True
        return False


def decide(policy: UpdatePolicy, story: StorySoFar, joining: Report, *, now: datetime,
           cues: ConfirmationCues | None = None) -> UpdateDecision | None:
    """Whether `joining`, which just joined `story`, makes the story earn an update now.

    The update is due `min_gap` after the alert at the earliest: growth seen sooner is not lost,
    it waits (and whatever joins meanwhile goes into the same update when it is sent).
    """
    if story.updates >= policy.most:
        return None
    if any(_same_article(joining, report) for report in (story.alert, *story.joined)):
        return None  # a re-listed or renamed copy of a report already counted is no growth
    found = growth(story, joining, cues=cues)
    # A confirmation earns an update when this report brings it: one that no earlier report had.
    if found.confirmation != joining and len(found.reports) < policy.outlets:
        return None
    return UpdateDecision(due_at=max(now, story.alerted_at + policy.min_gap), growth=found)


def growth(story: StorySoFar, joining: Report | None = None, *, cues: ConfirmationCues | None = None) -> Growth:
    """What the reports after the alert (or the last update), and `joining`, add to the story.

    Outlets are new when neither the alerting report nor a report counted by an earlier update
    came from them; a confirmation is new when none of those reported one. Copies of a report
    already seen (same URL, or one outlet's same headline) add nothing.
    """
    cues = cues or confirmation_cues()
    before = (story.alert, *story.joined[:story.covered])
    known = {outlet_key(r.outlet) for r in before}
    confirmed = any(cues.reported_in(_said(r)) for r in before)
    seen = list(before)
    reports: list[Report] = []
    confirmation: Report | None = None
    for report in (*story.joined[story.covered:], *((joining,) if joining else ())):
        if any(_same_article(report, other) for other in seen):
            continue
        seen.append(report)
        key = outlet_key(report.outlet)
        if key and key not in known:
            known.add(key)
            reports.append(report)
        if not confirmed and confirmation is None and cues.reported_in(_said(report)):
            confirmation = report
    return Growth(tuple(reports), confirmation)


def outlet_key(outlet: str) -> str:
    """'Daily Wire ', 'daily  wire' and 'DAILY WIRE' are one outlet."""
    return _SPACE.sub(" ", outlet).strip().casefold()


def lead_of(text: str, summary: str = "") -> str:
    """The start of an article: where a report says what is new, and so where a confirmation is."""
    return _SPACE.sub(" ", text or summary).strip()[:LEAD_CHARS]


def _said(report: Report) -> str:
    return f"{report.title}\n{report.lead}"


def _same_article(a: Report, b: Report) -> bool:
    """The same article seen again: one URL, or one outlet's same headline under another URL."""
    if a.url and a.url == b.url:
        return True
    title = _SPACE.sub(" ", a.title).strip().casefold()
    return bool(title) and outlet_key(a.outlet) == outlet_key(b.outlet) \
        and title == _SPACE.sub(" ", b.title).strip().casefold()


@lru_cache(maxsize=4)
def confirmation_cues(path: Path = CUES_FILE) -> ConfirmationCues:
    """The cues of every language in the data file, read once per process.

    Every language's cues apply to every article: an article's language is not always known, and
    the cues of one language are rare words in the others.
    """
    with path.open(encoding="utf-8") as fh:
        data: Any = YAML(typ="safe").load(fh)
    languages = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(languages, dict) or not languages:
        raise ValueError(f"{path}: expected `languages:` with cues and negations per language")
    cues: list[str] = []
    negations: set[str] = set()
    for lang, entry in languages.items():
        if not isinstance(entry, dict) or not _words(entry.get("cues")):
            raise ValueError(f"{path}: languages.{lang}: expected a non-empty list `cues:` of words")
        if "negations" in entry and not isinstance(entry["negations"], list):
            raise ValueError(f"{path}: languages.{lang}.negations: expected a list of words")
        cues += [c.casefold() for c in _words(entry["cues"])]
        negations.update(n.casefold() for n in _words(entry.get("negations", [])))
    return ConfirmationCues(tuple(dict.fromkeys(cues)), frozenset(negations))


def _words(value: object) -> Sequence[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return ()
    return [v.strip() for v in value]

