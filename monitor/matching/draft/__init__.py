"""Drafting a watchlist from seed articles (`monitor watchlist new`): commented YAML, ready to edit.

    read.py      seed files → Seed (clear errors for missing, binary or empty files)
    names.py     the names an article is about (runs of capitalised words, grouped, ranked)
    analyse.py   seeds → who, what, where: names, built-in classes met, distinctive words (wordfreq)
    lexicon.py   data/kinds.yaml: kinds of event, participant and place a name can ask for
    intent.py    the watchlist's name → a kind of event (generalise) or the seed's own story
    kind.py      the draft for a kind of event; story.py the draft for the seed's story
    build.py     the file's frame, class names that collide with nothing; write.py the YAML text

The draft must load and must match its own seeds: both are checked before the text is returned.
"""

from __future__ import annotations

from pathlib import Path

from monitor.errors import ConfigError
from monitor.matching.draft.analyse import SeedAnalysis, analyse_seeds
from monitor.matching.draft.build import ClassNames, Draft, project_dir, seed_paths
from monitor.matching.draft.intent import Intent, read_name
from monitor.matching.draft.kind import draft_kind
from monitor.matching.draft.read import Seed, read_seeds
from monitor.matching.draft.story import draft_story, story_names
from monitor.matching.draft.write import document
from monitor.types import Problem

__all__ = ["draft_watchlist"]


def draft_watchlist(seeds: list[Path], *, name: str | None, out: Path) -> str:
    """The YAML text of a watchlist drafted from `seeds`, for the file `out` (seed paths are written
    relative to the folder above out's folder, as load.py resolves them). Raises ConfigError naming
    the seed file when a seed cannot be read or has no text."""
    read = read_seeds(list(seeds))
    analysis = analyse_seeds(read)
    intent = read_name(name, analysis)
    title = (name or "").strip() or _story_title(analysis)
    header = _header(title, intent, analysis)
    paths = seed_paths([s.path for s in read], out)
    if intent.story:
        draft = draft_story(analysis, title, paths, header)
    else:
        draft = draft_kind(analysis, intent, title, paths, header, ClassNames(out))
    text = document(draft.header, draft.body(), draft.anchors)
    _check(text, draft, read, out)
    return text


def _story_title(analysis: SeedAnalysis) -> str:
    seed = analysis.seeds[0]
    headline = seed.title or seed.text.split("\n", 1)[0]
    return headline[:80].rstrip() or seed.path.stem


def _header(title: str, intent: Intent, analysis: SeedAnalysis) -> list[str]:
    lines = [title, "", "Drafted by `monitor watchlist new` from " + ", ".join(s.path.name for s in analysis.seeds) + "."]
    lines += ["How the name was read:"] + [f"  {r}" for r in intent.read]
    who = [n.text for n in story_names(analysis)[:5]]
    if who:
        lines.append("The seeds are about: " + ", ".join(who) + ".")
    met = _classes_met(analysis)
    if met:
        lines.append("Built-in classes in their opening: " + "; ".join(met) + ".")
    lines += ["Test it before trusting it: monitor watchlist test THIS_FILE --articles FILE.jsonl --labels LABELS.jsonl",
              ""]
    return lines


def _classes_met(analysis: SeedAnalysis, limit: int = 6) -> list[str]:
    """`class: members` for the people and places the seeds' openings name, one line per group of
    members (eu_head_of_government is not repeated next to eu_head_of_government_or_state)."""
    hits = [h for h in analysis.classes.values() if h.in_lead and h.cls.kind in ("entity", "person", "place", "org")]
    shown: list[str] = []
    seen: list[set[str]] = []
    for hit in sorted(hits, key=lambda h: (-len(h.members), -len(h.cls.name))):
        members = {m for m in hit.members if not m.startswith(("head of ", "in "))}
        if not members or any(members <= s for s in seen):
            continue
        seen.append(members)
        shown.append(f"{hit.cls.name} ({', '.join(sorted(members)[:3])})")
    return shown[:limit]


def _check(text: str, draft: Draft, seeds: list[Seed], out: Path) -> None:
    """The draft loads, and every seed matches it: a draft that misses its own example is wrong."""
    from monitor.matching import Matcher, watchlist_from_text

    watchlist = watchlist_from_text(text, path=out, project_dir=project_dir(out))
    verdicts = [Matcher([watchlist]).evaluate(seed.as_article())[0] for seed in seeds]
    missed = [seed for seed, verdict in zip(seeds, verdicts, strict=True) if not verdict.matched]
    if missed:
        raise ConfigError([Problem(str(seed.path), None, None, "the drafted watchlist does not match this seed: "
                                   "it has too few words to draft from") for seed in missed])
