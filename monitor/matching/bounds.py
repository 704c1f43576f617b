"""Which watchlists are worth evaluating for an article, decided from which sources the automaton found.

Every watchlist tree is compiled into a small bound tree: the highest score the watchlist could reach
if every condition whose words were found held. A watchlist whose bound is below its min_score is
not evaluated at all, which is most of them for most articles: that keeps 1,000 watchlists cheap.
Regular expressions, similarity, dates and `not` have no words to look for: they are assumed to hold.
"""

from __future__ import annotations

from collections.abc import Callable, Container

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
    SimilarNode,
    SumNode,
    TermsNode,
)

LEAF, FREE, ALL, ANY, SUM = range(5)
Bound = tuple[int, float, object]


def compile_bound(node: Node, source_of: Callable[[Node], int]) -> Bound:
    w = node.meta.weight
    if isinstance(node, TermsNode | ClassNode):
        return (LEAF, w, source_of(node))
    if isinstance(node, RegexNode | SimilarNode | DatedNode | NotNode):
        return (FREE, w, None)
    if isinstance(node, AllNode | NearNode):
        return (ALL, w, tuple(compile_bound(c, source_of) for c in node.children))
    if isinstance(node, FirstNode):
        return (ALL, w, (compile_bound(node.children[0], source_of),))
    kind = ANY if isinstance(node, AnyNode) else SUM
    assert isinstance(node, AnyNode | SumNode)
    return (kind, w, tuple(compile_bound(c, source_of) for c in node.children))


def upper_bound(bound: Bound, found: Container[int]) -> float:
    """The highest weighted value the node could have when only the sources in `found` occur."""
    kind, w, payload = bound
    if kind == LEAF:
        return w if payload in found else 0.0
    if kind == FREE:
        return max(w, 0.0)
    children: tuple[Bound, ...] = payload  # type: ignore[assignment]
    if kind == ALL:
        least = 1.0
        for child in children:
            value = upper_bound(child, found)
            if value <= 0:
                return 0.0
            least = min(least, value)
        return w * least
    if kind == ANY:
        return w * min(1.0, max(upper_bound(c, found) for c in children))
    return w * min(1.0, sum(max(upper_bound(c, found), 0.0) for c in children))


def required(bound: Bound) -> list[frozenset[int]]:
    """Sets of sources of which at least one must occur for the node to hold at all (a cheap
    necessary condition checked with set operations before `upper_bound`); [] when nothing is required."""
    kind, w, payload = bound
    if w <= 0:
        return []
    if kind == LEAF:
        return [frozenset({payload})]  # type: ignore[arg-type]
    if kind == FREE:
        return []
    children: tuple[Bound, ...] = payload  # type: ignore[assignment]
    if kind == ALL:
        return [clause for child in children for clause in required(child)]
    either: set[int] = set()
    for child in children:
        if kind == SUM and child[1] <= 0:
            continue  # a penalty never makes a sum hold
        clauses = required(child)
        if not clauses:
            return []
        either |= min(clauses, key=len)
    return [frozenset(either)] if either else []
