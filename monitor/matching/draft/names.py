"""The names a seed article is about: people, places, organisations, as runs of capitalised words.

No tagger model ships with the project, so names are found the way a reader skims: runs of
capitalised words ("Tara Reid", "Promises Treatment Center", "Gulf of Aden"). Capitals tell little
at the start of a sentence and in a Title Case headline, so a word there counts only if the seed
also capitalises it mid-sentence, or if it is rare (wordfreq's Zipf frequency: "Comeaux" 1.3,
"Leaves" 4.8). A word the seed also writes in lower case is a common word ("Police", "Friday"), and
so are titles ("President", "Mr"), which are cut off the run: "Prime Minister Viktor Orbán" gives
"Viktor Orbán".

Mentions are then grouped: a shorter run at the start or end of a longer one is the same name
("Reid" and "Tara Reid", "O'Brien" and "Jim O'Brien"). Each name keeps its written forms, how often
and where the seed names it, and how rare it is: a story is told by its rare names named often and
early, not by "Washington".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.matching.similarity import zipf as similarity_zipf
from monitor.matching.text import fold, sentences

_TOKEN = re.compile(r"[^\W_]+")


def words(text: str) -> frozenset[str]:
    """A word list written as text, one or more words a line."""
    return frozenset(text.split())


# Gaps that keep two words in one name: a space, or the hyphen or apostrophe of O'Brien, Mat-Su.
_JOIN = re.compile(r"^(?:[ \u00a0]+|[-'’‐][ ]?)$")
CONNECTORS = frozenset({"of", "de", "del", "della", "di", "da", "dos", "das", "van", "von", "der", "den", "du",
                        "la", "le", "bin", "al", "el"})
# Capitalised words that are not names: titles, days, months and the words that start sentences.
GENERIC = words("""
mr mrs ms miss dr sir dame lord lady madam mme herr frau pan pani
president prime minister ministers chancellor premier king queen prince princess emperor pope governor gov
senator sen rep representative congressman congresswoman mayor judge justice officer chief general gen col
colonel capt captain sgt sergeant lt lieutenant major commander admiral coach director chairman chairwoman
ceo cfo head spokesman spokeswoman spokesperson secretary ministry department police sheriff deputy attorney
district court state city county trooper detective inspector constable professor prof rev reverend father
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december jan feb mar apr jun jul aug sep sept oct nov dec
the a an and or but in on at of for to from by with as this that these those it its he she they we i you
his her their our my your after before when while if then there here what who where why how not no yes
said says according updated last published posted am pm gmt est edt pst pdt cet cest utc bst ist
news breaking report reports update live video photo photos watch read more
""")
MAYBE_MAX_ZIPF = 4.6
RARE_ZIPF = 3.0
COMMON_ALIAS_ZIPF = 4.0
MAX_NAME_WORDS = 6
NOUN_CAPITALS = frozenset({"de", "lb"})
"""Languages that capitalise every noun: a capital there says little, so only rare words count."""


@dataclass(slots=True)
class Name:
    key: tuple[str, ...]
    """The folded words of its longest form."""
    text: str
    """Its longest form as written: "Tara Reid"."""
    forms: dict[tuple[str, ...], str] = field(default_factory=dict)
    """Every form the seed uses (folded words → as written): "Tara Reid", "Reid"."""
    mentions: int = 0
    in_title: bool = False
    first_sentence: int = 1 << 30
    rarity: float = 0.0
    """8 minus the Zipf frequency of its rarest word: 0 for "the", 8 for a word wordfreq never saw."""

    @property
    def salience(self) -> float:
        """How much the seed is about this name: often, early, in the headline, and rare."""
        early = 1.5 if self.first_sentence <= 1 else 1.0
        headline = 2.0 if self.in_title else 1.0
        rare = min(1.0, max(0.2, (self.rarity - 2.0) / 3.0))
        return (1.0 + math.log(self.mentions)) * early * headline * rare


@dataclass(frozen=True, slots=True)
class _Mention:
    words: tuple[str, ...]
    raw: str
    in_title: bool
    sentence: int


def zipf(word: str, lang: str) -> float:
    """wordfreq's Zipf frequency, looked up without its tokeniser (which needs jieba or MeCab for
    Chinese, Japanese and Korean): the words here are single tokens already."""
    return similarity_zipf(word, lang)


def find_names(title: str, text: str, lang: str) -> list[Name]:
    """The names of one article, most salient first."""
    fields = [(True, title), (False, text)] if title else [(False, text)]
    lower = {fold(t) for _, body in fields for t in _TOKEN.findall(body) if t.islower()}
    title_case = bool(title) and _title_case(title)
    inside = _capitalised_inside(fields, title_case)
    mentions: list[_Mention] = []
    number = 0
    for is_title, body in fields:
        for start, end in sentences(body):
            sentence = body[start:end]
            uninformative_field = (is_title and title_case) or _shouting(sentence)
            mentions.extend(_runs(sentence, is_title, number, uninformative_field, lower, inside, lang))
            number += 1
    return _group(mentions, lang)


def _title_case(title: str) -> bool:
    words = [w for w in _TOKEN.findall(title) if w.isalpha()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) / len(words) > 0.6


def _shouting(sentence: str) -> bool:
    words = [w for w in _TOKEN.findall(sentence) if w.isalpha() and len(w) > 1]
    return len(words) >= 3 and sum(w.isupper() for w in words) / len(words) > 0.5


def _capitalised_inside(fields: list[tuple[bool, str]], title_case: bool) -> set[str]:
    """Words the article capitalises where capitals mean something: not first in a sentence, not
    in a Title Case headline."""
    found: set[str] = set()
    for is_title, body in fields:
        if is_title and title_case:
            continue
        for start, end in sentences(body):
            words = _TOKEN.findall(body[start:end])
            if _shouting(body[start:end]):
                continue
            found.update(fold(w) for w in words[1:] if w[:1].isupper())
    return found


def _runs(sentence: str, is_title: bool, number: int, uninformative_field: bool, lower: set[str],
          inside: set[str], lang: str) -> Iterable[_Mention]:
    tokens = list(_TOKEN.finditer(sentence))
    run: list[tuple[re.Match[str], str]] = []  # (token, "name" | "maybe" | "link")
    for k, m in enumerate(tokens):
        word = m.group(0)
        folded = fold(word)
        kind = _kind(word, folded, k == 0 or uninformative_field, lower, inside, lang)
        joined = bool(run) and _JOIN.match(sentence[tokens[k - 1].end():m.start()]) is not None
        if kind is None or (run and not joined):
            yield from _close(run, sentence, is_title, number, lang)
            run = []
        if kind is not None and (kind != "link" or run):
            run.append((m, kind))
    yield from _close(run, sentence, is_title, number, lang)


def _kind(word: str, folded: str, uninformative: bool, lower: set[str], inside: set[str], lang: str) -> str | None:
    if folded in CONNECTORS and word.islower():
        return "link"
    if not word[:1].isupper() or word[:1].isdigit() or folded in GENERIC or folded in lower:
        return None
    rarity = zipf(folded, lang)
    if lang in NOUN_CAPITALS and rarity >= RARE_ZIPF + 0.5:
        return None
    if not uninformative or folded in inside or rarity < RARE_ZIPF:
        return "name"
    return "maybe" if rarity < MAYBE_MAX_ZIPF else None


def _close(run: list[tuple[re.Match[str], str]], sentence: str, is_title: bool, number: int,
           lang: str) -> Iterable[_Mention]:
    while run and run[-1][1] == "link":
        run.pop()
    if not run or not any(kind == "name" for _, kind in run):
        return
    # A name of more than a few words is a Title Case phrase, not a name: keep its last words.
    run = run[-MAX_NAME_WORDS:]
    while run and run[0][1] == "link":
        run.pop(0)
    words = tuple(fold(m.group(0)) for m, _ in run)
    raw = sentence[run[0][0].start():run[-1][0].end()]
    if len(words) == 1 and len(words[0]) < 2:
        return
    yield _Mention(words, raw, is_title, number)


def _group(mentions: list[_Mention], lang: str) -> list[Name]:
    counts: dict[tuple[str, ...], int] = {}
    for m in mentions:
        counts[m.words] = counts.get(m.words, 0) + 1
    # Longest forms first: a shorter form joins the most frequent longer form it starts or ends.
    owner: dict[tuple[str, ...], tuple[str, ...]] = {}
    for words in sorted(counts, key=lambda w: (-len(w), -counts[w])):
        longer = [o for o in owner.values() if len(o) > len(words) and _part_of(words, o)]
        owner[words] = max(longer, key=lambda o: (counts.get(o, 0), len(o))) if longer else words
    names: dict[tuple[str, ...], Name] = {}
    for m in mentions:
        key = owner[m.words]
        name = names.get(key)
        if name is None:
            name = names[key] = Name(key, m.raw)
        name.forms.setdefault(m.words, m.raw)
        if m.words == key and len(m.raw) > len(name.text):
            name.text = m.raw
        name.mentions += 1
        name.in_title = name.in_title or m.in_title
        name.first_sentence = min(name.first_sentence, m.sentence)
    for name in names.values():
        name.rarity = max(0.0, 8.0 - min(zipf(w, lang) for w in name.key))
    return sorted(names.values(), key=lambda n: (-n.salience, n.first_sentence))


def _part_of(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    n = len(short)
    return long[:n] == short or long[-n:] == short


def name_terms(name: Name, lang: str) -> list[str]:
    """The terms that find a name in later articles: each written form, with a capital required
    where the form alone is also a common word ("=Page" finds Bettie Page, not "page 3")."""
    terms: list[str] = []
    for words, raw in sorted(name.forms.items(), key=lambda kv: (-len(kv[0]), kv[1])):
        text = " ".join(_TOKEN.findall(raw)) if len(words) > 1 else raw
        if len(words) == 1 and zipf(words[0], lang) >= COMMON_ALIAS_ZIPF:
            text = "=" + raw[:1].upper() + raw[1:]
        if text not in terms:
            terms.append(text)
    return terms
