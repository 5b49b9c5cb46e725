"""Service memory over many scheduled runs: the scheduler, its hooks (feed rebuild after a
run with new items, health and alerts after every run) and the HTTP server, in this
process, as ``clusterwatch run`` has them, with two sources due every second.

The crawl command is a stand-in (documented here, measured as such): ``/bin/true``, a
process that starts and exits at once. After each run the service's hook stores one new
article (what a real crawl's process would have stored, here written from the service's
own process — more work in the measured process, not less), rebuilds every feed and
evaluates health and alerts. What is measured is the service's own resident memory (RSS)
after a warm-up, and its growth per 100 runs; the status page is fetched every 50 runs so
the server's path is exercised too.

    .venv/bin/python bench/bench_service.py [--quick|--full] [--runs N] [--json PATH]

Quick: 250 runs; full: 1,000 runs (≈ 9 minutes). The growth is measured after a warm-up of
half the runs (at most 200): before the first run the database holds an archive that fills
every feed (``feed_max_entries`` older articles per source), so the feeds are at their full
size from the start; the first runs fill bounded caches (the SQLite page cache of each
pooled connection as the database grows, SQLAlchemy's statement cache, the malloc arenas up
to the hooks' high-water mark), which is no growth per run. Each sample also shows what
bounds or would reveal growth: SQLite's own heap (``sqlite3_memory_used``), Python's
allocated blocks, glibc's arenas and what they hold (``malloc_info``), the anonymous
mappings (/proc/self/smaps) and the threads alive and started. The service caps its malloc
arenas (``monitor.service.limit_malloc_arenas``) and so does this script, first, unless
``--no-arena-cap``: uncapped, every thread kept an arena at the hooks' high-water mark and
RSS rose run after run while Python's and SQLite's live memory stayed flat. ``--trace``
takes tracemalloc snapshots after the warm-up and at the end and prints where Python's
allocations grew (much slower: use it with ``--runs``).
"""

from __future__ import annotations

import ctypes
import http.client
import itertools
import logging
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report, arguments  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.repository import ArticleRecord, Repository  # noqa: E402


@dataclass(frozen=True)
class Due:
    name: str
    interval_minutes: float = 1 / 60
    enabled: bool = True


def _sqlite_memory_used() -> Callable[[], int]:
    """SQLite's own heap (page caches of every connection, statements): sqlite3_memory_used
    of the library the sqlite3 module is linked to."""
    import _sqlite3

    function = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
    function.restype = ctypes.c_int64
    return lambda: int(function())


def anonymous_mb() -> tuple[int, float]:
    """Anonymous mappings of this process (no file behind them): count and resident MB."""
    count, kb, anonymous = 0, 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split(maxsplit=6)
        if len(head) >= 5 and "-" in head[0] and ":" not in head[0]:
            anonymous = len(head) == 5 or head[5] in ("[heap]", "[stack]")
            count += anonymous
        elif anonymous and line.startswith("Rss:"):
            kb += int(line.split()[1])
    return count, kb / 1024


def _count_thread_starts() -> Callable[[], int]:
    """How many threads this process has started from now on (any library's)."""
    started = itertools.count()
    counted = [0]
    start = threading.Thread.start

    def counting_start(self: threading.Thread) -> None:
        counted[0] = next(started) + 1
        start(self)

    threading.Thread.start = counting_start  # type: ignore[method-assign]
    return lambda: counted[0]


def _print_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> None:
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    before, after = before.filter_traces(ignore), after.filter_traces(ignore)
    print("  where Python's allocations grew after the warm-up (tracemalloc, top 12):")
    for stat in after.compare_to(before, "traceback")[:12]:
        innermost = reversed(stat.traceback[-6:])  # a traceback runs from the oldest frame
        frames = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in innermost)
        print(f"    {stat.size_diff / 1024:+8.1f} kB {stat.count_diff:+6d} blocks  {frames}")


def _pool_size(url: str) -> int:
    """How many connections the process's engine keeps open (each has its page cache)."""
    from db.engine import create_db_engine

    pool = create_db_engine(url).pool
    size = getattr(pool, "size", None)
    return int(size()) if callable(size) else 1


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="default: 250 quick, 1000 full")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="tracemalloc from the warm-up on: where Python's allocations grew (slower)",
    )
    parser.add_argument(
        "--no-arena-cap",
        action="store_true",
        help="leave glibc's malloc arenas uncapped (what the service did before issue 11)",
    )
    args = parser.parse_args()
    from monitor.service import MALLOC_ARENAS, limit_malloc_arenas, malloc_heaps

    # First, before any thread: as `clusterwatch run` does.
    capped = not args.no_arena_cap and limit_malloc_arenas()
    started_threads = _count_thread_starts()
    runs = args.runs or (1000 if args.full else 250)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: still running"
    report = Report("Service memory over scheduled runs (1-second intervals)")
    from monitor.scheduler import CrawlScheduler
    from monitor.server import BackgroundServer
    from monitor.service import ServiceHooks
    from monitor.sources import list_sources
    from scraper.config import Config

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        url = f"sqlite:///{data / 'clusterwatch.db'}"
        upgrade(url)
        config = Config(data_dir=data, database_url=url, feed_rebuild_minutes=1, jitter_seconds=0)
        repository = Repository(url)
        sources = list_sources(config)
        hooks = ServiceHooks(config, repository, sources)
        due = [Due(sources[0].name), Due(sources[1].name)]
        count = itertools.count(1)
        done_runs = [0]

        def article(source: str, key: str, published_at: datetime) -> ArticleRecord:
            return ArticleRecord(
                canonical_url=f"https://{source}.example/news/{key}",
                source=source,
                url=f"https://{source}.example/news/{key}",
                title=f"Meldung {key} aus dem Cluster",
                text=f"Neue Meldung {key} aus dem Cluster. " * 20,
                html="",
                content_hash=f"h{key}",
                relevance="relevant",
                published_at=published_at,
            )

        # An archive that fills every feed from the start (older than what the runs store):
        # the feeds' size is reached at once, so the warm-up is the caches' alone.
        seeded = datetime.now(UTC) - timedelta(days=30)
        for d in due:
            for i in range(config.feed_max_entries):
                repository.add_article(article(d.name, f"old-{i}", seeded + timedelta(hours=i)))
        hooks.rebuild_feeds()  # as the service does before its first run

        def after_run(source: str) -> None:
            n = next(count)
            repository.add_article(article(source, str(n), datetime.now(UTC)))
            hooks.rebuild_feeds()
            hooks.check_health()
            done_runs[0] = n

        true = shutil.which("true") or "/bin/true"
        scheduler = CrawlScheduler(
            config,
            due,
            repository,
            command_for=lambda source: [true],
            group_command_for=lambda sources: [true],  # due together: one process, as run has
            on_run_finished=after_run,
            rebuild_feeds=hooks.rebuild_feeds,
            poll_seconds=0.05,
            cwd=ROOT,
        )

        def finished() -> int:
            return done_runs[0]

        with BackgroundServer(config, host="127.0.0.1", port=0) as server:
            host, port = server.url.removeprefix("http://").split(":")
            began = time.monotonic()
            scheduler.start()
            samples: list[tuple[int, float]] = []
            inside: list[tuple[float, int]] = []  # (SQLite's heap MB, Python's blocks)
            heaps: list[tuple[int, float]] = []  # (malloc arenas, MB they hold)
            threads: list[tuple[int, int]] = []  # (alive, started since the bench began)
            traced: tracemalloc.Snapshot | None = None
            sqlite_used = _sqlite_memory_used()
            warm_up = min(200, runs // 2)
            next_sample = min(50, warm_up)
            try:
                while True:
                    done = finished()
                    if done >= next_sample or (done >= runs and samples[-1][0] < runs):
                        connection = http.client.HTTPConnection(host, int(port), timeout=30)
                        connection.request("GET", "/")
                        status = connection.getresponse()
                        status.read()
                        connection.close()
                        assert status.status == 200, status.status
                        samples.append((done, rss_mb()))
                        inside.append((sqlite_used() / 2**20, sys.getallocatedblocks()))
                        heaps.append(malloc_heaps())
                        threads.append((threading.active_count(), started_threads()))
                        anonymous = anonymous_mb()
                        print(
                            f"  {done:>5} runs: RSS {samples[-1][1]:.1f} MB, SQLite's heap "
                            f"{inside[-1][0]:.1f} MB, Python blocks {inside[-1][1]}, "
                            f"malloc arenas {heaps[-1][0]} ({heaps[-1][1]:.1f} MB), "
                            f"anonymous mappings {anonymous[0]} ({anonymous[1]:.1f} MB), "
                            f"threads {threads[-1][0]} alive / {threads[-1][1]} started",
                            flush=True,
                        )
                        if args.trace and done >= warm_up and traced is None:
                            tracemalloc.start(8)
                            traced = tracemalloc.take_snapshot()
                        next_sample += 50
                    if done >= runs and samples[-1][0] >= runs:
                        break
                    if time.monotonic() - began > runs * 3 + 120:
                        raise RuntimeError(f"only {done} runs after {time.monotonic() - began} s")
                    time.sleep(0.2)
            finally:
                scheduler.shutdown()
            seconds = time.monotonic() - began
            pooled = _pool_size(url)
            if traced is not None:
                _print_growth(traced, tracemalloc.take_snapshot())
                tracemalloc.stop()
    (early_runs, early), (last_runs, last) = samples[0], samples[-1]
    steady = [(n, mb) for n, mb in samples if n >= warm_up]
    first_runs, first = steady[0]
    # Least squares over every sample after the warm-up: one noisy sample moves it little.
    slope = statistics.linear_regression([n for n, _ in steady], [mb for _, mb in steady]).slope
    report.add(
        "scheduled runs (2 sources due every second, stand-in crawl)",
        last_runs,
        note=f"in {seconds:.0f} s; each stored one article: feeds rebuilt, health checked",
    )
    report.add(f"service RSS after {early_runs} runs", round(early, 1), "MB")
    report.add(f"service RSS after {first_runs} runs (warm-up)", round(first, 1), "MB")
    report.add(f"service RSS after {last_runs} runs", round(last, 1), "MB")
    at = [i for i, (n, _) in enumerate(samples) if n >= warm_up]
    steady_runs = [samples[i][0] for i in at]
    sqlite_slope = statistics.linear_regression(steady_runs, [inside[i][0] for i in at]).slope
    blocks_slope = statistics.linear_regression(steady_runs, [inside[i][1] for i in at]).slope
    report.add(
        "SQLite's own heap (page caches, statements)",
        round(inside[-1][0], 1),
        "MB",
        note=f"after {last_runs} runs; {inside[at[0]][0]:.1f} MB after {first_runs}, "
        f"{sqlite_slope * 100:+.2f} MB / 100 runs; bounded: {pooled} pooled connections × "
        f"SQLite's default page cache of 2,000 KiB = {pooled * 2000 / 1024:.1f} MB, plus "
        "each connection's schema and its up to 128 cached statements (sqlite3's default)",
    )
    outside = [samples[i][1] - inside[i][0] for i in at]
    report.add(
        "service RSS outside SQLite's heap: growth per 100 runs",
        round(statistics.linear_regression(steady_runs, outside).slope * 100, 2),
        "MB",
        note="what is left once SQLite's bounded caches are taken out: the malloc arenas' "
        "other contents, Python's memory, the stacks",
    )
    report.add(
        "Python's allocated blocks: growth per 100 runs",
        round(blocks_slope * 100),
        "blocks",
        note=f"{inside[-1][1]} after {last_runs} runs (sys.getallocatedblocks)",
    )
    report.add(
        "glibc malloc arenas",
        heaps[-1][0],
        note=f"holding {heaps[-1][1]:.1f} MB after {last_runs} runs "
        f"({heaps[at[0]][1]:.1f} MB after {first_runs}); "
        + (f"capped at {MALLOC_ARENAS} by the service" if capped else "uncapped"),
    )
    report.add(
        "threads started over the run",
        threads[-1][1],
        note=f"{threads[-1][0]} alive at the end; the scheduler's pools reuse their threads",
    )
    report.add(
        "service RSS growth per 100 runs",
        round(slope * 100, 2),
        "MB",
        note=f"least squares over {len(steady)} samples, runs {first_runs}–{last_runs} "
        f"(end points: {(last - first) / max(last_runs - first_runs, 1) * 100:+.2f}); "
        "issue 11 measured +0.3 MB / 100 runs before",
    )
    report.write(args.json)


if __name__ == "__main__":
    main()
