"""Clusterplattform Deutschland (Government Site Builder CMS)."""

from scraper.extract import ExtractionRules
from scraper.sources import SourceSpec

_ARTICLE = "//div[@id='content']//div[contains(@class, 'article')]"


SPEC = SourceSpec(
    name="clusterplattform",
    label="Clusterplattform Deutschland",
    hosts=("www.clusterplattform.de", "clusterplattform.de"),
    feeds=(
        "https://www.clusterplattform.de/SiteGlobals/CLUSTER/Functions/RSSFeed/DE/RSSFeed-Meldungen.xml",
    ),
    listings=("https://www.clusterplattform.de/CLUSTER/Navigation/DE/Aktuelles/aktuelles.html",),
    # Meldungen in every quarter-folder style, and the ClusterERFOLGE reports.
    article_pattern=(
        r"/CLUSTER/Redaktion/DE/(Kurzmeldungen/[^?]+|Standardartikel/ClusterERFOLGE/[^/?]+)\.html$"
    ),
    next_page_xpaths=(
        "//div[contains(@class, 'navIndex')]"
        "//a[contains(concat(' ', normalize-space(@class), ' '), ' forward ')]/@href",
        "//a[@rel='next']/@href",
    ),
    relevance="all",
    interval_minutes=60,
    extraction=ExtractionRules(
        body_xpaths=(
            f"{_ARTICLE}/*[contains(@class, 'subtitle') or contains(@class, 'abstract')"
            " or contains(@class, 'text')]",
        ),
        title_xpaths=(f"{_ARTICLE}//h1",),
        date_xpaths=(f"{_ARTICLE}//*[contains(@class, 'docHeader')]//*[@class='date']",),
        prune_xpaths=(
            "//div[contains(@class, 'picture')]",
            "//*[contains(@class, 'docData') or contains(@class, 'linksList')]",
        ),
        topics_xpath=f"{_ARTICLE}//div[contains(@class, 'docData')]"
        "//p[span[@class='label'][starts-with(., 'Themen')]]/span[@class='value']",
    ),
)
