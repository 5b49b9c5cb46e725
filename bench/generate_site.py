"""Generate a replayed site of one source for the crawl benchmarks: N real-size article pages
(~76 kB each, with a government-CMS chrome: mega-menu, breadcrumbs, teasers, footer, inline
script and style, like the pages in tests/sites), 100 listing pages with pagination, an RSS
feed of the newest 20 and a sitemap of all — written as a replay tree (``DIR/<host>/…``)
that ``clusterwatch replay`` / ``monitor.replay.ReplayServer`` serve.

    .venv/bin/python bench/generate_site.py DIR [--articles 2000] [--listing-pages 100]

The source is declared as configuration (``source_toml``): extraction rules for the
article container, title and date, and ``language = "de"`` (the source always publishes in
German, so no language identification runs). ``add_articles`` publishes new ones (feed,
first listing page, sitemap) for the recrawl benchmark.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

HOST = "www.cluster-benchmark.de"
SOURCE = "benchsite"
PER_LISTING = 20
FEED_ENTRIES = 20
START = datetime(2019, 1, 7, 9, 30, tzinfo=UTC)

_WORDS = (
    "Cluster Innovation Netzwerk Forschung Unternehmen Förderung Projekt Region Technologie "
    "Wasserstoff Digitalisierung Mittelstand Kooperation Hochschule Transfer Bioökonomie "
    "Batterie Photonik Gesundheit Mobilität Energie Wirtschaft Partner Verbund Plattform "
    "Entwicklung Produktion Nachhaltigkeit Fachkräfte Strategie Wettbewerb Programm Initiative "
    "Zukunft Exzellenz Standort Anwendung Lösungen Industrie Wertschöpfung Kompetenz Markt "
    "Europa Bundesministerium Landesregierung Veranstaltung Workshop Konferenz Ergebnis "
    "der die das und mit für von im auf zum zur neue neuen gemeinsam erfolgreich regionalen "
    "innovative nachhaltige digitale europäische wird werden wurde haben hat sind ist bietet "
    "stärkt entwickelt fördert unterstützt vernetzt präsentiert zeigt startet"
)
_MENU = (
    "Aktuelles Themen Cluster Programme Förderung Service Veranstaltungen Publikationen "
    "Mediathek Presse Kontakt Über uns Netzwerke Internationalisierung Exzellenz Go-cluster "
    "Regionen Branchen Technologiefelder Datenbank Karte Newsletter Glossar Archiv"
)
WORDS = tuple(_WORDS.split())
MENU = tuple(_MENU.split())


@dataclass(frozen=True)
class Article:
    number: int
    title: str
    published: datetime
    paragraphs: tuple[str, ...]
    host: str = HOST

    @property
    def path(self) -> str:
        return f"/aktuelles/meldungen/{self.published:%Y}/meldung-{self.number:05d}.html"

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.path}"


def source_toml(source: str = SOURCE, host: str = HOST) -> str:
    """The source's declaration, for a clusterwatch.toml."""
    return f"""
[sources.{source}]
label = "Cluster-Benchmark (generated)"
hosts = ["{host}"]
feeds = ["https://{host}/aktuelles/feed.xml"]
listings = ["https://{host}/aktuelles/index.html"]
sitemaps = ["https://{host}/sitemap.xml"]
article_pattern = '/aktuelles/meldungen/\\d{{4}}/meldung-\\d+\\.html$'
next_page_xpaths = ["//nav[@class='pagination']//a[@rel='next']/@href"]
relevance = "all"
interval_minutes = 60

[sources.{source}.extraction]
body_xpaths = ["//main//article//div[@class='article-text']"]
title_xpaths = ["//main//article//h1"]
date_xpaths = ["//main//article//p[@class='date']"]
language = "de"
"""


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(9, 20))]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def make_article(number: int, rng: random.Random, host: str = HOST) -> Article:
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 9))).capitalize()
    paragraphs = tuple(
        " ".join(_sentence(rng) for _ in range(rng.randint(3, 6)))
        for _ in range(rng.randint(6, 11))
    )
    published = START + timedelta(hours=7 * number)
    return Article(number, f"{title} ({number})", published, paragraphs, host)


def _chrome_head(title: str, rng: random.Random, host: str = HOST) -> str:
    style = "\n".join(
        f".c{i} {{ margin: {i % 7}px {i % 5}px; padding: 0 {i % 3}em; "
        f"color: #{i * 4099 % 0xFFFFFF:06x}; }}"
        for i in range(330)
    )
    return (
        '<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - Cluster-Benchmark</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="alternate" type="application/rss+xml" href="https://{host}/aktuelles/feed.xml">'
        f"<style>{style}</style></head>\n"
    )


def _menu(rng: random.Random) -> str:
    parts = ['<header class="site-header"><a class="logo" href="/">Cluster-Benchmark</a>']
    parts.append('<nav class="mega-menu"><ul>')
    for i, top in enumerate(MENU):
        parts.append(f'<li class="level1"><a href="/{top.lower()}/">{top}</a><ul>')
        for j in range(16):
            label = f"{top} {rng.choice(WORDS)} {j + 1}"
            href = f"/{top.lower()}/s{j}.html"
            parts.append(f'<li><a class="c{(i * 16 + j) % 220}" href="{href}">{label}</a></li>')
        parts.append("</ul></li>")
    parts.append("</ul></nav>")
    parts.append(
        '<form class="search" action="/suche"><label>Suche</label><input name="q"></form>'
        "<p>Sie sind hier: <a href='/'>Startseite</a> › <a href='/aktuelles/'>Aktuelles</a></p>"
        "</header>\n"
    )
    return "".join(parts)


def _footer(rng: random.Random) -> str:
    columns = []
    for name in ("Service", "Themen", "Programme", "Rechtliches"):
        links = "".join(
            f'<li><a href="/{name.lower()}/{k}.html">{name} {rng.choice(WORDS)} {k}</a></li>'
            for k in range(14)
        )
        columns.append(f"<div class='col'><h3>{name}</h3><ul>{links}</ul></div>")
    script = "window.dataLayer = [" + ",".join(
        f'{{"event":"view","slot":{k},"id":"{rng.getrandbits(64):016x}"}}' for k in range(230)
    )
    return (
        "<footer>"
        + "".join(columns)
        + "<p>© Cluster-Benchmark. Alle Rechte vorbehalten. Impressum · Datenschutz</p>"
        + "<p>Diese Website verwendet Cookies. Mehr dazu in der Datenschutzerklärung.</p>"
        + f"</footer><script>{script}];</script>\n"
    )


def article_page(article: Article, rng: random.Random) -> str:
    date = f"{article.published:%d.%m.%Y}"
    body = "".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    teasers = "".join(
        f'<div class="teaser"><h4><a href="/aktuelles/t{k}.html">{rng.choice(WORDS)} '
        f"{rng.choice(WORDS)}</a></h4><p>{_sentence(rng)}</p></div>"
        for k in range(6)
    )
    return (
        _chrome_head(article.title, rng, article.host)
        + "<body>"
        + _menu(rng)
        + '<main><article class="news">'
        + f"<p class='type'>Meldung</p><h1>{escape(article.title)}</h1>"
        + f"<p class='date'>{date}</p>"
        + f"<div class='article-text'>{body}</div>"
        + "<div class='share'>Teilen: <a href='#'>E-Mail</a> <a href='#'>Drucken</a></div>"
        + "</article><aside class='related'><h3>Das könnte Sie auch interessieren</h3>"
        + f"{teasers}</aside></main>"
        + _footer(rng)
        + "</body></html>\n"
    )


def listing_path(page: int) -> str:
    return "/aktuelles/index.html" if page == 1 else f"/aktuelles/index-{page}.html"


def listing_page(
    page: int, pages: int, articles: list[Article], rng: random.Random, host: str = HOST
) -> str:
    items = "".join(
        f'<li><span class="date">{a.published:%d.%m.%Y}</span> '
        f'<a href="{a.url}">{escape(a.title)}</a><p>{escape(a.paragraphs[0][:160])}</p></li>'
        for a in articles
    )
    nav = "<nav class='pagination'>"
    if page > 1:
        nav += f"<a rel='prev' href='{listing_path(page - 1)}'>zurück</a> "
    if page < pages:
        nav += f"<a rel='next' class='forward' href='{listing_path(page + 1)}'>weiter</a>"
    nav += "</nav>"
    return (
        _chrome_head(f"Aktuelles – Seite {page}", rng, host)
        + "<body>"
        + _menu(rng)
        + f"<main><h1>Aktuelles</h1><ul class='list'>{items}</ul>{nav}</main>"
        + _footer(rng)
        + "</body></html>\n"
    )


def feed(articles: list[Article], host: str = HOST) -> str:
    entries = "".join(
        f"<item><title>{escape(a.title)}</title><link>{a.url}</link><guid>{a.url}</guid>"
        f"<pubDate>{format_datetime(a.published)}</pubDate>"
        f"<description>{escape(a.paragraphs[0][:200])}</description></item>"
        for a in articles[:FEED_ENTRIES]
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Cluster-Benchmark</title><link>https://{host}/</link>"
        f"<description>Meldungen</description>{entries}</channel></rss>\n"
    )


def sitemap(articles: list[Article]) -> str:
    urls = "".join(
        f"<url><loc>{a.url}</loc><lastmod>{a.published:%Y-%m-%d}</lastmod></url>" for a in articles
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'
    )


class Site:
    """A generated site in ``root`` (the replay tree's root: ``root/HOST/…``)."""

    def __init__(
        self,
        root: Path,
        articles: int = 2000,
        listing_pages: int = 100,
        seed: int = 1,
        host: str = HOST,
        source: str = SOURCE,
    ):
        self.root = root
        self.host = host
        self.source = source
        self.host_dir = root / host
        self.listing_pages = listing_pages
        self.rng = random.Random(seed)
        self.articles = [make_article(n, self.rng, host) for n in range(articles)]

    def toml(self) -> str:
        return source_toml(self.source, self.host)

    def _write(self, path: str, text: str) -> None:
        target = self.host_dir / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")

    def newest_first(self) -> list[Article]:
        return sorted(self.articles, key=lambda a: a.number, reverse=True)

    def write(self) -> Site:
        self._write("/robots.txt", "User-agent: *\nAllow: /\n")
        for article in self.articles:
            self._write(article.path, article_page(article, self.rng))
        self.write_entry_points()
        return self

    def write_entry_points(self) -> None:
        newest = self.newest_first()
        # The newest articles beyond an even split go on the first listing page.
        per_page = max(1, len(self.articles) // self.listing_pages)
        extra = len(newest) - per_page * self.listing_pages
        first = max(0, extra) + per_page
        pages = [newest[:first]] + [
            newest[first + per_page * k : first + per_page * (k + 1)]
            for k in range(self.listing_pages - 1)
        ]
        for number, chunk in enumerate(pages, start=1):
            self._write(
                listing_path(number),
                listing_page(number, self.listing_pages, chunk, random.Random(number), self.host),
            )
        self._write("/aktuelles/feed.xml", feed(newest, self.host))
        self._write("/sitemap.xml", sitemap(newest))

    def add_articles(self, count: int) -> list[Article]:
        """Publish ``count`` new articles: pages, feed, first listing page, sitemap (the
        other listing pages stay byte-identical, as on a CMS with a "newest first" page)."""
        start = len(self.articles)
        new = [make_article(n, self.rng, self.host) for n in range(start, start + count)]
        per_page = max(1, start // self.listing_pages)
        for article in new:
            self._write(article.path, article_page(article, self.rng))
        self.articles.extend(new)
        newest = self.newest_first()
        first = len(newest) - per_page * (self.listing_pages - 1)
        self._write(
            listing_path(1),
            listing_page(1, self.listing_pages, newest[:first], random.Random(1), self.host),
        )
        self._write("/aktuelles/feed.xml", feed(newest, self.host))
        self._write("/sitemap.xml", sitemap(newest))
        return new

    def page_urls(self) -> list[str]:
        return [a.url for a in self.articles]

    def page_files(self) -> list[tuple[str, Path]]:
        return [(a.url, self.host_dir / a.path.lstrip("/")) for a in self.articles]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--listing-pages", type=int, default=100)
    args = parser.parse_args()
    site = Site(args.directory, args.articles, args.listing_pages).write()
    sizes = [path.stat().st_size for _url, path in site.page_files()]
    print(
        f"{len(sizes)} articles, {args.listing_pages} listing pages, feed and sitemap in "
        f"{args.directory / HOST}; mean page {sum(sizes) / len(sizes) / 1000:.1f} kB"
    )
    (args.directory / "clusterwatch.toml").write_text(source_toml(), "utf-8")


if __name__ == "__main__":
    main()
