"""When an article is dated: its published date, or failing that a dateline at the top of its text.

Reports of one story are written within days of each other, so the year an article is dated to
tells a later report of a 2013 fire from the 2008 fire at the same store. Feeds give most articles a
published date; pages saved as text (seeds, test sets) carry it as a dateline instead: "Posted: May
24, 2005", "21 July 2013 Last updated at 13:59 GMT", "27/09/2013-Turkmenistan to hold...". Only the
top of the text counts: further down, "On Oct. 10, 1972, ..." is the story's past, not its date.
Month names are English; numeric and ISO dates are read in any language.
"""

from __future__ import annotations

import re
from datetime import date

DATELINE_CHARS = 200
"""A dateline stands by the headline: the first characters of title and text."""
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+|\d{{1,2}}(?:st|nd|rd|th)?\.?\s+{_MONTH},?\s+|{_MONTH},?\s+"
    r"|\d{1,2}[/.-]\d{1,2}[/.-])((?:19|20)\d\d)\b|\b((?:19|20)\d\d)-\d\d-\d\d\b", re.IGNORECASE)
"""A date with its year: "November 20, 2012", "21 July 2013", "MAR. 14, 2013", "2/3/2009", "2012-04-05"."""


def dateline_years(text: str) -> list[int]:
    """The years of the dates at the top of `text`, in order, each once."""
    found: list[int] = []
    for a, b in DATE.findall(text[:DATELINE_CHARS]):
        year = int(a or b)
        if year not in found:
            found.append(year)
    return found


def article_years(published: date | None, title: str, text: str) -> tuple[frozenset[int], str]:
    """The years an article is dated to and where that comes from ("published", "dateline" or "")."""
    if published is not None:
        return frozenset({published.year}), "published"
    years = dateline_years(f"{title}\n{text}" if title else text)
    return frozenset(years), "dateline" if years else ""
