"""Seeds → who, what, where: the names the seeds are about, the built-in classes they touch (an EU
leader, Moscow, a visit word), and their distinctive words.

Distinctive means rare in the language at large, not frequent in the seed: wordfreq's Zipf
frequency is the background (idf = 8 − Zipf, as in similarity.py), so one seed is enough, in any
language wordfreq knows. The classes are found with the same automaton and terms the matcher uses,
so what the drafter sees in the seed is what the matcher will see in later articles.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import wordfreq

from monitor.matching.draft.names import Name, find_names
from monitor.matching.draft.read import Seed
from monitor.matching.entities import EntityClass, builtin_classes
from monitor.matching.index import Index
from monitor.matching.similarity import zipf
from monitor.matching.text import Analysed, analyse

_LANGS = frozenset(wordfreq.available_languages())
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MIN_WORD = 3
KEYWORD_MAX_ZIPF = 5.0


@dataclass(frozen=True, slots=True)
class ClassHit:
    """A built-in class the seeds mention: which members, how often, and whether in a headline or lead."""

    cls: EntityClass
    members: tuple[str, ...]
    count: int
    in_title: bool
    in_lead: bool


@dataclass(frozen=True, slots=True)
class Keyword:
    word: str
    weight: float
    """tf × idf over the seeds: (1 + ln n) × (8 − Zipf)."""
    in_lead: bool


@dataclass(frozen=True)
class SeedAnalysis:
    seeds: tuple[Seed, ...]
    lang: str
    """The language the background frequencies come from (the seeds' own when wordfreq knows it)."""
    names: tuple[Name, ...]
    classes: Mapping[str, ClassHit]
    keywords: tuple[Keyword, ...]
    days: tuple[str, ...]
    """Weekdays the seeds' leads name: the day of the event, for a story."""
    docs: tuple[Analysed, ...]

    def hit(self, class_name: str) -> ClassHit | None:
        return self.classes.get(class_name)


def analyse_seeds(seeds: Sequence[Seed]) -> SeedAnalysis:
    lang = _model_lang(seeds)
    docs = tuple(analyse(seed.as_article()) for seed in seeds)
    names = _merge_names([find_names(seed.title, seed.text, lang) for seed in seeds])
    return SeedAnalysis(tuple(seeds), lang, tuple(names), find_classes(docs), _keywords(docs, names, lang),
                        _days(docs), docs)


def _model_lang(seeds: Sequence[Seed]) -> str:
    from monitor.extract.lang import guess_language

    counts = Counter(s.lang for s in seeds if s.lang)
    lang = counts.most_common(1)[0][0] if counts else guess_language(" ".join(s.full_text for s in seeds))
    lang = "hr" if lang in ("sh", "sr", "bs") else lang
    return lang if lang in _LANGS else "en"


def _merge_names(per_seed: list[list[Name]]) -> list[Name]:
    if len(per_seed) == 1:
        return per_seed[0]
    merged: dict[tuple[str, ...], Name] = {}
    for names in per_seed:
        for n in names:
            old = merged.get(n.key)
            if old is None:
                merged[n.key] = Name(n.key, n.text, dict(n.forms), n.mentions, n.in_title, n.first_sentence, n.rarity)
            else:
                old.mentions += n.mentions
                old.in_title = old.in_title or n.in_title
                old.first_sentence = min(old.first_sentence, n.first_sentence)
                for k, v in n.forms.items():
                    old.forms.setdefault(k, v)
    return sorted(merged.values(), key=lambda n: (-n.salience, n.first_sentence))


@lru_cache(maxsize=1)
def _class_index() -> tuple[Index, tuple[EntityClass, ...]]:
    classes = tuple(builtin_classes().values())
    return Index([[m.terms for m in cls.members] for cls in classes]), classes


def find_classes(docs: Sequence[Analysed]) -> dict[str, ClassHit]:
    """Every built-in class whose members the seeds name, by class name."""
    index, classes = _class_index()
    found: dict[str, tuple[set[str], int, bool, bool]] = {}
    for doc in docs:
        for source, hits in index.scan(doc).items():
            cls = classes[source]
            members, count, in_title, in_lead = found.get(cls.name, (set(), 0, False, False))
            for start, _end, member in hits:
                members.add(cls.members[member].name)
                count += 1
                in_title = in_title or doc.field[start] == 0
                in_lead = in_lead or doc.in_lead(start)
            found[cls.name] = (members, count, in_title, in_lead)
    return {name: ClassHit(builtin_classes()[name], tuple(sorted(m)), c, t, lead)
            for name, (m, c, t, lead) in found.items()}


def idf(word: str, lang: str) -> float:
    return max(0.0, 8.0 - zipf(word, lang))


def _keywords(docs: Sequence[Analysed], names: Sequence[Name], lang: str) -> tuple[Keyword, ...]:
    """Common nouns and verbs that are rare in the language: what happened ("rehab", "quake", "heist")."""
    in_names = {w for n in names for form in n.forms for w in form}
    counts: Counter[str] = Counter()
    lead: set[str] = set()
    for doc in docs:
        counts.update(t for t in doc.tokens if _content(t) and t not in in_names)
        lead.update(doc.tokens[:doc.lead_end])
    out = [Keyword(w, (1.0 + math.log(n)) * idf(w, lang), w in lead) for w, n in counts.items()
           if zipf(w, lang) <= KEYWORD_MAX_ZIPF]
    return tuple(sorted(out, key=lambda k: (-k.weight, k.word)))


def _content(token: str) -> bool:
    return len(token) >= MIN_WORD and not any(ch.isdigit() for ch in token)


def _days(docs: Sequence[Analysed]) -> tuple[str, ...]:
    found: list[str] = []
    for doc in docs:
        for tok in doc.tokens[:doc.lead_end]:
            if tok in DAYS and tok not in found:
                found.append(tok)
    return tuple(found)
