"""Entity classes: named sets of people, places and actions that rules use instead of lists of names.

A class is a list of members; a member is a name a person reads in `why` ("Viktor Orbán"), the terms
that find it (every name, spelling, script and declined form), and optionally the offices it held,
so that "Fico" counts as an EU leader in an article of May 2025 and not in one of 2021.

The built-in classes live in data/ as versioned YAML files (see data/README.md): places.yaml,
people.yaml and actions.yaml hold plain classes; eu_leaders.yaml (who held which office when) and
eu_titles.yaml (how each language says "the Hungarian prime minister") build the EU-leader classes
(leaders.py). Users add their own classes in a watchlist's `classes:` block or in a class file in
the watchlists folder (see load.py); `build_class` builds those from the same shape as places.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from monitor.matching.inflect import forms_of
from monitor.matching.terms import Term, TermError, parse_term

DATA = Path(__file__).parent / "data"
KINDS = ("entity", "person", "place", "action", "org", "term")
CLASS_FILES = ("places.yaml", "people.yaml", "actions.yaml", "markers.yaml")

ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "pm": ("prime minister", frozenset({"government"})),
    "chancellor": ("chancellor", frozenset({"government"})),
    "president": ("president", frozenset({"state"})),
    "executive_president": ("president", frozenset({"state", "government"})),
    "monarch": ("monarch", frozenset({"state"})),
}


@dataclass(frozen=True, slots=True)
class Office:
    country: str
    country_name: str
    role: str
    start: date
    end: date | None
    """The first day out of office (None: still in office as far as the data knows)."""

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    @property
    def title(self) -> str:
        role = ROLES[self.role][0]
        role = "PM" if role == "prime minister" else role.capitalize()
        return f"{role} of {self.country_name}"

    @property
    def years(self) -> str:
        return f"{self.start.year}–{self.end.year if self.end else ''}"


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    terms: tuple[Term, ...]
    offices: tuple[Office, ...] = ()
    note: str = ""
    """Shown after the name in `why` when the member has no offices ("by title")."""

    def office_on(self, day: date | None) -> Office | bool | None:
        """The office held on `day`; True when the member is timeless (no offices) or the day is
        unknown; None when the member held no listed office that day."""
        if not self.offices or day is None:
            return True
        for office in self.offices:
            if office.covers(day):
                return office
        return None

    def describe(self, day: date | None) -> str:
        if not self.offices:
            return f"{self.name} ({self.note})" if self.note else self.name
        held = self.office_on(day)
        if isinstance(held, Office):
            return f"{self.name} ({held.title})"
        spans = ", ".join(f"{o.title} {o.years}" for o in self.offices)
        return f"{self.name} ({spans}; article undated)"


@dataclass(frozen=True, slots=True, eq=False)
class EntityClass:
    """Compared by identity: the matcher indexes each class object once however many rules use it."""

    name: str
    kind: str
    label: str
    members: tuple[Member, ...]
    description: str = ""
    version: str = ""
    sources: tuple[str, ...] = field(default_factory=tuple)
    origin: str = "built-in"
    """Where it was defined: 'built-in', or the file that defined it."""


class ClassError(ValueError):
    """A class definition that cannot be built; `where` is the key path inside the definition."""

    def __init__(self, where: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


CLASS_KEYS = frozenset({"kind", "label", "description", "include", "terms", "lang_terms", "members", "inflect"})
MEMBER_KEYS = frozenset({"name", "terms", "lang_terms", "note", "inflect"})


def build_class(name: str, spec: Mapping[str, Any], known: Mapping[str, EntityClass], *,
                version: str = "", sources: Iterable[str] = (), origin: str = "built-in") -> EntityClass:
    """One class from its YAML shape: kind, label, description, include, terms, lang_terms, members.

    Raises ClassError naming the offending key; `known` resolves `include:`.
    """
    if not isinstance(spec, Mapping):
        raise ClassError((), "a class is a mapping with 'terms', 'members' or 'include'")
    for key in spec:
        if key not in CLASS_KEYS:
            raise ClassError((str(key),), f"unknown key (one of: {', '.join(sorted(CLASS_KEYS))})")
    kind = str(spec.get("kind", "entity"))
    if kind not in KINDS:
        raise ClassError(("kind",), f"unknown kind '{kind}' (one of: {', '.join(KINDS)})")
    inflect = _flag(spec, "inflect", ())
    members: list[Member] = []
    for n, other in enumerate(as_list(spec.get("include"))):
        if not isinstance(other, str) or other not in known:
            raise ClassError(("include", n), f"unknown class '{other}'")
        members.extend(known[other].members)
    if "terms" in spec or "lang_terms" in spec:
        members.append(Member(name.replace("_", " "), _terms(spec, (), inflect)))
    for n, raw in enumerate(as_list(spec.get("members"))):
        where: tuple[str | int, ...] = ("members", n)
        if not isinstance(raw, Mapping):
            raise ClassError(where, "a member is a mapping with 'name' and 'terms'")
        for key in raw:
            if key not in MEMBER_KEYS:
                raise ClassError((*where, str(key)), f"unknown key (one of: {', '.join(sorted(MEMBER_KEYS))})")
        if "name" not in raw:
            raise ClassError((*where, "name"), "required key is missing")
        terms = _terms(raw, where, _flag(raw, "inflect", where, default=inflect))
        members.append(Member(str(raw["name"]), terms, note=str(raw.get("note", ""))))
    if not members:
        raise ClassError((), "a class needs 'terms', 'members' or 'include'")
    label = str(spec.get("label", kind if kind not in ("entity", "term") else name.replace("_", " ")))
    return EntityClass(name, kind, label, tuple(members), str(spec.get("description", "")), version,
                       tuple(sources), origin)


def _flag(spec: Mapping[str, Any], key: str, where: tuple[str | int, ...], *, default: bool = False) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        raise ClassError((*where, key), "must be true or false")
    return value


def _terms(spec: Mapping[str, Any], where: tuple[str | int, ...], inflect: bool) -> tuple[Term, ...]:
    out: dict[tuple[object, ...], Term] = {}

    def add(text: Any, langs: frozenset[str] | None, at: tuple[str | int, ...]) -> None:
        if not isinstance(text, str | int | float) or isinstance(text, bool):
            raise ClassError(at, "a term is a word or phrase")
        lang = next(iter(langs)) if langs and len(langs) == 1 else None
        try:
            made = name_terms(str(text), lang, langs=langs) if inflect else [parse_term(str(text), langs=langs)]
        except TermError as exc:
            raise ClassError(at, str(exc)) from exc
        for term in made:
            out.setdefault((term.tokens, term.prefix, term.capitals, term.langs), term)

    for n, text in enumerate(as_list(spec.get("terms"))):
        add(text, None, (*where, "terms", n))
    lang_terms = spec.get("lang_terms", {})
    if not isinstance(lang_terms, Mapping):
        raise ClassError((*where, "lang_terms"), "lang_terms maps a language code to a list of terms")
    for lang, texts in lang_terms.items():
        langs = frozenset(code.strip().lower() for code in str(lang).split(",") if code.strip())
        for n, text in enumerate(as_list(texts)):
            add(text, langs, (*where, "lang_terms", str(lang), n))
    if not out:
        raise ClassError((*where, "terms"), "a member needs at least one term")
    return tuple(out.values())


def name_terms(text: str, lang: str | None, *, feminine: bool = False, langs: frozenset[str] | None = None,
               exclude: frozenset[str] | set[str] = frozenset()) -> list[Term]:
    """A name and its declined forms (the last word declines) as terms.

    Declined forms count only in the languages whose grammar made them (and in articles of unknown
    language); `langs` restricts the name itself and every form to those languages.
    """
    base = parse_term(text, langs=langs)
    out = [base]
    if any(base.prefix):
        return out
    for form, form_langs in forms_of(base.tokens[-1], lang, feminine=feminine).items():
        if form in exclude:
            continue
        allowed = form_langs if langs is None or form_langs is None else form_langs & langs
        if allowed is not None and not allowed:
            continue
        out.append(Term(base.text, (*base.tokens[:-1], form), base.prefix, base.capitals, allowed))
    return out


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def read_data(name: str) -> Any:
    with (DATA / name).open(encoding="utf-8") as fh:
        # The C loader (ruamel.yaml.clib) reads the shipped data five times faster than the pure one.
        return YAML(typ="safe").load(fh)


@lru_cache(maxsize=1)
def builtin_classes() -> Mapping[str, EntityClass]:
    """Every class shipped in data/, by name; read once per process."""
    from monitor.matching.leaders import eu_leader_classes

    classes: dict[str, EntityClass] = {}
    for file in CLASS_FILES:
        doc = read_data(file)
        for name, spec in doc["classes"].items():
            try:
                classes[name] = build_class(name, spec, classes, version=str(doc["version"]),
                                            sources=doc.get("sources", []), origin=f"data/{file}")
            except ClassError as exc:
                where = ".".join(str(p) for p in exc.where)
                raise RuntimeError(f"data/{file}: classes.{name}.{where}: {exc.message}") from exc
    classes.update(eu_leader_classes())
    return classes
