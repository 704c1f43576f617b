"""wordfreq's word frequencies, held compactly: the same Zipf values, a tenth of the memory.

`wordfreq.zipf_frequency` keeps every list it opens twice over, in two unbounded caches: the list of
frequency bands and a dict word → float, 33 MiB for English and 60-90 MiB for Russian, Czech or German,
in every process that weighs words (story features read articles in several languages). Only the
frequency of a word we are asked about matters, never the list of words itself, so a language's table
here is sorted arrays of its words' hashes, each with its band (the word's frequency in centibels
below 1, which is all wordfreq stores), packed in 8 bytes a word instead of about 100: English 2.5 MiB
instead of 27, Russian 5.5 instead of 96 (tracemalloc).

The list is streamed from wordfreq's packed file, one band at a time, so that the whole list is never
in memory at once, and wordfreq's caches stay empty. Words are keyed by 62 bits of Python's hash of
their UTF-8 bytes, stable within a process: a word looked up shares its key with one of a list's
words it is not with a probability of the order of 10^-13, far below anything the figures could show.

`zipf_frequency` gives exactly what wordfreq's function of that name gives (tokenising the word as it
does); `zipf` and `idf` look the word up as it is, without a tokeniser, which for Chinese, Japanese
and Korean would need jieba or MeCab.
"""

from __future__ import annotations

import gzip
import math
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

import langcodes
import msgpack  # type: ignore[import-untyped]
import wordfreq
from wordfreq.language_info import get_language_info
from wordfreq.numbers import digit_freq, smash_numbers
from wordfreq.tokens import lossy_tokenize

LANGS = frozenset(wordfreq.available_languages())
"""The languages wordfreq has a list for."""
_MINIMUM = wordfreq.zipf_to_freq(0.0)
"""The frequency `wordfreq.zipf_frequency` gives a word it never saw (Zipf 0)."""
_FREQ = tuple(wordfreq.cB_to_freq(-band) for band in range(1024))
"""A band's frequency, computed as wordfreq computes it (so that every figure matches to the bit)."""
_ZIPF = tuple(max(0.0, math.log10(freq) + 9.0) for freq in _FREQ)
_IDF = tuple(max(0.0, 8.0 - (math.log10(freq) + 9.0)) for freq in _FREQ)
_MASK = (1 << 64) - 1
_BAND_BITS = 0x3FF
"""The low 10 bits of a packed entry hold the band, the other 54 the same bits of the word's hash."""
_PARTS = 256
"""Entries are split by the low 8 bits of the hash, so that each part is sorted on its own: sorting
a whole list at once would hold a Python int for each of its words (40 MiB for Russian)."""


def _hash(word: str) -> int:
    """The word's 64-bit hash, of its UTF-8 bytes: Python hashes a string's internal buffer, in which
    "a1" (two one-byte characters) and "ㅡ" (one two-byte character) are the same bytes."""
    return hash(word.encode("utf-8", "surrogatepass")) & _MASK


@dataclass(frozen=True, slots=True)
class _Table:
    """One language's list: for each part, its packed entries (hash | band) in ascending order."""

    parts: tuple[array[int], ...]

    def band(self, word: str) -> int | None:
        """The word's band, or None if the list does not have it."""
        h = _hash(word)
        part = self.parts[h % _PARTS]
        key = h & ~_BAND_BITS
        # A few words are listed in two bands (Japanese kana in English): the last band is the one
        # wordfreq's dict keeps, and it sorts last.
        i = bisect_right(part, key | _BAND_BITS) - 1
        if i >= 0 and part[i] & ~_BAND_BITS == key:
            return part[i] & _BAND_BITS
        return None


def _path(lang: str) -> str:
    """The file of wordfreq's best list for `lang`, matched as `wordfreq.get_frequency_list` does."""
    available = wordfreq.available_languages()
    if lang in available:
        return available[lang]
    best, _distance = langcodes.closest_match(lang, list(available), max_distance=60)
    if best == "und":
        raise LookupError(f"No wordlist 'best' available for language {lang!r}")
    return available[best]


@cache
def _table(lang: str) -> _Table:
    """Read one language's packed list (a gzipped msgpack array: a header, then one array of words per
    centibel band), streamed so that only hashes and bands are kept."""
    parts = [array("Q") for _ in range(_PARTS)]
    with gzip.open(_path(lang), "rb") as infile:
        unpacker = msgpack.Unpacker(infile, raw=False)
        count = unpacker.read_array_header()
        header = unpacker.unpack()
        if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
            raise ValueError(f"{_path(lang)}: unexpected wordfreq header {header!r}")
        for band in range(count - 1):
            words = unpacker.unpack()
            if words and band > _BAND_BITS:
                raise ValueError(f"{_path(lang)}: a frequency band beyond {_BAND_BITS} cB below 1")
            for word in words:
                h = _hash(word)
                parts[h % _PARTS].append((h & ~_BAND_BITS) | band)
    return _Table(tuple(array("Q", sorted(part)) for part in parts))


def zipf(word: str, lang: str) -> float:
    """The word's Zipf frequency (log10 of its frequency per billion words; 0 if wordfreq never saw
    it), looked up as it is in `lang`'s list (English's if wordfreq has none for `lang`)."""
    band = _table(lang if lang in LANGS else "en").band(word)
    return 0.0 if band is None else _ZIPF[band]


def idf(word: str, lang: str) -> float:
    """8 minus the word's Zipf frequency, at least 0; 8 for a word the list does not have."""
    band = _table(lang).band(word)
    return 8.0 if band is None else _IDF[band]


def _frequency(word: str, lang: str, table: _Table) -> float:
    """`wordfreq.word_frequency(word, lang)` with its minimum at Zipf 0, step for step."""
    tokens = lossy_tokenize(word, lang)
    if not tokens:
        return _MINIMUM
    one_over_result = 0.0
    for token in tokens:
        smashed = smash_numbers(token)
        band = table.band(smashed)
        if band is None:
            return _MINIMUM
        freq = _FREQ[band]
        if smashed != token:
            freq *= digit_freq(token)
        one_over_result += 1.0 / freq
    freq = 1.0 / one_over_result
    if get_language_info(lang)["tokenizer"] == "jieba":
        freq *= wordfreq.INFERRED_SPACE_FACTOR ** -(len(tokens) - 1)
    unrounded = max(freq, _MINIMUM)
    leading_zeroes = math.floor(-math.log(unrounded, 10))
    return round(unrounded, leading_zeroes + 3)


def zipf_frequency(word: str, lang: str) -> float:
    """What `wordfreq.zipf_frequency(word, lang)` gives: the word tokenised as wordfreq does (numbers,
    several tokens), rounded to hundredths, 0 for a word never seen."""
    return round(wordfreq.freq_to_zipf(_frequency(word, lang, _table(lang))), 2)
