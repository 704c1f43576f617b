"""The language of a page: what the page declares, else a guess from its words.

trafilatura only reports a language when py3langid is installed and a target language is given, so
the page's own declaration comes first (<html lang>, og:locale, Content-Language), and the guess
uses what the project already ships: wordfreq's most frequent words of each language, scored
against the text's words. The words a language uses most ("the", "und", "les", "и") tell
languages apart after a sentence or two, and the script alone settles Japanese, Korean, Chinese,
Greek, Hebrew and Thai.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import cache

import wordfreq
from wordfreq.numbers import has_digit_sequence

from monitor.parse.html import language_tag

_HTML_TAG = re.compile(r"<html\b[^>]*>", re.I)
_META_TAG = re.compile(r"<meta\b[^>]*>", re.I)
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_LANG_METAS = frozenset({"og:locale", "content-language", "language", "dc.language", "dcterms.language"})
# Languages of wordfreq's "small" lists written with spaces between words; each is scored by the
# share of the text's words among its 120 most frequent ones.
_SPACED = (
    "ar", "bg", "ca", "cs", "da", "de", "en", "es", "fa", "fi", "fr", "he", "hu", "id", "is", "it", "lt",
    "lv", "mk", "ms", "nb", "nl", "pl", "pt", "ro", "ru", "sh", "sk", "sl", "sv", "tr", "uk", "vi",
)
_TOP = 120
_WORD = re.compile(r"[^\W\d_]+")
_HEAD = 8192
_META_SPAN = 65536


def _attributes(tag: str) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _ATTR.finditer(tag)}


def declared_language(page: str) -> str | None:
    """The language the page declares for itself, as a primary subtag ('en'), or None."""
    head = page[:_HEAD]
    html_tag = _HTML_TAG.search(head)
    if html_tag:
        attributes = _attributes(html_tag.group(0))
        if tag := language_tag(attributes.get("lang") or attributes.get("xml:lang")):
            return tag
    for meta in _META_TAG.findall(page[:_META_SPAN]):
        attributes = _attributes(meta)
        names = (attributes.get(k, "") for k in ("property", "name", "http-equiv"))
        key = next((n for n in names if n), "").lower()
        if key in _LANG_METAS and (tag := language_tag(attributes.get("content", "").split(",")[0])):
            return tag
    return None


@cache
def _profiles() -> dict[str, frozenset[str]]:
    files = wordfreq.available_languages("small")
    return {lang: frozenset(_top_words(files[lang])) for lang in _SPACED}


def _top_words(path: str) -> list[str]:
    """The `_TOP` most frequent words of a wordfreq list file: what `wordfreq.top_n_list` gives, read
    without its cache, which keeps every word of every list it opened (104 MiB for these 33 lists,
    in the daemon and again in each extraction worker) for the sake of 120 words each."""
    words: list[str] = []
    for band in wordfreq.read_cBpack(path):  # bands of equal frequency, most frequent first
        words.extend(word for word in band if not has_digit_sequence(word))
        if len(words) >= _TOP:
            break
    return words[:_TOP]


def _script_language(text: str) -> str | None:
    sample = text[:4000]
    if not sample or max(sample) < "\u0370":  # nothing past Latin: none of the scripts below
        return None
    counts: Counter[str] = Counter()
    for char in sample:
        if char.isalpha():
            name = unicodedata.name(char, "")
            counts[name.split(" ")[0]] += 1
    letters = sum(counts.values())
    if not letters:
        return None
    if (counts["HIRAGANA"] + counts["KATAKANA"]) / letters > 0.05:
        return "ja"
    if counts["HANGUL"] / letters > 0.3:
        return "ko"
    if counts["CJK"] / letters > 0.3:
        return "zh"
    for script, lang in (("GREEK", "el"), ("HEBREW", "he"), ("THAI", "th")):
        if counts[script] / letters > 0.5:
            return lang
    return None


def guess_language(text: str) -> str | None:
    """A best guess at the language of `text`, or None when it is too short to tell."""
    by_script = _script_language(text)
    if by_script is not None:
        return by_script
    words = _WORD.findall(text[:20000].lower())
    if len(words) < 8:
        return None
    counts = Counter(words)
    scores = {lang: sum(n for word, n in counts.items() if word in top) for lang, top in _profiles().items()}
    best = max(scores, key=lambda lang: scores[lang])
    # A real text has a fifth or more of its words among its language's most frequent ones.
    if scores[best] < max(3, len(words) // 10):
        return None
    return "hr" if best == "sh" else best


def page_language(page: str, text: str) -> str | None:
    """What the page declares, else a guess from the extracted text."""
    return declared_language(page) or guess_language(text)
