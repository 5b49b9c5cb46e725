"""Generic discovery (scraper/discovery.py): next listing page, feed links, robots sitemaps.

Two parts: unit tests per next-page layer on small literal pages (with the negative cases),
and a listing mutation suite over every replayed listing page of every source: the page's
pagination is rewritten the way a redesign would, and ``next_page`` must still reach the
true next page — with the source's declared XPaths and with none. The share of (listing page,
mutation) pairs that reach it is held to ``[listing_mutations]`` in tests/quality_floors.toml.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urljoin

import pytest
from lxml import html as lxml_html

from monitor.replay import ReplayTree
from scraper.discovery import NextPage, feed_links, next_page, sitemaps_from_robots
from scraper.evaluation import MAX_REDIRECTS, fetch_replayed, spider_classes
from tests.conftest import SITES

FLOORS = tomllib.loads(Path(__file__).with_name("quality_floors.toml").read_text("utf-8"))
BASE = "https://www.example.de/aktuelles/liste.html"
WP = "https://www.example.de/de/news/"


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def found(html: str, url: str = BASE, declared: tuple[str, ...] = ()) -> NextPage | None:
    return next_page(html, url, declared)


# -- layer: declared ------------------------------------------------------------------------


def test_declared_xpath_wins_and_is_resolved_and_stripped() -> None:
    html = page(
        '<div class="pager"><a class="go" href="  liste.html?page=2 \n">x</a></div>'
        '<a rel="next" href="/other.html?page=9">y</a>'
    )
    got = found(html, declared=("//div[@class='pager']/a/@href",))
    assert got == NextPage(f"{BASE}?page=2", "declared")


def test_declared_xpath_may_select_the_element_and_falls_through_when_empty() -> None:
    html = page('<nav><a id="n" href="?page=2">Seite 2</a></nav>')
    assert found(html, declared=("//a[@id='n']",)) == NextPage(f"{BASE}?page=2", "declared")
    got = found(html, declared=("//a[@id='missing']/@href",))
    assert got is not None and got.layer == "numbered"


def test_declared_xpath_that_points_back_is_refused() -> None:
    html = page('<a class="next" href="liste.html">zurück</a>')
    assert found(html, f"{BASE}?page=2", ("//a[@class='next']/@href",)) is None


def test_declared_exslt_regex_xpath_as_in_parsel() -> None:
    html = page('<a data-x="nav-next" href="?page=2">»</a>')
    got = found(html, declared=("//a[re:test(@data-x, 'next$')]/@href",))
    assert got == NextPage(f"{BASE}?page=2", "declared")


# -- layer: rel-next ------------------------------------------------------------------------


def test_rel_next_link_in_head() -> None:
    html = page("<p>Liste</p>", head='<link rel="next" href="https://www.example.de/p/2">')
    assert found(html) == NextPage("https://www.example.de/p/2", "rel-next")


def test_rel_next_anchor_with_several_rel_tokens() -> None:
    html = page('<a rel="nofollow Next" href="/aktuelles/liste.html?p=2">mehr</a>')
    assert found(html) == NextPage(f"{BASE}?p=2", "rel-next")


def test_rel_next_to_another_host_is_refused() -> None:
    html = page(
        '<a rel="next" href="https://tracker.example.com/liste.html?page=2">»</a>'
        '<a href="?page=2">2</a>'
    )
    assert found(html) == NextPage(f"{BASE}?page=2", "numbered")


# -- layer: label ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "anchor",
    [
        '<a href="?page=2">weiter</a>',
        '<a href="?page=2">Weiter »</a>',
        '<a href="?page=2">  Nächste Seite&nbsp;› </a>',
        '<a href="?page=2">NEXT</a>',
        '<a href="?page=2">›</a>',
        '<a href="?page=2">&raquo;</a>',
        '<a href="?page=2">Vor</a>',
        '<a href="?page=2">vorwärts</a>',
        '<a href="?page=2">Ältere Beiträge</a>',
        '<a href="?page=2" aria-label="Nächste Seite"><svg></svg></a>',
        '<a href="?page=2" title="next"><i class="icon"></i></a>',
        '<a href="?page=2"><img src="/arrow.png" alt="weiter"></a>',
    ],
)
def test_label_says_next(anchor: str) -> None:
    assert found(page(f"<div>{anchor}</div>")) == NextPage(f"{BASE}?page=2", "label")


def test_weiter_lesen_article_link_is_not_a_next_page() -> None:
    html = page(
        "<article><h2>Meldung</h2><p>Das Cluster wächst weiter.</p>"
        '<a href="/meldungen/cluster-waechst.html">weiter lesen</a>'
        '<a href="/meldungen/cluster-waechst.html">Weiterlesen</a>'
        '<a href="/meldungen/andere.html">Lesen Sie weiter, was das Cluster plant</a></article>'
    )
    assert found(html) is None


def test_bare_weiter_to_an_article_is_not_a_next_page() -> None:
    # "weiter" is also a read-more label: only a link into the same listing counts.
    html = page(
        '<article><p>Text</p><a href="/meldungen/cluster-waechst.html">weiter</a></article>'
    )
    assert found(html) is None


def test_unambiguous_label_may_point_to_another_path() -> None:
    html = page('<a href="/aktuelles/archiv-2.html">Nächste Seite</a>')
    assert found(html) == NextPage("https://www.example.de/aktuelles/archiv-2.html", "label")


def test_backward_and_last_labels_are_not_next() -> None:
    html = page(
        '<a href="?page=1">« Zurück</a><a href="?page=1">‹</a>'
        '<a href="?page=9" aria-label="Letzte Seite">»</a>'
        '<a href="?page=1" title="Vorherige Seite">Vorherige</a>'
    )
    assert found(html, f"{BASE}?page=2") is None


def test_label_prefers_the_page_right_after_the_current_one() -> None:
    # "»" to the last page before "›" to the next one: the page number decides.
    html = page('<a href="?page=9">»</a><a href="?page=3">›</a>')
    assert found(html, f"{BASE}?page=2") == NextPage(f"{BASE}?page=3", "label")


def test_javascript_and_fragment_links_are_refused() -> None:
    html = page(
        '<a href="javascript:loadPage(2)">weiter</a><a href="#">»</a>'
        '<a href="  #top">next</a><a href="mailto:a@example.de">weiter</a>'
    )
    assert found(html) is None


# -- layer: class ---------------------------------------------------------------------------


def test_class_on_the_li_gsb_redesign() -> None:
    html = page(
        '<div class="navIndex"><ul><li><strong>1</strong></li>'
        '<li class="forward"><a href="liste.html?gtp=1862532_list%253D2">'
        '<img src="/arrow.svg" alt=""></a></li></ul></div>'
    )
    got = found(html)
    assert got == NextPage(f"{BASE}?gtp=1862532_list%253D2", "class")


def test_class_on_the_anchor_wordpress() -> None:
    html = page('<div><a class="next page-numbers" href="page/2/"><i></i></a></div>')
    assert found(html, WP) == NextPage(f"{WP}page/2/", "class")


def test_class_up_to_three_levels_and_not_further() -> None:
    near = page('<div class="pager-next"><p><span><a href="?page=2">⇢</a></span></p></div>')
    assert found(near) == NextPage(f"{BASE}?page=2", "class")
    far = page(
        '<div class="next"><section><p><span><a href="/x.html">⇢</a></span></p></section></div>'
    )
    assert found(far) is None


def test_class_token_must_match_whole() -> None:
    html = page('<div class="next-events"><a href="/termine/messe.html">Messe</a></div>')
    assert found(html) is None


def test_disabled_next_is_not_a_next_page() -> None:
    html = page('<ul><li class="next disabled"><a href="?page=3">⇢</a></li></ul>')
    assert found(html, f"{BASE}?page=3") is None
    html = page('<ul><li class="next disabled"><a href="?page=4">⇢</a></li></ul>')
    assert found(html, f"{BASE}?page=3") is None


# -- layer: numbered ------------------------------------------------------------------------


def test_numbered_page_param() -> None:
    html = page('<div><span>1</span> <a href="?page=2">2</a> <a href="?page=3">3</a></div>')
    assert found(html) == NextPage(f"{BASE}?page=2", "numbered")


def test_numbered_from_the_current_page_in_the_url() -> None:
    html = page(
        '<div><a href="?p=1">1</a><a href="?p=2">2</a><a href="?p=3">3</a><a href="?p=4">4</a>'
        "</div>"
    )
    assert found(html, f"{BASE}?p=2") == NextPage(f"{BASE}?p=3", "numbered")


def test_numbered_link_to_page_1_from_page_2_is_not_next() -> None:
    html = page('<div><a href="liste.html">1</a><span>2</span></div>')
    assert found(html, f"{BASE}?page=2") is None
    # and the link back to page 1 by its number is not taken for any other layer either
    html = page('<div><a class="next" href="liste.html?page=1">1</a><span>2</span></div>')
    assert found(html, f"{BASE}?page=2") is None


def test_numbered_gsb_double_encoded() -> None:
    html = page(
        '<div class="navIndex"><ul>'
        '<li><a href="liste.html?gtp=1862532_list%253D1">1</a></li>'
        "<li><strong>2</strong></li>"
        '<li><a href="liste.html?gtp=1862532_list%253D3">3</a></li></ul></div>'
    )
    got = found(html, f"{BASE}?gtp=1862532_list%253D2")
    assert got == NextPage(f"{BASE}?gtp=1862532_list%253D3", "numbered")


def test_numbered_zero_based_page_param_learns_the_offset() -> None:
    # Page 2 of a listing whose pageNo counts from 0 (pageNo=1 is page 2).
    html = page(
        '<ul><li><a href="liste.html">1</a></li><li><span>2</span></li>'
        '<li><a href="liste.html?pageNo=2">3</a></li></ul>'
    )
    got = found(html, f"{BASE}?pageNo=1")
    assert got == NextPage(f"{BASE}?pageNo=2", "numbered")


def test_numbered_current_page_as_marked_by_aria_current() -> None:
    html = page(
        '<nav><a href="?page=1">1</a><a href="?page=2">2</a>'
        '<a aria-current="page" href="?page=3">3</a><a href="?page=4">4</a></nav>'
    )
    assert found(html, f"{BASE}?page=3") == NextPage(f"{BASE}?page=4", "numbered")


def test_numbered_semicolon_page_param() -> None:
    html = page(
        '<div><a href="/aktuelles/liste.html;page=1">1</a><b>2</b>'
        '<a href="/aktuelles/liste.html;page=3">3</a></div>'
    )
    got = found(html, "https://www.example.de/aktuelles/liste.html;page=2")
    assert got == NextPage("https://www.example.de/aktuelles/liste.html;page=3", "numbered")


def test_numbered_wordpress_paths() -> None:
    html = page('<div><a href="/de/news/">1</a><b>2</b><a href="/de/news/page/3/">3</a></div>')
    assert found(html, f"{WP}page/2/") == NextPage(f"{WP}page/3/", "numbered")


def test_numbered_current_page_is_read_near_the_pagination_only() -> None:
    html = page(
        '<ul class="years"><li class="active"><a href="?year=2024">2024</a></li>'
        '<li><a href="?year=2023">2023</a></li></ul>'
        '<p class="pager"><span>1</span><a href="?year=2024&amp;page=2">2</a></p>'
    )
    got = found(html, f"{BASE}?year=2024")
    assert got == NextPage(f"{BASE}?year=2024&page=2", "numbered")


def test_numbered_ignores_other_listings_and_the_last_page() -> None:
    other = page('<div><span>1</span><a href="/termine/liste.html?page=2">2</a></div>')
    assert found(other) is None
    last = page('<div><a href="?page=1">1</a><a href="?page=2">2</a><span>3</span></div>')
    assert found(last, f"{BASE}?page=3") is None


# -- layer: wordpress -----------------------------------------------------------------------


def test_wordpress_archive_links_the_next_page_path() -> None:
    html = page('<div class="teaser"><a href="/de/news/page/2/"><img src="x.jpg" alt=""></a></div>')
    assert found(html, WP) == NextPage(f"{WP}page/2/", "wordpress")
    assert found(html, f"{WP}page/2/") is None


def test_wordpress_by_wp_content_on_a_non_slash_url() -> None:
    url = "https://www.example.de/news/index.php"
    html = page('<a href="/news/index.php/page/2/">Ältere</a>', '<link href="/wp-content/x.css">')
    assert found(html, url) is None  # the archive path must end in "/" to have /page/N/
    html = page('<a href="/blog/page/2/">Ältere</a>', '<link href="/wp-content/x.css">')
    assert found(html, "https://www.example.de/blog/") == NextPage(
        "https://www.example.de/blog/page/2/", "wordpress"
    )


# -- general refusals -----------------------------------------------------------------------


def test_never_the_page_itself() -> None:
    html = page('<a rel="next" href="liste.html#top">»</a><a class="next" href="">weiter</a>')
    assert found(html) is None


def test_another_host_is_never_next() -> None:
    html = page(
        '<a rel="next" href="https://www.other.de/aktuelles/liste.html?page=2">»</a>'
        '<a href="https://www.other.de/aktuelles/liste.html?page=2">weiter</a>'
        '<div class="next"><a href="//cdn.other.de/liste.html?page=2">Nächste Seite</a></div>'
    )
    assert found(html) is None


def test_base_href_is_honoured() -> None:
    html = page('<a rel="next" href="liste.html?page=2">»</a>', '<base href="/archiv/">')
    assert found(html) == NextPage("https://www.example.de/archiv/liste.html?page=2", "rel-next")


def test_empty_or_unparsable_page() -> None:
    assert found("") is None
    assert found("   ") is None
    assert found(
        '<?xml version="1.0" encoding="utf-8"?><html><body><a rel="next" href="?p=2">'
        "x</a></body></html>"
    ) == NextPage(f"{BASE}?p=2", "rel-next")


# -- feed_links and sitemaps_from_robots ----------------------------------------------------


def test_feed_links() -> None:
    html = page(
        "<p>x</p>",
        '<link rel="alternate" type="application/rss+xml" href="/de/feed/">'
        '<link rel="stylesheet" href="/s.css">'
        '<link rel="alternate" hreflang="en" href="/en/news/">'
        '<link rel="Alternate" type="application/atom+xml; charset=utf-8" '
        'href="https://feeds.example.com/atom">'
        '<link rel="alternate" type="application/rss+xml" href="https://www.example.de/de/feed/">'
        '<link rel="alternate" type="application/rss+xml" href="javascript:void(0)">',
    )
    assert feed_links(html, WP) == [
        "https://www.example.de/de/feed/",
        "https://feeds.example.com/atom",
    ]
    assert feed_links("", WP) == []


def test_feed_links_on_replayed_listing() -> None:
    response = fetch_replayed(ReplayTree(SITES), "https://www.clib-cluster.de/de/news/")
    assert feed_links(response.text, response.url) == ["https://www.clib-cluster.de/de/feed/"]


def test_sitemaps_from_robots() -> None:
    robots = (
        "\ufeffUser-agent: *\nDisallow: /intern/\n"
        "Sitemap: https://www.example.de/sitemap.xml\n"
        "sitemap:https://www.example.de/news-sitemap.xml # news\n"
        "  SITEMAP :  https://www.example.de/sitemap.xml\n"
        "# Sitemap: https://www.example.de/commented.xml\n"
    )
    assert sitemaps_from_robots(robots) == [
        "https://www.example.de/sitemap.xml",
        "https://www.example.de/news-sitemap.xml",
    ]
    assert sitemaps_from_robots("") == []


# ===========================================================================================
# Listing mutation suite


@dataclass(frozen=True)
class ListingPage:
    source: str
    number: int  # 1-based position in the walk from the entry URL
    url: str  # as served (after replayed redirects)
    html: str
    next_url: str | None  # the true next page (declared XPaths on the unmutated page)
    walk: tuple[str, ...]  # every page URL of this listing, in order


def _file_of(tree: ReplayTree, url: str) -> Path | None:
    for _ in range(MAX_REDIRECTS):
        resolved = tree.resolve_url(url)
        if resolved.location is None:
            return resolved.file
        url = urljoin(url, resolved.location)
    return None


def _declared_next(html: str, url: str, xpaths: tuple[str, ...]) -> str | None:
    doc = lxml_html.fromstring(html.encode("utf-8"), parser=lxml_html.HTMLParser(encoding="utf-8"))
    for xpath in xpaths:
        hrefs = doc.xpath(xpath)
        if hrefs:
            return urljoin(url, str(hrefs[0]).strip())
    return None


@cache
def listing_pages() -> tuple[ListingPage, ...]:
    tree = ReplayTree(SITES)
    pages: list[ListingPage] = []
    for source, spider in sorted(spider_classes().items()):
        for entry in spider.listings:
            walk: list[tuple[str, str, str | None]] = []
            url: str | None = entry
            while url is not None and len(walk) < 50:
                response = fetch_replayed(tree, url)
                if any(_file_of(tree, u) == _file_of(tree, response.url) for u, _, _ in walk):
                    break
                following = _declared_next(response.text, response.url, spider.next_page_xpaths)
                walk.append((response.url, response.text, following))
                url = following
            urls = tuple(u for u, _, _ in walk)
            pages.extend(
                ListingPage(source, n, u, text, following if n < len(walk) else None, urls)
                for n, (u, text, following) in enumerate(walk, start=1)
            )
    return tuple(pages)


# -- the mutations: pure (ListingPage) -> html --------------------------------------------


def _doc(listing: ListingPage) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(
        listing.html.encode("utf-8"), parser=lxml_html.HTMLParser(encoding="utf-8")
    )


def _serialise(doc: lxml_html.HtmlElement) -> str:
    return "<!DOCTYPE html>\n" + lxml_html.tostring(doc, encoding="unicode")


def _next_anchors(doc: lxml_html.HtmlElement, listing: ListingPage) -> list[lxml_html.HtmlElement]:
    assert listing.next_url is not None
    hrefs = [(a, a.get("href")) for a in doc.iter("a")]
    return [
        a for a, h in hrefs if h is not None and urljoin(listing.url, h.strip()) == listing.next_url
    ]


def _pagination_block(doc: lxml_html.HtmlElement, listing: ListingPage) -> lxml_html.HtmlElement:
    """The element that holds the true next-page link(s): their lowest common ancestor,
    widened from a lone link or list item to its list or container."""
    anchors = _next_anchors(doc, listing)
    assert anchors, f"no link to {listing.next_url} on {listing.url}"
    chains = [list(reversed([a, *a.iterancestors()])) for a in anchors]
    block = chains[0][0]
    for level in zip(*chains, strict=False):
        if all(e is level[0] for e in level):
            block = level[0]
        else:
            break
    while block.tag in ("a", "li", "span", "strong", "em", "b") and block.getparent() is not None:
        block = block.getparent()
    return block


def _drop_head_rel_links(doc: lxml_html.HtmlElement) -> None:
    for link in doc.xpath("//link[@rel]"):
        if {"next", "prev", "previous"} & set(link.get("rel").lower().split()):
            link.drop_tree()


def _swap(markup: Callable[[ListingPage], str]) -> Callable[[ListingPage], str]:
    """A CMS-style swap: the pagination block replaced by ``markup`` (pointing at the true
    next URL); ``<link rel=next/prev>`` dropped, so the new markup alone must carry it."""

    def mutate(listing: ListingPage) -> str:
        doc = _doc(listing)
        block = _pagination_block(doc, listing)
        replacement = lxml_html.fragment_fromstring(markup(listing))
        replacement.tail = block.tail
        parent = block.getparent()
        assert parent is not None
        parent.replace(block, replacement)
        _drop_head_rel_links(doc)
        return _serialise(doc)

    return mutate


def _esc(url: str | None) -> str:
    assert url is not None
    return url.replace("&", "&amp;").replace('"', "&quot;")


_PAGE_NUMBER = re.compile(r"(/page/|[?&;](?:page|p|pageNo)=|%253D)(\d+)")


def _page_after_next(listing: ListingPage) -> str | None:
    """The URL of the page after the next one: from the walk, else the next URL's number + 1."""
    if listing.number + 1 < len(listing.walk):
        return listing.walk[listing.number + 1]
    assert listing.next_url is not None
    matches = list(_PAGE_NUMBER.finditer(listing.next_url))
    if not matches:
        return None
    last, url = matches[-1], listing.next_url
    return url[: last.start(2)] + str(int(last.group(2)) + 1) + url[last.end(2) :]


def class_on_li(listing: ListingPage) -> str:
    """The pagination class moves from the ``<a>`` to its ``<li>`` (a wrapping ``<li>`` is
    added where the link sits directly in a container)."""
    doc = _doc(listing)
    for anchor in _next_anchors(doc, listing):
        classes = anchor.attrib.pop("class", None)
        if not classes:
            continue
        parent = anchor.getparent()
        if parent is not None and parent.tag == "li":
            parent.set("class", f"{parent.get('class', '')} {classes}".strip())
        else:
            li = lxml_html.Element("li", {"class": classes})
            anchor.addprevious(li)
            li.append(anchor)  # moves the anchor (and its tail) into the li
            li.tail, anchor.tail = anchor.tail, None
    return _serialise(doc)


def strip_classes(listing: ListingPage) -> str:
    doc = _doc(listing)
    for element in doc.iter():
        if isinstance(element.tag, str):
            element.attrib.pop("class", None)
            element.attrib.pop("id", None)
    return _serialise(doc)


def _gsb(listing: ListingPage) -> str:
    # Icon only: no label to read, the class on the li is what says "forward".
    return (
        '<div class="navIndex"><ul><li class="forward">'
        f'<a href="{_esc(listing.next_url)}"><img src="/icons/forward.svg" alt=""></a>'
        "</li></ul></div>"
    )


def _wordpress(listing: ListingPage) -> str:
    return (
        '<nav class="navigation pagination"><div class="nav-links">'
        f'<span aria-current="page" class="page-numbers current">{listing.number}</span>'
        f'<a class="next page-numbers" href="{_esc(listing.next_url)}"><i class="icon"></i></a>'
        "</div></nav>"
    )


def _rel_next(listing: ListingPage) -> str:
    return f'<div><a rel="next" href="{_esc(listing.next_url)}">Mehr Meldungen</a></div>'


def _aria_next(listing: ListingPage) -> str:
    return (
        f'<nav><a aria-label="Next" href="{_esc(listing.next_url)}">'
        '<span aria-hidden="true"></span></a></nav>'
    )


def _text_weiter(listing: ListingPage) -> str:
    return f'<div><a href="{_esc(listing.next_url)}">weiter »</a></div>'


def _numbered_only(listing: ListingPage) -> str:
    earlier = listing.walk[: listing.number - 1]
    links = [f'<a href="{_esc(u)}">{n}</a>' for n, u in enumerate(earlier, start=1)]
    links.append(f"<span>{listing.number}</span>")
    links.append(f'<a href="{_esc(listing.next_url)}">{listing.number + 1}</a>')
    after = _page_after_next(listing)
    if after is not None:
        links.append(f'<a href="{_esc(after)}">{listing.number + 2}</a>')
    return "<div>" + " ".join(links) + "</div>"


MUTATIONS: dict[str, Callable[[ListingPage], str]] = {
    "class_on_li": class_on_li,
    "strip_classes": strip_classes,
    "gsb": _swap(_gsb),
    "wordpress": _swap(_wordpress),
    "rel_next": _swap(_rel_next),
    "aria_next": _swap(_aria_next),
    "text_weiter": _swap(_text_weiter),
    "numbered_only": _swap(_numbered_only),
}


def _with_next() -> list[ListingPage]:
    return [p for p in listing_pages() if p.next_url is not None]


def _last_pages() -> list[ListingPage]:
    return [p for p in listing_pages() if p.next_url is None]


def _pid(listing: ListingPage) -> str:
    return f"{listing.source}-p{listing.number}"


@cache
def outcome(source: str, number: int, kind: str, declared: bool) -> NextPage | None:
    listing = next(p for p in listing_pages() if (p.source, p.number) == (source, number))
    xpaths = spider_classes()[source].next_page_xpaths if declared else ()
    return next_page(MUTATIONS[kind](listing), listing.url, xpaths)


def reaches(listing: ListingPage, got: NextPage | None) -> bool:
    assert listing.next_url is not None
    tree = ReplayTree(SITES)
    return got is not None and _file_of(tree, got.url) == _file_of(tree, listing.next_url)


def test_the_suite_has_listings_with_a_next_page() -> None:
    # Guards against a vacuous suite (a walk that never leaves page 1).
    assert _with_next(), "no replayed listing has a next page"
    walked = {p.source for p in listing_pages()}
    assert walked == {s for s, spider in spider_classes().items() if spider.listings}


@pytest.mark.parametrize("kind", sorted(MUTATIONS))
def test_mutation_changes_the_page(kind: str) -> None:
    for listing in _with_next():
        assert MUTATIONS[kind](listing) != listing.html, (kind, listing.url)


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "generic"])
@pytest.mark.parametrize("kind", sorted(MUTATIONS))
@pytest.mark.parametrize("listing", _with_next(), ids=_pid)
def test_mutated_listing_reaches_the_next_page(
    listing: ListingPage, kind: str, declared: bool
) -> None:
    got = outcome(listing.source, listing.number, kind, declared)
    assert reaches(listing, got), f"{kind}: got {got}, want {listing.next_url}"


@pytest.mark.parametrize("listing", _with_next(), ids=_pid)
def test_unmutated_listing_reaches_the_next_page_without_declared_xpaths(
    listing: ListingPage,
) -> None:
    got = next_page(listing.html, listing.url)
    assert reaches(listing, got), f"got {got}, want {listing.next_url}"


@pytest.mark.parametrize("listing", _last_pages(), ids=_pid)
def test_last_listing_page_has_no_next(listing: ListingPage) -> None:
    xpaths = spider_classes()[listing.source].next_page_xpaths
    assert next_page(listing.html, listing.url, xpaths) is None
    assert next_page(listing.html, listing.url) is None


def test_listing_mutations_meet_the_floor() -> None:
    floor = float(FLOORS["listing_mutations"]["reach_page_2"])
    pairs: dict[tuple[str, int, str], bool] = {}
    for listing in _with_next():
        for kind in sorted(MUTATIONS):
            results = [outcome(listing.source, listing.number, kind, d) for d in (True, False)]
            ok = all(reaches(listing, r) for r in results)
            pairs[(listing.source, listing.number, kind)] = ok
            layers = "/".join(r.layer if r else "-" for r in results)  # declared/generic
            print(f"{listing.source} p{listing.number} {kind:14} {layers:20} {ok}")
    share = sum(pairs.values()) / len(pairs)
    print(f"reach_page_2: {share:.3f} over {len(pairs)} (listing page, mutation) pairs")
    assert share >= floor, sorted(k for k, ok in pairs.items() if not ok)


SWAPS = ("gsb", "wordpress", "rel_next", "aria_next", "text_weiter", "numbered_only")


@pytest.mark.parametrize("kind", SWAPS)
def test_swaps_replace_the_pagination_block(kind: str) -> None:
    # The old pagination is gone: the only links to the true next page are the new markup's.
    markups = {
        "gsb": _gsb,
        "wordpress": _wordpress,
        "rel_next": _rel_next,
        "aria_next": _aria_next,
        "text_weiter": _text_weiter,
        "numbered_only": _numbered_only,
    }
    for listing in _with_next():
        mutated = lxml_html.fromstring(MUTATIONS[kind](listing))
        fresh = lxml_html.fromstring(markups[kind](listing))
        got = _next_anchors(mutated, listing)
        assert len(got) == len(_next_anchors(fresh, listing)) >= 1, (kind, listing.url)
        assert not mutated.xpath("//link[contains(@rel, 'next')]"), (kind, listing.url)


def test_link_dates_read_the_date_written_next_to_each_link() -> None:
    from scraper.discovery import link_dates

    page = """<html><body><ul>
    <li><span>12.03.2026</span> <a href="/news/1.html">Erste Meldung</a></li>
    <li><a href="/news/2.html">Zweite Meldung</a><p>5. Februar 2026 · Teaser</p></li>
    <li><a href="/news/3.html">Ohne Datum</a></li></ul>
    <p>01.01.2026 und 02.01.2026: <a href="/news/4.html">zwei Daten, keins gehört dazu</a></p>
    </body></html>"""
    found = link_dates(page, "https://example.org/liste.html")
    assert found == {
        "https://example.org/news/1.html": "12.03.2026",
        "https://example.org/news/2.html": "5. Februar 2026",
    }
