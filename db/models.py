"""Typed SQLAlchemy 2.0 models. Schema changes go through an Alembic migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


STORED = "stored"
FAILED = "failed"
ORIGINAL_STORED = "duplicate_of IS NULL AND state = 'stored'"
PUBLISHED_ARTICLE = "relevance = 'relevant' AND state = 'stored'"
IN_A_FEED = "feed_order IS NOT NULL"


class Base(DeclarativeBase):
    pass


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Provenance: the extraction layer each field came from (declared, meta, trafilatura …).
    date_source: Mapped[str | None] = mapped_column(String(16))
    title_source: Mapped[str | None] = mapped_column(String(16))
    body_source: Mapped[str | None] = mapped_column(String(16))
    language_source: Mapped[str | None] = mapped_column(String(16))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    relevance: Mapped[str] = mapped_column(String(16))  # "relevant" | "irrelevant"
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    alternates: Mapped[list[str]] = mapped_column(JSON, default=list)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The page inputs extraction needs, for re-extraction: the body (zlib-compressed), the
    # encoding it was decoded with, its headers, the dates and words the feed and the
    # listing gave the link.
    raw_html: Mapped[bytes | None] = mapped_column(LargeBinary)
    raw_encoding: Mapped[str | None] = mapped_column(String(32))
    raw_headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    feed_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    listing_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The words the listing or feed gave the link: a page without them is not the article.
    link_text: Mapped[str | None] = mapped_column(String(300))
    rules_version: Mapped[str | None] = mapped_column(String(16))
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    # The story (one announcement, wherever it appeared) this article belongs to.
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)
    title_key: Mapped[str | None] = mapped_column(String(255), index=True)
    # A source's feed order: the story's order key while the story is published and this
    # copy stored, else NULL (kept by the story refresh) — a source's feed is the top of
    # one index, with no scan of the stories it has no copy in.
    feed_order: Mapped[datetime | None] = mapped_column(UTCDateTime)
    relevance_score: Mapped[float | None] = mapped_column(Float)
    relevance_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Failure memory: a page whose fetch or extraction failed is kept as "failed" (never
    # published, never refetched before ``retry_at``) and retried with a back-off.
    state: Mapped[str] = mapped_column(String(16), default=STORED, server_default=STORED)
    fail_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (
        # One original per text: a second URL with the same text must be recorded as a
        # duplicate, even when two crawls insert at once.
        Index(
            "uq_articles_content_hash_original",
            "content_hash",
            unique=True,
            sqlite_where=sql_text(ORIGINAL_STORED),
            postgresql_where=sql_text(ORIGINAL_STORED),
        ),
        Index("ix_articles_source_state", "source", "state"),
        Index(
            "ix_articles_source_feed",
            "source",
            "feed_order",
            "story_id",
            sqlite_where=sql_text(IN_A_FEED),
            postgresql_where=sql_text(IN_A_FEED),
        ),
        # The status page's per-source figures (new in 7 days, last new item): a range of
        # one index, however large the archive.
        Index(
            "ix_articles_source_published_seen",
            "source",
            "first_seen_at",
            sqlite_where=sql_text(PUBLISHED_ARTICLE),
            postgresql_where=sql_text(PUBLISHED_ARTICLE),
        ),
    )


class Story(Base):
    """One announcement, however many sources published it. Published when any member is
    relevant; its GUID is fixed when it is first published and never changes."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", use_alter=True, name="fk_stories_lead_article")
    )
    published: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    guid: Mapped[str | None] = mapped_column(String(2048), unique=True)
    first_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a later copy or a re-extraction changed a published entry.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The feed's order: the lead's date, else when it was first seen.
    order_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    relevance_score: Mapped[float | None] = mapped_column(Float)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Published stories newest first (feeds, archive): filter and order from one index.
    __table_args__ = (Index("ix_stories_published_order", "published", "order_at", "id"),)


class LshBand(Base):
    """One LSH band of an article's MinHash: near-duplicate candidates by index lookup."""

    __tablename__ = "lsh_bands"

    band: Mapped[int] = mapped_column(Integer)
    hash: Mapped[int] = mapped_column(BigInteger)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))

    __table_args__ = (
        # The bigint first: PostgreSQL packs the key in 16 bytes, unpadded (migration
        # 0011; SQLite, whose records have no padding, keeps band, hash, article_id).
        PrimaryKeyConstraint("hash", "band", "article_id", name="lsh_bands_pkey"),
        # An article's bands are replaced on re-extraction and dropped with a failed row:
        # by article, not by a scan of 64 rows per stored article.
        Index("ix_lsh_bands_article_id", "article_id"),
    )


class AlternateLink(Base):
    """An hreflang link between two articles (by canonical URL), in either direction."""

    __tablename__ = "alternate_links"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)


class StoreLock(Base):
    """The row the story transaction writes first: SQLite's write lock (what BEGIN
    IMMEDIATE takes), so two crawls cannot both start a story for one announcement."""

    __tablename__ = "store_lock"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spider: Mapped[str] = mapped_column(String(64), index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # manual | scheduled | startup | cli
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finish_reason: Mapped[str | None] = mapped_column(String(64))
    requests: Mapped[int] = mapped_column(Integer, default=0)
    responses_by_status: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    items_new: Mapped[int] = mapped_column(Integer, default=0)
    items_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    items_irrelevant: Mapped[int] = mapped_column(Integer, default=0)
    items_skipped: Mapped[int] = mapped_column(Integer, default=0)
    items_failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    article_links: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    log_path: Mapped[str | None] = mapped_column(String(1024))
    pid: Mapped[int | None] = mapped_column(Integer)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # How the run was started and where: "local" (a process of the service's machine, found
    # by pid) or "scrapyd" (a job on the worker at ``worker``, found by ``job_id``).
    launcher: Mapped[str | None] = mapped_column(String(16))
    worker: Mapped[str | None] = mapped_column(String(255))
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)

    # A source's newest runs (status page, health) without sorting all of its runs.
    __table_args__ = (Index("ix_crawl_runs_spider_id", "spider", "id"),)


class CrawlLock(Base):
    """A claim on a source or a domain while a crawl of it runs, taken before dispatch.

    The primary key makes the database the arbiter between schedulers and workers: of two
    claims on one key only one insert succeeds. A claim left by a crashed service expires.
    """

    __tablename__ = "crawl_locks"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # source:X | domain:host
    holder: Mapped[str] = mapped_column(String(64), index=True)  # the job id
    # The process that took it (``host|pid|identity`` of the scheduling service): a restart
    # on that host frees the claims of its dead predecessor at once instead of after expiry.
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HttpCacheEntry(Base):
    """A cached entry-point response (feed, listing, sitemap) for conditional GET.

    Kept in the store so a recrawl on any worker revalidates (If-None-Match /
    If-Modified-Since) and gets a 304. The whole response is kept, not only its validators:
    on a 304 Scrapy's RFC2616 policy answers the spider with the cached body.
    """

    __tablename__ = "http_cache"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    spider: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[bytes] = mapped_column(LargeBinary)  # raw header block
    body: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FurnitureLine(Base):
    """On how many of a source's pages a text line was seen (template-line detection)."""

    __tablename__ = "furniture_lines"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    line_hash: Mapped[str] = mapped_column(String(16), primary_key=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)


class FurniturePages(Base):
    """How many pages of a source were counted into ``furniture_lines``."""

    __tablename__ = "furniture_pages"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)
