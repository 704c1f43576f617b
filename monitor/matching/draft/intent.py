"""Reading a watchlist's name: what kind of event the user means, or that they mean the seed's story.

"EU leader visits to Moscow" names a kind of participant (EU leaders: generalise Orbán to the class),
a kind of event (visits) and a place (Moscow: keep it). "Data breaches at companies" names an event
and a kind of participant. "Orbán in Moscow" names a person the seed names: keep him. A name that
says none of this ("story-42", or no name) asks for the seed's own story.

The name's words are folded like the matcher folds articles, then matched against the lexicon
(data/kinds.yaml) and the built-in place classes; the longest match wins ("EU leaders" is the EU-
leader class, not the region "EU" followed by "leaders").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

from monitor.matching.draft.analyse import SeedAnalysis
from monitor.matching.draft.lexicon import ActorKind, EventKind, PlaceKind, find_all, lexicon
from monitor.matching.draft.names import name_terms, words
from monitor.matching.entities import EntityClass, builtin_classes
from monitor.matching.terms import Term, TermError, parse_term
from monitor.matching.text import fold

_TOKEN = re.compile(r"[^\W_]+")
T = TypeVar("T")
# Words that say nothing about what to watch.
FILLER = words("""
a an the of in on at to for from by with about after before over into and or vs versus new latest any all
other every some more most news story stories storyline watch watchlist track tracking follow following alert
alerts update updates coverage report reports reporting monitor monitoring item items topic topics event events
case cases thing things draft test seed my our their its his her
major big large huge massive deadly serious recent important significant notable global international local
national world worldwide ongoing possible reported alleged suspected foreign abroad overseas
central eastern western northern southern east west north south
der die das des dem den ein eine einer und oder im in am zum zur von vom bei mit über nach
le la les un une des du de et ou au aux en dans sur pour avec par
el los las del y o con por para sobre il lo gli i e della delle dei al nel nella con per
""")


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """A place the name keeps: a built-in class, a country or region of the lexicon, or a literal."""

    label: str
    builtin: EntityClass | None = None
    kind: PlaceKind | None = None
    region: bool = False
    literal: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Specific:
    """A name the user wrote that the seed also names (or at least capitalised): kept as it is."""

    text: str
    terms: tuple[str, ...]
    in_seed: bool


@dataclass(frozen=True)
class Intent:
    name: str
    story: bool
    events: tuple[EventKind, ...] = ()
    actors: tuple[ActorKind, ...] = ()
    places: tuple[PlaceRef, ...] = ()
    specifics: tuple[Specific, ...] = ()
    people: tuple[EntityClass, ...] = ()
    """Built-in person classes the name names (Putin): kept, with every spelling the class knows."""
    other_words: tuple[str, ...] = ()
    """Content words not understood; when no kind of event is named, they are the event."""
    read: tuple[str, ...] = field(default_factory=tuple)
    """How each part of the name was read, for the drafted file's header."""


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    category: str
    payload: object


_PRIORITY = {"actor": 0, "event": 1, "person": 2, "region": 3, "builtin_place": 4, "country": 5}


def read_name(name: str | None, analysis: SeedAnalysis) -> Intent:
    text = (name or "").strip()
    raw = _TOKEN.findall(text)
    words = [fold(w) for w in raw]
    if not words:
        return Intent(text, True, read=("no name: follow the seed's own story",))
    hits = _choose(_candidates(words))
    covered = {i for h in hits for i in range(h.start, h.end)}
    events = _unique(h.payload for h in hits if isinstance(h.payload, EventKind))
    actors = _unique(h.payload for h in hits if isinstance(h.payload, ActorKind))
    places = [_place(h) for h in hits if h.category in ("region", "builtin_place", "country")]
    people = _unique(h.payload for h in hits if h.category == "person" and isinstance(h.payload, EntityClass))
    specifics, others = _leftovers(raw, words, covered, analysis)
    read = [f'"{" ".join(raw[h.start:h.end])}" → {_describe(h)}' for h in hits]
    read += [f'"{s.text}" → {"a name the seed uses: kept as it is" if s.in_seed else "a name: kept as it is"}'
             for s in specifics]
    if others:
        read.append(f"not understood: {', '.join(others)}" + (
            " (used as the event's words)" if not events else " (kept as words the event must come with)"))
    seed_words = {t for doc in analysis.docs for t in doc.tokens}
    understood = events or actors or places or specifics or people
    story = not understood and not any(_in_seed(w, seed_words) for w in others)
    if story:
        read = [f'"{text}" names no kind of event, participant or place: follow the seed\'s own story']
    return Intent(text, story, tuple(events), tuple(actors), tuple(places), tuple(specifics), tuple(people),
                  tuple(others), tuple(read))


def _in_seed(word: str, seed_words: set[str]) -> bool:
    """The seeds use the word, or a form of it ("tsunamis" → "tsunami")."""
    stem = word[:max(4, len(word) - 2)]
    return word in seed_words or (len(word) >= 4 and any(w.startswith(stem) for w in seed_words))


def _unique(items: Iterable[T]) -> list[T]:
    out: list[T] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


@lru_cache(maxsize=1)
def _place_terms() -> tuple[tuple[str, tuple[Term, ...]], ...]:
    """Every built-in place class and lexicon country with the terms a name may use for it."""
    out: list[tuple[str, tuple[Term, ...]]] = []
    for cls in builtin_classes().values():
        if cls.kind == "place" and not cls.name.startswith("in_") and cls.name != "elsewhere":
            out.append((f"builtin:{cls.name}", tuple(t for m in cls.members for t in m.terms)))
    for key, place in lexicon().places.items():
        out.append((f"country:{key}", tuple(_safe_terms(place.terms))))
    return tuple(out)


def _safe_terms(texts: tuple[str, ...]) -> list[Term]:
    terms: list[Term] = []
    for text in texts:
        try:
            terms.append(parse_term(text.lstrip("=")))
        except TermError:
            continue
    return terms


def _candidates(words: list[str]) -> list[_Hit]:
    lex = lexicon()
    hits: list[_Hit] = []
    for event in lex.events.values():
        hits += [_Hit(s, e, "event", event) for s, e in find_all(event.name, words)]
    for actor in lex.actors.values():
        hits += [_Hit(s, e, "actor", actor) for s, e in find_all(actor.name, words)]
    for region in lex.regions.values():
        hits += [_Hit(s, e, "region", region) for s, e in find_all(region.name, words)]
    for cls in builtin_classes().values():
        if cls.kind == "person":
            terms = tuple(t for m in cls.members for t in m.terms if t.langs is None)
            hits += [_Hit(s, e, "person", cls) for s, e in find_all(terms, words)]
    for key, terms in _place_terms():
        category, _, ref = key.partition(":")
        payload: object = builtin_classes()[ref] if category == "builtin" else lex.places[ref]
        hits += [_Hit(s, e, "builtin_place" if category == "builtin" else "country", payload)
                 for s, e in find_all(terms, words)]
    return hits


def _choose(hits: list[_Hit]) -> list[_Hit]:
    """Longest first, then by category priority; no word read twice."""
    taken: set[int] = set()
    chosen: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), _PRIORITY[h.category], h.start)):
        span = set(range(hit.start, hit.end))
        if span & taken:
            continue
        taken |= span
        chosen.append(hit)
    return sorted(chosen, key=lambda h: h.start)


def _place(hit: _Hit) -> PlaceRef:
    if hit.category == "builtin_place":
        assert isinstance(hit.payload, EntityClass)
        return PlaceRef(hit.payload.members[0].name, builtin=hit.payload)
    assert isinstance(hit.payload, PlaceKind)
    return PlaceRef(hit.payload.label, kind=hit.payload, region=hit.category == "region")


def _describe(hit: _Hit) -> str:
    if hit.category == "event":
        assert isinstance(hit.payload, EventKind)
        return f"a kind of event: {hit.payload.label}"
    if hit.category == "actor":
        assert isinstance(hit.payload, ActorKind)
        return f"a kind of participant: any {hit.payload.label} (the seed's own is an example)"
    if hit.category == "person":
        assert isinstance(hit.payload, EntityClass)
        return f"a person to keep: {hit.payload.members[0].name} (built-in class {hit.payload.name})"
    place = _place(hit)
    return f"a place to keep: {place.label}" + (" (any of its countries)" if place.region else "")


def _leftovers(raw: list[str], words: list[str], covered: set[int],
               analysis: SeedAnalysis) -> tuple[list[Specific], list[str]]:
    """Words the lexicon did not read: names to keep (capitalised, or named by the seed) and the rest."""
    seed_forms = {form: name for name in analysis.names for form in name.forms}
    seed_words = {t for doc in analysis.docs for t in doc.tokens}
    lower_in_seed = {fold(w) for seed in analysis.seeds for w in _TOKEN.findall(seed.full_text) if w.islower()}
    specifics: list[Specific] = []
    others: list[str] = []
    i = 0
    while i < len(words):
        if i in covered or words[i] in FILLER or words[i].isdigit():
            i += 1
            continue
        # The longest run of words that the seed uses as a name.
        found = None
        for j in range(len(words), i, -1):
            if any(k in covered for k in range(i, j)):
                continue
            form = tuple(words[i:j])
            if form in seed_forms:
                found = (j, seed_forms[form])
                break
        if found is not None:
            end, name = found
            specifics.append(Specific(" ".join(raw[i:end]), tuple(name_terms(name, analysis.lang)), True))
            i = end
            continue
        # A capital means a name, except on the name's first word, which is capitalised anyway:
        # there it is a name only if the seeds never write the word in lower case.
        capital = raw[i][:1].isupper() and (i > 0 or words[i] not in lower_in_seed)
        if capital and len(words[i]) > 1 and (i > 0 or words[i] in seed_words):
            j = i
            while j < len(words) and j not in covered and raw[j][:1].isupper() and words[j] not in FILLER:
                j += 1
            text = " ".join(raw[i:j])
            specifics.append(Specific(text, (text,), False))
            i = j
            continue
        others.append(words[i])
        i += 1
    return specifics, others
