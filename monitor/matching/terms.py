"""A term as users write it ("Moscow", "prime minister", "Moszkv*", "=Kurz") and how it is found.

Terms are matched on whole folded words: "Moscow" finds "MOSCOW" and "Moscow's" but not "Moscowitz";
"Moszkv*" finds every word starting with "moszkv" (Moszkva, Moszkvába, moszkvai); a phrase finds its
words in a row within one sentence; "=Kurz" also requires the capital letters as written, so the
German adjective "kurz" is not Sebastian Kurz.

Each term gives the Aho-Corasick automaton one key: its folded words up to and including the first
prefix word, with the spaces that make them whole words (" prime minister " or " moszkv"). A hit on
the key is then checked word by word against the rest of the term.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.matching.text import Analysed, tokenize

MIN_PREFIX = 3
_WORD = re.compile(r"[^\W_]+")


class TermError(ValueError):
    """A term that cannot be matched (empty, or a prefix too short to mean anything)."""


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    tokens: tuple[str, ...]
    prefix: tuple[bool, ...]
    capitals: tuple[bool, ...] | None = None
    """For '=' terms: which words must start with a capital letter in the article."""
    langs: frozenset[str] | None = None
    """The article languages the term counts in (None: all); generated declined forms carry these."""

    @property
    def key(self) -> str:
        words: list[str] = []
        for tok, pre in zip(self.tokens, self.prefix, strict=True):
            words.append(tok)
            if pre:
                return " " + " ".join(words)
        return " " + " ".join(words) + " "

    @property
    def key_len(self) -> int:
        """How many words the key covers; the rest are checked one by one."""
        for n, pre in enumerate(self.prefix, 1):
            if pre:
                return n
        return len(self.tokens)

    def match_at(self, doc: Analysed, i: int) -> int | None:
        """The end (exclusive token index) of this term starting at token `i`, or None."""
        n = len(self.tokens)
        if i + n > len(doc.tokens):
            return None
        sentence = doc.sent[i]
        for j in range(n):
            k = i + j
            if doc.sent[k] != sentence:
                return None
            if j >= self.key_len:  # the key's own words were found by the automaton
                tok = doc.tokens[k]
                if not (tok.startswith(self.tokens[j]) if self.prefix[j] else tok == self.tokens[j]):
                    return None
            if self.capitals is not None and self.capitals[j] and not doc.raw[k][:1].isupper():
                return None
        return i + n

    def counts_in(self, lang: str | None) -> bool:
        return self.langs is None or lang is None or lang in self.langs


def parse_term(text: str, *, langs: frozenset[str] | None = None, min_prefix: int = MIN_PREFIX) -> Term:
    """'Moszkv*', 'prime minister', '=Kurz' → Term; raises TermError for what cannot match."""
    source = text.strip()
    cased = source.startswith("=")
    body = source[1:] if cased else source
    tokens: list[str] = []
    prefix: list[bool] = []
    capitals: list[bool] = []
    for piece in body.split():
        star = piece.endswith("*")
        words = tokenize(piece.rstrip("*"))
        if not words:
            if star:
                raise TermError(f"'{piece}': a '*' must follow letters")
            continue
        raw_words = _raw_words(piece.rstrip("*"))
        for n, word in enumerate(words):
            last = n == len(words) - 1
            tokens.append(word)
            prefix.append(star and last)
            capitals.append(bool(raw_words[n][:1].isupper()) if n < len(raw_words) else False)
            if star and last and len(word) < min_prefix:
                raise TermError(f"'{piece}': a prefix needs at least {min_prefix} letters before '*'")
    if not tokens:
        raise TermError(f"'{text}' has no letters or digits to match")
    return Term(source, tuple(tokens), tuple(prefix), tuple(capitals) if cased else None, langs)


def _raw_words(text: str) -> list[str]:
    return _WORD.findall(text)
