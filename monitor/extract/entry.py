"""A feed entry and its extracted page → the Article that is matched, grouped and stored.

Pure, so an extraction worker builds the article right after extracting its page and computes its
story features in the same call: one round trip to the worker per article, not two.
"""

from __future__ import annotations

from monitor.types import Article, ExtractedPage, ExtractionStatus, FeedEntry
from monitor.urls import canonical_url


def entry_link(entry: FeedEntry) -> str | None:
    """The entry's link in canonical form (monitor.urls), if it has one."""
    return canonical_url(entry.link) if entry.link else None


def entry_url(entry: FeedEntry) -> str:
    """The article's identity: its canonical link, or its guid when the entry has no link."""
    return entry_link(entry) or f"urn:entry:{entry.guid}"


def entry_article(entry: FeedEntry, outlet: str | None, page: ExtractedPage | None) -> Article:
    """What is known of an article: the feed's word on title, date, language and author wins over
    the page's (feeds state them on purpose; pages are guessed at), the page's text over the feed's
    summary unless the page gave less."""
    summary = entry.summary.strip()
    if page is None or page.status in (ExtractionStatus.SUMMARY, ExtractionStatus.FAILED):
        status = ExtractionStatus.SUMMARY if summary else ExtractionStatus.FAILED
        text = summary if page is None or len(summary) >= len(page.text) else page.text
    else:
        status = page.status
        # A teaser is matched on everything known: the feed's summary may say more than the page.
        text = page.text if status is ExtractionStatus.FULL or len(page.text) >= len(summary) else summary
    return Article(
        url=entry_url(entry), title=(entry.title or (page.title if page else None) or "").strip() or "(untitled)",
        text=text, published=entry.published or (page.published if page else None),
        lang=entry.lang or (page.lang if page else None), author=entry.author or (page.author if page else None),
        outlet=outlet, summary=summary, status=status)
