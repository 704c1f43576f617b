"""Articles × watchlists → verdicts: one automaton pass per article, then only the watchlists whose
words occur (and the few that can match without any word, such as a lone regex) are evaluated."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.matching.bounds import compile_bound, required, upper_bound
from monitor.matching.engine import ArticleState, Evidence, Outcome, describe, evaluate, phrase, weighted
from monitor.matching.index import Index
from monitor.matching.load import Watchlist
from monitor.matching.nodes import AllNode, AnyNode, ClassNode, Node, SumNode, TermsNode, walk
from monitor.matching.terms import Term
from monitor.matching.text import Analysed, analyse
from monitor.types import Article, Match

NOT_EVALUATED = "too few of its words occur to reach min_score"


@dataclass(frozen=True)
class Verdict:
    """What one watchlist makes of one article, matched or not (for `watchlist test`)."""

    watchlist: str
    matched: bool
    score: float
    why: tuple[str, ...]
    snippet: str
    parts: tuple[tuple[str, float], ...]


class Matcher:
    def __init__(self, watchlists: Sequence[Watchlist]) -> None:
        """Compiles one index over all watchlists; building it costs a little, matching is then cheap."""
        self.watchlists = list(watchlists)
        sources: list[list[tuple[Term, ...]]] = []
        by_key: dict[tuple[str, object], int] = {}
        self._source_of: dict[int, int] = {}
        self._users: list[list[int]] = []
        for w, watchlist in enumerate(self.watchlists):
            for node in walk(watchlist.root):
                key: tuple[str, object]
                if isinstance(node, ClassNode):
                    key = ("class", node.cls)  # classes compare by identity, and the key keeps them alive
                    members = [m.terms for m in node.cls.members]
                elif isinstance(node, TermsNode):
                    key = ("terms", node.terms)
                    members = [(t,) for t in node.terms]
                else:
                    continue
                source = by_key.get(key)
                if source is None:
                    source = by_key[key] = len(sources)
                    sources.append(members)
                    self._users.append([])
                self._source_of[id(node)] = source
                if not self._users[source] or self._users[source][-1] != w:
                    self._users[source].append(w)
        self._index = _index(tuple(by_key), sources)
        self._bounds = [compile_bound(wl.root, self._source) for wl in self.watchlists]
        self._required = [required(b) for b in self._bounds]
        self._labels = {id(c): describe(c) for wl in self.watchlists for c in _top_children(wl.root)}
        self._always = [w for w, wl in enumerate(self.watchlists)
                        if upper_bound(self._bounds[w], ()) >= wl.min_score]

    def _source(self, node: Node) -> int:
        return self._source_of[id(node)]

    def _prepare(self, article: Article, doc: Analysed | None = None) -> tuple[ArticleState, set[int]]:
        doc = analyse(article) if doc is None else doc
        if doc.lang is None:
            doc = dataclasses.replace(doc, lang=_guess_language(doc))
        raw = self._index.scan(doc)
        candidates = set(self._always)
        for source in raw:
            candidates.update(self._users[source])
        found = raw.keys()
        candidates = {w for w in candidates
                      if all(not clause.isdisjoint(found) for clause in self._required[w])
                      and upper_bound(self._bounds[w], found) >= self.watchlists[w].min_score}
        return ArticleState(doc, raw, self._source), candidates

    def evaluate(self, article: Article) -> list[Verdict]:
        """One verdict per watchlist, in the order the watchlists were given."""
        state, candidates = self._prepare(article)
        out = []
        for w, watchlist in enumerate(self.watchlists):
            verdict = self._verdict(watchlist, state) if w in candidates else None
            if verdict is not None:
                out.append(verdict)
            else:
                out.append(Verdict(watchlist.name, False, 0.0, (NOT_EVALUATED,), "", ()))
        return out

    def match(self, article: Article, doc: Analysed | None = None) -> list[Match]:
        """Only the watchlists the article matches; `doc` is `analyse(article)` when the caller has it
        (an extraction worker made it along with the article's story features)."""
        state, candidates = self._prepare(article, doc)
        found = []
        for w in sorted(candidates):
            verdict = self._verdict(self.watchlists[w], state, explain=False)
            if verdict is not None:
                verdict = self._verdict(self.watchlists[w], state)
            if verdict is not None and verdict.matched:
                found.append(Match(verdict.watchlist, verdict.score, verdict.why, verdict.snippet, verdict.parts))
        return found

    def _verdict(self, watchlist: Watchlist, state: ArticleState, *, explain: bool = True) -> Verdict | None:
        """The verdict; with explain=False only whether it matches: None when it does not, and a
        bare verdict when it does (the caller asks again for the words)."""
        doc = state.doc
        if watchlist.lang is not None and doc.lang is not None and doc.lang not in watchlist.lang:
            wanted = ", ".join(sorted(watchlist.lang))
            reason = (f"language {doc.lang} is not one of: {wanted}",)
            return Verdict(watchlist.name, False, 0.0, reason, "", ()) if explain else None
        root = watchlist.root
        outcome = evaluate(root, state, watchlist.seed_model)
        score = max(0.0, min(1.0, weighted(root, outcome)))
        matched = score > 0 and score >= watchlist.min_score
        if not explain:
            return Verdict(watchlist.name, True, score, (), "", ()) if matched else None
        why = [*_phrases(doc, outcome.evidence), *outcome.notes,
               f"score {score:.2f} {'≥' if matched else '<'} {watchlist.min_score:g}"]
        parts = tuple(self._parts(root, outcome, state, watchlist))
        return Verdict(watchlist.name, matched, score, tuple(why), _snippet(doc, outcome), parts)

    def _parts(self, root: Node, outcome: Outcome, state: ArticleState,
               watchlist: Watchlist) -> list[tuple[str, float]]:
        """The score's parts: each child of a top-level group with what it added, else the root itself."""
        if isinstance(root, SumNode | AnyNode | AllNode):
            parts = []
            for child in root.children:
                value = weighted(child, evaluate(child, state, watchlist.seed_model)) * root.meta.weight
                if value != 0 or isinstance(root, AllNode):
                    parts.append((self._labels[id(child)], round(value, 4)))
            return parts
        return [(self._labels[id(root)], round(weighted(root, outcome), 4))]


_INDEXES: OrderedDict[tuple[tuple[str, object], ...], Index] = OrderedDict()
_KEEP_INDEXES = 4


def _index(keys: tuple[tuple[str, object], ...], sources: list[list[tuple[Term, ...]]]) -> Index:
    """The automaton for these sources, reused when the same watchlists are compiled again (tests,
    `watchlist test` runs, a daemon reloading unchanged files): building one over the EU-leader
    classes' 50,000 names takes a few tenths of a second."""
    index = _INDEXES.get(keys)
    if index is None:
        index = _INDEXES[keys] = Index(sources)
        while len(_INDEXES) > _KEEP_INDEXES:
            _INDEXES.popitem(last=False)
    else:
        _INDEXES.move_to_end(keys)
    return index


def _top_children(root: Node) -> tuple[Node, ...]:
    return root.children if isinstance(root, SumNode | AnyNode | AllNode) else (root,)


def _phrases(doc: Analysed, evidence: list[Evidence]) -> list[str]:
    seen: dict[str, None] = {}
    for ev in evidence:
        seen.setdefault(phrase(doc, ev), None)
    return list(seen)


def _snippet(doc: Analysed, outcome: Outcome) -> str:
    if outcome.evidence:
        return doc.sentence_text(doc.sent[outcome.evidence[0].start])
    return " ".join(doc.texts[0].split())[:300]


def _guess_language(doc: Analysed) -> str | None:
    """Declined name forms count only in their languages; an article without a declared language gets
    a guess from its words (None when too short to tell: then every form counts)."""
    from monitor.extract.lang import guess_language

    return guess_language(f"{doc.texts[0]}\n{doc.texts[1][:3000]}")
