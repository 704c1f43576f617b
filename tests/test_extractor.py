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
from monitor.extractor import Extractor
from monitor.stories import extract as story_features
from monitor.types import Article

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
    from monitor.types import Article

    extractor = Extractor(1)
    try:
        dated = await extractor.extract(page, url="https://gazette.example.com/budget")
        undated = await extractor.extract(page, url="https://gazette.example.com/budget", need_date=False)
        features = await extractor.story_features(Article(url="https://gazette.example.com/budget",
                                                          title=dated.title or "", text=dated.text, lang="en"))
        pools = (extractor._executor, extractor._features_executor)
        processes = [sorted(getattr(pool, "_processes", {})) for pool in pools]
    finally:
        extractor.close()
    print(json.dumps({"title": dated.title, "author": dated.author, "text": dated.text,
                      "dated": dated.published.isoformat() if dated.published else None,
                      "undated": undated.published is None, "features": features.to_json(),
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
    article = Article(url="https://gazette.example.com/budget", title=expected.title or "", text=expected.text,
                      lang="en")
    assert got["features"] == story_features(article).to_json()
    extraction, features = got["processes"]
    assert len(extraction) == 1 and len(features) == 1 and extraction != features  # features: a process of their own


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


def test_a_dead_worker_costs_one_retry_and_spares_the_other_pool() -> None:
    async def scenario() -> tuple[str, str, set[int], set[int], set[int]]:
        extractor = Extractor(1)
        try:
            first = await extractor.extract(PAGE.encode(), url="https://gazette.example.com/budget")
            article = Article(url="https://gazette.example.com/budget", title=first.title or "", text=first.text)
            await extractor.story_features(article)
            extraction = set(getattr(extractor._executor, "_processes", {}))
            features = set(getattr(extractor._features_executor, "_processes", {}))
            for pid in extraction:
                os.kill(pid, signal.SIGKILL)
            again = await extractor.extract(PAGE.encode(), url="https://gazette.example.com/budget")
            await extractor.story_features(article)
            return (first.text, again.text, extraction, set(getattr(extractor._executor, "_processes", {})),
                    features - set(getattr(extractor._features_executor, "_processes", {})))
        finally:
            extractor.close()

    first, again, before, after, features_lost = asyncio.run(scenario())
    assert again == first
    assert after and not (before & after)  # a new extraction worker
    assert not features_lost  # the story features' process went on
