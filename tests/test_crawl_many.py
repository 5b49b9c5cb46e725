"""Several sources in one crawl process (``python -m scraper.crawl_many``): each its own
crawl-log row, log file and counters, the articles a crawl of its own stores, and a source
whose site is gone does not disturb the others."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from db.repository import Repository
from monitor.replay import ReplayServer
from scraper.evaluation import load_expected, spider_classes
from tests.conftest import REPO_ROOT, TREES, copy_sites, crawl_env

GONE = """
[sources.gone]
label = "A site that is gone"
hosts = ["www.gone-cluster.example"]
listings = ["https://www.gone-cluster.example/news/"]
article_pattern = '/news/[a-z0-9-]+/$'
"""
SOURCES = ["clusterplattform", "openpr"]


def _crawl_many(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scraper.crawl_many", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_each_source_of_a_shared_process_has_its_own_run_log_and_articles(
    tmp_path: Path,
) -> None:
    root, expected = TREES["v1"]
    sites = copy_sites(tmp_path / "sites", root)
    config = tmp_path / "clusterwatch.toml"
    config.write_text(GONE, "utf-8")
    data_dir = tmp_path / "data"
    with ReplayServer(sites) as server:
        env = crawl_env(
            data_dir,
            server.url,
            CLUSTERWATCH_CONFIG=str(config),
        )
        result = _crawl_many([*SOURCES, "gone", "-s", "CLUSTERWATCH_RUN_LOG_LEVEL=DEBUG"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    repo = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    runs = {source: repo.last_run(source) for source in [*SOURCES, "gone"]}
    logs = {}
    for source, run in runs.items():
        assert run is not None and run.finish_reason == "finished", source
        assert run.log_path and Path(run.log_path).is_file()
        # Extraction libraries' own DEBUG records carry no crawler (pages extracted on the
        # crawl's thread): a known limit of the attribution, left out of the check.
        logs[source] = "\n".join(
            line
            for line in Path(run.log_path).read_text("utf-8").splitlines()
            if not re.match(r"\S+ \S+ \[(trafilatura|htmldate|courlan)[.\]]", line)
        )
    assert len({run.id for run in runs.values() if run}) == 3
    assert len({run.log_path for run in runs.values() if run}) == 3
    hosts = {s: spider_classes()[s].hosts[0] for s in SOURCES} | {"gone": "www.gone-cluster"}
    for source, text in logs.items():
        assert set(re.findall(r"crawl run (\d+) of (\w+)", text)) == {
            (str(runs[source].id), source)  # type: ignore[union-attr]
        }
        for other, host in hosts.items():
            assert (host in text) == (other == source), (source, other)
    for source in SOURCES:
        spider = spider_classes()[source]()
        wanted = {spider.canonical(e.url) for e in load_expected(expected, source)}
        assert {a.canonical_url for a in repo.articles(source)} == wanted
        run = runs[source]
        assert run is not None
        assert run.items_new + run.items_duplicate + run.items_irrelevant == len(
            load_expected(expected, source)
        )
        assert run.errors == 0, source
    gone = runs["gone"]
    assert gone is not None and gone.errors >= 1  # its entry point answered 404
    assert gone.stats["clusterwatch/entry_failed"] == 1
    assert "entry point https://www.gone-cluster.example/news/ failed" in logs["gone"]


def test_unknown_sources_are_refused_by_name(tmp_path: Path) -> None:
    result = _crawl_many(["openpr", "nosuchsource"], crawl_env(tmp_path / "data", None))
    assert result.returncode == 2
    assert result.stderr.strip() == "clusterwatch: crawl_many: unknown source(s): nosuchsource"
    assert not (tmp_path / "data" / "clusterwatch.db").exists()


def test_a_crawl_process_starts_without_the_extraction_libraries() -> None:
    """What every crawl process imports before its first page (the spiders, pipelines,
    middlewares, crawl-log extension, Scrapy's crawler and HTTP handler) leaves trafilatura —
    and the numpy that py3langid pulls in — to the first page that is extracted: an unchanged
    recrawl extracts none."""
    modules = [
        "scraper.crawl_many",
        "scraper.spiders",
        "scraper.pipelines",
        "scraper.middlewares",
        "scraper.extensions",
        "scraper.pool",
        "spiders",
        "scrapy.crawler",
        "scrapy.core.downloader.handlers.http11",
    ]
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted({'trafilatura', 'py3langid', 'numpy'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
