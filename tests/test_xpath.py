"""monitor.extract.xpath: trafilatura's XPath expressions evaluated in Python must select exactly the
elements lxml selects, in the same order, or not be used at all."""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import trafilatura
from lxml import etree, html
from trafilatura import xpaths

from monitor.extract.xpath import CompiledXPath, compile_xpath, install

ROOT = Path(__file__).resolve().parents[1]
EXTRACTION = Path(os.environ.get("MONITOR_SHARED_DATA", ROOT.parent / "shared" / "data")) / "extraction"


def _expressions() -> list[tuple[str, etree.XPath]]:
    """Every expression of trafilatura.xpaths' lists, as lxml has it (install() may have replaced some)."""
    out = []
    for name, value in sorted(vars(xpaths).items()):
        if isinstance(value, list):
            for i, expression in enumerate(value):
                if isinstance(expression, CompiledXPath):
                    expression = expression.original
                if isinstance(expression, etree.XPath):
                    out.append((f"{name}[{i}]", expression))
    return out


EXPRESSIONS = _expressions()
WITH_REGEX = [(name, x) for name, x in EXPRESSIONS if "re:test" in (x.path or "")
              # two steps each; only extract_metadata's categories and tags read them, which monitor skips
              and not name.startswith(("CATEGORIES_XPATHS", "TAGS_XPATHS"))]


def _same(expression: etree.XPath, compiled: CompiledXPath, context: etree._Element) -> None:
    expected = expression(context)
    got = compiled(context)
    assert [id(e) for e in got] == [id(e) for e in expected], expression.path


def test_every_expression_with_a_regex_compiles() -> None:
    """The ones that cost trafilatura its time; a trafilatura release that writes one in a form the
    compiler does not read leaves it to lxml (slower, still right) and fails here, to be extended."""
    assert len(WITH_REGEX) >= 15
    for name, expression in WITH_REGEX:
        assert compile_xpath(expression) is not None, name


def test_what_the_compiler_does_not_read_stays_with_lxml() -> None:
    for path in (".//div[@class='tags']//a[@href]", "//p[position() > 2]", ".//*[count(p) > 1]",
                 "./div", ".//*[re:test(@class, 'a', 'x')]"):
        assert compile_xpath(etree.XPath(path, namespaces={"re": xpaths.REGEXP_NS})) is None, path


# --- generated pages: every branch of every expression, on documents built from its own words ------

_VOCABULARY_SPLIT = re.compile(r"[^A-Za-z0-9_-]+")


def _vocabulary() -> tuple[list[str], list[str], list[str]]:
    """Tags, attribute names and words taken from the expressions themselves, so that the generated
    pages hit their tests, and near misses of them."""
    tags, attributes, words = {"div", "p", "span", "section", "a", "ul", "ol", "h1", "rel", "author", "main"}, set(), set()
    for _name, expression in EXPRESSIONS:
        path = expression.path or ""
        tags.update(re.findall(r"self::([\w-]+)", path))
        tags.update(re.findall(r"//([a-z][\w-]*)", path))
        attributes.update(re.findall(r"@([\w-]+)", path))
        for literal in re.findall(r"'([^']*)'", path):
            words.update(w for w in _VOCABULARY_SPLIT.split(literal) if w)
    return sorted(tags), sorted(attributes), sorted(words)


def _page(rng: random.Random, tags: list[str], attributes: list[str], words: list[str]) -> etree._Element:
    def value() -> str:
        picks = [rng.choice(words) for _ in range(rng.randint(1, 3))]
        joiner = rng.choice([" ", "-", "", "_", "  "])
        text = joiner.join(picks)
        return rng.choice([text, text.capitalize(), text.upper(), f" {text} ", f"{text}-x", f"x{text}", ""])

    def element(depth: int) -> str:
        tag = rng.choice(tags)
        attrs = rng.sample(attributes, k=rng.randint(0, 4))
        if rng.random() < 0.3:
            attrs = [*attrs, *rng.sample(["id", "class", "style", "role"], k=2)]
        rendered = " ".join(f'{a}="{value()}"' for a in dict.fromkeys(attrs))
        children = "".join(element(depth + 1) for _ in range(rng.randint(0, 4 if depth < 4 else 0)))
        text = rng.choice(["", "me", "text", "Author Name"])
        return f"<{tag} {rendered}>{text}{children}</{tag}>"

    body = "".join(element(0) for _ in range(6))
    return html.fromstring(f"<html><head><title>t</title></head><body>{body}</body></html>")


def test_compiled_expressions_agree_with_lxml_on_generated_pages() -> None:
    rng = random.Random(20261128)
    tags, attributes, words = _vocabulary()
    compiled = [(name, x, compile_xpath(x)) for name, x in EXPRESSIONS]
    compared = 0
    selected = 0
    for _ in range(150):
        root = _page(rng, tags, attributes, words)
        contexts = [root, *rng.sample(list(root.iter("div", "section", "p")) or [root], k=1)]
        for _name, expression, fast in compiled:
            if fast is None:
                continue
            for context in contexts:
                _same(expression, fast, context)
                compared += 1
                selected += len(expression(context))
    assert compared > 5000 and selected > 1000  # the pages do reach the expressions' tests


def test_semantics_that_are_easy_to_get_wrong() -> None:
    ns = {"re": xpaths.REGEXP_NS}
    doc = html.fromstring(
        "<html><body>"
        "<div class='hidden' id='x'>1</div>"          # @id|@class: the first in the tag is tested
        "<div id='x' class='hidden'>2</div>"
        "<section><div class='a'>3</div><div class='a'>4</div></section>"  # [1]: first under each parent
        "<div class='a'>5</div>"
        "<p role='NAVIGATION'>6</p>"                   # translate() before contains()
        "<span class=''>7</span>"                      # present but empty
        "<a><rel>me</rel></a><a><rel>m<b>e</b></rel></a>"  # a child's string value
        "<div id='ad'><h1>title</h1></div>"
        "</body></html>")
    for path in (".//*[re:test(@class|@id, 'hidden')]", ".//*[re:test(@id|@class, '^x$')]",
                 ".//*[self::div][re:test(@class, '^a$')][1]", "(.//*[self::div][re:test(@class, 'a')])[1]",
                 ".//*[contains(translate(@role, 'N', 'n'), 'nav') and re:test(@role, 'NAV', 'i')]",
                 ".//*[@class='' and re:test(@class, '^$')]", "//*[self::a][rel='me' or re:test(@x, 'y')]",
                 ".//*[re:test(@id, 'ad')][not(.//h1)]", ".//*[re:test(@id, 'ad')][not(self::div or self::p)]",
                 "//*[self::section][re:test(@id, 'z')]|//p|//rel"):
        expression = etree.XPath(path, namespaces=ns)
        fast = compile_xpath(expression)
        assert fast is not None, path
        _same(expression, fast, doc)


def test_a_compiled_expression_falls_back_to_lxml_off_its_ground() -> None:
    expression = etree.XPath("//*[re:test(@class, 'b')]", namespaces={"re": xpaths.REGEXP_NS})
    fast = compile_xpath(expression)
    assert fast is not None
    doc = html.fromstring("<html><body><p class='b'>x</p></body></html>")
    # an ElementTree, not an element: lxml answers
    assert [e.tag for e in fast(doc.getroottree())] == ["p"]
    assert fast.path == expression.path and "CompiledXPath" in repr(fast)


def test_install_replaces_the_expressions_with_a_regex_once() -> None:
    install()
    replaced = [x for value in vars(xpaths).values() if isinstance(value, list)
                for x in value if isinstance(x, CompiledXPath)]
    assert {x.path for x in replaced} == {x.path for _name, x in WITH_REGEX}  # and not the two-step ones
    assert install() == 0


# --- the shared pages: the same elements, and the same extraction ---------------------------------

def _shared_pages(step: int) -> list[tuple[bytes, str]]:
    out = []
    for corpus in ("scrapinghub", "readability"):
        rows = (EXTRACTION / corpus / "expected.jsonl").read_text(encoding="utf-8").splitlines()
        for line in rows[::step]:
            row = json.loads(line)
            page = (EXTRACTION / corpus / (row.get("html_file") or f"html/{row['id']}.html")).read_bytes()
            out.append((page, row.get("url") or f"https://example.org/{row['id']}"))
    return out


@pytest.mark.skipif(not EXTRACTION.is_dir(), reason=f"shared extraction data not found at {EXTRACTION}")
def test_compiled_expressions_agree_with_lxml_on_real_pages() -> None:
    compiled = [(x, compile_xpath(x)) for _name, x in WITH_REGEX]
    pages = 0
    for content, _url in _shared_pages(2):
        tree = trafilatura.load_html(content)
        if tree is None:
            continue
        pages += 1
        for context in (tree, *list(tree.iter("div"))[:2]):
            for expression, fast in compiled:
                assert fast is not None
                _same(expression, fast, context)
    assert pages > 50


_STOCK = """
import pickle, sys
import monitor.extract.xpath as xpath
xpath._installed = True  # as if done: trafilatura keeps its own XPath objects and lxml.html's lookup
from monitor.extract import extract_page
pages = pickle.load(sys.stdin.buffer)
sys.stdout.buffer.write(pickle.dumps([extract_page(c, url=u) for c, u in pages]))
"""


@pytest.mark.skipif(not EXTRACTION.is_dir(), reason=f"shared extraction data not found at {EXTRACTION}")
def test_extraction_is_the_same_with_and_without_the_compiled_expressions() -> None:
    from monitor.extract import extract_page

    pages = _shared_pages(3)
    stock = pickle.loads(subprocess.run([sys.executable, "-c", _STOCK], input=pickle.dumps(pages),
                                        capture_output=True, check=True, cwd=ROOT).stdout)
    ours = [extract_page(c, url=u) for c, u in pages]
    assert len(ours) > 40
    assert ours == stock
