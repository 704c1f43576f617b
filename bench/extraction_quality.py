"""Extraction quality: token precision, recall and F1 of extracted text against expected text.

Data: ../shared/data/extraction (or $MONITOR_SHARED_DATA/extraction):
  scrapinghub/  80 news pages of the article-extraction-benchmark (MIT), expected `articleBody`
  readability/  47 pages of Mozilla Readability's test suite (Apache-2.0), expected `expected_text`

Rows are trafilatura settings, called directly on the page decoded by monitor.parse.decode_html
(and once on the raw bytes, `default-on-bytes`, with trafilatura's own decoding), and `ours`:
monitor.extract.extract_page as the daemon runs it. Scores are token precision/recall/F1 per page,
averaged over pages (macro); an empty extraction scores 0. ms/page is wall time per page in a
worker process, so it depends on the machine's load.

    .venv/bin/python bench/extraction_quality.py [--data DIR] [--jobs 2] [--only ours,default]

"fast" is trafilatura without its fallback extractors (readability-lxml, jusText); "ours" must
score at least what "default" does.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from monitor.extract import extract_page  # noqa: E402
from monitor.parse import decode_html  # noqa: E402

_TOKEN = re.compile(r"\w+")

CONFIGS: dict[str, dict[str, bool]] = {
    "default": {},
    "precision": {"favor_precision": True},
    "recall": {"favor_recall": True},
    "fast": {"fast": True},
    "no-comments": {"include_comments": False},
    "no-comments+recall": {"include_comments": False, "favor_recall": True},
    "no-comments+precision": {"include_comments": False, "favor_precision": True},
    "no-comments+fast": {"include_comments": False, "fast": True},
    "no-comments+precision+fast": {"include_comments": False, "favor_precision": True, "fast": True},
    "no-comments+precision+no-tables": {
        "include_comments": False, "favor_precision": True, "include_tables": False,
    },
}


@dataclass(frozen=True)
class Case:
    corpus: str
    id: str
    url: str
    html: Path
    expected: str


def load_cases(data: Path) -> list[Case]:
    cases = []
    base = data / "extraction"
    for corpus, field in (("scrapinghub", "articleBody"), ("readability", "expected_text")):
        index = base / corpus / "expected.jsonl"
        if not index.exists():
            continue
        for line in index.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            html = base / corpus / (row.get("html_file") or f"html/{row['id']}.html")
            cases.append(Case(corpus, str(row["id"]), row.get("url") or f"https://example.org/{row['id']}",
                              html, row[field]))
    return cases


def tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(text.lower()))


def scores(predicted: str, expected: str) -> tuple[float, float, float]:
    """Token precision, recall and F1 (bag of lower-case word tokens)."""
    got, want = tokens(predicted), tokens(expected)
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    precision = overlap / sum(got.values())
    recall = overlap / sum(want.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def run_config(name: str, case: Case) -> tuple[str, str, float, float, float, float]:
    raw = case.html.read_bytes()
    started = time.perf_counter()
    if name == "ours":
        text = extract_page(raw, url=case.url).text
    elif name == "default-on-bytes":  # trafilatura decoding the bytes itself
        text = trafilatura.extract(raw, url=case.url) or ""
    else:
        text = trafilatura.extract(decode_html(raw), url=case.url, **CONFIGS[name]) or ""
    elapsed = time.perf_counter() - started
    return (name, case.corpus, *scores(text, case.expected), elapsed)


def _star(args: tuple[str, Case]) -> tuple[str, str, float, float, float, float]:
    return run_config(*args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_data = os.environ.get("MONITOR_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=Path(default_data))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", help="comma-separated config names (default: all and ours)")
    args = parser.parse_args(argv)
    cases = load_cases(args.data)
    if not cases:
        print(f"no extraction data under {args.data / 'extraction'}", file=sys.stderr)
        return 1
    names = args.only.split(",") if args.only else ["default-on-bytes", *CONFIGS, "ours"]
    jobs = [(name, case) for name in names for case in cases]
    results: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for name, corpus, p, r, f, t in pool.map(_star, jobs, chunksize=4):
            results.setdefault((name, corpus), []).append((p, r, f, t))
            results.setdefault((name, "all"), []).append((p, r, f, t))
    corpora = [c for c in ("scrapinghub", "readability") if any(k[1] == c for k in results)] + ["all"]
    header = f"{'setting':<36}" + "".join(f"{c + ' P/R/F1':>26}" for c in corpora) + f"{'ms/page':>10}"
    sizes = ", ".join(f"{c} {sum(1 for x in cases if x.corpus == c)}" for c in corpora[:-1])
    print(f"{len(cases)} pages: {sizes}")
    print(header)
    print("-" * len(header))
    for name in names:
        row = f"{name:<36}"
        for corpus in corpora:
            values = results[(name, corpus)]
            n = len(values)
            p, r, f = (sum(v[i] for v in values) / n for i in range(3))
            row += f"{p:>10.3f}{r:>8.3f}{f:>8.3f}"
        values = results[(name, "all")]
        row += f"{1000 * sum(v[3] for v in values) / len(values):>10.0f}"
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
