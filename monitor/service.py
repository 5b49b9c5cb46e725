"""``clusterwatch run``: the service — scheduler, feeds, health and alerts, HTTP server.

The HTTP server (uvicorn) owns the main thread; the scheduler runs in background threads.
SIGTERM/SIGINT stop uvicorn, then the scheduler: no new crawls, running crawls get SIGTERM
(Scrapy closes them gracefully) and are recorded; a second signal kills them at once.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import signal
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn

from db.repository import Repository
from scraper.config import Config

if TYPE_CHECKING:
    from monitor.alerts import Alerter
    from monitor.scheduler import CrawlScheduler
    from scraper.sources import SourceSpec

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
M_ARENA_MAX = -8  # glibc's malloc.h
MALLOC_ARENAS = 2  # the service's cap (see limit_malloc_arenas)
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class ServiceHooks:
    """What the scheduler calls: feed rebuilds, and health + alerts after every run.

    Hooks run on the scheduler's worker threads, possibly several at once; one lock keeps
    feed writes and the alerter's state from interleaving.
    """

    def __init__(self, config: Config, repository: Repository, sources: Sequence[SourceSpec]):
        from monitor.alerts import Alerter

        self.config = config
        self.repository = repository
        self.sources = list(sources)
        self.alerter: Alerter = Alerter(config)
        self._lock = threading.Lock()

    def rebuild_feeds(self) -> None:
        from monitor.feeds import FeedWriteError, build_feeds

        with self._lock:
            try:
                changed = build_feeds(self.config, self.repository, self.sources)
            except FeedWriteError as error:
                # The service keeps serving the previous files and tries again next time.
                logger.error("%s", error)
                return
        if changed:
            logger.info("feeds rebuilt: %d files changed", len(changed))

    def on_run_finished(self, source: str) -> None:
        run = self.repository.last_run(source, finished_only=True)
        if run is not None and run.items_new > 0:
            self.rebuild_feeds()
        self.check_health()

    def check_health(self) -> None:
        from monitor.health import evaluate

        with self._lock:
            self.alerter.update(evaluate(self.config, self.repository))


def build_scheduler(config: Config, hooks: ServiceHooks) -> CrawlScheduler:
    from monitor.scheduler import CrawlScheduler

    return CrawlScheduler(
        config,
        hooks.sources,
        hooks.repository,
        on_run_finished=hooks.on_run_finished,
        rebuild_feeds=hooks.rebuild_feeds,
        kill_grace_seconds=config.shutdown_grace_seconds,
    )


def run_service(config: Config) -> None:
    """Run until SIGTERM/SIGINT: migrate, build feeds, schedule crawls, serve HTTP.

    The port is bound first (a port in use stops the start with one line, before any crawl);
    runs a dead process left open are closed as ``interrupted`` and their sources caught up.
    """
    from db.coordination import Coordination
    from db.engine import mask_url
    from db.migrate import upgrade
    from monitor.scheduler import close_dead_runs, release_dead_claims
    from monitor.server import create_app
    from monitor.sources import list_sources
    from monitor.threaded import bind_socket, server_config

    limit_malloc_arenas()
    _configure_logging()
    sock = bind_socket(config.http_host, config.http_port)
    try:
        upgrade(config.db_url)
        repository = Repository(config.db_url)
        remote_alive = None
        if config.launcher == "scrapyd":
            from monitor.launchers.scrapyd import ScrapydLauncher

            remote_alive = ScrapydLauncher(config, Coordination(config.db_url)).alive
        release_dead_claims(Coordination(config.db_url))
        timeout = config.crawl_timeout_minutes * 60
        for run in close_dead_runs(repository, timeout, remote_alive=remote_alive):
            logger.warning(
                "%s: run %d (%s) was left unfinished by a crawl that is gone: recorded as "
                "interrupted",
                run.spider,
                run.id,
                f"job {run.job_id} on {run.worker}"
                if run.launcher == "scrapyd"
                else f"pid {run.pid}",
            )
        hooks = ServiceHooks(config, repository, list_sources(config))
        hooks.rebuild_feeds()  # serve current feeds from the first request on
        scheduler = build_scheduler(config, hooks)
        server = uvicorn.Server(
            server_config(
                create_app(config, next_run=scheduler.next_run_time),
                log_level="info",
                lifespan="off",
            )
        )
        previous = _install_stop_handlers(server, scheduler)
        try:
            scheduler.start()
            logger.info(
                "serving on %s (feeds %s/feeds/all.xml); data in %s, database %s",
                _listen_url(config),
                config.base_url,
                config.data_dir.resolve(),
                mask_url(config.db_url),
            )
            server.run(sockets=[sock])  # returns once a stop signal set should_exit
        finally:
            scheduler.shutdown()
            _restore_handlers(previous)
            _final_feed_build(hooks)
            logger.info("service stopped")
    finally:
        sock.close()


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process, before its threads start.

    glibc gives threads that malloc at once arenas of their own (up to 8 per core) and an
    arena keeps the high-water mark of what its threads once held. The service's threads —
    the scheduler's workers running the feed and health hooks, the supervisors, the HTTP
    server's — take turns through the same work, so every arena grew towards that work's
    peak (``bench/bench_service.py --full``, side by side over 1,000 runs: 9 arenas holding
    57 MB and RSS +1.56 MB / 100 runs uncapped; 2 arenas holding 42 MB and +1.20 capped).
    Threads of the service mostly wait (GIL, I/O), so few arenas cost no throughput. A
    ``MALLOC_ARENA_MAX`` (or ``GLIBC_TUNABLES``) set by the operator wins; False where the
    C library has no such option (not glibc). Crawl processes are not affected.
    """
    if "MALLOC_ARENA_MAX" in os.environ or "arena_max" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(M_ARENA_MAX, arenas) == 1)


def malloc_heaps() -> tuple[int, float]:
    """glibc's arenas: how many, and the memory they hold from the system (MB), from
    ``malloc_info`` — every thread that mallocs may get an arena of its own (up to 8 per
    core), and an arena keeps what it once held."""
    libc = ctypes.CDLL(None)
    libc.open_memstream.restype = ctypes.c_void_p
    libc.open_memstream.argtypes = [
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.POINTER(ctypes.c_size_t),
    ]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.free.argtypes = [ctypes.c_void_p]
    buffer, size = ctypes.c_char_p(), ctypes.c_size_t()
    stream = libc.open_memstream(ctypes.byref(buffer), ctypes.byref(size))
    if not stream or libc.malloc_info(0, stream) != 0:
        return 0, 0.0
    libc.fclose(stream)
    text = (buffer.value or b"").decode()
    libc.free(ctypes.cast(buffer, ctypes.c_void_p))
    heaps = re.findall(r'<heap nr="\d+">.*?<system type="current" size="(\d+)"/>', text, re.S)
    return len(heaps), sum(int(n) for n in heaps) / 2**20


def _listen_url(config: Config) -> str:
    host = f"[{config.http_host}]" if ":" in config.http_host else config.http_host
    return f"http://{host}:{config.http_port}/"


def _configure_logging() -> None:
    """The service's own log (crawl starts, kills, feed builds) on stderr, like uvicorn's;
    left alone when the caller configured logging already."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )


def _final_feed_build(hooks: ServiceHooks) -> None:
    """Crawls that ended during the shutdown skipped their hooks; publish what they added."""
    try:
        hooks.rebuild_feeds()
    except Exception:
        logger.exception("final feed build failed")


def _install_stop_handlers(
    server: uvicorn.Server, scheduler: CrawlScheduler
) -> dict[int, _Handler]:
    """Our handlers, installed before uvicorn's.

    uvicorn captures SIGTERM/SIGINT while it runs and re-raises them once it has stopped; with
    the default handlers SIGTERM would then end the process before the scheduler could stop
    its crawls. Ours only ask to stop (also when a signal comes before uvicorn listens), and a
    repeated signal kills running crawls without waiting out their grace period.
    """
    calls = 0

    def handle(signum: int, _frame: FrameType | None) -> None:
        nonlocal calls
        calls += 1
        server.should_exit = True
        if calls > 1:
            scheduler.hurry()

    return {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}


def _restore_handlers(previous: dict[int, _Handler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
