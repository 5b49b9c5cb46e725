"""Story fingerprints stay what the store has: the signature datasketch's own MinHash gives.

Stored signatures and LSH bands are compared with those of new articles, so a faster way
to compute them (permutations drawn once per process, bands hashed from the packed
signature) must give exactly what a fresh ``datasketch.MinHash`` of the scheme gives —
checked here on the expected texts of every test source, on edge cases, and against
datasketch computed independently (its default API, struct-packed bands).

The pool's workers fingerprint pages: what their forkserver preloads (``scraper.pool``)
must not pull in the database layer.
"""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys

from datasketch import MinHash

from scraper import dedup, stories
from tests.conftest import EXPECTED, REPO_ROOT


def _texts() -> list[str]:
    found = [
        json.loads(path.read_text("utf-8"))["text"]
        for path in sorted(EXPECTED.glob("*/*.json"))
        if path.name != "manifest.json"
    ]
    assert len(found) >= 20
    return [*found, "", "ein", "ein zwei drei vier", "ein zwei drei vier fünf", "Ä " * 3000]


def _independent(text: str) -> tuple[bytes, list[int]]:
    """The signature and bands as datasketch's documented API and the band rule give them."""
    words = dedup.normalised_words(text)
    signature = MinHash(num_perm=dedup.NUM_PERM, scheme=dedup.SCHEME)
    for shingle in {
        " ".join(words[i : i + dedup.SHINGLE_WORDS])
        for i in range(max(1, len(words) - dedup.SHINGLE_WORDS + 1))
    }:
        signature.update(shingle.encode())
    values = [int(v) for v in signature.hashvalues]
    bands = []
    for band in range(stories.BANDS):
        rows = values[band * stories.ROWS : (band + 1) * stories.ROWS]
        digest = hashlib.blake2b(struct.pack(f"<{len(rows)}Q", *rows), digest_size=8).digest()
        bands.append(int.from_bytes(digest, "little") >> 1)
    return struct.pack(f"<{len(values)}Q", *values), bands


def test_fingerprints_are_the_signatures_a_fresh_minhash_gives() -> None:
    for text in _texts():
        signature, bands = _independent(text)
        print_ = stories.fingerprint("Titel", text, dedup.content_hash(text))
        assert print_.minhash == signature
        assert print_.bands == bands
        assert stories.band_hashes(struct.unpack(f"<{dedup.NUM_PERM}Q", signature)) == bands
    # The shared permutations are not changed by the signatures made with them.
    assert (
        dedup._permutations() == MinHash(dedup.NUM_PERM, scheme=dedup.SCHEME).permutations
    ).all()


def test_the_pool_module_imports_no_database_layer() -> None:
    code = (
        "import sys, scraper.pool\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'db')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"
