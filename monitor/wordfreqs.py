"""wordfreq's word frequencies, held compactly: the same Zipf values, a tenth of the memory.

`wordfreq.zipf_frequency` keeps every list it opens twice over, in two unbounded caches: the list of
frequency bands and a dict word → float, 33 MiB for English and 60-90 MiB for Russian, Czech or German,
in every process that weighs words (story features read articles in several languages). Only the
frequency of a word we are asked about matters, never the list of words itself, so a language's table
here is sorted arrays of its words' hashes, each with its band (the word's frequency in centibels
below 1, which is all wordfreq stores), packed in 8 bytes a word instead of about 100: English 2.5 MiB
instead of 27, Russian 5.5 instead of 96 (tracemalloc).

The list is streamed from wordfreq's packed file, one band at a time, so that the whole list is never
in memory at once, and wordfreq's caches stay empty. Words are keyed by 62 bits of the BLAKE2b hash of
their UTF-8 bytes: a word looked up shares its key with one of a list's words it is not with a
probability of the order of 10^-13, far below anything the figures could show. The hash is stable, so
a table is built once per machine and kept in a cache directory (`CACHE_ENV`), from which every process
maps it: the extraction workers of a daemon share one copy, and a worker meeting its first Russian
article reads the table in a millisecond instead of building it in half a second.

`zipf_frequency` gives exactly what wordfreq's function of that name gives (tokenising the word as it
does); `zipf` and `idf` look the word up as it is, without a tokeniser, which for Chinese, Japanese
and Korean would need jieba or MeCab.
"""

from __future__ import annotations

import gzip
import logging
import math
import mmap
import os
import tempfile
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from hashlib import blake2b
from pathlib import Path

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
"""Entries are split by the low 8 bits of the hash (which the entry does not keep), each part sorted
on its own: sorting a whole list at once would hold a Python int for each of its words (40 MiB for
Russian)."""
_HEADER = _PARTS + 1
"""A table is `_HEADER` offsets (where each part starts, and the end), then the entries."""
_MAGIC = b"monitor-wordfreq-v1\n"
CACHE_ENV = "MONITOR_CACHE_DIR"
"""Where the built tables are kept (default: $XDG_CACHE_HOME/news-monitor, else ~/.cache/news-monitor)."""

log = logging.getLogger(__name__)


def _hash(word: bytes) -> int:
    """The 64-bit hash of a word's UTF-8 bytes; stable, so that a table built once serves every process."""
    return int.from_bytes(blake2b(word, digest_size=8).digest(), "little")


@dataclass(frozen=True, slots=True)
class _Table:
    """One language's list: `_HEADER` offsets, then for each part its packed entries (hash | band) in
    ascending order; in memory, or mapped from the cache file (and then shared by every process)."""

    entries: Sequence[int]

    def band(self, word: str) -> int | None:
        """The word's band, or None if the list does not have it."""
        h = _hash(word.encode("utf-8", "surrogatepass"))
        part = h % _PARTS
        lo, hi = self.entries[part], self.entries[part + 1]
        key = h & ~_BAND_BITS
        # A few words are listed in two bands (Japanese kana in English): the last band is the one
        # wordfreq's dict keeps, and it sorts last.
        i = bisect_right(self.entries, key | _BAND_BITS, lo, hi) - 1
        if i >= lo and self.entries[i] & ~_BAND_BITS == key:
            return self.entries[i] & _BAND_BITS
        return None

    def __len__(self) -> int:
        """How many words it lists."""
        return len(self.entries) - _HEADER


def _path(lang: str) -> str:
    """The file of wordfreq's best list for `lang`, matched as `wordfreq.get_frequency_list` does."""
    available = wordfreq.available_languages()
    if lang in available:
        return available[lang]
    best, _distance = langcodes.closest_match(lang, list(available), max_distance=60)
    if best == "und":
        raise LookupError(f"No wordlist 'best' available for language {lang!r}")
    return available[best]


def _build(source: str) -> array[int]:
    """A table from wordfreq's packed list (a gzipped msgpack array: a header, then one array of words
    per centibel band), streamed so that only hashes and bands are kept."""
    parts = [array("Q") for _ in range(_PARTS)]
    with gzip.open(source, "rb") as infile:
        unpacker = msgpack.Unpacker(infile, raw=True)  # the words' UTF-8 bytes, which is what is hashed
        count = unpacker.read_array_header()
        header = unpacker.unpack()
        if not isinstance(header, dict) or header.get(b"format") != b"cB" or header.get(b"version") != 1:
            raise ValueError(f"{source}: unexpected wordfreq header {header!r}")
        for band in range(count - 1):
            words = unpacker.unpack()
            if words and band > _BAND_BITS:
                raise ValueError(f"{source}: a frequency band beyond {_BAND_BITS} cB below 1")
            for h in map(_hash, words):
                parts[h % _PARTS].append((h & ~_BAND_BITS) | band)
    table = array("Q", [0] * _HEADER)
    for i, part in enumerate(parts):
        table.extend(sorted(part))
        table[i + 1] = len(table) - _HEADER
        parts[i] = array("Q")  # let the part go as soon as it is copied
    table[:_HEADER] = array("Q", (offset + _HEADER for offset in table[:_HEADER]))
    return table


def _cache_dir() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "news-monitor"


def _cache_file(source: str) -> Path:
    """The built table's file: named for wordfreq's list file, its size and time, so that a new
    wordfreq release (or a changed list) is never read through an old table."""
    stat = os.stat(source)
    return _cache_dir() / f"wordfreq-{Path(source).name}-{stat.st_size}-{int(stat.st_mtime)}.table"


def _mapped(path: Path) -> _Table | None:
    """The table in `path`, mapped read-only, or None when there is none or it is not whole."""
    try:
        with path.open("rb") as infile:
            mapping = mmap.mmap(infile.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # missing, unreadable, or empty (mmap refuses a file of 0 bytes)
        return None
    view = memoryview(mapping)
    size = len(_MAGIC)
    if len(view) < size + 8 * _HEADER or view[:size] != _MAGIC or (len(view) - size) % 8:
        return None
    entries = view[size:].cast("Q")
    if entries[_PARTS] != len(entries) or any(entries[i] > entries[i + 1] for i in range(_PARTS)):
        return None
    return _Table(entries)


def _save(path: Path, table: array[int]) -> None:
    """Write the table for later processes; a cache that cannot be written is only a slower start."""
    written: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".table-", delete=False) as out:
            written = out.name
            out.write(_MAGIC)
            table.tofile(out)
        os.replace(written, path)
    except OSError as exc:
        log.debug("wordfreq_table_not_cached", extra={"path": str(path), "error": str(exc)})
        if written is not None:
            with suppress(OSError):
                os.unlink(written)


@cache
def _table(lang: str) -> _Table:
    """A language's table: mapped from the cache when it was built before (by any process: the workers
    of one daemon share its pages), else built from wordfreq's list (a fifth to half a second) and
    cached."""
    source = _path(lang)
    cached = _cache_file(source)
    found = _mapped(cached)
    if found is not None:
        return found
    table = _build(source)
    _save(cached, table)
    return _mapped(cached) or _Table(table)


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
    """`wordfreq.word_frequency(word, lang)` before its rounding (`_rounded`), step for step."""
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
    return freq


def _rounded(freq: float) -> float:
    """The last steps of `wordfreq.word_frequency` and `zipf_frequency`: three significant digits of the
    frequency, then the Zipf value to the hundredth."""
    unrounded = max(freq, _MINIMUM)
    leading_zeroes = math.floor(-math.log(unrounded, 10))
    return round(wordfreq.freq_to_zipf(round(unrounded, leading_zeroes + 3)), 2)


_ZIPF_ROUNDED = tuple(_rounded(freq) for freq in _FREQ)
_UNSEEN = _rounded(_MINIMUM)


@cache
def _plain_language(lang: str) -> bool:
    """Whether wordfreq reads `lang` with nothing but NFC and case folding before its regex tokeniser."""
    info = get_language_info(lang)
    return (info["normal_form"] == "NFC" and info["transliteration"] is None and not info["remove_marks"]
            and not info["dotless_i"] and info["diacritics_under"] is None and info["tokenizer"] == "regex")


def _plain_word(word: str) -> bool:
    """A word wordfreq's tokeniser leaves whole and unchanged: letters of the Latin, Greek and Cyrillic
    blocks only (no modifier letters, which it may read as apostrophes), case-folded and NFC."""
    return (word.isalpha() and all(c < "\u02b0" or "\u0370" <= c < "\u0530" or "\u1e00" <= c < "\u2000" for c in word)
            and word.casefold() == word and unicodedata.is_normalized("NFC", word))


def zipf_frequency(word: str, lang: str) -> float:
    """What `wordfreq.zipf_frequency(word, lang)` gives: the word tokenised as wordfreq does (numbers,
    several tokens), rounded to hundredths, 0 for a word never seen.

    A plain lower-case word of a language wordfreq only normalises and case-folds is its own one
    token, so it is looked up directly: a tenth of the time of running wordfreq's tokeniser, and most
    of the words story features weigh.
    """
    table = _table(lang)
    if _plain_language(lang) and _plain_word(word):
        band = table.band(word)
        return _UNSEEN if band is None else _ZIPF_ROUNDED[band]
    return _rounded(_frequency(word, lang, table))
