"""Hostile content, property-based (Hypothesis): pages, URLs, titles and texts built from
control characters, lone surrogates, ``]]>``, ``<script>``, event handlers,
``javascript:``/``data:`` URLs, entity-escaped markup, 100 kB titles, RTL overrides and empty
bodies, through extraction, canonical URLs, relevance, feed building and the status and
archive pages.

The properties: no exception escapes (extraction may only refuse a page with
``ExtractionError``); published text holds no character ``scraper.text`` forbids and no
title is longer than ``TITLE_MAX_CHARS``; every feed stays valid (tests/monitor/feed_check.py)
and parses; and no script, event handler or dangerous URL reaches any feed field or page —
checked by parsing the documents as a reader does (XML first, then each HTML-carrying field
as HTML).

Examples per property: ``HYPOTHESIS_EXAMPLES`` below, ten times that under ``--long``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html

from db.migrate import upgrade
from db.models import Article
from db.repository import ArticleRecord, Repository
from monitor.feeds import FeedSpec, feed_url, render_feed, render_json_feed
from scraper.classify import score, topics
from scraper.config import Config
from scraper.extract import ExtractionError, extract
from scraper.text import TITLE_MAX_CHARS, UNSAFE, printable, shorten
from scraper.urls import absolute_url, canonical_url, clean_url
from tests.monitor.feed_check import check_feed
from tests.reliability import Recorder

HYPOTHESIS_EXAMPLES = 60


@pytest.fixture(scope="module")
def examples(request: pytest.FixtureRequest) -> int:
    return HYPOTHESIS_EXAMPLES * (10 if request.config.getoption("--long") else 1)


def bounded(examples_: int) -> settings:
    return settings(
        max_examples=examples_,
        deadline=None,
        database=None,  # no example database in the checkout
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# -- the hostile alphabet -------------------------------------------------------------------

CONTROL = st.sampled_from(
    ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f", "\ufffe", "\uffff"]
)
SURROGATE = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
BIDI = st.sampled_from(["\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2067", "\u2069"])
MARKUP = st.sampled_from(
    [
        "]]>",
        "<![CDATA[x]]>",
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">klick</a>',
        '<a href="JaVaScRiPt:alert(1)">klick</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>',
        '<a href="vbscript:msgbox(1)">v</a>',
        '<a href=" javascript:alert(1)">sp</a>',
        '<a href="http://[::1">broken</a>',
        '<a href="http://x.example:99999/">port</a>',
        '<div onclick="alert(1)" onmouseover="alert(2)">Handler</div>',
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
        "<svg onload=alert(1)>",
        '<form action="javascript:alert(1)"><input></form>',
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&amp;lt;script&amp;gt;",
        "&#60;script&#62;",
        "&#x3C;img src=x onerror=alert(1)&#x3E;",
        "&",
        "<",
        "&#0;",
        "&#xD800;",
    ]
)
WORDS = st.sampled_from(
    ["Innovationscluster", "Cluster", "Förderung", "BMBF", "Sachsen", "Projekt", "Netzwerk",
     "startet", "mit", "und", "der", "Partnern", "aus", "Wasserstoff", "KI", "Region"]
)  # fmt: skip
HOSTILE_PIECE = st.one_of(
    WORDS, WORDS, WORDS, CONTROL, SURROGATE, BIDI, MARKUP, st.text(max_size=12)
)


def hostile_text(max_pieces: int = 40) -> st.SearchStrategy[str]:
    return st.lists(HOSTILE_PIECE, max_size=max_pieces).map(" ".join)


HUGE_TITLE = st.builds(lambda word, n: (word + " ") * n, WORDS, st.integers(5_000, 12_000))
TITLES = st.one_of(hostile_text(12), HUGE_TITLE)


def _raw(value: str) -> str:
    """As it would sit in a page's source (markup pieces are meant as markup)."""
    return value


@st.composite
def pages(draw: st.DrawFn) -> bytes:
    """An HTML page built from hostile pieces: a title, an h1, paragraphs, links, head
    signals; sometimes an empty or missing body."""
    title = draw(TITLES)
    paragraphs = draw(st.lists(hostile_text(60), max_size=6))
    body_kind = draw(st.sampled_from(["article", "plain", "empty", "none", "comment"]))
    head = f"<title>{_raw(title)}</title>"
    if draw(st.booleans()):
        head += f'<meta property="og:title" content="{title[:200]}">'
    if draw(st.booleans()):
        head += f'<link rel="alternate" hreflang="en" href="{draw(HOSTILE_URL)}">'
    if draw(st.booleans()):
        head += '<script>document.write("x")</script>'
    inner = f"<h1>{_raw(title)}</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs)
    body = {
        "article": f"<body><article>{inner}</article></body>",
        "plain": f"<body>{inner}</body>",
        "empty": "<body></body>",
        "none": "",
        "comment": "<body><!-- nothing --></body>",
    }[body_kind]
    document = f"<!DOCTYPE html><html><head>{head}</head>{body}</html>"
    encoding = draw(st.sampled_from(["utf-8", "str", "cp1252"]))
    data = (
        document.encode("utf-8", "surrogatepass")
        if encoding != "cp1252"
        else (document.encode("cp1252", "replace"))
    )
    return data if draw(st.integers(0, 20)) else data[: draw(st.integers(0, len(data)))]


HOSTILE_URL = st.one_of(
    st.sampled_from(
        [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "http://[::1",
            "http://x.example:99999/a",
            "https://example.org/a b?c=d e#f",
            "//evil.example/x",
            "",
            " ",
            "http://exa\x00mple.org/",
            "https://example.org/\u202etxt.exe",
            "https://example.org/news/1;jsessionid=ABC?utm_source=x&b=2&a=1#top",
            "http://WWW.Example.ORG:443/News/%zz?a=%ff",
        ]
    ),
    st.builds(
        lambda scheme, host, path: f"{scheme}://{host}/{path}",
        st.sampled_from(["http", "https", "HTTP", "ftp", "javascript"]),
        st.sampled_from(["example.org", "www.example.org", "EXAMPLE.org", "[::1]", "x:1"]),
        hostile_text(4),
    ),
    st.text(max_size=40),
)


# -- checks over documents --------------------------------------------------------------

DANGEROUS_SCHEMES = ("javascript:", "data:", "vbscript:")
ACTIVE_TAGS = {"script", "style", "iframe", "object", "embed", "form", "svg", "math"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster"}


def active_content(fragment: str, allow: frozenset[str] = frozenset()) -> list[str]:
    """What in ``fragment`` (HTML as a reader would parse it) could run or load: script
    and other active elements, ``on*`` handlers, dangerous URL schemes."""
    if not fragment.strip():
        return []
    problems = []
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag in ACTIVE_TAGS and tag not in allow:
            problems.append(f"<{tag}>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                problems.append(f"{tag} {name}=")
            cleaned = "".join(value.split()).lower()
            if name.lower() in URL_ATTRIBUTES and cleaned.startswith(DANGEROUS_SCHEMES):
                problems.append(f"{tag} {name}={value[:40]}")
    return problems


def page_problems(document: str) -> list[str]:
    """``active_content`` of a whole page's body, and no script anywhere (the head holds
    our own inline style and a ``data:`` favicon; the archive its one search form)."""
    root = lxml_html.document_fromstring(document)
    problems = [f"<{e.tag}> in head" for e in root.iter("script", "iframe", "object")]
    if len(root.findall(".//form")) > 1:
        problems.append("a second <form>")
    body = root.find("body")
    if body is not None:
        problems += active_content(
            lxml_html.tostring(body, encoding="unicode"), allow=frozenset({"form"})
        )
    return problems


def unsafe_chars(value: str) -> list[str]:
    return [hex(ord(c)) for c in UNSAFE.findall(value)]


# -- extraction -----------------------------------------------------------------------------


def test_extraction_of_hostile_pages(examples: int, reliability: Recorder) -> None:
    outcomes = {"extracted": 0, "refused": 0}

    @bounded(examples)
    @given(page=pages())
    def check(page: bytes) -> None:
        try:
            found = extract(page, "https://example.org/news/1.html")
        except ExtractionError:
            outcomes["refused"] += 1
            return
        outcomes["extracted"] += 1
        assert len(found.title) <= TITLE_MAX_CHARS
        for field in (found.title, found.text, found.html):
            assert unsafe_chars(field) == []
        assert active_content(found.html) == []
        for url in found.alternates:
            assert url.startswith(("http://", "https://"))

    check()
    assert outcomes["extracted"] > 0 and outcomes["refused"] > 0, outcomes
    reliability.record(
        "content",
        f"{examples} hostile pages (controls, surrogates, ]]>, script, handlers, js/data "
        "URLs, entities, 100 kB titles, RTL overrides, empty/missing/cut bodies)",
        f"extracted {outcomes['extracted']}, refused {outcomes['refused']} with "
        "ExtractionError; no other exception, no unsafe character, title ≤ "
        f"{TITLE_MAX_CHARS}, no active content",
    )


@pytest.mark.parametrize(
    "page",
    [
        b"",
        b" \n\t ",
        b"<html></html>",
        b"<html><body></body></html>",
        b"<!-- nothing -->",
        b'<?xml version="1.0"?>',
        b"<html><head><title>Titel</title></head><body>   </body></html>",
        b"\x00\x00\x00",
        b"\xef\xbb\xbf",
    ],
)
def test_empty_bodies_are_refused_not_crashed(page: bytes, reliability: Recorder) -> None:
    with pytest.raises(ExtractionError):
        extract(page, "https://example.org/news/empty.html", content_type="text/html")
    reliability.record("content", f"article body {page[:30]!r}", "ExtractionError (recorded)")


def test_escaped_markup_stays_text_in_extraction() -> None:
    paragraph = (
        "Im Beispiel steht &lt;script&gt;alert(1)&lt;/script&gt; als Text, wie es das "
        "Innovationscluster in seiner Dokumentation zeigt und mit Partnern erklärt."
    )
    page = (
        "<html><head><title>Sicher dargestellt</title></head><body><article>"
        f"<h1>Sicher dargestellt</h1><p>{paragraph}</p><p>{paragraph}</p></article></body></html>"
    )
    found = extract(page.encode(), "https://example.org/news/escaped.html")
    assert "<script>alert(1)</script>" in found.text  # the reader's visible text
    assert active_content(found.html) == []
    assert (
        "<script>alert(1)</script>"
        in lxml_html.fragment_fromstring(found.html, create_parent="div").text_content()
    )


# -- canonical URLs -------------------------------------------------------------------------


def test_canonical_urls_of_hostile_input(examples: int, reliability: Recorder) -> None:
    @bounded(examples * 3)
    @given(url=HOSTILE_URL, base=st.sampled_from(["https://example.org/a/", "http://[::1"]))
    def check(url: str, base: str) -> None:
        canonical = canonical_url(url, ("example.org", "www.example.org"))
        assert canonical.startswith("https://")
        assert canonical_url(canonical, ("example.org",)) == canonical_url(
            canonical_url(canonical, ("example.org",)), ("example.org",)
        )
        clean_url(url)
        joined = absolute_url(base, url)
        if joined is not None:
            assert joined.lower().startswith(("http://", "https://"))

    check()
    reliability.record(
        "content",
        f"{examples * 3} hostile URLs (js/data schemes, broken IPv6, ports out of range, "
        "controls, spaces, RTL)",
        "canonical URL always https and stable; page links only http(s); no exception",
    )


# -- relevance ----------------------------------------------------------------------------


def test_relevance_of_hostile_text(examples: int, reliability: Recorder) -> None:
    @bounded(examples)
    @given(title=TITLES, text=hostile_text(80))
    def check(title: str, text: str) -> None:
        result = score(title, text)
        assert math.isfinite(result.score)
        assert isinstance(topics(title, text), list)

    check()
    reliability.record(
        "content", f"{examples} hostile titles and texts scored", "finite score; no exception"
    )


# -- feeds ----------------------------------------------------------------------------------

BASE = "https://feeds.example"
CONFIG = Config(data_dir=Path("/nonexistent"), database_url="sqlite://", feed_base_url=BASE)


@st.composite
def articles(draw: st.DrawFn, n: int) -> Article:
    path = draw(hostile_text(3)).replace("\x00", "")
    url = f"https://example.org/news/{n}/{path}"
    moment = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=n)
    return Article(
        canonical_url=url,
        url=draw(st.one_of(st.just(url), HOSTILE_URL.filter(lambda u: u.startswith("http")))),
        source=draw(st.sampled_from(["alpha", "beta"])),
        title=draw(TITLES),
        text=draw(hostile_text(120)),
        html=draw(st.one_of(st.just(""), hostile_text(80).map(lambda t: f"<p>{t}</p>"))),
        published_at=moment,
        first_seen_at=moment,
        topics=draw(st.lists(hostile_text(2), max_size=3)),
    )


def _text(element: Any) -> str:
    return element.text or "" if element is not None else ""


def feed_problems(rss: bytes, atom: bytes, document: bytes) -> list[str]:
    problems: list[str] = []
    problems += check_feed(rss, "xml", feed_url(BASE, "all", "xml"))
    problems += check_feed(atom, "atom", feed_url(BASE, "all", "atom"))
    problems += check_feed(document, "json", feed_url(BASE, "all", "json"))
    content_ns = "{http://purl.org/rss/1.0/modules/content/}encoded"
    for item in etree.fromstring(rss).iter("item"):
        # RSS description and content:encoded are HTML to the reader: parse them so.
        problems += active_content(_text(item.find("description")))
        problems += active_content(_text(item.find(content_ns)))
        for name in ("title", "link", "guid"):
            problems += unsafe_chars(_text(item.find(name)))
        link = _text(item.find("link")).strip().lower()
        if link.startswith(DANGEROUS_SCHEMES):
            problems.append(f"rss link {link[:40]}")
    atom_ns = "{http://www.w3.org/2005/Atom}"
    for entry in etree.fromstring(atom).iter(f"{atom_ns}entry"):
        for name in ("summary", "content"):
            element = entry.find(f"{atom_ns}{name}")
            if element is not None and element.get("type") == "html":
                problems += active_content(_text(element))
        for link in entry.iter(f"{atom_ns}link"):
            if (link.get("href") or "").strip().lower().startswith(DANGEROUS_SCHEMES):
                problems.append("atom link")
    for item in json.loads(document)["items"]:
        problems += active_content(item.get("content_html", ""))
        for key in ("title", "summary", "url", "id"):
            problems += unsafe_chars(item.get(key, ""))
        if str(item.get("url", "")).lower().startswith(DANGEROUS_SCHEMES):
            problems.append("json url")
    return problems


def test_feeds_of_hostile_articles(examples: int, reliability: Recorder) -> None:
    spec = FeedSpec("all", "clusterwatch: all", None)
    labels = {"alpha": "Alpha <b>Cluster</b>", "beta": "Beta\u202e ]]> Cluster"}

    @bounded(examples)
    @given(data=st.data(), count=st.integers(1, 4))
    def check(data: st.DataObject, count: int) -> None:
        entries = [data.draw(articles(n)) for n in range(count)]
        rss, atom = render_feed(CONFIG, spec, entries, labels)
        document = render_json_feed(CONFIG, spec, entries, labels)
        assert feed_problems(rss, atom, document) == []

    check()
    reliability.record(
        "content",
        f"{examples} feeds of 1–4 hostile articles (RSS, Atom, JSON Feed)",
        "valid documents; no script, handler or js/data URL in any field; no unsafe character",
    )


def test_rss_description_is_escaped_exactly_once(reliability: Recorder) -> None:
    """Page text showing "&lt;script&gt;" is the text "<script>" (extraction decodes the
    entities); a reader rendering <description> as HTML must show "<script>", not run it."""
    visible = "Beispiel: <script>alert(1)</script> & <b>fett</b> bleibt Text."
    article = Article(
        canonical_url="https://example.org/news/1",
        url="https://example.org/news/1",
        source="alpha",
        title="Escaping",
        text=visible,
        html="",
        published_at=datetime(2024, 1, 1, tzinfo=UTC),
        first_seen_at=datetime(2024, 1, 1, tzinfo=UTC),
        topics=[],
    )
    spec = FeedSpec("all", "clusterwatch: all", None)
    rss, atom = render_feed(CONFIG, spec, [article], {"alpha": "Alpha"})
    description = _text(etree.fromstring(rss).find("channel/item/description"))
    rendered = lxml_html.fragment_fromstring(description, create_parent="div")
    assert rendered.text_content() == visible
    assert [e.tag for e in rendered.iter()] == ["div"]  # no element at all: only text
    atom_ns = "{http://www.w3.org/2005/Atom}"
    summary = etree.fromstring(atom).find(f"{atom_ns}entry/{atom_ns}summary")
    assert summary is not None and summary.get("type") == "html"
    shown = lxml_html.fragment_fromstring(_text(summary), create_parent="div")
    assert shown.text_content() == visible and [e.tag for e in shown.iter()] == ["div"]
    content = _text(etree.fromstring(rss).find("channel/item/{*}encoded"))
    shown_content = lxml_html.fragment_fromstring(content, create_parent="div")
    assert visible in shown_content.text_content()
    assert not shown_content.xpath("//script|//b")
    json_summary = json.loads(render_json_feed(CONFIG, spec, [article], {}))["items"][0]
    assert json_summary["summary"] == visible  # JSON Feed's summary is plain text
    reliability.record(
        "content",
        "page text showing &lt;script&gt; in RSS <description> / Atom <summary>",
        "escaped exactly once: a reader rendering it as HTML shows <script> as text",
    )


# -- the status and archive pages -----------------------------------------------------------


@pytest.fixture
def page_db(tmp_path: Path) -> Iterator[tuple[Config, Repository]]:
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'clusterwatch.db'}"
    upgrade(url)
    yield Config(data_dir=data, database_url=url), Repository(url)


def test_status_and_archive_pages_with_hostile_articles(
    page_db: tuple[Config, Repository], examples: int, reliability: Recorder
) -> None:
    from monitor.archive_page import ArchiveFilters, render_archive, render_story
    from monitor.sources import list_sources
    from monitor.status_page import render_status

    config, repository = page_db
    sources = list_sources(config)
    names = [s.name for s in sources]
    counter = iter(range(1, 10**6))

    @bounded(max(10, examples // 3))
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        n = next(counter)
        marker = f"Marker{n}x"
        # What the store can hold is what extraction emits: printable, titles cut
        # (scraper/text.py); markup, entities and hostile links all stay.
        title = shorten(printable(marker + " " + data.draw(TITLES)), TITLE_MAX_CHARS)
        link = data.draw(st.one_of(st.just(f"https://example.org/{n}"), HOSTILE_URL))
        repository.add_article(
            ArticleRecord(
                canonical_url=f"https://example.org/news/{n}",
                source=data.draw(st.sampled_from(names)),
                url=printable(link),
                title=title,
                text=printable(data.draw(hostile_text(60))) + " Innovationscluster",
                html=printable(data.draw(hostile_text(30).map(lambda t: f"<p>{t}</p>"))),
                content_hash=f"hash-{n}",
                relevance="relevant",
                published_at=datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
            )
        )
        status = render_status(config, repository)
        assert page_problems(status) == []
        assert marker in lxml_html.document_fromstring(status).text_content()
        archive = render_archive(repository, sources, ArchiveFilters.from_params({}, sources))
        assert page_problems(archive) == []
        search = data.draw(hostile_text(3))
        filtered = ArchiveFilters.from_params({"q": search, "page": "x"}, sources)
        assert page_problems(render_archive(repository, sources, filtered)) == []
        story = repository.published_story(_story_id(repository, f"https://example.org/news/{n}"))
        if story is not None:
            assert page_problems(render_story(story, sources)) == []

    check()
    reliability.record(
        "content",
        "hostile titles, texts, links and searches on the status, archive and story pages",
        "escaped; no script, handler or js/data URL; no exception",
    )


def _story_id(repository: Repository, canonical: str) -> int:
    article = repository.article(canonical)
    assert article is not None and article.story_id is not None
    return article.story_id
