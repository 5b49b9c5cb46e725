"""Page furniture that is never article text, recognised without knowing the template.

Two mechanisms, besides the prune XPaths a source declares:

* **Common patterns** (``RULES``): one small rule object per kind of furniture — photo
  credits, consent/cookie blocks, login/social/share lines, breadcrumbs, "Weitere
  Informationen" link lists, contact boxes, press-portal footers, "Der Beitrag … erschien
  zuerst auf …". Each rule has a stable id; the extractor counts what each removed.
* **Template lines** (``TemplateLines``): lines that recur on many of one source's pages.
  The store keeps, per source, on how many pages each line hash was seen; a line seen on at
  least ``MIN_PAGES`` pages *and* on at least ``MIN_SHARE`` of the source's pages is furniture.
  A real announcement's sentences do not recur across a site's pages; its navigation does.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lxml import html as lxml_html

MIN_PAGES = 3
MIN_SHARE = 0.3
# Lines shorter than this are not hashed as template lines (too little to recognise).
MIN_TEMPLATE_CHARS = 3


@dataclass
class Block:
    """One text block of an extracted body: a paragraph, heading, list item, quote or cell."""

    kind: str  # p | head | item | quote | cell
    text: str
    link_chars: int = 0
    ref: object = None  # the element it came from (for HTML output)
    removed_by: str | None = None

    @property
    def link_density(self) -> float:
        return self.link_chars / len(self.text) if self.text else 0.0


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def line_hash(text: str) -> str:
    return hashlib.sha1(" ".join(_words(text)).encode()).hexdigest()[:16]


# Lines longer than this are sentences of an article, not template furniture: not counted
# (keeps the per-source statistics small).
MAX_TEMPLATE_CHARS = 120
_LINE_ELEMENTS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dt", "dd")
_LINE_CONTAINERS = ("div", "span", "section", "header", "footer", "aside", "nav", "strong")


def page_lines(tree: lxml_html.HtmlElement) -> set[str]:
    """Hashes of the page's short text lines, chrome included: what the store counts per
    source to learn its template lines (section headings, footers, address lines …).

    Links are left out: "latest news" boxes repeat other articles' headlines as links on
    every page, and a headline must never become furniture.
    """
    found: set[str] = set()
    title = tree.find(".//title")
    texts = [title.text_content()] if title is not None else []
    for element in tree.iter(*_LINE_ELEMENTS, *_LINE_CONTAINERS):
        if element.tag in _LINE_CONTAINERS and any(
            isinstance(c.tag, str) and c.tag not in ("br", "span", "a", "b", "i", "em", "strong")
            for c in element
        ):
            continue
        text = element.text_content()
        linked = sum(len(a.text_content()) for a in element.iter("a"))
        if linked * 2 < len(text.strip()):
            texts.append(text)
    for text in texts:
        line = " ".join(text.split())
        if MIN_TEMPLATE_CHARS <= len(line) <= MAX_TEMPLATE_CHARS:
            found.add(line_hash(line))
    return found


@dataclass(frozen=True)
class TemplateLines:
    """The source's template lines, as hashes (see the module doc for the rule)."""

    hashes: frozenset[str] = frozenset()

    def __call__(self, text: str) -> bool:
        return len(text) >= MIN_TEMPLATE_CHARS and line_hash(text) in self.hashes

    @classmethod
    def from_counts(cls, counts: dict[str, int], pages: int) -> TemplateLines:
        if pages < MIN_PAGES:
            return cls()
        floor = max(MIN_PAGES, MIN_SHARE * pages)
        return cls(frozenset(h for h, n in counts.items() if n >= floor))

    @classmethod
    def learn(cls, pages: Iterable[Iterable[str]]) -> TemplateLines:
        """From the line hashes of a set of pages (each page counted once per line)."""
        counts: Counter[str] = Counter()
        total = 0
        for hashes in pages:
            counts.update(set(hashes))
            total += 1
        return cls.from_counts(dict(counts), total)


@dataclass(frozen=True)
class PatternRule:
    """Furniture recognised by the text of one block."""

    id: str
    pattern: re.Pattern[str]
    max_chars: int = 400  # longer blocks are text that happens to match

    def matches(self, block: Block) -> bool:
        return len(block.text) <= self.max_chars and bool(self.pattern.search(block.text))


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


SOCIAL_WORDS = frozenset(
    [
        "login",
        "logout",
        "anmelden",
        "abmelden",
        "registrieren",
        "einloggen",
        "teilen",
        "share",
        "drucken",
        "print",
        "seite",
        "tweet",
        "twitter",
        "facebook",
        "instagram",
        "youtube",
        "xing",
        "linkedin",
        "mastodon",
        "whatsapp",
        "telegram",
        "pinterest",
        "google",
        "e",
        "mail",
        "email",
        "mail",
        "rss",
        "feed",
        "nach",
        "oben",
        "seitenanfang",
        "zurück",
        "zur",
        "übersicht",
        "bluesky",
        "threads",
        "flickr",
        "vimeo",
        "link",
        "kopieren",
        "follow",
        "folgen",
        "sie",
        "uns",
        "auf",
        "social",
        "media",
        "x",
    ]
)
# One-word blocks that are page chrome, never a paragraph.
CHROME_WORDS = frozenset(
    [
        "anzeige",
        "werbung",
        "suche",
        "search",
        "menü",
        "menu",
        "navigation",
        "kategorien",
        "impressum",
        "datenschutz",
        "sitemap",
        "barrierefreiheit",
        "hauptmenü",
        "inhalt",
        "startseite",
        "home",
        "zustimmen",
        "ablehnen",
        "akzeptieren",
        "einverstanden",
        "schließen",
    ]
)
# After one of these the article is over: everything below is the portal's furniture.
END_MARKERS = _rx(
    r"^(?:diese pressemeldung wurde auf .{1,40} veröffentlicht|permanentlink zu dieser|"
    r"der beitrag .{1,300} erschien zuerst auf\b|.{0,40}\bdistanziert sich (?:ausdrücklich )?von)"
)
DATELINE = _rx(
    r"^(?:\d{1,2}\.\s?\d{1,2}\.\s?\d{4}|\d{1,2}\.\s*[a-zäöü]+\.?\s+\d{4})(?:,?\s+\d{1,2}:\d{2}(?:\s*uhr)?)?"
)
DATELINE_MAX_WORDS = 8
ADDRESS_RUN = 3

RULES: tuple[PatternRule, ...] = (
    PatternRule(
        "credit",
        _rx(
            r"^(?:©|\(c\)\s|copyright\b|fotos?\s*:|bild(?:er|quelle|nachweis)?\s*:|"
            r"abbildung\s*:|grafik\s*:|quelle\s*:\s*(?:istock|adobe|shutterstock|getty|"
            r"picture alliance|pixabay|unsplash|fotolia|dpa))|©"
        ),
        max_chars=160,
    ),
    PatternRule(
        "consent",
        _rx(
            # Anchored: unanchored lookaheads would rescan the block from every position.
            r"^(?=.*\b(?:cookies?|etracker|matomo|google analytics|tracking|nutzeraktivität)\b)"
            r"(?=.*(?:einwillig|zustimm|akzeptier|ablehn|consent|datenschutz|widerruf))"
        ),
        max_chars=3000,
    ),
    PatternRule(
        "byline",
        _rx(
            r"^(?:veröffentlicht (?:am|von)|zuletzt (?:aktualisiert|geändert)|posted (?:on|by)|"
            r"published (?:on|by)|erstellt (?:am|von)|geschrieben von|autor(?:in)?\s*:|"
            r"author\s*:|updated\s*:|aktualisiert\s*:)"
        ),
        max_chars=200,
    ),
    PatternRule("breadcrumb", _rx(r"^(?:sie sind hier|you are here|startseite\s*[>›»/])"), 300),
    PatternRule(
        "republished",
        _rx(
            r"^(?:der beitrag .{1,300} erschien zuerst auf\b|quelle\s*:\s|"
            r"(?:dieser|der) (?:beitrag|artikel) wurde .{0,40}(?:veröffentlicht|publiziert))"
        ),
        max_chars=300,
    ),
    PatternRule(
        "press-portal",
        _rx(
            r"^(?:diese pressemeldung wurde auf .{1,40} veröffentlicht|permanentlink\b|"
            r".{0,40}\bdistanziert sich\b|news-id\s*:|weitere mitteilungen von\b|"
            r"pressemitteilung von\s*:|pr[- ]agentur\s*:|alle rechte vorbehalten)"
        ),
        max_chars=600,
    ),
)
MORE_INFO = _rx(
    r"^(?:weitere informationen|weiterführende informationen|weiterführende links|"
    r"mehr (?:zum thema|informationen|dazu)|links? zum thema|downloads?|"
    r"verwandte (?:themen|artikel|beiträge)|das könnte sie auch interessieren|"
    r"related (?:articles|posts|links)|more information|further information|schlagwörter|"
    r"tags|themen|kategorien|quellen|links)(?:\s+(?:zu|zum|zur|über|for|on|about)\b.{0,80})?\s*:?$"
)
CONTACT = _rx(
    r"^(?:(?:ihr|ihre|unser|unsere|your|our)\s+)?(?:presse-?kontakt|pressekontakte|kontakt|ansprechpartner(?:in)?|pressestelle|"
    r"medienkontakt|herausgeber|v\.\s?i\.\s?s\.\s?d\.\s?p|media contact|contact)"
    r"(?:\s*:|\s*$|\s+(?:und|&)\s)"
)
ADDRESS = _rx(
    r"(?:^|\s)(?:tel(?:efon)?\.?|fax|e-?mail|mobil|www\.|https?://)|@\w|\b\d{5}\s+[A-ZÄÖÜ]"
    r"|^[\w.+-]+@[\w-]+\.\w+$|str(?:aße|\.)\s*\d"
)
POSTCODE = re.compile(r"\b\d{5}\s+[A-ZÄÖÜ]")
# The issuer's standard profile closing a press release ("Über die X GmbH:").
ABOUT = _rx(
    r"^(?:über (?:uns|die|das|den|der)\b.{0,60}|unternehmensbeschreibung|unternehmensprofil|"
    r"firmenprofil|about (?:us|the)\b.{0,60}|boilerplate)\s*:?$"
)
ABOUT_MAX_CHARS = 80
# Blocks after a contact heading that read like an address card, not a paragraph.
ADDRESS_MAX_CHARS = 120
LINK_LIST_DENSITY = 0.5


def _social(block: Block) -> bool:
    if len(block.text) > 120:
        return False
    words = _words(block.text)
    if not words:
        return False
    hits = sum(1 for w in words if w in SOCIAL_WORDS)
    return hits * 2 >= len(words)


def _link_list(block: Block) -> bool:
    return block.link_density >= LINK_LIST_DENSITY


@dataclass
class FurnitureReport:
    removed: Counter[str] = field(default_factory=Counter)


def remove_furniture(
    blocks: Sequence[Block], is_template: TemplateLines | None = None
) -> tuple[list[Block], FurnitureReport]:
    """Blocks that are article text; ``report.removed`` counts the rest by rule id."""
    report = FurnitureReport()
    kept: list[Block] = []
    in_section: str | None = None  # inside a link list or a contact box
    _mark_address_cards(blocks)
    ended: str | None = None
    about_from = len(blocks) - max(1, len(blocks) // 3)
    for index, block in enumerate(blocks):
        if ended is None and END_MARKERS.search(block.text):
            ended = "end-of-article"
        if ended is None and index >= max(1, about_from) and _about(block):
            ended = "about"
        reason = ended or block.removed_by or _reason(block, is_template)
        if reason is None and in_section == "link-list" and _link_list(block):
            reason = "link-list"
        elif reason is None and in_section == "contact" and _addressish(block):
            reason = "contact"
        if reason is None:
            if MORE_INFO.search(block.text) and len(block.text) <= 120:
                reason = in_section = "link-list"
            elif CONTACT.search(block.text) and (len(block.text) <= 80 or _addressish(block)):
                reason = in_section = "contact"
            else:
                in_section = None
        if reason is None:
            kept.append(block)
        else:
            block.removed_by = reason
            report.removed[reason] += 1
    _widen_consent(blocks, kept, report)
    # Link-only blocks closing the body ("Link zur Pressemitteilung …") are furniture.
    while kept and _link_list(kept[-1]) and len(kept[-1].text) <= 200:
        kept[-1].removed_by = "link-list"
        report.removed["link-list"] += 1
        kept.pop()
    return kept, report


def _addressish(block: Block) -> bool:
    return len(block.text) <= ADDRESS_MAX_CHARS or bool(ADDRESS.search(block.text[:200]))


CONSENT_HEADING_MAX_CHARS = 120
CONSENT_BUTTON_MAX_CHARS = 60


def _widen_consent(blocks: Sequence[Block], kept: list[Block], report: FurnitureReport) -> None:
    """A consent banner is more than its sentence: the heading that introduces it and the
    buttons after it ("Zustimmen", "Mehr zum Datenschutz") go with it."""
    for index, block in enumerate(blocks):
        if block.removed_by != "consent":
            continue
        neighbours: list[Block] = []
        if index > 0:
            before = blocks[index - 1]
            if len(before.text) <= CONSENT_HEADING_MAX_CHARS and (
                before.text.endswith(":") or before.kind == "head"
            ):
                neighbours.append(before)
        for after in blocks[index + 1 :]:
            if after.removed_by is not None or len(after.text) > CONSENT_BUTTON_MAX_CHARS:
                break
            neighbours.append(after)
        for neighbour in neighbours:
            if neighbour.removed_by is None and neighbour in kept:
                kept.remove(neighbour)
                neighbour.removed_by = "consent"
                report.removed["consent"] += 1


def _about(block: Block) -> bool:
    """ "Über die X GmbH:" — the issuer's standard profile closing a press release."""
    return len(block.text) <= ABOUT_MAX_CHARS and bool(ABOUT.search(block.text))


def _mark_address_cards(blocks: Sequence[Block]) -> None:
    """A run of short lines of which several read like an address (street, postcode, phone,
    e-mail) is a contact card, with or without a heading."""
    run: list[Block] = []
    for block in [*blocks, None]:
        if block is not None and len(block.text) <= ADDRESS_MAX_CHARS // 2 + 20:
            run.append(block)
            continue
        if len(run) >= ADDRESS_RUN and sum(1 for b in run if ADDRESS.search(b.text)) >= 2:
            start = next(i for i, b in enumerate(run) if ADDRESS.search(b.text))
            # The organisation's name line right before the address belongs to the card.
            for b in run[max(0, start - 2) :]:
                b.removed_by = "contact"
        run = []


def _address_signals(text: str) -> int:
    return len({m.group(0).strip().lower()[:3] for m in ADDRESS.finditer(text)})


def _reason(block: Block, is_template: TemplateLines | None) -> str | None:
    if len(block.text) <= 200 and POSTCODE.search(block.text) and _address_signals(block.text) >= 2:
        return "contact"  # an address line: "Verein · Straße 4 · 40219 Stadt · Tel. …"
    for rule in RULES:
        if rule.matches(block):
            return rule.id
    if _social(block):
        return "social"
    words = _words(block.text)
    if len(words) == 1 and words[0] in CHROME_WORDS:
        return "chrome"
    dateline = DATELINE.match(block.text)
    if dateline and len(_words(block.text[dateline.end() :])) <= DATELINE_MAX_WORDS:
        return "dateline"
    if is_template is not None and is_template(block.text):
        return "template-line"
    return None
