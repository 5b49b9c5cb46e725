"""Packaging: what `make run` installs, `--version`, feed self links, the container image."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from db.migrate import upgrade
from monitor.feeds import build_feeds
from monitor.server import BackgroundServer
from monitor.sources import list_sources
from scraper.config import Config
from tests.conftest import REPO_ROOT
from tests.monitor.test_cli import CLUSTERWATCH


def test_make_run_installs_only_the_runtime_dependencies(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    plan = subprocess.run(
        ["make", "-n", "run", f"VENV={venv}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installs = [line for line in plan.splitlines() if "pip install" in line]
    assert any(line.rstrip().endswith("-e .") for line in installs), plan
    assert not any("[dev]" in line or "[test]" in line for line in installs), plan
    tests = subprocess.run(
        ["make", "-n", "test", f"VENV={venv}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "-e '.[dev]'" in tests


def test_version(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLUSTERWATCH, "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"clusterwatch \d+\.\d+\.\d+\S*\n", result.stdout), result.stdout


@pytest.mark.parametrize(
    ("settings", "base"),
    [
        ({"http_port": 9090}, "http://127.0.0.1:9090"),
        ({"http_host": "0.0.0.0", "http_port": 8181}, "http://localhost:8181"),
        (
            {"http_port": 9090, "feed_base_url": "https://news.example/cw/"},
            "https://news.example/cw",
        ),
    ],
)
def test_feed_self_links_follow_host_and_port(
    tmp_path: Path, settings: dict[str, object], base: str
) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'clusterwatch.db'}"
    upgrade(url)
    config = Config(data_dir=tmp_path / "data", database_url=url, **settings)  # type: ignore[arg-type]
    from db.repository import Repository

    build_feeds(config, Repository(url), list_sources(config))
    rss = (config.feeds_dir / "all.xml").read_text("utf-8")
    assert f'href="{base}/feeds/all.xml" rel="self"' in rss


def test_dockerfile_installs_dependencies_before_the_source() -> None:
    lines = (REPO_ROOT / "Dockerfile").read_text("utf-8").splitlines()
    deps = next(i for i, line in enumerate(lines) if "-r /tmp/requirements.txt" in line)
    source = next(i for i, line in enumerate(lines) if line.startswith("COPY scraper"))
    assert deps < source
    assert any('CMD ["python", "-m", "monitor.healthcheck"]' in line for line in lines)
    assert not any("CLUSTERWATCH_FEED_BASE_URL" in line for line in lines)


def test_healthcheck_follows_the_configured_port(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'clusterwatch.db'}"
    upgrade(url)
    config = Config(data_dir=tmp_path / "data", database_url=url, http_port=0)
    env = {"CLUSTERWATCH_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}

    def healthcheck(port: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor.healthcheck"],
            cwd=REPO_ROOT,
            env={**env, "CLUSTERWATCH_HTTP_PORT": str(port), "CLUSTERWATCH_HTTP_HOST": "0.0.0.0"},
            capture_output=True,
            text=True,
            timeout=60,
        )

    with BackgroundServer(config, "127.0.0.1", 0) as server:
        assert healthcheck(server.port).returncode == 0
    stopped = healthcheck(server.port)
    assert stopped.returncode == 1 and "healthz" in stopped.stderr
