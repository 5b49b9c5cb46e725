"""Which stored story does a new article belong to? Fingerprints and the grouping rule.

Pure functions; the store calls ``same_story`` inside its transaction, under a lock, on the
candidates the database finds (same content hash, hreflang links, LSH bands, same title).

**The rule** (thresholds settable in the TOML, ``[stories]``): never across languages by
guess (hreflang links are the only way across); a candidate is the same announcement when

* the texts' word-shingle Jaccard similarity is ≥ ``jaccard`` (0.8: a full copy with other
  furniture), or
* the smaller text is contained in the larger to ≥ ``containment`` (0.8: a teaser-only copy,
  a copy with an extra credit line or a reworded lead) **and** the titles share ≥
  ``title_similarity`` of their words (0.4) — so a newsletter quoting a lead, or two
  releases sharing a boilerplate paragraph, never merge: their titles differ and the shared
  part is a small share of either text; or
* both are high — Jaccard ≥ ``edited_jaccard`` (0.7) and containment ≥
  ``edited_containment`` (0.85): a copy edited later under a new headline (the ministry's
  name changed from BMWi to BMWK), which no compilation reaches.

Shingles are taken from the cleaned text (furniture already removed), five words each.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scraper.dedup import NUM_PERM, minhash, normalised_words

if TYPE_CHECKING:
    # Only a type here: the pool's workers (scraper/pool.py) fingerprint pages and must not
    # import SQLAlchemy for it (~0.6 CPU-s in the forkserver).
    from db.repository import StoryCandidate

SHINGLE_WORDS = 5
# Lead version ties: the announcing organisation's own site before portals that copy it.
SOURCE_ORDER = ["clib", "bmwe", "clusterplattform", "openpr"]
# LSH: 64 bands of 2 rows over 128 permutations. A candidate shares at least
# MIN_SHARED_BANDS bands: likely from a Jaccard of 0.3 on — which a teaser copy (its text
# wholly inside the original's, at 40 % of its length) reaches — and rare below 0.15, where
# unrelated releases sharing a boilerplate sentence sit. Candidates are then checked exactly.
BANDS = 64
ROWS = NUM_PERM // BANDS  # the store asks for MIN_SHARED_BANDS (db/repository.py) of them


@dataclass(frozen=True)
class Thresholds:
    jaccard: float = 0.8
    containment: float = 0.8
    title_similarity: float = 0.4
    edited_jaccard: float = 0.7
    edited_containment: float = 0.85


@dataclass(frozen=True)
class Fingerprint:
    content_hash: str
    title_key: str
    bands: list[int]
    minhash: bytes


def shingles(text: str) -> set[str]:
    words = normalised_words(text)
    if len(words) < SHINGLE_WORDS:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def title_key(title: str) -> str:
    """The title as words only: copies keep the headline, give or take punctuation."""
    return " ".join(normalised_words(title))[:255]


def band_hashes(signature_values: Sequence[int]) -> list[int]:
    """One 63-bit hash per LSH band of a MinHash signature (fits a signed BIGINT)."""
    return _band_hashes(struct.pack(f"<{len(signature_values)}Q", *signature_values))


def _band_hashes(packed: bytes) -> list[int]:
    """``band_hashes`` of the signature as little-endian 64-bit values (8 bytes each)."""
    width = ROWS * 8
    return [
        int.from_bytes(
            hashlib.blake2b(packed[band * width : (band + 1) * width], digest_size=8).digest(),
            "little",
        )
        >> 1
        for band in range(BANDS)
    ]


def fingerprint(title: str, text: str, content_hash: str) -> Fingerprint:
    packed = minhash(text).hashvalues.astype("<u8").tobytes()
    return Fingerprint(
        content_hash=content_hash,
        title_key=title_key(title),
        bands=_band_hashes(packed),
        minhash=packed,
    )


def _title_similarity(a: str, b: str) -> float:
    left, right = set(normalised_words(a)), set(normalised_words(b))
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def similarity(
    title: str, text: str, other_title: str, other_text: str
) -> tuple[float, float, float]:
    """(Jaccard, containment of the smaller in the larger, title word overlap)."""
    mine, theirs = shingles(text), shingles(other_text)
    if not mine or not theirs:
        return 0.0, 0.0, 0.0
    shared = len(mine & theirs)
    jaccard = shared / len(mine | theirs)
    containment = shared / min(len(mine), len(theirs))
    return jaccard, containment, _title_similarity(title, other_title)


def same_language(a: str | None, b: str | None) -> bool:
    """Unknown counts as "could be the same"; known and different never is."""
    if not a or not b:
        return True
    return a[:2] == b[:2]


def same_story(
    title: str,
    text: str,
    language: str | None,
    content_hash: str,
    candidates: Sequence[StoryCandidate],
    thresholds: Thresholds = Thresholds(),
) -> tuple[int | None, str]:
    """The story the new article belongs to, and why ("hash", "hreflang", "near"), or
    (None, "") for a story of its own."""
    for candidate in candidates:
        if candidate.content_hash == content_hash:
            return candidate.story_id, "hash"
    for candidate in candidates:
        if candidate.linked:
            return candidate.story_id, "hreflang"
    best: tuple[float, int] | None = None
    for candidate in candidates:
        if not same_language(language, candidate.language):
            continue
        jaccard, containment, titles = similarity(title, text, candidate.title, candidate.text)
        if (
            jaccard >= thresholds.jaccard
            or (containment >= thresholds.containment and titles >= thresholds.title_similarity)
            or (
                jaccard >= thresholds.edited_jaccard
                and containment >= thresholds.edited_containment
            )
        ):
            strength = max(jaccard, containment)
            if best is None or strength > best[0]:
                best = (strength, candidate.story_id)
    return (best[1], "near") if best else (None, "")
