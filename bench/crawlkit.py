"""Shared by the crawl benchmarks: run a real crawl process against a replayed tree, with its
wall time and CPU time, and read its crawl-log row (figures go through bench/report.py, as
every benchmark's do)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.repository import Repository  # noqa: E402


@dataclass
class Timed:
    wall: float
    cpu: float  # user + system of the crawl process and the children it waited for
    returncode: int
    stderr: str
    # user + system of its other descendants (a process pool's workers, which the process
    # does not wait for), sampled from /proc every half second until the process ended
    descendants_cpu: float = 0.0


TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _descendants_cpu(root: int) -> dict[int, float]:
    """CPU-seconds so far of every live descendant of ``root`` (Linux /proc; {} elsewhere)."""
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    found: dict[int, float] = {}
    for pid in cpu:
        ancestor = parent.get(pid)
        while ancestor and ancestor != root and ancestor in parent:
            ancestor = parent[ancestor]
        if ancestor == root:
            found[pid] = cpu[pid]
    return found


def crawl_env(data_dir: Path, config: Path, mirror: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERWATCH_")}
    env.pop("DATABASE_URL", None)
    env.update(
        CLUSTERWATCH_DATA_DIR=str(data_dir),
        CLUSTERWATCH_CONFIG=str(config),
        CLUSTERWATCH_MIRROR=mirror,
    )
    return env


def run(command: list[str], env: dict[str, str]) -> Timed:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True
        )
        seen: dict[int, float] = {}
        while True:
            try:
                returncode = process.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                seen.update(_descendants_cpu(process.pid))
                if time.perf_counter() - start > 3600:
                    process.kill()
        err.seek(0)
        stderr = err.read()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if returncode != 0:
        sys.stderr.write(stderr[-3000:])
    return Timed(wall, cpu, returncode, stderr, sum(seen.values()))


def scrapy_crawl(source: str, env: dict[str, str], *settings: str) -> Timed:
    args = [a for s in settings for a in ("-s", s)]
    return run([sys.executable, "-m", "scrapy", "crawl", source, *args], env)


def crawl_many(sources: list[str], env: dict[str, str], *settings: str) -> Timed:
    args = [a for s in settings for a in ("-s", s)]
    return run([sys.executable, "-m", "scraper.crawl_many", *sources, *args], env)


def repository(data_dir: Path) -> Repository:
    return Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")


def last_stats(data_dir: Path, source: str) -> dict[str, Any]:
    run_row = repository(data_dir).last_run(source)
    assert run_row is not None, f"no crawl-log row for {source}"
    stats: dict[str, Any] = dict(run_row.stats or {})
    stats["_requests"] = run_row.requests
    stats["_items_new"] = run_row.items_new
    return stats
