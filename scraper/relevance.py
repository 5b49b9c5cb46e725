"""Is an announcement about clusters? Keyword matching, configurable per deployment."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache


@lru_cache(maxsize=16)
def _pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    # Keywords match inside compounds too (Spitzencluster, AutoCluster.NRW, Clusterwoche).
    return re.compile("|".join(re.escape(k) for k in keywords), re.IGNORECASE)


def is_relevant(title: str, text: str, keywords: Sequence[str]) -> bool:
    if not keywords:
        return True
    pattern = _pattern(tuple(keywords))
    return bool(pattern.search(title) or pattern.search(text))


def matched_keywords(text: str, keywords: Sequence[str]) -> list[str]:
    pattern = _pattern(tuple(keywords))
    return sorted({m.group(0).lower() for m in pattern.finditer(text)})
