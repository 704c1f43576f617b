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
from dataclasses import dataclass, field

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
    key: str = field(init=False, compare=False, repr=False)
    """The automaton key: the folded words up to the first prefix word, with their spaces."""
    key_len: int = field(init=False, compare=False, repr=False)
    """How many words the key covers; the rest are checked one by one."""
    simple: bool = field(init=False, compare=False, repr=False)
    """The key is the whole term and no capital is required: a hit on the key is a match."""

    def __post_init__(self) -> None:
        n = next((k for k, pre in enumerate(self.prefix, 1) if pre), len(self.tokens))
        key = " " + " ".join(self.tokens[:n]) + ("" if self.prefix[n - 1] else " ")
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "key_len", n)
        object.__setattr__(self, "simple", n == len(self.tokens) and self.capitals is None)

    def match_at(self, doc: Analysed, i: int) -> int | None:
        """The end (exclusive token index) of this term starting at token `i`, or None."""
        n = len(self.tokens)
        if self.simple:
            # the automaton found the whole key, and keys never span a sentence (see text.Analysed)
            return i + n
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
