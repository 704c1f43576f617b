"""Near-duplicate fingerprints: a bottom-k MinHash sketch of the word shingles of an article's body.

Syndicated copies (agency wire stories reprinted by many outlets) share most of their word 4-grams
even when an outlet rewrites the headline, trims the end or appends its own paragraph. SimHash
answers "are these two texts almost identical" and degrades quickly when one copy is a third longer;
a MinHash sketch instead estimates the Jaccard similarity of the two shingle sets, and with the set
sizes stored next to it, the *containment* |A ∩ B| / min(|A|, |B|), which stays high when one copy
is a subset of the other. That is the case that matters here, so MinHash it is.

The sketch is bottom-k (Broder 1997; Cohen & Kaplan 2007): one 64-bit hash per shingle and the k
smallest values kept. One hash per shingle instead of k permutations keeps it fast in pure Python,
and for texts with fewer than k shingles the sketch is the whole set, so the estimate is exact where
estimates would be noisiest. blake2b is used because Python's `hash()` is salted per process and the
sketches are stored and compared across restarts.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

SHINGLE = 4
"""Words per shingle: 4-grams are rare enough that two unrelated texts share almost none."""

SKETCH_SIZE = 64


@dataclass(frozen=True, slots=True)
class Sketch:
    """The k smallest shingle hashes (sorted) and how many distinct shingles the text had."""

    hashes: tuple[int, ...]
    shingles: int
    members: frozenset[int] = field(init=False, repr=False, compare=False)
    """The hashes as a set, built once: sketches are compared far more often than made."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", frozenset(self.hashes))


_blake2b = hashlib.blake2b
_from_bytes = int.from_bytes


def sketch(words: Sequence[str], *, k: int = SKETCH_SIZE, n: int = SHINGLE) -> Sketch:
    """Sketch of the n-word shingles of `words` (already normalised: folded, no punctuation).

    A text shorter than one shingle is sketched as a single shingle of all its words, so two empty
    or one-line texts compare by equality rather than not at all.
    """
    if not words:
        return Sketch((), 0)
    # A shingle's hash: the first 8 bytes of its UTF-8's blake2b, big-endian (stored sketches depend on
    # it). Shingles from zip of shifted lists, hashed inline: a thousand an article, and slicing and
    # a function call per shingle were a fifth of the cost (the shifted lists are shorter: strict=False).
    grams = {" ".join(words)} if len(words) < n else set(map(" ".join, zip(*(words[i:] for i in range(n)), strict=False)))
    hashes = heapq.nsmallest(k, {_from_bytes(_blake2b(g.encode("utf-8"), digest_size=8).digest(), "big")
                                 for g in grams})
    return Sketch(tuple(hashes), len(grams))


def jaccard(a: Sketch, b: Sketch, *, k: int = SKETCH_SIZE) -> float:
    """Estimated |A ∩ B| / |A ∪ B|: among the k smallest hashes of the union, the share in both."""
    if not a.hashes or not b.hashes:
        return 0.0
    set_a, set_b = a.members, b.members
    # The k smallest of the union of two bottom-k sketches are the k smallest of the union of the
    # sets, and each of them is in a set exactly when it is in that set's sketch (a hash among the
    # union's k smallest is among each set's k smallest), so counting them is unbiased.
    union = heapq.nsmallest(k, set_a | set_b)
    return sum(1 for h in union if h in set_a and h in set_b) / len(union)


def containment(a: Sketch, b: Sketch) -> float:
    """Estimated |A ∩ B| / min(|A|, |B|): near 1 when the shorter text is contained in the longer."""
    j = jaccard(a, b)
    if j <= 0.0:
        return 0.0
    common = j * (a.shingles + b.shingles) / (1.0 + j)
    return min(1.0, common / max(1, min(a.shingles, b.shingles)))
