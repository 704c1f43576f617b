"""`dated:` — the year an article is dated to: its published date, else a dateline at its top."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from monitor.errors import ConfigError
from monitor.matching import Matcher, watchlist_from_text
from monitor.matching.dates import article_years, dateline_years
from monitor.types import Article


def _matches(match: str, article: Article) -> bool:
    return Matcher([watchlist_from_text(f"name: t\nmatch: {match}\n")]).evaluate(article)[0].matched


def _art(title: str, text: str, published: datetime | None = None) -> Article:
    return Article(url="https://news.example.org/a", title=title, text=text, lang="en", published=published)


@pytest.mark.parametrize(("top", "years"), [
    ("Posted: May 24, 2005\nBilly King spun the revolving door again.", [2005]),
    ("18 September 2013 Last updated at 13:59 GMT", [2013]),
    ("MAR. 14, 2013, 8:15 PM", [2013]),
    ("27/09/2013-Turkmenistan to hold first-ever parliamentary elections", [2013]),
    ("published: 2012-04-05", [2012]),
    ("Greece rocked by clashes on Saturday December 13 2008 in Athens", [2008]),
    ("The 2008 season was long; 2,000 fans came.", []),
])
def test_datelines_are_dates_with_their_year(top: str, years: list[int]) -> None:
    assert dateline_years(top) == years


def test_a_date_far_below_the_headline_is_the_story_past() -> None:
    text = "Lawman's compass led him to a showdown\n" + "W. Mark Felt, the FBI man, died. " * 8 + \
           "On Tuesday, Oct. 10, 1972, Washington woke up."
    assert dateline_years(text) == []


def test_the_published_date_comes_first() -> None:
    assert article_years(date(2024, 1, 2), "Posted: May 24, 2005", "") == (frozenset({2024}), "published")
    assert article_years(None, "Posted: May 24, 2005", "text") == (frozenset({2005}), "dateline")
    assert article_years(None, "No date here", "none either") == (frozenset(), "")


def test_dated_holds_for_the_years_given() -> None:
    fire_2013 = _art("Fire at Waitrose", "21 July 2013 A fire broke out at the store.")
    fire_2008 = _art("Fire at Waitrose", "A fire broke out.", published=datetime(2008, 4, 21, tzinfo=UTC))
    undated = _art("Fire at Waitrose", "A fire broke out at the store in 2013.")
    assert _matches("{dated: [2013, 2014]}", fire_2013)
    assert not _matches("{dated: 2013}", fire_2008)
    assert _matches("{dated: 2008}", fire_2008)
    assert not _matches("{dated: 2013}", undated), "a year in the text is not the article's date"
    assert _matches("{not: {dated: 2013}}", undated)


def test_dated_explains_where_the_date_comes_from() -> None:
    watchlist = watchlist_from_text("name: t\nmatch: {all: [fire, {dated: 2013}]}\n")
    verdict = Matcher([watchlist]).evaluate(_art("Fire at Waitrose", "21 July 2013 A fire broke out."))[0]
    assert "dated 2013 (dateline)" in verdict.why


@pytest.mark.parametrize("value", ["[]", "soon", "[2013, 12]", "true"])
def test_dated_wants_years(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        watchlist_from_text(f"name: t\nmatch: {{dated: {value}}}\n")
    assert any("year" in p.message for p in caught.value.problems)
