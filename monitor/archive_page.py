"""The archive (``/archive``) and each story's permalink page (``/stories/<id>``).

Plain HTML forms and links, no scripts (the same strict Content-Security-Policy as the status
page): every published story newest first, 20 a page, filtered by source, topic, region and
programme, with full-text search over the lead's title and text through the repository.
Every value from the database or the query string goes through :func:`html.escape`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from db.models import Article
from db.repository import FeedStory, Repository, StoryQuery, Terms
from monitor.feeds import content_html, plain_description
from scraper.classify import PROGRAMMES, REGIONS, TOPICS
from scraper.sources import SourceSpec
from scraper.text import printable
from scraper.urls import absolute_url

PER_PAGE = 20
MAX_PAGE = 100_000
BERLIN = ZoneInfo("Europe/Berlin")
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;
max-width:60rem;padding:0 1rem;color:#1d2433;background:#f7f8fa}
h1{font-size:1.4rem}form{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem}
input,select,button{font:inherit;padding:.25rem .4rem}
ol.stories{list-style:none;padding:0}ol.stories li{background:#fff;margin:.5rem 0;
padding:.6rem .8rem;box-shadow:0 1px 2px #0001}
.small{color:#5b6475;font-size:.85em}.tags span{background:#eef1f5;border-radius:.6rem;
padding:0 .45rem;margin-right:.25rem}nav.pages{display:flex;gap:1rem}a{color:#2459a8}
"""


@dataclass(frozen=True)
class ArchiveFilters:
    """What the query string asks for (unknown values are ignored, never an error)."""

    search: str = ""
    source: str = ""
    topic: str = ""
    region: str = ""
    programme: str = ""
    page: int = 1

    @classmethod
    def from_params(
        cls, params: Mapping[str, str], sources: Sequence[SourceSpec]
    ) -> ArchiveFilters:
        def pick(name: str, allowed: set[str]) -> str:
            value = params.get(name, "").strip()
            return value if value in allowed else ""

        try:
            page = min(max(int(params.get("page", "1")), 1), MAX_PAGE)
        except ValueError:
            page = 1
        return cls(
            search=printable(params.get("q", "")).strip()[:200],
            source=pick("source", {s.name for s in sources}),
            topic=pick("topic", {t.key for t in TOPICS} | _declared_topic(params.get("topic"))),
            region=pick("region", {t.name for t in REGIONS}),
            programme=pick("programme", {t.name for t in PROGRAMMES}),
            page=page,
        )

    def query(self) -> StoryQuery:
        groups = [
            Terms(all=(key,))
            for key in (
                self.topic,
                f"region:{self.region}" if self.region else "",
                f"programme:{self.programme}" if self.programme else "",
            )
            if key
        ]
        sources = Terms(all=(self.source,)) if self.source else Terms()
        return StoryQuery(topics=tuple(groups), sources=sources)

    def link(self, **changes: object) -> str:
        values = {
            "q": self.search,
            "source": self.source,
            "topic": self.topic,
            "region": self.region,
            "programme": self.programme,
            "page": self.page,
        }
        values.update(changes)
        kept = {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}
        return "/archive" + (f"?{urlencode(kept)}" if kept else "")


def _declared_topic(value: str | None) -> set[str]:
    """A source's own tags ("tag:Energie") are topics too."""
    return {value} if value and value.startswith("tag:") and len(value) > 4 else set()


def render_archive(
    repository: Repository, sources: Sequence[SourceSpec], filters: ArchiveFilters
) -> str:
    labels = {s.name: s.label for s in sources}
    offset = (filters.page - 1) * PER_PAGE
    page = repository.archive_stories(filters.query(), filters.search or None, offset, PER_PAGE)
    pages = max(1, -(-page.total // PER_PAGE))
    counted = (
        f"page {filters.page} · more than {page.total:,} stories"
        if page.capped
        else f"page {filters.page} of {pages} · {page.total} stories"
    )
    items = "\n".join(_story_item(story, labels) for story in page.stories)
    if not items:
        items = '<li class="empty">No stories match.</li>'
    nav = []
    if filters.page > 1:
        nav.append(f'<a rel="prev" href="{escape(filters.link(page=filters.page - 1))}">newer</a>')
    nav.append(f'<span class="small">{escape(counted)}</span>')
    if page.more:
        nav.append(f'<a rel="next" href="{escape(filters.link(page=filters.page + 1))}">older</a>')
    source_options = [(s.name, s.label) for s in sources]
    topic_options = [(t.key, f"{t.kind}: {t.name}") for t in TOPICS if t.kind == "field"]
    region_options = [(t.name, t.name) for t in REGIONS]
    programme_options = [(t.name, t.name) for t in PROGRAMMES]
    form = (
        '<form method="get" action="/archive" role="search">'
        f'<input type="search" name="q" value="{escape(filters.search, quote=True)}" '
        'placeholder="Suche: Wasserstoff, Bioökonomie …" aria-label="search">'
        f"{_select('source', 'all sources', source_options, filters.source)}"
        f"{_select('topic', 'all fields', topic_options, filters.topic)}"
        f"{_select('region', 'all regions', region_options, filters.region)}"
        f"{_select('programme', 'all programmes', programme_options, filters.programme)}"
        '<button type="submit">search</button></form>'
    )
    return _document(
        "clusterwatch archive",
        f'<h1>Archive</h1>\n{form}\n<ol class="stories" id="stories">\n{items}\n</ol>\n'
        f'<nav class="pages">{" ".join(nav)}</nav>\n'
        '<p class="small"><a href="/">status page</a> · <a href="/feeds/">feeds</a></p>',
    )


def _select(name: str, empty: str, options: Sequence[tuple[str, str]], chosen: str) -> str:
    rendered = [f'<option value="">{escape(empty)}</option>']
    for value, label in options:
        selected = " selected" if value == chosen else ""
        rendered.append(
            f'<option value="{escape(value, quote=True)}"{selected}>{escape(label)}</option>'
        )
    return f'<select name="{name}" aria-label="{name}">{"".join(rendered)}</select>'


def _story_item(story: FeedStory, labels: dict[str, str]) -> str:
    lead = story.lead
    places = ", ".join(
        escape(labels.get(a.source, a.source)) for a in _unique_sources([lead, *story.others])
    )
    return (
        f'<li id="story-{story.story.id}"><a class="permalink" href="/stories/{story.story.id}">'
        f"{escape(lead.title or lead.url)}</a><br>"
        f'<span class="small">{_date(lead.published_at or lead.first_seen_at)} · {places}</span>'
        f"<br>{escape(plain_description(lead.text, 240))}</li>"
    )


def render_story(story: FeedStory, sources: Sequence[SourceSpec]) -> str:
    """The permalink page: lead text, every place it appeared, topics, dates."""
    labels = {s.name: s.label for s in sources}
    lead = story.lead
    places = "".join(
        f'<li><a href="{escape(_safe_href(a.url), quote=True)}">'
        f"{escape(labels.get(a.source, a.source))}</a> "
        f'<span class="small">{_date(a.published_at or a.first_seen_at)}'
        f"{' · lead version' if a.id == lead.id else ''}</span></li>"
        for a in [lead, *story.others]
    )
    tags = "".join(f"<span>{escape(t)}</span>" for t in story.story.topics or [])
    dates = [f"published {_date(lead.published_at or lead.first_seen_at)}"]
    if story.story.first_published_at:
        dates.append(f"first in the feed {_date(story.story.first_published_at)}")
    if story.story.updated_at:
        dates.append(f"updated {_date(story.story.updated_at)}")
    body = (
        f'<article id="story"><h1>{escape(lead.title or lead.url)}</h1>'
        f'<p class="small">{" · ".join(dates)}</p>'
        f'<p class="tags">{tags}</p>'
        f'<div class="text">{content_html(lead)}</div>'
        f'<h2>Appeared at</h2><ul id="places">{places}</ul></article>'
        '<p class="small"><a href="/archive">archive</a> · <a href="/">status page</a></p>'
    )
    return _document(lead.title or "story", body)


def _unique_sources(articles: Sequence[Article]) -> list[Article]:
    seen: dict[str, Article] = {}
    for article in articles:
        seen.setdefault(article.source, article)
    return list(seen.values())


def _date(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    day = moment.astimezone(BERLIN)
    return f'<time datetime="{escape(moment.isoformat())}">{day.strftime("%Y-%m-%d")}</time>'


def _safe_href(url: str) -> str:
    """Only web links (http(s) with a host): no ``javascript:``, nothing urllib cannot
    parse."""
    return absolute_url(url, url) or "#"


def _document(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<link rel="icon" href="data:,">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""
