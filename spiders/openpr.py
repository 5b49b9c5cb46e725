"""openPR: a press-release portal. Most releases are not about clusters (relevance filter)."""

from scraper.extract import ExtractionRules
from scraper.sources import SourceSpec

SPEC = SourceSpec(
    name="openpr",
    label="openPR",
    hosts=("www.openpr.de", "openpr.de"),
    feeds=("https://www.openpr.de/rss/openpr.xml",),
    listings=("https://www.openpr.de/news/kategorien2-10-Wissenschaft-Forschung-Bildung.html",),
    # /news/<id>/<Slug>.html and the ID-only /news/<id>/ name the same release.
    article_pattern=r"/news/\d+/([^/?]+\.html)?$",
    canonical_rewrites=((r"^(/news/\d+)/.*$", r"\1/"),),
    next_page_xpaths=("//a[@rel='next']/@href",),
    relevance="keywords",
    interval_minutes=60,
    extraction=ExtractionRules(
        # Current layout (div#pmtext), and the 2011–13 layout (div#pm > div.pm_text).
        body_xpaths=("//div[@id='pmtext']", "//div[@id='pm']/div[contains(@class, 'pm_text')]"),
        title_xpaths=("//article//h1", "//div[@id='pm']/h1"),
        date_xpaths=(
            "//article//time[contains(@class, 'pm-date')]/@datetime",
            "//div[@id='pm']/div[contains(@class, 'pm_datum')]",
        ),
        strip_prefixes=(r"\(openPR\)\s*(?:-\s*)?",),
    ),
)
