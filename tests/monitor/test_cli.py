"""The ``clusterwatch`` command line as an operator runs it: real processes, replayed sites."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from db.repository import Repository
from monitor.cli import EXPORT_FIELDS, app
from monitor.replay import ReplayServer
from scraper.evaluation import load_expected
from tests.conftest import EXPECTED, copy_sites, crawl_env

SOURCE = "clusterplattform"
COMMANDS = [
    "run",
    "crawl",
    "feed",
    "serve",
    "status",
    "runs",
    "log",
    "sources",
    "export",
    "extract",
    "explain",
    "reclassify",
    "reextract",
    "source add",
    "db upgrade",
    "workers deploy",
    "replay",
    "demo",
]
_SCRIPT = Path(sys.executable).with_name("clusterwatch")
# The installed console script when there is one (as operators run it), else the module.
CLUSTERWATCH = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "monitor.cli"]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLUSTERWATCH, *args],
        cwd=cwd,
        # Wide enough that Rich neither folds tables nor wraps messages.
        env={**env, "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=180,
    )


def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every leaf command of a (Typer-built) Click group, as its words on the command line."""
    subcommands: dict[str, Any] | None = getattr(command, "commands", None)
    if subcommands is None:
        return [" ".join(prefix)]
    return [p for name, sub in subcommands.items() for p in _command_paths(sub, (*prefix, name))]


def test_the_help_lists_every_command() -> None:
    assert sorted(_command_paths(typer.main.get_command(app))) == sorted(COMMANDS)


@pytest.mark.parametrize("command", ["", *COMMANDS], ids=lambda c: c or "clusterwatch")
def test_help_exits_0(command: str, tmp_path: Path) -> None:
    result = _run([*command.split(), "--help"], tmp_path, crawl_env(tmp_path / "data", None))
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert not (tmp_path / "data").exists(), "--help touches no data"


@dataclass
class Crawled:
    cwd: Path
    env: dict[str, str]
    repository: Repository
    crawl: subprocess.CompletedProcess[str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _run(list(args), self.cwd, self.env)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """``clusterwatch crawl SOURCE`` once against the replay server; the others read it."""
    base = tmp_path_factory.mktemp("cli")
    data_dir = base / "data"
    with ReplayServer(copy_sites(base / "sites")) as server:
        env = crawl_env(data_dir, server.url)
        crawl = _run(["crawl", SOURCE], base, env)
        yield Crawled(base, env, Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}"), crawl)


def _published_titles() -> set[str]:
    return {str(e.data["title"]) for e in load_expected(EXPECTED, SOURCE) if e.data["relevant"]}


@pytest.mark.e2e
def test_crawl_stores_the_source_and_builds_feeds(crawled: Crawled) -> None:
    assert crawled.crawl.returncode == 0, crawled.crawl.stdout + crawled.crawl.stderr
    assert SOURCE in crawled.crawl.stdout
    assert "feeds rebuilt" in crawled.crawl.stdout
    (run,) = crawled.repository.runs()
    assert run.spider == SOURCE and run.trigger == "cli" and run.finish_reason == "finished"
    assert {a.title for a in crawled.repository.feed_articles(SOURCE, 1000)} == (
        _published_titles()
    )


@pytest.mark.e2e
def test_runs_lists_the_crawl(crawled: Crawled) -> None:
    result = crawled.run("runs")
    assert result.returncode == 0, result.stderr
    (run,) = crawled.repository.runs()
    row = next(line for line in result.stdout.splitlines() if SOURCE in line)
    cells = [cell.strip() for cell in re.split(r"[│|]", row) if cell.strip()]
    assert cells[:3] == [str(run.id), SOURCE, "cli"], row
    assert "finished" in cells and str(run.items_new) in cells, row


@pytest.mark.e2e
def test_log_prints_the_runs_log_file(crawled: Crawled) -> None:
    (run,) = crawled.repository.runs()
    assert run.log_path
    result = crawled.run("log", str(run.id))
    assert result.returncode == 0, result.stderr
    assert "crawl run" in result.stdout
    assert result.stdout.strip() == Path(run.log_path).read_text("utf-8").strip()

    missing = crawled.run("log", str(run.id + 1000))
    assert missing.returncode == 2
    assert f"no crawl run {run.id + 1000}" in missing.stderr


@pytest.mark.e2e
def test_export_json(crawled: Crawled) -> None:
    result = crawled.run("export", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["title"] for r in rows} == _published_titles()
    assert all(list(r) == list(EXPORT_FIELDS) for r in rows)
    assert all(r["source"] == SOURCE and r["relevance"] == "relevant" for r in rows)


@pytest.mark.e2e
def test_export_csv(crawled: Crawled) -> None:
    result = crawled.run("export", "--format", "csv")
    assert result.returncode == 0, result.stderr
    reader = csv.DictReader(io.StringIO(result.stdout))
    rows = list(reader)
    assert reader.fieldnames == list(EXPORT_FIELDS)
    assert {r["title"] for r in rows} == _published_titles()
    # Multi-line article texts survive the round trip.
    texts = {a.title: a.text for a in crawled.repository.feed_articles(SOURCE, 1000)}
    assert all(r["text"] == texts[r["title"]] for r in rows)


@pytest.mark.e2e
def test_status_is_0_when_healthy(crawled: Crawled) -> None:
    result = crawled.run("status")
    assert result.returncode == 0, result.stdout + result.stderr
    row = next(line for line in result.stdout.splitlines() if SOURCE in line)
    assert "healthy" in row and "unhealthy" not in row


@pytest.mark.e2e
def test_crawl_of_an_unknown_source_exits_2(crawled: Crawled) -> None:
    result = crawled.run("crawl", "nosuchsource")
    assert result.returncode == 2
    assert "unknown source 'nosuchsource'" in result.stderr
    assert SOURCE in result.stderr, "the message names the known sources"
    assert len(crawled.repository.runs()) == 1, "nothing was crawled"


@pytest.mark.e2e
def test_runs_and_status_as_json(crawled: Crawled) -> None:
    (run,) = crawled.repository.runs()
    result = crawled.run("runs", "--format", "json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["id"] == run.id and row["source"] == SOURCE and row["trigger"] == "cli"
    assert row["finish_reason"] == "finished" and row["items_new"] == run.items_new
    status = crawled.run("status", "--format", "json")
    assert status.returncode == 0, status.stdout
    sources = {s["source"]: s for s in json.loads(status.stdout)["sources"]}
    assert sources[SOURCE]["verdict"] == "healthy"
    assert sources[SOURCE]["last_run"]["id"] == run.id
