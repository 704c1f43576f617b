"""Language-neutral anchors: what links two reports of one event written in different languages.

Two reports of one visit, one in Hungarian and one in Russian, share no word: "Moszkvába érkezett
Orbán Viktor" and "Виктор Орбан прибыл в Москву". What they share is who and where. So besides its
words, each article gets *anchors*, keys that come out the same in every language and script:

- **Known entities** (monitor/matching/data: people, places, EU leaders, with their names in the
  EU's languages and scripts and their declined forms): "Moskau", "Moszkvában", "Москву" and "Μόσχα"
  are all `@place:moscow`; "the Hungarian prime minister" (by title, in 25 languages) is the person who
  held that office on the article's day. The event words of `actions.yaml` (visit, phone call,
  attack...) become anchors too, weighed lightly: a visit and a phone call of the same two leaders
  are different stories.
- **Any other name**, by a key made of its spelling: folded (case, accents), Cyrillic and Greek
  written in Latin letters, the spelling habits of the EU's languages and of English and German
  transliteration evened out (Hungarian cs and sz, Polish cz and sz, sh, ch, ts; w and v; y, j and
  i; c as k before a, o, u; doubled letters), and cut to its first STEM letters, which is what joins
  the declined forms: "Orbánnal", "Orbana", "Орбаном" and "Όρμπαν" all give `~orba`, "Vučić",
  "Vucsics" and "Вучич" `~vuci`. Exonyms are beyond it ("Moszkva", "Mosca"): known places are the
  entities above.
- **Numbers** of two digits or more, as written (`#25`: "25 percent", "25 процентов"; see
  monitor.stories.features).

An anchor weighs what its name weighs (see monitor.stories.features): its rarity, by the English
word list for known entities, so that "Orbán" weighs as much in a Hungarian report, where it is a
common word, as in an English one; more in the title and lead; more when repeated. A known entity
is an anchor however its name is declined; the words that named it give no name key of their own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from monitor.matching.entities import ROLES, Member, builtin_classes
from monitor.matching.index import Index
from monitor.matching.terms import Term
from monitor.matching.text import Analysed, Field, analyse, fold
from monitor.types import Article

STEM = 4
"""Letters of a name's key: enough to tell names apart, few enough to leave the case endings out."""
ENTITY_PREFIX = "@"
"""Known entities are "@person:viktor orban", "@place:moscow", "@action:phone call"."""
ACTION_PREFIX = ENTITY_PREFIX + "action:"
NAME_PREFIX = "~"

ENTITY_KINDS = frozenset({"person", "place", "entity"})
"""Classes whose members are anchors, one per person or place (the EU leaders' class is "entity")."""
ACTION_KINDS = frozenset({"action"})
"""Classes of event words: each member ("visit", "phone call") is an anchor, weighed lightly."""
SKIPPED_CLASSES = frozenset({"in_moscow", "elsewhere", "eu_foreign_ministers", "visit", "eu_head_of_government",
                             "eu_head_of_state"})
"""Phrases about a place (in_moscow), unions or parts of other classes (elsewhere, visit, the EU leaders
by kind of office) and titles without a country (eu_foreign_ministers): their members are anchors
already, or say too little."""

# Cyrillic as the Slavic languages of the EU write it in Latin letters once their accents are folded
# (č, š, ž, ć → c, s, z, c): "Вучич" and "Vučić" meet as "vucic", "Шойгу" and "Šojgu" as "soigu".
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "ђ": "dj", "е": "e", "є": "je", "ж": "z",
    "з": "z", "ѕ": "dz", "и": "i", "і": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n",
    "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "c", "у": "u", "ф": "f", "х": "h",
    "ц": "c", "ч": "c", "џ": "dz", "ш": "s", "щ": "sc", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "ju",
    "я": "ja",
}
# Greek pairs first: "ου" is u, "μπ" b ("Όρμπαν" is Orbán), "ντ" d ("Ντόναλντ"), "γκ" g.
_GREEK_PAIRS = {
    "ου": "u", "αι": "e", "ει": "i", "οι": "i", "υι": "i", "αυ": "av", "ευ": "ev", "μπ": "b", "ντ": "d",
    "γκ": "g", "γγ": "ng", "τσ": "ts", "τζ": "dz",
}
_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i", "κ": "k",
    "λ": "l", "μ": "m", "ν": "n", "ξ": "ks", "ο": "o", "π": "p", "ρ": "r", "σ": "s", "ς": "s", "τ": "t",
    "υ": "i", "φ": "f", "χ": "h", "ψ": "ps", "ω": "o",
}
_LETTERS = str.maketrans({**_CYRILLIC, **_GREEK})
_GREEK_PAIR = re.compile("|".join(_GREEK_PAIRS))


_Rules = tuple[re.Pattern[str], dict[str, str]]


def _rules(pairs: dict[str, str]) -> _Rules:
    return re.compile("|".join(sorted(pairs, key=len, reverse=True))), pairs


def _respell(text: str, rules: _Rules) -> str:
    pattern, pairs = rules
    return pattern.sub(lambda m: pairs[m.group(0)], text)


# How one sound is spelled in the EU's Latin alphabets and in English and German transliterations,
# evened out to the folded Slavic spelling (the one Cyrillic is written in above). Longest first.
_SPELLINGS = _rules({
    "tsch": "c", "sch": "s", "tch": "c", "sh": "s", "zh": "z", "ch": "c", "kh": "h", "ts": "c", "tz": "c",
    "ph": "f", "th": "t", "ck": "k", "ou": "u",
})
_LANG_SPELLINGS: dict[str, tuple[_Rules, ...]] = {
    "hu": (_rules({"cs": "c", "sz": "s", "zs": "z", "gy": "d", "ty": "t", "ny": "n", "ly": "j"}),),
    "pl": (_rules({"cz": "c", "sz": "s", "rz": "z"}),),
    "cs": (_rules({"ch": "h"}),),
    "sk": (_rules({"ch": "h"}),),
}
_HARD_C = re.compile(r"c(?![eij])")
"""c before e or i is "ts" or "s" in every language; before anything else, in the Latin-script
languages of the west, "k" ("Macron", "Макрон"); the same rule on both sides keeps "Fico" and "Фицо"
together as "fiko"."""
_LOOSE = str.maketrans({"w": "v", "y": "i", "j": "i", "z": "s", "q": "k", "x": "s"})
_DOUBLE = re.compile(r"(.)\1+")


@lru_cache(maxsize=200_000)
def latin(folded: str) -> str:
    """A folded word in Latin letters: Cyrillic and Greek transliterated, the rest as it is."""
    if folded.isascii():
        return folded
    return _GREEK_PAIR.sub(lambda m: _GREEK_PAIRS[m.group(0)], folded).translate(_LETTERS)


@lru_cache(maxsize=200_000)
def name_key(folded: str, lang: str = "") -> str:
    """The key of a folded name: "orbánnal" (hu), "орбаном" and "όρμπαν" all give "~orba".

    `lang` is the article's: Hungarian "cs" and Polish "cz" are both the Slavic "č".
    """
    text = latin(folded)
    for rules in (*_LANG_SPELLINGS.get(lang, ()), _SPELLINGS):
        text = _respell(text, rules)
    text = _HARD_C.sub("k", text).translate(_LOOSE)
    text = _DOUBLE.sub(r"\1", text)
    return NAME_PREFIX + text[:STEM]


@dataclass(frozen=True, slots=True)
class EntityMention:
    """A known entity named in an article: its anchor, the word that weighs it, and where it stands."""

    key: str
    """"@person:vladimir putin", "@place:moscow", "@action:phone call"."""
    name: str
    """Its name in English ("vladimir putin"), what it is weighed by whatever language named it."""
    field: int
    """monitor.matching.text.Field.TITLE or .TEXT."""
    position: int
    """The index of its first word among the words of its field."""
    action: bool
    """An event word (visit, phone call...) rather than a person or a place."""


@dataclass(frozen=True, slots=True)
class _Source:
    key: str
    name: str
    title: tuple[str, str] | None
    """For a title ("the Hungarian prime minister"): (country name, "government" or "state")."""
    action: bool


@dataclass(frozen=True, slots=True)
class _Catalogue:
    index: Index
    sources: tuple[_Source, ...]
    holders: dict[tuple[str, str], tuple[tuple[date, date | None, int], ...]]
    """(country name, kind) → (first day, first day out, source of the person) of every holder."""


_TITLE = re.compile(r"head of (government|state) of (.+?)\)?$")


@lru_cache(maxsize=1)
def _catalogue() -> _Catalogue:
    """The built-in classes as one automaton, one source per anchor; built once per process."""
    members: dict[str, list[Member]] = {}
    kinds: dict[str, str] = {}
    for name, cls in builtin_classes().items():
        if name in SKIPPED_CLASSES or cls.kind not in ENTITY_KINDS | ACTION_KINDS:
            continue
        kind = "action" if cls.kind in ACTION_KINDS else "place" if cls.kind == "place" else "person"
        for member in cls.members:
            key = f"{ENTITY_PREFIX}{kind}:{fold(member.name)}"
            same = members.setdefault(key, [])
            if all(member.terms != other.terms for other in same):
                same.append(member)
            kinds.setdefault(key, kind)
    sources: list[_Source] = []
    terms: list[list[tuple[Term, ...]]] = []
    for key, same in members.items():
        title = _TITLE.search(same[0].name) if same[0].note == "by title" else None
        name = fold(same[0].name.split("(", 1)[0]).strip()
        sources.append(_Source(key, name, (title.group(2), title.group(1)) if title else None, kinds[key] == "action"))
        terms.append([m.terms for m in same])
    at = {s.key: n for n, s in enumerate(sources)}
    holders: dict[tuple[str, str], list[tuple[date, date | None, int]]] = {}
    for key, same in members.items():
        for office in {o for m in same for o in m.offices}:
            for kind in ROLES[office.role][1]:
                holders.setdefault((office.country_name, kind), []).append((office.start, office.end, at[key]))
    return _Catalogue(Index(terms), tuple(sources), {k: tuple(sorted(v)) for k, v in holders.items()})


def entity_mentions(article: Article, doc: Analysed | None = None) -> tuple[list[EntityMention], frozenset[str]]:
    """The known entities `article` names in its title and text, and the folded words that named them.

    A title ("the Hungarian prime minister") stands for whoever held the office on the article's
    day; undated, it stays the title. Some titles read alike across languages ("slovenský premiér" is
    Slovakia's in Slovak, and "slovenski" means Slovenian in Croatian): a title found in the same
    words as another counts only for a holder the article also names.
    """
    catalogue = _catalogue()
    doc = analyse(article) if doc is None else doc
    day = article.published.date() if article.published is not None else None
    starts: dict[int, int] = {}
    for i, fld in enumerate(doc.field):
        starts.setdefault(fld, i)
    hits: set[tuple[int, int, _Source]] = set()
    titles: dict[tuple[int, int], set[str]] = defaultdict(set)
    for source, found in catalogue.index.scan(doc).items():
        anchor = catalogue.sources[source]
        if anchor.title is not None and day is not None:
            anchor = _holder(catalogue, anchor, day)
        for first, stop, _member in found:
            if doc.field[first] in (Field.TITLE, Field.TEXT):
                hits.add((first, stop, anchor))
                if catalogue.sources[source].title is not None:
                    titles[first, stop].add(catalogue.sources[source].key)
    named = {anchor.key for first, stop, anchor in hits if (first, stop) not in titles}
    mentions: list[EntityMention] = []
    covered: set[str] = set()
    for first, stop, anchor in sorted(hits, key=lambda h: (h[0], h[1], h[2].key)):
        if len(titles.get((first, stop), ())) > 1 and anchor.key not in named:
            continue
        fld = doc.field[first]
        mentions.append(EntityMention(anchor.key, anchor.name, fld, first - starts[fld], anchor.action))
        covered.update(doc.tokens[first:stop])
    return mentions, frozenset(covered)


def _holder(catalogue: _Catalogue, title: _Source, day: date) -> _Source:
    assert title.title is not None
    for start, end, source in catalogue.holders.get(title.title, ()):
        if start <= day and (end is None or day < end):
            return catalogue.sources[source]
    return title


def anchor_name(key: str) -> str:
    """What a person reads for an anchor: "viktor orban" for "@person:viktor orban", "orba" for "~orba"."""
    if key.startswith(ENTITY_PREFIX):
        return key.split(":", 1)[-1]
    return key[len(NAME_PREFIX):]
