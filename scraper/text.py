"""Characters no published text may carry — the one definition, used where text leaves
extraction (``scraper.extract``) and where anything is written into a feed
(``monitor.feeds``).

* XML 1.0 forbids C0 controls except tab, newline and carriage return, lone surrogates
  and U+FFFE/U+FFFF; lxml refuses to serialise them at all, so one such character would
  stop a whole feed from being written;
* DEL and the C1 controls (U+0080–U+009F but U+0085, the "next line") are legal XML but
  only ever come from mis-decoded pages and make some readers choke;
* the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069)
  reorder the characters a reader shows ("Trojan Source"): a German announcement has no
  use for them, and a title could pass for another with them. The marks (U+200E/U+200F)
  are harmless and stay.
"""

from __future__ import annotations

import re

UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff"
    "\u202a-\u202e\u2066-\u2069]"
)
# A title longer than this is no headline (a page putting its body into <title>, or an
# attack): cut at a word and marked with an ellipsis.
TITLE_MAX_CHARS = 300


def printable(value: str | None) -> str:
    """``value`` without the characters above."""
    return UNSAFE.sub("", value or "")


def shorten(value: str, limit: int) -> str:
    """``value`` at most ``limit`` characters long, cut at a word, with "…" when cut."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–") + "…"
