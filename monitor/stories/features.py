"""Article → the features that say which event it reports: weighted terms, names and a text sketch.

Two independent reports of one event share little wording but the same particulars: who (names),
where (places), how many (numbers), and the rare words of the event itself ("firebomb", "rehab").
So each word is weighted by how rare it is in the article's language (wordfreq's Zipf scale: "the"
is 7.7, "police" 5.3, "rehab" 3.8, a surname 2 or less), names count more than other words, and
the title and the lead count more than the tail, where outlets add background and boilerplate.

Names are found without a tagger: a capitalised word that is not at a sentence start (or is rare
enough that its capital is not just the sentence's), and pairs of such words side by side
("Tara Reid", "Betty Ford"). Every term is folded (case, accents: "Orbán" → "orban"), which is what
links reports across languages: "Moskau" and "Moscow" stay apart, but "Putin", "Orban" and
"Szijjártó" are the same string in every Latin-script language.

The features are plain data and serialise to JSON, so the daemon computes them once per article,
stores them next to the article, and rebuilds its in-memory story index from the store.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from wordfreq import available_languages, zipf_frequency

from monitor.matching.text import fold
from monitor.stories.fingerprint import Sketch, sketch
from monitor.types import Article

FEATURES_VERSION = 1
"""Bumped whenever the weighting changes, so stored features of another version are recomputed."""

MAX_TERMS = 80
"""Terms kept per article: the tail of a long article adds noise and cost, not evidence."""

TITLE_WEIGHT = 3.0
"""A word in the title counts as much as three in the body: the headline says what happened."""
LEAD_WEIGHT = 3.0
LEAD_WORDS = 60
"""The first words of the body (who, what, where) count three times as much as the background below."""
NAME_WEIGHT = 1.6
"""Names (people, places, organisations) weigh more than other words of the same rarity."""
PAIR_WEIGHT = 0.7
"""A two-word name ("tara reid") on top of its two words, which already carry most of its weight."""
RARITY_CEILING = 7.0
"""Zipf value at which a word carries no weight; a word never seen (zipf 0) weighs this much."""
RARITY_POWER = 1.5
"""Above 1, rare words gain on merely uncommon ones: "qeshm" says more than "island"."""
UNKNOWN_WORD_RARITY = 3.0
"""Ceiling on the weight of a lower-case word that no word list knows (see `_term_rarity`)."""
NUMBER_RARITY = (2.0, 4.0, 6.0)
"""Weight of a number of 1, 2, 3+ digits: a toll or a sum is a particular of its event, a digit hardly."""
YEAR_RARITY = 3.0
"""Years are everywhere in background sentences, so a year weighs less than a two-digit number."""
START_NAME_ZIPF = 3.5
"""A capitalised word at a sentence start counts as a name only when rarer than this."""
MID_NAME_ZIPF = 5.6
"""A capitalised word inside a sentence counts as a name unless very common ("People", "The")."""

# Numbers keep their separators so that "35,000" is one token (and "6.1" one), not "35" and "000".
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+")
_SEPARATORS = str.maketrans("", "", ".,")
_SENTENCE_BREAK = re.compile(r"[.!?:;\n\"“”«»—–|]")
# wordfreq tokenises Chinese, Japanese and Korean with optional packages (jieba, MeCab) we do not
# install: for those we weigh words by the English list, where their words are all rare, as names are.
_NEEDS_EXTRA_TOKENIZER = frozenset({"zh", "ja", "ko"})
_LANGS = frozenset(available_languages()) - _NEEDS_EXTRA_TOKENIZER
_NOUNS_CAPITALISED = frozenset({"de"})
"""German capitalises every noun: there a capital marks a name only when the word is rare too."""


@dataclass(frozen=True, slots=True)
class ArticleFeatures:
    """What story grouping knows of an article; `to_json`/`from_json` round-trip it exactly."""

    terms: tuple[tuple[str, float], ...]
    """Folded terms and their weights, heaviest first, scaled to unit length."""
    names: frozenset[str]
    """The terms that were written as names."""
    sketch: Sketch
    """MinHash of the body's word shingles, for syndicated copies."""

    def vector(self) -> dict[str, float]:
        return dict(self.terms)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": FEATURES_VERSION,
            "terms": [[t, w] for t, w in self.terms],
            "names": sorted(self.names),
            "sketch": list(self.sketch.hashes),
            "shingles": self.sketch.shingles,
        }

    @classmethod
    def from_json(cls, data: Any) -> ArticleFeatures:
        """Raises ValueError when `data` is not features of this version (recompute them then)."""
        if not isinstance(data, dict) or data.get("v") != FEATURES_VERSION:
            raise ValueError(f"not story features of version {FEATURES_VERSION}")
        try:
            terms = tuple((str(t), float(w)) for t, w in data["terms"])
            names = frozenset(str(n) for n in data["names"])
            hashes = tuple(int(h) for h in data["sketch"])
            shingles = int(data["shingles"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed story features: {exc}") from exc
        return cls(terms, names, Sketch(hashes, shingles))


def wordlist_lang(lang: str | None) -> str:
    """The wordfreq list to weigh an article's words by: its language's, else English."""
    if lang:
        primary = lang.replace("_", "-").split("-", 1)[0].lower()
        if primary in _LANGS:
            return primary
        if primary in ("nn", "no"):
            return "nb"
        if primary in ("sr", "hr", "bs"):
            return "sh"
    return "en"


@lru_cache(maxsize=200_000)
def _fold(word: str) -> str:
    return fold(word)


@lru_cache(maxsize=200_000)
def _zipf(word: str, lang: str) -> float:
    return float(zipf_frequency(word, lang))


@lru_cache(maxsize=200_000)
def rarity(word: str, lang: str) -> float:
    """How much a word (lower case, accents kept) says about an event: 0 for "the", most for a name.

    Numbers are weighed by length, not by wordfreq (which lumps all numbers of a length together):
    "3" is in every other article, "35000" is a particular.
    """
    if word.isdigit():
        if len(word) == 4 and word[:2] in ("19", "20"):
            return YEAR_RARITY
        return NUMBER_RARITY[min(len(word), len(NUMBER_RARITY)) - 1]
    # Scaled so that a word never seen weighs RARITY_CEILING whatever the power.
    rare = max(0.0, RARITY_CEILING - _zipf(word, lang))
    return float(rare ** RARITY_POWER / RARITY_CEILING ** (RARITY_POWER - 1))


def _is_title_case(title: str) -> bool:
    words = [w for w in _TOKEN.findall(title) if len(w) > 3 and not w.isdigit()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


def _scan(text: str, lang: str, boost: float, lead_words: int, all_starts: bool,
          counts: dict[str, float], named: dict[str, int], words: list[str], surface: dict[str, str]) -> None:
    """Add the terms of one field to `counts`, the name occurrences to `named`, folded words to `words`.

    `surface` keeps the first lower-case spelling of each folded term, to look its frequency up by:
    wordfreq knows "orbán" in Hungarian, not "orban".
    """
    previous_name: str | None = None
    position = 0
    end = 0
    at_start = True
    for m in _TOKEN.finditer(text):
        gap = text[end:m.start()]
        end = m.end()
        if _SENTENCE_BREAK.search(gap):
            at_start = True
        raw = m.group(0)
        term = _fold(raw) if raw[0].isalpha() else raw.translate(_SEPARATORS)
        words.append(term)
        weight = boost * (LEAD_WEIGHT if position < lead_words else 1.0)
        position += 1
        lower = raw.lower()
        is_name = False
        if raw[0].isupper() and not raw.isdigit():
            limit = START_NAME_ZIPF if (at_start or all_starts or raw.isupper() or lang in _NOUNS_CAPITALISED) \
                else MID_NAME_ZIPF
            is_name = _zipf(lower, lang) < limit
        at_start = False
        if len(term) < 2 and not term.isdigit():
            previous_name = None
            continue
        surface.setdefault(term, lower)
        counts[term] += weight
        if is_name:
            named[term] += 1
            if previous_name is not None and gap.strip() in ("", "-"):
                pair = f"{previous_name} {term}"
                counts[pair] += weight
                named[pair] += 1
            previous_name = term
        else:
            previous_name = None


def _term_rarity(term: str, lang: str, surface: dict[str, str], is_name: bool) -> float:
    if " " in term:
        first, second = term.split(" ", 1)
        pair = _term_rarity(first, lang, surface, True) + _term_rarity(second, lang, surface, True)
        return PAIR_WEIGHT * pair / 2
    # A lower-case word no list knows is more often a typo, a run-together pair of words or a URL
    # fragment ("gettingready", "itnewsafrica") than the key of an event: weigh it as merely rare.
    weight = rarity(surface.get(term, term), lang)
    return weight if is_name else min(weight, UNKNOWN_WORD_RARITY)


def extract(article: Article) -> ArticleFeatures:
    """The features of `article`; pure, and the same for the same title, text and language."""
    lang = wordlist_lang(article.lang)
    counts: dict[str, float] = defaultdict(float)
    named: dict[str, int] = defaultdict(int)
    surface: dict[str, str] = {}
    title_words: list[str] = []
    body_words: list[str] = []
    title = article.title or ""
    _scan(title, lang, TITLE_WEIGHT, 0, _is_title_case(title), counts, named, title_words, surface)
    _scan(article.text or article.summary or "", lang, 1.0, LEAD_WORDS, False, counts, named, body_words,
          surface)
    weights: list[tuple[str, float]] = []
    for term, count in counts.items():
        w = math.log1p(count) * _term_rarity(term, lang, surface, bool(named.get(term)))
        if named.get(term):
            w *= NAME_WEIGHT
        if w > 0.0:
            weights.append((term, w))
    weights.sort(key=lambda tw: (-tw[1], tw[0]))
    weights = weights[:MAX_TERMS]
    norm = math.sqrt(sum(w * w for _, w in weights)) or 1.0
    terms = tuple((t, round(w / norm, 5)) for t, w in weights)
    kept = {t for t, _ in terms}
    names = frozenset(t for t in named if t in kept)
    return ArticleFeatures(terms, names, sketch(body_words or title_words))
