"""What the extraction pool's forkserver imports: everything a worker needs, loaded and warmed once.

monitor.extractor hands this module to multiprocessing's `set_forkserver_preload`, so importing it
runs `warm_up()` in the forkserver, and every worker forks from a process that has already paid
the costs trafilatura and its helpers defer to the first page: htmldate's and dateparser's locale
tables and compiled patterns, justext's stop lists, readability, the language profiles, wordfreq's
English list and the story features' tables. A worker then starts warm (a second of CPU less each,
and again for a worker that replaces one that died), and the pages holding all that stay shared
between the workers instead of being copied into each: `gc.freeze()` keeps the collector from
writing to them, which would copy them one by one (the "copy on read" of CPython's reference
counts cannot be avoided, but a collection touching every object can).

Importing it anywhere else costs the warm-up, half a second, and freezes that process's objects too.
"""

from __future__ import annotations

import gc
import logging

from monitor.extract.lang import guess_language
from monitor.extract.page import extract_page
from monitor.stories import extract as story_features
from monitor.types import Article

_PARAGRAPHS = (
    "The regional council voted on Tuesday evening to approve a new budget for public transport, "
    "ending months of debate over fares, routes and the future of the night bus network.",
    "Councillors from both parties said the compromise would keep fares flat for two years while "
    "adding twelve routes to districts that have been poorly served since the old depot closed.",
    "Opponents warned that the plan relied on optimistic forecasts of passenger numbers, and that "
    "a shortfall would have to be covered from reserves that are already lower than planned.",
    "The mayor, Anna Lindqvist, said the vote showed the council could still agree on the services "
    "people use every day, and promised a public review of the network in the spring.",
)
_SAMPLE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Council approves transport budget | The Gazette</title>
<meta name="author" content="Ann Writer"><meta property="og:title" content="Council approves transport budget">
<link rel="canonical" href="https://gazette.example.org/news/council-budget"></head>
<body><header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<main><article><h1>Council approves transport budget</h1><p class="byline">By Ann Writer</p>
<p class="date">Published on the fifth of March, 2024 at 9:30 am</p>
{"".join(f"<p>{p}</p>" for p in _PARAGRAPHS)}
<ul class="related"><li><a href="/news/a">Depot to reopen</a></li><li><a href="/news/b">Fares frozen</a></li></ul>
</article><aside><h2>Most read</h2><p>Storm warning for the coast</p></aside></main>
<section id="comments"><div class="comment"><p>Finally some good news for the north side.</p></div></section>
<footer><p>© 2024 The Example Gazette. All rights reserved.</p></footer></body></html>"""
_SHORT = """<html><head><title>Notice</title></head><body><div><div><span>Storm warning</span></div>
<div><p>Ferries are cancelled until Sunday 10 March 2024.</p></div><form><input name="q"></form></div></body></html>"""


def warm_up() -> None:
    """Run each stage of a worker once on sample pages, then freeze what is loaded (see above).

    Never raises: an exception here would kill the forkserver, and every extraction with it
    (multiprocessing only forgives an ImportError in a preloaded module); a failed warm-up only
    leaves the workers to load what they need themselves.
    """
    try:
        page = extract_page(_SAMPLE.encode(), url="https://gazette.example.org/news/council-budget")
        extract_page(_SHORT.encode(), url="https://gazette.example.org/notice")  # the fallbacks, for short pages
        guess_language(page.text)  # the profiles, for pages that do not declare their language
        story_features(Article(url="https://gazette.example.org/news/council-budget", title=page.title or "",
                               text=page.text, lang="en"))
    except Exception:
        logging.getLogger(__name__).exception("extraction_warm_up_failed")
    gc.freeze()


warm_up()
