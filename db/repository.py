"""The repository: every query of clusterwatch lives here (no SQL elsewhere)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, and_, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from db.engine import session_factory
from db.models import (
    FAILED,
    STORED,
    Article,
    CrawlRun,
    FurnitureLine,
    FurniturePages,
    utcnow,
)


class AddResult(enum.Enum):
    NEW = "new"
    KNOWN = "known"  # canonical URL already stored: nothing written
    DUPLICATE = "duplicate"  # stored, pointing at the original (same/near text, translation)


@dataclass
class ArticleRecord:
    canonical_url: str
    source: str
    url: str
    title: str
    text: str
    html: str
    content_hash: str
    relevance: str
    language: str | None = None
    published_at: datetime | None = None
    date_source: str | None = None
    title_source: str | None = None
    body_source: str | None = None
    language_source: str | None = None
    topics: list[str] = field(default_factory=list)
    alternates: list[str] = field(default_factory=list)
    minhash: bytes | None = None
    raw_html: bytes | None = None
    raw_encoding: str | None = None
    raw_headers: dict[str, str] = field(default_factory=dict)
    feed_date: datetime | None = None
    rules_version: str | None = None
    crawl_run_id: int | None = None
    duplicate_of: int | None = None


@dataclass
class FailedPage:
    """A page whose fetch or extraction failed: remembered, not published, retried later."""

    canonical_url: str
    source: str
    url: str
    reason: str
    raw_html: bytes | None = None  # zlib-compressed body, when one arrived
    raw_encoding: str | None = None
    raw_headers: dict[str, str] = field(default_factory=dict)
    feed_date: datetime | None = None
    rules_version: str | None = None
    crawl_run_id: int | None = None


@dataclass(frozen=True)
class FailureOutcome:
    attempts: int
    retry_at: datetime | None  # None: the page is stored (a failure never downgrades it)


class Repository:
    def __init__(self, url_or_factory: str | sessionmaker[Session]):
        self._sessions = (
            session_factory(url_or_factory) if isinstance(url_or_factory, str) else url_or_factory
        )

    def session(self) -> Session:
        return self._sessions()

    def ping(self) -> None:
        """Raise unless the database answers a query on our schema (for /healthz)."""
        with self.session() as s:
            s.execute(select(Article.id).limit(1)).first()

    # -- articles ---------------------------------------------------------------------

    def is_known(self, canonical_url: str, now: datetime | None = None) -> bool:
        """Not to be fetched now: stored, or failed and awaiting its retry time."""
        with self.session() as s:
            stmt = select(Article.id).where(
                Article.canonical_url == canonical_url, _settled(now or utcnow())
            )
            return s.execute(stmt.limit(1)).first() is not None

    def known_among(self, canonical_urls: Iterable[str]) -> set[str]:
        """Which of these URLs are remembered at all (stored or failed): a listing page of
        only such links ends pagination; failed ones are retried from the store itself."""
        urls = list(set(canonical_urls))
        if not urls:
            return set()
        with self.session() as s:
            found: set[str] = set()
            for start in range(0, len(urls), 500):
                chunk = urls[start : start + 500]
                stmt = select(Article.canonical_url).where(Article.canonical_url.in_(chunk))
                found.update(s.scalars(stmt))
            return found

    # -- failure memory ---------------------------------------------------------------

    def record_failure(self, page: FailedPage, backoff: Sequence[timedelta]) -> FailureOutcome:
        """Remember a failed page; the n-th consecutive failure waits ``backoff[n-1]`` (the
        last step repeats). A stored article is never turned into a failure."""
        now = utcnow()
        with self.session() as s, s.begin():
            row = s.scalar(
                select(Article).where(Article.canonical_url == page.canonical_url).with_for_update()
            )
            if row is not None and row.state == STORED:
                return FailureOutcome(row.attempts, None)
            attempts = (row.attempts if row is not None else 0) + 1
            retry_at = now + backoff[min(attempts, len(backoff)) - 1]
            values: dict[str, Any] = {
                "source": page.source,
                "url": page.url,
                "fail_reason": page.reason[:2000],
                "attempts": attempts,
                "retry_at": retry_at,
                "crawl_run_id": page.crawl_run_id,
                "rules_version": page.rules_version,
                "feed_date": page.feed_date,
            }
            if page.raw_html is not None:  # keep the last body that arrived
                values.update(
                    raw_html=page.raw_html,
                    raw_encoding=page.raw_encoding,
                    raw_headers=page.raw_headers,
                )
            if row is None:
                s.add(
                    Article(
                        canonical_url=page.canonical_url,
                        title="",
                        text="",
                        html="",
                        content_hash="",
                        relevance="unknown",
                        topics=[],
                        alternates=[],
                        first_seen_at=now,
                        state=FAILED,
                        raw_headers=values.pop("raw_headers", {}),
                        **values,
                    )
                )
            else:
                for name, value in values.items():
                    setattr(row, name, value)
            return FailureOutcome(attempts, retry_at)

    def failures(
        self, source: str | None = None, due_before: datetime | None = None
    ) -> list[Article]:
        """Failed pages (of a source; only those due by ``due_before`` when given)."""
        with self.session() as s:
            stmt = select(Article).where(Article.state == FAILED).order_by(Article.id)
            if source:
                stmt = stmt.where(Article.source == source)
            if due_before is not None:
                stmt = stmt.where(Article.retry_at <= due_before)
            return list(s.scalars(stmt))

    def stale_failures(self, source: str, rules_version: str) -> list[Article]:
        """Failed pages with a stored body, extracted under other rules than today's."""
        with self.session() as s:
            stmt = select(Article).where(
                Article.state == FAILED,
                Article.source == source,
                Article.raw_html.is_not(None),
                (Article.rules_version.is_(None)) | (Article.rules_version != rules_version),
            )
            return list(s.scalars(stmt.order_by(Article.id)))

    def mark_rules_version(self, canonical_url: str, rules_version: str, reason: str) -> None:
        """A failed page re-extracted under today's rules and failing still: note it, so it
        waits for its back-off instead of being re-extracted at every crawl start."""
        with self.session() as s, s.begin():
            row = s.scalar(
                select(Article).where(
                    Article.canonical_url == canonical_url, Article.state == FAILED
                )
            )
            if row is not None:
                row.rules_version = rules_version
                row.fail_reason = f"extraction failed: {reason}"[:2000]

    # -- template lines -----------------------------------------------------------------

    def count_lines(self, source: str, line_hashes: Iterable[str]) -> None:
        """Count one more page of ``source`` with these text lines (each line once)."""
        hashes = sorted(set(line_hashes))
        with self.session() as s, s.begin():
            s.execute(_upsert_increment(s, FurniturePages, {"source": source}, "pages"))
            for start in range(0, len(hashes), 500):
                rows = [{"source": source, "line_hash": h} for h in hashes[start : start + 500]]
                if rows:
                    s.execute(_upsert_increment(s, FurnitureLine, rows, "pages"))

    def frequent_lines(self, source: str, min_pages: int, min_share: float) -> tuple[set[str], int]:
        """Line hashes seen on ≥ ``min_pages`` and ≥ ``min_share`` of the source's pages,
        and the number of pages counted."""
        with self.session() as s:
            pages = int(
                s.scalar(select(FurniturePages.pages).where(FurniturePages.source == source)) or 0
            )
            floor = max(min_pages, min_share * pages)
            stmt = select(FurnitureLine.line_hash).where(
                FurnitureLine.source == source, FurnitureLine.pages >= floor
            )
            return set(s.scalars(stmt)), pages

    def signatures(self) -> list[tuple[int, str, bytes]]:
        """(id, source, minhash) of every original, for near-duplicate detection."""
        with self.session() as s:
            stmt = select(Article.id, Article.source, Article.minhash).where(
                Article.duplicate_of.is_(None),
                Article.minhash.is_not(None),
                Article.state == STORED,
            )
            return [(i, src, mh) for i, src, mh in s.execute(stmt) if mh is not None]

    def add_article(self, record: ArticleRecord) -> tuple[AddResult, int | None]:
        """Store an article idempotently; returns the result and the stored row's id.

        Safe under concurrent crawls: the unique canonical URL and the unique content hash of
        originals decide, not a read-then-write race.
        """
        with self.session() as s, s.begin():
            # A page remembered as failed that now extracted becomes a stored article.
            s.execute(
                delete(Article).where(
                    Article.canonical_url == record.canonical_url, Article.state == FAILED
                )
            )
            if record.duplicate_of is None:
                record.duplicate_of = self._original_of_alternates(s, record.alternates)
            values = _values(record)
            inserted = cast("CursorResult[Any]", s.execute(_insert_ignore(s, values))).rowcount
            if inserted:
                row_id = s.scalar(
                    select(Article.id).where(Article.canonical_url == record.canonical_url)
                )
                return (AddResult.DUPLICATE if record.duplicate_of else AddResult.NEW), row_id
            existing = s.scalar(
                select(Article.id).where(Article.canonical_url == record.canonical_url)
            )
            if existing is not None:
                return AddResult.KNOWN, existing
            original = s.scalar(
                select(Article.id).where(
                    Article.content_hash == record.content_hash,
                    Article.duplicate_of.is_(None),
                    Article.state == STORED,
                )
            )
            values["duplicate_of"] = original
            s.execute(_insert_ignore(s, values))
            row_id = s.scalar(
                select(Article.id).where(Article.canonical_url == record.canonical_url)
            )
            return AddResult.DUPLICATE, row_id

    def _original_of_alternates(self, s: Session, alternates: Sequence[str]) -> int | None:
        if not alternates:
            return None
        stmt = select(Article.id, Article.duplicate_of).where(
            Article.canonical_url.in_(list(alternates)), Article.state == STORED
        )
        for row_id, duplicate_of in s.execute(stmt):
            return int(duplicate_of or row_id)
        return None

    def article(self, canonical_url: str) -> Article | None:
        with self.session() as s:
            return s.scalar(select(Article).where(Article.canonical_url == canonical_url))

    def articles(self, source: str | None = None, state: str = STORED) -> list[Article]:
        with self.session() as s:
            stmt = select(Article).where(Article.state == state).order_by(Article.id)
            if source:
                stmt = stmt.where(Article.source == source)
            return list(s.scalars(stmt))

    def feed_articles(self, source: str | None, limit: int) -> list[Article]:
        """Newest published originals that are relevant: what a feed shows."""
        with self.session() as s:
            stmt = _published(select(Article))
            if source:
                stmt = stmt.where(Article.source == source)
            order = func.coalesce(Article.published_at, Article.first_seen_at)
            stmt = stmt.order_by(order.desc(), Article.id.desc()).limit(limit)
            return list(s.scalars(stmt))

    def count_articles(self, source: str | None = None, since: datetime | None = None) -> int:
        with self.session() as s:
            stmt = _published(select(func.count(Article.id)))
            if source:
                stmt = stmt.where(Article.source == source)
            if since:
                stmt = stmt.where(Article.first_seen_at >= since)
            return int(s.scalar(stmt) or 0)

    def last_new_article_at(self, source: str) -> datetime | None:
        with self.session() as s:
            stmt = _published(select(func.max(Article.first_seen_at))).where(
                Article.source == source
            )
            return s.scalar(stmt)

    # -- crawl runs -------------------------------------------------------------------

    def start_run(self, spider: str, trigger: str, log_path: str | None, pid: int | None) -> int:
        with self.session() as s, s.begin():
            run = CrawlRun(
                spider=spider, trigger=trigger, log_path=log_path, pid=pid, started_at=utcnow()
            )
            s.add(run)
            s.flush()
            return run.id

    def update_run(self, run_id: int, **fields: Any) -> None:
        with self.session() as s, s.begin():
            run = s.get(CrawlRun, run_id)
            if run is None:
                raise KeyError(f"no crawl run {run_id}")
            for name, value in fields.items():
                setattr(run, name, value)

    def finish_run(self, run_id: int, **fields: Any) -> None:
        fields.setdefault("finished_at", utcnow())
        self.update_run(run_id, **fields)

    def run(self, run_id: int) -> CrawlRun | None:
        with self.session() as s:
            return s.get(CrawlRun, run_id)

    def runs(
        self, spider: str | None = None, failed: bool = False, limit: int = 20
    ) -> list[CrawlRun]:
        with self.session() as s:
            stmt = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)
            if spider:
                stmt = stmt.where(CrawlRun.spider == spider)
            if failed:
                stmt = stmt.where(
                    (CrawlRun.finish_reason.is_(None))
                    | (CrawlRun.finish_reason != "finished")
                    | (CrawlRun.errors > 0)
                )
            return list(s.scalars(stmt))

    def last_run(
        self, spider: str, finished_only: bool = False, excluding: Sequence[str] = ()
    ) -> CrawlRun | None:
        """The newest run; only finished ones, and not those ended for one of ``excluding``."""
        conditions = []
        if finished_only:
            conditions.append(CrawlRun.finished_at.is_not(None))
        if excluding:
            conditions.append(CrawlRun.finish_reason.not_in(list(excluding)))
        return self._latest_run(spider, *conditions)

    def last_successful_run(self, spider: str) -> CrawlRun | None:
        return self._latest_run(spider, CrawlRun.finish_reason == "finished")

    def _latest_run(self, spider: str, *conditions: Any) -> CrawlRun | None:
        with self.session() as s:
            stmt = select(CrawlRun).where(CrawlRun.spider == spider, *conditions)
            return s.scalar(stmt.order_by(CrawlRun.id.desc()).limit(1))

    def earlier_runs_had_links(self, spider: str, before_run_id: int, minimum: int = 1) -> bool:
        """Did a successful run before ``before_run_id`` discover ``minimum`` article links?

        Health uses it to tell "this source lost its links" from "this source never has any".
        """
        with self.session() as s:
            stmt = (
                select(CrawlRun.id)
                .where(
                    CrawlRun.spider == spider,
                    CrawlRun.id < before_run_id,
                    CrawlRun.finish_reason == "finished",
                    CrawlRun.article_links >= max(minimum, 1),
                )
                .limit(1)
            )
            return s.execute(stmt).first() is not None

    def run_of_process(self, spider: str, pid: int, started_after: datetime) -> CrawlRun | None:
        """The run a crawl process recorded (pids are reused, so only runs since its launch)."""
        with self.session() as s:
            stmt = (
                select(CrawlRun)
                .where(
                    CrawlRun.spider == spider,
                    CrawlRun.pid == pid,
                    CrawlRun.started_at >= started_after,
                )
                .order_by(CrawlRun.id.desc())
                .limit(1)
            )
            return s.scalar(stmt)

    def unfinished_runs(self, spider: str | None = None) -> list[CrawlRun]:
        with self.session() as s:
            stmt = select(CrawlRun).where(CrawlRun.finished_at.is_(None))
            if spider:
                stmt = stmt.where(CrawlRun.spider == spider)
            return list(s.scalars(stmt))


def _published(stmt: Select[Any]) -> Select[Any]:
    return stmt.where(
        and_(
            Article.relevance == "relevant",
            Article.duplicate_of.is_(None),
            Article.state == STORED,
        )
    )


def _settled(now: datetime) -> Any:
    return (Article.state == STORED) | (Article.retry_at > now)


def _upsert_increment(
    s: Session, model: Any, rows: dict[str, Any] | list[dict[str, Any]], column: str
) -> Any:
    """INSERT … ON CONFLICT DO UPDATE SET column = column + 1 (new rows start at 1)."""
    batch = rows if isinstance(rows, list) else [rows]
    values = [{**row, column: 1} for row in batch]
    dialect = s.get_bind().dialect.name
    module: Any = sqlite if dialect == "sqlite" else postgresql
    if dialect not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"unsupported database backend {dialect!r}")
    stmt = module.insert(model).values(values)
    keys = [c.name for c in model.__table__.primary_key.columns]
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={column: getattr(model, column) + 1}
    )


def _values(record: ArticleRecord) -> dict[str, Any]:
    values = dict(record.__dict__)
    values["first_seen_at"] = utcnow()
    return values


def _insert_ignore(s: Session, values: dict[str, Any]) -> Any:
    dialect = s.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(Article).values(**values).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql.insert(Article).values(**values).on_conflict_do_nothing()
    raise NotImplementedError(f"unsupported database backend {dialect!r}")
