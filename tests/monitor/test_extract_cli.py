"""``clusterwatch extract`` as an operator runs it: real processes on saved pages and on URLs
fetched through the mirror."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from monitor.replay import ReplayServer, ReplayTree
from scraper.evaluation import load_expected
from tests.conftest import EXPECTED, SITES, SITES_V2, crawl_env

CLI = Path(sys.executable).with_name("clusterwatch")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "extract", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _saved(url: str, sites: Path = SITES) -> Path:
    found = ReplayTree(sites).resolve_url(url).file
    assert found is not None
    return found


def test_json_per_page_with_the_source_rules_and_provenance(tmp_path: Path) -> None:
    items = load_expected(EXPECTED, "openpr")[:2]
    pages = [str(_saved(item.url)) for item in items]
    result = _run(*pages, "--source", "openpr", "--format", "json", env=crawl_env(tmp_path, None))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["input"] for r in records] == pages
    for record, item in zip(records, items, strict=True):
        assert record["title"] == item.data["title"]
        assert record["title_source"] == record["body_source"] == "declared"
        assert record["published"] and record["text"] and "error" not in record


def test_generic_mode_names_the_fallback_layers(tmp_path: Path) -> None:
    item = load_expected(EXPECTED, "clusterplattform")[0]
    page = str(_saved(item.url))
    result = _run(page, "--generic", "--url", item.url, "-f", "json", env=crawl_env(tmp_path, None))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["url"] == item.url
    assert record["title"] == item.data["title"]
    assert record["body_source"] == "trafilatura" and record["title_source"] != "declared"


def test_urls_are_fetched_through_the_mirror(tmp_path: Path) -> None:
    url = (
        "https://www.bundeswirtschaftsministerium.de/Redaktion/DE/Pressemitteilungen/2022/09/"
        "20220922-zehn-jahre-go-cluster.html"
    )
    with ReplayServer(SITES_V2) as server:
        result = _run(url, "--source", "bmwe", "-f", "json", env=crawl_env(tmp_path, server.url))
        assert result.returncode == 0, result.stderr
        record = json.loads(result.stdout)
        assert record["url"] == url and record["title"] and record["published"]
        assert any(e.path.endswith("20220922-zehn-jahre-go-cluster.html") for e in server.log)


def test_errors_are_records_and_lines_not_tracebacks(tmp_path: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><p>kurz</p></body></html>", "utf-8")
    result = _run(
        str(empty), str(tmp_path / "missing.html"), "-f", "json", env=crawl_env(tmp_path, None)
    )
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["error"].startswith("extraction failed")
    assert "cannot read" in records[1]["error"]
    assert "Traceback" not in result.stderr
    unknown = _run(str(empty), "--source", "nosuch", env=crawl_env(tmp_path, None))
    assert unknown.returncode == 2
    assert "unknown source 'nosuch'" in unknown.stderr and "Traceback" not in unknown.stderr
