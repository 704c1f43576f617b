"""monitor.extractor: the worker processes, what they import, and what they give back."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from monitor.extract import extract_page
from monitor.extract.entry import entry_article
from monitor.extractor import Extractor
from monitor.stories import ArticleFeatures
from monitor.stories import extract as story_features
from monitor.types import Article, FeedEntry

ROOT = Path(__file__).resolve().parents[1]

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Council approves budget</title>
<meta name="author" content="Ann Writer"><meta property="article:published_time" content="2024-10-01T09:30:00+02:00">
</head><body><main><article><h1>Council approves budget</h1>
<p>The city council voted on Tuesday to approve the new budget for public transport, ending months of
debate over fares, routes and the future of the night bus network across the region.</p>
<p>Councillors from both parties said the compromise would keep fares flat for two years while adding
twelve new routes to districts that have been poorly served since the depot closed.</p>
</article></main></body></html>"""

# A main module, as the installed `monitor` script is one: each time it runs it leaves a line in a
# file. multiprocessing re-runs the parent's main module in every child of a forkserver unless told
# otherwise; the extraction workers must not (it imports the whole daemon into each of them).
SCRIPT = """
import asyncio, json, sys
from pathlib import Path

with Path(sys.argv[1]).open("a") as runs:
    runs.write("ran\\n")


async def main(page: bytes) -> None:
    from monitor.extractor import Extractor
    from monitor.matching.text import analyse
    from monitor.types import FeedEntry

    extractor = Extractor(1)
    entry = FeedEntry(link="https://gazette.example.com/budget?utm_source=rss", guid="b1", title="",
                      summary="The council voted.", published=None, lang="en")
    try:
        dated = await extractor.extract(page, url="https://gazette.example.com/budget")
        undated = await extractor.extract(page, url="https://gazette.example.com/budget", need_date=False)
        prepared = await extractor.article(page, url="https://gazette.example.com/budget", encoding=None,
                                           entry=entry, outlet="Gazette")
        article, features = prepared.article, prepared.features
        processes = sorted(getattr(extractor._executor, "_processes", {}))
    finally:
        extractor.close()
    print(json.dumps({"title": dated.title, "author": dated.author, "text": dated.text,
                      "dated": dated.published.isoformat() if dated.published else None,
                      "undated": undated.published is None, "features": features.to_json(),
                      "article": [article.url, article.title, article.text, article.outlet, article.status.value,
                                  article.published.isoformat() if article.published else None],
                      "doc": [prepared.doc == analyse(article), len(prepared.doc.tokens)],
                      "processes": processes}))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[2]).read_bytes()))
"""


def test_workers_extract_and_weigh_without_rerunning_the_main_module(tmp_path: Path) -> None:
    script, runs, page = tmp_path / "daemon.py", tmp_path / "runs.txt", tmp_path / "page.html"
    script.write_text(SCRIPT, encoding="utf-8")
    page.write_text(PAGE, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(runs), str(page)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs.read_text().splitlines() == ["ran"]  # the parent only: no worker re-ran it
    expected = extract_page(PAGE.encode(), url="https://gazette.example.com/budget")
    assert (got["title"], got["author"], got["text"]) == (expected.title, expected.author, expected.text)
    assert got["dated"] == "2024-10-01T07:30:00+00:00" and got["undated"] is True
    # The article as the pipeline stores it: canonical URL, the page's title where the feed gave none,
    # the page's date where the feed gave none, and its story features, all from one call.
    article = entry_article(FeedEntry(link="https://gazette.example.com/budget?utm_source=rss", guid="b1", title="",
                                      summary="The council voted.", published=None, lang="en"), "Gazette", expected)
    assert got["article"] == ["https://gazette.example.com/budget", expected.title, expected.text, "Gazette", "full",
                              "2024-10-01T07:30:00+00:00"]
    assert got["features"] == story_features(article).to_json()
    assert got["doc"][0] is True and got["doc"][1] > 50  # the matcher's reading of it came along
    assert len(got["processes"]) == 1  # one worker does it all: no process of its own for the features


def test_forkserver_preload_warms_up_and_freezes() -> None:
    """What every worker inherits: trafilatura's lazily loaded tables already loaded, the language
    profiles built, wordfreq's English list read (compactly, by monitor.wordfreqs, wordfreq's own cache
    left empty), and all of it frozen out of the collector's reach."""
    script = ("import gc, wordfreq, trafilatura.external as external, monitor.extract.preload; "
              "from monitor.extract.lang import _profiles; "
              "print(gc.get_freeze_count() > 0, external.JT_STOPLIST is not None, _profiles.cache_info().currsize, "
              "monitor.wordfreqs._table.cache_info().currsize, wordfreq.get_frequency_dict.cache_info().currsize)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "1", "1", "0"]  # the compact table, not wordfreq's cache


def test_a_dead_worker_costs_one_retry() -> None:
    async def scenario() -> tuple[str, str, ArticleFeatures, ArticleFeatures, set[int], set[int]]:
        extractor = Extractor(1)
        try:
            first = await extractor.extract(PAGE.encode(), url="https://gazette.example.com/budget")
            article = Article(url="https://gazette.example.com/budget", title=first.title or "", text=first.text)
            weighed = await extractor.story_features(article)
            before = set(getattr(extractor._executor, "_processes", {}))
            for pid in before:
                os.kill(pid, signal.SIGKILL)
            again = await extractor.extract(PAGE.encode(), url="https://gazette.example.com/budget")
            for pid in set(getattr(extractor._executor, "_processes", {})):
                os.kill(pid, signal.SIGKILL)
            reweighed = await extractor.story_features(article)
            return (first.text, again.text, weighed, reweighed, before,
                    set(getattr(extractor._executor, "_processes", {})))
        finally:
            extractor.close()

    first, again, weighed, reweighed, before, after = asyncio.run(scenario())
    assert again == first and reweighed == weighed
    assert after and not (before & after)  # new workers took over
