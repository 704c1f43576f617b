"""Declined forms of names, so that "Orbánnal", "Ficom", "Scholzem", "Орбана" find their person.

Most EU languages decline proper names: Hungarian adds suffixes (Orbánnal, Orbánt, Ficóval),
the Slavic languages add case endings (Orbána, Orbánem, Fica, Ficovi, Scholzowi) and make
possessives (Orbánova návštěva), the Baltic languages add their own (Orbanas, Orbāns), Finnish and
Estonian add case suffixes (Orbánin, Orbániga), Russian declines (Орбана, Путиным), Greek drops a
final ς (Τσίπρα), Irish puts an h before a vowel (hOrbán). Writing every form for every leader by hand
is error-prone, so we generate them here from the folded base form, one set of endings per language.

A generated form only counts in an article of a language whose rules made it (or of unknown
language): "fica" is the Slovak genitive of Fico and the Portuguese for "stays"; it finds Fico in a
Slovak article and nothing in a Portuguese one.
"""

from __future__ import annotations

from collections.abc import Iterable

VOWELS = frozenset("aeiouy")

_HU = ("t", "ot", "et", "nak", "nek", "hoz", "hez", "tol", "rol", "ra", "re", "ban", "ben", "ba", "be",
       "on", "en", "nal", "nel", "ert", "ig", "e", "ek", "eknak", "eknek", "kent", "val", "vel", "nek", "ja",
       "je", "at", "hoz")
_CS_SK = ("a", "ovi", "em", "om", "e", "u", "ov", "ova", "ovo", "ovu", "ovy", "ove", "oveho", "ovho",
          "ovom", "ovej", "ovou", "ovym", "ovych", "ovim", "ovu", "ovcov")
_PL = ("a", "owi", "em", "ie", "u", "y", "owie", "ow", "ami", "ach", "om", "owa", "owy")
_SOUTH_SLAVIC = ("a", "u", "om", "em", "e", "i", "ov", "ova", "ovo", "ovu", "ove", "ovom", "ovim", "ovih",
                 "ovega", "ovemu")
_SLAVIC_VOWEL_STEM = ("a", "ovi", "om", "em", "u", "e", "y", "owi", "ou", "ova", "ove", "ovo", "ovu", "ovy",
                      "ovej", "ovom", "ovho")
_CS_SK_FEMININE = ("ova", "ove", "ovou", "ovej")
_LT = ("as", "o", "ui", "a", "u", "e", "is", "io", "iui", "us", "aus", "ui")
_LV = ("s", "a", "am", "u", "is", "im", "a")
_ET = ("i", "ile", "iga", "ist", "il", "is", "isse", "ni", "ga", "le", "st", "l", "s", "sse", "lt")
_FI = ("in", "ia", "ille", "illa", "ilta", "ista", "issa", "iin", "iksi", "n", "a", "lle", "lla", "lta",
       "sta", "ssa", "ksi", "ta", "han", "hon", "seen")
_GENITIVE_S = ("s",)
_RU_CONSONANT = ("а", "у", "ом", "ем", "е", "ым", "ои")
_RU_SOFT = ("я", "ю", "ем", "е")
_RU_A = ("ы", "и", "е", "у", "ои")

LATIN_LANGS = {
    "hu": _HU, "cs": _CS_SK, "sk": _CS_SK, "pl": _PL, "hr": _SOUTH_SLAVIC, "sl": _SOUTH_SLAVIC,
    "sr": _SOUTH_SLAVIC, "bs": _SOUTH_SLAVIC, "lt": _LT, "lv": _LV, "et": _ET, "fi": _FI,
    "de": _GENITIVE_S, "nl": _GENITIVE_S, "sv": _GENITIVE_S, "da": _GENITIVE_S, "en": _GENITIVE_S,
    "lb": _GENITIVE_S, "no": _GENITIVE_S,
}
SLAVIC = frozenset({"cs", "sk", "pl", "hr", "sl", "sr", "bs"})
CYRILLIC_DECLINING = frozenset({"ru", "uk", "be"})

Forms = dict[str, frozenset[str] | None]
"""A form → the article languages it counts in (None: every language)."""

_LANG_SETS: dict[frozenset[str], frozenset[str]] = {}


def _shared(langs: Iterable[str]) -> frozenset[str]:
    """One frozenset per distinct set of languages: the 45,000 declined forms of the shipped leaders
    share a few dozen sets, which as copies took 10 MiB of the daemon's memory."""
    key = frozenset(langs)
    return _LANG_SETS.setdefault(key, key)


def latin_forms(word: str, *, feminine: bool = False) -> Forms:
    """Declined forms of one folded Latin-script word (a surname, or a first name in a full name)."""
    out: dict[str, set[str]] = {}

    def add(form: str, lang: str) -> None:
        if form != word and len(form) > 2:
            out.setdefault(form, set()).add(lang)

    ends_vowel = word[-1:] in VOWELS
    for lang, endings in LATIN_LANGS.items():
        if lang in SLAVIC and (feminine or ends_vowel):
            continue
        if lang == "hu":
            for e in endings:
                add(word + e, lang)
            if not ends_vowel:
                # -val/-vel assimilates to the last consonant: Orbánnal, Scholzcal, Ciprasszal.
                for vowel in ("al", "el"):
                    add(word + word[-1] + vowel, lang)
                    if len(word) > 2 and word[-2:] in _HU_DIGRAPHS:
                        add(word + word[-2] + word[-2:] + vowel, lang)
            continue
        for e in endings:
            add(word + e, lang)
    if ends_vowel and not feminine:
        stem = word[:-1]
        for lang in SLAVIC:
            for e in _SLAVIC_VOWEL_STEM:
                add(stem + e, lang)
            add(word + "vi", lang)
            add(word + "m", lang)
    if feminine:
        for lang in ("cs", "sk"):
            base = word[:-1] if word.endswith(("a", "e")) else word
            for e in _CS_SK_FEMININE:
                add(base + e, lang)
    if word[:1] in VOWELS:
        add("h" + word, "ga")
    return {form: _shared(langs) for form, langs in out.items()}


_HU_DIGRAPHS = frozenset({"sz", "zs", "cs", "ly", "ny", "ty", "gy", "dz"})


def cyrillic_forms(word: str, lang: str) -> Forms:
    """Russian (and Ukrainian, Belarusian) case forms of a folded Cyrillic name; Bulgarian does not decline."""
    if lang not in CYRILLIC_DECLINING:
        return {}
    langs = _shared(CYRILLIC_DECLINING | {"bg"})
    last = word[-1:]
    if last in ("ь", "и"):  # folded й is и
        endings: Iterable[str] = _RU_SOFT
        stem = word[:-1]
    elif last == "а" or last == "я":
        endings, stem = _RU_A, word[:-1]
    elif last in "оеиуыэю":
        return {}
    else:
        endings, stem = _RU_CONSONANT, word
    return {stem + e: langs for e in endings if stem + e != word}


def greek_forms(word: str) -> Forms:
    """Greek drops the final ς of masculine names outside the nominative (Τσίπρας → Τσίπρα)."""
    if word.endswith("σ") and len(word) > 3:
        return {word[:-1]: _shared({"el"})}
    return {}


def baltic_forms(word: str, lang: str) -> Forms:
    """Case forms of a name already written the Lithuanian (Orbanas) or Latvian (Orbāns) way."""
    langs = _shared({lang})
    if lang == "lt":
        for nominative in ("as", "is", "us", "a", "e"):
            if word.endswith(nominative) and len(word) > len(nominative) + 2:
                stem = word[: -len(nominative)]
                return {stem + e: langs for e in _LT if stem + e != word}
        return {}
    if lang == "lv":
        if word.endswith("s") and len(word) > 3:
            stem = word[:-1]
            return {stem + e: langs for e in ("a", "am", "u", "i", "im", "iem") if stem + e != word}
        if word.endswith("e") and len(word) > 3:
            stem = word[:-1]
            return {stem + e: langs for e in ("es", "ei", "i") if stem + e != word}
    return {}


def is_cyrillic(word: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in word)


def is_greek(word: str) -> bool:
    return any("\u0370" <= ch <= "\u03ff" for ch in word)


def forms_of(word: str, lang: str | None, *, feminine: bool = False) -> Forms:
    """Every declined form of `word` (folded), for a name given for `lang` (None: a Latin-script name
    used in every language)."""
    if is_cyrillic(word):
        return cyrillic_forms(word, lang or "ru")
    if is_greek(word):
        return greek_forms(word)
    if lang in ("lt", "lv"):
        return baltic_forms(word, lang)
    return latin_forms(word, feminine=feminine)
