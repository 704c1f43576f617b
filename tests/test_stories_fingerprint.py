"""Near-duplicate sketches: syndicated copies group, different stories do not."""

from __future__ import annotations

import json
import random
from pathlib import Path

from monitor.stories import StoryIndex, containment, extract, jaccard, sketch
from monitor.types import Article

DATA = Path(__file__).parent / "data" / "stories"


def _rows() -> dict[str, dict[str, str]]:
    lines = (DATA / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


def _words(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"w{rng.randrange(100000)}" for _ in range(n)]


def test_identical_texts_have_identical_sketches() -> None:
    words = _words(300, 1)
    assert sketch(words) == sketch(list(words))
    assert jaccard(sketch(words), sketch(words)) == 1.0
    assert containment(sketch(words), sketch(words)) == 1.0


def test_short_texts_are_compared_exactly() -> None:
    a = sketch(["one", "two", "three", "four", "five", "six"])
    b = sketch(["one", "two", "three", "four", "five", "seven"])
    # 3 shingles each, 2 in common: Jaccard 2/4, exact because both sets are smaller than the sketch.
    assert jaccard(a, b) == 0.5
    assert a.shingles == 3


def test_jaccard_estimate_is_close_to_the_truth() -> None:
    base = _words(1200, 2)
    other = base[:800] + _words(400, 3)
    a, b = sketch(base), sketch(other)
    shingles_a = {" ".join(base[i:i + 4]) for i in range(len(base) - 3)}
    shingles_b = {" ".join(other[i:i + 4]) for i in range(len(other) - 3)}
    truth = len(shingles_a & shingles_b) / len(shingles_a | shingles_b)
    assert abs(jaccard(a, b) - truth) < 0.15
    assert containment(sketch(base[:600]), a) > 0.85


def test_unrelated_texts_share_nothing() -> None:
    assert jaccard(sketch(_words(500, 4)), sketch(_words(500, 5))) == 0.0
    assert jaccard(sketch([]), sketch(_words(10, 6))) == 0.0


def test_syndicated_copy_with_new_headline_and_trailing_paragraph_joins() -> None:
    rows = _rows()
    original, copy = rows["a1"], rows["a2"]
    assert original["title"] != copy["title"] and copy["text"].startswith(original["text"])
    fa, fb = (extract(Article(url=r["url"], title=r["title"], text=r["text"], id=r["id"])) for r in (original, copy))
    assert containment(fa.sketch, fb.sketch) >= 0.9
    index = StoryIndex()
    index.add(Article(url=original["url"], title=original["title"], text=original["text"], id="a1"))
    joined = index.add(Article(url=copy["url"], title=copy["title"], text=copy["text"], id="a2"))
    assert (joined.story_id, joined.is_new) == ("a1", False)
    assert joined.reason.startswith("near-duplicate of a1")


def test_different_story_of_the_same_kind_is_not_a_copy() -> None:
    rows = _rows()
    chile, japan = (extract(Article(url="u", title=rows[i]["title"], text=rows[i]["text"])) for i in ("b1", "c1"))
    assert containment(chile.sketch, japan.sketch) < 0.1
    index = StoryIndex()
    index.add(Article(url="u1", title=rows["b1"]["title"], text=rows["b1"]["text"], id="b1"))
    second = index.add(Article(url="u2", title=rows["c1"]["title"], text=rows["c1"]["text"], id="c1"))
    assert second.is_new and second.story_id == "c1"


def test_shingle_hashes_are_the_stored_ones() -> None:
    """Sketches are stored with each article and compared after restarts and upgrades: a shingle's
    hash must stay the first 8 bytes of blake2b over its UTF-8, read big-endian."""
    import hashlib

    words = ["orban", "arrives", "in", "moscow", "for", "talks", "with", "putin"]
    expected = sorted(int.from_bytes(hashlib.blake2b(" ".join(words[i:i + 4]).encode(), digest_size=8).digest(), "big")
                      for i in range(len(words) - 3))
    assert sketch(words).hashes == tuple(expected) and sketch(words).shingles == 5
    assert sketch(["moskvě"]).hashes == (int.from_bytes(hashlib.blake2b("moskvě".encode(), digest_size=8).digest(), "big"),)
