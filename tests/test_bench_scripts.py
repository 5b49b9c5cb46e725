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
