"""Per-article CPU work off the reactor thread: a process pool sized to the cores.

What an article page costs — parsing, extraction (trafilatura), language id, the story
fingerprint (MinHash, LSH bands) and compressing the raw page — is one pure function of the
page inputs, :func:`prepare_page`. The spider's article callback awaits it in a worker
process (``concurrent.futures.ProcessPoolExecutor`` on a forkserver whose server process has
imported the extraction once), so the reactor thread only downloads, discovers and stores
while both cores extract. ``CLUSTERWATCH_CRAWL_WORKERS`` sets the pool size (default: the
cores this process may use; ``0`` extracts on the reactor thread, as before). The result is
the same either way: the same function runs on the same inputs.

The pool starts lazily, once ``CLUSTERWATCH_CRAWL_POOL_AFTER`` article pages (20) were
extracted on the reactor thread, so a crawl with few new articles (or none: an unchanged
recrawl) starts no worker; it is shared by every crawler of the process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from scraper import classify, dedup, stories
from scraper.extract import DateHints, Extracted, ExtractionError, ExtractionRules, extract
from scraper.extract.furniture import TemplateLines

WORKERS_SETTING = "CLUSTERWATCH_CRAWL_WORKERS"
INLINE_SETTING = "CLUSTERWATCH_CRAWL_POOL_AFTER"
RAW_COMPRESSION = 6


@dataclass(frozen=True)
class PageJob:
    """An article page's inputs: what extraction is a pure function of."""

    body: bytes
    url: str
    rules: ExtractionRules
    hints: DateHints
    content_type: str | None
    template: TemplateLines
    relevance: classify.RuleSet | None = None


@dataclass(frozen=True)
class Prepared:
    """What the store needs beyond the item, computed with the extraction: the story
    fingerprint of (``title``, ``text``) and the compressed raw page."""

    title: str
    text: str
    fingerprint: stories.Fingerprint
    raw_compressed: bytes
    # Relevance and topics under ``rules`` (RelevancePipeline uses them when its rules match).
    rules: classify.RuleSet | None = None
    relevance: classify.Relevance | None = None
    topics: list[str] | None = None

    def fits(self, title: str, text: str) -> bool:
        return (self.title is title or self.title == title) and (
            self.text is text or self.text == text
        )


def fingerprint_of(title: str, text: str) -> stories.Fingerprint:
    return stories.fingerprint(title, text, dedup.content_hash(text))


def compress_raw(body: bytes) -> bytes:
    return zlib.compress(body, RAW_COMPRESSION)


def prepare_page(job: PageJob) -> tuple[Extracted, Prepared] | tuple[None, tuple[str, str]]:
    """Extract the page and fingerprint the result; an extraction failure comes back as
    ``(None, (message, field))`` (plain values cross the process boundary safely)."""
    try:
        extracted = extract(
            job.body,
            job.url,
            job.rules,
            job.hints,
            content_type=job.content_type,
            template=job.template,
        )
    except ExtractionError as error:
        return None, (str(error), error.field)
    title, text = extracted.title, extracted.text
    rules = job.relevance
    prepared = Prepared(
        title,
        text,
        fingerprint_of(title, text),
        compress_raw(job.body),
        rules,
        classify.score(title, text, rules) if rules is not None else None,
        classify.topics(title, text, extracted.topics) if rules is not None else None,
    )
    return extracted, prepared


def default_workers() -> int:
    count = os.process_cpu_count() if hasattr(os, "process_cpu_count") else None
    if count is None:
        count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return max(1, count or 1)


class PagePool:
    """The process's pool (one per process, shared by its crawlers), started once more than
    ``inline_first`` pages came: starting it costs a few CPU-seconds (a forkserver importing
    the extraction, the workers), more than a handful of pages does — a crawl with a few new
    articles extracts them on its own thread."""

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None
        self._workers = 0
        self._inline = 0

    def executor(self, workers: int) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            # The server process imports the extraction once; workers fork from it.
            context.set_forkserver_preload([__name__, "datasketch", "trafilatura"])
            self._executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
            self._workers = workers
        return self._executor

    async def prepare(
        self, job: PageJob, workers: int, inline_first: int = 0
    ) -> tuple[Extracted, Prepared] | tuple[None, tuple[str, str]]:
        if workers <= 0 or (self._executor is None and self._inline < inline_first):
            self._inline += 1
            return prepare_page(job)
        future = self.executor(workers).submit(prepare_page, job)
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


POOL = PagePool()
