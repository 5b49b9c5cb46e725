"""The status page (``/``): per-source health, a chart of items per run, the newest items.

One self-contained HTML5 document: inline CSS and SVG, no scripts, no external resources
(the Content-Security-Policy forbids them), so it works offline and behind any proxy.
Every piece of text from the database or the config goes through :func:`html.escape`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo

from db.models import Article, CrawlRun
from db.repository import Repository
from monitor.health import NextRun, SourceHealth, evaluate, format_time, format_timedelta
from scraper.config import Config
from scraper.urls import absolute_url

CHART_RUNS = 20
NEWEST_ITEMS = 20
BERLIN = ZoneInfo("Europe/Berlin")
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;
color:#1d2433;background:#f7f8fa}
h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:1.8rem 0 .5rem}
.meta{color:#5b6475;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0001}
th,td{padding:.45rem .6rem;border-bottom:1px solid #e3e6eb;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{display:inline-block;padding:.05rem .5rem;border-radius:.8rem;font-weight:600}
.healthy{background:#dcf5e3;color:#176b33}.unhealthy{background:#fde0e0;color:#a11d1d}
.pending{background:#fff3cd;color:#7a5a00}.disabled{background:#e9ecef;color:#5b6475}
.degraded{background:#ffe8cc;color:#8a4600}
ul.reasons{margin:.3rem 0 0;padding-left:1.1rem;color:#a11d1d}
ul.reasons li.degraded{background:none;color:#8a4600}
code.rule{font-size:.8em;color:#5b6475}
time{white-space:nowrap}
svg.chart text{font-size:9px;fill:#5b6475}
.small{color:#5b6475;font-size:.85em}
svg.chart{display:block}svg.chart rect.ok{fill:#3b7dd8}svg.chart rect.bad{fill:#d64545}
svg.chart line{stroke:#c5cad3}
a{color:#2459a8}
"""


def render_status(
    config: Config,
    repository: Repository,
    now: datetime | None = None,
    next_run: NextRun | None = None,
) -> str:
    """The whole status page as one HTML document (times in Europe/Berlin, UTC on hover)."""
    now = now or datetime.now(UTC)
    healths = evaluate(config, repository, now, next_run)
    rows = "\n".join(_source_row(health, health.recent_runs[:CHART_RUNS]) for health in healths)
    newest = repository.feed_articles(None, NEWEST_ITEMS)
    labels = {health.source: health.label for health in healths}
    unhealthy = sum(1 for health in healths if health.unhealthy)
    degraded = sum(1 for health in healths if health.degraded)
    if unhealthy or degraded:
        parts = [
            f"{n} {word}" for n, word in ((unhealthy, "unhealthy"), (degraded, "degraded")) if n
        ]
        summary = f"{' and '.join(parts)} of {len(healths)} sources"
    else:
        summary = f"all {len(healths)} sources healthy or pending"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta http-equiv="refresh" content="60">
<link rel="icon" href="data:,">
<title>clusterwatch status</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>clusterwatch status</h1>
<p class="meta">{escape(summary)} · generated {_time(now)} ·
feeds: all {_formats("all")} · <a href="/feeds.opml">every feed (OPML)</a></p>
</header>
<main>
<h2>Sources</h2>
<table id="sources">
<thead><tr><th>source</th><th>health and cause</th><th>last run</th><th>last success</th>
<th>next run</th><th>duration</th><th>new (last run)</th><th>new (7 days)</th><th>errors</th>
<th>last new item</th><th>new items per run (last {CHART_RUNS})</th><th>feeds</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
{_named_feeds(config)}
<h2>Newest announcements</h2>
{_newest(newest, labels)}
</main>
</body>
</html>
"""


def _source_row(health: SourceHealth, runs: list[CrawlRun]) -> str:
    name = escape(health.source)
    return (
        f'<tr id="source-{name}" class="source">'
        f'<td><strong>{escape(health.label)}</strong><br><span class="small">{name} · every '
        f"{escape(format_timedelta(health.interval))}</span></td>"
        f"<td>{_verdict(health)}</td>"
        f"<td>{_last_run(health)}</td>"
        f"<td>{_time(health.last_success_at) if health.last_success_at else 'never'}</td>"
        f"<td>{_time(health.next_run_at) if health.next_run_at else '–'}</td>"
        f"<td>{escape(format_timedelta(health.last_run_duration))}</td>"
        f'<td class="num">{_number(health.items_new_last_run)}</td>'
        f'<td class="num">{health.items_last_7_days}</td>'
        f'<td class="num">{_number(health.errors_last_run)}</td>'
        f"<td>{_since(health)}</td>"
        f"<td>{items_chart(health.source, runs)}</td>"
        f"<td>{_formats(health.source)}</td>"
        "</tr>"
    )


def _formats(name: str) -> str:
    """Links to a feed's three formats."""
    stem = escape(name, quote=True)
    return (
        f'<a href="/feeds/{stem}.xml">RSS</a> · <a href="/feeds/{stem}.atom">Atom</a> · '
        f'<a href="/feeds/{stem}.json">JSON</a>'
    )


def _named_feeds(config: Config) -> str:
    """The ``[feeds.<name>]`` filtered feeds with their titles and what they select."""
    if not config.feeds:
        return ""
    rows = []
    for name, definition in config.feeds.items():
        parts = []
        for label, match in (
            ("topics", definition.topics),
            ("programmes", definition.programmes),
            ("regions", definition.regions),
            ("sources", definition.sources),
            ("keywords", definition.keywords),
        ):
            for mode, terms in (("all of", match.all), ("any of", match.any), ("not", match.none)):
                if terms:
                    parts.append(f"{label} {mode}: {', '.join(terms)}")
        if definition.min_score is not None:
            parts.append(f"score ≥ {definition.min_score:g}")
        rows.append(
            f'<tr id="feed-{escape(name, quote=True)}"><td><strong>{escape(definition.title)}'
            f'</strong><br><span class="small">{escape(name)}</span></td>'
            f"<td>{escape('; '.join(parts) or 'everything')}</td><td>{_formats(name)}</td></tr>"
        )
    return (
        '<h2>Filtered feeds</h2>\n<table id="named-feeds">\n'
        "<thead><tr><th>feed</th><th>selects</th><th>formats</th></tr></thead>\n"
        f"<tbody>\n{''.join(rows)}\n</tbody>\n</table>"
    )


def _verdict(health: SourceHealth) -> str:
    badge = f'<span class="verdict {health.verdict}">{escape(health.verdict)}</span>'
    if not health.findings:
        return badge
    items = "".join(
        f'<li class="{escape(f.severity)}" data-rule="{escape(f.rule)}">{escape(f.message)} '
        f'<code class="rule">{escape(f.rule)}</code></li>'
        for f in health.findings
    )
    return f'{badge}<ul class="reasons">{items}</ul>'


def _time(moment: datetime | None) -> str:
    """Europe/Berlin wall time, with the UTC time on hover (and machine-readable)."""
    if moment is None:
        return "–"
    local = moment.astimezone(BERLIN)
    return (
        f'<time datetime="{escape(moment.astimezone(UTC).isoformat())}" '
        f'title="{escape(format_time(moment))}">'
        f"{escape(local.strftime('%Y-%m-%d %H:%M %Z'))}</time>"
    )


def _last_run(health: SourceHealth) -> str:
    run = health.last_run
    parts = []
    if run is None:
        parts.append("never")
    else:
        parts.append(
            f"{_time(run.started_at)}<br>"
            f'<span class="small">{escape(run.finish_reason or "–")} · '
            f'<a href="/runs/{run.id}/log">log of run {run.id}</a></span>'
        )
    if health.running_since is not None:
        parts.append(f'<span class="small">running since {_time(health.running_since)}</span>')
    return "<br>".join(parts)


def _since(health: SourceHealth) -> str:
    if health.since_last_new_item is None:
        return "–"
    return (
        f'<span title="{escape(format_time(health.last_new_item_at))}">'
        f"{escape(format_timedelta(health.since_last_new_item))} ago</span>"
    )


SCALE_WIDTH = 22  # room left of the bars for the scale's labels


def items_chart(source: str, runs: list[CrawlRun], width: int = 222, height: int = 40) -> str:
    """Inline SVG bars of new items per run, oldest left; failed or erroring runs in red.

    A scale on the left: 0 at the base line, the peak at the top.
    """
    if not runs:
        return '<span class="small">no runs yet</span>'
    ordered = sorted(runs, key=lambda run: run.id)[-CHART_RUNS:]
    peak = max(max(run.items_new for run in ordered), 1)
    slot = (width - SCALE_WIDTH) / CHART_RUNS
    bars = []
    for index, run in enumerate(ordered):
        # A run with zero items still gets a 1px stub so every run is visible.
        bar = max(round(run.items_new / peak * (height - 2)), 1)
        failed = run.finish_reason != "finished" or run.errors > 0
        label = (
            f"run {run.id} · {format_time(run.started_at)} · {run.items_new} new · "
            f"{run.finish_reason or 'running'} · {run.errors} errors"
        )
        bars.append(
            f'<rect class="{"bad" if failed else "ok"}" x="{SCALE_WIDTH + index * slot + 1:.1f}" '
            f'y="{height - 1 - bar}" width="{max(slot - 2, 1):.1f}" height="{bar}">'
            f"<title>{escape(label)}</title></rect>"
        )
    total = sum(run.items_new for run in ordered)
    return (
        f'<svg class="chart" data-source="{escape(source)}" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(f'{source}: {total} new items in the last {len(ordered)} runs')}</title>"
        f'<line x1="{SCALE_WIDTH}" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}"/>'
        f'<line x1="{SCALE_WIDTH - 0.5}" y1="1" x2="{SCALE_WIDTH - 0.5}" y2="{height}"/>'
        f'<text class="scale" x="{SCALE_WIDTH - 3}" y="9" text-anchor="end">{peak}</text>'
        f'<text class="scale" x="{SCALE_WIDTH - 3}" y="{height - 1}" text-anchor="end">0</text>'
        f"{''.join(bars)}</svg>"
    )


def _newest(articles: list[Article], labels: dict[str, str]) -> str:
    if not articles:
        return '<p class="small" id="newest">No announcements yet.</p>'
    rows = "\n".join(_article_row(article, labels) for article in articles)
    return (
        '<table id="newest"><thead><tr><th>date</th><th>title</th><th>source</th></tr></thead>'
        f"<tbody>\n{rows}\n</tbody></table>"
    )


def _article_row(article: Article, labels: dict[str, str]) -> str:
    moment = article.published_at or article.first_seen_at
    day = moment.astimezone(BERLIN).strftime("%Y-%m-%d") if moment else "–"
    title = escape(article.title or article.url)
    link = _safe_href(article.url)
    linked = f'<a href="{escape(link)}">{title}</a>' if link else title
    source = labels.get(article.source, article.source)
    return f"<tr><td>{escape(day)}</td><td>{linked}</td><td>{escape(source)}</td></tr>"


def _safe_href(url: str) -> str | None:
    """Only http(s) links: a source must not smuggle ``javascript:`` into our page."""
    return absolute_url(url, url)


def _number(value: int | None) -> str:
    return "–" if value is None else str(value)
