"""The store at scale: feed build, status page, feed GET and the near-duplicate lookup at
10 k / 100 k (and, with ``--full``, 1 M) stored articles, on SQLite and PostgreSQL.

Rows are generated (seeded, so every run builds the same data) and bulk-inserted into a
fresh database made by the migrations: four sources of uneven size (40/40/15/5 %), 10 % of
articles a copy of an earlier story from another source, 75 % relevant, realistic widths
(1.5 kB text, 1.8 kB HTML, a 2 kB compressed raw page, a 1 kB MinHash, 64 LSH bands per
article), one crawl run per 100 articles. Then, as a user would:

* **feed build**: ``write_feed`` of each feed's top 100 (query, render RSS/Atom/JSON,
  gzip, write) — the first build and a rebuild with nothing new; the RFC 5005 archive's
  steady-state cost (every story key of the feed read) at 10 k / 100 k;
* **status page** ``GET /`` and **feed** ``GET /feeds/all.xml`` (gzip) over real HTTP on
  127.0.0.1 (the service's own server in a thread), median of repeated requests;
* **near-duplicate lookup**: in a fresh process (what a crawl is), the candidates of a
  new article (no copy stored) and of a copy of a stored one, and a whole store
  transaction (``add_article`` with the crawl's grouping rule); time per article and the
  process's extra memory (RSS) over 500 lookups, with its start-up time; the lookups
  first as the fresh copy left the band index (first touch), then with the index read
  into the OS cache (the steady state of a service whose memory holds it).

Targets (issue 11): at 1 M stored, top-100 feed build ≤ 100 ms per feed, ``GET /`` ≤ 100 ms,
``GET /feeds/all.xml`` ≤ 5 ms, lookup ≤ 5 ms and ≤ 50 MB extra.

    .venv/bin/python bench/bench_store.py [--quick|--full] [--json PATH]
        [--sizes N …] [--backends sqlite postgresql] [--pg-url SERVER_URL]
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bench.dbcache import cached_postgres, cached_sqlite, drop, postgres  # noqa: E402
from bench.report import Report, arguments  # noqa: E402
from db.engine import create_db_engine  # noqa: E402
from db.models import Article, CrawlRun, Story  # noqa: E402
from db.repository import ArticleRecord, Repository, StoryKey  # noqa: E402

SOURCES = [("clusterplattform", 40), ("openpr", 40), ("bmwe", 15), ("clib", 5)]
WORDS = [
    "Cluster",
    "Netzwerk",
    "Förderung",
    "Wasserstoff",
    "Bioökonomie",
    "Mittelstand",
    "Forschung",
    "Hochschule",
    "Partner",
    "Innovation",
    "Zukunft",
    "Digitalisierung",
    "Künstliche",
    "Intelligenz",
    "Produktion",
    "Energie",
    "Mobilität",
    "Gesundheit",
    "Medizintechnik",
    "Logistik",
    "Hafen",
    "Leichtbau",
    "Werkstoffe",
    "Photonik",
    "Quantentechnologie",
    "Batterie",
    "Kreislaufwirtschaft",
    "Fachkräfte",
    "Weiterbildung",
    "Gründung",
    "Reallabor",
    "Projekt",
    "Verbund",
    "Region",
    "Strategie",
    "Wettbewerb",
    "Preis",
    "Konferenz",
]
TOPICS = ["region:Sachsen", "region:Bayern", "field:Energie", "field:IKT", "programme:go-cluster"]
POOL = 2000  # distinct texts; each article adds its own sentence
BANDS = 64
FEED_TARGET_MS = 100
STATUS_TARGET_MS = 100
GET_TARGET_MS = 5
LOOKUP_TARGET_MS = 5
LOOKUP_MEMORY_MB = 50
START = datetime(2016, 1, 1, tzinfo=UTC)
# The full-text index is rebuilt after the load up to this size; no measured path reads it
# (the bench's feeds have no keywords), and at 1 M it would take longer than the rest.
SEARCH_INDEX_UP_TO = 100_000
# Quick mode (make bench): 10 k on both backends, 100 k on SQLite (cached); --full: all.
QUICK_SIZES = {"sqlite": [10_000, 100_000], "postgresql": [10_000]}
FULL_SIZES = [10_000, 100_000, 1_000_000]


def texts(rng: random.Random) -> list[tuple[str, str]]:
    pool = []
    for _ in range(POOL):
        words = rng.choices(WORDS, k=190)
        pool.append((" ".join(words[:8]), " ".join(words)))
    return pool


def generate(count: int, seed: int = 11) -> Iterator[tuple[list[dict], list[dict], list[tuple]]]:
    """Stories, articles and LSH band rows, in batches of 5,000 articles."""
    rng = random.Random(seed)
    pool = texts(rng)
    weights = [w for _, w in SOURCES]
    names = [n for n, _ in SOURCES]
    raw = zlib.compress(rng.randbytes(1000) * 2 + b"<html>" * 50)[:2048]
    leads: list[tuple[int, str, bool, datetime]] = []  # story id, source, published, order
    bands_of: dict[int, list[int]] = {}
    story_id = 0
    for first in range(0, count, 5000):
        stories, articles, bands = [], [], []
        for n in range(first, min(count, first + 5000)):
            article_id = n + 1
            source = rng.choices(names, weights)[0]
            seen = START + timedelta(minutes=5 * n)
            published_at = seen - timedelta(hours=rng.randint(0, 72))
            title, body = pool[n % POOL]
            copy_of = None
            if leads and rng.random() < 0.1:
                candidate = leads[rng.randrange(max(0, len(leads) - 500), len(leads))]
                if candidate[1] != source:
                    copy_of = candidate
            relevant = copy_of[2] if copy_of else rng.random() < 0.75
            if copy_of is None:
                story_id += 1
                own = story_id
                stories.append(
                    {
                        "id": own,
                        "lead_article_id": article_id,
                        "published": relevant,
                        "guid": f"https://{source}.example/{n}" if relevant else None,
                        "first_published_at": seen if relevant else None,
                        "order_at": published_at,
                        "relevance_score": rng.uniform(0, 20),
                        "topics": rng.sample(TOPICS, 2),
                        "created_at": seen,
                    }
                )
                leads.append((own, source, relevant, published_at))
                order = published_at
                band_values = [rng.getrandbits(63) for _ in range(BANDS)]
                bands_of[own] = band_values
                if len(bands_of) > 1000:
                    bands_of.pop(next(iter(bands_of)))
            else:
                own, order = copy_of[0], copy_of[3]
                band_values = list(bands_of.get(own) or [rng.getrandbits(63)] * BANDS)
                band_values[rng.randrange(BANDS)] = rng.getrandbits(63)
            articles.append(
                {
                    "id": article_id,
                    "canonical_url": f"https://{source}.example/news/{n}",
                    "source": source,
                    "url": f"https://{source}.example/news/{n}",
                    "title": f"{title} {n}",
                    "text": f"{body} Meldung {n}.",
                    "html": f"<p>{body} Meldung {n}.</p>" + "<p>…</p>" * 30,
                    "language": "de",
                    "published_at": published_at,
                    "first_seen_at": seen,
                    "content_hash": f"{n:064x}",
                    "relevance": "relevant" if relevant else "irrelevant",
                    "relevance_score": rng.uniform(0, 20),
                    "topics": [],
                    "alternates": [],
                    "relevance_terms": [],
                    "raw_headers": {},
                    "duplicate_of": None,
                    "minhash": rng.randbytes(1024),
                    "raw_html": raw,
                    "raw_encoding": "utf-8",
                    "story_id": own,
                    "feed_order": order if relevant else None,
                    "title_key": f"{title} {n}".lower()[:255],
                    "state": "stored",
                    "attempts": 0,
                }
            )
            bands += [(i, h, article_id) for i, h in enumerate(band_values)]
        yield stories, articles, bands


GENERATOR_VERSION = 2  # bump when generate() or load() changes what a database holds
LOADED_TABLES = ("articles", "stories", "lsh_bands")


def _secondary_indexes(conn: Any, postgres: bool) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the loaded tables' indexes that are no constraint:
    dropped for the bulk load and built once after it, which is much cheaper than
    maintaining them row by row."""
    tables = ", ".join(f"'{t}'" for t in LOADED_TABLES)
    if postgres:
        sql = (
            f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ({tables}) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        )
    else:
        sql = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            f"AND tbl_name IN ({tables}) AND sql IS NOT NULL"
        )
    return [(str(name), str(create)) for name, create in conn.exec_driver_sql(sql)]


def _band_constraints(conn: Any) -> list[tuple[str, str]]:
    """PostgreSQL: the band table's primary and foreign key, re-added after the load (a
    primary key over random hashes is the slowest index to keep while inserting)."""
    rows = conn.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'lsh_bands'::regclass AND contype IN ('p', 'f') ORDER BY contype DESC"
    )
    return [(str(name), str(definition)) for name, definition in rows]


def cache_name(count: int) -> str:
    """What a generated database depends on: its size and the generator (bench/dbcache.py
    brings a cached one to the newest migration, so a new migration keeps the cache)."""
    return f"{count}-g{GENERATOR_VERSION}"


def load(url: str, count: int) -> float:
    """Bulk-load ``count`` articles (and their stories, bands, crawl runs) into a freshly
    migrated database: one transaction, secondary indexes built after the rows, bands by
    COPY (PostgreSQL) or sorted in from a staging table (SQLite); seconds."""
    began = time.perf_counter()
    engine = create_db_engine(url)
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        if postgres:
            conn.exec_driver_sql("SET synchronous_commit = off")
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            with contextlib.suppress(Exception), conn.begin_nested():
                # Foreign keys unchecked while loading (needs a superuser: the throwaway
                # server's); the generator writes consistent rows.
                conn.exec_driver_sql("SET session_replication_role = replica")
        else:  # a throwaway file: no journal, no syncs, a large page cache
            conn.exec_driver_sql("PRAGMA journal_mode=OFF")
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
        indexes = _secondary_indexes(conn, postgres)
        constraints = _band_constraints(conn) if postgres else []
        for name, _ in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        for name, _ in constraints:
            conn.exec_driver_sql(f"ALTER TABLE lsh_bands DROP CONSTRAINT {name}")
        if not postgres:
            conn.exec_driver_sql(
                "CREATE TABLE lsh_stage (band INTEGER, hash INTEGER, article_id INTEGER)"
            )
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for stories, articles, bands in generate(count):
            if stories:
                conn.execute(insert(Story), stories)
            conn.execute(insert(Article), articles)
            cursor: Any = raw.cursor()
            if postgres:
                with cursor.copy("COPY lsh_bands (band, hash, article_id) FROM STDIN") as copy:
                    for row in bands:
                        copy.write_row(row)
            else:
                cursor.executemany("INSERT INTO lsh_stage VALUES (?, ?, ?)", bands)
        if not postgres:  # appended in key order: no random B-tree inserts
            conn.exec_driver_sql(
                "INSERT INTO lsh_bands (band, hash, article_id) "
                "SELECT band, hash, article_id FROM lsh_stage ORDER BY band, hash, article_id"
            )
            conn.exec_driver_sql("DROP TABLE lsh_stage")
        for name, definition in constraints:
            conn.exec_driver_sql(f"ALTER TABLE lsh_bands ADD CONSTRAINT {name} {definition}")
        for _, create in indexes:
            conn.exec_driver_sql(create)
        conn.execute(insert(CrawlRun), crawl_runs(count))
        if postgres:
            conn.execute(text("SELECT setval('stories_id_seq', (SELECT max(id) FROM stories))"))
            conn.execute(text("SELECT setval('articles_id_seq', (SELECT max(id) FROM articles))"))
        conn.commit()
        if not postgres:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    if count <= SEARCH_INDEX_UP_TO:
        Repository(url).reindex_search()
    # A settled database, as a service's is after a while: statistics, and on PostgreSQL
    # the visibility map (index-only scans) — autovacuum would otherwise be busy with the
    # fresh rows during the measurements.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    return time.perf_counter() - began


def crawl_runs(count: int) -> list[dict[str, Any]]:
    """One crawl run per 100 articles (at least 40), round-robin over the sources."""
    runs = []
    for n in range(max(count // 100, 40)):
        source = SOURCES[n % len(SOURCES)][0]
        started = START + timedelta(hours=n)
        runs.append(
            {
                "spider": source,
                "trigger": "scheduled",
                "started_at": started,
                "finished_at": started + timedelta(seconds=40),
                "finish_reason": "finished",
                "requests": 120,
                "responses_by_status": {"200": 118, "304": 2},
                "items_new": 25,
                "article_links": 100,
                "stats": {},
            }
        )
    return runs


def median_ms(run: Callable[[], object], rounds: int) -> float:
    return median_wall_cpu(run, rounds)[0]


def median_wall_cpu(run: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median wall and CPU (this process) milliseconds of ``run``: CPU time stays close
    to the quiet-machine figure when other work shares the cores."""
    times = [wall_cpu(run) for _ in range(rounds)]
    return (
        statistics.median(t for t, _ in times),
        statistics.median(c for _, c in times),
    )


def wall_cpu(run: Callable[[], object]) -> tuple[float, float]:
    began, cpu = time.perf_counter(), time.process_time()
    run()
    return (time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000


def measure_feeds(report: Report, label: str, url: str, data_dir: Path, size: int) -> None:
    from monitor.feeds import feed_specs, write_archives, write_feed
    from monitor.sources import list_sources
    from scraper.config import Config

    config = Config(data_dir=data_dir, database_url=url, feed_base_url="https://feeds.example")
    repository = Repository(url)
    sources = list_sources(config)
    labels = {s.name: s.label for s in sources}
    target = config.feeds_dir
    target.mkdir(parents=True, exist_ok=True)
    specs = feed_specs(sources, config)

    def rebuild(spec: Any) -> Callable[[], object]:
        return lambda: write_feed(config, repository, spec, labels, target)

    first_both = [wall_cpu(rebuild(spec)) for spec in specs]
    first = [t for t, _ in first_both]
    again_both = [median_wall_cpu(rebuild(spec), 3) for spec in specs]
    again = [t for t, _ in again_both]
    # A changed feed: one new story at its top (stored as a crawl stores it), then the
    # feeds it is in ('all' and its source's) built again; three rounds, one per source.
    changed = []
    for n, (source, _) in enumerate(SOURCES[1:]):
        record = ArticleRecord(
            canonical_url=f"https://{source}.example/bench-new/{n}",
            source=source,
            url=f"https://{source}.example/bench-new/{n}",
            title=f"Neue Meldung {n}",
            text=f"Ein neuer Verbund startet. Meldung {n}.",
            html=f"<p>Ein neuer Verbund startet. Meldung {n}.</p>",
            content_hash=f"bench-new-{n}",
            relevance="relevant",
            language="de",
            published_at=datetime.now(UTC),
            title_key=f"neue meldung {n}",
        )
        repository.add_article(record, lambda candidates: (None, "new"))
        for spec in specs:
            if spec.source in (None, source):
                began, cpu = time.perf_counter(), time.process_time()
                assert write_feed(config, repository, spec, labels, target), spec.name
                wall = (time.perf_counter() - began) * 1000
                changed.append((wall, (time.process_time() - cpu) * 1000, spec.name))
    worst = max(range(len(specs)), key=lambda i: again[i])
    report.add(
        f"{label}: top-100 feed build, first, slowest of {len(specs)} feeds",
        round(max(first), 1),
        "ms",
        ratio=round(max(first) / FEED_TARGET_MS, 2),
        note=f"ratio to the {FEED_TARGET_MS} ms target; all (ms): "
        + ", ".join(f"{t:.0f}" for t in first)
        + f"; CPU of the slowest: {first_both[first.index(max(first))][1]:.0f} ms",
    )
    report.add(
        f"{label}: top-100 feed build, unchanged rebuild, slowest ({specs[worst].name})",
        round(again[worst], 1),
        "ms",
        ratio=round(again[worst] / FEED_TARGET_MS, 2),
        note=f"median of 3; ratio to the {FEED_TARGET_MS} ms target; CPU"
        f" {again_both[worst][1]:.1f} ms (query, signature; nothing rendered or written)",
    )
    slowest, slowest_cpu, name = max(changed)
    report.add(
        f"{label}: top-100 feed build, one new story, slowest ({name})",
        round(slowest, 1),
        "ms",
        ratio=round(slowest / FEED_TARGET_MS, 2),
        note=f"{len(changed)} builds; ratio to the {FEED_TARGET_MS} ms target; median"
        f" {statistics.median(t for t, _, _ in changed):.0f} ms; CPU of the slowest"
        f" {slowest_cpu:.0f} ms, median {statistics.median(c for _, c, _ in changed):.0f} ms",
    )
    if size <= 10_000:  # the first build renders every page: minutes at 100 k
        spec = specs[0]
        began = time.perf_counter()
        pages, _ = write_archives(config, repository, spec, labels, target)
        first_archive = time.perf_counter() - began
        steady = median_ms(lambda: write_archives(config, repository, spec, labels, target), 3)
        report.add(
            f"{label}: RFC 5005 archive of 'all', unchanged rebuild",
            round(steady, 1),
            "ms",
            note=f"{pages} pages, first build {first_archive:.1f} s; reads every story key",
        )
    # The service's own server over real HTTP.
    from monitor.server import BackgroundServer

    write_feed(config, repository, specs[0], labels, target)
    with BackgroundServer(config, host="127.0.0.1", port=0) as server:
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)

        def get(path: str, headers: dict[str, str]) -> bytes:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200, (path, response.status, body[:200])
            return body

        get("/", {})
        # CPU: this process's, which holds the client and the server's threads (not the
        # PostgreSQL server's).
        status, status_cpu = median_wall_cpu(lambda: get("/", {"Accept-Encoding": "gzip"}), 5)
        get("/feeds/all.xml", {"Accept-Encoding": "gzip"})
        feed_gzip, feed_cpu = median_wall_cpu(
            lambda: get("/feeds/all.xml", {"Accept-Encoding": "gzip"}), 50
        )
        feed_plain = median_ms(lambda: get("/feeds/all.xml", {}), 50)
        connection.close()
    report.add(
        f"{label}: GET / (status page)",
        round(status, 1),
        "ms",
        ratio=round(status / STATUS_TARGET_MS, 2),
        note=f"median of 5; ratio to the {STATUS_TARGET_MS} ms target; CPU (client and"
        f" server threads) {status_cpu:.1f} ms",
    )
    report.add(
        f"{label}: GET /feeds/all.xml, gzip",
        round(feed_gzip, 2),
        "ms",
        ratio=round(feed_gzip / GET_TARGET_MS, 2),
        note=f"median of 50; ratio to the {GET_TARGET_MS} ms target; identity: {feed_plain:.2f} ms;"
        f" CPU (client and server threads) {feed_cpu:.2f} ms",
    )


def lookup_child(url: str) -> None:
    """Run in a fresh process: what one crawl process pays for near-duplicate lookups."""
    from scraper.stories import same_story

    rss_start = rss_mb()
    began = time.perf_counter()
    repository = Repository(url)
    with repository.session() as s:
        stored = s.execute(
            text("SELECT id, title, text, story_id FROM articles ORDER BY id DESC LIMIT 100")
        ).all()
        bands = {
            row[0]: [
                h
                for (h,) in s.execute(
                    text("SELECT hash FROM lsh_bands WHERE article_id = :id ORDER BY band"),
                    {"id": row[0]},
                )
            ]
            for row in stored
        }
    startup_ms = (time.perf_counter() - began) * 1000
    rss_before = rss_mb()
    rng = random.Random(5)

    def record(n: int, copy: Any | None) -> ArticleRecord:
        title, body = (copy[1], copy[2]) if copy is not None else (f"Neu {n}", f"Neuer Text {n}")
        return ArticleRecord(
            canonical_url=f"https://bench-new.example/{n}",
            source="bmwe",
            url=f"https://bench-new.example/{n}",
            title=title,
            text=body,
            html="",
            content_hash=f"new-{n}",
            relevance="relevant",
            language="de",
            published_at=datetime.now(UTC),
            title_key=title.lower()[:255],
            bands=(
                list(bands[copy[0]])
                if copy is not None
                else [rng.getrandbits(63) for _ in range(BANDS)]
            ),
        )

    fresh = [record(n, None) for n in range(100)]
    copies = [record(100 + n, stored[n % len(stored)]) for n in range(100)]
    timings: dict[str, float] = {}

    def lookups(name: str, records: list[ArticleRecord]) -> None:
        began, cpu = time.perf_counter(), time.process_time()
        for rec in records:
            repository.story_candidates(rec)
        timings[name] = (time.perf_counter() - began) * 1000 / len(records)
        timings[f"{name}_cpu"] = (time.process_time() - cpu) * 1000 / len(records)

    # First touch: the band index as the copy of the database left it (its pages in the
    # OS cache or not, none in PostgreSQL's shared buffers).
    server_side(repository, [record(400 + n, None) for n in range(20)], timings, "cold")
    lookups("new", fresh)
    lookups("copy", copies)
    found = sum(len(repository.story_candidates(rec)) for rec in copies[:10])
    # Steady state: a service that has run a while on a machine whose memory holds the
    # band index has it in the OS cache: read it all once, then other new articles.
    timings["index_mb"], timings["warm_s"] = warm_band_index(repository)
    server_side(repository, [record(500 + n, None) for n in range(20)], timings, "warm")
    lookups("new_warm", [record(200 + n, None) for n in range(100)])
    lookups("copy_warm", [record(300 + n, stored[(n + 50) % len(stored)]) for n in range(100)])

    def decide(rec: ArticleRecord) -> Any:
        return lambda cands: same_story(rec.title, rec.text, rec.language, rec.content_hash, cands)

    began, cpu = time.perf_counter(), time.process_time()
    for rec in fresh[:50] + copies[:50]:
        repository.add_article(rec, decide(rec))
    timings["store"] = (time.perf_counter() - began) * 1000 / 100
    timings["store_cpu"] = (time.process_time() - cpu) * 1000 / 100
    print(
        json.dumps(
            {
                **timings,
                "startup_ms": startup_ms,
                "candidates_per_copy": found / 10,
                "rss_mb": rss_mb() - rss_before,
                "rss_open_mb": rss_before - rss_start,
            }
        )
    )


def server_side(
    repository: Repository, records: list[ArticleRecord], timings: dict[str, float], key: str
) -> None:
    """PostgreSQL: the candidates statement's own execution time and the index pages it
    reads from disk or the OS cache (not shared buffers), per lookup, by EXPLAIN ANALYZE —
    figures a loaded machine's scheduling does not inflate."""
    from db.repository import _candidates_query

    with repository.session() as s:
        if s.get_bind().dialect.name != "postgresql":
            return
        dialect = s.get_bind().dialect
        executions, reads, hits = [], [], []
        for rec in records:
            statement = _candidates_query(BANDS, True).bindparams(
                alternates=["https://none.example/"],
                url=rec.canonical_url,
                content_hash=rec.content_hash,
                title_key=rec.title_key,
                **{f"h{i}": h for i, h in enumerate(rec.bands)},
            )
            sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            plan = s.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")).scalar_one()
            top = (json.loads(plan) if isinstance(plan, str) else plan)[0]
            executions.append(top["Execution Time"])
            reads.append(top["Plan"].get("Shared Read Blocks", 0))
            hits.append(top["Plan"].get("Shared Hit Blocks", 0))
    timings[f"exec_{key}"] = statistics.median(executions)
    timings[f"read_{key}"] = statistics.mean(reads)
    timings[f"hit_{key}"] = statistics.mean(hits)


def warm_band_index(repository: Repository) -> tuple[float, float]:
    """Read the band table's primary-key index (what a lookup probes) into the OS cache:
    ``pg_prewarm`` in read mode (contrib, in Debian's postgresql package), on SQLite a
    full scan of the index. (MB, seconds)."""
    began = time.perf_counter()
    with repository.session() as s:
        if s.get_bind().dialect.name == "postgresql":
            size = s.execute(text("SELECT pg_relation_size('lsh_bands_pkey')")).scalar_one()
            s.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            s.execute(text("SELECT pg_prewarm('lsh_bands_pkey', 'read')"))
            s.commit()
        else:
            # The primary key of a rowid table is an index of its own: sum its pages.
            size = s.execute(
                text("SELECT sum(pgsize) FROM dbstat WHERE name = 'sqlite_autoindex_lsh_bands_1'")
            ).scalar_one()
            s.execute(
                text("SELECT count(*) FROM lsh_bands INDEXED BY sqlite_autoindex_lsh_bands_1")
            ).scalar_one()
    return int(size or 0) / 2**20, time.perf_counter() - began


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_archive_check(report: Report, label: str, url: str) -> None:
    """What an incremental RFC 5005 archive build asks the store of a feed whose archive
    is settled up to its newest 200 stories (the last archived page and the newest N):
    the store's revision, whether the settled pages are intact, the keys after them —
    with nothing changed since the last build, and with the newest story changed since.
    Rendering a changed page is a top-100 render (above); the first build, which renders
    every page, is not timed here (minutes at 100 k)."""
    repository = Repository(url)
    newest = repository.story_revision()
    for source in (None, "clib"):
        settled = repository.feed_stories(source, 201)[-1].story
        through = (settled.order_at, settled.id)
        for since, what in ((newest, "nothing changed"), (newest - 1, "one new story")):

            def check(
                since: int = since,
                source: str | None = source,
                through: tuple[datetime, int] = through,
            ) -> list[StoryKey]:
                repository.story_revision()
                assert repository.feed_range_intact(source, None, through, since)
                return repository.feed_story_keys(source, None, after=through)

            wall, cpu = median_wall_cpu(check, 5)
            report.add(
                f"{label}: archive of '{source or 'all'}', incremental check, {what}",
                round(wall, 2),
                "ms",
                ratio=round(wall / FEED_TARGET_MS, 3),
                note=f"median of 5; ratio to the {FEED_TARGET_MS} ms feed-build target; CPU"
                f" {cpu:.2f} ms; reads {len(check()):,} keys (before migration 0012 every"
                " build read every key of the feed)",
            )


def measure_lookup(report: Report, label: str, url: str) -> None:
    out = subprocess.run(
        [sys.executable, __file__, "--lookup-child", url], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"lookup process failed:\n{out.stderr[-3000:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    cold = "first touch: the index as the fresh copy left it"
    warm = (
        f"steady state: the band index ({figures['index_mb']:.0f} MB) read into the OS cache"
        f" first ({figures['warm_s']:.1f} s)"
    )
    for name, what, when in (
        ("new", "candidates of a new article (none stored)", cold),
        ("copy", f"candidates of a copy ({figures['candidates_per_copy']:.1f} found)", cold),
        ("new_warm", "candidates of a new article, steady state", warm),
        ("copy_warm", "candidates of a copy, steady state", warm),
        ("store", "whole store transaction (add_article, grouping rule)", warm),
    ):
        report.add(
            f"{label}: near-duplicate lookup, {what}",
            round(figures[name], 2),
            "ms",
            ratio=round(figures[name] / LOOKUP_TARGET_MS, 2),
            note=f"per article, {when}; ratio to the {LOOKUP_TARGET_MS} ms target; CPU of the"
            f" crawl process {figures[name + '_cpu']:.2f} ms (the database server's not counted)",
        )
    if "exec_cold" in figures:
        report.add(
            f"{label}: near-duplicate lookup, server execution (EXPLAIN ANALYZE)",
            round(figures["exec_warm"], 2),
            "ms",
            ratio=round(figures["exec_warm"] / LOOKUP_TARGET_MS, 2),
            note=f"median of 20 new articles, steady state; first touch"
            f" {figures['exec_cold']:.2f} ms; 8 kB pages read from outside shared buffers"
            f" per lookup: first touch {figures['read_cold']:.0f}, steady"
            f" {figures['read_warm']:.0f} (hit {figures['hit_warm']:.0f})",
        )
    report.add(
        f"{label}: LSH band index (primary key of lsh_bands)",
        round(figures["index_mb"], 1),
        "MB",
        note="what a lookup probes: keep it in memory (README, deployment)",
    )
    report.add(
        f"{label}: crawl process memory over 500 lookups and 100 stores",
        round(figures["rss_mb"], 1),
        "MB",
        ratio=round(figures["rss_mb"] / LOOKUP_MEMORY_MB, 2),
        note=f"RSS growth over the lookups; ratio to {LOOKUP_MEMORY_MB} MB; opening the"
        f" DB and reading 100 articles' bands: {figures['startup_ms']:.0f} ms,"
        f" +{figures['rss_open_mb']:.1f} MB",
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--lookup-child":
        lookup_child(sys.argv[2])
        return
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", help="a PostgreSQL server URL (default: bench/dbcache.py's)")
    args = parser.parse_args()
    report = Report("Store at scale: feeds, status page, feed GET, near-duplicate lookup")
    with postgres(args.pg_url if "postgresql" in args.backends else None) as pg_server:
        for backend in args.backends:
            if backend == "postgresql" and pg_server is None:
                report.add("PostgreSQL", "not run", note="no server (install postgresql)")
                continue
            for size in args.sizes or (FULL_SIZES if args.full else QUICK_SIZES[backend]):
                with tempfile.TemporaryDirectory() as tmp:
                    label = (
                        f"{backend} {size // 1000:,} k"
                        if size < 10**6
                        else f"{backend} {size / 10**6:g} M"
                    )

                    def build(url: str, size: int = size) -> None:
                        load(url, size)

                    if backend == "sqlite":
                        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                        seconds, hit = cached_sqlite(
                            cache_name(size), Path(tmp) / "bench.db", build
                        )
                        how = "copied from the cache" if hit else "generated, loaded and cached"
                    else:
                        assert pg_server is not None
                        url, seconds, hit = cached_postgres(pg_server, cache_name(size), build)
                        how = "copied from the template" if hit else "generated and loaded (COPY)"
                    print(f"{label}: {how} in {seconds:.0f} s", flush=True)
                    report.add(f"{label}: bulk load", round(seconds, 1), "s", note=how)
                    measure_feeds(report, label, url, Path(tmp) / "data", size)
                    measure_archive_check(report, label, url)
                    measure_lookup(report, label, url)
                    if backend == "postgresql":
                        drop(pg_server, url)
    report.write(args.json)


if __name__ == "__main__":
    main()
