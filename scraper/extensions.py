"""The crawl log: every run — ``scrapy crawl`` by hand or scheduled — gets a ``crawl_runs``
row and its own log file under the data dir."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.extensions.logcount import LogCount
from scrapy.statscollectors import StatsCollector
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet.task import LoopingCall

from db.engine import mask_secrets, mask_url
from db.migrate import SchemaOutOfDate, ensure_schema
from db.repository import Repository
from scraper.middlewares import CRAWLER_RECORD, DROPPED

logger = logging.getLogger(__name__)

TRIGGER_ENV = "CLUSTERWATCH_TRIGGER"  # set by the scheduler; a bare `scrapy crawl` is "manual"
JOB_ID_ENV = "CLUSTERWATCH_JOB_ID"  # the launcher's id of this crawl
# A launcher may give these as `-s` settings instead (Scrapyd jobs get no environment).
TRIGGER_SETTING = TRIGGER_ENV
JOB_ID_SETTING = JOB_ID_ENV
LAUNCHER_SETTING = "CLUSTERWATCH_RUN_LAUNCHER"  # local | scrapyd
WORKER_SETTING = "CLUSTERWATCH_RUN_WORKER"  # the Scrapyd URL the job runs on
RUN_ID_STAT = "clusterwatch/run_id"
HOST_STAT = "clusterwatch/host"  # which machine runs the crawl (restart safety reads it)
# Which process runs it: boot id and the pid's start time, so a reused pid (a container
# restart hands out the same small pids again) is not taken for the crawl that is gone.
PROCESS_STAT = "clusterwatch/process"
# Scrapy commands that crawl a page or two to look at them: not runs of the source, so they
# write no crawl-log row (health would take them for the source's last run).
NOT_A_RUN = frozenset({"shell", "parse", "check", "fetch", "view", "bench"})


SCRAPY_COMMANDS = NOT_A_RUN | {"crawl", "runspider", "list", "settings", "version"}


def scrapy_command(argv: list[str] | None = None) -> str | None:
    """The ``scrapy`` sub-command this process runs (``crawl``, ``shell`` …), if any.

    Read from the original command line: Scrapy pops the command name off ``sys.argv``.
    """
    args = sys.orig_argv if argv is None else argv
    return next((arg for arg in args if arg in SCRAPY_COMMANDS), None)


class CrawlerRecords(logging.Filter):
    """The log records of one crawler, in a process that may run several
    (scraper/crawl_many.py): records marked with its spider (Scrapy's ``extra={"spider":
    …}``, our spiders' ``log_``) or with it (``CRAWLER_RECORD``), and the unmarked ones —
    the process's own (start-up, reactor), which belong to every run in it."""

    def __init__(self, crawler: Crawler):
        super().__init__()
        self.crawler = crawler

    def filter(self, record: logging.LogRecord) -> bool:
        spider = getattr(record, "spider", None)
        if spider is not None:
            return getattr(spider, "crawler", None) is self.crawler
        owner = getattr(record, CRAWLER_RECORD, None)
        return owner is None or owner is self.crawler


class AttributedLogCount(LogCount):
    """Scrapy's ``log_count/*`` stats, counting only this crawler's records: the crawl
    log's errors and warnings stay per source when several crawls share a process."""

    def spider_opened(self, spider: Spider) -> None:
        super().spider_opened(spider)
        if self.handler is not None:
            self.handler.addFilter(CrawlerRecords(self.crawler))


class CrawlLog:
    def __init__(self, crawler: Crawler, repository: Repository, logs_dir: Path):
        assert crawler.stats is not None and crawler.spidercls is not None
        self.stats: StatsCollector = crawler.stats
        self.repository = repository
        spider = crawler.spidercls.name
        settings = crawler.settings
        trigger = settings.get(TRIGGER_SETTING) or os.environ.get(TRIGGER_ENV, "manual")
        self.run_id = repository.start_run(spider, trigger, None, os.getpid())
        host = socket.gethostname()
        identity = {HOST_STAT: host, PROCESS_STAT: process_identity(os.getpid())}
        repository.update_run(
            self.run_id,
            stats=identity,
            launcher=settings.get(LAUNCHER_SETTING) or "local",
            worker=settings.get(WORKER_SETTING) or host,
            job_id=settings.get(JOB_ID_SETTING) or os.environ.get(JOB_ID_ENV) or None,
        )
        for key, value in identity.items():
            self.stats.set_value(key, value)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.log_path = (logs_dir / spider / f"{stamp}-run{self.run_id}.log").resolve()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        repository.update_run(self.run_id, log_path=str(self.log_path))
        self.handler = logging.FileHandler(self.log_path, encoding="utf-8")
        self.handler.setFormatter(
            logging.Formatter(
                crawler.settings.get("LOG_FORMAT"), crawler.settings.get("LOG_DATEFORMAT")
            )
        )
        self.handler.setLevel(crawler.settings.get("CLUSTERWATCH_RUN_LOG_LEVEL", "INFO"))
        self.handler.addFilter(CrawlerRecords(crawler))
        self.crawler = crawler
        logging.getLogger().addHandler(self.handler)
        self.stats.set_value(RUN_ID_STAT, self.run_id)
        self.progress: LoopingCall | None = None
        self.progress_interval = crawler.settings.getfloat("CLUSTERWATCH_PROGRESS_SECONDS", 5.0)
        logger.info(
            "crawl run %s of %s (%s) logging to %s",
            self.run_id,
            spider,
            trigger,
            self.log_path,
            extra={CRAWLER_RECORD: crawler},
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        url = settings.get("CLUSTERWATCH_DATABASE_URL")
        if not url:
            raise NotConfigured("no database configured")
        if not settings.getbool("CLUSTERWATCH_CRAWL_LOG", True):
            raise NotConfigured()
        looking = scrapy_command() in NOT_A_RUN
        try:
            # A fresh install gets its schema on the first crawl (or `scrapy parse`: the
            # spider reads the source's template lines and known pages from it).
            ensure_schema(url)
            if looking:
                raise NotConfigured()  # silently: `scrapy shell` is not a run of the source
            extension = cls(crawler, Repository(url), Path(settings["CLUSTERWATCH_LOGS_DIR"]))
        except (OSError, SQLAlchemyError, SchemaOutOfDate) as error:
            # Nothing has run yet: one line (password masked) and exit status 3, the CLI's
            # "environment" code, instead of Scrapy logging a long traceback.
            sys.stderr.write(f"clusterwatch: cannot record the crawl: {_describe(error, url)}\n")
            raise SystemExit(3) from None
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.stats.set_value(RUN_ID_STAT, self.run_id)
        self.stats.set_value(HOST_STAT, socket.gethostname())
        # Counters of a running crawl are visible to `clusterwatch crawl`/`status` meanwhile.
        self.progress = LoopingCall(self.report_progress)
        self.progress.start(self.progress_interval, now=False)

    def report_progress(self) -> None:
        summary = run_summary(self.stats)
        summary.pop("stats")
        self.repository.update_run(self.run_id, **summary)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.progress is not None and self.progress.running:
            self.progress.stop()
        try:
            self.repository.finish_run(self.run_id, finish_reason=reason, **run_summary(self.stats))
            logger.info(
                "crawl run %s finished: %s; dropped requests: %s",
                self.run_id,
                reason,
                dropped_words(self.stats.get_stats()),
                extra={CRAWLER_RECORD: self.crawler},
            )
        finally:
            logging.getLogger().removeHandler(self.handler)
            self.handler.close()


def process_identity(pid: int) -> str | None:
    """``<boot id>:<start time in clock ticks>`` of process ``pid`` (Linux /proc), or None
    when the process is gone or the platform has no /proc: then only the pid can be
    compared."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip()
        stat = Path(f"/proc/{pid}/stat").read_text("ascii", "replace")
    except OSError:
        return None
    # Field 22 (starttime); the command name (field 2) may hold spaces and parentheses.
    fields = stat.rsplit(")", 1)[-1].split()
    return f"{boot}:{fields[19]}" if len(fields) > 19 else None


def _describe(error: BaseException, url: str) -> str:
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror}"
    if isinstance(error, SQLAlchemyError):
        orig = getattr(error, "orig", None) or error
        text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        return mask_secrets(f"database {mask_url(url)}: {text}", url)
    return mask_secrets(str(error), url)


def dropped_words(stats: dict[str, Any]) -> str:
    """``offsite 1, robots 2`` (requests dropped on purpose, by reason) or ``none``."""
    found = sorted((k.removeprefix(DROPPED), v) for k, v in stats.items() if k.startswith(DROPPED))
    return ", ".join(f"{reason} {n}" for reason, n in found) or "none"


def run_summary(stats: StatsCollector) -> dict[str, Any]:
    """The crawl_runs columns, read off Scrapy's stats."""
    values = stats.get_stats()
    prefix = "clusterwatch/upstream/status/"
    by_status = {k.removeprefix(prefix): int(v) for k, v in values.items() if k.startswith(prefix)}
    return {
        "requests": int(values.get("clusterwatch/upstream/requests", 0)),
        "responses_by_status": by_status,
        "items_new": int(values.get("clusterwatch/items/new", 0)),
        "items_duplicate": int(values.get("clusterwatch/items/duplicate", 0)),
        "items_irrelevant": int(values.get("clusterwatch/items/irrelevant", 0)),
        "items_skipped": int(values.get("clusterwatch/skipped_known", 0)),
        "items_failed": int(values.get("clusterwatch/items/failed", 0)),
        "article_links": int(values.get("clusterwatch/article_links", 0)),
        # A 5xx on a cached entry point is answered from the cache, so it never reaches the
        # log as an error; count what the source really answered as well.
        "errors": int(values.get("log_count/ERROR", 0))
        + int(values.get("clusterwatch/upstream/problems", 0)),
        "warnings": int(values.get("log_count/WARNING", 0)),
        "stats": json.loads(json.dumps(values, default=str)),
    }
