"""The federal economics ministry: bmwi.de → bmwk.de → bundeswirtschaftsministerium.de (GSB).

Four hosts, one source: the same path on any of them is the same press release.
"""

from scraper.extract import ExtractionRules
from scraper.sources import SourceSpec

_HEAD = "//main[@id='main']//div[contains(@class, 'main-head')]"


SPEC = SourceSpec(
    name="bmwe",
    label="Bundesministerium für Wirtschaft und Energie",
    hosts=(
        "www.bundeswirtschaftsministerium.de",
        "www.bmwi.de",
        "www.bmwk.de",
        "www.bmwe.de",
    ),
    feeds=(
        "https://www.bundeswirtschaftsministerium.de/SiteGlobals/BMWI/Functions/RSSFeed/DE/RSSFeed-Pressemitteilung.xml",
    ),
    listings=(
        "https://www.bundeswirtschaftsministerium.de/SiteGlobals/BMWI/Forms/Listen/Medienraum/"
        "Medienraum_Formular.html?resourceId=80d4e326-fa53-4240-b747-874d2b8e1dd2"
        "&input_=b85129ab-7314-4382-8f1c-5a6beff4f49a&pageLocale=de&documentType_=PressRelease",
    ),
    # Press releases of every era (/<YYYY>/ until 2020, /<YYYY>/<MM>/ since), DE and EN.
    article_pattern=r"/Redaktion/(DE|EN)/Pressemitteilungen/(.+/)?\d{8}-[^/?]+\.html$",
    next_page_xpaths=("//ul[contains(@class, 'pagination')]//a[@aria-label='Next']/@href",),
    relevance="keywords",
    interval_minutes=120,
    extraction=ExtractionRules(
        body_xpaths=(
            "//main[@id='main']//div[contains(@class, 'main-content')]"
            "//div[contains(concat(' ', normalize-space(@class), ' '), ' content ')]",
        ),
        title_xpaths=(f"{_HEAD}//*[contains(@class, 'title')]", "//main//h1"),
        date_xpaths=(f"{_HEAD}//p[contains(@class, 'topline')]//*[contains(@class, 'date')]",),
        topics_xpath=f"{_HEAD}//p[contains(@class, 'topline')]//a[contains(@class, 'tag')]",
        prune_xpaths=(
            "//aside",
            "//*[contains(@class, 'downloads') or contains(@class, 'download-')]",
            "//*[contains(@class, 'contact')]",
            "//*[contains(@class, 'consent') or contains(@class, 'etracker')]",
        ),
        drop_lines=(r"^Quelle: Bundesministerium für Wirtschaft",),
    ),
)
