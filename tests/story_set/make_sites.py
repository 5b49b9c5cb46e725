"""Build the story replay tree ``tests/sites_stories`` and ``labels.json`` from ``stories.py``.

Every page is rendered into a real page of its source from ``tests/sites`` (same chrome,
same markup, so the sources' extraction rules apply unchanged): headline, date, body,
image caption/credit, URLs and link lists are replaced, everything else is kept. Feeds,
listings and the CLIB sitemap are rebuilt the same way from the v1 files.

    .venv/bin/python -m tests.story_set.make_sites
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from lxml import etree
from lxml import html as lxml_html

from tests.story_set.stories import NEGATIVES, PAGES, STORIES, Page

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
V1 = TESTS / "sites"
OUT = TESTS / "sites_stories"
BERLIN = ZoneInfo("Europe/Berlin")

CP_HOST = "www.clusterplattform.de"
OPR_HOST = "www.openpr.de"
BMWE_HOST = "www.bundeswirtschaftsministerium.de"
CLIB_HOST = "www.clib-cluster.de"

CP_FEED = "/SiteGlobals/CLUSTER/Functions/RSSFeed/DE/RSSFeed-Meldungen.xml"
CP_LISTING = "/CLUSTER/Navigation/DE/Aktuelles/aktuelles.html"
OPR_FEED = "/rss/openpr.xml"
OPR_LISTING = "/news/kategorien2-10-Wissenschaft-Forschung-Bildung.html"
BMWE_FEED = "/SiteGlobals/BMWI/Functions/RSSFeed/DE/RSSFeed-Pressemitteilung.xml"
BMWE_LISTING_FILE = "SiteGlobals/BMWI/Forms/Listen/Medienraum/Medienraum_Formular.html"
BMWE_LISTING = (
    "/SiteGlobals/BMWI/Forms/Listen/Medienraum/Medienraum_Formular.html"
    "?resourceId=80d4e326-fa53-4240-b747-874d2b8e1dd2&input_=b85129ab-7314-4382-8f1c-5a6beff4f49a"
    "&pageLocale=de&documentType_=PressRelease"
)
CLIB_FEED = "/de/feed/"
CLIB_LISTING = "/de/news/"


class Template:
    """A v1 article page: its file, URL and headline (replaced wherever they occur)."""

    def __init__(self, host: str, path: str, title: str):
        self.url = f"https://{host}{path}"
        self.file = V1 / host / unquote(path).lstrip("/")
        if path.endswith("/"):
            self.file = self.file / "index.html"
        self.title = title

    def load(self) -> lxml_html.HtmlElement:
        return lxml_html.fromstring(self.file.read_bytes())


CP_TEMPLATE = Template(
    CP_HOST,
    "/CLUSTER/Redaktion/DE/Kurzmeldungen/Aktuelles/2022/3_quartal/20220908_neue_mitglieder_go_cluster.html",
    "„go-cluster“ wächst: Fünf Innovationscluster neu im Programm",
)
OPR_TEMPLATE = Template(
    OPR_HOST,
    "/news/1305512/Clusterwoche-2026-Innovationscluster-aus-ganz-Deutschland-praesentieren-sich-in-Hannover.html",
    "Clusterwoche 2026: Innovationscluster aus ganz Deutschland präsentieren sich in Hannover",
)
BMWK_TEMPLATE = Template(
    BMWE_HOST,
    "/Redaktion/DE/Pressemitteilungen/2024/05/20240515-innovationscluster-starke-partner-fuer-den-mittelstand.html",
    "Innovationscluster sind starke Partner für den Mittelstand",
)
BMWE_TEMPLATE = Template(
    BMWE_HOST,
    "/Redaktion/DE/Pressemitteilungen/2025/06/20250626-europaeische-clusterkonferenz-resiliente-lieferketten.html",
    "Europäische Clusterkonferenz in Berlin: Cluster machen Lieferketten widerstandsfähiger",
)
BMWE_RENAMED = datetime(2025, 5, 6, tzinfo=BERLIN)  # BMWK → BMWE: the chrome of that era
CLIB_TEMPLATES = {
    "de": Template(
        CLIB_HOST, "/de/clib-15-jahre/", "#1 Fünfzehn Jahre CLIB – Fünfzehn Jahre Transformation"
    ),
    "en": Template(
        CLIB_HOST,
        "/en/clib-15-years/",
        "#1 Fifteen years of CLIB – fifteen years of transformation",
    ),
}
MONTHS_DE = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember"
MONTHS_EN = "January February March April May June July August September October November December"


# -- helpers ------------------------------------------------------------------------------


def when(page: Page) -> datetime:
    return datetime.fromisoformat(page.published).replace(tzinfo=BERLIN)


def ddmmyyyy(page: Page) -> str:
    return when(page).strftime("%d.%m.%Y")


def long_date(page: Page, lang: str) -> str:
    moment = when(page)
    month = (MONTHS_DE if lang == "de" else MONTHS_EN).split()[moment.month - 1]
    return (
        f"{moment.day}. {month} {moment.year}"
        if lang == "de"
        else f"{moment.day} {month} {moment.year}"
    )


def path_of(url: str) -> str:
    return urlsplit(url).path


def lang_of(page: Page) -> str:
    return "en" if "/en/" in page.url else "de"


def plain(item: str) -> str:
    """The text of one body item (HTML items without their tags)."""
    if item.startswith("<"):
        return lxml_html.fragment_fromstring(item).text_content()
    return item.removeprefix("## ")


def summary(page: Page, limit: int = 0, ellipsis: str = " …") -> str:
    """Feed/listing teaser: the declared one, or the first paragraph (without the openPR
    marker), cut at a word boundary after ``limit`` characters."""
    if page.teaser and not limit:
        return page.teaser
    text = plain(page.body[0]).removeprefix("(openPR) - ")
    if limit and len(text) > limit:
        return text[:limit].rsplit(" ", 1)[0] + ellipsis
    return text


def body_elements(items: Iterable[str], heading: str = "h2") -> list[lxml_html.HtmlElement]:
    elements = []
    for item in items:
        if item.startswith("<"):
            element = lxml_html.fragment_fromstring(item)
        elif item.startswith("## "):
            element = lxml_html.Element(heading)
            element.text = item[3:]
        else:
            element = lxml_html.Element("p")
            element.text = item
        elements.append(element)
    return elements


def fill(
    container: lxml_html.HtmlElement,
    elements: Iterable[lxml_html.HtmlElement],
    indent: str,
    before: lxml_html.HtmlElement | None = None,
) -> None:
    """Append (or insert before ``before``) elements with template-like indentation."""
    for element in elements:
        element.tail = "\n" + indent
        if before is None:
            container.append(element)
        else:
            before.addprevious(element)


def clear(container: lxml_html.HtmlElement, keep: Iterable[lxml_html.HtmlElement] = ()) -> None:
    kept = set(keep)
    for child in list(container):
        if child not in kept:
            container.remove(child)


def one(doc: lxml_html.HtmlElement, xpath: str) -> lxml_html.HtmlElement:
    found = doc.xpath(xpath)
    if len(found) < 1:
        raise LookupError(xpath)
    return found[0]


def set_meta(doc: lxml_html.HtmlElement, key: str, name: str, value: str) -> None:
    for meta in doc.xpath(f"//meta[@{key}='{name}']"):
        meta.set("content", value)


def retarget(
    doc: lxml_html.HtmlElement, template: Template, page: Page, extra: dict[str, str]
) -> None:
    """Replace the template's URL, path and headline in every attribute (share links,
    permalinks, canonical, print links), plain and percent-encoded."""
    pairs = {
        quote(template.url, safe=""): quote(page.url, safe=""),
        template.url: page.url,
        path_of(template.url): path_of(page.url),
        quote(template.title, safe=""): quote(page.title, safe=""),
        **extra,
    }
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute, value in element.attrib.items():
            new = value
            for old, replacement in pairs.items():
                new = new.replace(old, replacement)
            if new != value:
                element.set(attribute, new)


def write_html(doc: lxml_html.HtmlElement, url: str, query_file: str | None = None) -> Path:
    text = lxml_html.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")
    return write(query_file or file_of(url), text + "\n")


def file_of(url: str) -> str:
    parts = urlsplit(url)
    path = unquote(parts.path).lstrip("/")
    if not path or path.endswith("/"):
        path += "index.html"
    return f"{parts.netloc}/{path}"


def write(relative: str, text: str | bytes) -> Path:
    target = OUT / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text, encoding="utf-8")
    return target


def of_source(source: str, lang: str | None = None) -> list[Page]:
    """The source's pages, newest first."""
    found = [p for p in PAGES if p.source == source and (lang is None or lang_of(p) == lang)]
    return sorted(found, key=when, reverse=True)


def openpr_id(page: Page) -> str:
    return path_of(page.url).split("/")[2]


def clib_post_ids() -> dict[str, int]:
    ordered = sorted((p for p in PAGES if p.source == "clib"), key=lambda p: (when(p), p.url))
    return {p.url: 7001 + 3 * n for n, p in enumerate(ordered)}


def slug(text: str) -> str:
    table = str.maketrans(
        {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
    )
    return re.sub(r"[^A-Za-z0-9]+", "-", text.translate(table)).strip("-")


# -- clusterplattform ---------------------------------------------------------------------


def render_clusterplattform(page: Page) -> None:
    doc = CP_TEMPLATE.load()
    retarget(doc, CP_TEMPLATE, page, {})
    description = page.subtitle or summary(page, 200)
    one(doc, "//title").text = f"Clusterplattform Deutschland - {page.title}"
    set_meta(doc, "name", "description", description)
    set_meta(doc, "property", "og:title", page.title)
    set_meta(doc, "property", "og:description", description)
    set_meta(doc, "name", "DC.Date", when(page).date().isoformat())
    one(doc, "//div[@id='navBreadcrumbs']//li/strong").text = page.title.split(":")[0]

    article = one(doc, "//div[@id='content']//div[contains(@class, 'article')]")
    one(article, ".//p[@class='date']").text = ddmmyyyy(page)
    one(article, ".//h1").text = page.title
    subtitle = one(article, "./p[@class='subtitle']")
    if page.subtitle:
        subtitle.text = page.subtitle
    else:
        subtitle.drop_tree()
    text = one(article, "./div[@class='text']")
    picture = one(text, "./div[contains(@class, 'picture')]")
    clear(text)
    elements = body_elements(page.body)
    if page.caption:
        stem = path_of(page.url).rsplit("/", 1)[1].removesuffix(".html")
        image = one(picture, ".//img")
        image.set(
            "src",
            f"/SharedDocs/Bilder/DE/Kurzmeldungen/{when(page).year}/{stem}.jpg?__blob=normal&v=2",
        )
        image.set("alt", page.caption)
        image.set("title", page.caption)
        one(picture, ".//span[@class='title']").text = page.caption
        one(picture, ".//span[@class='source']").text = page.credit
        elements.insert(1, picture)
    fill(text, elements, "        ")
    one(
        article, ".//div[@class='docData']/p[@class='source']"
    ).text = f"Quelle: {page.org or 'Clusterplattform Deutschland Redaktion'}"
    one(
        article, ".//div[@class='docData']/p[@class='topics']"
    ).text = f"Themen: {page.tag or 'Netzwerke'}"

    latest = one(doc, "//div[contains(@class, 'teaser latest')]/ul")
    item = copy.deepcopy(latest[0])
    clear(latest)
    for other in of_source("clusterplattform")[:3]:
        entry = copy.deepcopy(item)
        one(entry, "./span[@class='date']").text = ddmmyyyy(other)
        link = one(entry, "./a")
        link.set("href", path_of(other.url))
        link.set("title", other.title)
        link.text = other.title.split(":")[0]
        fill(latest, [entry], "        ")
    write_html(doc, page.url)


def clusterplattform_entry_points() -> None:
    pages = of_source("clusterplattform")
    feed = etree.parse(str(V1 / CP_HOST / CP_FEED.lstrip("/")))
    channel = feed.getroot().find("channel")
    newest = rfc822(pages[0])
    channel.find("pubDate").text = newest
    channel.find("lastBuildDate").text = newest
    rss_items(channel, pages, lambda p: p.subtitle or summary(p, 200), creator=False)
    write(f"{CP_HOST}{CP_FEED}", serialise_xml(feed))

    doc = lxml_html.fromstring((V1 / CP_HOST / CP_LISTING.lstrip("/")).read_bytes())
    result = one(doc, "//div[@class='searchresult']")
    teaser = copy.deepcopy(one(result, "./div[contains(@class, 'teaser')]"))
    clear(result, keep=[one(result, "./p[@class='resultinfo']")])
    one(result, "./p[@class='resultinfo']").text = f"Ergebnisse 1 bis {len(pages)} von {len(pages)}"
    for page in pages:
        entry = copy.deepcopy(teaser)
        stem = path_of(page.url).rsplit("/", 1)[1].removesuffix(".html")
        one(entry, ".//img").set(
            "src",
            f"/SharedDocs/Bilder/DE/Kurzmeldungen/{when(page).year}/{stem}.jpg?__blob=thumbnail&v=2",
        )
        one(entry, ".//span[@class='date']").text = ddmmyyyy(page)
        heading = one(entry, ".//h2/a")
        heading.set("href", path_of(page.url))
        heading.set("title", page.title)
        heading.text = page.title
        text = one(entry, ".//div[@class='text']/p[not(@class)]")
        text.text = (page.subtitle or summary(page, 200)) + " "
        more = one(text, "./a[@class='more']")
        more.set("href", path_of(page.url))
        more.set("title", f"Mehr zu: {page.title}")
        fill(result, [entry], "        ")
    one(doc, "//div[@class='navIndex']").drop_tree()
    write_html(doc, f"https://{CP_HOST}{CP_LISTING}")


# -- openPR -------------------------------------------------------------------------------


def render_openpr(page: Page) -> None:
    doc = OPR_TEMPLATE.load()
    news_id = openpr_id(page)
    image_dir = f"/images/articles/{news_id[-1]}/{news_id[-2]}/{news_id}"
    retarget(
        doc,
        OPR_TEMPLATE,
        page,
        {"/images/articles/2/1/1305512": image_dir, "pm-1305512": f"pm-{news_id}"},
    )
    moment = when(page)
    description = summary(page, 150)
    org_link = f"/news/archiv/{300000 + int(news_id) % 9973}/{slug(page.org)}.html"
    one(doc, "//title").text = f"{page.title} - openPR"
    set_meta(doc, "name", "description", description)
    set_meta(doc, "property", "og:title", page.title)
    set_meta(doc, "property", "og:description", description)
    set_meta(doc, "property", "article:published_time", moment.isoformat())
    ld = one(doc, "//script[@type='application/ld+json']")
    data = json.loads(ld.text)
    data.update(
        headline=page.title, datePublished=moment.isoformat(), dateModified=moment.isoformat()
    )
    data["mainEntityOfPage"] = page.url
    data["image"] = [f"https://{OPR_HOST}{image_dir}_m.jpg"]
    data["author"]["name"] = page.org
    ld.text = "\n" + json.dumps(data, ensure_ascii=False, indent=1) + "\n"

    article = one(doc, "//article[contains(@class, 'pm-article')]")
    one(article, ".//h1").text = page.title
    author = one(article, ".//p[@class='pm-from']/a")
    author.text = page.org
    author.set("href", org_link)
    date = one(article, ".//time[contains(@class, 'pm-date')]")
    date.set("datetime", moment.isoformat())
    date.text = moment.strftime("%d.%m.%Y %H:%M")
    figure = one(article, ".//figure[@class='pm-image']")
    if page.caption:
        one(figure, ".//img").set("alt", page.caption)
        one(figure, ".//span[@class='pm-image-caption']").text = page.caption
        one(figure, ".//span[@class='pm-image-credit']").text = page.credit
    else:
        figure.drop_tree()
    text = one(article, ".//div[@id='pmtext']")
    clear(text)
    text.text = "\n        "
    fill(text, body_elements(page.body), "        ")
    contact = one(article, ".//div[contains(@class, 'pm-contact')]")
    if page.contact:
        address = one(contact, "./address")
        clear(address)
        address.text = "\n            " + page.contact[0]
        for line in page.contact[1:]:
            br = lxml_html.Element("br")
            br.tail = "\n            " + line
            address.append(br)
        address[-1].tail += "\n          "
    else:
        contact.drop_tree()
    company = one(article, ".//div[contains(@class, 'pm-company')]")
    if page.about:
        one(company, "./h3").text = f"Über {page.org}"
        one(company, "./p").text = page.about
    else:
        company.drop_tree()
    one(article, ".//p[@class='pm-disclaimer']").text = (
        f"Für den Inhalt der Pressemitteilung ist der Einsteller, {page.org}, verantwortlich. "
        "openPR distanziert sich ausdrücklich von den Inhalten Dritter und macht sich diese nicht "
        "zu eigen."
    )
    one(
        article, ".//p[@class='pm-stats']"
    ).text = f"News-ID: {news_id} • Views: {97 + int(news_id) % 1400}"
    one(article, ".//section[@class='pm-more']/h3").text = f"Weitere Mitteilungen von {page.org}"
    more = one(article, ".//section[@class='pm-more']//a")
    more.set("href", org_link)
    more.text = f"Alle Pressemitteilungen von {page.org} im Überblick"

    others = [p for p in of_source("openpr") if p.url != page.url]
    openpr_links(one(article, ".//section[@class='pm-related']/ul"), others[:3], date_tag="span")
    openpr_links(
        one(doc, "//div[contains(@class, 'widget-newest')]/ul"),
        of_source("openpr")[:5],
        date_tag="span",
    )
    write_html(doc, page.url)


def openpr_links(ul: lxml_html.HtmlElement, pages: list[Page], date_tag: str) -> None:
    item = copy.deepcopy(ul[0])
    clear(ul)
    for page in pages:
        entry = copy.deepcopy(item)
        link = one(entry, "./a")
        link.set("href", path_of(page.url))
        link.text = page.title
        one(entry, f"./{date_tag}[@class='date']").text = ddmmyyyy(page)
        fill(ul, [entry], "        ")


def openpr_entry_points() -> None:
    pages = of_source("openpr")
    feed = etree.parse(str(V1 / OPR_HOST / OPR_FEED.lstrip("/")))
    channel = feed.getroot().find("channel")
    channel.find("lastBuildDate").text = rfc822(pages[0])
    rss_items(channel, pages, lambda p: summary(p, 280), creator=True)
    write(f"{OPR_HOST}{OPR_FEED}", serialise_xml(feed))

    doc = lxml_html.fromstring((V1 / OPR_HOST / OPR_LISTING.lstrip("/")).read_bytes())
    listing = one(doc, "//div[@class='pm-list']")
    teaser = copy.deepcopy(listing[0])
    clear(listing)
    for page in pages:
        entry = copy.deepcopy(teaser)
        news_id = openpr_id(page)
        thumb = one(entry, "./a[contains(@class, 'pm-thumb')]")
        thumb.set("href", path_of(page.url))
        one(thumb, "./img").set(
            "src", f"/images/articles/{news_id[-1]}/{news_id[-2]}/{news_id}_k.jpg"
        )
        heading = one(entry, ".//h2/a")
        heading.set("href", path_of(page.url))
        heading.text = page.title
        date = one(entry, ".//time")
        date.set("datetime", when(page).isoformat())
        date.text = when(page).strftime("%d.%m.%Y %H:%M")
        company = one(entry, ".//span[@class='pm-teaser-company']/a")
        company.text = page.org
        company.set("href", f"/news/archiv/{300000 + int(news_id) % 9973}/{slug(page.org)}.html")
        text = one(entry, ".//p[@class='pm-teaser-text']")
        text.text = summary(page, 400) + " "
        one(text, "./a[@class='more']").set("href", path_of(page.url))
        fill(listing, [entry], "        ")
    one(doc, "//nav[contains(@class, 'pm-pagination')]").drop_tree()
    openpr_links(
        one(doc, "//div[contains(@class, 'widget-newest')]/ul"), pages[:5], date_tag="span"
    )
    write_html(doc, f"https://{OPR_HOST}{OPR_LISTING}")


# -- the ministry -------------------------------------------------------------------------


def render_bmwe(page: Page) -> None:
    template = BMWE_TEMPLATE if when(page) >= BMWE_RENAMED else BMWK_TEMPLATE
    doc = template.load()
    stem = path_of(page.url).rsplit("/", 1)[1].removesuffix(".html")
    old_stem = path_of(template.url).rsplit("/", 1)[1].removesuffix(".html")
    retarget(doc, template, page, {old_stem: stem})
    prefix = one(doc, "//title").text.split(" - ", 1)[0]
    description = summary(page, 200)
    one(doc, "//title").text = f"{prefix} - {page.title}"
    set_meta(doc, "name", "description", description)
    set_meta(doc, "property", "og:title", page.title)
    crumb = page.title if len(page.title) <= 60 else page.title[:55].rsplit(" ", 1)[0] + " …"
    one(doc, "//li[contains(@class, 'breadcrumb-item active')]/span").text = crumb
    head = one(doc, "//main[@id='main']//div[contains(@class, 'main-head')]")
    one(head, ".//p[@class='topline']/span[@class='date']").text = ddmmyyyy(page)
    tag = one(head, ".//p[@class='topline']/a[@class='tag']")
    tag.set("href", f"/Redaktion/DE/Dossier/{slug(page.tag).lower()}.html")
    one(tag, "./span").text = page.tag
    one(head, ".//h1").text = page.title

    content = one(doc, "//div[contains(@class, 'main-content')]//div[@class='content']")
    figure = one(content, "./figure")
    clear(content, keep=[figure])
    one(figure, ".//img").set("alt", page.caption)
    one(figure, ".//img").set("title", page.caption)
    one(figure, ".//span[@class='caption']").text = page.caption
    one(figure, ".//span[@class='credit']").text = page.credit
    figure.tail = "\n        "
    fill(content, body_elements(page.body, heading="h3"), "        ")
    one(doc, "//a[@class='download-link']").set(
        "href",
        f"/Redaktion/DE/Downloads/Pressemitteilungen/{when(page).year}/{stem}-hintergrund.pdf"
        "?__blob=publicationFile&v=14",
    )
    write_html(doc, page.url)


def bmwe_entry_points() -> None:
    pages = of_source("bmwe")
    feed = etree.parse(str(V1 / BMWE_HOST / BMWE_FEED.lstrip("/")))
    channel = feed.getroot().find("channel")
    channel.find("lastBuildDate").text = rfc822(pages[0])
    rss_items(channel, pages, lambda p: summary(p), creator=False)
    write(f"{BMWE_HOST}{BMWE_FEED}", serialise_xml(feed))

    doc = lxml_html.fromstring((V1 / BMWE_HOST / BMWE_LISTING_FILE).read_bytes())
    cards = one(doc, "//ul[contains(@class, 'card-list-media-space')]")
    card = copy.deepcopy(cards[0])
    clear(cards)
    for page in pages:
        entry = copy.deepcopy(card)
        one(entry, ".//p[@class='card-topline']/span").text = ddmmyyyy(page)
        one(entry, ".//span[@class='card-title-text']").text = page.title
        one(entry, ".//p[@class='card-text']").text = summary(page)
        link = one(entry, ".//a[@class='card-link-overlay']")
        link.set("href", path_of(page.url))
        link.set("title", page.title)
        one(link, "./span").text = f"Zur Pressemitteilung: {page.title}"
        fill(cards, [entry], "          ")
    one(
        doc, "//p[@class='search-result-count']"
    ).text = f"Zeige Ergebnisse 1 bis {len(pages)} von {len(pages)}"
    one(doc, "//ul[@class='pagination']").drop_tree()
    write_html(doc, "", query_file=f"{BMWE_HOST}/{BMWE_LISTING_FILE}")
    routes = {BMWE_LISTING: {"file": BMWE_LISTING_FILE}}
    write(f"{BMWE_HOST}/_routes.json", json.dumps(routes, indent=2) + "\n")


# -- CLIB ---------------------------------------------------------------------------------


def render_clib(page: Page, post_ids: dict[str, int]) -> None:
    lang = lang_of(page)
    template = CLIB_TEMPLATES[lang]
    doc = template.load()
    post_id = post_ids[page.url]
    retarget(
        doc,
        template,
        page,
        {"postid-5810": f"postid-{post_id}", "postid-5812": f"postid-{post_id}"},
    )
    moment = when(page)
    description = summary(page, 150)
    own = path_of(page.url)
    one(doc, "//title").text = f"{page.title} – CLIB"
    set_meta(doc, "name", "description", description)
    set_meta(doc, "property", "og:title", page.title)
    set_meta(doc, "property", "og:description", description)
    set_meta(doc, "property", "og:url", page.url)
    set_meta(doc, "property", "article:published_time", moment.isoformat())
    set_meta(doc, "property", "article:modified_time", moment.isoformat())
    image = f"/wp-content/uploads/{moment:%Y/%m}/{own.strip('/').split('/')[-1]}"
    set_meta(doc, "property", "og:image", f"https://{CLIB_HOST}{image}-1024x576.jpg")

    alternates = doc.xpath("//link[@rel='alternate'][@hreflang]")
    canonical = one(doc, "//link[@rel='canonical']")
    canonical.set("href", page.url)
    for link in alternates:
        link.drop_tree()
    if page.alternate:
        versions = {lang: page.url, "en" if lang == "de" else "de": page.alternate}
        for hreflang, href in (
            ("de", versions["de"]),
            ("en", versions["en"]),
            ("x-default", versions["de"]),
        ):
            link = lxml_html.Element("link", rel="alternate", href=href, hreflang=hreflang)
            link.tail = "\n"
            canonical.addnext(link)
            canonical = link
    ld = one(doc, "//script[@type='application/ld+json']")
    data = json.loads(ld.text)
    node = data["@graph"][0]
    node.update(
        {
            "@id": f"{page.url}#article",
            "isPartOf": {"@id": page.url},
            "headline": page.title,
            "datePublished": moment.astimezone(UTC).isoformat(),
            "dateModified": moment.astimezone(UTC).isoformat(),
            "mainEntityOfPage": {"@id": page.url},
        }
    )
    ld.text = json.dumps(data, ensure_ascii=False)

    switch = {"de": "/de/news/", "en": "/en/news/"}
    switch[lang] = own
    if page.alternate:
        switch["en" if lang == "de" else "de"] = path_of(page.alternate)
    one(doc, "//li[contains(@class, 'lang-item-de')]/a").set("href", switch["de"])
    one(doc, "//li[contains(@class, 'lang-item-en')]/a").set("href", switch["en"])
    one(doc, "//span[@class='breadcrumb_last']").text = page.title

    article = one(doc, "//main//article")
    article.set("id", f"post-{post_id}")
    article.set("class", re.sub(r"post-\d+", f"post-{post_id}", article.get("class", "")))
    one(article, ".//h1").text = page.title
    figure = one(article, ".//div[@class='post-thumbnail']//figure")
    one(figure, ".//img").set("src", f"{image}-1024x576.jpg")
    one(figure, ".//img").set("alt", page.caption)
    caption = one(figure, "./figcaption")
    caption.text = page.caption + " "
    one(caption, "./span[@class='image-credit']").text = page.credit
    content = one(article, ".//div[@class='entry-content']")
    shariff = one(content, "./div[contains(@class, 'shariff')]")
    clear(content, keep=[shariff])
    content.text = "\n"
    fill(content, body_elements(page.body), "", before=shariff)
    shariff.getprevious().tail = "\n\n"

    footer = one(article, ".//footer[@class='entry-footer']")
    one(footer, ".//a[@rel='bookmark']").set("href", page.url)
    date = one(footer, ".//time")
    date.set("datetime", moment.isoformat())
    date.text = long_date(page, lang)
    category = one(footer, ".//span[@class='cat-links']/a")
    category.set("href", f"/{lang}/category/{slug(page.tag).lower()}/")
    category.text = page.tag
    for tags in footer.xpath(".//span[@class='tags-links']"):
        tags.drop_tree()

    same = of_source("clib", lang)
    index = [p.url for p in same].index(page.url)
    for navigation in doc.xpath("//nav[contains(@class, 'post-navigation')]"):  # DE template only
        for side, neighbour in (("previous", index + 1), ("next", index - 1)):
            box = one(navigation, f".//div[@class='nav-{side}']")
            if 0 <= neighbour < len(same):
                link = one(box, "./a")
                link.set("href", path_of(same[neighbour].url))
                one(link, "./span[@class='nav-title']").text = same[neighbour].title
            else:
                box.drop_tree()
    for related in doc.xpath("//ul[@class='related-posts__list']"):  # DE template only
        item = copy.deepcopy(related[0])
        clear(related)
        for other in [p for p in same if p.url != page.url][:3]:
            entry = copy.deepcopy(item)
            link = one(entry, "./a")
            link.set("href", path_of(other.url))
            one(link, "./span").text = ddmmyyyy(other)
            one(link, "./span").tail = " " + other.title
            related.append(entry)
    recent = one(doc, "//section[contains(@class, 'widget_recent_entries')]/ul")
    clear(recent)
    recent.text = "\n"
    for other in same[:5]:
        entry = lxml_html.fragment_fromstring(f'<li><a href="{path_of(other.url)}"></a></li>')
        one(entry, "./a").text = other.title
        if other.url == page.url:
            one(entry, "./a").set("aria-current", "page")
        entry.tail = "\n"
        recent.append(entry)
    write_html(doc, page.url)


def clib_entry_points(post_ids: dict[str, int]) -> None:
    german = of_source("clib", "de")
    parser = etree.XMLParser(strip_cdata=False)
    feed = etree.parse(str(V1 / CLIB_HOST / "de/feed/index.xml"), parser)
    channel = feed.getroot().find("channel")
    channel.find("lastBuildDate").text = format_datetime(when(german[0]).astimezone(UTC))
    item = copy.deepcopy(channel.find("item"))
    for old in channel.findall("item"):
        channel.remove(old)
    dc = "{http://purl.org/dc/elements/1.1/}"
    content_ns = "{http://purl.org/rss/1.0/modules/content/}"
    for page in german:
        entry = copy.deepcopy(item)
        entry.find("title").text = page.title
        entry.find("link").text = page.url
        entry.find(f"{dc}creator").text = etree.CDATA("CLIB Redaktion")
        entry.find("pubDate").text = format_datetime(when(page).astimezone(UTC))
        categories = entry.findall("category")
        categories[0].text = etree.CDATA(page.tag)
        for extra in categories[1:]:
            entry.remove(extra)
        entry.find("guid").text = f"https://{CLIB_HOST}/?p={post_ids[page.url]}"
        entry.find("description").text = etree.CDATA(summary(page, 300, " [&#8230;]"))
        html = "\n".join(
            lxml_html.tostring(e, encoding="unicode") for e in body_elements(page.body)
        )
        html += (
            f'\n<p>Der Beitrag <a href="{page.url}">{page.title}</a> erschien zuerst auf '
            f'<a href="https://{CLIB_HOST}/de/">CLIB</a>.</p>\n'
        )
        entry.find(f"{content_ns}encoded").text = etree.CDATA(html)
        channel.append(entry)
    write(f"{CLIB_HOST}/de/feed/index.xml", serialise_xml(feed))
    routes = json.loads((V1 / CLIB_HOST / "_routes.json").read_text(encoding="utf-8"))
    write(f"{CLIB_HOST}/_routes.json", json.dumps(routes, indent=2, ensure_ascii=False) + "\n")

    doc = lxml_html.fromstring((V1 / CLIB_HOST / "de/news/index.html").read_bytes())
    listing = one(doc, "//div[@class='news-list']")
    card = copy.deepcopy(one(listing, "./article[a[contains(@class, 'post-thumbnail')]]"))
    clear(listing)
    for page in german:
        entry = copy.deepcopy(card)
        post_id = post_ids[page.url]
        entry.set("id", f"post-{post_id}")
        entry.set("class", re.sub(r"post-\d+", f"post-{post_id}", entry.get("class", "")))
        own = path_of(page.url)
        thumb = one(entry, "./a[contains(@class, 'post-thumbnail')]")
        thumb.set("href", own)
        one(thumb, "./img").set(
            "src",
            f"/wp-content/uploads/{when(page):%Y/%m}/{own.strip('/').split('/')[-1]}-300x169.jpg",
        )
        date = one(entry, ".//time")
        date.set("datetime", when(page).isoformat())
        date.text = ddmmyyyy(page)
        category = one(entry, ".//span[@class='cat-links']/a")
        category.set("href", f"/de/category/{slug(page.tag).lower()}/")
        category.text = page.tag
        heading = one(entry, ".//h2/a")
        heading.set("href", own)
        heading.text = page.title
        one(entry, ".//div[@class='entry-summary']/p").text = summary(page, 300, " […]")
        more = one(entry, "./a[@class='more-link']")
        more.set("href", own)
        one(more, "./span").text = f" „{page.title}“"
        entry.tail = "\n"
        listing.append(entry)
    one(doc, "//nav[contains(@class, 'pagination')]").drop_tree()
    write_html(doc, f"https://{CLIB_HOST}{CLIB_LISTING}")

    everything = of_source("clib")
    index = etree.parse(str(V1 / CLIB_HOST / "wp-sitemap.xml"))
    sm = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    index.getroot().find(f"{sm}sitemap/{sm}lastmod").text = (
        when(everything[0]).astimezone(UTC).isoformat()
    )
    write(f"{CLIB_HOST}/wp-sitemap.xml", serialise_xml(index))
    posts = etree.parse(str(V1 / CLIB_HOST / "wp-sitemap-posts-post-1.xml"))
    urlset = posts.getroot()
    url = copy.deepcopy(urlset[0])
    clear(urlset)
    for page in everything:
        entry = copy.deepcopy(url)
        entry.find(f"{sm}loc").text = page.url
        entry.find(f"{sm}lastmod").text = when(page).astimezone(UTC).isoformat()
        urlset.append(entry)
    write(f"{CLIB_HOST}/wp-sitemap-posts-post-1.xml", serialise_xml(posts))


# -- feeds, robots, labels ----------------------------------------------------------------


def rfc822(page: Page) -> str:
    return format_datetime(when(page))


def rss_items(channel: etree._Element, pages: list[Page], description, *, creator: bool) -> None:
    item = copy.deepcopy(channel.find("item"))
    for old in channel.findall("item"):
        channel.remove(old)
    for page in pages:
        entry = copy.deepcopy(item)
        entry.find("title").text = page.title
        entry.find("link").text = page.url
        entry.find("description").text = description(page)
        entry.find("pubDate").text = rfc822(page)
        entry.find("guid").text = page.url
        if creator:
            entry.find("{http://purl.org/dc/elements/1.1/}creator").text = page.org
        channel.append(entry)


def serialise_xml(tree: etree._ElementTree) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8") + b"\n"


ROBOTS = "# robots.txt fuer {host} (Story-Set: alles erlaubt)\n\nUser-agent: *\nDisallow:\n"


def labels() -> dict:
    stories = []
    for story, (kind, relevant, tests) in STORIES.items():
        members = [p.url for p in PAGES if p.story == story]
        stories.append(
            {"id": story, "members": members, "kind": kind, "relevant": relevant, "tests": tests}
        )
    negatives = [{"ids": list(ids), "why": why} for ids, why in NEGATIVES]
    return {"stories": stories, "hard_negatives": negatives}


def main() -> None:
    unknown = {p.story for p in PAGES} ^ set(STORIES)
    if unknown:
        raise SystemExit(f"stories without pages or pages without story: {sorted(unknown)}")
    if OUT.exists():
        shutil.rmtree(OUT)
    post_ids = clib_post_ids()
    for page in PAGES:
        if page.source == "clusterplattform":
            render_clusterplattform(page)
        elif page.source == "openpr":
            render_openpr(page)
        elif page.source == "bmwe":
            render_bmwe(page)
        else:
            render_clib(page, post_ids)
    clusterplattform_entry_points()
    openpr_entry_points()
    bmwe_entry_points()
    clib_entry_points(post_ids)
    for host in (CP_HOST, OPR_HOST, BMWE_HOST, CLIB_HOST):
        robots = ROBOTS.format(host=host)
        if host == CLIB_HOST:
            robots += f"\nSitemap: https://{CLIB_HOST}/wp-sitemap.xml\n"
        write(f"{host}/robots.txt", robots)
    (HERE / "labels.json").write_text(
        json.dumps(labels(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{len(PAGES)} pages, {len(STORIES)} stories, {len(NEGATIVES)} hard negatives → {OUT}")


if __name__ == "__main__":
    main()
