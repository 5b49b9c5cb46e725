"""The measured run behind docs/SCALING.md: two real Scrapyd workers, a throwaway
PostgreSQL and the replay server, every source crawled twice through the scheduler with the
Scrapyd launcher (a first crawl, then a recrawl of the unchanged sites), plus one local crawl
per source with AutoThrottle on (the politeness defaults; replay mode switches it off).

Then a simulation (labelled so) of 1,500 sources over a day, fed with the measured costs.

    .venv/bin/python bench/scaling_run.py [--json out.json]
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.migrate import upgrade  # noqa: E402
from db.models import CrawlRun  # noqa: E402
from db.repository import Repository  # noqa: E402
from monitor.replay import ReplayServer  # noqa: E402
from monitor.scheduler import CrawlScheduler  # noqa: E402
from monitor.workers import deploy  # noqa: E402
from scraper.config import Config  # noqa: E402
from tests.conftest import copy_sites  # noqa: E402
from tests.pg import fresh_database, postgres_server  # noqa: E402
from tests.test_workers import PROJECT, SOURCES, Worker  # noqa: E402

SLOTS = 2  # per worker, as in the tests (max_proc)


def db_writes(url: str) -> int:
    """Rows inserted + updated + deleted in the database so far (pg_stat_database)."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    name = plain.rsplit("/", 1)[1]
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("SELECT pg_stat_clear_snapshot()")
        row = connection.execute(
            "SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database"
            " WHERE datname = %s",
            (name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def crawl_round(config: Config, repository: Repository, url: str) -> dict[str, Any]:
    known = {r.id for r in repository.runs(limit=1000)}
    writes_before = db_writes(url)
    specs = [config.source_specs()[s] for s in SOURCES]
    scheduler = CrawlScheduler(config, specs, repository, kill_grace_seconds=5)
    started = time.monotonic()
    scheduler.start()
    for source in SOURCES:
        scheduler.run_now(source)
    try:
        while True:
            new = [r for r in repository.runs(limit=1000) if r.id not in known]
            if {r.spider for r in new if r.finished_at is not None} >= set(SOURCES):
                break
            if time.monotonic() - started > 600:
                raise SystemExit("round did not finish in 10 minutes")
            time.sleep(0.5)
    finally:
        scheduler.shutdown()
    wall = time.monotonic() - started
    time.sleep(1.0)  # statistics are flushed by the backends asynchronously
    writes = db_writes(url) - writes_before
    runs: list[CrawlRun] = sorted(new, key=lambda r: r.spider)
    return {
        "wall_seconds": round(wall, 1),
        "db_writes": writes,
        "db_writes_per_minute": round(writes / wall * 60),
        "runs": [
            {
                "source": r.spider,
                "worker": r.worker,
                "finish_reason": r.finish_reason,
                "seconds": round((r.finished_at - r.started_at).total_seconds(), 1)
                if r.finished_at
                else None,
                "requests": r.requests,
                "responses_by_status": r.responses_by_status,
                "items_new": r.items_new,
                "items_skipped": r.items_skipped,
            }
            for r in runs
        ],
    }


def polite_crawls(replay_url: str, tmp: Path) -> list[dict[str, Any]]:
    """One local `scrapy crawl` per source with AutoThrottle on (the live-mode default)."""
    found = []
    for source in SOURCES:
        data = tmp / f"polite-{source}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERWATCH_")}
        env.pop("DATABASE_URL", None)
        env["CLUSTERWATCH_DATA_DIR"] = str(data)
        env["CLUSTERWATCH_MIRROR"] = replay_url
        subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", source, "-s", "AUTOTHROTTLE_ENABLED=True"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
        (run,) = Repository(f"sqlite:///{data / 'clusterwatch.db'}").runs()
        assert run.finished_at is not None
        seconds = (run.finished_at - run.started_at).total_seconds()
        found.append(
            {
                "source": source,
                "requests": run.requests,
                "seconds": round(seconds, 1),
                "requests_per_minute": round(run.requests / seconds * 60, 1),
            }
        )
    return found


def simulate(
    first: list[dict[str, Any]],
    recrawl: list[dict[str, Any]],
    sources: int = 1500,
    interval_minutes: float = 60,
    workers: int = 2,
    slots: int = 4,
    seed: int = 13,
) -> dict[str, Any]:
    """A discrete-event simulation (not a measurement) of one day: ``sources`` sources on
    their interval with the scheduler's jitter, each crawl taking a recrawl's measured time
    (a first crawl's for a new article, 1 crawl in 20), dispatched to the least busy of
    ``workers`` x ``slots``; a crawl that finds every slot busy waits for one."""
    rng = random.Random(seed)
    recrawl_s = [r["seconds"] for r in recrawl]
    first_s = [r["seconds"] for r in first]
    free_at = [0.0] * (workers * slots)
    heapq.heapify(free_at)
    waits = []
    busy = 0.0
    runs = 0
    day = 86400.0
    events = []
    for _ in range(sources):
        t = rng.uniform(0, interval_minutes * 60)
        while t < day:
            events.append(t)
            t += interval_minutes * 60 + rng.uniform(-60, 60)
    for t in sorted(events):
        duration = rng.choice(first_s if rng.random() < 0.05 else recrawl_s)
        slot_free = heapq.heappop(free_at)
        start = max(t, slot_free)
        waits.append(start - t)
        heapq.heappush(free_at, start + duration)
        busy += duration
        runs += 1
    waits.sort()
    return {
        "sources": sources,
        "workers": workers,
        "slots_per_worker": slots,
        "crawls_per_day": runs,
        "slot_utilisation": round(busy / (day * workers * slots), 3),
        "median_wait_seconds": round(waits[len(waits) // 2], 1),
        "p99_wait_seconds": round(waits[int(len(waits) * 0.99)], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cw-bench-workers-") as name:
        tmp = Path(name)
        with postgres_server() as server:
            url = fresh_database(server)
            upgrade(url)
            with ReplayServer(copy_sites(tmp / "sites")) as replay:
                workers = [Worker(tmp, "a", url), Worker(tmp, "b", url)]
                try:
                    deploy(ROOT, None, [w.url for w in workers], PROJECT)
                    config = Config(
                        data_dir=tmp / "service",
                        database_url=url,
                        mirror=replay.url,
                        launcher="scrapyd",
                        scrapyd_urls=[w.url for w in workers],
                        scrapyd_slots=SLOTS,
                        jitter_seconds=0,
                    )
                    repository = Repository(url)
                    first = crawl_round(config, repository, url)
                    second = crawl_round(config, repository, url)
                finally:
                    for worker in workers:
                        worker.kill()
                polite = polite_crawls(replay.url, tmp)
    result: dict[str, Any] = {
        "load_before": [round(x, 2) for x in load],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "first_crawl": first,
        "recrawl": second,
        "polite_local": polite,
    }
    for workers in (2, 4, 8, 16):
        result[f"simulation_1500_sources_{workers}_workers"] = simulate(
            first["runs"], second["runs"], workers=workers
        )
    result["recrawl_median_seconds"] = statistics.median(r["seconds"] for r in second["runs"])
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
