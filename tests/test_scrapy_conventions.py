"""Scrapy users get Scrapy: ``-s CLUSTERWATCH_*`` works like the environment variable,
``-O`` exports the items, the look-at-a-page commands write no crawl-log row, and no
console listens inside a crawl."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db.httpcache import HttpCacheStore
from db.repository import Repository
from monitor.replay import ReplayServer
from tests.conftest import REPO_ROOT, crawl_env

ARTICLE = "https://www.clib-cluster.de/de/clib-15-jahre/"

SOURCE = "clib"


def _scrapy(
    args: list[str], data_dir: Path, mirror: str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=REPO_ROOT,
        env=crawl_env(data_dir, mirror),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _runs(data_dir: Path) -> list[str]:
    db = data_dir / "clusterwatch.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as connection:  # the spider may have opened an empty file
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if "crawl_runs" not in tables:
        return []
    return [run.spider for run in Repository(f"sqlite:///{db}").runs()]


@pytest.mark.e2e
def test_dash_s_settings_work_like_the_environment(tmp_path: Path, replay: ReplayServer) -> None:
    ignored, used = tmp_path / "env-data", tmp_path / "s-data"
    result = _scrapy(
        [
            "crawl",
            SOURCE,
            "-s",
            f"CLUSTERWATCH_MIRROR={replay.url}",  # the environment names no mirror at all
            "-s",
            f"CLUSTERWATCH_DATA_DIR={used}",
        ],
        ignored,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert not ignored.exists(), "-s CLUSTERWATCH_DATA_DIR moves database, logs and cache"
    (run,) = Repository(f"sqlite:///{used / 'clusterwatch.db'}").runs()
    assert run.finish_reason == "finished" and run.items_new > 0, run.stats
    assert run.responses_by_status.get("200", 0) > 0  # answered by the replay server
    # The HTTP cache lives in the database -s chose (scraper/httpcache.py), not in a folder.
    assert HttpCacheStore(f"sqlite:///{used / 'clusterwatch.db'}").count(SOURCE) > 0
    log = Path(run.log_path or "").read_text("utf-8")
    # No console into the crawl process.
    assert "RemoteControl" not in log and "TelnetConsole" not in log


def test_dash_s_typos_and_bad_values_are_refused(tmp_path: Path) -> None:
    typo = _scrapy(["crawl", SOURCE, "-s", "CLUSTERWATCH_MIROR=http://x"], tmp_path / "d")
    assert typo.returncode == 2
    assert typo.stderr.strip().splitlines()[-1] == (
        "clusterwatch: unknown setting CLUSTERWATCH_MIROR (did you mean 'CLUSTERWATCH_MIRROR'?)"
    )
    bad = _scrapy(["crawl", SOURCE, "-s", "CLUSTERWATCH_MIRROR=127.0.0.1:1"], tmp_path / "d")
    assert bad.returncode == 2
    assert "CLUSTERWATCH_MIRROR: mirror must be an http(s) base URL" in bad.stderr
    assert "Traceback" not in typo.stderr + bad.stderr
    assert _runs(tmp_path / "d") == []


def test_consoles_are_off(tmp_path: Path) -> None:
    for name in ("REMOTE_CONTROL_ENABLED", "TELNETCONSOLE_ENABLED"):
        result = _scrapy(["settings", "--get", name], tmp_path / "d")
        assert result.stdout.strip() == "False", (name, result.stderr)


@pytest.mark.e2e
def test_looking_at_pages_writes_no_crawl_log_row(tmp_path: Path, replay: ReplayServer) -> None:
    data_dir = tmp_path / "data"
    article = ARTICLE
    mirror = ["-s", f"CLUSTERWATCH_MIRROR={replay.url}"]
    commands = [
        ["fetch", "--nolog", *mirror, article],
        ["parse", "--spider", SOURCE, *mirror, article],
        ["shell", *mirror, article, "-c", "response.status"],
        ["check", SOURCE],
    ]
    for args in commands:
        result = _scrapy(args, data_dir)
        assert "Traceback" not in result.stderr, result.stderr[-2000:]
        assert _runs(data_dir) == [], f"`scrapy {args[0]}` wrote a crawl-log row"
        if args[0] == "parse":  # parses the article by default, on a fresh install too
            assert "'title': " in result.stdout and "Fünfzehn Jahre CLIB" in result.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("suffix", ["jsonl", "json", "csv"])
def test_dash_o_exports_every_item(tmp_path: Path, replay: ReplayServer, suffix: str) -> None:
    data_dir, out = tmp_path / "data", tmp_path / f"items.{suffix}"
    result = _scrapy(["crawl", SOURCE, "-O", str(out)], data_dir, replay.url)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}").runs()
    assert run.errors == 0, "exporting must not cost errors"
    text = out.read_text("utf-8")  # UTF-8, whatever the page's encoding
    if suffix == "jsonl":
        items = [json.loads(line) for line in text.splitlines()]
    elif suffix == "json":
        items = json.loads(text)
    else:
        items = list(csv.DictReader(text.splitlines(keepends=True)))
    stored = run.items_new + run.items_duplicate + run.items_irrelevant
    assert len(items) == stored > 0
    for item in items:
        assert item["title"] and item["text"] and item["url"]
        assert all(
            isinstance(value, str | int | float | bool | list | dict | None)
            for value in item.values()
        )


def test_scrapy_crawl_with_a_broken_environment_says_so_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = _scrapy(["crawl", SOURCE], blocker / "data")
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1] == (
        f"clusterwatch: cannot record the crawl: {blocker / 'data'}: Not a directory"
    )
    assert "Traceback" not in result.stderr


def test_every_clusterwatch_setting_a_component_reads_is_known() -> None:
    """A `-s CLUSTERWATCH_*` that a component reads must not be refused as a typo."""
    import re

    from scraper.config import ENV_PREFIX, Config
    from scraper.settings import SCRAPY_ONLY

    known = SCRAPY_ONLY | {ENV_PREFIX + name.upper() for name in Config.model_fields}
    read = set()
    for path in [*(REPO_ROOT / "scraper").rglob("*.py"), *(REPO_ROOT / "spiders").rglob("*.py")]:
        read |= set(re.findall(r"""["'](CLUSTERWATCH_[A-Z_]+)["']""", path.read_text("utf-8")))
    environment_only = {"CLUSTERWATCH_CONFIG", "CLUSTERWATCH_TRIGGER"}
    assert read - known - environment_only == set()
