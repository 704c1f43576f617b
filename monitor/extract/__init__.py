"""Article pages → ExtractedPage: pure functions the pipeline runs in a process pool.

    page.py    extract_page (trafilatura, with the options bench/extraction_quality.py chose) and
               extract_text_file (seed articles from files)
    teaser.py  paywall and login-wall teasers
    lang.py    the page's declared language, else a guess from its words
"""

from monitor.extract.page import extract_page, extract_text_file

__all__ = ["extract_page", "extract_text_file"]
