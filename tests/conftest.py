"""Shared fixtures: the replayed sites, a replay server, and running real crawls."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from monitor.replay import ReplayServer, ReplayTree
from scraper.config import load_config
from scraper.evaluation import load_expected, spider_classes
from tests.pg import fresh_database, postgres_server
from tests.reliability import Recorder, as_json

REPO_ROOT = Path(__file__).resolve().parent.parent
SITES = REPO_ROOT / "tests" / "sites"
EXPECTED = REPO_ROOT / "tests" / "expected"
# The independently written second template of every site (a redesign written from
# SOURCES.md alone, without seeing tests/sites): same hosts, URL shapes and entry points.
SITES_V2 = REPO_ROOT / "tests" / "sites_v2"
EXPECTED_V2 = REPO_ROOT / "tests" / "expected_v2"
TREES = {"v1": (SITES, EXPECTED), "v2": (SITES_V2, EXPECTED_V2)}
SITES_STORIES = REPO_ROOT / "tests" / "sites_stories"  # the labelled story set
NEW_TITLE = "Neue Testmeldung: Innovationscluster starten gemeinsames Reallabor"
NEW_PARAGRAPH = (
    "Testabsatz {n}: Das Cluster meldet das Reallabor Nummer {n}, in dem Partner aus "
    "Forschung und Mittelstand Verfahren {n} erproben, Prototyp {n} bauen und Ergebnis {n} "
    "gemeinsam mit Anwendern aus der Region bewerten."
)
# Configuration a developer may have in their shell must not leak into tests.
_LEAKY_ENV = (
    "CLUSTERWATCH_CONFIG",
    "DATABASE_URL",
    "CLUSTERWATCH_DATABASE_URL",
    "CLUSTERWATCH_MIRROR",
    "CLUSTERWATCH_DATA_DIR",
    "CLUSTERWATCH_TRIGGER",
    # The suite's own switch (read once at start, below): the product refuses unknown
    # CLUSTERWATCH_* variables, so it must not reach the processes the tests start.
    "CLUSTERWATCH_LONG",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        default=os.environ.get("CLUSTERWATCH_LONG") == "1",
        help="run the long modes (kill -9 loops, load, big sizes); also CLUSTERWATCH_LONG=1",
    )


@pytest.fixture(scope="session")
def long_mode(request: pytest.FixtureRequest) -> bool:
    """True under ``pytest --long`` / ``CLUSTERWATCH_LONG=1``: tests loop more, not skip."""
    return bool(request.config.getoption("--long"))


_RELIABILITY_ROWS = pytest.StashKey[list[Any]]()
_RELIABILITY_PARTIAL = pytest.StashKey[bool]()


@pytest.fixture
def reliability(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    """Record what a fault test injected and what the system did (docs/RELIABILITY.md)."""
    recorder = Recorder(request.node.nodeid)
    yield recorder
    rows = request.config.stash.setdefault(_RELIABILITY_ROWS, [])
    rows.extend(recorder.rows)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[_RELIABILITY_PARTIAL] = True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After a complete green run (plain ``pytest``), regenerate docs/RELIABILITY.md."""
    rows = session.config.stash.get(_RELIABILITY_ROWS, [])
    if not rows:
        return
    (REPO_ROOT / ".reliability.json").write_text(
        json.dumps(as_json(rows), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    partial = session.config.stash.get(_RELIABILITY_PARTIAL, False)
    complete = session.config.args_source == pytest.Config.ArgsSource.TESTPATHS
    if exitstatus == 0 and not partial and complete:
        subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "reliability_report.py")])


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in _LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./clusterwatch.toml of the developer's
    load_config.cache_clear()
    yield
    load_config.cache_clear()


def manifest(source: str, expected: Path = EXPECTED) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((expected / source / "manifest.json").read_text("utf-8"))
    return data


def copy_sites(target: Path, sites: Path = SITES) -> Path:
    shutil.copytree(sites, target, ignore=shutil.ignore_patterns("README.md"))
    return target


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[ReplayServer]:
    """A replay server over a private copy of the sites (tests may change it)."""
    with ReplayServer(copy_sites(tmp_path / "sites")) as server:
        yield server


def crawl_env(data_dir: Path, mirror: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY_ENV}
    env["CLUSTERWATCH_DATA_DIR"] = str(data_dir)
    if mirror:
        env["CLUSTERWATCH_MIRROR"] = mirror
    env.update(extra)
    return env


def run_crawl(
    source: str, data_dir: Path, mirror: str | None, **extra: str
) -> subprocess.CompletedProcess[str]:
    """The real ``scrapy crawl SOURCE``, as an operator runs it, in its own process."""
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", source],
        cwd=REPO_ROOT,
        env=crawl_env(data_dir, mirror, **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def publish_article(sites: Path, source: str, expected: Path = EXPECTED) -> str:
    """Publish a new article (titled NEW_TITLE) on the replayed site of ``source`` in the
    tree ``sites``: a page made from an expected one, and a link on the first listing.
    Returns the new article's URL."""
    tree = ReplayTree(sites)
    spider = spider_classes()[source]
    host = spider.hosts[0]
    template = next(
        e
        for e in load_expected(expected, source)
        if urlsplit(e.url).hostname == host
        and not urlsplit(e.url).query
        and tree.resolve_url(e.url).file is not None
        and e.data["relevant"]
    )
    page = tree.resolve_url(template.url).file
    assert page is not None
    body = page.read_text("utf-8")
    replaced = 0
    for n, paragraph in enumerate(str(template.data["text"]).split("\n\n")):
        for form in (paragraph, html.escape(paragraph, quote=False)):
            if form in body:
                body = body.replace(form, NEW_PARAGRAPH.format(n=n))
                replaced += 1
                break
    assert replaced >= 2, "template page keeps its paragraphs verbatim"
    body = body.replace(str(template.data["title"]), NEW_TITLE)
    path = urlsplit(template.url).path
    numeric = re.search(r"/(\d{6,7})/", path)  # an ID segment (openPR) names the article
    if numeric:
        new_path = path.replace(numeric.group(0), f"/{int(numeric.group(1)) + 77777}/")
    elif path.endswith("/"):
        new_path = path.rstrip("/") + "-neu/"
    else:
        new_path = re.sub(r"(\.html)$", r"-neu\1", path)
    target = tree.root / host / new_path.lstrip("/").replace("%20", " ")
    if new_path.endswith("/"):
        target = target / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, "utf-8")
    new_url = f"https://{host}{new_path}"
    listing = tree.resolve_url(spider.listings[0]).file
    assert listing is not None
    text = listing.read_text("utf-8")
    listing.write_text(
        text.replace("</body>", f'<a href="{new_url}">{NEW_TITLE}</a></body>'), "utf-8"
    )
    return new_url


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """One throwaway PostgreSQL server for the session (see tests/pg.py)."""
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: the repository's paths run on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cw.db'}"
    return fresh_database(request.getfixturevalue("postgres_server_url"))
