"""Article extraction in layers, each field with its provenance.

A source's declared rules (``ExtractionRules``) are the first layer and make extraction
exact; generic page signals and trafilatura on the whole page follow, so a redesign
degrades gracefully instead of publishing nothing:

* title — declared → ``meta`` (og/twitter/JSON-LD) → ``h1`` → ``lead-in`` →
  ``trafilatura`` → ``html-title`` (see ``title.py``);
* date — declared → ``meta`` → ``jsonld`` → ``time`` → ``htmldate`` → ``feed`` →
  ``listing`` → ``url`` (see ``dates.py``);
* body — declared → ``trafilatura`` (see ``body.py``);
* language — declared → ``detected`` → ``meta`` (see ``language.py``).

Furniture goes by the declared prune rules, by common patterns and by the source's template
lines (``furniture.py``). ``extract`` is a pure function of the page inputs (body, URL,
content type, feed date) and the source's rules and template lines, so the crawl, the quality
gate and ``clusterwatch extract`` call the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import html as lxml_html

from scraper.extract.body import (
    COMMON_PRUNE,
    MIN_BODY_CHARS,
    declared_container,
    prune_tree,
    to_html,
    to_text,
    trafilatura_blocks,
)
from scraper.extract.dates import BERLIN, page_date, parse_date
from scraper.extract.furniture import Block, TemplateLines, page_lines, remove_furniture
from scraper.extract.language import detect_language, page_language
from scraper.extract.model import DateHints, Extracted, ExtractionError, ExtractionRules
from scraper.extract.page import decode, normalise_space, parse, xpath_texts
from scraper.extract.title import clean_title, holder_of, page_title, preceding_elements
from scraper.text import TITLE_MAX_CHARS, printable, shorten
from scraper.urls import absolute_url

__all__ = [
    "BERLIN",
    "DateHints",
    "Extracted",
    "ExtractionError",
    "ExtractionRules",
    "TemplateLines",
    "decode",
    "detect_language",
    "extract",
    "learn_template",
    "parse_date",
]

GENERIC = ExtractionRules()
NO_HINTS = DateHints()
# Press agencies' dateline markers at the start of a release: "(openPR) - ", "(ots) - ".
AGENCY_MARKER = re.compile(r"^\((?:openPR|ots|pts|dpa|epd|kna|afp|pm|red)\)\s*(?:[-–]\s*)?", re.I)
_DATE_ONLY = re.compile(
    r"^(?:(?:[A-Za-zÄÖÜäöü]+\s*[:|]?\s*)?(?:\d{1,2}\.\s?\d{1,2}\.\s?\d{4}|\d{1,2}\.\s*[A-Za-zÄÖÜäöü]+\.?\s+\d{4})"
    r"(?:,?\s+\d{1,2}:\d{2}(?:\s*Uhr)?)?)$"
)


def extract(
    page: str | bytes,
    url: str,
    rules: ExtractionRules = GENERIC,
    hints: DateHints = NO_HINTS,
    *,
    content_type: str | None = None,
    template: TemplateLines | None = None,
) -> Extracted:
    try:
        tree = parse(page, content_type)
    except ValueError as error:
        raise ExtractionError(f"no HTML page at {url}: {error}", "page") from error

    lines = page_lines(tree)
    blocks, body_source, metadata_title = _body(tree, url, rules)
    kept, _report = remove_furniture(blocks, template)
    first = kept[0].text if kept else ""
    found_title = page_title(tree, rules.title_xpaths, lambda: metadata_title, template, first, url)
    if found_title is None:
        raise ExtractionError(f"no title found on {url}", "title")
    title, title_source = found_title
    if body_source != "declared" and kept:
        kept = _recover_lead(tree, kept, title, template) + kept
    paragraphs = _clean(kept, title, rules)
    text = to_text(paragraphs)
    if len(text) < MIN_BODY_CHARS or not paragraphs:
        raise ExtractionError(f"no article text found on {url}", "text")

    published, date_source = page_date(tree, url, rules.date_xpaths, hints)
    language, language_source = page_language(tree, text, rules.language)
    # Published text is made printable here, where it leaves extraction, so the content
    # hash, the fingerprints, the store and every feed see the same characters
    # (scraper/text.py says which go and why).
    return Extracted(
        title=shorten(printable(title), TITLE_MAX_CHARS),
        text=printable(text),
        html=printable(to_html(paragraphs, url)),
        language=language,
        published_at=published,
        title_source=title_source,
        date_source=date_source,
        body_source=body_source,
        language_source=language_source,
        topics=xpath_texts(tree, rules.topics_xpath) if rules.topics_xpath else [],
        alternates=_alternates(tree, url),
        line_hashes=sorted(lines),
    )


def learn_template(pages: Iterable[str | bytes]) -> TemplateLines:
    """Template lines of a set of one source's pages (what the store learns while crawling)."""
    learned = []
    for page in pages:
        try:
            learned.append(page_lines(parse(page)))
        except ValueError:
            continue
    return TemplateLines.learn(learned)


def _body(
    tree: lxml_html.HtmlElement, url: str, rules: ExtractionRules
) -> tuple[list[Block], str, str]:
    prune = [*COMMON_PRUNE, *rules.prune_xpaths]
    container = declared_container(tree, rules.body_xpaths, prune)
    if container is not None:
        blocks, _ = trafilatura_blocks(container, url, precision=False)
        if sum(len(b.text) for b in blocks) >= MIN_BODY_CHARS:
            return blocks, "declared", ""
    document = lxml_html.fromstring(lxml_html.tostring(tree))
    prune_tree(document, prune)
    blocks, metadata_title = trafilatura_blocks(document, url, precision=True)
    if not blocks:  # precision mode can discard short pages entirely
        blocks, metadata_title = trafilatura_blocks(document, url, precision=False)
    return blocks, "trafilatura", metadata_title


LEAD_MIN_CHARS = 100
LEAD_LOOKBACK = 6


def _recover_lead(
    tree: lxml_html.HtmlElement, kept: list[Block], title: str, template: TemplateLines | None
) -> list[Block]:
    """Paragraphs between the headline and the first extracted one that generic extraction
    dropped (trafilatura discards "teaser"/"lead" boxes, which is where CMSs put the lead).
    Taken only when the headline is found right above them, so nothing else slips in."""
    holder = holder_of(tree, kept[0].text)
    if holder is None:
        return []
    title_key = _key(title)
    found: list[Block] = []
    for count, (text, element) in enumerate(preceding_elements(holder)):
        if title_key and (title_key in _key(text) or title_key in _key(clean_title(text))):
            # The headline's own box may hold the subtitle after the headline.
            found.extend(Block("p", t) for t in reversed(_after_headline(element, title_key)))
            candidates, _ = remove_furniture(found, template)
            return [b for b in reversed(found) if b in candidates]
        if count >= LEAD_LOOKBACK:
            break
        if len(text) >= LEAD_MIN_CHARS:
            found.append(Block("p", text))
    return []


SUBTITLE_MIN_CHARS = 30
DATELIKE = re.compile(
    r"\d{1,2}\.\s?\d{1,2}\.\s?\d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}\.\s+[A-ZÄÖÜ][a-zäöü]+\s+\d{4}"
)


def _after_headline(box: lxml_html.HtmlElement, title_key: str) -> list[str]:
    """Texts that follow the headline element inside ``box`` (subtitle, teaser)."""
    texts: list[str] = []
    seen_title = False
    for element in box.iter("p", "div", "h2", "h3", "h4", "h5", "h6", "span", "h1"):
        if any(isinstance(c.tag, str) and c.tag in ("p", "div", "h1", "h2", "h3") for c in element):
            continue  # not a leaf
        text = normalise_space(element.text_content())
        if not seen_title:
            seen_title = _key(clean_title(text)) == title_key
            continue
        if len(text) >= SUBTITLE_MIN_CHARS and not DATELIKE.search(text):
            texts.append(text)  # a line with a date is the byline, not the subtitle
    return texts


def _clean(blocks: list[Block], title: str, rules: ExtractionRules) -> list[Block]:
    """Drop what repeats the head (title, type line, date line); strip declared prefixes."""
    drop = [re.compile(p) for p in rules.drop_lines]
    title_key = _key(title)
    # The article starts at its headline: what precedes it in the first half is chrome.
    heads = [
        i
        for i, b in enumerate(blocks[: max(1, len(blocks) // 2)])
        if _key(clean_title(b.text)) == title_key
    ]
    if heads:
        blocks = blocks[heads[0] :]
    kept: list[Block] = []
    for block in blocks:
        text = block.text
        if any(p.search(text) for p in drop):
            continue
        cleaned = clean_title(text)
        if not cleaned or _key(cleaned) == title_key or _DATE_ONLY.match(text):
            continue
        if not kept:  # declared prefixes sit at the start of the body text
            for prefix in rules.strip_prefixes:
                text = re.sub(f"^(?:{prefix})", "", text).lstrip()
        text = AGENCY_MARKER.sub("", text).lstrip()
        if not text:
            continue
        if text != block.text:
            block = Block(block.kind, text, min(block.link_chars, len(text)), block.ref)
        kept.append(block)
    return kept


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _alternates(tree: lxml_html.HtmlElement, url: str) -> list[str]:
    found: list[str] = []
    for href in tree.xpath('//link[@rel="alternate"][@hreflang][@href]/@href'):
        absolute = absolute_url(url, normalise_space(str(href)))
        if absolute is None:
            continue
        if absolute.split("#")[0] != url.split("#")[0] and absolute not in found:
            found.append(absolute)
    return found
