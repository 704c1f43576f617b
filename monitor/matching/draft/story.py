"""A watchlist for the seed's own story: later reports of the same earthquake, trial or arrest.

Reports of one story share its names (people, places, organisations) and read alike; reports of
another event of the same kind (another earthquake, another rehab check-in) read alike too, but name
other people and places. So the draft asks for both:

    gate     the article reads at least a little like the seeds (TF-IDF cosine ≥ GATE)
    score    how much more alike (two steps of similarity) + the seeds' names it mentions, each by how
             much the seeds are about it (named often, early, in the headline, and rare), counting more
             in the article's headline and opening sentences + the weekday of the event in the lead

The constants were chosen on the even-numbered topics of ECB+ (bench/drafting_quality.py: each
topic holds two different events of one kind, the hard negatives) and are reported on the odd ones.
"""

from __future__ import annotations

from typing import Any

from monitor.matching.draft.analyse import SeedAnalysis
from monitor.matching.draft.build import Draft, rounded
from monitor.matching.draft.names import Name, name_terms
from monitor.matching.draft.write import Commented

GATE = 0.15
STEPS = (0.25, 0.45)
STEP_WEIGHT = 0.3
NAME_WEIGHT = 0.2
LEAD_WEIGHT = 0.6
DAY_WEIGHT = 0.1
MIN_SCORE = 0.4
TOP_NAMES = 6
MIN_RARITY = 2.5
"""Names at least this rare (8 − Zipf): "People" (Zipf 6.3) is not a name to follow a story by."""
KEYWORDS_WITHOUT_NAMES = 4


def story_names(analysis: SeedAnalysis) -> list[Name]:
    return [n for n in analysis.names if n.rarity >= MIN_RARITY][:TOP_NAMES]


def draft_story(analysis: SeedAnalysis, name: str, seeds: list[str], header: list[str]) -> Draft:
    names = story_names(analysis)
    anchors: dict[int, str] = {}
    parts: list[Any] = [
        Commented({"label": "reads like the seed", "similar_to_seeds": {"threshold": STEPS[0]}, "weight": STEP_WEIGHT},
                  ("Similarity to the seeds (TF-IDF cosine, 0 to 1), in two steps.",)),
        Commented({"label": "reads much like the seed", "similar_to_seeds": {"threshold": STEPS[1]},
                   "weight": STEP_WEIGHT}, ("Another report of the same story often reads this much alike.",)),
    ]
    if names:
        total = sum(n.salience for n in names)
        for n in names:
            share = n.salience / total
            parts.append(Commented(_name_rule(n, share, analysis.lang, anchors), (_where(n),)))
    else:
        keywords = analysis.keywords[:KEYWORDS_WITHOUT_NAMES]
        for k in keywords:
            share = 1.0 / len(keywords)
            rule = {"label": f'the word "{k.word}"', "any": [
                {"terms": [k.word], "in": "lead", "weight": rounded((NAME_WEIGHT + LEAD_WEIGHT) * share)},
                {"terms": [k.word], "weight": rounded(NAME_WEIGHT * share)}]}
            parts.append(Commented(rule, ("The seeds name no one: one of their rarest words.",)))
    if analysis.days:
        parts.append(Commented(
            {"label": "the weekday of the event", "terms": list(analysis.days), "in": "lead", "weight": DAY_WEIGHT},
            ("The seeds' opening names this day: reports of the same event name it in theirs.",)))
    match = {"all": [
        Commented({"label": "reads at least a little like the seed", "similar_to_seeds": {"threshold": GATE}},
                  ("Required: an article with little in common with the seeds is another story.",)),
        Commented({"sum": parts},
                  ("Then the evidence adds up (capped at 1): closer similarity, and the seeds' names,",
                   "each weighted by how much the seeds are about it, more when in the headline or opening.")),
    ]}
    return Draft(name, f"Later reports of the story in {', '.join(seeds)}", header, seeds, MIN_SCORE, match,
                 match_comment=("How it decides: read the comment on each rule; all weights are yours to edit.",),
                 anchors=anchors)


def _name_rule(n: Name, share: float, lang: str, anchors: dict[int, str]) -> dict[str, Any]:
    terms = name_terms(n, lang)
    anchors[id(terms)] = " ".join(n.key)
    return {"label": n.text, "any": [
        {"terms": terms, "in": "lead", "weight": rounded((NAME_WEIGHT + LEAD_WEIGHT) * share)},
        {"terms": terms, "weight": rounded(NAME_WEIGHT * share)},
    ]}


def _where(n: Name) -> str:
    times = "once" if n.mentions == 1 else f"{n.mentions} times"
    where = "in the headline" if n.in_title else ("in the opening" if n.first_sentence <= 1 else "further down")
    forms = " / ".join(sorted(set(n.forms.values()), key=len, reverse=True))
    return f"From the seeds: {forms} — named {times}, first {where}."
