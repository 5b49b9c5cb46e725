"""``clusterwatch source add URL``: what a cluster's site offers, proposed as a source.

From a homepage or news page: the feeds (``<link rel="alternate">``, common CMS paths), the
sitemaps (robots.txt, common paths, sitemap indexes), the news listing (the page, or a
news-like link on it) and its pagination, the CMS, and an article URL pattern inferred from
the links — the common path shape of the article-like links, validated by extracting a
sample with the generic layers. Pure over a ``fetch`` function: the CLI fetches through the
mirror protocol like every crawl.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import html as lxml_html
from scrapy.utils.sitemap import Sitemap

from scraper import discovery
from scraper.extract import Extracted, ExtractionError, ExtractionRules, extract
from scraper.sources import SourceSpec
from scraper.urls import clean_url, host_of


@dataclass
class Fetched:
    url: str
    body: bytes
    content_type: str | None


Fetch = Callable[[str], Fetched | None]  # None: not there (4xx/5xx, unreachable)

FEED_PATHS = ("/feed/", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/rss/")
SITEMAP_PATHS = ("/sitemap.xml", "/wp-sitemap.xml", "/sitemap_index.xml")
NEWS_WORDS = re.compile(
    r"aktuell|news|neuigkeit|meldung|presse|nachricht|blog|beitr[aä]ge", re.IGNORECASE
)
CMS_MARKERS = (
    ("WordPress", re.compile(r"wp-content|wp-json|content=\"WordPress", re.IGNORECASE)),
    ("TYPO3", re.compile(r"TYPO3|typo3temp|typo3conf", re.IGNORECASE)),
    ("GSB", re.compile(r"SiteGlobals|Government Site Builder", re.IGNORECASE)),
    ("Drupal", re.compile(r"Drupal|/sites/default/files", re.IGNORECASE)),
)
MAX_LISTING_PAGES = 5
MAX_SITEMAPS = 10
SAMPLE = 3
MIN_ARTICLES = 2


@dataclass
class Sample:
    url: str
    extracted: Extracted | None
    error: str | None = None


@dataclass
class Proposal:
    spec: SourceSpec
    cms: str | None
    articles: list[str]  # the article links found, in discovery order
    samples: list[Sample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class ProposalError(ValueError):
    """Nothing on the site makes a source (one line for the user)."""


def propose(url: str, fetch: Fetch, name: str | None = None) -> Proposal:
    start = fetch(url)
    if start is None:
        raise ProposalError(f"{url}: cannot fetch the page")
    host = host_of(start.url)
    bare = host.removeprefix("www.")
    hosts = (host, bare) if host != bare else (host,)
    text = _text(start)
    cms = next((label for label, marker in CMS_MARKERS if marker.search(text)), None)
    notes = [f"CMS: {cms}" if cms else "CMS: not recognised"]
    own = set(hosts) | {f"www.{bare}"}

    feeds, feed_links = _feeds(start, fetch, own)
    sitemaps, sitemap_links = _sitemaps(start, fetch, own)
    listings = _listing_candidates(start, own)
    listing_links: dict[str, list[str]] = {}
    for listing in listings:
        links = _listing_links(listing, fetch, own)
        if links:
            listing_links[listing] = links

    candidates = _unique([*feed_links, *(u for ls in listing_links.values() for u in ls)])
    candidates += [u for u in sitemap_links if u not in candidates]
    entry_urls = {clean_url(u) for u in [*feeds, *sitemaps, start.url]}
    candidates = [u for u in candidates if clean_url(u) not in entry_urls]
    pattern, samples = _validated_pattern(candidates, set(feed_links), fetch, url)
    regex = re.compile(pattern)
    articles = [u for u in candidates if regex.search(clean_url(u))]
    chosen = [
        ls
        for ls, links in listing_links.items()
        if not regex.search(clean_url(ls)) and sum(bool(regex.search(u)) for u in links) >= 2
    ]
    # The news page, not the homepage teaser, when both list articles.
    news_pages = [ls for ls in chosen if clean_url(ls) != clean_url(start.url)]
    listings_final = news_pages or chosen
    if not (feeds or listings_final or sitemaps):
        raise ProposalError(f"{url}: no feed, listing or sitemap found")
    spec = SourceSpec(
        name=name or source_name(host),
        label=_site_label(start) or host,
        hosts=hosts,
        feeds=tuple(feeds),
        listings=tuple(listings_final),
        sitemaps=tuple(sitemaps),
        article_pattern=pattern,
        relevance="all",
    )
    notes.append(f"{len(articles)} article links ({len(candidates)} candidate links)")
    return Proposal(spec, cms, articles, samples, notes)


def source_name(host: str) -> str:
    """``www.cluster-biooekonomie-mitte.de`` → ``cluster_biooekonomie_mitte``."""
    stem = host.removeprefix("www.").rsplit(".", 1)[0]
    name = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")
    return name if name[:1].isalpha() else f"s_{name}"


# -- entry points ---------------------------------------------------------------------------


def _text(page: Fetched) -> str:
    return page.body.decode("utf-8", errors="replace")


def _is_feed(page: Fetched) -> list[str] | None:
    parsed = feedparser.parse(page.body)
    if parsed.bozo and not parsed.entries:
        return None
    if not parsed.get("version"):
        return None
    return [urljoin(page.url, e["link"]) for e in parsed.entries if e.get("link")]


def _feeds(start: Fetched, fetch: Fetch, own: set[str]) -> tuple[list[str], list[str]]:
    announced = discovery.feed_links(_text(start), start.url)
    root = f"https://{host_of(start.url)}"
    feeds: list[str] = []
    links: list[str] = []
    for url in _unique([*announced, *(root + p for p in FEED_PATHS)]):
        if host_of(url) not in own:
            continue
        page = fetch(url)
        entries = _is_feed(page) if page is not None else None
        if entries:
            feeds.append(url)
            links += [u for u in entries if host_of(u) in own]
        if feeds and url not in announced:
            break  # one probed feed is enough
    return feeds, _unique(links)


def _sitemaps(start: Fetched, fetch: Fetch, own: set[str]) -> tuple[list[str], list[str]]:
    root = f"https://{host_of(start.url)}"
    robots = fetch(root + "/robots.txt")
    declared = discovery.sitemaps_from_robots(_text(robots)) if robots is not None else []
    found: list[str] = []
    links: list[str] = []
    for url in _unique([*declared, *(root + p for p in SITEMAP_PATHS)]):
        if found and url not in declared:
            break
        urls = _sitemap_urls(url, fetch, own)
        if urls is not None:
            found.append(url)
            links += urls
    return found, _unique(links)


def _sitemap_urls(url: str, fetch: Fetch, own: set[str], depth: int = 0) -> list[str] | None:
    page = fetch(url)
    if page is None:
        return None
    try:
        sitemap = Sitemap(page.body)
    except Exception:  # lxml raises several types on what is no XML
        return None
    locs = [entry["loc"] for entry in sitemap if entry.get("loc")]
    if sitemap.type == "sitemapindex":
        if depth:
            return []
        found: list[str] = []
        for loc in locs[:MAX_SITEMAPS]:
            found += _sitemap_urls(loc, fetch, own, depth + 1) or []
        return found
    if sitemap.type != "urlset":
        return None
    return [u for u in locs if host_of(u) in own]


def _listing_candidates(start: Fetched, own: set[str]) -> list[str]:
    """The given page, then the news-like links on it (by URL or link text)."""
    found = [start.url]
    doc = lxml_html.fromstring(start.body)
    for anchor in doc.iter("a"):
        href = anchor.get("href")
        if not href:
            continue
        target = urljoin(start.url, href).split("#", 1)[0]
        words = f"{urlsplit(target).path} {anchor.text_content()}"
        if host_of(target) in own and NEWS_WORDS.search(words) and target not in found:
            found.append(target)
    return found[:6]


def _listing_links(url: str, fetch: Fetch, own: set[str]) -> list[str]:
    """Same-site links of a listing and of its next pages (generic pagination signals)."""
    links: list[str] = []
    seen: set[str] = set()
    for _ in range(MAX_LISTING_PAGES):
        if url in seen:
            break
        seen.add(url)
        page = fetch(url)
        if page is None or b"<" not in page.body[:2048]:
            break
        text = _text(page)
        doc = lxml_html.fromstring(page.body)
        for href in doc.xpath("//a/@href"):
            target = urljoin(page.url, str(href)).split("#", 1)[0]
            if host_of(target) in own:
                links.append(target)
        found = discovery.next_page(text, page.url)
        if found is None:
            break
        url = found.url
    return _unique(links)


# -- the article URL pattern ------------------------------------------------------------------

_DIGITS = re.compile(r"^\d+$")


def _segments(url: str) -> tuple[list[str], bool, bool]:
    parts = urlsplit(url)
    path = parts.path or "/"
    return [s for s in path.split("/") if s], path.endswith("/"), bool(parts.query)


def _slug_like(segment: str) -> bool:
    stem = segment.rsplit(".", 1)[0]
    return stem.count("-") >= 2 or (len(stem) >= 24 and not _DIGITS.match(stem))


def _shapes(urls: Iterable[str], from_feeds: set[str]) -> list[tuple[str, list[str]]]:
    """Candidate article patterns, best first: groups of links of one path shape (segment
    count, trailing slash, extension), each as a regex — digits generalised, segments shared
    by all members kept literal — ranked by links from feeds, then slug-like last segments."""
    groups: dict[tuple[int, bool, str], list[str]] = {}
    for url in urls:
        segments, slash, query = _segments(url)
        if query or not segments:
            continue
        extension = segments[-1].rsplit(".", 1)[1] if "." in segments[-1] else ""
        groups.setdefault((len(segments), slash, extension), []).append(url)
    ranked = []
    for (count, slash, extension), members in groups.items():
        columns = list(zip(*(_segments(u)[0] for u in members), strict=True))
        slugs = sum(_slug_like(_segments(u)[0][-1]) for u in members)
        if len(members) < MIN_ARTICLES or slugs < len(members) / 2:
            continue
        parts = [_generalise(column, i == count - 1, extension) for i, column in enumerate(columns)]
        if all(not p.startswith(("[", "\\")) for p in parts):
            continue  # one fixed page linked many times
        pattern = r"^https?://[^/]+/" + "/".join(parts) + ("/" if slash else "") + "$"
        feeds = sum(u in from_feeds for u in members)
        ranked.append(((feeds, slugs, len(members)), pattern, members))
    ranked.sort(key=lambda r: r[0], reverse=True)
    return [(pattern, members) for _score, pattern, members in ranked]


def _generalise(column: tuple[str, ...], last: bool, extension: str) -> str:
    values = set(column)
    if all(_DIGITS.match(v) for v in values):
        lengths = {len(v) for v in values}
        return rf"\d{{{lengths.pop()}}}" if len(lengths) == 1 else r"\d+"
    if len(values) == 1 and not (last and len(column) > 1):
        return re.escape(values.pop())
    if last and extension:
        return r"[^/?]+\." + re.escape(extension)
    return r"[^/?]+"


# -- validation -------------------------------------------------------------------------------


def _validated_pattern(
    candidates: list[str], from_feeds: set[str], fetch: Fetch, url: str
) -> tuple[str, list[Sample]]:
    """The best-ranked shape whose sample extracts with the generic layers."""
    for pattern, members in _shapes(candidates, from_feeds):
        samples = [_sample(u, fetch) for u in members[:SAMPLE]]
        if all(s.extracted is not None for s in samples):
            return pattern, samples
    raise ProposalError(f"{url}: found no set of article-like links that extract")


def _sample(url: str, fetch: Fetch) -> Sample:
    page = fetch(url)
    if page is None:
        return Sample(url, None, "cannot fetch")
    try:
        extracted = extract(page.body, page.url, ExtractionRules(), content_type=page.content_type)
    except ExtractionError as error:
        return Sample(url, None, str(error))
    if len(extracted.text) < 80:
        return Sample(url, None, "text too short for an article")
    return Sample(url, extracted)


def _site_label(page: Fetched) -> str | None:
    doc = lxml_html.fromstring(page.body)
    for value in doc.xpath("//meta[@property='og:site_name']/@content"):
        return str(value).strip() or None
    title = " ".join(doc.xpath("//title//text()")).strip()
    if not title:
        return None
    parts = [p.strip() for p in re.split(r"\s[–|\-—·]\s", title) if p.strip()]
    return parts[-1] if parts else None


def _unique(urls: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for url in urls:
        seen.setdefault(url, None)
    return list(seen)


def toml_block(spec: SourceSpec) -> str:
    """The ``[sources.<name>]`` block for a proposed source."""
    lines = [f"[sources.{spec.name}]", f"label = {_string(spec.label)}"]
    for key in ("hosts", "feeds", "listings", "sitemaps"):
        values: tuple[str, ...] = getattr(spec, key)
        if values:
            lines.append(f"{key} = [{', '.join(_string(v) for v in values)}]")
    lines.append(f"article_pattern = {_literal(spec.article_pattern)}")
    lines.append(f'relevance = "{spec.relevance}"')
    lines.append(f"interval_minutes = {spec.interval_minutes}")
    return "\n".join(lines) + "\n"


def _string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _literal(value: str) -> str:
    return f"'{value}'" if "'" not in value and "\n" not in value else _string(value)
