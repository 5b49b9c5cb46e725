"""Duplicate detection: exact (content hash) and near (MinHash over word shingles)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import numpy as np
from datasketch import MinHash, MinHashLSH

NUM_PERM = 128
# Stored signatures must be read back with the scheme that made them: pin it.
SCHEME = "affine64"
SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+", re.UNICODE)


def normalised_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_hash(text: str) -> str:
    """Same words in the same order → same hash (whitespace, case and punctuation ignored)."""
    return hashlib.sha256(" ".join(normalised_words(text)).encode()).hexdigest()


def minhash(text: str) -> MinHash:
    words = normalised_words(text)
    signature = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    shingles = {
        " ".join(words[i : i + SHINGLE_WORDS])
        for i in range(max(1, len(words) - SHINGLE_WORDS + 1))
    }
    signature.update_batch([s.encode() for s in shingles])
    return signature


def to_bytes(signature: MinHash) -> bytes:
    return signature.hashvalues.astype("<u8").tobytes()


def from_bytes(data: bytes) -> MinHash:
    return MinHash(
        num_perm=NUM_PERM, scheme=SCHEME, hashvalues=np.frombuffer(data, dtype="<u8").copy()
    )


class NearDuplicateIndex:
    """An LSH index over stored originals; answers "which stored article reads the same?"."""

    def __init__(self, threshold: float, known: Iterable[tuple[int, bytes]] = ()):
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._signatures: dict[int, MinHash] = {}
        self.threshold = threshold
        for article_id, data in known:
            self.add(article_id, from_bytes(data))

    def add(self, article_id: int, signature: MinHash) -> None:
        if article_id not in self._signatures:
            self._lsh.insert(article_id, signature)
            self._signatures[article_id] = signature

    def original_of(self, signature: MinHash) -> int | None:
        """The most similar stored article at or above the threshold, if any."""
        best: tuple[float, int] | None = None
        for candidate in self._lsh.query(signature):
            score = signature.jaccard(self._signatures[candidate])
            if score >= self.threshold and (best is None or score > best[0]):
                best = (score, int(candidate))
        return best[1] if best else None
