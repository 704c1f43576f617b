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
# WHATWG Encoding maps these labels to the superset every browser decodes with, so pages written
# for browsers rely on the superset: curly quotes in 0x80–0x9F of "ISO-8859-1", GBK in "GB2312".
_SUPERSETS = {
    **dict.fromkeys(("latin-1", "latin1", "iso-8859-1", "iso8859-1", "iso_8859-1", "l1", "cp819", "ibm819",
                     "ascii", "us-ascii", "windows-1252", "cp1252", "x-cp1252"), "cp1252"),
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "gb_2312-80", "chinese", "csgb2312", "gb18030"), "gb18030"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "cseuckr", "windows-949"), "cp949"),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "windows-31j"), "cp932"),
    **dict.fromkeys(("big5", "big5-hkscs", "cn-big5", "x-x-big5"), "big5hkscs"),
    **dict.fromkeys(("iso-8859-9", "latin5", "windows-1254"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11", "windows-874"), "cp874"),
}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("'\"").lower()
    if label in _SUPERSETS:
        return _SUPERSETS[label]
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
    """Decode a page: BOM, then the charset the server declared, then <meta charset>, then
    windows-1252 (HTML's own order, WHATWG "encoding sniffing"), with one deviation: bytes that are
    valid UTF-8 and not plain ASCII are decoded as UTF-8 whatever the labels say.

    Text in a legacy encoding is practically never valid multi-byte UTF-8 by chance, while wrong
    labels are common: servers declare ISO-8859-1 by default, and pages re-saved as UTF-8 keep
    their old <meta charset=gb2312>.
    """
    for bom, name in _BOMS:
        if content.startswith(bom):
            return content[len(bom):].decode(name, errors="replace")
    if not content.isascii() and (text := _utf8(content)) is not None:
        return text
    head = content[:4096]
    found = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    labels = (declared, found.group(1).decode("ascii") if found else None)
    for codec in map(_codec, labels):
        # A UTF-16 label on bytes that read as ASCII is wrong by construction.
        if codec is not None and not (codec.startswith("utf-16") and head.isascii()):
            return content.decode(codec, errors="replace")
    return content.decode("cp1252", errors="replace")


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
