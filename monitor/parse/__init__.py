"""Feed documents → ParsedFeed, pure: bytes in, values out, nothing fetched.

    feed.py      parse_feed: RSS and Atom through feedparser, JSON Feed by content
    jsonfeed.py  JSON Feed 1.0/1.1
    html.py      decoding HTML bytes, markup → plain text, feed discovery in a web page
"""

from monitor.parse.feed import parse_feed
from monitor.parse.html import decode_html, discover_feeds, html_to_text

__all__ = ["decode_html", "discover_feeds", "html_to_text", "parse_feed"]
