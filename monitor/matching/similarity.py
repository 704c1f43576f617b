"""How much an article reads like a watchlist's seed articles: TF-IDF cosine, no model to download.

The inverse document frequency of a word comes from wordfreq's background frequencies in the seeds'
language (a Zipf value: 7 for "the", about 3 for "Kremlin", 0 for a word it has never seen), so the
seeds alone need no corpus: idf = max(0, 8 - zipf). Common words weigh nearly nothing, names and rare
words a lot. Term frequencies are sublinear (1 + log n). Seeds in English say little about an article
in Hungarian: that is expected, and why similarity is one signal among others, with its own threshold.

Three measures, each its own cosine (`similar_to_seeds: {by: ...}`):

    words    every word, as above
    phrases  pairs of adjacent words in one sentence ("eight-year offer", "tara reid"), weighted by the
             mean idf of the two, a pair of two common words ("of the", "said on") left out: two
             reports of one event share its phrases; two events of one kind mostly share single words
    names    the words a text capitalises mid-sentence and never writes in lower case, and its numbers
             (ages, tolls, magnitudes, amounts, years), idf raised to the power 1.5 so that a rare name
             outweighs a famous one: the people, places and figures of one event, not of its kind
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from monitor.matching.text import Analysed, Field, plain_words, sentences
from monitor.wordfreqs import LANGS, idf
from monitor.wordfreqs import zipf as zipf  # re-exported: the drafting code and tests read it here

MIN_LETTERS = 3
TOP_TERMS = 40
MEASURES = ("words", "phrases", "names")
COMMON_PAIR_IDF = 3.5
"""A phrase whose two words are both this common (idf below it, Zipf above 4.5) is left out."""
NAME_IDF_POWER = 1.5
NUMBER_IDF = 5.0
"""Numbers have no background frequency: each counts like a fairly rare word."""
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_WORD = re.compile(r"[^\W_]+")


def _useful(word: str) -> bool:
    return len(word) >= MIN_LETTERS and not word.isdigit()


def _weights(words: Iterable[str], lang: str) -> dict[str, float]:
    counts = Counter(w for w in words if _useful(w))
    return {w: (1.0 + math.log(n)) * idf(w, lang) for w, n in counts.items()}


def _phrase_weights(sents: Iterable[Sequence[str]], lang: str) -> dict[str, float]:
    """Adjacent pairs of (case-folded) words within a sentence, by their mean idf."""
    counts: Counter[str] = Counter()
    for words in sents:
        counts.update(f"{a} {b}" for a, b in pairwise(words))
    out: dict[str, float] = {}
    for pair, n in counts.items():
        first, second = pair.split(" ")
        a, b = idf(first, lang), idf(second, lang)
        if max(a, b) >= COMMON_PAIR_IDF:
            out[pair] = (1.0 + math.log(n)) * (a + b) / 2.0
    return out


def _name_weights(sents: Sequence[Sequence[str]], numbers: Iterable[str], lang: str) -> dict[str, float]:
    """Names (capitalised after a sentence's first word, never in lower case; acronyms count) and numbers."""
    capitalised: set[str] = set()
    lower: set[str] = set()
    for words in sents:
        for i, word in enumerate(words):
            if word.islower():
                lower.add(word.casefold())
            elif i > 0 and word[:1].isupper() and len(word) > 1 and not word.isdigit():
                capitalised.add(word.casefold())
    names = capitalised - lower
    counts = Counter(w for words in sents for w in (x.casefold() for x in words) if w in names)
    counts.update("#" + n for n in numbers)
    return {w: (1.0 + math.log(n)) * (NUMBER_IDF if w[0] == "#" else idf(w, lang)) ** NAME_IDF_POWER
            for w, n in counts.items()}


def _unit(weights: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
    return {w: v / norm for w, v in weights.items()}


def _text_sentences(text: str) -> list[list[str]]:
    """The words of each sentence of `text` (a line break ends one), as written: capitals are evidence."""
    return [words for start, end in sentences(text) if (words := _WORD.findall(text[start:end]))]


@dataclass(frozen=True)
class SeedModel:
    """The seeds' weighted words (unit length) and the language their weights come from."""

    lang: str
    vector: dict[str, float]
    phrases: dict[str, float] = field(default_factory=dict)
    names: dict[str, float] = field(default_factory=dict)

    def of(self, measure: str) -> dict[str, float]:
        return self.phrases if measure == "phrases" else self.names if measure == "names" else self.vector

    @property
    def top_terms(self) -> list[str]:
        """The words that weigh most: shown in `why` and useful for drafting."""
        return top(self.vector)


def top(vector: Mapping[str, float], n: int = TOP_TERMS) -> list[str]:
    """The heaviest entries of a vector (a number is written without its `#`)."""
    return [w.lstrip("#") for w, _ in sorted(vector.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def build_seed_model(texts: Sequence[str], lang: str | None) -> SeedModel:
    """One centroid of every seed text per measure (each seed normalised first, so a long seed does not dominate)."""
    model_lang = lang if lang in LANGS else "en"
    totals: tuple[dict[str, float], dict[str, float], dict[str, float]] = ({}, {}, {})
    for text in texts:
        sents = _text_sentences(text)
        per_seed = (_weights(plain_words(text), model_lang),
                    _phrase_weights(([w.casefold() for w in s] for s in sents), model_lang),
                    _name_weights(sents, _NUMBER.findall(text), model_lang))
        for total, weights in zip(totals, per_seed, strict=True):
            for word, value in _unit(weights).items():
                total[word] = total.get(word, 0.0) + value
    words, phrases, names = (_unit(t) for t in totals)
    return SeedModel(model_lang, words, phrases, names)


class ArticleVectors:
    """One article's weights per measure, computed once per language however many watchlists ask."""

    def __init__(self, doc: Analysed) -> None:
        self._doc = doc
        self._by_key: dict[tuple[str, str], tuple[dict[str, float], float]] = {}
        self._sents: list[list[str]] | None = None

    def _sentences(self) -> list[list[str]]:
        """The words of the title's and text's sentences, as written (url and outlet are no prose)."""
        if self._sents is None:
            doc = self._doc
            grouped: dict[int, list[str]] = {}
            for word, fld, sent in zip(doc.raw, doc.field, doc.sent, strict=True):
                if fld in (Field.TITLE, Field.TEXT):
                    grouped.setdefault(sent, []).append(word)
            self._sents = list(grouped.values())
        return self._sents

    def _vector(self, measure: str, lang: str) -> tuple[dict[str, float], float]:
        cached = self._by_key.get((measure, lang))
        if cached is None:
            if measure == "phrases":
                weights = _phrase_weights(([w.casefold() for w in s] for s in self._sentences()), lang)
            elif measure == "names":
                doc = self._doc
                numbers = [n for text in doc.texts[Field.TITLE:Field.TEXT + 1] for n in _NUMBER.findall(text)]
                weights = _name_weights(self._sentences(), numbers, lang)
            else:
                weights = _weights((w.casefold() for w in self._doc.raw), lang)
            cached = (weights, math.sqrt(sum(v * v for v in weights.values())) or 1.0)
            self._by_key[(measure, lang)] = cached
        return cached

    def cosine(self, model: SeedModel, measure: str = "words") -> float:
        weights, norm = self._vector(measure, model.lang)
        seed = model.of(measure)
        if len(weights) < len(seed):
            dot = sum(v * seed.get(w, 0.0) for w, v in weights.items())
        else:
            dot = sum(v * weights.get(w, 0.0) for w, v in seed.items())
        return dot / norm

    def shared(self, model: SeedModel, measure: str, n: int = 3) -> list[str]:
        """What the article shares with the seeds that weighs most: the `why` of a similarity."""
        weights, _ = self._vector(measure, model.lang)
        seed = model.of(measure)
        both = {w: v * seed[w] for w, v in weights.items() if w in seed}
        return top(both, n)
