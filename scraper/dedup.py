"""Duplicate detection: exact (content hash) and near (MinHash over word shingles)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from datasketch import MinHash

NUM_PERM = 128
# Stored signatures must be read back with the scheme that made them: pin it.
SCHEME = "affine64"
SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+", re.UNICODE)


def normalised_words(text: str) -> list[str]:
    return list(_words(text))


@lru_cache(maxsize=4)
def _words(text: str) -> tuple[str, ...]:
    # Kept for the last few texts: a page's content hash and MinHash read the same words.
    return tuple(_WORD.findall(text.lower()))


def content_hash(text: str) -> str:
    """Same words in the same order → same hash (whitespace, case and punctuation ignored)."""
    return hashlib.sha256(" ".join(normalised_words(text)).encode()).hexdigest()


def minhash(text: str) -> MinHash:
    # Imported here, not at the top: datasketch's package imports scipy (~1 CPU-s), which a
    # crawl process that fetches no article (an unchanged recrawl) never needs.
    from datasketch import MinHash

    words = normalised_words(text)
    signature = MinHash(num_perm=NUM_PERM, scheme=SCHEME, permutations=_permutations())
    shingles = {
        " ".join(words[i : i + SHINGLE_WORDS])
        for i in range(max(1, len(words) - SHINGLE_WORDS + 1))
    }
    signature.update_batch([s.encode() for s in shingles])
    return signature


@lru_cache(maxsize=1)
def _permutations() -> np.ndarray:
    """The scheme's permutation parameters (seed 1, as every MinHash draws them), drawn once
    per process: a MinHash made without them draws the same 2 x 128 numbers again, ~0.3 ms
    a page. Given them, datasketch shares the array — the signature is the same."""
    from datasketch import MinHash

    permutations: np.ndarray = MinHash(num_perm=NUM_PERM, scheme=SCHEME).permutations
    permutations.setflags(write=False)
    return permutations


_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def token_f1(extracted: str, gold: str) -> float:
    """Bag-of-words F1 of two texts (the quality gate's measure; re-extraction's report)."""
    got, want = Counter(tokens(extracted)), Counter(tokens(gold))
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(got.values())
    recall = overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)
