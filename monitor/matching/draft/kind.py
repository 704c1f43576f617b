"""A watchlist for a kind of event: who (a class, or a name to keep), did what (an action class),
where (a place to keep), told in one sentence — the seeds are examples, not the target.

    the event    who + what + where in ONE sentence of the headline (1.0), of the opening (0.8), or
                 further down (0.3: a mention in passing is background, not news); when the name keeps a
                 place and the event is not a trip, the place may stand elsewhere in the opening
    bonuses      reads like the seeds (0.15); nearly the same text as a seed (1.0); a participant
                 of a kind that articles name rather than describe (a company) next to the event (0.1)
    penalties    the headline puts the event somewhere else; what the lexicon knows goes wrong for
                 this kind (a phone call is not a visit, a drill is not an earthquake)
    min_score    0.6: an event in the opening, or in the headline despite one penalty

Each slot the name leaves open stays open: "Elections" is any election anywhere.
"""

from __future__ import annotations

import re
from typing import Any

from monitor.matching.draft.analyse import SeedAnalysis
from monitor.matching.draft.build import ClassNames, Draft
from monitor.matching.draft.intent import Intent
from monitor.matching.draft.lexicon import ActorKind, EventKind, lexicon, match_at
from monitor.matching.draft.write import Commented
from monitor.matching.entities import EntityClass, builtin_classes
from monitor.matching.terms import parse_term

TITLE, LEAD, ANYWHERE = 1.0, 0.8, 0.3
SPLIT_TITLE, SPLIT_LEAD = 0.8, 0.6
SIMILAR, SIMILAR_WEIGHT = 0.3, 0.15
DUPLICATE = 0.6
SOFT_BONUS, CONTRAST_PENALTY, ELSEWHERE_PENALTY = 0.1, -0.5, -0.6
MIN_SCORE = 0.6
CONTEXT_WITHIN = 8
SPLIT_WITHIN = 6
FORMER_WITHIN = 2
OTHER_PLACE_WITHIN = 3
OTHER_COUNTRY_TERMS = 3
AFTER = "after"
_CLASS_KEYS = ("entity", "person", "place", "action", "org", "class")
_PLURAL = re.compile(r"(ies|es|s)$")
Cond = dict[str, Any]


class _Slots:
    """The conditions of one draft, and the classes it had to define for them."""

    def __init__(self, names: ClassNames) -> None:
        self.names = names
        self.classes: dict[str, Any] = {}
        self.notes: list[str] = []
        self.anchors: dict[int, str] = {}
        """Names for the conditions written more than once (the writer anchors them)."""

    def define(self, wanted: str, spec: Cond, comment: str) -> str:
        name = self.names.new(wanted)
        self.classes[name] = Commented(spec, (comment,))
        return name

    def name(self, value: Cond | None, name: str) -> Cond | None:
        if value is not None:
            self.anchors.setdefault(id(value), name)
            for item in value.values():
                if isinstance(item, list):
                    self.anchors.setdefault(id(item), name)
        return value


def draft_kind(analysis: SeedAnalysis, intent: Intent, name: str, seeds: list[str], header: list[str],
               names: ClassNames) -> Draft:
    slots = _Slots(names)
    who = slots.name(_who(intent, analysis, slots, soft=False), "who")
    extra = slots.name(_extra_words(intent, slots), "with")
    soft = slots.name(_who(intent, analysis, slots, soft=True), "kind_of_participant")
    where, presence = _where(intent, slots)
    where = slots.name(_not_after(where, intent), "where")
    what, modifiers = _what(intent, analysis, slots)
    slots.name(what, "what")
    core = [c for c in (who, extra, where, what) if c is not None] or [{"terms": list(intent.other_words) or [name]}]
    parts: list[Any] = [Commented(_event_tiers(core, who, where, what, presence, intent, slots), (
        "The event: " + " + ".join(_slot_names(who, where, what)) + ", in one sentence.",
        "Worth most in the headline, less in the opening sentences, little further down."))]
    parts.append(Commented({"label": "reads like the seeds", "similar_to_seeds": {"threshold": SIMILAR},
                            "weight": SIMILAR_WEIGHT}, ("A small bonus: the seeds' own words.",)))
    parts.append(Commented({"label": "nearly the same text as a seed", "similar_to_seeds": {"threshold": DUPLICATE},
                            "weight": 1.0}, ("The seeds themselves, and copies of them, always match.",)))
    if soft is not None and what is not None:
        parts += _soft_rules(soft, what, intent, slots)
    if modifiers and what is not None:
        parts.append(Commented({"label": "the name's other words next to the event", "near": [
            {"terms": modifiers}, what], "within": 5, "in": "lead", "weight": 0.2},
            ("From the name: its other words right next to the event's, in the opening.",)))
    other = _other_place(intent, slots) if where is not None else None
    if other is not None and what is not None and where is not None:
        parts.append(Commented({"label": "the headline puts the event somewhere else", "first": [
            {"near": [other, what], "within": OTHER_PLACE_WITHIN}, where], "in": "title",
            "weight": ELSEWHERE_PENALTY},
            ("A penalty: another place next to the event word, named before the place asked for.",)))
    parts += _penalties(intent, {"actor": who or soft, "place": where, "action": what, "other_place": other}, slots)
    if slots.notes:
        header[-2:-2] = slots.notes
    return Draft(name, f"{intent.name} (drafted from seed articles: review before relying on it)", header, seeds,
                 MIN_SCORE, {"sum": parts}, slots.classes,
                 match_comment=("How it decides: the comment on each rule says where it comes from.",),
                 anchors=slots.anchors)


def _ref(cls: EntityClass) -> Cond:
    return {cls.kind if cls.kind in _CLASS_KEYS else "class": cls.name}


def _either(conditions: list[Cond]) -> Cond | None:
    return None if not conditions else conditions[0] if len(conditions) == 1 else {"any": conditions}


def _who(intent: Intent, analysis: SeedAnalysis, slots: _Slots, *, soft: bool) -> Cond | None:
    conditions: list[Cond] = []
    builtin = builtin_classes()
    for actor in intent.actors:
        if actor.soft != soft:
            continue
        cond = _actor(actor, analysis, slots)
        if cond is None:
            continue
        if actor.exclude_near and actor.exclude_near in builtin:
            cond = {"near": [cond, {"not": {"class": actor.exclude_near}}], "within": FORMER_WITHIN}
        conditions.append(cond)
    if not soft:
        conditions += [{"person": cls.name} for cls in intent.people]
        for spec in intent.specifics:
            cls = slots.define(spec.text, {"kind": "entity", "label": spec.text, "inflect": True,
                                           "terms": list(spec.terms)},
                               f'From the name: "{spec.text}"' + (", as the seeds write it" if spec.in_seed else "")
                               + " (with its declined forms: Orbánnal, Orbána...).")
            conditions.append({"entity": cls})
    return _either(conditions)


def _extra_words(intent: Intent, slots: _Slots) -> Cond | None:
    """Words of the name that no kind explains ("hospitals" in "Cyberattacks on hospitals"): when the
    name also names an event, they must come with it (as written: add their translations)."""
    if not intent.events:
        return None
    known = [parse_term(t.lstrip("=")) for e in intent.events for t in (*e.terms, *e.ambiguous, *e.context)
             if t.strip("=*")]
    words = [w for w in intent.other_words if not any(match_at(t, [w], 0) for t in known)]
    if not words:
        return None  # "product" in "Product recalls": the event's own words already say it
    terms = sorted({_stem(w) for w in words})
    cls = slots.define("_".join(words)[:30], {"kind": "term", "label": " ".join(words), "terms": terms},
                       "From the name: words the lexicon does not know, required next to the event "
                       "(English only as drafted: add how other languages say it).")
    return {"class": cls}


def _actor(actor: ActorKind, analysis: SeedAnalysis, slots: _Slots) -> Cond | None:
    builtin = builtin_classes()
    if actor.builtin and actor.builtin in builtin:
        cls = builtin[actor.builtin]
        hit = analysis.hit(cls.name)
        if hit is not None:
            members = [m for m in hit.members if not m.startswith("head of")][:3] or list(hit.members[:2])
            slots.notes.append(f"The seeds' {', '.join(members)} ({cls.label}) became any {actor.label}.")
        return _ref(cls)
    if not actor.terms:
        slots.notes.append(f"No class for {actor.label} is available: that part of the name is left open.")
        return None
    kind = actor.kind if actor.kind in ("entity", "person", "org") else "entity"
    cls_name = slots.define(actor.key, {"kind": kind, "label": actor.label, "terms": list(actor.terms)},
                            f"From the name: any {actor.label}, in the EU's main languages.")
    return {kind: cls_name}


def _soft_rules(soft: Cond, what: Cond, intent: Intent, slots: _Slots) -> list[Any]:
    kinds = [a for a in intent.actors if a.soft]
    label = " or ".join(a.label for a in kinds)
    rules: list[Any] = [Commented({"label": f"a {label} next to the event", "near": [soft, what], "in": "lead",
                                   "weight": SOFT_BONUS},
                                  (f"From the name: articles name the {label} rather than say \"{label}\", "
                                   "so its words add a little instead of being required.",))]
    contrast = [t for a in kinds for t in a.contrast]
    if contrast:
        cls = slots.define("not_" + kinds[0].key, {"kind": "term", "label": f"not a {label}", "terms": contrast},
                           f"What a {label} is not: public bodies.")
        rules.append(Commented({"label": f"the opening puts the event at something other than a {label}",
                                "near": [{"class": cls}, what], "in": "lead", "weight": CONTRAST_PENALTY},
                               (f"A penalty: the name asks for a {label}, not a city, a ministry or a campaign.",)))
    return rules


def _where(intent: Intent, slots: _Slots) -> tuple[Cond | None, Cond | None]:
    """The place condition, and where being there is enough ("in Moscow") when the class exists."""
    conditions: list[Cond] = []
    presence: list[Cond] = []
    builtin = builtin_classes()
    lex = lexicon()
    for place in intent.places:
        if place.builtin is not None:
            conditions.append({"place": place.builtin.name})
            inside = builtin.get(f"in_{place.builtin.name}")
            if inside is not None:
                presence.append({"place": inside.name})
            continue
        assert place.kind is not None
        terms = lex.region_terms(place.kind) if place.region else list(place.kind.terms)
        name = slots.define(place.kind.key, {"kind": "place", "label": place.label, "terms": terms},
                            f"From the name: {place.label}" + (", any of its countries" if place.region else "")
                            + ", as articles write it.")
        conditions.append({"place": name})
    return _either(conditions), _either(presence)


def _not_after(where: Cond | None, intent: Intent) -> Cond | None:
    """For trips: not the place named just after "after" ("nach Moskau jetzt Peking"), where the
    language can say so (near: with ordered:) and the marker class exists."""
    if where is None or not _ordered() or AFTER not in builtin_classes():
        return where
    if not any(e.not_after for e in intent.events):
        return where
    previous = {"near": [{"class": AFTER}, where], "within": FORMER_WITHIN, "ordered": True}
    return {"near": [where, {"not": previous}], "within": 1}


def _what(intent: Intent, analysis: SeedAnalysis, slots: _Slots) -> tuple[Cond | None, list[str]]:
    conditions = [c for c in (_event(e, slots) for e in intent.events) if c is not None]
    if conditions:
        return _either(conditions), []
    words = list(intent.other_words)
    if not words:
        return None, []
    head, modifiers = words[-1], words[:-1]
    cls = slots.define(head, {"kind": "action", "label": head, "terms": [_stem(head)]},
                       f'From the name: "{head}" (no kind of event in the lexicon says it: add its other words).')
    return {"action": cls}, [_stem(m) for m in modifiers]


def _stem(word: str) -> str:
    if len(word) <= 4:
        return word
    stem = _PLURAL.sub("", word) if len(word) > 5 else word
    return (stem if len(stem) >= 4 else word) + "*"


def _event(event: EventKind, slots: _Slots) -> Cond | None:
    builtin = builtin_classes()
    cond: Cond
    if event.builtin and event.builtin in builtin:
        cond = _ref(builtin[event.builtin])
    elif event.terms:
        cls = slots.define(event.key, {"kind": "action", "label": event.label, "terms": list(event.terms)},
                           f"From the name: {event.label}, in the EU's main languages.")
        cond = {"action": cls}
        if event.ambiguous and event.context:
            context = slots.define(f"{event.key}_context", {"kind": "term", "label": f"{event.label} context",
                                                            "terms": list(event.context)},
                                   f"Words that tell {event.label} from other senses of its shorter words.")
            cond = {"any": [cond, {"near": [{"terms": list(event.ambiguous)}, {"class": context}],
                                   "within": CONTEXT_WITHIN}]}
    else:
        slots.notes.append(f"No class for {event.label} is available: that part of the name is left open.")
        return None
    if event.split:
        cond = {"any": [cond, {"near": [{"terms": list(part)} for part in event.split], "within": SPLIT_WITHIN,
                               "ordered": True} if _ordered() else
                        {"near": [{"terms": list(part)} for part in event.split], "within": SPLIT_WITHIN}]}
    if event.not_near:
        cond = {"near": [cond, {"not": {"terms": list(event.not_near)}}], "within": 1}
    return cond


def _ordered() -> bool:
    """Whether the watchlist language knows `ordered:` on near (words in the order given)."""
    from monitor.matching.syntax import MODIFIERS

    return "ordered" in MODIFIERS


def _near(parts: list[Cond]) -> Cond:
    return parts[0] if len(parts) == 1 else {"near": parts}


def _scoped(cond: Cond, scope: str | None, weight: float, label: str) -> Cond:
    out = {"label": label, **cond}
    if scope:
        out["in"] = scope
    out["weight"] = weight
    return out


def _event_tiers(core: list[Cond], who: Cond | None, where: Cond | None, what: Cond | None,
                 presence: Cond | None, intent: Intent, slots: _Slots) -> Cond:
    trip = any(e.presence for e in intent.events)
    ways = [_near(core)]
    if presence is not None and who is not None and trip:
        ways.append(_near([who, presence]))
    event = slots.name(ways[0] if len(ways) == 1 else {"any": ways}, "event")
    assert event is not None
    tiers = [_scoped(event, "title", TITLE, "in the headline"),
             _scoped(event, "lead", LEAD, "in the opening sentences"),
             _scoped(event, None, ANYWHERE, "further down")]
    rest = [c for c in (who, what) if c is not None]
    if where is not None and rest and not trip:
        tiers.insert(2, _scoped({"all": [{**_near(rest), "in": "title"}, {**where, "in": "lead"}]}, None, SPLIT_TITLE,
                                "in the headline, the place in the opening"))
        tiers.insert(3, _scoped({"all": [{**_near(rest), "in": "lead"}, {**where, "in": "lead"}]}, None, SPLIT_LEAD,
                                "in the opening, the place in another of its sentences"))
    return {"label": "the event", "any": tiers}


def _slot_names(who: Any, where: Any, what: Any) -> list[str]:
    return [n for n, c in (("who", who), ("where", where), ("what happened", what)) if c is not None] or ["the words"]


def _other_place(intent: Intent, slots: _Slots) -> Cond | None:
    """Places other than those the name keeps: built-in classes, or the lexicon's other countries."""
    kept_builtin = [p.builtin.name for p in intent.places if p.builtin is not None]
    kept_lexicon = {p.kind.key for p in intent.places if p.kind is not None and not p.region}
    lex = lexicon()
    for place in intent.places:
        if place.kind is not None and place.region:
            kept_lexicon.update(place.kind.countries)
    if kept_builtin:
        within = lex.within
        skip = set(kept_builtin) | {within[k] for k in kept_builtin if k in within}
        skip |= {k for k, v in within.items() if v in kept_builtin}
        others = [c.name for c in builtin_classes().values() if c.kind == "place" and c.name not in skip
                  and not c.name.startswith("in_") and c.name != "elsewhere"]
        if not others:
            return None
        name = slots.define("other_places", {"kind": "place", "label": "another place", "include": others},
                            "Other places (built-in classes): a headline about an event there is another story.")
        return {"place": name}
    if not kept_lexicon:
        return None
    terms = [t for key, place in lex.places.items() if key not in kept_lexicon
             for t in place.terms[:OTHER_COUNTRY_TERMS]]
    name = slots.define("other_countries", {"kind": "place", "label": "another country", "terms": terms},
                        "Other countries, by their most common names: an event there is not the one asked for.")
    return {"place": name}


def _penalties(intent: Intent, values: dict[str, Any], slots: _Slots) -> list[Any]:
    out: list[Any] = []
    known = set(builtin_classes()) | set(slots.classes)
    for event in intent.events:
        for penalty in event.penalties:
            if any(values.get(n) is None for n in penalty.needs):
                continue
            rule = _fill(penalty.rule, values)
            if rule is None or not _classes_known(rule, known):
                continue
            out.append(Commented({"label": penalty.label, **rule, "weight": penalty.weight},
                                 (f"A penalty the lexicon knows for {event.label}: {penalty.label}.",)))
    return out


def _fill(template: Any, values: dict[str, Any]) -> Any:
    if isinstance(template, str) and template.startswith("$"):
        return values.get(template[1:])
    if isinstance(template, dict):
        out = {}
        for k, v in template.items():
            filled = _fill(v, values)
            if filled is None:
                return None
            out[k] = filled
        return out
    if isinstance(template, list):
        items = [_fill(v, values) for v in template]
        return None if any(i is None for i in items) else items
    return template


def _classes_known(rule: Any, known: set[str]) -> bool:
    if isinstance(rule, dict):
        for k, v in rule.items():
            if k in _CLASS_KEYS and isinstance(v, str) and v not in known:
                return False
            if not _classes_known(v, known):
                return False
    if isinstance(rule, list):
        return all(_classes_known(v, known) for v in rule)
    return True
