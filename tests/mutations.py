"""Article template mutations for the metamorphic suite (tests/test_mutations.py).

Each mutation is a small, deterministic, pure function ``(html, ctx) -> html`` that changes a
replayed article page the way a site redesign plausibly would (class names hashed, wrappers
added, the date moved into metadata, furniture dropped into the article body, …) while the
article itself — title, date, body text — stays the same. Extraction must still get the gold
answer. A mutation that does not apply to a page returns the *same string* it was given; the
suite reports that as "n/a" and does not count it.

The furniture mutations (credits, consent, social) also name the strings they insert
(``Mutation.furniture``): the check treats them like the page's ``must_not_contain``.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from lxml import etree
from lxml import html as lxml_html

from scraper.extract import ExtractionRules, parse_date

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class MutationContext:
    """What a mutation may know about the page it mutates."""

    rules: ExtractionRules
    url: str
    title: str  # gold title
    date: date  # gold publication day (Europe/Berlin)
    # Gold wall time (Europe/Berlin, aware). Equals ``date`` at 00:00 when the gold has no
    # time; needed so an ISO timestamp written into metadata carries the page's real time.
    published: datetime

    @classmethod
    def from_gold(cls, rules: ExtractionRules, data: dict[str, object]) -> MutationContext:
        local = str(data["published_local"]).replace(" ", "T")
        wall = datetime.fromisoformat(local if "T" in local else f"{local}T00:00")
        wall = wall.replace(tzinfo=BERLIN)
        return cls(rules, str(data["url"]), str(data["title"]), wall.date(), wall)


MutationFn = Callable[[str, MutationContext], str]


@dataclass(frozen=True)
class Mutation:
    kind: str  # the key in tests/quality_floors.toml [mutations.<kind>]
    apply: MutationFn
    description: str
    furniture: Callable[[MutationContext], tuple[str, ...]] = field(default=lambda ctx: ())


# -- parsing / serialising --------------------------------------------------------------


def parse(page: str) -> lxml_html.HtmlElement:
    # As scraper.extract does: lxml refuses str input that still declares an encoding.
    return lxml_html.document_fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", page))


def serialise(root: lxml_html.HtmlElement) -> str:
    doctype = root.getroottree().docinfo.doctype
    return lxml_html.tostring(root, encoding="unicode", doctype=doctype or None)


def canonical(page: str) -> str:
    """The page parsed and serialised again (compare pages by structure, not by bytes)."""
    return serialise(parse(page))


# -- helpers on the page tree -------------------------------------------------------------


def body_containers(root: lxml_html.HtmlElement, rules: ExtractionRules) -> list[etree._Element]:
    """The declared body container: the nodes of the first ``body_xpaths`` that matches."""
    for xpath in rules.body_xpaths:
        found = [n for n in root.xpath(xpath) if isinstance(n, etree._Element)]
        if found:
            return found
    return []


def _inside(node: etree._Element, containers: Iterable[etree._Element]) -> bool:
    boxes = set(containers)
    return any(a in boxes for a in node.iterancestors()) or node in boxes


def _contains_any(node: etree._Element, others: Iterable[etree._Element]) -> bool:
    return any(o is node or node in o.iterancestors() for o in others)


def _elements(root: etree._Element) -> Iterator[etree._Element]:
    for node in root.iter():
        if isinstance(node.tag, str):  # not comments / processing instructions
            yield node


def drop(node: etree._Element) -> None:
    """Remove ``node`` but keep its tail text in place."""
    parent = node.getparent()
    if parent is None:
        return
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def _drop_result(result: object, keep: Iterable[etree._Element]) -> bool:
    """Remove what an XPath result stands for: an element, the element owning a matched
    attribute, or a matched text node. Never removes an element holding one of ``keep``
    (then only its own text goes). Returns whether anything changed."""
    keep = list(keep)
    if isinstance(result, etree._Element):
        if _contains_any(result, keep):
            if result.text:
                result.text = None
                return True
            return False
        drop(result)
        return True
    if isinstance(result, str) and hasattr(result, "getparent"):
        owner = result.getparent()  # type: ignore[attr-defined]
        if owner is None:
            return False
        if getattr(result, "is_attribute", False):
            return _drop_result(owner, keep)
        if getattr(result, "is_tail", False):
            owner.tail = None
        else:
            owner.text = None
        return True
    return False


def _hashed(token: str) -> str:
    # Only hex digits after the "x": no rule word (date, title, text, content, share, …)
    # can survive as a substring, so contains(@class, …) cannot match by accident.
    return "x" + hashlib.sha1(token.encode("utf-8")).hexdigest()[:7]


def _rename(node: etree._Element) -> bool:
    changed = False
    for name in ("class", "id"):
        value = node.get(name)
        if value is not None and value.strip():
            node.set(name, " ".join(_hashed(t) for t in value.split()))
            changed = True
    return changed


_PHRASING = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "span", "a", "em", "strong", "b", "i", "small",
    "label", "dt", "pre", "time", "abbr", "cite", "q", "sub", "sup",
}  # fmt: skip


def _flow_containers(containers: list[etree._Element]) -> list[etree._Element]:
    """Containers that may hold a <div>/<p> (inserting a <p> into a <p> would not survive
    re-parsing: the parser closes the outer paragraph)."""
    return [c for c in containers if str(c.tag).lower() not in _PHRASING]


def title_element(root: lxml_html.HtmlElement, rules: ExtractionRules) -> etree._Element | None:
    """The element the declared title rule reads (the owner of a matched text node)."""
    for xpath in rules.title_xpaths:
        for result in root.xpath(xpath):
            if isinstance(result, etree._Element):
                if result.text_content().strip():
                    return result
            elif isinstance(result, str) and result.strip() and hasattr(result, "getparent"):
                owner = result.getparent()  # type: ignore[attr-defined]
                if getattr(result, "is_tail", False) and owner is not None:
                    owner = owner.getparent()
                return owner
    return None


def _german(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _iso(ctx: MutationContext) -> str:
    return ctx.published.isoformat(timespec="seconds")


# -- attribute / structure mutations ------------------------------------------------------


def strip_attrs_outside_body(page: str, ctx: MutationContext) -> str:
    root = parse(page)
    containers = body_containers(root, ctx.rules)
    if not containers:
        return page
    changed = False
    for node in _elements(root):
        if _inside(node, containers):
            continue
        for name in ("class", "id"):
            if name in node.attrib:
                del node.attrib[name]
                changed = True
    return serialise(root) if changed else page


def rename_attrs_outside_body(page: str, ctx: MutationContext) -> str:
    root = parse(page)
    containers = body_containers(root, ctx.rules)
    if not containers:
        return page
    changed = False
    for node in _elements(root):
        if not _inside(node, containers):
            changed |= _rename(node)
    return serialise(root) if changed else page


def rename_body_class(page: str, ctx: MutationContext) -> str:
    root = parse(page)
    containers = body_containers(root, ctx.rules)
    changed = False
    # Rename until no declared body XPath matches any more (a rename may uncover the next
    # candidate, e.g. an inner element with the same class).
    for _ in range(5):
        if not containers:
            break
        renamed = [_rename(c) for c in containers]
        if not any(renamed):
            return page  # matched by structure alone: cannot be broken by renaming
        changed = True
        containers = body_containers(root, ctx.rules)
    if containers:
        return page
    return serialise(root) if changed else page


WRAP_CLASSES = ("l-grid", "l-grid__cell")


def wrap_body(page: str, ctx: MutationContext) -> str:
    root = parse(page)
    containers = body_containers(root, ctx.rules)
    if not containers:
        return page
    for node in containers:
        parent = node.getparent()
        if parent is None:
            return page
        outer = etree.Element("div", {"class": WRAP_CLASSES[0]})
        inner = etree.SubElement(outer, "div", {"class": WRAP_CLASSES[1]})
        outer.tail, node.tail = node.tail, None
        parent.insert(parent.index(node), outer)
        inner.append(node)
    return serialise(root)


# -- title / date mutations ---------------------------------------------------------------


def drop_declared_title(page: str, ctx: MutationContext) -> str:
    root = parse(page)
    head_titles = [*root.xpath("//head/title"), *root.xpath("//meta[@property='og:title']")]
    keep = [*head_titles, *body_containers(root, ctx.rules)]
    changed = False
    for xpath in ctx.rules.title_xpaths:
        for result in root.xpath(xpath):
            if isinstance(result, etree._Element) and any(result is t for t in head_titles):
                continue
            changed |= _drop_result(result, keep)
    return serialise(root) if changed else page


_DATE_META = re.compile(r"(published|modified|updated|created|date|time)", re.IGNORECASE)
_DATE_KEYS = ("datePublished", "dateModified", "dateCreated", "uploadDate")


def _strip_ld_dates(value: object) -> bool:
    changed = False
    if isinstance(value, dict):
        for key in _DATE_KEYS:
            if key in value:
                del value[key]
                changed = True
        for child in value.values():
            changed |= _strip_ld_dates(child)
    elif isinstance(value, list):
        for child in value:
            changed |= _strip_ld_dates(child)
    return changed


def _ld_json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _remove_dates(root: lxml_html.HtmlElement, ctx: MutationContext) -> bool:
    """Remove every carrier of the article's date: the declared date elements, <time>
    elements and itemprop dates with that day, date metas, JSON-LD date keys, and short
    visible date lines (outside the body) that read as that day."""
    containers = body_containers(root, ctx.rules)
    title = title_element(root, ctx.rules)
    keep = [*containers, *([title] if title is not None else [])]
    changed = False
    for xpath in ctx.rules.date_xpaths:
        for result in root.xpath(xpath):
            changed |= _drop_result(result, keep)

    def same_day(text: str | None) -> bool:
        parsed = parse_date(text or "")
        return parsed is not None and parsed.astimezone(BERLIN).date() == ctx.date

    for node in list(_elements(root)):
        if node is root or root not in node.iterancestors():
            continue  # the root itself, or already removed with an ancestor
        tag = str(node.tag).lower()
        if tag == "meta":
            names = " ".join(node.get(a, "") for a in ("property", "name", "itemprop"))
            if _DATE_META.search(names):
                drop(node)
                changed = True
            continue
        if tag == "script" and (node.get("type") or "").lower() == "application/ld+json":
            try:
                data = json.loads(node.text or "")
            except ValueError:
                continue
            if _strip_ld_dates(data):
                node.text = _ld_json(data)
                changed = True
            continue
        if _inside(node, containers) or _contains_any(node, keep):
            continue
        if tag == "time" or node.get("itemprop") in _DATE_KEYS:
            if same_day(node.get("datetime")) or same_day(node.text_content()):
                drop(node)
                changed = True
            continue
        text = node.text_content().strip()
        if len(node) == 0 and len(text) <= 40 and same_day(text):
            drop(node)
            changed = True
    return changed


def _head(root: lxml_html.HtmlElement) -> etree._Element:
    head = root.find("head")
    if head is None:
        head = etree.Element("head")
        root.insert(0, head)
    return head


def date_in_meta_only(page: str, ctx: MutationContext) -> str:
    root = parse(page)
    if not _remove_dates(root, ctx):
        return page
    meta = etree.SubElement(_head(root), "meta")
    meta.set("property", "article:published_time")
    meta.set("content", _iso(ctx))
    meta.tail = "\n"
    return serialise(root)


_ARTICLE_TYPES = {"Article", "NewsArticle", "BlogPosting", "Report", "PressRelease"}


def _article_object(data: object) -> dict[str, object] | None:
    """The first schema.org article object in a JSON-LD value (top level or @graph)."""
    items = data if isinstance(data, list) else [data]
    for item in items:
        if not isinstance(item, dict):
            continue
        types = item.get("@type")
        types = types if isinstance(types, list) else [types]
        if any(t in _ARTICLE_TYPES for t in types):
            return item
        found = _article_object(item.get("@graph", []))
        if found is not None:
            return found
    return None


def date_in_jsonld_only(page: str, ctx: MutationContext) -> str:
    root = parse(page)
    if not _remove_dates(root, ctx):
        return page
    # Put the date into the page's own article object when it has one (the CMS's JSON-LD),
    # else add a NewsArticle block.
    for script in root.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        article = _article_object(data)
        if article is not None:
            article["datePublished"] = _iso(ctx)
            script.text = _ld_json(data)
            return serialise(root)
    script = etree.SubElement(_head(root), "script", {"type": "application/ld+json"})
    script.text = _ld_json(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "mainEntityOfPage": ctx.url,
            "headline": ctx.title,
            "datePublished": _iso(ctx),
        }
    )
    script.tail = "\n"
    return serialise(root)


def glue_date_to_title(page: str, ctx: MutationContext) -> str:
    root = parse(page)
    node = title_element(root, ctx.rules)
    stamp = _german(ctx.date)
    if node is None:
        return page
    if re.sub(r"\s+", " ", node.text_content()).strip().startswith(stamp):
        return page  # already glued (the old clib2021.de news reader)
    node.text = stamp + (node.text or "").lstrip()
    return serialise(root)


# -- furniture inside the body -----------------------------------------------------------

CREDITS = ("© BMWK/Susanne Eriksson", "Foto: Jan Muster", "Bild: iStock.com/RapidEye")


def _credit(ctx: MutationContext, offset: int) -> str:
    return CREDITS[(zlib.crc32(ctx.url.encode("utf-8")) + offset) % len(CREDITS)]


CONSENT_HEADING = "Bitte unterstützen Sie die Öffentlichkeitsarbeit des Ministeriums:"
CONSENT_TEXT = (
    "Wir benötigen Ihre Einwilligung, um Ihre Nutzeraktivität auf unserer Website mit dem "
    "Webanalysedienst etracker anonymisiert zu erfassen und statistisch auszuwerten. Ihre "
    "Einwilligung können Sie jederzeit in der Datenschutzerklärung widerrufen."
)
CONSENT_STRINGS = (
    "Bitte unterstützen Sie die Öffentlichkeitsarbeit des Ministeriums",
    "Wir benötigen Ihre Einwilligung",
    "Webanalysedienst etracker",
    "Ihre Einwilligung können Sie jederzeit",
    "Mehr zum Datenschutz",
    "Zustimmen",
    "Ablehnen",
)
SOCIAL_STRINGS = (
    "Login",
    "Diesen Beitrag teilen",
    "Teilen auf Facebook",
    "Twitter",
    "XING",
    "LinkedIn",
    "Seite drucken",
)


def _fragment(markup: str) -> etree._Element:
    return lxml_html.fragment_fromstring(markup)


def _insert_top(page: str, ctx: MutationContext, markup: str) -> str:
    root = parse(page)
    flow = _flow_containers(body_containers(root, ctx.rules))
    if not flow:
        return page
    box = flow[0]
    block = _fragment(markup)
    block.tail, box.text = box.text, "\n"
    box.insert(0, block)
    return serialise(root)


def _insert_bottom(page: str, ctx: MutationContext, markup: str) -> str:
    root = parse(page)
    flow = _flow_containers(body_containers(root, ctx.rules))
    if not flow:
        return page
    block = _fragment(markup)
    block.tail = "\n"
    flow[-1].append(block)
    return serialise(root)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def credit_top(page: str, ctx: MutationContext) -> str:
    return _insert_top(page, ctx, f"<p>{_esc(_credit(ctx, 0))}</p>")


def credit_bottom(page: str, ctx: MutationContext) -> str:
    return _insert_bottom(page, ctx, f"<div>{_esc(_credit(ctx, 1))}</div>")


def consent_top(page: str, ctx: MutationContext) -> str:
    markup = (
        "<div><div>"
        f"<p><strong>{CONSENT_HEADING}</strong></p>"
        f"<p>{CONSENT_TEXT}</p>"
        '<p><a href="/Navigation/DE/Service/Datenschutzerklaerung/datenschutzerklaerung.html">'
        "Mehr zum Datenschutz</a></p>"
        '<div><a href="#" role="button">Zustimmen</a> <a href="#" role="button">Ablehnen</a>'
        "</div></div></div>"
    )
    return _insert_top(page, ctx, markup)


def social_bottom(page: str, ctx: MutationContext) -> str:
    url = quote(ctx.url, safe="")
    markup = (
        "<div>"
        "<p>Login</p>"
        "<p>Diesen Beitrag teilen:</p>"
        "<ul>"
        f'<li><a href="https://www.facebook.com/sharer/sharer.php?u={url}">'
        "Teilen auf Facebook</a></li>"
        f'<li><a href="https://twitter.com/intent/tweet?url={url}">Twitter</a></li>'
        f'<li><a href="https://www.xing.com/spi/shares/new?url={url}">XING</a></li>'
        f'<li><a href="https://www.linkedin.com/sharing/share-offsite/?url={url}">LinkedIn</a></li>'
        "</ul>"
        '<p><a href="javascript:window.print()">Seite drucken</a></p>'
        "</div>"
    )
    return _insert_bottom(page, ctx, markup)


MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        "strip_attrs_outside_body",
        strip_attrs_outside_body,
        "every class/id outside the declared body container removed",
    ),
    Mutation(
        "rename_attrs_outside_body",
        rename_attrs_outside_body,
        "every class/id outside the body renamed to a hash-like name",
    ),
    Mutation(
        "rename_body_class",
        rename_body_class,
        "the body container's class/id renamed: the declared body XPath no longer matches",
    ),
    Mutation("wrap_body", wrap_body, "the body container wrapped in two new divs"),
    Mutation(
        "drop_declared_title",
        drop_declared_title,
        "declared title element(s) removed; <title> and og:title stay",
    ),
    Mutation(
        "date_in_meta_only",
        date_in_meta_only,
        "visible date removed, date only in meta article:published_time",
    ),
    Mutation(
        "date_in_jsonld_only",
        date_in_jsonld_only,
        "visible date removed, date only in a JSON-LD NewsArticle datePublished",
    ),
    Mutation(
        "glue_date_to_title",
        glue_date_to_title,
        "the date glued before the title text ('22.01.2016Title')",
    ),
    Mutation(
        "credit_top",
        credit_top,
        "a photo credit line at the top inside the body",
        lambda ctx: (_credit(ctx, 0),),
    ),
    Mutation(
        "credit_bottom",
        credit_bottom,
        "a photo credit line at the bottom inside the body",
        lambda ctx: (_credit(ctx, 1),),
    ),
    Mutation(
        "consent_top",
        consent_top,
        "an etracker consent block at the top inside the body",
        lambda ctx: CONSENT_STRINGS,
    ),
    Mutation(
        "social_bottom",
        social_bottom,
        "a login/share block at the bottom inside the body",
        lambda ctx: SOCIAL_STRINGS,
    ),
)
BY_KIND = {m.kind: m for m in MUTATIONS}
