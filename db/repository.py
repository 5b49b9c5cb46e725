"""The repository: every query of clusterwatch lives here (no SQL elsewhere)."""

from __future__ import annotations

import enum
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    cast,
    column,
    delete,
    event,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, defer, sessionmaker
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.util import ClauseAdapter

from db.engine import session_factory
from db.models import (
    FAILED,
    STORED,
    AlternateLink,
    Article,
    CrawlRun,
    FurnitureLine,
    FurniturePages,
    LshBand,
    StoreLock,
    Story,
    UTCDateTime,
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
    listing_date: datetime | None = None
    link_text: str | None = None
    rules_version: str | None = None
    crawl_run_id: int | None = None
    duplicate_of: int | None = None
    story_id: int | None = None
    title_key: str | None = None
    relevance_score: float | None = None
    relevance_terms: list[str] = field(default_factory=list)
    bands: list[int] = field(default_factory=list)  # LSH band hashes (not a column)


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
    listing_date: datetime | None = None
    link_text: str | None = None
    rules_version: str | None = None
    crawl_run_id: int | None = None


@dataclass(frozen=True)
class StoryCandidate:
    """A stored article that may be the same announcement as a new one."""

    article_id: int
    story_id: int
    title: str
    text: str
    language: str | None
    content_hash: str
    linked: bool = False  # an hreflang translation of the new article, either way


StoryDecider = Callable[[Sequence[StoryCandidate]], tuple[int | None, str]]


@dataclass(frozen=True)
class StoreEntry:
    """One article of a batch (``Repository.add_articles``): the row, its grouping rule and
    the page's text lines for the source's template lines."""

    record: ArticleRecord
    decide: StoryDecider | None = None
    line_hashes: Sequence[str] = ()


def same_hash_or_link(
    content_hash: str, candidates: Sequence[StoryCandidate]
) -> tuple[int | None, str]:
    """The minimal rule: the same text, or an hreflang translation, is the same story."""
    for candidate in candidates:
        if candidate.content_hash == content_hash:
            return candidate.story_id, "hash"
    for candidate in candidates:
        if candidate.linked:
            return candidate.story_id, "hreflang"
    return None, ""


@dataclass(frozen=True)
class ClassificationRow:
    article_id: int
    source: str
    title: str
    text: str
    relevance: str
    score: float | None
    topics: list[str]


@dataclass(frozen=True)
class Classification:
    article_id: int
    relevance: str
    score: float
    terms: list[str]
    topics: list[str]


@dataclass
class FeedStory:
    story: Story
    lead: Article
    others: list[Article]  # the other places it appeared


KEYWORD_BATCH = 500
# What a feed, the archive and the status page never read of an article: its raw page and
# fingerprint (most of a row's bytes) stay on disk.
NARROW = (defer(Article.raw_html), defer(Article.minhash), defer(Article.raw_headers))


@dataclass(frozen=True)
class SourceOverview:
    """What the status page and health read of one source, fetched for every source at
    once (:meth:`Repository.source_overviews`)."""

    runs: list[CrawlRun]  # the newest runs, newest first
    judged: CrawlRun | None  # the newest finished run not ended for an excluded reason
    items_since: int  # published articles first seen since the given moment
    last_new_at: datetime | None  # when its newest published article was first seen


@dataclass(frozen=True)
class StoryKey:
    """A story's identity and what changes its feed entry."""

    id: int
    lead_article_id: int | None
    updated_at: datetime | None
    topics: tuple[str, ...]
    order_at: datetime | None = None  # with ``id``, the story's place in a feed


@dataclass(frozen=True)
class Terms:
    """All of ``all``, at least one of ``any`` (when given), none of ``none``."""

    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.all or self.any or self.none)

    def conditions(self, has: Callable[[str], Any]) -> list[Any]:
        found = [has(term) for term in self.all]
        if self.any:
            found.append(or_(*[has(term) for term in self.any]))
        found += [~has(term) for term in self.none]
        return found

    def matches_text(self, text: str) -> bool:
        """Keywords: each a case-insensitive substring, so "wasserstoff" also matches
        "Wasserstoffnetz" (German compounds)."""
        folded = text.casefold()

        def has(word: str) -> bool:
            return word.casefold() in folded

        return (
            all(has(w) for w in self.all)
            and (not self.any or any(has(w) for w in self.any))
            and not any(has(w) for w in self.none)
        )


@dataclass(frozen=True)
class StoryQuery:
    """Which published stories a feed holds: every topic group must hold (topics,
    programmes, regions as topic keys), the sources are those of the story's members,
    keywords are matched in the lead's title and text, ``min_score`` is the story's best
    relevance score."""

    topics: tuple[Terms, ...] = ()
    sources: Terms = Terms()
    keywords: Terms = Terms()
    min_score: float | None = None

    @classmethod
    def of(cls, source: str | None, topic: str | None, query: StoryQuery | None) -> StoryQuery:
        """``query`` narrowed to a source's stories and a topic key."""
        query = query or cls()
        if topic:
            query = replace(query, topics=(*query.topics, Terms(all=(topic,))))
        if source:
            sources = query.sources
            query = replace(query, sources=replace(sources, all=(*sources.all, source)))
        return query

    def conditions(self) -> list[Any]:
        found: list[Any] = []
        for group in self.topics:
            found += group.conditions(_has_topic)
        found += self.sources.conditions(_has_member_from)
        if self.min_score is not None:
            found.append(Story.relevance_score >= self.min_score)
        return found


ARCHIVE_COUNT_CAP = 1000
# More stories changed since an archive's build than this: it is read whole again.
CHANGED_STORIES_LOOKED_AT = 1000


@dataclass
class ArchivePage:
    stories: list[FeedStory]
    total: int  # matching stories on all pages, at most ARCHIVE_COUNT_CAP
    capped: bool = False  # more than ARCHIVE_COUNT_CAP match
    more: bool = False  # an older page exists


_SEARCH_WORD = re.compile(r"\w+", re.UNICODE)


# SQLite: a story's FTS5 row is keyed by its archive order — the second of ``order_at``
# in the high bits, the story id in the low 31 (migration 0010) — so the full-text table
# read by rowid DESC yields matches newest first and a page stops after the rows it needs.
# The key orders by the second only: stories of one second are sorted in Python.
SEARCH_KEY = "CAST(strftime('%s', stories.order_at) AS INTEGER) * 2147483648 + stories.id"
_KEY_ID_BITS = 31
_KEY_ID_MASK = (1 << _KEY_ID_BITS) - 1
_STORY_SEARCH = table("story_search", column("rowid", BigInteger))
_SEARCH_ROWID: Any = _STORY_SEARCH.c.rowid


def _fts_phrases(words: Sequence[str]) -> str | None:
    """An FTS5 query holding every word (as a phrase: the trigram tokenizer needs three
    characters or more per searched string); None when no word can be searched."""
    phrases = ['"' + w.replace('"', '""') + '"' for w in words if len(w) >= 3]
    return " AND ".join(phrases) if phrases else None


def _fts_story_ids(match: str, name: str) -> Any:
    """The story ids whose full-text entry matches (for ``Story.id.in_``)."""
    ids = text(
        f"SELECT rowid & {_KEY_ID_MASK} AS story_id FROM story_search "
        f"WHERE story_search MATCH :{name}"
    )
    return ids.bindparams(**{name: match}).columns(story_id=Integer)


def _search_condition(search: str) -> Any | None:
    """PostgreSQL: stories matching every word of ``search``; None when there is no word."""
    words = _SEARCH_WORD.findall(search)
    if not words:
        return None
    # Each word: German stemming with a prefix match (the tsvector), or — three letters or
    # more — anywhere in the text (pg_trgm), so a compound's later part ("strategie" in
    # „Bioökonomiestrategie“) is found as on SQLite.
    vector: Any = literal_column("stories.search_vector")
    plain: Any = literal_column("stories.search_text")
    found = []
    for word in words:
        stem: Any = vector.op("@@")(func.to_tsquery("german", f"{word}:*"))
        if len(word) >= 3:
            stem = or_(stem, plain.ilike(f"%{word.replace('_', chr(92) + '_')}%"))
        found.append(stem)
    return and_(*found)


def _sqlite_search_page(
    s: Session, match: str, conditions: list[Any], offset: int, count: int
) -> tuple[list[int], int]:
    """Ids of ``count`` matching stories from ``offset`` in archive order, and the number
    matching up to the cap + 1. The full-text table is read by rowid (the archive order
    key) DESC and joined to its story by primary key, so the page stops after
    ``offset + count`` matches and the count after the cap: no sort of every match."""
    joined = (
        select(Story.id, Story.order_at, _SEARCH_ROWID)
        .select_from(_STORY_SEARCH)
        .join(Story, Story.id == _SEARCH_ROWID.op("&")(_KEY_ID_MASK))
        .where(literal_column("story_search").op("MATCH")(match), *conditions)
    )
    rows = list(s.execute(joined.order_by(_SEARCH_ROWID.desc()).limit(offset + count)))
    if len(rows) == offset + count:
        # The rest of the last row's second, which the key orders by id alone.
        last = int(rows[-1][2])
        second = (last >> _KEY_ID_BITS) << _KEY_ID_BITS
        rows += s.execute(joined.where(_SEARCH_ROWID.between(second, last - 1)))
    rows.sort(key=lambda row: (row[1], row[0]), reverse=True)
    capped = joined.limit(ARCHIVE_COUNT_CAP + 1).subquery()
    total = int(s.scalar(select(func.count()).select_from(capped)) or 0)
    return [int(row[0]) for row in rows[offset : offset + count]], total


# PostgreSQL has no index that yields full-text matches in archive order (a GIN index
# answers with every match, a bitmap of 95 k rows for a common word), so the newest
# published stories are read through the order index and checked one by one: first
# ARCHIVE_PROBE of them; when the matches there promise to fill the page or the capped
# count within ARCHIVE_WALK stories, that many; what the walk leaves open (a rare word's
# page, a sparse count) goes to the GIN indexes, which are cheap exactly then.
ARCHIVE_PROBE = 500
ARCHIVE_WALK = 5000


def _pg_search_page(
    s: Session, conditions: list[Any], offset: int, count: int
) -> tuple[list[int], int]:
    """As :func:`_sqlite_search_page`, on PostgreSQL (see ARCHIVE_WALK)."""
    need = offset + count
    target = max(need, ARCHIVE_COUNT_CAP + 1)

    def walk(window: int) -> list[int]:
        # A subquery named like the table, so the conditions (and the search columns, which
        # the ORM model does not map) read its columns; its LIMIT bounds the rows read, as
        # the planner cannot push the outer filter below it.
        newest = (
            select(
                *Story.__table__.c, literal_column("search_vector"), literal_column("search_text")
            )
            .where(Story.published.is_(True))
            .order_by(Story.order_at.desc(), Story.id.desc())
            .limit(window)
            .subquery("stories")
        )
        adapt = ClauseAdapter(newest).traverse
        return list(
            s.scalars(
                select(newest.c.id)
                .where(*[adapt(c) for c in conditions])
                .order_by(newest.c.order_at.desc(), newest.c.id.desc())
                .limit(target)
            )
        )

    published = select(Story.id).where(Story.published.is_(True)).limit(ARCHIVE_WALK + 1)
    stories = int(s.scalar(select(func.count()).select_from(published.subquery())) or 0)
    walked, window = walk(ARCHIVE_PROBE), ARCHIVE_PROBE
    promised = len(walked) * ARCHIVE_WALK // ARCHIVE_PROBE
    if stories > ARCHIVE_PROBE and (
        (len(walked) < need <= promised) or (len(walked) <= ARCHIVE_COUNT_CAP < promised)
    ):
        walked, window = walk(ARCHIVE_WALK), ARCHIVE_WALK
    every = stories <= window  # the walk read every published story
    if every or len(walked) >= need:
        ids = walked[offset:need]
    else:
        # Materialized: the planner must not walk the order index for a rare word.
        matching = (
            select(Story.id, Story.order_at)
            .where(*conditions)
            .cte("matching")
            .prefix_with("MATERIALIZED")
        )
        ids = list(
            s.scalars(
                select(matching.c.id)
                .order_by(matching.c.order_at.desc(), matching.c.id.desc())
                .offset(offset)
                .limit(count)
            )
        )
    if every or len(walked) > ARCHIVE_COUNT_CAP:
        return ids, len(walked)
    capped = select(Story.id).where(*conditions).limit(ARCHIVE_COUNT_CAP + 1).subquery()
    return ids, int(s.scalar(select(func.count()).select_from(capped)) or 0)


def _keyword_conditions(s: Session, keywords: Terms) -> list[Any]:
    """The keywords' ``all`` and ``any`` terms as conditions on the full-text index of the
    lead (title, text), so a keyword feed reads only stories that can match: SQLite's FTS5
    trigram table (case-insensitive substrings), PostgreSQL ``ILIKE`` on the lead's plain
    text under its pg_trgm index. Terms under three letters cannot be looked up there and
    are left to :meth:`Terms.matches_text`, which still checks every story read."""
    sqlite = s.get_bind().dialect.name == "sqlite"
    counter = iter(range(1_000_000))

    def has(term: str) -> Any:
        if sqlite:
            phrase = '"' + term.replace('"', '""') + '"'
            return Story.id.in_(_fts_story_ids(phrase, f"kw{next(counter)}"))
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return literal_column("stories.search_text").ilike(f"%{escaped}%")

    def searchable(term: str) -> bool:
        return len(term.strip()) >= 3

    found = [has(term) for term in keywords.all if searchable(term)]
    if keywords.any and all(searchable(term) for term in keywords.any):
        found.append(or_(*[has(term) for term in keywords.any]))
    return found


_PENDING_SEARCH = "clusterwatch.story_search"


def _index_story(s: Session, story_id: int, title: str | None, body: str | None) -> None:
    """Keep the story's full-text entry in step with its lead (None: remove it). On SQLite
    the entries of a transaction are written at its commit, in key order: FTS5 flushes its
    pending index whenever a rowid is not above the last one written."""
    if s.get_bind().dialect.name == "sqlite":
        s.info.setdefault(_PENDING_SEARCH, {})[story_id] = (title, body)
        return
    s.execute(
        text(
            "UPDATE stories SET search_vector = "
            "setweight(to_tsvector('german', :title), 'A') || "
            "setweight(to_tsvector('german', :body), 'B'), "
            "search_text = CASE WHEN :present THEN :title || ' ' || :body END WHERE id = :id"
        ),
        {
            "id": story_id,
            "title": title or "",
            "body": body or "",
            "present": title is not None or body is not None,
        },
    )


def _write_search_entries(s: Session) -> None:
    """The transaction's pending full-text entries (SQLite): old entries deleted and new
    ones inserted, each in ascending key order."""
    pending: dict[int, tuple[str | None, str | None]] = s.info.pop(_PENDING_SEARCH, {})
    if not pending:
        return
    s.flush()  # the stories' order_at as decided: the key is computed from the row
    ids = sorted(pending)
    known: Any = select(literal_column("search_key", BigInteger)).select_from(Story)
    old: list[int] = sorted(
        int(key) for key in s.scalars(known.where(Story.id.in_(ids))) if key is not None
    )
    if old:
        s.execute(text("DELETE FROM story_search WHERE rowid = :key"), [{"key": k} for k in old])
    present = [i for i in ids if pending[i] != (None, None)]
    s.execute(
        text("UPDATE stories SET search_key = NULL WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        ),
        {"ids": ids},
    )
    if not present:
        return
    keys = s.execute(
        text(f"UPDATE stories SET search_key = {SEARCH_KEY} WHERE id IN :ids "
             "RETURNING id, search_key").bindparams(bindparam("ids", expanding=True)),
        {"ids": present},
    ).all()  # fmt: skip
    rows = []
    for story_id, key in sorted(keys, key=lambda row: row[1]):
        title, body = pending[story_id]
        rows.append({"key": key, "title": title or "", "body": body or ""})
    s.execute(
        text("INSERT INTO story_search(rowid, title, body) VALUES (:key, :title, :body)"), rows
    )


@event.listens_for(Session, "before_commit")
def _before_commit(s: Session) -> None:
    if s.info.get(_PENDING_SEARCH):
        _write_search_entries(s)


@event.listens_for(Session, "after_rollback")
def _after_rollback(s: Session) -> None:
    s.info.pop(_PENDING_SEARCH, None)


@lru_cache(maxsize=8)
def _candidates_query(bands: int, postgres: bool) -> Any:
    """Every way a stored article can be a candidate for a new one, in one statement (one
    round trip, which on PostgreSQL is most of a lookup's time): hreflang links either
    way, the same content hash or title key, and sharing MIN_SHARED_BANDS LSH bands —
    one (band, hash) primary-key probe per band. Written once per band count and
    dialect: building the 64-way match as an expression per new article cost ten times
    the query. PostgreSQL probes from a VALUES list (a 64-way OR is planned as 64 bitmap
    scans, three times slower); SQLite would scan for the VALUES form, so it gets the OR,
    which it runs as one index probe per term."""
    shared = ""
    if bands and postgres:
        values = ", ".join(f"({i}, CAST(:h{i} AS BIGINT))" for i in range(bands))
        shared = (
            "UNION SELECT l.article_id FROM lsh_bands l "
            f"JOIN (VALUES {values}) AS q(band, hash) ON l.band = q.band AND l.hash = q.hash "
            f"GROUP BY l.article_id HAVING count(*) >= {MIN_SHARED_BANDS}"
        )
    elif bands:
        match = " OR ".join(f"(band = {i} AND hash = :h{i})" for i in range(bands))
        shared = (
            f"UNION SELECT article_id FROM lsh_bands WHERE {match} "
            f"GROUP BY article_id HAVING count(*) >= {MIN_SHARED_BANDS}"
        )
    return (
        text(
            "WITH linked(id) AS ("
            f"SELECT id FROM articles WHERE canonical_url IN :alternates AND state = '{STORED}' "
            "UNION SELECT article_id FROM alternate_links WHERE url = :url) "
            "SELECT a.id, a.story_id, a.title, a.text, a.language, a.content_hash, "
            "a.id IN (SELECT id FROM linked) AS linked FROM articles a "
            f"WHERE a.state = '{STORED}' AND a.story_id IS NOT NULL AND a.id IN ("
            "SELECT id FROM linked "
            f"UNION SELECT id FROM articles WHERE content_hash = :content_hash "
            f"AND state = '{STORED}' "
            f"UNION SELECT id FROM articles WHERE title_key = :title_key AND state = '{STORED}' "
            f"{shared}) ORDER BY a.id"
        )
        .bindparams(bindparam("alternates", expanding=True, type_=String))
        .columns(id=Integer, story_id=Integer, linked=Boolean)
    )


def _set_feed_order(s: Session, story_id: int, order: datetime | None) -> None:
    """The story's feed order on its stored members (NULL on the rest, and on all of them
    while the story is unpublished): what a source's feed reads from its index. Core
    statements on the table (the ORM's bulk-update bookkeeping cost more than the update)."""
    articles = _table(Article)
    members = update(articles).where(articles.c.story_id == story_id)
    if order is None:
        s.execute(members.values(feed_order=None))
        return
    s.execute(members.where(articles.c.state == STORED).values(feed_order=order))
    s.execute(
        members.where(articles.c.state != STORED, articles.c.feed_order.is_not(None)).values(
            feed_order=None
        )
    )


class _PerDialect(FunctionElement[bool]):
    """Its first expression on SQLite, its second on PostgreSQL."""

    type = Boolean()
    inherit_cache = True
    name = "per_dialect"


@compiles(_PerDialect)
def _first_expression(element: _PerDialect, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses.clauses[0], **kw))


@compiles(_PerDialect, "postgresql")
def _second_expression(element: _PerDialect, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses.clauses[1], **kw))


def _has_topic(topic: str) -> Any:
    """SQLite: the JSON list as text holds the quoted key. PostgreSQL: JSONB containment,
    under the GIN index ix_stories_topics (migration 0010) — a topic filter reads the
    stories holding the topic, not every story until the page is full."""
    return _PerDialect(
        cast(Story.topics, String).contains(json.dumps(topic), autoescape=True),
        cast(Story.topics, postgresql.JSONB).contains([topic]),
    )


def _has_member_from(source: str) -> Any:
    return (
        select(Article.id)
        .where(Article.story_id == Story.id, Article.source == source, Article.state == STORED)
        .exists()
    )


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
                "listing_date": page.listing_date,
                "link_text": page.link_text,
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

    # -- classification ---------------------------------------------------------------

    def classification_rows(self, source: str | None = None) -> list[ClassificationRow]:
        """What relevance and topics are decided from, for every stored article."""
        with self.session() as s:
            stmt = select(
                Article.id,
                Article.source,
                Article.title,
                Article.text,
                Article.relevance,
                Article.relevance_score,
                Article.topics,
            ).where(Article.state == STORED)
            if source:
                stmt = stmt.where(Article.source == source)
            return [
                ClassificationRow(i, src, t, x, r, sc, list(tp or []))
                for i, src, t, x, r, sc, tp in s.execute(stmt.order_by(Article.id))
            ]

    def apply_classification(
        self, changes: Sequence[Classification], source_order: Sequence[str] = ()
    ) -> tuple[int, int]:
        """Store new relevance and topics; re-decide the stories they belong to. Returns
        (stories published, stories withdrawn) — the next feed build shows the change."""
        published = withdrawn = 0
        with self.session() as s, s.begin():
            _lock(s)
            touched: set[int] = set()
            for change in changes:
                article = s.get(Article, change.article_id)
                if article is None:
                    continue
                article.relevance = change.relevance
                article.relevance_score = change.score
                article.relevance_terms = change.terms
                article.topics = change.topics
                if article.story_id is not None:
                    touched.add(article.story_id)
            s.flush()
            for story_id in sorted(touched):
                story = s.get(Story, story_id)
                assert story is not None
                was = story.published
                self._refresh_story(s, story_id, source_order)
                published += int(story.published and not was)
                withdrawn += int(was and not story.published)
        return published, withdrawn

    # -- template lines -----------------------------------------------------------------

    def count_lines(self, source: str, line_hashes: Iterable[str]) -> None:
        """Count one more page of ``source`` with these text lines (each line once)."""
        with self.session() as s, s.begin():
            _count_lines(s, [(source, line_hashes)])

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

    def add_article(
        self,
        record: ArticleRecord,
        decide: StoryDecider | None = None,
        source_order: Sequence[str] = (),
    ) -> tuple[AddResult, int | None]:
        """Store an article and decide its story, in one transaction under the store lock.

        Returns the result and the stored row's id. ``decide`` (the grouping rule, see
        scraper/stories.py) is asked with the candidates the database holds — same content
        hash, hreflang links either way, shared LSH bands, same title — while the lock is
        held, so two crawls storing copies of one announcement at the same moment end up in
        one story. Without ``decide`` only same-hash and hreflang copies join a story.
        """
        with self.session() as s, s.begin():
            _lock(s)
            return self._add(s, record, decide, source_order)

    def add_articles(
        self, batch: Sequence[StoreEntry], source_order: Sequence[str] = ()
    ) -> list[tuple[AddResult, int | None]]:
        """Store a batch of articles in one transaction under the store lock: each as
        ``add_article`` would, in order (a later one sees the earlier ones as candidates),
        and count the template lines of each one that was not known already. All or
        nothing: a failed batch stores none of its articles, so none counts as known."""
        results = []
        with self.session() as s, s.begin():
            _lock(s)
            counted = []
            for entry in batch:
                result = self._add(s, entry.record, entry.decide, source_order)
                if result[0] is not AddResult.KNOWN and entry.line_hashes:
                    counted.append((entry.record.source, entry.line_hashes))
                results.append(result)
            _count_lines(s, counted)
        return results

    def _add(
        self,
        s: Session,
        record: ArticleRecord,
        decide: StoryDecider | None,
        source_order: Sequence[str],
    ) -> tuple[AddResult, int | None]:
        # A page remembered as failed that now extracted becomes a stored article.
        orphaned = _forget_failure(s, record.canonical_url)
        existing = s.scalar(select(Article.id).where(Article.canonical_url == record.canonical_url))
        if existing is not None:
            return AddResult.KNOWN, existing
        candidates = self._candidates(s, record)
        if decide is None:
            story_id, _why = same_hash_or_link(record.content_hash, candidates)
        else:
            story_id, _why = decide(candidates)
        if story_id is None and orphaned is not None:
            story_id = orphaned  # back into the story it was remembered in (its GUID)
        first_member = None
        if story_id is not None:
            first_member = s.scalar(
                select(func.min(Article.id)).where(
                    Article.story_id == story_id, Article.state == STORED
                )
            )
        values = _values(record)
        values["duplicate_of"] = first_member
        if story_id is None:
            story = Story(order_at=record.published_at or values["first_seen_at"], topics=[])
            s.add(story)
            s.flush()
            story_id = story.id
        values["story_id"] = story_id
        row_id = s.scalar(_insert_ignore(s), values)
        if row_id is None:  # lost a race on the canonical URL (no lock on that backend)
            return AddResult.KNOWN, s.scalar(
                select(Article.id).where(Article.canonical_url == record.canonical_url)
            )
        # Core executemany: 64 band rows per article through the ORM cost more than the
        # rest of the store.
        if record.bands:
            s.execute(
                insert(_table(LshBand)),
                [{"band": i, "hash": h, "article_id": row_id} for i, h in enumerate(record.bands)],
            )
        if record.alternates:
            s.execute(
                insert(_table(AlternateLink)),
                [{"url": u, "article_id": row_id} for u in sorted(set(record.alternates))],
            )
        self._refresh_story(s, story_id, source_order)
        if orphaned is not None and orphaned != story_id:
            self._refresh_story(s, orphaned, source_order)
        return (AddResult.DUPLICATE if first_member else AddResult.NEW), row_id

    def stored_pages(
        self, source: str | None = None, since: datetime | None = None
    ) -> list[Article]:
        """Articles (stored and failed) with their raw page kept: what re-extraction reads.
        ``since``: first seen at or after."""
        with self.session() as s:
            stmt = select(Article).where(
                Article.raw_html.is_not(None), Article.state.in_((STORED, FAILED))
            )
            if source:
                stmt = stmt.where(Article.source == source)
            if since is not None:
                stmt = stmt.where(Article.first_seen_at >= since)
            return list(s.scalars(stmt.order_by(Article.id)))

    def replace_article(
        self,
        record: ArticleRecord,
        decide: StoryDecider | None = None,
        source_order: Sequence[str] = (),
    ) -> bool:
        """Re-extraction of a stored article: its content replaced in place (same row, first
        seen, canonical URL; its story keeps its GUID). The story is decided again, as for a
        new article, under the store lock; a published story whose lead changed is marked
        updated. Returns whether anything changed (nothing is written otherwise)."""
        with self.session() as s, s.begin():
            _lock(s)
            row = s.scalar(
                select(Article).where(
                    Article.canonical_url == record.canonical_url, Article.state == STORED
                )
            )
            if row is None:
                raise KeyError(f"no stored article {record.canonical_url}")
            values = {k: v for k, v in _values(record).items() if k in REEXTRACTED}
            if all(getattr(row, k) == v for k, v in values.items() if k != "rules_version"):
                return False
            for key, value in values.items():
                setattr(row, key, value)
            s.execute(delete(LshBand).where(LshBand.article_id == row.id))
            s.execute(delete(AlternateLink).where(AlternateLink.article_id == row.id))
            s.add_all(
                LshBand(band=i, hash=h, article_id=row.id) for i, h in enumerate(record.bands)
            )
            s.add_all(
                AlternateLink(url=u, article_id=row.id) for u in sorted(set(record.alternates))
            )
            s.flush()
            old_story = row.story_id
            candidates = [c for c in self._candidates(s, record) if c.article_id != row.id]
            if decide is None:
                story_id, _why = same_hash_or_link(record.content_hash, candidates)
            else:
                story_id, _why = decide(candidates)
            if story_id is not None and story_id != old_story:
                row.story_id = story_id
                row.duplicate_of = s.scalar(
                    select(func.min(Article.id)).where(
                        Article.story_id == story_id, Article.state == STORED
                    )
                )
                s.flush()
            assert row.story_id is not None
            self._refresh_story(s, row.story_id, source_order)
            if old_story is not None and old_story != row.story_id:
                self._refresh_story(s, old_story, source_order)
            story = s.get(Story, row.story_id)
            if story is not None and story.guid and story.lead_article_id == row.id:
                story.updated_at = utcnow()  # the published entry's text or date changed
                _touch(s, story)
            return True

    def story_candidates(self, record: ArticleRecord) -> list[StoryCandidate]:
        """The stored articles a new ``record`` would be decided against (benchmarks,
        diagnostics): index lookups only, nothing loaded per crawl."""
        with self.session() as s:
            return self._candidates(s, record)

    def _candidates(self, s: Session, record: ArticleRecord) -> list[StoryCandidate]:
        """Stored articles that may be the same announcement as ``record``."""
        postgres = s.get_bind().dialect.name == "postgresql"
        params: dict[str, Any] = {f"h{i}": h for i, h in enumerate(record.bands)}
        params.update(
            alternates=list(record.alternates),
            url=record.canonical_url,
            content_hash=record.content_hash,
            title_key=record.title_key or None,  # no title key: no match by title
        )
        rows = s.execute(_candidates_query(len(record.bands), postgres), params)
        return [
            StoryCandidate(i, int(story), t, x, lang, h, bool(linked))
            for i, story, t, x, lang, h, linked in rows
        ]

    def _refresh_story(self, s: Session, story_id: int, source_order: Sequence[str]) -> None:
        """Lead, publication, order and topics of a story after a member changed.

        Lead rule: among the copies from the earliest date, the most complete text; ties by
        the configured source order, then the first stored. A story is published when any
        member is relevant; its GUID is the lead's canonical URL at first publication and
        never changes; a change to a published story's lead or members sets ``updated_at``.
        """
        story = s.get(Story, story_id)
        assert story is not None
        _touch(s, story)
        _keep_earliest(story)
        members = list(
            s.scalars(select(Article).where(Article.story_id == story_id, Article.state == STORED))
        )
        if not members:
            story.published = False
            _index_story(s, story_id, None, None)
            _set_feed_order(s, story_id, None)
            return
        rank = {name: i for i, name in enumerate(source_order)}

        def key(a: Article) -> tuple[Any, ...]:
            day = (a.published_at or a.first_seen_at).date()
            return (day, -len(a.text), rank.get(a.source, len(rank)), a.id)

        lead = min(members, key=key)
        published = any(a.relevance == "relevant" for a in members)
        now = utcnow()
        if (
            story.published
            and story.guid
            and (story.lead_article_id != lead.id or len(members) > 1)
        ):
            story.updated_at = now
        story.lead_article_id = lead.id
        story.order_at = lead.published_at or lead.first_seen_at
        _keep_earliest(story)
        scores = [a.relevance_score for a in members if a.relevance_score is not None]
        story.relevance_score = max(scores) if scores else None
        # The lead's topics in its order, then what the other copies add.
        topics: dict[str, None] = {}
        for member in [lead, *members]:
            for topic in member.topics or []:
                topics.setdefault(topic, None)
        story.topics = list(topics)
        story.published = published
        if published and story.guid is None:
            story.guid = lead.canonical_url
            story.first_published_at = now
        _index_story(s, story_id, lead.title, lead.text)
        _set_feed_order(s, story_id, story.order_at if published else None)

    def article(self, canonical_url: str) -> Article | None:
        with self.session() as s:
            return s.scalar(select(Article).where(Article.canonical_url == canonical_url))

    def articles(self, source: str | None = None, state: str = STORED) -> list[Article]:
        with self.session() as s:
            stmt = select(Article).where(Article.state == state).order_by(Article.id)
            if source:
                stmt = stmt.where(Article.source == source)
            return list(s.scalars(stmt))

    def feed_stories(
        self,
        source: str | None,
        limit: int,
        topic: str | None = None,
        query: StoryQuery | None = None,
    ) -> list[FeedStory]:
        """The newest published stories (of a source: those it has a member in; with a topic
        key such as "region:Sachsen"; matching a named feed's ``query``), each with its lead
        version and the other places it appeared."""
        if source and not topic and (query is None or query == StoryQuery()):
            return self._source_feed(source, limit)
        query = StoryQuery.of(source, topic, query)
        with self.session() as s:
            conditions = [*query.conditions(), *_keyword_conditions(s, query.keywords)]
            stmt = select(Story).where(Story.published.is_(True), *conditions)
            stmt = stmt.order_by(Story.order_at.desc(), Story.id.desc())
            result: list[FeedStory] = []
            # Keywords narrow the query through the full-text index; the exact rule (and
            # ``not`` terms, short terms) is checked in Python on what is read: the newest
            # stories in batches until ``limit`` matched.
            batch = limit if not query.keywords else max(limit, KEYWORD_BATCH)
            offset = 0
            while len(result) < limit:
                stories = list(s.scalars(stmt.offset(offset).limit(batch)))
                for found in self._with_members(s, stories):
                    if query.keywords.matches_text(f"{found.lead.title}\n{found.lead.text}"):
                        result.append(found)
                if len(stories) < batch:
                    break
                offset += batch
            return result[:limit]

    def _source_feed(self, source: str, limit: int) -> list[FeedStory]:
        """A source's feed from the top of its feed-order index (``ix_articles_source_feed``):
        the stories it has a stored copy in, newest first — a story with two copies from
        the source is read twice and kept once."""
        ids: dict[int, None] = {}
        stmt = (
            select(Article.story_id)
            .where(Article.source == source, Article.feed_order.is_not(None))
            .order_by(Article.feed_order.desc(), Article.story_id.desc())
        )
        with self.session() as s:
            offset = 0
            while len(ids) < limit:
                batch = limit - len(ids) + 10
                rows = list(s.scalars(stmt.offset(offset).limit(batch)))
                ids.update((int(i), None) for i in rows if i is not None)
                if len(rows) < batch:
                    break
                offset += batch
            wanted = list(ids)[:limit]
            stories = {st.id: st for st in s.scalars(select(Story).where(Story.id.in_(wanted)))}
            return self._with_members(s, [stories[i] for i in wanted if i in stories])

    def feed_story_keys(
        self,
        source: str | None,
        query: StoryQuery | None = None,
        after: tuple[datetime, int] | None = None,
    ) -> list[StoryKey]:
        """Every story a feed holds, oldest first (``after``: only those placed after that
        (order, id)), as the little that decides whether an archive page must be rendered
        again (RFC 5005 archives)."""
        query = StoryQuery.of(source, None, query)
        columns: list[Any] = [
            Story.id,
            Story.lead_article_id,
            Story.updated_at,
            Story.topics,
            Story.order_at,
        ]
        if query.keywords:
            columns += [Article.title, Article.text]
        keys = []
        with self.session() as s:
            conditions = [*query.conditions(), *_keyword_conditions(s, query.keywords)]
            if after is not None:
                conditions += _placed_after(after)
            stmt = select(*columns).where(Story.published.is_(True), *conditions)
            if query.keywords:
                stmt = stmt.join(Article, Article.id == Story.lead_article_id)
            stmt = stmt.order_by(Story.order_at.asc(), Story.id.asc())
            for row in s.execute(stmt).yield_per(1000):
                if query.keywords and not query.keywords.matches_text(f"{row[5]}\n{row[6]}"):
                    continue
                keys.append(StoryKey(row[0], row[1], row[2], tuple(row[3] or ()), row[4]))
        return keys

    def story_revision(self) -> int:
        """The store-wide change counter: the newest story revision (0 before any story)."""
        with self.session() as s:
            return int(s.scalar(select(func.max(Story.revision))) or 0)

    def feed_range_intact(
        self,
        source: str | None,
        query: StoryQuery | None,
        through: tuple[datetime, int],
        since: int,
    ) -> bool:
        """Whether a feed's stories placed up to ``through`` (order, id) — an archive's
        settled pages — are still the ones they were at revision ``since``, unchanged.
        Only the stories changed since are looked at (the revision index): none of them may
        be in the feed up to ``through`` now (changed there, or joined), and none that
        existed at ``since`` may ever have been placed up to there (it may have left: moved
        later, withdrawn, out of the feed's topic or source) — whichever feed it was in.
        A feed with keywords is never reported intact: its rule is applied in Python."""
        query = StoryQuery.of(source, None, query)
        if query.keywords:
            return False
        with self.session() as s:
            # The changed stories by the revision index alone (with the feed's conditions
            # beside it a planner may walk the order index through the whole range instead).
            changed = s.execute(
                select(Story.id, Story.first_revision, Story.earliest_order_at, Story.order_at)
                .where(Story.revision > since)
                # In revision order: the revision index's order, which a planner without
                # statistics of the column (a fresh migration) takes over a full scan.
                .order_by(Story.revision)
                .limit(CHANGED_STORIES_LOOKED_AT + 1)
            ).all()
            if len(changed) > CHANGED_STORIES_LOOKED_AT:
                return False
            for _, first, earliest, order_at in changed:
                if first <= since and (earliest or order_at) <= through[0]:
                    return False  # it may have left the range
            if not changed:
                return True
            placed = tuple_(Story.order_at, Story.id) <= tuple_(*_place(through))
            joined = select(Story.id).where(
                Story.id.in_([row[0] for row in changed]),
                Story.published.is_(True),
                placed,
                *query.conditions(),
            )
            return s.scalar(joined.limit(1)) is None

    def stories_by_id(self, ids: Sequence[int]) -> list[FeedStory]:
        """These stories with their lead and other members, in the order given."""
        found: dict[int, FeedStory] = {}
        with self.session() as s:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                stories = list(s.scalars(select(Story).where(Story.id.in_(chunk))))
                found.update((fs.story.id, fs) for fs in self._with_members(s, stories))
        return [found[i] for i in ids if i in found]

    def archive_stories(
        self,
        query: StoryQuery | None = None,
        search: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> ArchivePage:
        """One page of the archive: published stories newest first, filtered by ``query``
        (topics, sources) and full-text ``search`` over the lead's title and text — SQLite
        FTS5 (trigram: case-insensitive, inside compounds; words under 3 letters ignored)
        or PostgreSQL full-text search with German stemming and prefix matching.

        Counting every match of a broad query at 100 k stories costs more than the page
        itself: the count stops at a cap ("1000+"), and the page reads one row more than
        it shows to know whether an older page exists."""
        query = query or StoryQuery()
        conditions = [Story.published.is_(True), *query.conditions()]
        with self.session() as s:
            words = _SEARCH_WORD.findall(search or "")
            if search and s.get_bind().dialect.name == "sqlite":
                match = _fts_phrases(words)
                if match is None:
                    return ArchivePage([], 0)
                ids, total = _sqlite_search_page(s, match, conditions, offset, limit + 1)
            elif search:
                found = _search_condition(search)
                if found is None:
                    return ArchivePage([], 0)
                ids, total = _pg_search_page(s, [*conditions, found], offset, limit + 1)
            elif len(conditions) > 1 and s.get_bind().dialect.name != "sqlite":
                # Filters alone: the same bounded reads (a rare topic through its index).
                ids, total = _pg_search_page(s, conditions, offset, limit + 1)
            else:
                capped = select(Story.id).where(*conditions).limit(ARCHIVE_COUNT_CAP + 1)
                total = int(s.scalar(select(func.count()).select_from(capped.subquery())) or 0)
                ids = list(
                    s.scalars(
                        select(Story.id)
                        .where(*conditions)
                        .order_by(Story.order_at.desc(), Story.id.desc())
                        .offset(offset)
                        .limit(limit + 1)
                    )
                )
            by_id = {st.id: st for st in s.scalars(select(Story).where(Story.id.in_(ids)))}
            stories = [by_id[i] for i in ids[:limit] if i in by_id]
            return ArchivePage(
                self._with_members(s, stories),
                min(total, ARCHIVE_COUNT_CAP),
                capped=total > ARCHIVE_COUNT_CAP,
                more=len(ids) > limit,
            )

    def reindex_search(self) -> int:
        """Rebuild every story's full-text entry from its lead (after a bulk load, or if the
        index was lost), in one statement; returns the number of stories indexed."""
        with self.session() as s:
            if s.get_bind().dialect.name == "sqlite":
                emptied = s.scalar(text("SELECT EXISTS (SELECT 1 FROM story_search)"))
                s.execute(text("DELETE FROM story_search"))
                s.execute(
                    text(
                        f"UPDATE stories SET search_key = CASE WHEN lead_article_id IS NOT NULL "
                        f"THEN {SEARCH_KEY} END"
                    )
                )
                s.execute(
                    text(
                        # In key order: FTS5 flushes its pending index whenever a rowid
                        # is not above the last one (a segment per row otherwise).
                        "INSERT INTO story_search(rowid, title, body) SELECT s.search_key, "
                        "a.title, a.text FROM stories s "
                        "JOIN articles a ON a.id = s.lead_article_id ORDER BY s.search_key"
                    )
                )
                if emptied:
                    # Merge the segments into one b-tree: the DELETE left tombstones that
                    # every later query would read through.
                    s.execute(text("INSERT INTO story_search(story_search) VALUES ('optimize')"))
            else:
                s.execute(
                    text(
                        "UPDATE stories SET search_vector = "
                        "setweight(to_tsvector('german', coalesce(a.title, '')), 'A') || "
                        "setweight(to_tsvector('german', coalesce(a.text, '')), 'B'), "
                        "search_text = coalesce(a.title, '') || ' ' || coalesce(a.text, '') "
                        "FROM articles a WHERE a.id = stories.lead_article_id"
                    )
                )
            count = s.scalar(select(func.count(Story.id)).where(Story.lead_article_id.is_not(None)))
            s.commit()
        return int(count or 0)

    def published_story(self, story_id: int) -> FeedStory | None:
        """A published story with its lead and other members (the archive's permalink)."""
        with self.session() as s:
            story = s.get(Story, story_id)
            if story is None or not story.published:
                return None
            found = self._with_members(s, [story])
            return found[0] if found else None

    def _with_members(self, s: Session, stories: list[Story]) -> list[FeedStory]:
        if not stories:
            return []
        members: dict[int, list[Article]] = {}
        rows = s.scalars(
            select(Article)
            .options(*NARROW)
            .where(Article.story_id.in_([st.id for st in stories]), Article.state == STORED)
            .order_by(Article.id)
        )
        for article in rows:
            members.setdefault(int(article.story_id or 0), []).append(article)
        result = []
        for story in stories:
            group = members.get(story.id, [])
            lead = next((a for a in group if a.id == story.lead_article_id), None)
            if lead is None:
                continue
            result.append(FeedStory(story, lead, [a for a in group if a.id != lead.id]))
        return result

    def feed_articles(self, source: str | None, limit: int) -> list[Article]:
        """The lead articles of the newest published stories."""
        return [fs.lead for fs in self.feed_stories(source, limit)]

    def story_of(self, canonical_url: str) -> FeedStory | None:
        """The story an article belongs to, with its lead and other members."""
        with self.session() as s:
            story_id = s.scalar(
                select(Article.story_id).where(Article.canonical_url == canonical_url)
            )
            story = s.get(Story, story_id) if story_id is not None else None
            if story is None:
                return None
            group = list(
                s.scalars(
                    select(Article)
                    .where(Article.story_id == story.id, Article.state == STORED)
                    .order_by(Article.id)
                )
            )
            lead = next((a for a in group if a.id == story.lead_article_id), group[0])
            return FeedStory(story, lead, [a for a in group if a.id != lead.id])

    def stories(self) -> list[tuple[Story, list[Article]]]:
        """Every story with its stored members (tests, exports)."""
        with self.session() as s:
            grouped: dict[int, list[Article]] = {}
            for article in s.scalars(
                select(Article).where(Article.state == STORED).order_by(Article.id)
            ):
                grouped.setdefault(int(article.story_id or 0), []).append(article)
            found = s.scalars(select(Story).where(Story.id.in_(list(grouped))).order_by(Story.id))
            return [(story, grouped[story.id]) for story in found]

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

    def source_overviews(
        self, sources: Sequence[str], since: datetime, runs: int, excluding: Sequence[str] = ()
    ) -> dict[str, SourceOverview]:
        """Every source's newest ``runs`` runs, last judged run (finished, not ended for one
        of ``excluding``), published articles since ``since`` and newest one, in one
        session and two statements whatever the number of sources: each figure is the top
        or a range of an index (``ix_crawl_runs_spider_id``,
        ``ix_articles_source_published_seen``), so neither grows with the archive."""
        if not sources:
            return {}
        with self.session() as s:
            newest = [
                select(
                    select(CrawlRun.id)
                    .where(CrawlRun.spider == source)
                    .order_by(CrawlRun.id.desc())
                    .limit(runs)
                    .subquery()
                    .c.id
                )
                for source in sources
            ]
            window = union_all(*newest).subquery()
            grouped: dict[str, list[CrawlRun]] = {source: [] for source in sources}
            found = s.scalars(
                select(CrawlRun)
                .where(CrawlRun.id.in_(select(window.c.id)))
                .order_by(CrawlRun.id.desc())
            )
            for run in found:
                grouped[run.spider].append(run)
            figures: list[Any] = []
            for source in sources:
                figures.append(
                    _published(select(func.count(Article.id)))
                    .where(Article.source == source, Article.first_seen_at >= since)
                    .scalar_subquery()
                )
                figures.append(
                    _published(select(func.max(Article.first_seen_at)))
                    .where(Article.source == source)
                    .scalar_subquery()
                )
            row = s.execute(select(*figures)).one()
            result = {}
            for n, source in enumerate(sources):
                recent = grouped[source]
                judged = next((r for r in recent if _judged(r, excluding)), None)
                if judged is None and len(recent) == runs:  # older than the window
                    judged = s.scalar(
                        select(CrawlRun)
                        .where(CrawlRun.spider == source, *_judged_conditions(excluding))
                        .order_by(CrawlRun.id.desc())
                        .limit(1)
                    )
                result[source] = SourceOverview(
                    recent, judged, int(row[2 * n] or 0), row[2 * n + 1]
                )
            return result

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
        conditions = _judged_conditions(excluding) if finished_only else []
        if excluding and not finished_only:
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


def _judged_conditions(excluding: Sequence[str]) -> list[Any]:
    """A finished run not ended for one of ``excluding`` (SQL: a NULL reason is no match
    of NOT IN either — :func:`_judged` says the same in Python)."""
    conditions: list[Any] = [CrawlRun.finished_at.is_not(None)]
    if excluding:
        conditions.append(CrawlRun.finish_reason.not_in(list(excluding)))
    return conditions


def _judged(run: CrawlRun, excluding: Sequence[str]) -> bool:
    if run.finished_at is None:
        return False
    return not excluding or (run.finish_reason is not None and run.finish_reason not in excluding)


def _published(stmt: Select[Any]) -> Select[Any]:
    """A source's published articles: relevant and stored (a copy of a story counts for the
    source that published it — health judges each source by its own items)."""
    # Literals, not bound parameters: SQLite uses a partial index only for a WHERE clause
    # it can see implies the index's (ix_articles_source_published_seen).
    return stmt.where(
        Article.relevance == literal_column("'relevant'"),
        Article.state == literal_column(f"'{STORED}'"),
    )


def _settled(now: datetime) -> Any:
    return (Article.state == STORED) | (Article.retry_at > now)


def _forget_failure(s: Session, canonical_url: str) -> int | None:
    """Delete a failed row (and what hangs on it); returns the story it was in, if any."""
    row = s.execute(
        select(Article.id, Article.story_id).where(
            Article.canonical_url == canonical_url, Article.state == FAILED
        )
    ).first()
    if row is None:
        return None
    s.execute(delete(LshBand).where(LshBand.article_id == row.id))
    s.execute(delete(AlternateLink).where(AlternateLink.article_id == row.id))
    s.execute(update(Story).where(Story.lead_article_id == row.id).values(lead_article_id=None))
    s.execute(delete(Article).where(Article.id == row.id))
    return int(row.story_id) if row.story_id is not None else None


def _placed_after(key: tuple[datetime, int]) -> list[Any]:
    """Stories placed after ``key`` (order, id): a range on the order column (what an index
    on (published, order_at, id) is read by: PostgreSQL does not read a row comparison so)
    and the tie on it."""
    order, story_id = _place(key)
    return [Story.order_at >= order, or_(Story.order_at > order, Story.id > story_id)]


def _place(key: tuple[datetime, int]) -> tuple[Any, Any]:
    """A feed place (order, story id) as bound values of the columns' own types."""
    return literal(key[0], UTCDateTime()), literal(key[1], Integer())


def _touch(s: Session, story: Story) -> None:
    """Give a changed story the next store-wide revision (migration 0012). Read after a
    flush and under the story lock (every caller holds it), so a later commit never
    carries a lower revision than an earlier one: an archive built at revision R finds
    every change since in ``revision > R``."""
    s.flush()
    story.revision = (s.scalar(select(func.max(Story.revision))) or 0) + 1
    if not story.first_revision:
        story.first_revision = story.revision


def _keep_earliest(story: Story) -> None:
    """The earliest place a story ever had: an archive page it may have been on."""
    if story.order_at is not None and (
        story.earliest_order_at is None or story.order_at < story.earliest_order_at
    ):
        story.earliest_order_at = story.order_at


def _lock(s: Session) -> None:
    """Serialise story decisions: PostgreSQL's transaction-scoped advisory lock; on SQLite a
    write to the lock row as the transaction's first statement (SQLite's write lock)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORY_LOCK_KEY})
        return
    locked = s.execute(
        update(StoreLock).where(StoreLock.name == "stories").values(counter=StoreLock.counter + 1)
    )
    if not getattr(locked, "rowcount", 1):  # a schema made without the migration's row
        s.add(StoreLock(name="stories", counter=1))
        s.flush()


STORY_LOCK_KEY = 0x636C7573  # "clus"
# Near-duplicate candidates share at least this many LSH bands (see scraper/stories.py).
MIN_SHARED_BANDS = 2


# What re-extraction re-makes of a stored article (identity, first sighting, the raw page
# and its crawl run stay).
REEXTRACTED = frozenset(
    {
        "title",
        "text",
        "html",
        "content_hash",
        "relevance",
        "relevance_score",
        "relevance_terms",
        "language",
        "published_at",
        "date_source",
        "title_source",
        "body_source",
        "language_source",
        "topics",
        "alternates",
        "minhash",
        "title_key",
        "rules_version",
    }
)


def _values(record: ArticleRecord) -> dict[str, Any]:
    values = dict(record.__dict__)
    values.pop("bands")
    values["first_seen_at"] = utcnow()
    return values


def _insert_ignore(s: Session) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id for an article's values (given as the
    statement's parameters: one compiled statement for every article)."""
    return _insert_article(s.get_bind().dialect.name)


@lru_cache(maxsize=4)
def _insert_article(dialect: str) -> Any:
    module: Any = {"sqlite": sqlite, "postgresql": postgresql}.get(dialect)
    if module is None:
        raise NotImplementedError(f"unsupported database backend {dialect!r}")
    table = _table(Article)
    return module.insert(table).on_conflict_do_nothing().returning(table.c.id)


def _count_lines(s: Session, pages: Iterable[tuple[str, Iterable[str]]]) -> None:
    """Count pages (``(source, line hashes)``, each line once a page) into the template-line
    tables: one upsert per table adding each key's count, whatever the number of pages."""
    page_counts: Counter[str] = Counter()
    line_counts: Counter[tuple[str, str]] = Counter()
    for source, line_hashes in pages:
        page_counts[source] += 1
        line_counts.update((source, h) for h in set(line_hashes))
    if page_counts:
        rows = [{"source": k, "pages": n} for k, n in sorted(page_counts.items())]
        s.execute(_upsert_add(s, FurniturePages), rows)
    keys = sorted(line_counts)
    for start in range(0, len(keys), 5000):
        rows = [
            {"source": source, "line_hash": h, "pages": line_counts[(source, h)]}
            for source, h in keys[start : start + 5000]
        ]
        s.execute(_upsert_add(s, FurnitureLine), rows)


def _upsert_add(s: Session, model: Any) -> Any:
    """INSERT … ON CONFLICT DO UPDATE SET pages = pages + the inserted count (executemany:
    one compiled statement for any number of rows)."""
    dialect = s.get_bind().dialect.name
    module: Any = sqlite if dialect == "sqlite" else postgresql
    if dialect not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"unsupported database backend {dialect!r}")
    stmt = module.insert(model)
    keys = [c.name for c in model.__table__.primary_key.columns]
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={"pages": model.pages + stmt.excluded.pages}
    )


def _table(model: Any) -> Table:
    """A model's table, for Core statements (no ORM bookkeeping per row)."""
    table: Table = model.__table__
    return table
