"""The ``clusterwatch`` command line (Typer + Rich).

Every bad input and every broken environment ends in one line on stderr and an exit code
(2 usage/configuration, 3 environment; see :mod:`monitor.errors`), never a traceback.
Read-only commands (``status``, ``runs``, ``log``, ``export``, ``serve``) never create a
database.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
from contextlib import nullcontext
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from monitor import clusterwatch_version
from monitor.errors import EXIT_ENVIRONMENT, EXIT_USAGE, Problem, describe
from scraper.config import CONFIG_ENV, Config, did_you_mean, load_config

app = typer.Typer(
    help="Watch innovation-cluster sites and publish new announcements as feeds.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()
err = Console(stderr=True)


def _show_version(value: bool) -> None:
    if value:
        console.print(f"clusterwatch {clusterwatch_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Watch innovation-cluster sites and publish new announcements as RSS, Atom and JSON feeds."""


def _config() -> Config:
    return load_config()  # a ConfigError becomes one line and exit 2 in main()


def _repository(config: Config, *, create: bool = False) -> Any:
    """The repository; read-only callers (the default) refuse to create a database."""
    from db.migrate import check_schema, ensure_schema
    from db.repository import Repository

    if create:
        _writable_data_dir(config)
        ensure_schema(config.db_url)
    else:
        check_schema(config.db_url)
    return Repository(config.db_url)


def _writable_data_dir(config: Config) -> None:
    """Fail early, in words, when the data dir cannot hold the database, feeds and logs."""
    path = config.data_dir.resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise Problem(
            f"data directory {path} is not writable: {error.strerror or error}", EXIT_ENVIRONMENT
        ) from None


def _source_names(config: Config, names: list[str] | None) -> list[str]:
    from monitor.sources import list_sources

    known = {s.name: s for s in list_sources(config)}
    if not names:
        return [n for n, s in known.items() if s.enabled]
    for name in names:
        if name not in known:
            raise Problem(
                f"unknown source {name!r}{did_you_mean(name, known)}; known: {', '.join(known)}",
                EXIT_USAGE,
            )
    return names


def _width() -> int:
    return console.width


@app.command()
def run() -> None:
    """Run the service: scheduled crawls, feeds and the HTTP server (status page, /feeds)."""
    from monitor.service import run_service

    config = _config()
    _writable_data_dir(config)
    run_service(config)


@app.command()
def crawl(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Sources to crawl (default: all enabled).")
    ] = None,
) -> None:
    """Crawl sources once now, with a progress bar per source and a summary table.

    Exit 1 when a crawl failed or a crawled source is unhealthy afterwards.
    """
    from monitor.crawls import run_crawls, summary_table
    from monitor.feeds import build_feeds
    from monitor.sources import list_sources

    config = _config()
    names = _source_names(config, sources)
    repository = _repository(config, create=True)
    outcomes = run_crawls(config, names, console)
    console.print(summary_table(outcomes))
    if any(o.run and o.run.items_new for o in outcomes):
        changed = build_feeds(config, repository, list_sources(config))
        console.print(f"feeds rebuilt: {len(changed)} file(s) changed in {config.feeds_dir}")
    failed = [
        o.source
        for o in outcomes
        if o.returncode != 0 or o.run is None or o.run.finish_reason != "finished"
    ]
    if failed:
        err.print(f"[red]crawl failed for: {', '.join(failed)}[/] — see `clusterwatch log RUN_ID`")
        raise typer.Exit(1)
    # A crawl that "finished" can still have reached nothing (every entry point down, every
    # article failing extraction): the health rules judge what it did.
    from monitor.health import evaluate

    judged = [h for h in evaluate(config, repository) if h.source in names]
    for health in judged:
        if health.unhealthy or health.degraded:
            causes = "; ".join(f"{f.message} [{f.rule}]" for f in health.findings)
            err.print(f"{health.source}: {health.verdict}: {causes}", markup=False)
    if any(h.unhealthy for h in judged):
        raise typer.Exit(1)


@app.command()
def feed(
    output: Annotated[
        Path | None,
        typer.Option(
            help="Write the feeds into this directory instead of DATA_DIR/feeds.", file_okay=False
        ),
    ] = None,
) -> None:
    """Build the feeds now (RSS, Atom, JSON Feed; all, per source, named; OPML, archives)."""
    from monitor.feeds import build_feeds
    from monitor.sources import list_sources

    config = _config()
    target = output or config.feeds_dir
    repository = _repository(config, create=True)
    try:
        target.mkdir(parents=True, exist_ok=True)
        changed = build_feeds(config, repository, list_sources(config), output_dir=output)
    except OSError as error:
        raise Problem(f"cannot write feeds to {target}: {error.strerror or error}") from None
    console.print(f"{len(changed)} feed file(s) changed in {target}")
    for path in changed:
        console.print(f"  {path}")


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default from config: 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from config: 8080).")] = None,
) -> None:
    """Serve feeds, the status page and /healthz over HTTP (no crawling)."""
    from monitor.server import serve as serve_http

    config = _config()
    _repository(config)
    serve_http(config, host, port)  # binds first: a port in use is one line, exit 3


class StatusFormat(StrEnum):
    table = "table"
    json = "json"
    line = "line"


@app.command()
def status(
    format: Annotated[
        StatusFormat,
        typer.Option(
            "--format", help="table (people), json, or line (one Nagios-style line per source)."
        ),
    ] = StatusFormat.table,
) -> None:
    """Per-source health. Exit 0 OK, 1 degraded, 2 unhealthy, 3 unknown (cron, Nagios)."""
    from monitor.health import evaluate
    from monitor.health.report import (
        EXIT_UNKNOWN,
        exit_code,
        health_table,
        status_json,
        status_lines,
        unknown_line,
    )

    now = datetime.now(UTC)
    try:
        config = _config()
        healths = evaluate(config, _repository(config), now)
    except Exception as error:
        # Unknown, in the format asked for: a monitoring check must read it as such.
        problem = describe(error, _database_url_hint())
        if problem is None:
            raise
        if format is StatusFormat.line:
            sys.stdout.write(unknown_line(problem.message) + "\n")
        elif format is StatusFormat.json:
            sys.stdout.write(json.dumps({"status": "UNKNOWN", "error": problem.message}) + "\n")
        else:
            _print_problem(problem)
        raise typer.Exit(EXIT_UNKNOWN) from None
    if format is StatusFormat.json:
        sys.stdout.write(json.dumps(status_json(healths, now), indent=2) + "\n")
    elif format is StatusFormat.line:
        sys.stdout.write("".join(line + "\n" for line in status_lines(healths)))
    else:
        console.print(health_table(healths, _width()))
    raise typer.Exit(exit_code(healths))


class ListFormat(StrEnum):
    table = "table"
    json = "json"


WIDE = 120  # below this terminal width, tables drop their less important columns
RUN_COLUMNS_WIDE = (
    *("id", "source", "trigger", "started (UTC)", "duration", "result", "requests"),
    *("new", "dup", "irrel.", "skipped", "failed", "errors", "warnings", "dropped"),
)
RUN_COLUMNS_NARROW = ("id", "source", "started (UTC)", "result", "new", "err")


@app.command()
def runs(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only runs that failed or had errors.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="How many runs.")] = 20,
    format: Annotated[ListFormat, typer.Option("--format", help="table or json.")] = (
        ListFormat.table
    ),
) -> None:
    """The crawl log: recent runs, newest first."""
    from monitor.health.report import dropped_words, run_json

    config = _config()
    if source:
        _source_names(config, [source])
    found = _repository(config).runs(spider=source, failed=failed, limit=limit)
    if format is ListFormat.json:
        sys.stdout.write(json.dumps([run_json(r) for r in found], indent=2) + "\n")
        return
    wide = _width() >= WIDE
    table = Table(title="Crawl runs", box=box.ROUNDED if wide else box.SIMPLE_HEAD)
    columns = RUN_COLUMNS_WIDE if wide else RUN_COLUMNS_NARROW
    for column in columns:
        table.add_column(column, no_wrap=True)
    for r in found:
        duration = (
            f"{(r.finished_at - r.started_at).total_seconds():.0f}s" if r.finished_at else "running"
        )
        ok = r.finish_reason == "finished" and not r.errors
        result = ("[green]" if ok else "[red]") + (r.finish_reason or "running")
        if wide:
            table.add_row(
                str(r.id),
                r.spider,
                r.trigger,
                r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                duration,
                result,
                str(r.requests),
                str(r.items_new),
                str(r.items_duplicate),
                str(r.items_irrelevant),
                str(r.items_skipped),
                str(r.items_failed),
                str(r.errors),
                str(r.warnings),
                dropped_words(r),
            )
        else:
            table.add_row(
                str(r.id),
                r.spider,
                r.started_at.strftime("%m-%d %H:%M"),
                result,
                str(r.items_new),
                str(r.errors),
            )
    console.print(table)


@app.command()
def log(
    run_id: Annotated[int, typer.Argument(help="Run id (see `clusterwatch runs`).")],
    tail: Annotated[int | None, typer.Option(help="Only the last N lines.")] = None,
    stats: Annotated[
        bool, typer.Option("--stats", help="Print the run's Scrapy stats instead.")
    ] = False,
) -> None:
    """Print a crawl run's log file (or its stats)."""
    config = _config()
    found = _repository(config).run(run_id)
    if found is None:
        raise Problem(f"no crawl run {run_id} (see `clusterwatch runs`)", EXIT_USAGE)
    if stats:
        console.print_json(json.dumps(found.stats))
        return
    if found.launcher == "scrapyd":
        from monitor.launchers.scrapyd import WorkerError, fetch_log

        try:
            text = fetch_log(found, config.scrapyd_project).decode("utf-8", errors="replace")
        except WorkerError as error:
            raise Problem(f"log of run {run_id}: {error}", EXIT_ENVIRONMENT) from None
        lines = text.splitlines()
    elif not found.log_path or not Path(found.log_path).is_file():
        raise Problem(f"log file of run {run_id} is gone: {found.log_path}", EXIT_ENVIRONMENT)
    else:
        lines = Path(found.log_path).read_text("utf-8", errors="replace").splitlines()
    sys.stdout.write("\n".join(lines[-tail:] if tail else lines) + "\n")


@app.command()
def sources() -> None:
    """The configured sources, their entry points and intervals."""
    from monitor.sources import list_sources

    config = _config()
    table = Table(title="Sources")
    for column in ("name", "label", "every", "enabled", "relevance", "hosts", "entry points"):
        table.add_column(column, overflow="fold")
    for info in list_sources(config):
        table.add_row(
            info.name,
            info.label,
            f"{info.interval_minutes} min",
            "yes" if info.enabled else "no",
            info.relevance,
            ", ".join(info.hosts),
            "\n".join(info.entry_points),
        )
    console.print(table)


class ExtractFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("extract")
def extract_pages(
    pages: Annotated[
        list[str], typer.Argument(help="Saved HTML files or http(s) URLs.", show_default=False)
    ],
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Use this source's declared rules.")
    ] = None,
    generic: Annotated[
        bool, typer.Option("--generic", help="No source rules: generic layers only (default).")
    ] = False,
    url: Annotated[
        str | None,
        typer.Option("--url", help="The URL a saved page was fetched from (dates, links)."),
    ] = None,
    output: Annotated[ExtractFormat, typer.Option("--format", "-f")] = ExtractFormat.text,
) -> None:
    """What extraction makes of pages: title, date, language, text and each field's layer."""
    from monitor.extract_cmd import InputError, dumps, extract_all

    if source and generic:
        err.print("[red]--source and --generic exclude each other[/]")
        raise typer.Exit(2)
    if url and len(pages) != 1:
        err.print("[red]--url names the address of one saved page; give exactly one[/]")
        raise typer.Exit(2)
    config = _config()
    failed = 0
    try:
        for _page, record in extract_all(pages, source, url, config):
            failed += bool(record.get("error"))
            if output is ExtractFormat.json:
                sys.stdout.write(dumps(record) + "\n")
                continue
            if record.get("error"):
                err.print(f"[red]{record['error']}[/]")
                continue
            console.rule(record["url"])
            for name in ("title", "published_local", "language"):
                layer = {"published_local": "date_source"}.get(name, f"{name}_source")
                console.print(f"[bold]{name}[/]: {record[name]}  [dim]({record[layer]})[/]")
            console.print(f"[bold]text[/] [dim]({record['body_source']})[/]:")
            console.print(record["text"], markup=False, highlight=False)
    except InputError as error:
        err.print(f"[red]{error}[/]")
        raise typer.Exit(2) from error
    if failed:
        raise typer.Exit(1)


def _relevance_rules(config: Config) -> Any:
    from scraper.classify import rules_from_config
    from scraper.settings import relevance_terms

    return rules_from_config(
        config.relevance.threshold, relevance_terms(config), dict(config.relevance.other_senses)
    )


@app.command()
def explain(
    url: Annotated[str, typer.Argument(help="An article URL (any variant of it).")],
    output: Annotated[ExtractFormat, typer.Option("--format", "-f")] = ExtractFormat.text,
) -> None:
    """Why an item was or was not published: its score, the rules that matched, its story."""
    from monitor.classify_cmd import explain as explain_item

    config = _config()
    found = explain_item(_repository(config), url, _relevance_rules(config))
    if found is None:
        err.print(f"[red]not stored: {url}[/] (crawled sources only; see `clusterwatch runs`)")
        raise typer.Exit(1)
    data = found.as_dict()
    if output is ExtractFormat.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        return
    story = data["story"]
    verdict = "published" if story and story["published"] else "not published"
    console.print(f"[bold]{data['url']}[/] ({data['source']}, {data['state']}): {verdict}")
    if data["fail_reason"]:
        console.print(f"failed: {data['fail_reason']}")
    console.print(
        f"relevance {data['relevance']} (mode {data['relevance_mode']}), "
        f"score now {data['score_now']} (stored {data['stored_score']})"
    )
    for reason in data["reasons"]:
        console.print(f"  {reason['weight']:+.1f}  {reason['term']}: {reason['matched']}")
    if data["topics"]:
        console.print("topics: " + ", ".join(data["topics"]))
    if story:
        console.print(f"story: GUID {story['guid'] or '—'}, lead {story['lead']}")
        for other in story["also"]:
            console.print(f"  also at {other}")


@app.command()
def reclassify(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report, change nothing.")] = False,
) -> None:
    """Re-run relevance and topics over the stored items after a rule change."""
    from monitor.classify_cmd import reclassify as run_reclassify

    config = _config()
    if source:
        _source_names(config, [source])
    report = run_reclassify(
        _repository(config), _relevance_rules(config), source, dry_run, config.stories.source_order
    )
    prefix = "would change" if dry_run else "changed"
    console.print(
        f"{report.examined} items examined; {prefix}: {report.to_relevant} to relevant, "
        f"{report.to_irrelevant} to irrelevant, {report.topics_changed} topics; "
        f"stories published {report.stories_published}, withdrawn {report.stories_withdrawn}"
    )


@app.command()
def reextract(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only pages first seen on or after this date (YYYY-MM-DD).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report, change nothing.")] = False,
) -> None:
    """Re-run extraction, relevance and story grouping on the stored pages (after a rule
    change): articles updated in place, GUIDs kept, failed pages recovered."""
    from monitor.reextract_cmd import report_table
    from scraper.reextract import reextract as run_reextract
    from scraper.reextract import spiders_of

    config = _config()
    if source:
        _source_names(config, [source])
    try:
        start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
    except ValueError as error:
        raise Problem(f"--since {since!r}: not a date (YYYY-MM-DD)", EXIT_USAGE) from error
    changes = list(
        run_reextract(
            _repository(config), spiders_of(config.source_specs()), source, start, dry_run
        )
    )
    table, summary = report_table(changes, dry_run)
    if table.row_count:
        console.print(table)
    console.print(summary)


workers_app = typer.Typer(help="Scrapyd workers.", no_args_is_help=True)
app.add_typer(workers_app, name="workers")


@workers_app.command("deploy")
def workers_deploy(
    url: Annotated[
        list[str] | None,
        typer.Option("--url", help="A Scrapyd to deploy to (default: scrapyd_urls)."),
    ] = None,
    version: Annotated[str | None, typer.Option(help="Egg version (default: a timestamp).")] = None,
) -> None:
    """Build the egg (with your clusterwatch.toml inside) and upload it to every worker."""
    from monitor.launchers.local import project_root
    from monitor.workers import DeployError, deploy

    config = _config()
    urls = url or config.scrapyd_urls
    if not urls:
        raise Problem("no workers: set scrapyd_urls or give --url", EXIT_USAGE)
    root = project_root()
    if not (root / "pyproject.toml").is_file():
        raise Problem(f"deploy needs a source checkout (no pyproject.toml in {root})", EXIT_USAGE)
    try:
        from scraper.config import config_path as toml_path

        done = deploy(root, toml_path(), urls, config.scrapyd_project, version)
    except DeployError as error:
        raise Problem(f"deploy: {error}", EXIT_ENVIRONMENT) from None
    for item in done:
        console.print(
            f"{item.url}: {config.scrapyd_project} {item.version}, {item.spiders} spiders"
        )


source_app = typer.Typer(help="Add sources without code.", no_args_is_help=True)
app.add_typer(source_app, name="source")


@source_app.command("add")
def source_add(
    url: Annotated[str, typer.Argument(help="The cluster's homepage or news page.")],
    name: Annotated[
        str | None, typer.Option(help="The source's name (default: from the host).")
    ] = None,
    config_path: Annotated[
        Path | None,
        typer.Option(
            "--config", help="The TOML file to add it to (default: $CLUSTERWATCH_CONFIG)."
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Write without asking.")] = False,
) -> None:
    """Discover a site's feeds, sitemaps, news listing and article URL pattern, test-extract
    a few articles, and write the source's [sources.<name>] block."""
    from monitor.source_add_cmd import append_block, checked_block, config_file, fetcher
    from scraper.extract import BERLIN
    from scraper.proposal import ProposalError, propose, toml_block

    config = _config()
    if not url.startswith(("http://", "https://")):
        raise Problem(f"{url!r}: give an http(s) URL", EXIT_USAGE)
    try:
        proposal = propose(url, fetcher(config), name)
    except ProposalError as error:
        raise Problem(str(error), EXIT_ENVIRONMENT) from error
    block = toml_block(proposal.spec)
    target = config_file(config_path)
    try:
        checked_block(block, proposal.spec.name, config, target)
    except ValueError as error:
        raise Problem(str(error).splitlines()[0], EXIT_USAGE) from error
    for note in proposal.notes:
        console.print(note)
    table = Table(title=f"Test extraction ({len(proposal.samples)} articles)")
    for column in ("url", "title", "date", "text"):
        table.add_column(column, overflow="fold")
    for sample in proposal.samples:
        found = sample.extracted
        assert found is not None
        when = found.published_at
        date = when.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") if when else "—"
        table.add_row(sample.url, found.title, date, found.text[:160] + "…")
    console.print(table)
    console.print(block, markup=False, highlight=False)
    if not yes and not typer.confirm(f"Add this source to {target}?"):
        raise typer.Exit(1)
    append_block(target, block)
    console.print(f"added source {proposal.spec.name!r} to {target}")


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


EXPORT_FIELDS = (
    "canonical_url",
    "url",
    "source",
    "title",
    "published_at",
    "date_source",
    "language",
    "relevance",
    "duplicate_of",
    "first_seen_at",
    "topics",
    "text",
)


@app.command()
def export(
    format: Annotated[
        ExportFormat, typer.Option("--format", help="json or csv.")
    ] = ExportFormat.json,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    include_all: Annotated[
        bool, typer.Option("--all", help="Include irrelevant items and duplicates.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option(help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Export stored announcements (published ones unless --all)."""
    config = _config()
    if source:
        _source_names(config, [source])
    articles = _repository(config).articles(source)
    if not include_all:
        articles = [a for a in articles if a.relevance == "relevant" and a.duplicate_of is None]
    rows = [_export_row(a) for a in articles]
    try:
        handle = _open_output(output)
    except OSError as error:
        raise Problem(f"cannot write {output}: {error.strerror or error}") from None
    with handle as out:
        if format is ExportFormat.json:
            json.dump(rows, out, ensure_ascii=False, indent=2)
            out.write("\n")
        else:
            writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
            writer.writeheader()
            writer.writerows({**r, "topics": ";".join(r["topics"])} for r in rows)
    if output:
        console.print(f"{len(rows)} announcement(s) written to {output}")


def _export_row(article: Any) -> dict[str, Any]:
    row = {name: getattr(article, name) for name in EXPORT_FIELDS}
    for name in ("published_at", "first_seen_at"):
        row[name] = row[name].isoformat() if row[name] else None
    return row


def _open_output(path: Path | None) -> Any:
    return path.open("w", encoding="utf-8", newline="") if path else nullcontext(sys.stdout)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the database schema (Alembic)."""
    from db.engine import mask_url
    from db.migrate import current_revision, upgrade

    config = _config()
    url = config.db_url
    if config.database_url is None:
        _writable_data_dir(config)
    upgrade(url, revision)
    console.print(f"database at revision [bold]{current_revision(url)}[/] ({mask_url(url)})")


@app.command()
def replay(
    directory: Annotated[
        Path,
        typer.Argument(help="Tree of replayed sites: DIR/<host>/…", exists=True, file_okay=False),
    ],
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    log_file: Annotated[
        Path | None, typer.Option("--log", help="Append every request as JSON lines here.")
    ] = None,
    faults: Annotated[
        Path | None,
        typer.Option(
            "--faults",
            help="Fault rules to start with (JSON; see tests/sites/README.md). "
            "Change them at run time through /_replay/faults.",
        ),
    ] = None,
) -> None:
    """Serve replayed sites through the mirror protocol (for CLUSTERWATCH_MIRROR)."""
    from monitor.replay import load_fault_file, serve_forever
    from monitor.replay_faults import FaultError

    rules = []
    if faults is not None:
        try:
            rules = load_fault_file(faults)
        except FaultError as error:
            raise Problem(f"bad fault file: {error}", EXIT_USAGE) from None
    console.print(
        f"replaying [bold]{directory}[/] at http://{host}:{port}/<sitehost>/… — "
        f"crawl with CLUSTERWATCH_MIRROR=http://{host}:{port}"
    )
    if rules:
        console.print(f"{len(rules)} fault rule(s) from {faults}")
    serve_forever(directory, host, port, log_file, rules)


DEMO_TOML = """# Written by `clusterwatch demo`: the service against the bundled replayed sites.
data_dir = "{data_dir}"
mirror = "{mirror}"
jitter_seconds = 5
feed_rebuild_minutes = 1
"""
DEMO_SOURCE = "[sources.{name}]\ninterval_minutes = 1\n"


@app.command()
def demo(
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo keeps its DB, feeds and logs.")
    ] = Path("data-demo"),
    sites: Annotated[
        Path | None,
        typer.Option(help="Replayed sites (default: the bundled tests/sites).", file_okay=False),
    ] = None,
    fresh: Annotated[bool, typer.Option(help="Start from an empty demo data dir.")] = True,
) -> None:
    """The service against the bundled replayed sites, offline: items appear within a minute."""
    from monitor.launchers.local import project_root
    from monitor.replay import ReplayServer

    root = sites or project_root() / "tests" / "sites"
    if not root.is_dir():
        err.print(
            f"[red]no replayed sites at {root}[/] (run from a source checkout or pass --sites)"
        )
        raise typer.Exit(2)
    if fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = ReplayServer(root).start()
    toml = data_dir / "clusterwatch.toml"
    from scraper.sources import builtin_specs

    toml.write_text(
        DEMO_TOML.format(data_dir=data_dir.resolve(), mirror=server.url)
        + "".join(DEMO_SOURCE.format(name=name) for name in sorted(builtin_specs())),
        "utf-8",
    )
    # Crawl processes started by the service read the same file.
    os.environ[CONFIG_ENV] = str(toml.resolve())
    for name in (
        "CLUSTERWATCH_DATA_DIR",
        "CLUSTERWATCH_MIRROR",
        "DATABASE_URL",
        "CLUSTERWATCH_DATABASE_URL",
    ):
        os.environ.pop(name, None)
    load_config.cache_clear()
    console.print(
        f"demo: replaying {root} at {server.url}; every source crawls now and then every minute."
    )
    try:
        run()
    finally:
        server.stop()


def _database_url_hint() -> str | None:
    """The database URL to mask in messages (also when the configuration itself is bad)."""
    try:
        return load_config().db_url
    except Exception:
        return os.environ.get("CLUSTERWATCH_DATABASE_URL") or os.environ.get("DATABASE_URL")


def _print_problem(problem: Problem) -> None:
    err.print(f"clusterwatch: {problem.message}", markup=False, highlight=False, soft_wrap=True)


def main() -> None:
    try:
        app()
    except Exception as error:
        problem = describe(error, _database_url_hint())
        if problem is None:
            raise  # a bug: the traceback is what a developer needs
        _print_problem(problem)
        sys.exit(problem.code)


if __name__ == "__main__":
    main()
