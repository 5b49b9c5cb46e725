"""Every benchmark script starts: `make bench` is not part of the suite, so a script broken
by a change elsewhere (an import from a sibling script that moved) would go unseen until the
next benchmark run. `--help` imports the script and parses its arguments, nothing more."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SCRIPTS = sorted(
    p.name
    for p in (REPO_ROOT / "bench").glob("*.py")
    if p.name.startswith(("bench_", "run", "scaling_", "generate_"))
)


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_benchmark_script_starts(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(Path("bench") / script), "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()


def test_bench_cache_drops_only_its_own_sizes_stale_templates(postgres_server_url: str) -> None:
    """A new 10 k template replaces older 10 k ones and never 100 k's or 1 M's (``_`` is
    LIKE's any-character: unescaped, it dropped the 100 k and 1 M templates)."""
    import psycopg

    sys.path.insert(0, str(REPO_ROOT))
    from bench.dbcache import drop_stale_templates

    plain = postgres_server_url.replace("postgresql+psycopg://", "postgresql://")
    names = ["cw_bench_10000_g1", "cw_bench_100000_g1", "cw_bench_1000000_g1"]
    with psycopg.connect(plain, autocommit=True) as connection:
        for name in names:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            assert drop_stale_templates(connection, "cw_bench_10000") == ["cw_bench_10000_g1"]
            left = {
                row[0]
                for row in connection.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'cw_bench%'"
                )
            }
            assert left == set(names[1:])
        finally:
            for name in names:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
