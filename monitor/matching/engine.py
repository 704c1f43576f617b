"""Evaluating one watchlist's tree over one analysed article: pure, given the automaton's hits.

Each node gives an Outcome: its value (0..1, "holds" when above 0), where it holds (hits, for near
and first), and the evidence a person reads in `why`. The rules of combination are in nodes.py.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from monitor.matching.dates import article_years
from monitor.matching.entities import EntityClass
from monitor.matching.index import RawHit
from monitor.matching.nodes import (
    AllNode,
    AnyNode,
    ClassNode,
    DatedNode,
    FirstNode,
    NearNode,
    Node,
    NotNode,
    RegexNode,
    Scope,
    SimilarNode,
    SumNode,
    TermsNode,
)
from monitor.matching.similarity import ArticleVectors, SeedModel
from monitor.matching.text import Analysed, Field, fold

MAX_REGEX_HITS = 50
_FIELD_BITS = {Field.TITLE: Scope.TITLE, Field.TEXT: Scope.TEXT, Field.URL: Scope.URL, Field.OUTLET: Scope.OUTLET}


@dataclass(frozen=True, slots=True)
class Evidence:
    what: str
    start: int
    end: int
    """Tokens doc.tokens[start:end] are what was found."""


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    evidence: tuple[Evidence, ...]


@dataclass(slots=True)
class Outcome:
    value: float
    hits: list[Hit] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


NOTHING = Outcome(0.0)


class ArticleState:
    """One article as every watchlist sees it: its tokens, the automaton's hits, and caches shared
    by all watchlists (a class used by 300 watchlists is filtered by date and scope once)."""

    def __init__(self, doc: Analysed, raw: Mapping[int, list[RawHit]], source_of: Callable[[Node], int]) -> None:
        self.doc = doc
        self.raw = raw
        self.source_of = source_of
        self.vectors = ArticleVectors(doc)
        self._leaf_cache: dict[tuple[int, int], list[Hit]] = {}
        self.memo: dict[int, Outcome] = {}
        """Outcomes by node identity: a watchlist's `parts` and its score read the same evaluation."""
        self._field_ranges: dict[int, tuple[int, int]] | None = None
        self._dated: tuple[frozenset[int], str] | None = None

    @property
    def dated(self) -> tuple[frozenset[int], str]:
        """The years the article is dated to, and from where (dates.py); read once."""
        if self._dated is None:
            self._dated = article_years(self.doc.day, self.doc.texts[Field.TITLE], self.doc.texts[Field.TEXT])
        return self._dated

    def in_scope(self, i: int, scope: int) -> bool:
        return bool(scope & _FIELD_BITS[self.doc.field[i]]) or bool(scope & Scope.LEAD and i < self.doc.lead_end)

    def leaf_hits(self, node: TermsNode | ClassNode) -> list[Hit]:
        source = self.source_of(node)
        key = (source, node.meta.scope)
        cached = self._leaf_cache.get(key)
        if cached is not None:
            return cached
        hits: list[Hit] = []
        for start, end, member in self.raw.get(source, ()):
            if not self.in_scope(start, node.meta.scope):
                continue
            what = self._describe_member(node, member)
            if what is None:
                continue
            ev = Evidence(what, start, end)
            last = hits[-1] if hits else None
            if last is not None and start <= last.end and self.doc.sent[start] == self.doc.sent[last.start]:
                # "Hungarian Prime Minister Viktor Orbán": one mention, found as a title and as a name
                merged: dict[str, Evidence] = {}
                for e in (*last.evidence, ev):  # the longest span of each member: "Viktor Orbán", not "Orbán"
                    kept = merged.get(e.what)
                    if kept is None or e.end - e.start > kept.end - kept.start:
                        merged[e.what] = e
                order = sorted(merged.values(), key=lambda e: ("(by title)" in e.what, e.start))
                hits[-1] = Hit(last.start, max(last.end, end), tuple(order))
            else:
                hits.append(Hit(start, end, (ev,)))
        self._leaf_cache[key] = hits
        return hits

    def _describe_member(self, node: TermsNode | ClassNode, member: int) -> str | None:
        if isinstance(node, TermsNode):
            return f"word: {node.terms[member].text}"
        cls: EntityClass = node.cls
        m = cls.members[member]
        if m.office_on(self.doc.day) is None:
            return None
        if cls.kind == "action" and m.name != cls.name:
            return f"{cls.label}: {cls.name} ({m.name})"
        return f"{cls.label}: {m.describe(self.doc.day)}"

    def regex_hits(self, node: RegexNode) -> list[Hit]:
        doc = self.doc
        hits: list[Hit] = []
        scope = node.meta.scope
        for fld, text in enumerate(doc.texts):
            limit = len(text)
            if not scope & _FIELD_BITS[fld]:
                if not (scope & Scope.LEAD and fld in (Field.TITLE, Field.TEXT)):
                    continue
                if fld == Field.TEXT:
                    limit = self._lead_chars()
            for n, m in enumerate(node.compiled.finditer(text, 0, limit)):
                if n >= MAX_REGEX_HITS:
                    break
                span = self._tokens_of(fld, m.start(), m.end())
                if span is not None:
                    what = f"pattern /{node.pattern}/"
                    hits.append(Hit(span[0], span[1], (Evidence(what, span[0], span[1]),)))
        return hits

    def _lead_chars(self) -> int:
        doc = self.doc
        last = max((i for i in range(doc.lead_end) if doc.field[i] == Field.TEXT), default=None)
        return 0 if last is None else doc.starts[last] + len(doc.raw[last])

    def _tokens_of(self, fld: int, start: int, end: int) -> tuple[int, int] | None:
        if self._field_ranges is None:
            ranges: dict[int, tuple[int, int]] = {}
            for i, f in enumerate(self.doc.field):
                lo, _ = ranges.get(f, (i, i))
                ranges[f] = (lo, i + 1)
            self._field_ranges = ranges
        if fld not in self._field_ranges:
            return None
        lo, hi = self._field_ranges[fld]
        starts = self.doc.starts
        first = max(lo, bisect_right(starts, start, lo, hi) - 1)
        last = max(first + 1, bisect_right(starts, max(start, end - 1), lo, hi))
        return first, min(last, hi)


def evaluate(node: Node, state: ArticleState, model: SeedModel | None) -> Outcome:
    key = id(node)
    out = state.memo.get(key)
    if out is None:
        out = state.memo[key] = _evaluate(node, state, model)
    return out


def _evaluate(node: Node, state: ArticleState, model: SeedModel | None) -> Outcome:
    if isinstance(node, TermsNode | ClassNode):
        hits = state.leaf_hits(node)
        return Outcome(1.0, hits, list(hits[0].evidence)) if hits else NOTHING
    if isinstance(node, RegexNode):
        hits = state.regex_hits(node)
        return Outcome(1.0, hits, list(hits[0].evidence)) if hits else NOTHING
    if isinstance(node, SimilarNode):
        return _similar(node, state, model)
    if isinstance(node, DatedNode):
        years, source = state.dated
        if years & node.years:
            return Outcome(1.0, notes=[f"dated {', '.join(map(str, sorted(years & node.years)))} ({source})"])
        return NOTHING
    if isinstance(node, NotNode):
        inner = evaluate(node.child, state, model)
        return Outcome(1.0) if weighted(node.child, inner) <= 0 else NOTHING
    if isinstance(node, AllNode):
        return _all(node, state, model)
    if isinstance(node, AnyNode):
        return _any(node, state, model)
    if isinstance(node, SumNode):
        return _sum(node, state, model)
    if isinstance(node, NearNode):
        return _near(node, state, model)
    return _first(node, state, model)


def _similar(node: SimilarNode, state: ArticleState, model: SeedModel | None) -> Outcome:
    score = state.vectors.cosine(model, node.measure) if model is not None else 0.0
    held = score >= node.threshold
    what = "similar to seeds" if node.measure == "words" else f"{node.measure} like the seeds'"
    if node.graded:
        shared = state.vectors.shared(model, node.measure) if held and model is not None else []
        which = f" ({', '.join(shared)})" if shared else ""
        note = f"{what}: {score:.2f}{which}" if held else f"{what}: {score:.2f} < {node.threshold:g}"
        return Outcome(score if held else 0.0, notes=[note])
    sign = "≥" if held else "<"
    return Outcome(1.0 if held else 0.0, notes=[f"{what}: {score:.2f} {sign} {node.threshold:g}"])


def weighted(node: Node, outcome: Outcome) -> float:
    return node.meta.weight * outcome.value


def _all(node: AllNode, state: ArticleState, model: SeedModel | None) -> Outcome:
    values: list[float] = []
    evidence: list[Evidence] = []
    notes: list[str] = []
    for child in node.children:
        out = evaluate(child, state, model)
        value = weighted(child, out)
        if value <= 0:
            return NOTHING
        values.append(value)
        evidence += out.evidence
        notes += out.notes
    return Outcome(min(1.0, min(values)), [], evidence, notes)


def _any(node: AnyNode, state: ArticleState, model: SeedModel | None) -> Outcome:
    best: Outcome | None = None
    best_value = 0.0
    hits: list[Hit] = []
    for child in node.children:
        out = evaluate(child, state, model)
        hits += out.hits
        value = weighted(child, out)
        if value > best_value:
            best, best_value = out, value
    if best is None:
        return NOTHING
    hits.sort(key=lambda h: (h.start, h.end))
    return Outcome(min(1.0, best_value), hits, best.evidence, best.notes)


def _sum(node: SumNode, state: ArticleState, model: SeedModel | None) -> Outcome:
    total = 0.0
    evidence: list[Evidence] = []
    notes: list[str] = []
    for child in node.children:
        out = evaluate(child, state, model)
        value = weighted(child, out)
        total += value
        if value > 0:
            evidence += out.evidence
            notes += out.notes
        elif value < 0:
            notes.append(f"penalty {value:+.2f}: {describe(child)}")
    return Outcome(max(0.0, min(1.0, total)), [], evidence, notes)


def _near(node: NearNode, state: ArticleState, model: SeedModel | None) -> Outcome:
    lists: list[list[Hit]] = []
    for child in node.children:
        out = evaluate(child, state, model)
        if not out.hits:
            return NOTHING
        lists.append(out.hits)
    excluded: list[Hit] = []
    for child in node.exclude:
        excluded += evaluate(child, state, model).hits
    combos = _combos(lists, node.within, state.doc, node.ordered)
    if excluded:
        combos = [c for c in combos if not _excluded(c, excluded, node.within, state.doc)]
    if not combos:
        return NOTHING
    return Outcome(1.0, combos, list(combos[0].evidence))


def _combos(lists: list[list[Hit]], within: int | None, doc: Analysed, ordered: bool = False) -> list[Hit]:
    """Every place where one hit of each list lies in one sentence and within `within` words (None:
    anywhere in the sentence), no two of them on the same words (and, if `ordered`, in list order)."""
    events = sorted(((h.start, k, h) for k, hs in enumerate(lists) for h in hs), key=lambda e: (e[0], e[1]))
    need = len(lists)
    found: dict[tuple[int, int], Hit] = {}
    for n, (start, k, hit) in enumerate(events):
        if ordered and k != 0:
            continue
        chosen: dict[int, Hit] = {k: hit}
        sentence = doc.sent[start]
        for start2, k2, hit2 in events[n + 1:]:
            if len(chosen) == need or doc.sent[start2] != sentence:
                break
            if within is not None and start2 - start > within:
                break
            if k2 in chosen or any(_overlap(hit2, h) for h in chosen.values()):
                continue
            if ordered and (k2 != len(chosen) or hit2.start < chosen[k2 - 1].end):
                continue
            chosen[k2] = hit2
        if len(chosen) == need:
            picked = [chosen[i] for i in range(need)]
            span = (min(h.start for h in picked), max(h.end for h in picked))
            found.setdefault(span, Hit(span[0], span[1], tuple(e for h in picked for e in h.evidence)))
    return sorted(found.values(), key=lambda h: (h.start, h.end))


def _overlap(a: Hit, b: Hit) -> bool:
    return a.start < b.end and b.start < a.end


def _excluded(combo: Hit, excluded: list[Hit], within: int | None, doc: Analysed) -> bool:
    for ex in excluded:
        if doc.sent[ex.start] != doc.sent[combo.start]:
            continue
        if within is None or (ex.start < combo.end + within and ex.end > combo.start - within):
            return True
    return False


def _first(node: FirstNode, state: ArticleState, model: SeedModel | None) -> Outcome:
    lead = evaluate(node.children[0], state, model)
    if not lead.hits:
        return NOTHING
    first = lead.hits[0]
    for child in node.children[1:]:
        other = evaluate(child, state, model)
        if other.hits and other.hits[0].start < first.start:
            return NOTHING
    return Outcome(1.0, [first], list(first.evidence))


def describe(node: Node, limit: int = 90) -> str:
    """A short phrase for a node: its label, else what it looks for."""
    if node.meta.label:
        return node.meta.label
    text = _auto(node)
    if node.meta.scope != Scope.DEFAULT:
        text += f" in {Scope.describe(node.meta.scope)}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _auto(node: Node) -> str:
    if isinstance(node, TermsNode):
        words = ", ".join(f'"{t.text}"' for t in node.terms[:3])
        return words + (f" (+{len(node.terms) - 3})" if len(node.terms) > 3 else "")
    if isinstance(node, ClassNode):
        return f"{node.cls.kind}: {node.cls.name}"
    if isinstance(node, RegexNode):
        return f"regex /{node.pattern}/"
    if isinstance(node, DatedNode):
        return "dated " + " or ".join(map(str, sorted(node.years)))
    if isinstance(node, SimilarNode):
        what = "similar to seeds" if node.measure == "words" else f"{node.measure} like the seeds'"
        return f"{what} ≥ {node.threshold:g}" + (" (graded)" if node.graded else "")
    if isinstance(node, NotNode):
        return f"not {describe(node.child)}"
    if isinstance(node, NearNode):
        inner = ", ".join(describe(c, 40) for c in node.children)
        span = "one sentence" if node.within is None else f"{node.within} words"
        return f"{inner} within {span}"
    name = type(node).__name__.removesuffix("Node").lower()
    return f"{name}({', '.join(describe(c, 40) for c in node.children)})"


def surface(doc: Analysed, ev: Evidence) -> str:
    """The words of the article that `ev` points at, as written."""
    fld = doc.field[ev.start]
    last = ev.end - 1
    text = doc.texts[fld][doc.starts[ev.start]: doc.starts[last] + len(doc.raw[last])]
    return " ".join(text.split())


def phrase(doc: Analysed, ev: Evidence) -> str:
    """`EU leader: Viktor Orbán (PM of Hungary) — "Orban"`; a word found as written needs no quote twice."""
    found = surface(doc, ev)
    if ev.what.startswith("word: ") and fold(found) == fold(ev.what[6:].lstrip("=")):
        return f'word: "{found}"'
    return f'{ev.what} — "{found}"'
