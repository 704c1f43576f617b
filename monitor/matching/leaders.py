"""The EU-leader classes, built from data/eu_leaders.yaml (who held which office when) and
data/eu_titles.yaml (how each language says "the Hungarian prime minister").

Three classes come out: `eu_head_of_government`, `eu_head_of_state` and their union
`eu_head_of_government_or_state` (one member per person, with all their offices). A person counts
in an article only if one of their offices covers the article's date; an office held before the
country joined the EU (or after it left: the United Kingdom) does not count. Titles ("the Hungarian
prime minister") have no dates: whoever holds the office is meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from monitor.matching.entities import ROLES, EntityClass, Member, Office, as_list, name_terms, read_data
from monitor.matching.terms import Term, parse_term
from monitor.matching.text import fold

# Keys of a person holding their name as written in another script or spelling; the key is the
# language whose grammar declines it (Орбан → Орбана in Russian, Orbāns → Orbāna in Latvian).
SCRIPT_KEYS = ("ru", "uk", "bg", "el", "lv", "lt", "sr", "mk", "be")


def eu_leader_classes() -> dict[str, EntityClass]:
    leaders = read_data("eu_leaders.yaml")
    titles = read_data("eu_titles.yaml")
    countries = leaders["countries"]
    by_kind: dict[str, list[Member]] = {"government": [], "state": []}
    for person in leaders["people"]:
        member = person_member(person, countries)
        kinds: set[str] = set()
        for office in member.offices:
            kinds |= ROLES[office.role][1]
        for kind in sorted(kinds):
            held = tuple(o for o in member.offices if kind in ROLES[o.role][1])
            by_kind[kind].append(Member(member.name, member.terms, held))
    for kind, members in title_members(titles, {c: v["name"] for c, v in countries.items()}).items():
        by_kind[kind].extend(members)
    version = f"{leaders['version']}+titles.{titles['version']}"
    sources = tuple(leaders.get("sources", [])) + tuple(titles.get("sources", []))
    origin = "data/eu_leaders.yaml + data/eu_titles.yaml"
    gov = EntityClass("eu_head_of_government", "entity", "EU head of government", tuple(by_kind["government"]),
                      "EU member states' prime ministers and chancellors, by office dates", version, sources, origin)
    state = EntityClass("eu_head_of_state", "entity", "EU head of state", tuple(by_kind["state"]),
                        "EU member states' presidents and monarchs, by office dates", version, sources, origin)
    both = EntityClass("eu_head_of_government_or_state", "entity", "EU leader",
                       merge_members(gov.members + state.members),
                       "EU member states' heads of state or government, by office dates", version, sources, origin)
    return {c.name: c for c in (gov, state, both)}


def merge_members(members: tuple[Member, ...]) -> tuple[Member, ...]:
    """One member per person, with all their offices (a president who was PM before, like Pellegrini)."""
    merged: dict[str, Member] = {}
    for m in members:
        old = merged.get(m.name)
        if old is None:
            merged[m.name] = m
        else:
            offices = tuple(sorted({*old.offices, *m.offices}, key=lambda o: o.start))
            merged[m.name] = Member(m.name, old.terms, offices, old.note)
    return tuple(merged.values())


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def person_member(spec: Mapping[str, Any], countries: Mapping[str, Mapping[str, Any]]) -> Member:
    """A person of eu_leaders.yaml: every name and spelling with its declined forms, and the offices
    they held while their country was in the EU."""
    feminine = spec.get("gender") == "f"
    exclude = {fold(str(x)) for x in as_list(spec.get("exclude"))}
    terms: dict[tuple[object, ...], Term] = {}
    named: list[tuple[str | None, list[Any]]] = [(None, as_list(spec.get("names", [spec["name"]])))]
    named += [(key, as_list(spec[key])) for key in SCRIPT_KEYS if key in spec]
    for lang, names in named:
        for text in names:
            for term in name_terms(str(text), lang, feminine=feminine, exclude=exclude):
                terms.setdefault((term.tokens, term.prefix, term.capitals, term.langs), term)
    offices = []
    for line in as_list(spec.get("offices")):
        country, role, start, *end = str(line).split()
        if role not in ROLES:
            raise RuntimeError(f"data/eu_leaders.yaml: {spec['name']}: unknown role '{role}'")
        info = countries[country]
        begin = max(date.fromisoformat(start), _day(info["eu_since"]))
        finish = date.fromisoformat(end[0]) if end and end[0] != "-" else None
        if "eu_until" in info:
            left = _day(info["eu_until"])
            finish = left if finish is None else min(finish, left)
        if finish is None or finish > begin:
            offices.append(Office(country, str(info["name"]), role, begin, finish))
    return Member(str(spec["name"]), tuple(terms.values()), tuple(offices))


def title_members(titles: Mapping[str, Any], countries: Mapping[str, str]) -> dict[str, list[Member]]:
    """Members such as "head of government of Hungary (by title)": every language's way of saying it.

    Each language gives patterns ("{c} prime minister", "prime minister of {g}") and, per country,
    its adjective forms and its name forms ("Hungarian|Hungary"); patterns and forms multiply out.
    `bare:` titles name the office without a country (Bundeskanzler, Taoiseach).
    """
    phrases: dict[tuple[str, str], set[str]] = {}
    bare_names: dict[tuple[str, str], str] = {}
    for spec in titles["languages"].values():
        for code, forms in (spec.get("countries") or {}).items():
            adjectives, _, names = str(forms).partition("|")
            values = {"{c}": _alternatives(adjectives), "{g}": _alternatives(names)}
            for kind in ("government", "state"):
                for pattern in as_list(spec.get(kind)):
                    slot = "{c}" if "{c}" in pattern else "{g}"
                    for value in values[slot]:
                        phrases.setdefault((code, kind), set()).add(pattern.replace(slot, value))
        for bare in as_list(spec.get("bare")):
            key = (f"{bare['country']}:{bare['name']}", str(bare["kind"]))
            bare_names[key] = str(bare["name"])
            phrases.setdefault(key, set()).update(str(t) for t in as_list(bare["terms"]))
    out: dict[str, list[Member]] = {"government": [], "state": []}
    for (code, kind), texts in sorted(phrases.items()):
        terms = tuple(sorted({parse_term(t) for t in texts}, key=lambda t: t.tokens))
        what = "head of government" if kind == "government" else "head of state"
        name = bare_names.get((code, kind)) or f"{what} of {countries[code]}"
        out[kind].append(Member(name, terms, note="by title"))
    return out


def _alternatives(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]
