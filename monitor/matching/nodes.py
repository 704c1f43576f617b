"""The compiled form of a watchlist's `match:` tree: what load.py builds and engine.py evaluates.

Every node has a value between 0 and 1 for an article ("holds" means above 0) and a weight that
scales that value for its parent. Leaves and the groups made only of leaves also know *where* they
hold (token spans), which is what `near` and `first` combine.

    term / terms / class / regex   1 where found (in scope), else 0; positional
    all      the smallest of its children, 0 if one does not hold
    any      the largest of its children
    sum      the children's values added up (weights may be negative: penalties), kept within 0..1
    not      1 when its child does not hold
    near     1 when one hit of every child lies in one sentence (and within N words), in the listed
             order if `ordered`; positional
    first    1 when the first child is named before any of the others; positional
    similar  1 when the article's TF-IDF cosine to the seed articles reaches the threshold (by words,
             phrases or names); when graded, the cosine itself
    dated    1 when the article is dated in one of the years (its published date, else a dateline)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import re2

from monitor.matching.entities import EntityClass
from monitor.matching.terms import Term


class Scope:
    """Bits of `in:`; a token is in scope when its field's bit is set, or LEAD is set and it is in the lead."""

    TITLE = 1
    TEXT = 2
    URL = 4
    OUTLET = 8
    LEAD = 16
    DEFAULT = TITLE | TEXT
    NAMES: ClassVar[dict[str, int]] = {"title": TITLE, "text": TEXT, "url": URL, "outlet": OUTLET, "lead": LEAD}

    @staticmethod
    def describe(bits: int) -> str:
        return "+".join(name for name, bit in Scope.NAMES.items() if bits & bit)


@dataclass(frozen=True, slots=True)
class Meta:
    weight: float = 1.0
    scope: int = Scope.DEFAULT
    label: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class TermsNode:
    """Literal words or phrases written in the watchlist; any of them counts."""

    terms: tuple[Term, ...]
    meta: Meta = field(default_factory=Meta)


@dataclass(frozen=True, slots=True)
class ClassNode:
    """A reference to an entity class (built-in, or defined in the watchlist or its folder)."""

    cls: EntityClass
    meta: Meta = field(default_factory=Meta)


@dataclass(frozen=True, slots=True)
class RegexNode:
    pattern: str
    compiled: re2._Regexp
    meta: Meta = field(default_factory=Meta)


@dataclass(frozen=True, slots=True)
class SimilarNode:
    threshold: float
    meta: Meta = field(default_factory=Meta)
    measure: str = "words"
    """What is compared (similarity.py): "words", "phrases" or "names"."""
    graded: bool = False
    """The value is the similarity itself (from the threshold up), not 1: evidence that adds up in a sum."""


@dataclass(frozen=True, slots=True)
class DatedNode:
    years: frozenset[int]
    """The article is dated in one of these years (dates.py: published date, else a dateline)."""
    meta: Meta = field(default_factory=Meta)


@dataclass(frozen=True, slots=True)
class AllNode:
    children: tuple[Node, ...]
    meta: Meta = field(default_factory=Meta)


@dataclass(frozen=True, slots=True)
class AnyNode:
    children: tuple[Node, ...]
    meta: Meta = field(default_factory=Meta)


@dataclass(frozen=True, slots=True)
class SumNode:
    children: tuple[Node, ...]
    meta: Meta = field(default_factory=Meta)


@dataclass(frozen=True, slots=True)
class NotNode:
    child: Node
    meta: Meta = field(default_factory=Meta)


@dataclass(frozen=True, slots=True)
class NearNode:
    children: tuple[Node, ...]
    """Positional conditions that must all be found together."""
    exclude: tuple[Node, ...]
    """`not:` children: none of them may be found within the same distance (or sentence)."""
    within: int | None
    """Words between the first and the last hit (always in one sentence); None: anywhere in the sentence."""
    ordered: bool = False
    """The hits must come in the order the children are listed."""
    meta: Meta = field(default_factory=Meta)


@dataclass(frozen=True, slots=True)
class FirstNode:
    children: tuple[Node, ...]
    """children[0] must be found, and before every hit of the others."""
    meta: Meta = field(default_factory=Meta)


Node = (TermsNode | ClassNode | RegexNode | SimilarNode | DatedNode | AllNode | AnyNode | SumNode | NotNode | NearNode
        | FirstNode)
LEAVES = (TermsNode, ClassNode, RegexNode)
POSITIONAL = (TermsNode, ClassNode, RegexNode, NearNode, FirstNode, AnyNode)


def children_of(node: Node) -> tuple[Node, ...]:
    if isinstance(node, AllNode | AnyNode | SumNode | FirstNode):
        return node.children
    if isinstance(node, NearNode):
        return node.children + node.exclude
    if isinstance(node, NotNode):
        return (node.child,)
    return ()


def walk(node: Node) -> list[Node]:
    """`node` and every node below it, parents first."""
    out = [node]
    for child in children_of(node):
        out.extend(walk(child))
    return out
