"""Entity classes: named sets of people, places and actions that rules use instead of lists of names.

A class is a list of members; a member is a name a person reads in `why` ("Viktor Orbán"), the terms
that find it (every name, spelling, script and declined form), and optionally the offices it held,
so that "Fico" counts as an EU leader in an article of May 2025 and not in one of 2021.

The built-in classes live in data/ as versioned YAML files (see data/README.md): places.yaml,
people.yaml and actions.yaml hold plain classes; eu_leaders.yaml (who held which office when) and
eu_titles.yaml (how each language says "the Hungarian prime minister") build the EU-leader classes.
Users add their own classes in a watchlist's `classes:` block or in a class file in the watchlists
folder (see load.py); those are built by `build_class` from the same shape as places.yaml.
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
from monitor.matching.text import fold

DATA = Path(__file__).parent / "data"
KINDS = ("entity", "person", "place", "action", "org", "term")

_ROLES: dict[str, tuple[str, frozenset[str]]] = {
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

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    @property
    def title(self) -> str:
        role = _ROLES[self.role][0]
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

    def office_on(self, day: date | None) -> Office | None | bool:
        """The office held on `day`; True when the member is timeless (no offices) or day is unknown;
        None when the member held no office that day."""
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
        return f"{self.name} ({spans}; no date: office not checked)"


@dataclass(frozen=True, slots=True)
class EntityClass:
    name: str
    kind: str
    label: str
    members: tuple[Member, ...]
    description: str = ""
    version: str = ""
    sources: tuple[str, ...] = field(default_factory=tuple)


class ClassError(ValueError):
    """A class definition that cannot be built; `where` is the key path inside the definition."""

    def __init__(self, where: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


# ---------------------------------------------------------------- plain classes (also users' classes)

def build_class(name: str, spec: Mapping[str, Any], known: Mapping[str, EntityClass], *,
                version: str = "", sources: Iterable[str] = ()) -> EntityClass:
    """One class from its YAML shape: kind, label, description, include, terms, lang_terms, members.

    Raises ClassError naming the offending key; `known` resolves `include:`.
    """
    kind = str(spec.get("kind", "entity"))
    if kind not in KINDS:
        raise ClassError(("kind",), f"unknown kind '{kind}' (one of: {', '.join(KINDS)})")
    members: list[Member] = []
    for n, other in enumerate(_as_list(spec.get("include", []))):
        if other not in known:
            raise ClassError(("include", n), f"unknown class '{other}'")
        members.extend(known[other].members)
    if "terms" in spec or "lang_terms" in spec:
        members.append(Member(str(spec.get("name", name)), _terms(spec, ())))
    for n, raw in enumerate(_as_list(spec.get("members", []))):
        if not isinstance(raw, Mapping):
            raise ClassError(("members", n), "a member is a mapping with 'name' and 'terms'")
        if "name" not in raw:
            raise ClassError(("members", n, "name"), "required key is missing")
        members.append(Member(str(raw["name"]), _terms(raw, ("members", n)), note=str(raw.get("note", ""))))
    if not members:
        raise ClassError((), "a class needs 'terms', 'members' or 'include'")
    return EntityClass(name, kind, str(spec.get("label", kind if kind != "entity" else name)),
                       tuple(members), str(spec.get("description", "")), version, tuple(sources))


def _terms(spec: Mapping[str, Any], where: tuple[str | int, ...]) -> tuple[Term, ...]:
    out: list[Term] = []
    for n, text in enumerate(_as_list(spec.get("terms", []))):
        out.append(_term(str(text), None, (*where, "terms", n)))
    lang_terms = spec.get("lang_terms", {})
    if not isinstance(lang_terms, Mapping):
        raise ClassError((*where, "lang_terms"), "lang_terms maps a language code to a list of terms")
    for lang, texts in lang_terms.items():
        for n, text in enumerate(_as_list(texts)):
            out.append(_term(str(text), frozenset(str(lang).split(",")), (*where, "lang_terms", lang, n)))
    if not out:
        raise ClassError((*where, "terms"), "a member needs at least one term")
    return tuple(out)


def _term(text: str, langs: frozenset[str] | None, where: tuple[str | int, ...]) -> Term:
    try:
        return parse_term(text, langs=langs)
    except TermError as exc:
        raise ClassError(where, str(exc)) from exc


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# ---------------------------------------------------------------- the built-in data

def _read(name: str) -> Any:
    with (DATA / name).open(encoding="utf-8") as fh:
        return YAML(typ="safe", pure=True).load(fh)


@lru_cache(maxsize=1)
def builtin_classes() -> Mapping[str, EntityClass]:
    """Every class shipped in data/, by name; read once per process."""
    classes: dict[str, EntityClass] = {}
    for file in ("places.yaml", "people.yaml", "actions.yaml"):
        doc = _read(file)
        for name, spec in doc["classes"].items():
            try:
                classes[name] = build_class(name, spec, classes, version=str(doc["version"]),
                                            sources=doc.get("sources", []))
            except ClassError as exc:
                where = ".".join(str(p) for p in exc.where)
                raise RuntimeError(f"data/{file}: classes.{name}.{where}: {exc.message}") from exc
    classes.update(eu_leader_classes())
    return classes


def eu_leader_classes() -> dict[str, EntityClass]:
    leaders = _read("eu_leaders.yaml")
    titles = _read("eu_titles.yaml")
    countries = {code: c["name"] for code, c in leaders["countries"].items()}
    eu_since = {code: _day(c["eu_since"]) for code, c in leaders["countries"].items()}
    by_kind: dict[str, list[Member]] = {"government": [], "state": []}
    for person in leaders["people"]:
        member = _person(person, countries, eu_since)
        kinds = set().union(*(_ROLES[o.role][1] for o in member.offices))
        for kind in kinds:
            held = tuple(o for o in member.offices if kind in _ROLES[o.role][1])
            by_kind[kind].append(Member(member.name, member.terms, held))
    for kind, members in _title_members(titles, countries).items():
        by_kind[kind].extend(members)
    version = f"{leaders['version']}+titles.{titles['version']}"
    sources = tuple(leaders.get("sources", [])) + tuple(titles.get("sources", []))
    gov = EntityClass("eu_head_of_government", "entity", "EU head of government", tuple(by_kind["government"]),
                      "EU member states' prime ministers and chancellors, by office dates", version, sources)
    state = EntityClass("eu_head_of_state", "entity", "EU head of state", tuple(by_kind["state"]),
                        "EU member states' presidents and monarchs, by office dates", version, sources)
    both = EntityClass("eu_head_of_government_or_state", "entity", "EU leader",
                       _merge(gov.members + state.members),
                       "EU member states' heads of state or government, by office dates", version, sources)
    return {c.name: c for c in (gov, state, both)}


def _merge(members: tuple[Member, ...]) -> tuple[Member, ...]:
    """One member per person, with all their offices (a president who was PM before, like Pellegrini)."""
    merged: dict[str, Member] = {}
    for m in members:
        if m.name in merged:
            old = merged[m.name]
            merged[m.name] = Member(m.name, old.terms, tuple(sorted({*old.offices, *m.offices},
                                                                    key=lambda o: o.start)), old.note)
        else:
            merged[m.name] = m
    return tuple(merged.values())


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _person(spec: Mapping[str, Any], countries: Mapping[str, str], eu_since: Mapping[str, date]) -> Member:
    feminine = spec.get("gender") == "f"
    exclude = {fold(x) for x in _as_list(spec.get("exclude", []))}
    terms: dict[tuple[str, ...], Term] = {}
    for lang, names in _person_names(spec):
        for text in names:
            for term in name_terms(str(text), lang, feminine=feminine, exclude=exclude):
                terms.setdefault((*term.tokens, str(sorted(term.langs or ()))), term)
    offices = []
    for line in _as_list(spec.get("offices", [])):
        country, role, start, *end = str(line).split()
        begin = max(date.fromisoformat(start), eu_since[country])
        finish = date.fromisoformat(end[0]) if end and end[0] != "-" else None
        if role not in _ROLES:
            raise RuntimeError(f"data/eu_leaders.yaml: {spec['name']}: unknown role '{role}'")
        if finish is None or finish > begin:
            offices.append(Office(country, countries[country], role, begin, finish))
    return Member(str(spec["name"]), tuple(terms.values()), tuple(offices))


_SCRIPT_KEYS = ("ru", "uk", "bg", "el", "lv", "lt", "sr", "mk", "be")


def _person_names(spec: Mapping[str, Any]) -> list[tuple[str | None, list[Any]]]:
    out: list[tuple[str | None, list[Any]]] = [(None, _as_list(spec.get("names", [spec["name"]])))]
    for key in _SCRIPT_KEYS:
        if key in spec:
            out.append((key, _as_list(spec[key])))
    return out


def name_terms(text: str, lang: str | None, *, feminine: bool = False,
               exclude: set[str] | frozenset[str] = frozenset()) -> list[Term]:
    """A name and its declined forms (the last word declines) as terms."""
    base = parse_term(text, langs=None)
    out = [base]
    if any(base.prefix):
        return out
    last = base.tokens[-1]
    for form, langs in forms_of(last, lang, feminine=feminine).items():
        if form in exclude:
            continue
        out.append(Term(base.text, (*base.tokens[:-1], form), base.prefix, base.capitals, langs))
    return out


def _title_members(titles: Mapping[str, Any], countries: Mapping[str, str]) -> dict[str, list[Member]]:
    """Members "prime minister of Hungary (by title)": every language's way of saying it."""
    phrases: dict[tuple[str, str], list[str]] = {}
    for lang, spec in titles["languages"].items():
        for code, forms in spec.get("countries", {}).items():
            adj, _, gen = str(forms).partition("|")
            values = {"c": _alternatives(adj), "g": _alternatives(gen)}
            for kind in ("government", "state"):
                for pattern in _as_list(spec.get(kind, [])):
                    slot = "c" if "{c}" in pattern else "g" if "{g}" in pattern else ""
                    for value in values.get(slot, [""]) if slot else [""]:
                        phrase = pattern.replace("{" + slot + "}", value) if slot else pattern
                        if slot and not value:
                            continue
                        phrases.setdefault((code, kind), []).append(phrase)
            del lang
    out: dict[str, list[Member]] = {"government": [], "state": []}
    for (code, kind), texts in sorted(phrases.items()):
        terms = {parse_term(t) for t in texts}
        what = "head of government" if kind == "government" else "head of state"
        out[kind].append(Member(f"{what} of {countries[code]}", tuple(sorted(terms, key=lambda t: t.tokens)),
                                note="by title"))
    return out


def _alternatives(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]
