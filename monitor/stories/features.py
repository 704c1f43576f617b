"""Article → the features that say which event it reports: weighted terms, names and a text sketch.

Two independent reports of one event share little wording but the same particulars: who (names),
where (places), how many (numbers), and the rare words of the event itself ("firebomb", "rehab").
So each word is weighted by how rare it is in the article's language (wordfreq's Zipf scale: "the"
is 7.7, "police" 5.3, "rehab" 3.8, a surname 2 or less), names count more than other words, and
the title and the lead count more than the tail, where outlets add background and boilerplate.

Names are found without a tagger: a capitalised word that is not at a sentence start (or is rare
enough that its capital is not just the sentence's), and pairs of such words side by side
("Tara Reid", "Betty Ford"). Every term is folded (case, accents: "Orbán" → "orban"), so "Putin",
"Orban" and "Szijjártó" are the same word in every Latin-script language ("Moskau" and "Moscow" are
not: the anchors below link those).

Two reports of the same *kind* of event (two earthquakes, two arrests of players of one team) share
the event's words and often its main name, and differ in the particulars. So the features also keep
what tells such "sister" stories apart (see monitor.stories.group for how it is weighed): every name
the article mentions (to see that a name central to one report is absent from the other), the
numbers with the word beside them ("magnitude 5.6" against "magnitude 6.1", "aged 33" against "aged
36"), and the years it mentions.

Reports in different languages share few words and spell and decline their names otherwise
("Orbánnal", "Орбана"): for them the features keep language-neutral *anchors*, the known people,
places and kinds of event the article names and keys of its other names (monitor.stories.anchors).

The features are plain data and serialise to JSON, so the daemon computes them once per article,
stores them next to the article, and rebuilds its in-memory story index from the store.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from monitor.matching.text import Analysed, Field, fold
from monitor.stories.anchors import EntityMention, entity_mentions, latin, name_key
from monitor.stories.fingerprint import Sketch, sketch
from monitor.types import Article
from monitor.wordfreqs import LANGS, zipf_frequency

FEATURES_VERSION = 3
"""Bumped whenever the weighting changes, so stored features of another version are recomputed."""
_PARTICULARS_SINCE = 2
"""Version 1 had the same terms without the particulars: it is still read, as features with none, so
that the stories open when the monitor is upgraded stay whole (their reports are not re-alerted)."""
_ANCHORS_SINCE = 3
"""Versions 1 and 2 had no anchors: they are read as features without any (see `_PARTICULARS_SINCE`)."""

MAX_TERMS = 80
"""Terms kept per article: the tail of a long article adds noise and cost, not evidence."""

TITLE_WEIGHT = 3.0
"""A word in the title counts as much as three in the body: the headline says what happened."""
LEAD_WEIGHT = 3.0
LEAD_WORDS = 60
"""The first words of the body (who, what, where) count three times as much as the background below."""
MAX_ANCHORS = 40
"""Anchors kept per article: the names of the title and lead, not every name in the background."""
ANCHOR_POWER = 0.5
"""Anchor weights are flattened (square roots) before they are scaled to unit length, so that two
reports are alike by their anchors only when several agree: a famous name both give most weight to
(Trump, Putin) is not enough to make any two reports of its day one story.
"""
NUMBER_PREFIX = "#"
"""Numbers of two digits or more are anchors too ("#25": "25 percent", "25 процентов"); not years."""
ACTION_WEIGHT = 0.5
"""An event word ("visit", "phone call") weighs half a name as rare: it says what kind of event, not which."""
NAME_WEIGHT = 1.6
"""Names (people, places, organisations) weigh more than other words of the same rarity."""
PAIR_WEIGHT = 0.7
"""A two-word name ("tara reid") on top of its two words, which already carry most of its weight."""
RARITY_CEILING = 7.0
"""Zipf value at which a word carries no weight; a word never seen (zipf 0) weighs this much."""
RARITY_POWER = 1.5
"""Above 1, rare words gain on merely uncommon ones: "qeshm" says more than "island"."""
UNKNOWN_WORD_RARITY = 3.0
"""Ceiling on the weight of a lower-case word that no word list knows (see `_term_rarity`)."""
NUMBER_RARITY = (2.0, 4.0, 6.0)
"""Weight of a number of 1, 2, 3+ digits: a toll or a sum is a particular of its event, a digit hardly."""
YEAR_RARITY = 3.0
"""Years are everywhere in background sentences, so a year weighs less than a two-digit number."""
START_NAME_ZIPF = 3.5
"""A capitalised word at a sentence start counts as a name only when rarer than this."""
MID_NAME_ZIPF = 5.6
"""A capitalised word inside a sentence counts as a name unless very common ("People", "The")."""
MENTION_ZIPF = 5.5
"""Capitalised words rarer than this are kept as mentions: frequent ones ("He", "New") prove nothing."""
FIGURE_CONTEXT_ZIPF = 6.4
"""A number's neighbour names what it counts unless it is a function word ("of", "the", "und")."""
YEARS = range(1900, 2100)
WEEKDAY = "@weekday"
"""The context of the weekday "figure": "@weekday<4" is a Friday ("@" is never part of a word)."""
_WEEKDAY_NAMES = (
    "monday tuesday wednesday thursday friday saturday sunday",
    "montag dienstag mittwoch donnerstag freitag samstag sonntag",
    "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "lunes martes miercoles jueves viernes sabado domingo",
    "lunedi martedi mercoledi giovedi venerdi sabato domenica",
    "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",
    "mandag tirsdag onsdag torsdag fredag lordag sondag",
    "mandag tisdag onsdag torsdag fredag lordag sondag",
    "poniedzialek wtorek srode czwartek piatek sobote niedziele",
    "poniedzialek wtorek sroda czwartek piatek sobota niedziela",
    "hetfon kedden szerdan csutortokon penteken szombaton vasarnap",
    "hetfo kedd szerda csutortok pentek szombat vasarnap",
    "pondeli utery stredu ctvrtek patek sobotu nedeli",
    "понедельник вторник среду четверг пятницу субботу воскресенье",
    "понедельник вторник среда четверг пятница суббота воскресенье",
)
WEEKDAYS = {name: day for names in _WEEKDAY_NAMES for day, name in enumerate(names.split())}
"""Folded weekday names (and the forms "on Friday" takes in inflecting languages) → 0 for Monday."""

# Numbers keep their separators so that "35,000" is one token (and "6.1" one), not "35" and "000".
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+")
_SPLIT = re.compile(f"({_TOKEN.pattern})")
_SEPARATORS = str.maketrans("", "", ".,")
_SENTENCE_BREAK = re.compile(r"[.!?:;\n\"“”«»—–|]")
# wordfreq tokenises Chinese, Japanese and Korean with optional packages (jieba, MeCab) we do not
# install: for those we weigh words by the English list, where their words are all rare, as names are.
_NEEDS_EXTRA_TOKENIZER = frozenset({"zh", "ja", "ko"})
_LANGS = LANGS - _NEEDS_EXTRA_TOKENIZER
_NOUNS_CAPITALISED = frozenset({"de"})
"""German capitalises every noun: there a capital marks a name only when the word is rare too."""


@dataclass(frozen=True, slots=True)
class ArticleFeatures:
    """What story grouping knows of an article; `to_json`/`from_json` round-trip it exactly."""

    terms: tuple[tuple[str, float], ...]
    """Folded terms and their weights, heaviest first, scaled to unit length."""
    names: frozenset[str]
    """The terms that were written as names."""
    sketch: Sketch
    """MinHash of the body's word shingles, for syndicated copies."""
    mentions: frozenset[str] = frozenset()
    """Every folded word written with a capital anywhere in the article (common ones left out)."""
    figures: frozenset[str] = frozenset()
    """Numbers with a neighbouring word: "magnitude>56" (word after), "aged<33" (word before); and the
    weekdays named, as "@weekday<4": reports of one event name the day it happened on."""
    years: frozenset[int] = frozenset()
    """The years the article mentions."""
    lang: str = "en"
    """The word list it was weighed by (`wordlist_lang`): names are only missed in the same language.
    Empty for features stored before the particulars were: no name is missed in them."""
    anchors: tuple[tuple[str, float], ...] = ()
    """Language-neutral keys of the people, places and event words it names (monitor.stories.anchors)
    and their weights, heaviest first, scaled to unit length: what links it to reports in other
    languages."""

    def vector(self) -> dict[str, float]:
        return dict(self.terms)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": FEATURES_VERSION,
            "terms": [[t, w] for t, w in self.terms],
            "names": sorted(self.names),
            "sketch": list(self.sketch.hashes),
            "shingles": self.sketch.shingles,
            "mentions": sorted(self.mentions),
            "figures": sorted(self.figures),
            "years": sorted(self.years),
            "lang": self.lang,
            "anchors": [[a, w] for a, w in self.anchors],
        }

    @classmethod
    def from_json(cls, data: Any) -> ArticleFeatures:
        """Raises ValueError when `data` is not features of this version (recompute them then)."""
        version = data.get("v") if isinstance(data, dict) else None
        if version not in (FEATURES_VERSION, _ANCHORS_SINCE - 1, _PARTICULARS_SINCE - 1):
            raise ValueError(f"not story features of version {FEATURES_VERSION}")
        try:
            terms = tuple((str(t), float(w)) for t, w in data["terms"])
            names = frozenset(str(n) for n in data["names"])
            hashes = tuple(int(h) for h in data["sketch"])
            shingles = int(data["shingles"])
            if version < _PARTICULARS_SINCE:
                return cls(terms, names, Sketch(hashes, shingles), lang="")
            mentions = frozenset(str(m) for m in data["mentions"])
            figures = frozenset(str(f) for f in data["figures"])
            years = frozenset(int(y) for y in data["years"])
            lang = str(data["lang"])
            anchors: tuple[tuple[str, float], ...] = ()
            if version >= _ANCHORS_SINCE:
                anchors = tuple((str(a), float(w)) for a, w in data["anchors"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed story features: {exc}") from exc
        return cls(terms, names, Sketch(hashes, shingles), mentions, figures, years, lang, anchors)


def wordlist_lang(lang: str | None) -> str:
    """The wordfreq list to weigh an article's words by: its language's, else English."""
    if lang:
        primary = lang.replace("_", "-").split("-", 1)[0].lower()
        if primary in _LANGS:
            return primary
        if primary in ("nn", "no"):
            return "nb"
        if primary in ("sr", "hr", "bs"):
            return "sh"
    return "en"


@lru_cache(maxsize=200_000)
def _fold(word: str) -> str:
    return fold(word)


@lru_cache(maxsize=200_000)
def _zipf(word: str, lang: str) -> float:
    return float(zipf_frequency(word, lang))


@lru_cache(maxsize=200_000)
def rarity(word: str, lang: str) -> float:
    """How much a word (lower case, accents kept) says about an event: 0 for "the", most for a name.

    Numbers are weighed by length, not by wordfreq (which lumps all numbers of a length together):
    "3" is in every other article, "35000" is a particular.
    """
    if word.isdigit():
        if len(word) == 4 and word[:2] in ("19", "20"):
            return YEAR_RARITY
        return NUMBER_RARITY[min(len(word), len(NUMBER_RARITY)) - 1]
    # Scaled so that a word never seen weighs RARITY_CEILING whatever the power.
    rare = max(0.0, RARITY_CEILING - _zipf(word, lang))
    return float(rare ** RARITY_POWER / RARITY_CEILING ** (RARITY_POWER - 1))


def _is_title_case(title: str) -> bool:
    words = [w for w in _TOKEN.findall(title) if len(w) > 3 and not w.isdigit()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


@dataclass(slots=True)
class _Particulars:
    """What an article says in particular, gathered while its fields are scanned."""

    mentions: set[str]
    figures: set[str]
    years: set[int]


@lru_cache(maxsize=4096)
def _gap(gap: str) -> tuple[bool, bool]:
    """What the characters between two tokens say: (a sentence breaks here, the tokens are joined, by
    nothing but a space or a hyphen)."""
    return _SENTENCE_BREAK.search(gap) is not None, gap.strip() in ("", "-")


_NO_GAP = (False, True)


@dataclass(frozen=True, slots=True)
class _Word:
    """What `_scan` needs to know of a token, worked out once per spelling and language."""

    term: str
    """Folded, or a number without its separators."""
    lower: str
    alpha: bool
    """The token starts with a letter."""
    capital: float | None
    """Its lower case's Zipf value when it is capitalised (and not a number): a name if rare enough."""
    all_caps: bool
    short: bool
    """A one-character term that is not a number: not weighed."""
    weekday: int | None
    mention: bool
    """Capitalised and rarer than MENTION_ZIPF: a mention (see `_Particulars`)."""
    term_alpha: bool
    term_year: int | None
    term_context: bool
    """The term names what a number beside it counts (`_is_context`)."""


@lru_cache(maxsize=200_000)
def _word(raw: str, lang: str) -> _Word:
    alpha = raw[0].isalpha()
    term = _fold(raw) if alpha else raw.translate(_SEPARATORS)
    lower = raw.lower()
    capitalised = raw[0].isupper() and not raw.isdigit()
    capital = _zipf(lower, lang) if capitalised else None
    return _Word(
        term=term, lower=lower, alpha=alpha, capital=capital, all_caps=raw.isupper(),
        short=len(term) < 2 and not term.isdigit(),
        weekday=WEEKDAYS.get(term) if alpha else None,
        mention=alpha and raw[0].isupper() and _zipf(lower, lang) < MENTION_ZIPF,
        term_alpha=bool(term) and term[0].isalpha(), term_year=_year(term), term_context=_is_context(term, lang))


def _scan(text: str, lang: str, boost: float, lead_words: int, all_starts: bool,
          counts: dict[str, float], named: dict[str, int], words: list[str], surface: dict[str, str],
          particulars: _Particulars) -> None:
    """Add the terms of one field to `counts`, the name occurrences to `named`, folded words to `words`.

    `surface` keeps the first lower-case spelling of each folded term, to look its frequency up by:
    wordfreq knows "orbán" in Hungarian, not "orban". Run once per word of every article: what can
    be is worked out once per spelling (`_word`) and per gap between words (`_gap`).
    """
    previous_name: str | None = None
    previous: _Word | None = None
    """The word or number just before, when nothing but a space or a hyphen separates them."""
    position = 0
    at_start = True
    start_limit = lang in _NOUNS_CAPITALISED or all_starts
    lead_weight, tail_weight = boost * LEAD_WEIGHT, boost
    years, figures, mentions = particulars.years, particulars.figures, particulars.mentions
    # [gap, token, gap, token, ..., gap] from one C call: no match object per token
    pieces = iter(_SPLIT.split(text))
    for gap, raw in zip(pieces, pieces, strict=False):
        breaks, joined = _gap(gap) if gap else _NO_GAP
        if breaks:
            at_start = True
        if not joined:
            previous = None
        word = _word(raw, lang)
        term = word.term
        words.append(term)
        # The particulars: a year as a year, a number with the word beside it, a weekday as a figure of
        # its own, a capitalised word as a mention.
        if not word.alpha:
            if word.term_year is not None:
                years.add(word.term_year)
            elif previous is not None and previous.term_alpha and previous.term_context:
                figures.add(f"{previous.term}<{term}")
        else:
            if word.weekday is not None:
                figures.add(f"{WEEKDAY}<{word.weekday}")
            elif word.mention:
                mentions.add(term)
            if previous is not None and not previous.term_alpha and previous.term_year is None and word.term_context:
                figures.add(f"{term}>{previous.term}")
        previous = word
        weight = lead_weight if position < lead_words else tail_weight
        position += 1
        is_name = word.capital is not None and word.capital < (
            START_NAME_ZIPF if at_start or start_limit or word.all_caps else MID_NAME_ZIPF)
        at_start = False
        if word.short:
            previous_name = None
            continue
        surface.setdefault(term, word.lower)
        counts[term] += weight
        if is_name:
            named[term] += 1
            if previous_name is not None and joined:
                pair = f"{previous_name} {term}"
                counts[pair] += weight
                named[pair] += 1
            previous_name = term
        else:
            previous_name = None


def _year(term: str) -> int | None:
    """The year a token writes, if it is one (decimal digits only: "²" is a digit but no number)."""
    if len(term) == 4 and term.isdecimal() and int(term) in YEARS:
        return int(term)
    return None


def _is_context(word: str, lang: str) -> bool:
    return len(word) > 1 and _zipf(word, lang) < FIGURE_CONTEXT_ZIPF


def _term_rarity(term: str, lang: str, surface: dict[str, str], is_name: bool) -> float:
    if " " in term:
        first, second = term.split(" ", 1)
        pair = _term_rarity(first, lang, surface, True) + _term_rarity(second, lang, surface, True)
        return PAIR_WEIGHT * pair / 2
    # A lower-case word no list knows is more often a typo, a run-together pair of words or a URL
    # fragment ("gettingready", "itnewsafrica") than the key of an event: weigh it as merely rare.
    weight = rarity(surface.get(term, term), lang)
    return weight if is_name else min(weight, UNKNOWN_WORD_RARITY)


def _name_rarity(term: str, lang: str, surface: dict[str, str]) -> float:
    """A name's weight as an anchor: its rarity in the article's language, or in English if higher
    and the English list knows it. "Orbán" is a common word of Hungarian news and "Путин" of Russian,
    but that makes them no less the point of a report; a name English has never seen (a declined
    form, a German noun taken for a name) keeps its own language's weight."""
    own = _term_rarity(term, lang, surface, True)
    english = latin(term)
    if _zipf(english, "en") > 0.0:
        return max(own, rarity(english, "en"))
    return own


def extract(article: Article, doc: Analysed | None = None) -> ArticleFeatures:
    """The features of `article`; pure, and the same for the same title, text, language and day (a
    title such as "the Slovak prime minister" stands for whoever held the office that day). `doc` is
    `analyse(article)` when the caller has it already (the matcher reads the same)."""
    lang = wordlist_lang(article.lang)
    counts: dict[str, float] = defaultdict(float)
    named: dict[str, int] = defaultdict(int)
    surface: dict[str, str] = {}
    title_words: list[str] = []
    body_words: list[str] = []
    particulars = _Particulars(set(), set(), set())
    title = article.title or ""
    _scan(title, lang, TITLE_WEIGHT, 0, _is_title_case(title), counts, named, title_words, surface, particulars)
    _scan(article.text or article.summary or "", lang, 1.0, LEAD_WORDS, False, counts, named, body_words,
          surface, particulars)
    weights: list[tuple[str, float]] = []
    for term, count in counts.items():
        w = math.log1p(count) * _term_rarity(term, lang, surface, bool(named.get(term)))
        if named.get(term):
            w *= NAME_WEIGHT
        if w > 0.0:
            weights.append((term, w))
    weights.sort(key=lambda tw: (-tw[1], tw[0]))
    weights = weights[:MAX_TERMS]
    norm = math.sqrt(sum(w * w for _, w in weights)) or 1.0
    terms = tuple((t, round(w / norm, 5)) for t, w in weights)
    kept = {t for t, _ in terms}
    names = frozenset(t for t in named if t in kept)
    mentioned, covered = entity_mentions(article, doc)
    return ArticleFeatures(terms, names, sketch(body_words or title_words), frozenset(particulars.mentions),
                           frozenset(particulars.figures), frozenset(particulars.years), lang,
                           _anchors(mentioned, covered, lang, counts, named, surface))


def _anchors(mentioned: list[EntityMention], covered: frozenset[str], lang: str, counts: dict[str, float],
             named: dict[str, int], surface: dict[str, str]) -> tuple[tuple[str, float], ...]:
    """The article's anchors, weighed as its names are: by rarity, position and repetition.

    A known entity weighs what its English name weighs, whatever the language that named it: wordfreq
    finds "orbán" common in Hungarian and "путин" in Russian, and a name should not count for less in
    the reports of its own country. Other names weigh as `_name_rarity` says, each name key as its
    rarest spelling, repeated as often as all its spellings (the words of known entities left out).
    """
    boosted: dict[str, float] = defaultdict(float)
    rarest: dict[str, float] = defaultdict(float)
    for m in mentioned:
        boosted[m.key] += TITLE_WEIGHT if m.field == Field.TITLE else LEAD_WEIGHT if m.position < LEAD_WORDS else 1.0
        rarest[m.key] = max(rarest[m.key], rarity(m.name, "en") * (ACTION_WEIGHT if m.action else 1.0))
    for term in named:
        if " " in term or term in covered or term.isdigit() or term in WEEKDAYS:
            continue
        key = name_key(term, lang)
        boosted[key] += counts[term]
        rarest[key] = max(rarest[key], _name_rarity(term, lang, surface))
    for term, count in counts.items():
        if term.isdecimal() and len(term) > 1 and _year(term) is None:
            boosted[NUMBER_PREFIX + term] += count
            rarest[NUMBER_PREFIX + term] = rarity(term, lang)
    weights = sorted(((key, (math.log1p(boosted[key]) * rarest[key]) ** ANCHOR_POWER) for key in boosted),
                     key=lambda kw: (-kw[1], kw[0]))
    weights = [(k, w) for k, w in weights[:MAX_ANCHORS] if w > 0.0]
    norm = math.sqrt(sum(w * w for _, w in weights)) or 1.0
    return tuple((k, round(w / norm, 5)) for k, w in weights)
