"""The article body in layers, as blocks; blocks out as text and as sanitised HTML.

Layers: ``declared`` (the source's body XPaths: the container, pruned, is handed to
trafilatura alone) → ``trafilatura`` (the whole page, pruned of common furniture). A declared
container that is missing or yields less than ``MIN_BODY_CHARS`` falls through to the next
layer, so a redesigned page degrades to generic extraction instead of to nothing.
"""

from __future__ import annotations

import copy
import html as html_lib
from collections.abc import Iterable, Iterator

import nh3
from lxml import etree
from lxml import html as lxml_html

from scraper.extract.furniture import Block
from scraper.extract.page import normalise_space
from scraper.urls import absolute_url

MIN_BODY_CHARS = 80

# Pruned on every page before extraction: never article text.
COMMON_PRUNE = (
    "//script",
    "//style",
    "//noscript",
    "//form",
    "//nav",
    # The page's header, not an article's own (headline, subtitle, date).
    "//header[not(ancestor::article) and not(ancestor::main)]",
    "//footer",
    "//aside",
    "//figure",
    "//figcaption",
    "//*[@role='navigation' or @role='banner' or @role='contentinfo' or @role='dialog']",
    "//*[@aria-hidden='true']",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' caption ')]",
    "//*[contains(@class, 'share') or contains(@class, 'social')]",
    "//*[contains(@class, 'breadcrumb') or contains(@id, 'breadcrumb')]",
    "//*[contains(@class, 'cookie') or contains(@id, 'cookie') or contains(@class, 'consent')"
    " or contains(@id, 'consent')]",
)
# Only outside a declared container: inside it the source said what is article.
_CONTAINER_ONLY = {
    "//header[not(ancestor::article) and not(ancestor::main)]",
    "//footer",
    "//aside",
}
_BLOCK_TAGS = {"p": "p", "head": "head", "item": "item", "quote": "quote", "cell": "cell"}
ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "a",
    "strong",
    "em",
    "b",
    "i",
    "br",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


def declared_container(
    tree: lxml_html.HtmlElement, xpaths: tuple[str, ...], prune: Iterable[str]
) -> lxml_html.HtmlElement | None:
    """The source's declared article container, pruned, as a document of its own.

    The declaration is authoritative: after pruning, class and id attributes are removed so
    trafilatura's class-name heuristics (which drop e.g. a ``div.teaser`` lead) cannot
    second-guess it.
    """
    for xpath in xpaths:
        try:
            found = [n for n in tree.xpath(xpath) if isinstance(n, lxml_html.HtmlElement)]
        except etree.XPathError:
            continue
        if not found:
            continue
        wrapper = lxml_html.Element("html")
        article = etree.SubElement(etree.SubElement(wrapper, "body"), "article")
        for node in found:
            copied = copy.deepcopy(node)
            copied.tail = None
            article.append(copied)
        prune_tree(wrapper, [p for p in prune if p not in _CONTAINER_ONLY])
        wrap_loose_text(article)
        for node in wrapper.iter():
            if isinstance(node.tag, str):
                node.attrib.pop("class", None)
                node.attrib.pop("id", None)
        return wrapper
    return None


_BLOCK_ELEMENTS = frozenset(
    [
        "p",
        "div",
        "ul",
        "ol",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "blockquote",
        "section",
        "article",
        "figure",
        "pre",
        "dl",
    ]
)


def wrap_loose_text(container: etree._Element) -> None:
    """Give text that sits loose between block elements a ``<p>`` of its own.

    Old CMSs write paragraphs as bare text separated by ``<br>`` next to ``<div>``s; an
    inserted block (a credit line, a consent box) then turns the text into a "tail" that
    extractors skip. Line breaks stay, so each line is still a paragraph of its own.
    """
    for element in list(container.iter()):
        if not isinstance(element.tag, str) or element.tag in ("p", "li", "td", "th", "pre"):
            continue
        children = list(element)
        if not any(isinstance(c.tag, str) and c.tag in _BLOCK_ELEMENTS for c in children):
            continue
        if not (element.text or "").strip() and not any((c.tail or "").strip() for c in children):
            continue
        _wrap_runs(element, children)


def _wrap_runs(element: etree._Element, children: list[etree._Element]) -> None:
    text, element.text = element.text, None
    for child in children:
        element.remove(child)
    run: etree._Element | None = None

    def paragraph() -> etree._Element:
        nonlocal run
        if run is None:
            run = etree.SubElement(element, "p")
        return run

    if text and text.strip():
        paragraph().text = text
    for child in children:
        tail, child.tail = child.tail, None
        if isinstance(child.tag, str) and child.tag in _BLOCK_ELEMENTS:
            run = None
            element.append(child)
        else:
            target = paragraph()
            target.append(child)
        if tail and tail.strip():
            target = paragraph()
            last = target[-1] if len(target) else None
            if last is not None:
                last.tail = (last.tail or "") + tail
            else:
                target.text = (target.text or "") + tail


def prune_tree(tree: lxml_html.HtmlElement, rules: Iterable[str]) -> None:
    for rule in rules:
        try:
            nodes = tree.xpath(rule)
        except etree.XPathError:
            continue
        for node in nodes:
            if isinstance(node, etree._Element) and node.getparent() is not None:
                _drop(node)


def _drop(node: etree._Element) -> None:
    """Remove a node but keep its tail text (the text that follows it in its parent)."""
    parent = node.getparent()
    assert parent is not None
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def trafilatura_blocks(
    document: lxml_html.HtmlElement, url: str, precision: bool
) -> tuple[list[Block], str]:
    """Blocks of trafilatura's extraction of ``document``, and its metadata title."""
    # Imported here, not at the top: trafilatura (with py3langid and numpy) is a large part
    # of a crawl process's start-up, and a recrawl with nothing new extracts no page.
    import trafilatura

    doc = trafilatura.bare_extraction(
        lxml_html.tostring(document, encoding="unicode"),
        url=url,
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_formatting=True,
        include_links=True,
        deduplicate=False,
        favor_precision=precision,
    )
    body = getattr(doc, "body", None)
    if body is None:
        return [], ""
    return list(_blocks(body, url)), normalise_space(getattr(doc, "title", None) or "")


def _blocks(body: etree._Element, url: str) -> Iterator[Block]:
    """Leaf blocks in document order: a cell or list item that holds paragraphs gives its
    paragraphs (old sites lay articles out in tables)."""
    for ref in body.iter("ref"):
        target = ref.get("target")
        if target:
            absolute = absolute_url(url, target)
            if absolute is None and not target.strip().lower().startswith("mailto:"):
                del ref.attrib["target"]  # javascript:, data:, a broken URL: text only
            else:
                ref.set("target", absolute or target.strip())
    for element in body.iter(*_BLOCK_TAGS):
        if any(True for _ in element.iterdescendants(*_BLOCK_TAGS)):
            continue
        kind = str(element.tag)
        origin: etree._Element = element
        item = _ancestor(element, "item")
        if item is not None and kind != "item":
            leaves = sum(1 for _ in item.iterdescendants(*_BLOCK_TAGS))
            kind, origin = ("item", item) if leaves == 1 else ("p", element)
        links = sum(len(normalise_space(r.xpath("string()"))) for r in element.iter("ref"))
        for part in _split_lines(element):
            text = normalise_space(part)
            if text:
                yield Block(kind, text, min(links, len(text)), origin)


def _ancestor(element: etree._Element, tag: str) -> etree._Element | None:
    for parent in element.iterancestors(tag):
        return parent
    return None


def _inside(element: etree._Element, tags: tuple[str, ...]) -> bool:
    parent = element.getparent()
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.getparent()
    return False


def _split_lines(element: etree._Element) -> list[str]:
    """A paragraph's text, split at its line breaks (a credit often sits after a <br>)."""
    parts = [""]
    for piece in _walk_text(element):
        if piece is None:
            parts.append("")
        else:
            parts[-1] += piece
    return parts if len(parts) > 1 else ["".join(p for p in parts)]


def _walk_text(element: etree._Element) -> Iterator[str | None]:
    if element.text:
        yield element.text
    for child in element:
        if child.tag == "lb":
            yield None
        else:
            yield from _walk_text(child)
        if child.tail:
            yield child.tail


def to_text(blocks: Iterable[Block]) -> str:
    return "\n\n".join(b.text for b in blocks)


def to_html(blocks: list[Block], base_url: str) -> str:
    """The kept blocks with their structure (headings, lists, links), sanitised with nh3."""
    out: list[str] = []
    open_list: etree._Element | None = None
    for block in blocks:
        element = block.ref if isinstance(block.ref, etree._Element) else None
        list_parent = element.getparent() if element is not None and block.kind == "item" else None
        if open_list is not None and list_parent is not open_list:
            out.append(f"</{_list_tag(open_list)}>")
            open_list = None
        if block.kind == "item":
            if list_parent is not None and open_list is None:
                open_list = list_parent
                out.append(f"<{_list_tag(list_parent)}>")
            out.append(f"<li>{_inline(element, block.text)}</li>")
            if list_parent is None:
                out[-1] = f"<ul>{out[-1]}</ul>"
        elif block.kind == "head":
            level = _heading_level(element)
            out.append(f"<h{level}>{html_lib.escape(block.text)}</h{level}>")
        elif block.kind == "quote":
            out.append(f"<blockquote><p>{_inline(element, block.text)}</p></blockquote>")
        else:
            out.append(f"<p>{_inline(element, block.text)}</p>")
    if open_list is not None:
        out.append(f"</{_list_tag(open_list)}>")
    return sanitise("".join(out), base_url)


def sanitise(markup: str, base_url: str | None = None) -> str:
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _list_tag(element: etree._Element) -> str:
    return "ol" if (element.get("rend") or "").lower() == "ol" else "ul"


def _heading_level(element: etree._Element | None) -> int:
    rend = (element.get("rend") or "h2") if element is not None else "h2"
    try:
        level = int(rend.lstrip("h"))
    except ValueError:
        level = 2
    return min(max(level, 2), 4)


def _inline(element: etree._Element | None, text: str) -> str:
    """The block's text with its links (and only its links) as markup.

    When a block was split at line breaks or cleaned, its element no longer matches the
    text; then the text goes out plain rather than with mismatched markup.
    """
    if element is None or normalise_space(element.xpath("string()")) != text:
        return html_lib.escape(text)
    parts: list[str] = [html_lib.escape(element.text or "")]
    for child in element:
        inner = html_lib.escape(normalise_space(child.xpath("string()")))
        if child.tag == "ref" and child.get("target"):
            href = html_lib.escape(str(child.get("target")), quote=True)
            parts.append(f'<a href="{href}">{inner}</a>')
        elif child.tag == "hi" and (child.get("rend") or "") in ("#b", "#strong"):
            parts.append(f"<strong>{inner}</strong>")
        elif child.tag == "hi" and (child.get("rend") or "") in ("#i", "#em"):
            parts.append(f"<em>{inner}</em>")
        elif child.tag == "lb":
            parts.append("<br>")
        else:
            parts.append(inner)
        parts.append(html_lib.escape(child.tail or ""))
    return normalise_space("".join(parts))
