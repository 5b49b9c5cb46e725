"""CLIB — Cluster industrielle Biotechnologie (clib-cluster.de; old site clib2021.de)."""

from scraper.extract import ExtractionRules
from scraper.sources import SourceSpec

SPEC = SourceSpec(
    name="clib",
    label="CLIB – Cluster industrielle Biotechnologie",
    hosts=("www.clib-cluster.de", "www.clib2021.de", "clib-cluster.de", "clib2021.de"),
    feeds=("https://www.clib-cluster.de/de/feed/",),
    listings=("https://www.clib-cluster.de/de/news/",),
    sitemaps=("https://www.clib-cluster.de/wp-sitemap.xml",),
    # Posts: /de|en/[<section>/]<slug-with-3+-words>/ (WordPress pages such as /de/ueber-uns/
    # have short slugs); old site: news reader by id.
    article_pattern=(
        r"clib-cluster\.de/(de|en)/(?!(news|feed|category|tag|page|author|search|wp-content"
        r"|wp-json)/)([a-z0-9-]+/)?[a-z0-9]+(-[a-z0-9]+){2,}/$"
        r"|clib2021\.de(/en)?/news/news-clib2021\?id=\d+$"
    ),
    next_page_xpaths=("//a[contains(@class, 'next') and contains(@class, 'page-numbers')]/@href",),
    relevance="all",
    interval_minutes=180,
    extraction=ExtractionRules(
        # WordPress post; old clib2021.de news reader (date glued before the title).
        body_xpaths=(
            "//article//div[contains(@class, 'entry-content')]",
            "//div[contains(@class, 'mod_newsreader')]//div[contains(@class, 'layout_full')]",
        ),
        prune_xpaths=(
            "//div[contains(@class, 'layout_full')]/h2",
            "//div[contains(@class, 'image_container')]",
        ),
        title_xpaths=(
            "//article//h1",
            "//div[contains(@class, 'layout_full')]/h2/text()[normalize-space()]",
        ),
        date_xpaths=(
            "//meta[@property='article:published_time']/@content",
            "//div[contains(@class, 'layout_full')]/h2/span[contains(@class, 'date')]",
        ),
    ),
)
