"""A watchlist for the seed's own story: later reports of the same earthquake, trial or arrest.

Reports of one story and reports of another event of the same kind (another earthquake, another
rehab check-in, the same team's next coach) share most single words, and often the best-known
names too. What only reports of the same event share is its *phrases* ("eight-year offer", "Promises
Treatment Center") and its *particulars*: the lesser-known people and places, the ages, tolls and
amounts, the year. So the draft adds up, each as a graded cosine to the seeds (similarity.py):

    phrases   pairs of adjacent words, weighted by their rarity           × PHRASE_WEIGHT
    names     capitalised words and numbers, rare ones counting most      × NAME_WEIGHT
    the year  when the seeds are dated (a page's date, or a dateline at the top), an article dated
              the same year gains, and one dated another year or not at all must show more
    the day   the weekday the seeds' opening names, in the article's opening

and asks for MIN_SCORE. The constants were chosen on the even-numbered topics of ECB+
(bench/drafting_quality.py; each topic holds two different events of one kind, the hard negatives)
and are reported on the odd ones, which they never saw.
"""

from __future__ import annotations

from typing import Any

from monitor.matching.dates import dateline_years
from monitor.matching.draft.analyse import SeedAnalysis
from monitor.matching.draft.build import Draft
from monitor.matching.draft.names import Name
from monitor.matching.draft.write import Commented
from monitor.matching.similarity import SeedModel, build_seed_model, top

PHRASE_WEIGHT = 4.0
PHRASE_FLOOR = 0.02
NAME_WEIGHT = 1.0
NAME_FLOOR = 0.05
"""Below these cosines the similarity is noise: a shared "the company" or one common first name."""
YEAR_BONUS = 0.15
UNDATED_PENALTY = -0.35
DAY_WEIGHT = 0.2
MIN_SCORE = 0.55
SHOWN = 8
"""How many of the heaviest phrases and names each rule's comment lists."""
TOP_NAMES = 6
MIN_RARITY = 2.5
"""Names at least this rare (8 − Zipf) describe the story in the header: not "People" (Zipf 6.3)."""


def story_names(analysis: SeedAnalysis) -> list[Name]:
    return [n for n in analysis.names if n.rarity >= MIN_RARITY][:TOP_NAMES]


def story_years(analysis: SeedAnalysis) -> list[int]:
    """The years the seeds are dated to: a page's own date, else a dateline at the top ("Posted: May
    24, 2005"). A year further down ("the 1972 break-in") is the story's past, not its date."""
    found: list[int] = []
    for seed in analysis.seeds:
        years = [seed.published.year] if seed.published is not None else dateline_years(seed.full_text)
        found += [y for y in years if y not in found]
    return found


def draft_story(analysis: SeedAnalysis, name: str, seeds: list[str], header: list[str]) -> Draft:
    model = build_seed_model([s.full_text for s in analysis.seeds], analysis.lang)
    parts: list[Any] = [_phrases(model), _names(model)]
    years = story_years(analysis)
    if years:
        parts += _year_rules(years)
    if analysis.days:
        parts.append(Commented(
            {"label": "the weekday of the event", "terms": list(analysis.days), "in": "lead", "weight": DAY_WEIGHT},
            ("The seeds' opening names this day: reports of the same event name it in theirs.",)))
    match = {"sum": parts}
    return Draft(name, f"Later reports of the story in {', '.join(seeds)}", header, seeds, MIN_SCORE, match,
                 match_comment=(
                     "How it decides: the evidence below adds up (capped at 1) and must reach min_score.",
                     "Reports of another event of the same kind share the seeds' words, but few of their",
                     "phrases and particulars. All weights are yours to edit."))


def _phrases(model: SeedModel) -> Commented:
    shown = ", ".join(f'"{p}"' for p in top(model.phrases, SHOWN))
    reach = MIN_SCORE / PHRASE_WEIGHT
    return Commented(
        {"label": "phrases like the seeds'", "similar_to_seeds": {"by": "phrases", "threshold": PHRASE_FLOOR,
                                                                  "graded": True}, "weight": PHRASE_WEIGHT},
        ("The seeds' phrases in the article: TF-IDF cosine over pairs of adjacent words (0 to 1), times the",
         f"weight; {reach:.2f} alone reaches min_score. Another report of the same story shares them.",
         f"The seeds' heaviest: {shown}." if shown else "The seeds have no phrase rare enough to count."))


def _names(model: SeedModel) -> Commented:
    shown = ", ".join(top(model.names, SHOWN))
    return Commented(
        {"label": "names like the seeds'", "similar_to_seeds": {"by": "names", "threshold": NAME_FLOOR,
                                                                "graded": True}, "weight": NAME_WEIGHT},
        ("The seeds' names and numbers in the article (people, places, ages, tolls; the rarer the more they",
         "count): the particulars of this event, not of its kind.",
         f"The seeds' heaviest: {shown}." if shown else "The seeds capitalise no name and give no number."))


def _year_rules(years: list[int]) -> list[Commented]:
    said = " or ".join(map(str, years))
    return [
        Commented({"label": "dated like the story", "dated": list(years), "weight": YEAR_BONUS},
                  (f"The seeds are dated {said}: a report of the same story is too (its published date,",
                   "else a dateline at its top).")),
        Commented({"label": "not dated like the story", "not": {"dated": list(years)}, "weight": UNDATED_PENALTY},
                  ("An article dated another year, or not dated at all, needs more of the evidence above.",)),
    ]
