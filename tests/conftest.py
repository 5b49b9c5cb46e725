"""Shared fixtures: the replayed sites, a replay server, and running real crawls."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.replay import ReplayServer
from scraper.config import load_config

REPO_ROOT = Path(__file__).resolve().parent.parent
SITES = REPO_ROOT / "tests" / "sites"
EXPECTED = REPO_ROOT / "tests" / "expected"
# Configuration a developer may have in their shell must not leak into tests.
_LEAKY_ENV = (
    "CLUSTERWATCH_CONFIG",
    "DATABASE_URL",
    "CLUSTERWATCH_DATABASE_URL",
    "CLUSTERWATCH_MIRROR",
    "CLUSTERWATCH_DATA_DIR",
    "CLUSTERWATCH_TRIGGER",
)


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in _LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./clusterwatch.toml of the developer's
    load_config.cache_clear()
    yield
    load_config.cache_clear()


def manifest(source: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXPECTED / source / "manifest.json").read_text("utf-8"))
    return data


def copy_sites(target: Path) -> Path:
    shutil.copytree(SITES, target, ignore=shutil.ignore_patterns("README.md"))
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
