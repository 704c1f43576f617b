"""data/kinds.yaml → the kinds of event, participant and place a watchlist's name can ask for.

The lexicon is data, not code, so that a new kind of event ("product recalls") is a few lines of
YAML: the words that say it in a name, and the terms that find it in articles, in the EU's
languages. See the comments at the top of data/kinds.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from monitor.matching.terms import Term, parse_term

DATA = Path(__file__).parent / "data" / "kinds.yaml"


@dataclass(frozen=True, slots=True)
class Penalty:
    label: str
    rule: Mapping[str, Any]
    weight: float
    needs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EventKind:
    key: str
    label: str
    name: tuple[Term, ...]
    builtin: str | None = None
    terms: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    presence: bool = False
    """Being in the place is the event (a visit): "Orbán in Moscow" needs no visit word."""
    penalties: tuple[Penalty, ...] = ()
    not_after: bool = False
    """A place right after "after", "nach", "po" is where the trip came from, not where it went."""
    not_near: tuple[str, ...] = ()
    """Words that, right next to the event's word, make it a figure of speech ("political earthquake")."""
    split: tuple[tuple[str, ...], ...] = ()
    """Word lists that say the event together, a few words apart (German "tritt ... zurück")."""


@dataclass(frozen=True, slots=True)
class ActorKind:
    key: str
    label: str
    name: tuple[Term, ...]
    builtin: str | None = None
    terms: tuple[str, ...] = ()
    kind: str = "entity"
    exclude_near: str | None = None
    """A built-in marker class ("former") that must not stand right next to the participant."""
    soft: bool = False
    """Articles name the participant (Equifax) rather than its kind (a company): the kind's words add
    to the score instead of being required."""
    contrast: tuple[str, ...] = ()
    """Words for what the participant is not (a city, a ministry): next to the event they cost points."""


@dataclass(frozen=True, slots=True)
class PlaceKind:
    key: str
    label: str
    terms: tuple[str, ...]
    name: tuple[Term, ...] = ()
    countries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lexicon:
    version: str
    events: Mapping[str, EventKind]
    actors: Mapping[str, ActorKind]
    places: Mapping[str, PlaceKind]
    regions: Mapping[str, PlaceKind] = field(default_factory=dict)
    within: Mapping[str, str] = field(default_factory=dict)
    """Built-in place → the built-in place it lies in (moscow → russia)."""

    def region_terms(self, region: PlaceKind) -> list[str]:
        """A region's own words and every word of its countries."""
        out = list(region.terms)
        for key in region.countries:
            out.extend(t for t in self.places[key].terms if t not in out)
        return out


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _terms(value: Any) -> tuple[Term, ...]:
    return tuple(parse_term(t) for t in _strings(value))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The lexicon shipped with the drafter, read once per process."""
    with DATA.open(encoding="utf-8") as fh:
        data = YAML(typ="safe", pure=True).load(fh)
    events = {key: EventKind(
        key, str(spec.get("label", key)), _terms(spec.get("name")), spec.get("builtin"), _strings(spec.get("terms")),
        _strings(spec.get("ambiguous")), _strings(spec.get("context")), bool(spec.get("presence", False)),
        tuple(Penalty(str(p["label"]), p["rule"], float(p["weight"]), _strings(p.get("needs")))
              for p in spec.get("penalties") or []), bool(spec.get("not_after", False)),
        _strings(spec.get("not_near")), tuple(_strings(part) for part in spec.get("split") or []),
    ) for key, spec in data["events"].items()}
    actors = {key: ActorKind(
        key, str(spec.get("label", key)), _terms(spec.get("name")), spec.get("builtin"), _strings(spec.get("terms")),
        str(spec.get("kind", "entity")), spec.get("exclude_near"), bool(spec.get("soft", False)),
        _strings(spec.get("contrast")),
    ) for key, spec in data["actors"].items()}
    places = {key: PlaceKind(key, str(spec["name"]), _strings(spec["terms"]), _terms(spec.get("name_words")))
              for key, spec in data["places"].items()}
    regions = {key: PlaceKind(key, str(spec["name"]), _strings(spec.get("terms")), _terms(spec.get("name_words")),
                              _strings(spec.get("countries")))
               for key, spec in data["regions"].items()}
    within = {str(k): str(v) for k, v in (data.get("within") or {}).items()}
    return Lexicon(str(data["version"]), events, actors, places, regions, within)


def match_at(term: Term, words: Sequence[str], i: int) -> int | None:
    """Where `term` ends if it starts at words[i] (the matcher's rules: whole words, `*` a prefix)."""
    n = len(term.tokens)
    if i + n > len(words):
        return None
    for j in range(n):
        word = words[i + j]
        want = term.tokens[j]
        if not (word.startswith(want) if term.prefix[j] else word == want):
            return None
    return i + n


def find_all(terms: Sequence[Term], words: Sequence[str]) -> list[tuple[int, int]]:
    """Every (start, end) span of `words` that one of `terms` finds."""
    spans: list[tuple[int, int]] = []
    for i in range(len(words)):
        for term in terms:
            end = match_at(term, words, i)
            if end is not None:
                spans.append((i, end))
    return spans
