"""HTML as feeds and pages hand it to us: decoding bytes, markup to plain text, feed discovery.

Pure functions on the standard library's tolerant HTMLParser: a feed's summary is a fragment, often
broken, and must never make a stage fail.
"""

from __future__ import annotations

import codecs
import html
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "tr", "ul",
})
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "math", "title"})
_SPACES = re.compile(r"[^\S\n]+")
_TAG = re.compile(r"<[^>]*>")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "img":
            # An image's alt text is what a reader without images gets; feeds often put words there.
            alt = dict(attrs).get("alt")
            if alt and not self._skipping:
                self.parts.append(f" {alt} ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIP:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def tidy(text: str) -> str:
    """Collapse runs of spaces, keep one line break between blocks, drop empty lines."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags gone, entities decoded, blocks on their own lines."""
    if "<" not in markup and "&" not in markup:
        return tidy(markup)
    parser = _Text()
    try:
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    except (AssertionError, ValueError):  # the stdlib parser's last resort on some broken declarations
        text = html.unescape(_TAG.sub(" ", markup))
    return tidy(text.replace("\xa0", " "))


def one_line(markup: str) -> str:
    """A title: plain text on one line."""
    return " ".join(html_to_text(markup).split())


def language_tag(value: object) -> str | None:
    """'en-US' → 'en': the primary language subtag, which is what the matcher and stemmers key on."""
    if not isinstance(value, str):
        return None
    primary = value.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


# --- decoding --------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:+-]+)["']""")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG Encoding: these labels mean windows-1252 in every browser, so pages written for browsers
# rely on it (curly quotes in 0x80–0x9F).
_WINDOWS_1252 = frozenset({"latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1", "ascii", "us-ascii",
                           "iso_8859-1", "cp819", "ibm819", "windows-1252", "cp1252", "x-cp1252"})


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("'\"").lower()
    if label in _WINDOWS_1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _utf8(content: bytes) -> str | None:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def decode_html(content: bytes, declared: str | None = None) -> str:
    """Decode a page: BOM, then the charset the server declared, then <meta charset>, then UTF-8,
    then windows-1252 (HTML's own order, WHATWG "encoding sniffing").

    One deviation: servers often declare ISO-8859-1 by default for pages that are really UTF-8, and
    text that is valid multi-byte UTF-8 is practically never Latin-1 by chance, so a Latin-1
    declaration gives way to valid UTF-8.
    """
    for bom, name in _BOMS:
        if content.startswith(bom):
            return content[len(bom):].decode(name, errors="replace")
    head = content[:4096]
    found = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    candidates = [_codec(declared), _codec(found.group(1).decode("ascii") if found else None)]
    for codec in candidates:
        if codec is None:
            continue
        if codec == "cp1252" and not content.isascii():
            text = _utf8(content)
            if text is not None:
                return text
        if codec in ("utf-16", "utf-16-le", "utf-16-be") and head.isascii():
            continue  # a <meta> that says UTF-16 in ASCII bytes is wrong by construction
        return content.decode(codec, errors="replace")
    text = _utf8(content)
    return text if text is not None else content.decode("cp1252", errors="replace")


# --- feed discovery --------------------------------------------------------------------------

FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/feed+json", "application/json",
    "application/rdf+xml", "text/xml", "application/xml",
})
_PREFERRED = ("application/rss+xml", "application/atom+xml", "application/feed+json")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: (v or "") for k, v in attrs}
        if tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"].strip()
        elif tag == "link":
            rel = values.get("rel", "").lower().split()
            kind = values.get("type", "").split(";")[0].strip().lower()
            href = values.get("href", "").strip()
            if "alternate" in rel and kind in FEED_TYPES and href:
                self.links.append((kind, href))

    handle_startendtag = handle_starttag


def discover_feeds(page: bytes, base_url: str) -> list[str]:
    """The feeds a web page announces with <link rel="alternate" type="application/rss+xml" …>,
    absolute, without duplicates; RSS, Atom and JSON Feed first, generic XML/JSON types after."""
    parser = _Links()
    try:
        parser.feed(decode_html(page))
        parser.close()
    except (AssertionError, ValueError):
        pass  # keep what was found before the parser gave up
    base = urljoin(base_url, parser.base) if parser.base else base_url
    ranked = sorted(parser.links, key=lambda link: link[0] not in _PREFERRED)
    found: dict[str, None] = {}
    for _, href in ranked:
        url = urljoin(base, href)
        if url.startswith(("http://", "https://")):
            found.setdefault(url, None)
    return list(found)
