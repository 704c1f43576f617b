"""Text → folded tokens, sentences and the lead: the one view of an article that every rule reads.

Matching is case-, accent- and script-variant-insensitive, so both the watchlist's terms and the
article go through the same `fold`: NFKD, drop combining marks, casefold, and map the few letters
NFKD leaves alone (ł, ø, đ, æ...). "Orbán" and "ORBAN" both become "orban", "Moskvě" becomes
"moskve", "Μόσχα" becomes "μοσχα", "Путина" becomes "путина" (й folds to и, ё to е: Russian
writers drop the diaeresis anyway).

Tokens are runs of letters and digits; everything else (spaces, punctuation, hyphens, apostrophes)
separates them, so "Orbán-Putyin" gives two tokens and "Orban's" gives "orban" and "s". The
draft module reuses `fold`, `tokenize` and `sentences`.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import accumulate
from typing import NamedTuple

from monitor.types import Article

_EXTRA = {
    "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ħ": "h", "Ħ": "h", "ı": "i",
    "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th", "ð": "d", "Ð": "d",
    "ŀ": "l", "Ŀ": "l", "ſ": "s", "ƒ": "f",
}


def _fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(k): v for k, v in _EXTRA.items()}
    for cp in range(0x300, 0x370):
        table[cp] = None
    for lo, hi in ((0x1AB0, 0x1B00), (0x1DC0, 0x1E00), (0x20D0, 0x2100), (0xFE20, 0xFE30)):
        for cp in range(lo, hi):
            table[cp] = None
    table[0x0483] = table[0x0484] = table[0x0485] = table[0x0486] = table[0x0487] = None
    table[0x2019] = "'"
    return table


_TABLE = _fold_table()


def fold(text: str) -> str:
    """Case-, accent- and variant-insensitive form of `text`; spaces are kept where they were."""
    return unicodedata.normalize("NFKD", text).translate(_TABLE).casefold()


_TOKEN = re.compile(r"[^\W_]+")
_SPLIT = re.compile(f"({_TOKEN.pattern})")


def tokenize(text: str) -> list[str]:
    """The folded words of `text`, in order."""
    return _TOKEN.findall(fold(text))


def plain_words(text: str) -> list[str]:
    """The words of `text` in lower case, accents kept: what word-frequency lists are keyed by."""
    return [w.casefold() for w in _TOKEN.findall(text)]


# A sentence ends at . ! ? … (and closing quotes) followed by space and a capital letter, a digit or an
# opening quote, or at a line break. Abbreviations and initials ("Mr.", "V. Orbán", "U.S.") do not end one.
_END = re.compile(r"[.!?…]+[\"'”’»)\]]*[ \t\u00a0]+|[ \t]*\n\s*")
_OPENERS = "\"'“‘„«([¿¡–—-"
_ABBREV = frozenset(
    ["mr", "mrs", "ms", "dr", "st", "prof", "gen", "sen", "rep", "gov", "lt", "col", "capt", "sgt", "jr", "sr", "inc", "ltd", "co", "corp", "no", "nr", "vs", "etc", "approx", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "hr", "dipl", "ing", "mgr", "bc", "ks", "bzw", "ca", "vgl", "tzv", "napr", "tj", "resp", "sz", "pl", "ifj", "id", "gosp", "pt", "sra", "sr", "dott", "on"])


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of `text`, stripped of surrounding space."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        if "\n" not in m.group(0):
            if not _starts_sentence(text, m.end()):
                continue
            piece = text[start:m.start()].rstrip()
            last = piece.rsplit(None, 1)[-1] if piece else ""
            word = last.rsplit(".", 1)[-1].lower() if "." not in last[-1:] else last.lower()
            word = word.strip(".\"'()[]")
            if (len(word) <= 1 or word in _ABBREV) and m.group(0)[0] == ".":
                continue
        _add_span(text, start, m.start() + len(m.group(0).rstrip()), spans)
        start = m.end()
    _add_span(text, start, len(text), spans)
    return spans


def _starts_sentence(text: str, i: int) -> bool:
    while i < len(text) and (text[i] in _OPENERS or text[i].isspace()):
        i += 1
    return i < len(text) and (text[i].isupper() or text[i].isdigit())


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


class Field:
    """Where a token comes from; `in:` scopes select on these."""

    TITLE = 0
    TEXT = 1
    URL = 2
    OUTLET = 3


LEAD_SENTENCES = 3
LEAD_CHARS = 400


class Sentence(NamedTuple):
    """A NamedTuple, not a dataclass: hundreds are made per article, and sent between processes."""

    field: int
    start: int
    end: int
    """Character span in the field's original text."""
    first_token: int
    last_token: int
    """Token indexes: tokens[first_token:last_token] belong to this sentence."""


@dataclass(frozen=True, slots=True)
class Analysed:
    """An article as the matcher reads it: folded tokens over all fields, with where each came from.

    `keyed` is the string the Aho-Corasick automaton runs over: every token with one space either
    side, sentences separated by " | " so that no phrase matches across a sentence or field.
    """

    tokens: tuple[str, ...]
    raw: tuple[str, ...]
    field: tuple[int, ...]
    sent: tuple[int, ...]
    starts: tuple[int, ...]
    """Character offset of each token in its field's original text."""
    sentences: tuple[Sentence, ...]
    lead_end: int
    """tokens[:lead_end] are the lead: the title and the first sentences of the text."""
    keyed: str
    key_offsets: array[int]
    """Offset in `keyed` of the space before each token, in token order (so increasing): an array,
    not a dict of offset → index, to be cheap to build, to pickle and to send between processes."""
    texts: tuple[str, str, str, str]
    """The original title, text, url and outlet."""
    day: date | None
    lang: str | None

    def in_lead(self, i: int) -> bool:
        return i < self.lead_end

    def token_at(self, offset: int) -> int | None:
        """The index of the token whose leading space is at `offset` in `keyed`, if one is."""
        i = bisect_left(self.key_offsets, offset)
        return i if i < len(self.key_offsets) and self.key_offsets[i] == offset else None

    def sentence_text(self, s: int, limit: int = 300) -> str:
        sent = self.sentences[s]
        text = " ".join(self.texts[sent.field][sent.start:sent.end].split())
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def primary_lang(lang: str | None) -> str | None:
    """'pt-BR' → 'pt'; None and '' stay None."""
    if not lang:
        return None
    return lang.replace("_", "-").split("-", 1)[0].strip().lower() or None


def analyse(article: Article) -> Analysed:
    """Tokenise every field of `article` once; the matcher only ever reads the result."""
    tokens: list[str] = []
    raw: list[str] = []
    fields: list[int] = []
    sent_ids: list[int] = []
    starts: list[int] = []
    sents: list[Sentence] = []
    key_parts: list[str] = []
    key_offsets = array("q")
    offset = 0
    lead_end = 0
    texts = (article.title or "", article.text or "", article.url or "", article.outlet or "")
    for fld, text in enumerate(texts):
        pieces = _SPLIT.split(text)  # [gap, word, gap, word, ..., gap]: no match object per word
        if len(pieces) < 3:
            continue
        words = pieces[1::2]
        # a word starts where the pieces before it end
        positions = list(accumulate(map(len, pieces)))[0::2][:len(words)]
        folded = _fold_many(words)
        base = len(tokens)
        tokens.extend(folded)
        raw.extend(words)
        starts.extend(positions)
        fields.extend([fld] * len(words))
        spans = [(0, len(text))] if fld >= Field.URL else sentences(text)
        j = chars = 0
        for k, (a, b) in enumerate(spans):
            lo = j
            while j < len(positions) and positions[j] < b:
                j += 1
            if j == lo:
                continue
            sent_ids.extend([len(sents)] * (j - lo))
            sents.append(Sentence(fld, a, b, base + lo, base + j))
            if fld == Field.TITLE or (fld == Field.TEXT and k < LEAD_SENTENCES and chars < LEAD_CHARS):
                lead_end = base + j
            if fld == Field.TEXT:
                chars += b - a
            # " tok tok |": every token between spaces, sentences apart, so keys never cross a sentence
            if key_parts:
                key_parts.append(" |")
                offset += 2
            segment = folded[lo:j]
            key_offsets.extend(_key_offsets(segment, offset))
            key_parts.append(" " + " ".join(segment))
            offset += sum(map(len, segment)) + len(segment)
        if j < len(positions):  # cannot happen with the spans sentences() gives; keep every token anyway
            sent_ids.extend([len(sents)] * (len(positions) - j))
            sents.append(Sentence(fld, positions[j], len(text), base + j, len(tokens)))
            segment = folded[j:]
            key_parts.append(" |")
            offset += 2
            key_offsets.extend(_key_offsets(segment, offset))
            key_parts.append(" " + " ".join(segment))
            offset += sum(map(len, segment)) + len(segment)
    key_parts.append(" ")
    day = article.published.date() if article.published is not None else None
    return Analysed(tuple(tokens), tuple(raw), tuple(fields), tuple(sent_ids), tuple(starts), tuple(sents),
                    lead_end, "".join(key_parts), key_offsets, texts, day, primary_lang(article.lang))


def _key_offsets(segment: list[str], offset: int) -> Iterator[int]:
    """Where each token of a sentence's segment of `keyed` has its leading space: one space before
    each, from `offset` (built from C-level iterators: this runs once per token of every article)."""
    return accumulate(map((1).__add__, map(len, segment[:-1])), initial=offset)


def _fold_many(words: list[str]) -> list[str]:
    # One fold call over the joined words is much faster than one per word; folding never adds or
    # removes a space inside a word, but check and fall back rather than trust it blindly.
    folded = fold(" ".join(words)).split(" ")
    if len(folded) == len(words) and all(folded):
        return folded
    return [_fold_word(w) for w in words]


@lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    return fold(word).replace(" ", "") or word.casefold()
