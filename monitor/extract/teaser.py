"""Is the text a page gave us the article, or the teaser in front of a paywall or login wall?

Users are told next to every match whether it was made on the full text, so a wrong FULL hides
that a watchlist term may sit behind the paywall. Three signals, each with a length limit, because
long texts behind "Already a subscriber? Log in" headers are still whole articles:

* a paywall sentence in the last part of the extracted text ("Subscribe to continue reading"),
* a paywall sentence anywhere in the page, when the text is short,
* schema.org markup saying the article is not free (``"isAccessibleForFree": false``, Google's
  documented paywall markup), when the text is short.
"""

from __future__ import annotations

import re

# Lower-case, with straight apostrophes; matched on whitespace-collapsed text.
PAYWALL_PHRASES = (
    # English
    "subscribe to continue reading", "subscribe to keep reading", "subscribe to read the full",
    "subscribe to read more", "subscribe now to continue", "subscribe to unlock",
    "to continue reading, subscribe", "this article is for subscribers",
    "this article is only available to subscribers", "this content is for subscribers",
    "this content is only available to subscribers", "available to subscribers only",
    "for subscribers only", "exclusive to subscribers", "subscriber-only", "subscriber exclusive",
    "already a subscriber? log in", "already a subscriber? sign in",
    "you have reached your limit of free articles", "you've reached your limit of free articles",
    "you have reached your free article limit", "you've reached your free article limit",
    "you have read all your free articles", "create a free account to continue reading",
    "register to continue reading", "sign in to continue reading", "log in to continue reading",
    "log in or subscribe to continue", "unlock this article", "become a member to read",
    "to read the full story, subscribe", "the rest of this article is for subscribers",
    # German
    "nur für abonnenten", "exklusiv für abonnenten", "dieser artikel ist nur für abonnenten",
    "dieser artikel ist exklusiv", "jetzt abonnieren und weiterlesen", "jetzt weiterlesen mit",
    "um diesen artikel zu lesen", "um den vollständigen artikel zu lesen", "sie sind bereits abonnent",
    "bereits abonnent? hier anmelden", "abonnieren sie, um weiterzulesen", "abopflichtiger inhalt",
    # French
    "réservé aux abonnés", "cet article est réservé", "article réservé à nos abonnés",
    "la suite est réservée aux abonnés", "abonnez-vous pour lire la suite",
    "déjà abonné ? connectez-vous", "il vous reste 0 article",
    # Spanish
    "solo para suscriptores", "exclusivo para suscriptores", "contenido exclusivo para suscriptores",
    "suscríbete para seguir leyendo", "suscríbete para continuar leyendo", "¿ya eres suscriptor?",
    "hazte suscriptor para",
    # Italian
    "riservato agli abbonati", "contenuto riservato agli abbonati", "articolo riservato agli abbonati",
    "abbonati per continuare a leggere", "sei già abbonato?",
    # Portuguese
    "exclusivo para assinantes", "conteúdo exclusivo para assinantes", "assine para continuar lendo",
    "já é assinante?",
    # Dutch
    "alleen voor abonnees", "word abonnee en lees verder", "log in om verder te lezen",
    "dit artikel is alleen beschikbaar voor abonnees", "al abonnee? log in",
    # Swedish, Danish, Norwegian
    "endast för prenumeranter", "bli prenumerant för att läsa", "redan prenumerant?",
    "kun for abonnenter", "er du allerede abonnent?",
    # Polish, Czech, Hungarian, Russian
    "tylko dla subskrybentów", "tylko dla prenumeratorów", "wykup subskrypcję, aby czytać",
    "pouze pro předplatitele", "jen pro předplatitele", "csak előfizetőknek", "előfizetéssel olvasható",
    "только для подписчиков", "оформите подписку, чтобы",
)
_PHRASES = re.compile("|".join(re.escape(p) for p in sorted(PAYWALL_PHRASES, key=len, reverse=True)))
_NOT_FREE = re.compile(r"[\"']?isAccessibleForFree[\"']?\s*[:=]\s*[\"']?(?:false|False|FALSE)\b")
_CONTENT_TIER = re.compile(
    r"<meta\b[^>]*(?:article:content_tier|content-tier)[^>]*content\s*=\s*[\"']locked", re.I
)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00a0": " ", "\u202f": " "})

TAIL = 700
"""Characters at the end of the text where a paywall sentence counts whatever the text's length."""
SHORT_TEXT = 1500
"""A text shorter than this is suspect when the page around it shows a paywall."""
LONG_TEXT = 4000
"""A text longer than this is taken as the article even with a paywall sentence at its end."""


def _normal(text: str) -> str:
    return " ".join(text.translate(_QUOTES).lower().split())


def paywall_phrase(text: str) -> str | None:
    """The first paywall sentence in `text`, or None."""
    found = _PHRASES.search(_normal(text))
    return found.group(0) if found else None


def teaser_reason(text: str, page: str) -> str | None:
    """Why `text` (extracted from `page`) looks like a paywall teaser, or None if it does not."""
    if len(text) < LONG_TEXT and (phrase := paywall_phrase(text[-TAIL:])):
        return f"paywall text at the end: {phrase!r}"
    if len(text) < SHORT_TEXT:
        if _NOT_FREE.search(page) or _CONTENT_TIER.search(page):
            return "the page marks the article as not free"
        if phrase := paywall_phrase(_visible_sample(page)):
            return f"paywall text on the page: {phrase!r}"
    return None


_SCRIPT_STYLE = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")


def _visible_sample(page: str) -> str:
    """The page's text without markup; rough, but enough to look for a sentence in it."""
    return _TAGS.sub(" ", _SCRIPT_STYLE.sub(" ", page))
