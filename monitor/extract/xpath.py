"""trafilatura's XPath expressions, evaluated in Python where that gives the same elements faster.

Why: about half of trafilatura's CPU on a news page goes into evaluating its XPath expressions
(2.6 s of 5.0 s for the 300 pages of bench/burst.py), and nearly all of that into the EXSLT
`re:test(@class, '...')` calls they are written with: libxml2 asks lxml for every element and
every attribute tested, and lxml answers through Python each time. The same tests made directly in
Python, on the attribute strings, with each test's answer remembered per string (class names
repeat all over a page, and from page to page), select the same elements 2 to 10 times faster;
extraction as a whole costs 29 % less CPU.

`compile_xpath` understands the small part of XPath 1.0 that trafilatura's expressions are written
in: one `.//` or `//` step with predicates (`self::tag`, `@attr`, `@attr='x'`, `contains`,
`starts-with`, `translate`, `re:test`, `not`, `and`, `or`, `[1]`), `(step)[1]`, and unions of those.
Anything else gives None, and `install` then leaves that expression to lxml: a trafilatura upgrade
that writes a new form is slower, never wrong. tests/test_xpath.py compares every expression it
compiles with lxml's own answer, element by element, on the shared pages and on generated ones.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from lxml import etree

log = logging.getLogger(__name__)

Predicate = Callable[[Any], bool]
"""A test of one element (an lxml element; lxml has no useful types for mypy)."""
Selector = Callable[[Any], list[Any]]

_TOKEN = re.compile(r"""\s*(?:(?P<lit>'[^']*'|"[^"]*")|(?P<op>\.//|//|::|[()\[\],|=@])|(?P<name>[A-Za-z_][\w.-]*(?::(?!:)[A-Za-z_][\w-]*)?|\*|\d+))""")
_CACHE_LIMIT = 2048
"""Attribute values remembered per test; past this the memo starts over. A page has a few hundred
distinct values; a full memo is about 200 KiB, and the 59 of trafilatura's expressions at most
12 MiB a process (3 MiB after the 127 shared pages). 512 cost 7 % more CPU on those pages."""


class _Unsupported(ValueError):
    """The expression uses XPath this module does not evaluate: lxml keeps it."""


def _tokens(path: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos, end = 0, len(path.rstrip())
    while pos < end:
        m = _TOKEN.match(path, pos)
        if m is None or m.end() == pos:
            raise _Unsupported(f"cannot read {path[pos:pos + 20]!r}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _regex_flags(flags: str) -> int:
    """lxml's EXSLT re:test takes flag 'i' for case and runs re.search."""
    if set(flags) - {"i"}:
        raise _Unsupported(f"regex flags {flags!r}")
    return re.IGNORECASE if flags else 0


def _regex(pattern: str, flags: str) -> str:
    """`re:test(value, pattern, flags)`'s pattern as one alternative of a combined regex."""
    re.compile(pattern, _regex_flags(flags))  # a bad pattern is lxml's to report, at evaluation
    if _UNCOMBINABLE.search(pattern):
        raise _Unsupported(f"pattern {pattern!r} cannot be one alternative of several")
    return f"(?i:{pattern})" if flags else f"(?:{pattern})"


_UNCOMBINABLE = re.compile(r"\\[1-9]|\(\?P|\(\?[aiLmsux]+\)")
"""Back-references, named groups and global inline flags change meaning inside an alternation."""


class _ValueTests:
    """What an `or` asks of one string value (an attribute's, or the first of some attributes'),
    kept as data so that all of it runs as one test: a set lookup for the equalities, one regex for
    all the re:tests, and so on, with the answer remembered per value."""

    __slots__ = ("contains", "equal", "others", "patterns", "present", "starts")

    def __init__(self, *, equal: Sequence[str] = (), contains: Sequence[str] = (), starts: Sequence[str] = (),
                 patterns: Sequence[str] = (), present: bool = False,
                 others: Sequence[Callable[[str], bool]] = ()) -> None:
        self.equal = tuple(equal)
        self.contains = tuple(contains)
        self.starts = tuple(starts)
        self.patterns = tuple(patterns)
        self.present = present
        self.others = tuple(others)

    def __or__(self, other: _ValueTests) -> _ValueTests:
        return _ValueTests(equal=self.equal + other.equal, contains=self.contains + other.contains,
                           starts=self.starts + other.starts, patterns=self.patterns + other.patterns,
                           present=self.present or other.present, others=self.others + other.others)

    def parts(self) -> tuple[dict[str, bool], Callable[[str], bool], bool]:
        """(the answers known so far by value, what answers a value not known yet and remembers it,
        the answer for an absent attribute): what `_disjunction` runs."""
        equal, contains, starts, others = frozenset(self.equal), self.contains, self.starts, self.others
        search = re.compile("|".join(self.patterns)).search if self.patterns else None
        present = self.present

        def on_string(v: str) -> bool:
            # what string() of the attribute is asked: a missing attribute reads as ""
            return (any(c in v for c in contains) or v.startswith(starts)
                    or (search is not None and search(v) is not None) or any(o(v) for o in others))

        known: dict[str, bool] = {}

        def answer(value: str) -> bool:
            if len(known) >= _CACHE_LIMIT:
                known.clear()
            known[value] = found = present or value in equal or on_string(value)
            return found
        return known, answer, on_string("")  # an absent attribute equals nothing and is not present


def _first(names: Sequence[str]) -> Callable[[Any], str | None]:
    """string(@a|@b|...): the value of whichever of the attributes comes first on the element (in
    document order, which for attributes is their order in the tag), None when it has none."""
    if len(names) == 1:
        name = names[0]
        return lambda e: e.get(name)
    wanted = frozenset(names)

    def in_tag_order(e: Any) -> str | None:
        for key in e.keys():  # noqa: SIM118  (iterating an element gives its children)
            if key in wanted:
                return str(e.get(key))
        return None

    if len(names) == 2:
        a, b = names

        def first_of_two(e: Any) -> str | None:
            x: str | None = e.get(a)
            y: str | None = e.get(b)
            if x is None:
                return y
            return x if y is None else in_tag_order(e)
        return first_of_two

    def first(e: Any) -> str | None:
        present = [value for name in names if (value := e.get(name)) is not None]
        return (present[0] if present else None) if len(present) < 2 else in_tag_order(e)
    return first


class _ValueTest:
    """Tests of one value: an attribute's (None when the element lacks it), or string(@a|@b), the
    value of whichever attribute comes first in the tag. Merged with the other tests of the same
    value within an `or`; alone, it runs as an `or` of one."""

    __slots__ = ("_test", "names", "tests")

    def __init__(self, names: tuple[str, ...], tests: _ValueTests) -> None:
        self.names = names
        self.tests = tests
        self._test: Predicate | None = None

    def __call__(self, e: Any) -> bool:
        if self._test is None:
            self._test = _disjunction({self.names: self.tests}, [])
        return self._test(e)


class _Step:
    """One `.//` or `//` step with its predicates: the elements it selects from a context element."""

    def __init__(self, absolute: bool, tags: tuple[str, ...] | None, predicates: list[Predicate],
                 first_per_parent: bool = False, first_only: bool = False) -> None:
        self.absolute = absolute
        self.tags = tags
        self.predicate = predicates[0] if len(predicates) == 1 else (_all(predicates) if predicates else None)
        self.first_per_parent = first_per_parent
        self.first_only = first_only

    @property
    def plain(self) -> bool:
        return not (self.first_per_parent or self.first_only)

    def candidates(self, context: Any, tags: tuple[str, ...] | None) -> Iterator[Any]:
        wanted: tuple[Any, ...] = tags if tags is not None else (etree.Element,)
        if self.absolute:  # //: every element of the document, its root element included
            root = context.getroottree().getroot()
            return iter(()) if root is None else iter(root.iter(*wanted))
        return iter(context.iterdescendants(*wanted))

    def __call__(self, context: Any) -> list[Any]:
        predicate = self.predicate
        found = self.candidates(context, self.tags)
        if self.first_only:
            first = next(found, None) if predicate is None else next((e for e in found if predicate(e)), None)
            return [] if first is None else [first]
        selected = list(found) if predicate is None else [e for e in found if predicate(e)]
        if self.first_per_parent and len(selected) > 1:  # `[1]` in the step: the first under each parent
            parents: set[Any] = set()
            kept = []
            for e in selected:
                parent = e.getparent()
                if parent not in parents:
                    parents.add(parent)
                    kept.append(e)
            return kept
        return selected


def _one_pass(steps: list[_Step]) -> Selector:
    """A union of plain steps on one axis: one walk, each element tested against each step."""
    tags: tuple[str, ...] | None = None
    if all(s.tags is not None for s in steps):
        tags = tuple(dict.fromkeys(t for s in steps for t in s.tags or ()))
    tests = [(frozenset(s.tags) if s.tags is not None else None, s.predicate) for s in steps]
    walk = steps[0]

    def select(context: Any) -> list[Any]:
        found = []
        for e in walk.candidates(context, tags):
            for wanted, predicate in tests:
                if (wanted is None or e.tag in wanted) and (predicate is None or predicate(e)):
                    found.append(e)
                    break
        return found
    return select


def _merged(parts: list[_Step]) -> Selector:
    """A union: each element once, in document order."""
    def select(context: Any) -> list[Any]:
        found: dict[Any, None] = {}
        for part in parts:
            found.update(dict.fromkeys(part(context)))
        if len(found) < 2:
            return list(found)
        order = {e: i for i, e in enumerate(context.getroottree().getroot().iter())}
        return sorted(found, key=order.__getitem__)
    return select


class _Parser:
    def __init__(self, path: str) -> None:
        self.tokens = _tokens(path)
        self.pos = 0

    # -- token helpers
    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        at = self.pos + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        token = self.peek()
        if token is None or (value is not None and token[1] != value) or (kind is not None and token[0] != kind):
            raise _Unsupported(f"expected {value or kind}, found {token}")
        self.pos += 1
        return token[1]

    def at(self, value: str) -> bool:
        token = self.peek()
        return token is not None and token[1] == value and token[0] != "lit"

    def literal(self) -> str:
        return self.take(kind="lit")[1:-1]

    # -- paths
    def union(self) -> Selector:
        parts = [self.path()]
        while self.at("|"):
            self.take("|")
            parts.append(self.path())
        if self.peek() is not None:
            raise _Unsupported(f"unexpected {self.peek()}")
        if len(parts) == 1:
            return parts[0]
        if all(p.plain for p in parts) and len({p.absolute for p in parts}) == 1:
            return _one_pass(parts)
        return _merged(parts)

    def path(self) -> _Step:
        if self.at("("):
            self.take("(")
            inner = self.step(first_only=True)
            self.take(")")
            self.take("[")
            if self.take(kind="name") != "1":
                raise _Unsupported("only [1] after a parenthesised path")
            self.take("]")
            return inner
        return self.step()

    def step(self, *, first_only: bool = False) -> _Step:
        """One step; `first_only` for `(step)[1]`: the first element it selects, in document order."""
        axis = self.take()
        if axis not in (".//", "//"):
            raise _Unsupported(f"step {axis!r}")
        test = self.take(kind="name")
        tags: tuple[str, ...] | None = None if test == "*" else (test,)
        predicates: list[Predicate] = []
        first_per_parent = False
        while self.at("["):
            self.take("[")
            if first_per_parent:
                raise _Unsupported("a predicate after [1]")
            if self.peek() == ("name", "1") and self.peek(1) == ("op", "]"):
                self.take()
                first_per_parent = True
            elif tags is None and not predicates and (found := self._tag_filter()) is not None:
                tags = found
            else:
                predicates.append(self.disjunction())
            self.take("]")
        if self.peek() is not None and not self.at("|") and not self.at(")"):
            raise _Unsupported("more than one step")
        if first_only and first_per_parent:
            raise _Unsupported("(...[1])[1]")
        return _Step(axis == "//", tags, predicates, first_per_parent, first_only)

    def _tag_filter(self) -> tuple[str, ...] | None:
        """`[self::a or self::b ...]` as the first predicate: lxml filters those tags in C."""
        start, names = self.pos, []
        while self.peek() == ("name", "self") and self.peek(1) == ("op", "::"):
            self.pos += 2
            names.append(self.take(kind="name"))
            if self.at("]"):
                return tuple(names)
            if not self.at("or"):
                break
            self.take("or")
        self.pos = start
        return None

    # -- predicates
    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.at("or"):
            self.take("or")
            parts.append(self.conjunction())
        if len(parts) == 1:
            return parts[0]
        by_value: dict[tuple[str, ...], _ValueTests] = {}
        others: list[Predicate] = []
        for part in parts:
            if isinstance(part, _ValueTest):
                known = by_value.get(part.names)
                by_value[part.names] = part.tests if known is None else known | part.tests
            else:
                others.append(part)
        if len(by_value) == 1 and not others:
            return _ValueTest(*next(iter(by_value.items())))
        return _disjunction(by_value, others)

    def conjunction(self) -> Predicate:
        parts = [self.unary()]
        while self.at("and"):
            self.take("and")
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else _all(parts)

    def unary(self) -> Predicate:
        token = self.peek()
        if token is None:
            raise _Unsupported("unexpected end")
        kind, value = token
        if kind == "op" and value == "(":
            self.take("(")
            inner = self.disjunction()
            self.take(")")
            return inner
        if value == "not" and self.peek(1) == ("op", "("):
            self.pos += 2
            negated = self.disjunction()
            self.take(")")
            return lambda e: not negated(e)
        if value == "self" and self.peek(1) == ("op", "::"):
            self.pos += 2
            tag = self.take(kind="name")
            return lambda e: bool(e.tag == tag)
        if kind == "op" and value == ".//":
            self.take()
            below = self.take(kind="name")
            if below == "*":
                raise _Unsupported(".//*")
            return lambda e: next(e.iterdescendants(below), None) is not None
        if value in ("contains", "starts-with", "re:test") and self.peek(1) == ("op", "("):
            return self.function()
        if kind == "op" and value == "@":
            names = self.attributes()
            if self.at("="):
                self.take("=")
                expected = self.literal()
                if len(names) == 1:
                    return _ValueTest(names, _ValueTests(equal=[expected]))
                return lambda e: any(e.get(n) == expected for n in names)
            if len(names) == 1:
                return _ValueTest(names, _ValueTests(present=True))
            return lambda e: any(e.get(n) is not None for n in names)
        if kind == "name" and self.peek(1) == ("op", "="):
            # a child element's string value (trafilatura's `rel='me'`)
            self.pos += 2
            expected = self.literal()
            return lambda e: len(e) > 0 and any("".join(c.itertext()) == expected for c in e.iterchildren(value))
        raise _Unsupported(f"predicate at {token}")

    def attributes(self) -> tuple[str, ...]:
        names = []
        while True:
            self.take("@")
            names.append(self.take(kind="name"))
            if self.at("|") and self.peek(1) == ("op", "@"):
                self.take("|")
                continue
            return tuple(names)

    def string_argument(self) -> tuple[tuple[str, ...], Callable[[str], str]]:
        """The attributes a string argument reads (string() of the first present) and what is done to
        the value: nothing, or translate()."""
        if self.at("translate"):
            self.take("translate")
            self.take("(")
            names, inner = self.string_argument()
            self.take(",")
            source = self.literal()
            self.take(",")
            target = self.literal()
            self.take(")")
            # XPath's translate: the first occurrence of a character decides; one past the end of
            # the target is removed
            mapping: dict[str, str | None] = {}
            for i, char in enumerate(source):
                mapping.setdefault(char, target[i] if i < len(target) else None)
            table = str.maketrans(mapping)
            return names, lambda v: inner(v).translate(table)
        return self.attributes(), _same

    def function(self) -> Predicate:
        name = self.take()
        self.take("(")
        names, transform = self.string_argument()
        self.take(",")
        argument = self.literal()
        flags = ""
        if self.at(","):
            self.take(",")
            flags = self.literal()
        self.take(")")
        tests: _ValueTests
        if transform is not _same:  # translate(): tested on the translated value
            if name == "contains":
                tests = _ValueTests(others=[lambda v: argument in transform(v)])
            elif name == "starts-with":
                tests = _ValueTests(others=[lambda v: transform(v).startswith(argument)])
            else:
                search = re.compile(argument, _regex_flags(flags)).search
                tests = _ValueTests(others=[lambda v: search(transform(v)) is not None])
        elif name == "contains":
            tests = _ValueTests(contains=[argument])
        elif name == "starts-with":
            tests = _ValueTests(starts=[argument])
        else:
            tests = _ValueTests(patterns=[_regex(argument, flags)])
        return _ValueTest(names, tests)


def _same(value: str) -> str:
    return value


def _disjunction(by_value: dict[tuple[str, ...], _ValueTests], others: list[Predicate]) -> Predicate:
    """An `or` whose tests of one value (an attribute's, or the first of some) are merged, each value
    read once and its answer remembered; this runs for every element of every page, hence the one
    flat loop that reads the memos itself."""
    # (attribute, None, ...) reads one attribute; ("", reader, ...) the first of several
    groups: list[tuple[str, Callable[[Any], str | None] | None, dict[str, bool], Callable[[str], bool], bool]] = [
        (names[0], None, *tests.parts()) if len(names) == 1 else ("", _first(names), *tests.parts())
        for names, tests in by_value.items()]
    rest = _any(others) if others else None

    def test(e: Any) -> bool:
        get = e.get
        for name, read, known, answer, missing in groups:
            value = get(name) if read is None else read(e)
            if value is None:
                if missing:
                    return True
                continue
            found = known.get(value)
            if found is None:
                found = answer(value)
            if found:
                return True
        return rest is not None and rest(e)
    return test


# The loops below, not any()/all(): a generator per element and test costs more than the test.
def _any(parts: list[Predicate]) -> Predicate:
    def test(e: Any) -> bool:
        for part in parts:  # noqa: SIM110
            if part(e):
                return True
        return False
    return test


def _all(parts: list[Predicate]) -> Predicate:
    def test(e: Any) -> bool:
        for part in parts:  # noqa: SIM110
            if not part(e):
                return False
        return True
    return test


class CompiledXPath:
    """Stands in for an lxml XPath object where trafilatura calls one on an element."""

    __slots__ = ("_select", "original", "path")

    def __init__(self, original: etree.XPath, select: Selector) -> None:
        self.original = original
        self.path = original.path
        self._select = select

    def __call__(self, context: Any, **variables: Any) -> Any:
        if variables or not isinstance(context, etree._Element):
            return self.original(context, **variables)
        return self._select(context)

    def __repr__(self) -> str:
        return f"CompiledXPath({self.path!r})"


def compile_xpath(expression: etree.XPath) -> CompiledXPath | None:
    """The expression evaluated in Python, or None when it uses XPath outside what this module reads."""
    if expression.path is None:
        return None
    try:
        return CompiledXPath(expression, _Parser(expression.path).union())
    except (_Unsupported, re.error) as exc:
        log.debug("xpath_not_compiled", extra={"xpath": " ".join(expression.path.split())[:200], "reason": str(exc)})
        return None


_installed = False


def install() -> int:
    """Replace, in place, each expression of trafilatura.xpaths' lists that compiles; how many did.

    The lists are shared by reference with the trafilatura modules that imported them, so they see
    the replacements. Also gives trafilatura's HTML parser lxml's C-level element class lookup: lxml.html's
    own calls a Python method for every element object made, a million times per 300 pages, for
    form-element classes trafilatura never uses; the elements are HtmlElement either way.
    """
    global _installed
    if _installed:
        return 0
    _installed = True
    from lxml import html
    from trafilatura import utils, xpaths

    utils.HTML_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=html.HtmlElement, comment=html.HtmlComment, pi=html.HtmlProcessingInstruction,
        entity=html.HtmlEntity))
    replaced = 0
    for value in vars(xpaths).values():
        if not isinstance(value, list):
            continue
        for i, expression in enumerate(value):
            # without re:test, libxml2 answers in C, faster than Python could
            if (isinstance(expression, etree.XPath) and "re:test" in (expression.path or "")
                    and (compiled := compile_xpath(expression)) is not None):
                value[i] = compiled
                replaced += 1
    return replaced
