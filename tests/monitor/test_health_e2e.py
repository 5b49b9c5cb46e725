"""Health over real crawls of the replayed sites: the bundled sites read healthy; the same
sites after a redesign (``tests/sites_v2``: other templates, the declared rules no longer
match) still publish, through fallback layers, and read degraded, naming field and layer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from monitor.replay import ReplayServer
from tests.conftest import SITES, SITES_V2, crawl_env
from tests.monitor.test_cli import CLUSTERWATCH

SOURCE = "openpr"


def _crawl_and_status(tmp_path: Path, sites: Path) -> tuple[int, dict[str, object]]:
    with ReplayServer(sites) as server:
        env = {**crawl_env(tmp_path / "data", server.url), "COLUMNS": "200"}
        crawl = subprocess.run(
            [*CLUSTERWATCH, "crawl", SOURCE],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    status = subprocess.run(
        [*CLUSTERWATCH, "status", "--format", "json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    sources = {s["source"]: s for s in json.loads(status.stdout)["sources"]}
    return status.returncode, sources[SOURCE]


@pytest.mark.e2e
def test_the_bundled_sites_are_healthy(tmp_path: Path) -> None:
    code, health = _crawl_and_status(tmp_path, SITES)
    assert (code, health["verdict"], health["findings"]) == (0, "healthy", [])


@pytest.mark.e2e
def test_a_redesigned_site_is_degraded_with_field_and_layer(tmp_path: Path) -> None:
    code, health = _crawl_and_status(tmp_path, SITES_V2)
    assert code == 1 and health["verdict"] == "degraded", health
    (finding,) = health["findings"]
    assert finding["rule"] == "extraction.drift"
    assert finding["message"].startswith("body taken from fallback layers on ")
    assert "trafilatura" in finding["message"]
