"""The link that announced a page, as evidence the page is that announcement.

A listing or feed names the article it links ("Cluster X eröffnet Technikum …"). A page
answering 200 that carries none of those words — a maintenance notice, a login wall, an
error page with the site's full chrome — is not the article, however long its text. On the
replayed trees (tests/sites, tests/sites_v2: 73 articles with such a link) every article
page carries at least two thirds of its link's words; a page under 30 % is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINK_TEXT = 300  # characters kept: a teaser card's whole text is not needed
MIN_WORDS = 3  # a link of fewer words ("Weiterlesen", "mehr", a date) proves nothing
MIN_SHARE = 0.3
NOT_ANNOUNCED = "not the announced article"

_WORD = re.compile(r"[^\W\d_]{4,}")  # words of four letters or more, no numbers


def words(text: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in _WORD.findall(text))


def link_text(texts: list[str]) -> str | None:
    """Of the anchors one page has for one target, the one that says most (the headline
    rather than "Weiterlesen" or the image link), whitespace-normalised and bounded."""
    best = max((" ".join(t.split()) for t in texts), key=lambda t: len(words(t)), default="")
    best = best[:MAX_LINK_TEXT]
    return best if len(words(best)) >= MIN_WORDS else None


@dataclass(frozen=True)
class BrokenPromise:
    found: int
    promised: int

    def __str__(self) -> str:
        return (
            f"{NOT_ANNOUNCED}: the page carries {self.found} of the "
            f"{self.promised} words of the link that announced it"
        )


def broken_promise(link: str | None, title: str, text: str) -> BrokenPromise | None:
    """Why the page (its extracted title and text) is not the one ``link`` announced, or
    None when it is — or when the link says too little to tell."""
    promised = words(link or "")
    if len(promised) < MIN_WORDS:
        return None
    found = len(promised & (words(title) | words(text)))
    if found / len(promised) >= MIN_SHARE:
        return None
    return BrokenPromise(found, len(promised))
