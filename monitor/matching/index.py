"""One Aho-Corasick automaton over every term of every watchlist: an article is read once, whatever
the number of watchlists, and only the watchlists whose words occur are evaluated.

A *source* is a set of terms grouped into members: an entity class (shared by every watchlist that
names it), or the words of one `terms:` node. The automaton maps each term's key (its folded words
with the spaces that make them whole words, see terms.py) to the (source, member, term) entries that
share it; a hit on a key is then checked word by word and against the article's language.
"""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from monitor.matching.terms import Term
from monitor.matching.text import Analysed

RawHit = tuple[int, int, int]
"""(first token, token after the last, member index)."""


class Index:
    def __init__(self, sources: Sequence[Sequence[Sequence[Term]]]) -> None:
        """`sources[s][m]` are the terms of member m of source s."""
        entries: dict[str, list[tuple[int, int, Term]]] = {}
        for s, members in enumerate(sources):
            for m, terms in enumerate(members):
                for term in terms:
                    entries.setdefault(term.key, []).append((s, m, term))
        self._automaton: ahocorasick.Automaton | None = None
        if entries:
            automaton = ahocorasick.Automaton()
            for key, found in entries.items():
                automaton.add_word(key, (len(key), tuple(found)))
            automaton.make_automaton()
            self._automaton = automaton
        self.keys = len(entries)

    def scan(self, doc: Analysed) -> dict[int, list[RawHit]]:
        """Every source found in `doc`, with its hits in reading order."""
        out: dict[int, set[RawHit]] = {}
        if self._automaton is None:
            return {}
        token_at = doc.token_at
        lang = doc.lang
        for end, (length, found) in self._automaton.iter(doc.keyed):
            i = token_at(end - length + 1)
            if i is None:
                continue
            for source, member, term in found:
                if term.langs is not None and lang is not None and lang not in term.langs:
                    continue
                stop = term.match_at(doc, i)
                if stop is not None:
                    out.setdefault(source, set()).add((i, stop, member))
        return {s: sorted(hits) for s, hits in out.items()}
