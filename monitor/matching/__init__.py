"""The watchlist language: YAML files → compiled rules → verdicts on articles, with why.

    load.py      watchlist and class files → Watchlist (every problem with file, line and key)
    syntax.py    the `match:` tree → nodes.py; engine.py evaluates it
    text.py      folding and tokenising (shared with the drafting assistant)
    terms.py     words, phrases, prefixes (Moszkv*) and their automaton keys
    entities.py  entity classes; leaders.py the EU-leader classes; inflect.py declined name forms
    index.py     one Aho-Corasick automaton over every watchlist's terms
    similarity.py TF-IDF similarity to seed articles, by words, phrases or names
    dates.py     the year an article is dated to (published date, else a dateline)
    matcher.py   Matcher: evaluate() one verdict per watchlist, match() the matches only
"""

from monitor.matching.load import Watchlist, load_watchlist, load_watchlists, watchlist_from_text
from monitor.matching.matcher import Matcher, Verdict

__all__ = ["Matcher", "Verdict", "Watchlist", "load_watchlist", "load_watchlists", "watchlist_from_text"]
