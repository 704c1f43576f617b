"""A watchlist's `match:` tree, as written in YAML → nodes (nodes.py), with every mistake as a Problem.

The parser never stops at the first mistake: it reports each one with the file, line and key where
it is, and goes on with the rest, so that a user fixes a file in one pass.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import re2

from monitor.matching.entities import EntityClass
from monitor.matching.nodes import (
    POSITIONAL,
    AllNode,
    AnyNode,
    ClassNode,
    DatedNode,
    FirstNode,
    Meta,
    NearNode,
    Node,
    NotNode,
    RegexNode,
    Scope,
    SimilarNode,
    SumNode,
    TermsNode,
)
from monitor.matching.similarity import MEASURES
from monitor.matching.terms import Term, TermError, parse_term
from monitor.types import Problem
from monitor.yamlfile import Loc

CLASS_KEYS = ("entity", "person", "place", "action", "org", "class")
GROUP_KEYS = ("all", "any", "sum", "not", "near", "first")
LEAF_KEYS = ("term", "terms", "regex", "similar_to_seeds", "dated", "use", *CLASS_KEYS)
OPERATORS = (*GROUP_KEYS, *LEAF_KEYS)
MODIFIERS = ("in", "weight", "label", "within", "ordered")
SIMILAR_KEYS = ("threshold", "weight", "by", "graded")
MIN_YEAR, MAX_YEAR = 1800, 2200
MAX_REGEX = 2000
REGEX_MEMORY = 8 << 20


@dataclass
class Context:
    """What parsing needs besides the YAML: the classes in reach and where to put problems."""

    classes: Mapping[str, EntityClass]
    problem: Callable[[Loc, str], Problem]
    line_of: Callable[[Loc], int | None]
    has_seeds: bool
    defined: Mapping[str, tuple[Any, Loc]] = field(default_factory=dict)
    """`define:` block: name → (condition as written, where)."""
    problems: list[Problem] = field(default_factory=list)
    expanding: list[str] = field(default_factory=list)
    quiet: int = 0

    def fail(self, loc: Loc, message: str) -> None:
        if not self.quiet:
            self.problems.append(self.problem(loc, message))


def parse_definitions(block: Any, loc: Loc, ctx: Context) -> None:
    """Check every `define:` entry once where it is written, so that its problems are reported once
    (uses re-parse it silently, in the field scope of the place of use)."""
    if not isinstance(block, Mapping):
        ctx.fail(loc, "maps names to conditions, used elsewhere as {use: name}")
        return
    for name, data in block.items():
        if not isinstance(name, str) or not name.strip():
            ctx.fail(loc, "a definition needs a name")
            continue
        ctx.expanding.append(name)
        parse_condition(data, (*loc, name), ctx)
        ctx.expanding.pop()


def parse_condition(data: Any, loc: Loc, ctx: Context, *, scope: int = Scope.DEFAULT,
                    in_sum: bool = False) -> Node | None:
    """One condition; None (with a problem recorded) when it cannot be built."""
    if isinstance(data, str | int | float) and not isinstance(data, bool):
        term = _term(str(data), loc, ctx)
        return TermsNode((term,), Meta(scope=scope)) if term else None
    if isinstance(data, list):
        return _group(AnyNode, data, loc, ctx, Meta(scope=scope))
    if not isinstance(data, Mapping):
        ctx.fail(loc, "a condition is a word, a list (any of them) or a mapping such as {all: [...]}")
        return None
    operators = [k for k in data if k in OPERATORS]
    for key in data:
        if key not in OPERATORS and key not in MODIFIERS:
            close = difflib.get_close_matches(str(key), [*OPERATORS, *MODIFIERS], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            ctx.fail((*loc, str(key)), f"unknown key{hint}; a condition uses one of: {', '.join(OPERATORS)}")
    if len(operators) != 1:
        if not operators:
            ctx.fail(loc, f"no condition here: use one of {', '.join(OPERATORS)}")
        else:
            ctx.fail((*loc, operators[1]), f"one condition per mapping: found {', '.join(operators)}; "
                     "wrap them in all: or any:")
        return None
    op = operators[0]
    meta = _meta(data, loc, ctx, scope, in_sum, op)
    if meta is None:
        return None
    value = data[op]
    at = (*loc, op)
    if op == "all":
        return _group(AllNode, value, at, ctx, meta)
    if op == "any":
        return _group(AnyNode, value, at, ctx, meta)
    if op == "sum":
        return _group(SumNode, value, at, ctx, meta)
    if op == "not":
        child = (_group(AnyNode, value, at, ctx, Meta(scope=meta.scope)) if isinstance(value, list)
                 else parse_condition(value, at, ctx, scope=meta.scope))
        return NotNode(child, meta) if child is not None else None
    if op == "near":
        return _near(data, value, at, ctx, meta)
    if op == "first":
        return _first(value, at, ctx, meta)
    if op in ("term", "terms"):
        items = value if isinstance(value, list) else [value]
        if not items:
            ctx.fail(at, "an empty list: give at least one word or phrase")
            return None
        terms = [t for n, item in enumerate(items)
                 if (t := _term(item, (*at, n) if isinstance(value, list) else at, ctx)) is not None]
        return TermsNode(tuple(terms), meta) if len(terms) == len(items) else None
    if op == "regex":
        return _regex(value, at, ctx, meta)
    if op == "use":
        return _use(data, value, at, ctx, meta)
    if op == "similar_to_seeds":
        return _similar(value, at, ctx, meta)
    if op == "dated":
        return _dated(value, at, ctx, meta)
    return _class_ref(op, value, at, ctx, meta)


def _meta(data: Mapping[str, Any], loc: Loc, ctx: Context, scope: int, in_sum: bool, op: str) -> Meta | None:
    ok = True
    weight = 1.0
    if "weight" in data:
        raw = data["weight"]
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            ctx.fail((*loc, "weight"), "must be a number, e.g. 0.5 (or -0.5 inside sum:)")
            ok = False
        elif raw < 0 and not in_sum:
            ctx.fail((*loc, "weight"), "a negative weight (a penalty) only makes sense directly inside sum:")
            ok = False
        elif not -10 <= raw <= 10:
            ctx.fail((*loc, "weight"), "must be between -10 and 10")
            ok = False
        else:
            weight = float(raw)
    if "in" in data:
        parsed = _scope(data["in"], (*loc, "in"), ctx)
        ok = ok and parsed is not None
        scope = parsed or scope
    label = data.get("label")
    if label is not None and not isinstance(label, str):
        ctx.fail((*loc, "label"), "must be text")
        ok = False
    for key in ("within", "ordered"):
        if key in data and op != "near":
            ctx.fail((*loc, key), f"only near: takes {key}:")
            ok = False
    return Meta(weight, scope, label, ctx.line_of(loc)) if ok else None


def _scope(value: Any, loc: Loc, ctx: Context) -> int | None:
    names = value if isinstance(value, list) else [value]
    bits = 0
    for name in names:
        if not isinstance(name, str) or name not in Scope.NAMES:
            ctx.fail(loc, f"unknown field {name!r}: use {', '.join(Scope.NAMES)} (or a list of them)")
            return None
        bits |= Scope.NAMES[name]
    if not bits:
        ctx.fail(loc, "give at least one field")
        return None
    return bits


def _group(kind: type[AllNode] | type[AnyNode] | type[SumNode], value: Any, loc: Loc, ctx: Context,
           meta: Meta) -> Node | None:
    if not isinstance(value, list):
        ctx.fail(loc, "expects a list of conditions")
        return None
    if not value:
        ctx.fail(loc, "an empty group: give at least one condition")
        return None
    children = [parse_condition(item, (*loc, n), ctx, scope=meta.scope, in_sum=kind is SumNode)
                for n, item in enumerate(value)]
    if any(c is None for c in children):
        return None
    return kind(tuple(c for c in children if c is not None), meta)


def _near(data: Mapping[str, Any], value: Any, loc: Loc, ctx: Context, meta: Meta) -> Node | None:
    within: int | None = None
    raw = data.get("within", "sentence")
    if raw != "sentence":
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 200:
            ctx.fail((*loc[:-1], "within"), "a number of words between 1 and 200, or 'sentence'")
            return None
        within = raw
    ordered = data.get("ordered", False)
    if not isinstance(ordered, bool):
        ctx.fail((*loc[:-1], "ordered"), "true or false")
        return None
    if not isinstance(value, list) or not value:
        ctx.fail(loc, "expects a list of the words, classes or patterns to find together")
        return None
    found: list[Node] = []
    exclude: list[Node] = []
    ok = True
    for n, item in enumerate(value):
        node = parse_condition(item, (*loc, n), ctx, scope=meta.scope)
        if node is None:
            ok = False
        elif isinstance(node, NotNode):
            if _positional(node.child, (*loc, n, "not"), ctx):
                exclude.append(node.child)
            else:
                ok = False
        elif _positional(node, (*loc, n), ctx):
            found.append(node)
        else:
            ok = False
    if ok and not found:
        ctx.fail(loc, "needs at least one condition that is not a not:")
        return None
    return NearNode(tuple(found), tuple(exclude), within, ordered, meta) if ok else None


def _first(value: Any, loc: Loc, ctx: Context, meta: Meta) -> Node | None:
    if not isinstance(value, list) or len(value) < 2:
        ctx.fail(loc, "expects a list of at least two: the one that must come first, then the others")
        return None
    children = [parse_condition(item, (*loc, n), ctx, scope=meta.scope) for n, item in enumerate(value)]
    if any(c is None for c in children):
        return None
    nodes = tuple(c for c in children if c is not None)
    if not all(_positional(c, (*loc, n), ctx) for n, c in enumerate(nodes)):
        return None
    return FirstNode(nodes, meta)


def _positional(node: Node, loc: Loc, ctx: Context) -> bool:
    """near: and first: need to know where a condition holds: words, classes, patterns and groups of those."""
    if isinstance(node, AnyNode):
        return all(_positional(c, (*loc, "any", n), ctx) for n, c in enumerate(node.children))
    if isinstance(node, POSITIONAL):
        return True
    name = type(node).__name__.removesuffix("Node").lower()
    name = "similar_to_seeds" if name == "similar" else name
    ctx.fail(loc, f"{name}: cannot be placed inside near: or first: (they need words, classes, regex, "
                  "near or any of those)")
    return False


def _use(data: Mapping[str, Any], name: Any, loc: Loc, ctx: Context, meta: Meta) -> Node | None:
    if not isinstance(name, str) or name not in ctx.defined:
        known = ", ".join(sorted(ctx.defined)) or "none: add a define: block"
        ctx.fail(loc, f"no condition named {name!r} under define: (defined: {known})")
        return None
    if name in ctx.expanding:
        ctx.fail(loc, f"'{name}' uses itself (through {' → '.join(ctx.expanding)})")
        return None
    body, where = ctx.defined[name]
    ctx.expanding.append(name)
    ctx.quiet += 1
    try:
        node = parse_condition(body, where, ctx, scope=meta.scope)
    finally:
        ctx.quiet -= 1
        ctx.expanding.pop()
    if node is None:
        ctx.fail(loc, f"'{name}' has problems (reported where it is defined)")
        return None
    weight = node.meta.weight * (meta.weight if "weight" in data else 1.0)
    label = meta.label or node.meta.label
    return dataclasses.replace(node, meta=Meta(weight, node.meta.scope, label, meta.line))


def _term(value: Any, loc: Loc, ctx: Context) -> Term | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        ctx.fail(loc, "a term is a word or phrase")
        return None
    try:
        return parse_term(str(value))
    except TermError as exc:
        ctx.fail(loc, str(exc))
        return None


def _regex(value: Any, loc: Loc, ctx: Context, meta: Meta) -> Node | None:
    if not isinstance(value, str) or not value:
        ctx.fail(loc, "a regular expression (RE2 syntax) as text")
        return None
    if len(value) > MAX_REGEX:
        ctx.fail(loc, f"longer than {MAX_REGEX} characters")
        return None
    try:
        return RegexNode(value, compile_regex(value), meta)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        ctx.fail(loc, f"invalid regular expression: {reason}")
        return None


def compile_regex(pattern: str) -> Any:
    """RE2 runs in time linear in the text whatever the pattern, so a user's pattern cannot hang the
    daemon; matching is case-insensitive unless the pattern says (?-i)."""
    options = re2.Options()
    options.max_mem = REGEX_MEMORY
    options.log_errors = False
    options.case_sensitive = False
    return re2.compile(pattern, options)


def _similar(value: Any, loc: Loc, ctx: Context, meta: Meta) -> Node | None:
    threshold: Any = 0.3
    measure: Any = "words"
    graded: Any = False
    if isinstance(value, Mapping):
        for key in value:
            if key not in SIMILAR_KEYS:
                ctx.fail((*loc, str(key)), f"unknown key: similar_to_seeds takes {', '.join(SIMILAR_KEYS)}")
                return None
        threshold = value.get("threshold", 0.3)
        measure = value.get("by", "words")
        graded = value.get("graded", False)
        if "weight" in value:
            weight = value["weight"]
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                ctx.fail((*loc, "weight"), "must be a number")
                return None
            meta = Meta(float(weight), meta.scope, meta.label, meta.line)
    elif value is not None:
        threshold = value
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        ctx.fail(loc, "the threshold is a number above 0 and at most 1 (cosine similarity), e.g. 0.3")
        return None
    if measure not in MEASURES:
        ctx.fail((*loc, "by"), f"compare by one of: {', '.join(MEASURES)}")
        return None
    if not isinstance(graded, bool):
        ctx.fail((*loc, "graded"), "true (the similarity itself counts) or false (1 from the threshold up)")
        return None
    if not ctx.has_seeds:
        ctx.fail(loc, "similar_to_seeds needs seed articles: add `seeds: [file, ...]` to the watchlist")
        return None
    return SimilarNode(float(threshold), meta, str(measure), graded)


def _dated(value: Any, loc: Loc, ctx: Context, meta: Meta) -> Node | None:
    items = value if isinstance(value, list) else [value]
    years: list[int] = []
    for item in items:
        year = item if isinstance(item, int) and not isinstance(item, bool) else None
        if isinstance(item, str) and item.strip().isdigit():
            year = int(item)
        if year is None or not MIN_YEAR <= year <= MAX_YEAR:
            ctx.fail(loc, f"a year ({MIN_YEAR} to {MAX_YEAR}) or a list of years, e.g. [2023, 2024]")
            return None
        years.append(year)
    if not years:
        ctx.fail(loc, "an empty list: give at least one year")
        return None
    return DatedNode(frozenset(years), meta)


def _class_ref(key: str, value: Any, loc: Loc, ctx: Context, meta: Meta) -> Node | None:
    names = value if isinstance(value, list) else [value]
    nodes: list[Node] = []
    for n, name in enumerate(names):
        at = (*loc, n) if isinstance(value, list) else loc
        if not isinstance(name, str):
            ctx.fail(at, "a class name")
            return None
        cls = ctx.classes.get(name)
        if cls is None:
            close = difflib.get_close_matches(name, list(ctx.classes), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else " (see docs/watchlists.md for the list)"
            ctx.fail(at, f"unknown class '{name}'{hint}")
            return None
        if key != "class" and cls.kind != key:
            ctx.fail(at, f"'{name}' is a {cls.kind} class: write `{cls.kind}: {name}` (or `class: {name}`)")
            return None
        nodes.append(ClassNode(cls, meta))
    if len(nodes) == 1:
        return nodes[0]
    if not nodes:
        ctx.fail(loc, "an empty list: give at least one class")
        return None
    return AnyNode(tuple(ClassNode(n.cls, Meta(scope=meta.scope)) for n in nodes if isinstance(n, ClassNode)),
                   meta)
