"""How much an article reads like a watchlist's seed articles: TF-IDF cosine, no model to download.

The inverse document frequency of a word comes from wordfreq's background frequencies in the seeds'
language (a Zipf value: 7 for "the", about 3 for "Kremlin", 0 for a word it has never seen), so the
seeds alone need no corpus: idf = max(0, 8 - zipf). Common words weigh nearly nothing, names and rare
words a lot. Term frequencies are sublinear (1 + log n). Seeds in English say little about an article
in Hungarian: that is expected, and why similarity is one signal among others, with its own threshold.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import wordfreq

from monitor.matching.text import Analysed, plain_words

MIN_LETTERS = 3
TOP_TERMS = 40
_LANGS = frozenset(wordfreq.available_languages())


@lru_cache(maxsize=64)
def _frequencies(lang: str) -> dict[str, float]:
    return wordfreq.get_frequency_dict(lang)


def idf(word: str, lang: str) -> float:
    """8 minus the word's Zipf frequency (log10 of its frequency per billion words), at least 0."""
    freq = _frequencies(lang).get(word, 0.0)
    return 8.0 if freq <= 0 else max(0.0, 8.0 - (math.log10(freq) + 9.0))


def _useful(word: str) -> bool:
    return len(word) >= MIN_LETTERS and not word.isdigit()


def _weights(words: Iterable[str], lang: str) -> dict[str, float]:
    counts = Counter(w for w in words if _useful(w))
    return {w: (1.0 + math.log(n)) * idf(w, lang) for w, n in counts.items()}


@dataclass(frozen=True)
class SeedModel:
    """The seeds' weighted words (unit length) and the language their weights come from."""

    lang: str
    vector: dict[str, float]

    @property
    def top_terms(self) -> list[str]:
        """The words that weigh most: shown in `why` and useful for drafting."""
        return [w for w, _ in sorted(self.vector.items(), key=lambda kv: -kv[1])[:TOP_TERMS]]


def build_seed_model(texts: Sequence[str], lang: str | None) -> SeedModel:
    """One centroid of every seed text (each seed normalised first, so a long seed does not dominate)."""
    model_lang = lang if lang in _LANGS else "en"
    total: dict[str, float] = {}
    for text in texts:
        weights = _weights(plain_words(text), model_lang)
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        for word, value in weights.items():
            total[word] = total.get(word, 0.0) + value / norm
    norm = math.sqrt(sum(v * v for v in total.values())) or 1.0
    return SeedModel(model_lang, {w: v / norm for w, v in total.items()})


class ArticleVectors:
    """One article's word weights, computed once per language however many watchlists ask."""

    def __init__(self, doc: Analysed) -> None:
        self._doc = doc
        self._by_lang: dict[str, tuple[dict[str, float], float]] = {}

    def cosine(self, model: SeedModel) -> float:
        cached = self._by_lang.get(model.lang)
        if cached is None:
            weights = _weights((w.casefold() for w in self._doc.raw), model.lang)
            cached = (weights, math.sqrt(sum(v * v for v in weights.values())) or 1.0)
            self._by_lang[model.lang] = cached
        weights, norm = cached
        seed = model.vector
        if len(weights) < len(seed):
            dot = sum(v * seed.get(w, 0.0) for w, v in weights.items())
        else:
            dot = sum(v * weights.get(w, 0.0) for w, v in seed.items())
        return dot / norm
