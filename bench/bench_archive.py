"""Archive query benchmark: how long one archive page takes at 10 k and 100 k stories.

A synthetic store (German-looking cluster announcements built from a fixed vocabulary with
compounds and umlauts, seeded, so every run builds the same data) is bulk-loaded into a
fresh database (once per machine: later runs copy it, see bench/dbcache.py), the search
index rebuilt through the repository, then each archive query
— the first page, a deep page, filters, rare and common search words, search plus filter —
runs several times through ``Repository.archive_stories`` (the count and the page, exactly
what ``/archive`` asks); the median is reported. The target is ≤ 200 ms at 100 k.

    .venv/bin/python bench/bench_archive.py [--quick|--full] [--json PATH]
        [--sizes 10000 100000] [--backends sqlite postgresql] [--pg-url SERVER_URL]

Both modes run 10 k and 100 k stories, on SQLite and on the benchmarks' PostgreSQL cluster
(bench/dbcache.py; ``--pg-url``: an existing server); the interface is in bench/report.py.
"""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.dbcache import cached_postgres, cached_sqlite, drop, postgres  # noqa: E402
from bench.report import Report, arguments  # noqa: E402
from db.models import Article, Story  # noqa: E402
from db.repository import Repository, StoryQuery, Terms  # noqa: E402

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
    "Start-up",
    "Reallabor",
    "Projekt",
    "Verbund",
    "Region",
    "Strategie",
    "Wettbewerb",
    "Preis",
    "Konferenz",
]
PREFIXES = ["Wasserstoff", "Bioökonomie", "Batterie", "Leichtbau", "Kreislauf", "Medizin"]
SUFFIXES = ["netz", "strategie", "forschung", "region", "zentrum", "programm", "allianz"]
REGIONS = ["region:Sachsen", "region:Bayern", "region:Nordrhein-Westfalen", "region:Thüringen"]
FIELDS = ["field:Energie", "field:Biotechnologie", "field:IKT", "field:Logistik"]
SOURCES = ["clusterplattform", "openpr", "bmwe", "clib"]
RARE = "Marsmissionsallianz"  # in one story out of 5000


def load(repository: Repository, count: int, seed: int = 12) -> None:
    rng = random.Random(seed)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    with repository.session() as s:
        postgres = s.get_bind().dialect.name == "postgresql"
        for first in range(0, count, 5000):
            stories, articles = [], []
            for n in range(first, min(count, first + 5000)):
                words = rng.choices(WORDS, k=120)
                words += [rng.choice(PREFIXES) + rng.choice(SUFFIXES) for _ in range(6)]
                if n % 5000 == 17:
                    words.append(RARE)
                rng.shuffle(words)
                title = " ".join(words[:9])
                day = start + timedelta(hours=n * 3)
                topics = [rng.choice(REGIONS), rng.choice(FIELDS)]
                stories.append(
                    {
                        "id": n + 1,
                        "lead_article_id": n + 1,
                        "published": True,
                        "guid": f"https://bench.example/{n}",
                        "first_published_at": day,
                        "order_at": day,
                        "relevance_score": rng.uniform(0, 20),
                        "topics": topics,
                        "created_at": day,
                    }
                )
                articles.append(
                    {
                        "id": n + 1,
                        "canonical_url": f"https://bench.example/{n}",
                        "source": SOURCES[n % 4],
                        "url": f"https://bench.example/{n}",
                        "title": title,
                        "text": " ".join(words),
                        "html": "",
                        "published_at": day,
                        "first_seen_at": day,
                        "content_hash": f"h{n}",
                        "relevance": "relevant",
                        "topics": topics,
                        "alternates": [],
                        "raw_headers": {},
                        "state": "stored",
                        "attempts": 0,
                        "story_id": n + 1,
                    }
                )
            if postgres:
                _copy(s, "stories", stories)
                _copy(s, "articles", articles)
            else:
                s.execute(insert(Story), stories)
                s.execute(insert(Article), articles)
        if postgres:
            s.execute(text("SELECT setval('stories_id_seq', (SELECT max(id) FROM stories))"))
            s.execute(text("SELECT setval('articles_id_seq', (SELECT max(id) FROM articles))"))
        s.commit()
    repository.reindex_search()
    # Statistics, as a settled service database has them (autovacuum would otherwise
    # analyse the fresh rows in the middle of the measurements).
    with repository.session() as s:
        s.execute(text("ANALYZE"))
        s.commit()


def _copy(s: Session, table: str, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's bulk path: COPY, in the session's transaction."""
    raw: Any = s.connection().connection.dbapi_connection
    columns = list(rows[0])
    with raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [json.dumps(v) if isinstance(v, list | dict) else v for v in row.values()]
            )


QUERIES: list[tuple[str, dict[str, object]]] = [
    ("first page", {}),
    ("page 200", {"offset": 199 * 20}),
    ("source filter", {"query": StoryQuery(sources=Terms(all=("openpr",)))}),
    ("region + field", {"query": StoryQuery(topics=(Terms(all=("region:Thüringen",)),
                                                    Terms(all=("field:Energie",))))}),
    ("search rare word", {"search": RARE}),
    ("search compound part", {"search": "wasserstoffnetz"}),
    ("search two words", {"search": "Bioökonomie Fachkräfte"}),
    ("search + region", {"search": "Reallabor", "query": StoryQuery(
        topics=(Terms(all=("region:Sachsen",)),))}),
]  # fmt: skip


def measure(repository: Repository, rounds: int) -> list[tuple[str, float, int]]:
    results = []
    for name, kwargs in QUERIES:
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            page = repository.archive_stories(**kwargs)  # type: ignore[arg-type]
            times.append(time.perf_counter() - began)
        results.append((name, statistics.median(times) * 1000, page.total))
    return results


TARGET_MS = 200
# Bump when load() changes: it names the cached databases.
GENERATOR_VERSION = 1


@contextlib.contextmanager
def database(backend: str, tmp: Path, pg_server: str | None, size: int) -> Iterator[str]:
    """A database of ``size`` generated stories, from the cache when an earlier run built it
    (a copy: the measurements never touch the cached one)."""
    name = f"archive-{size}-a{GENERATOR_VERSION}"

    def build(url: str) -> None:
        load(Repository(url), size)

    began = time.perf_counter()
    if backend == "sqlite":
        target = tmp / "bench.db"
        _, hit = cached_sqlite(name, target, build)
        url = f"sqlite:///{target}"
    else:
        assert pg_server is not None
        url, _, hit = cached_postgres(pg_server, name, build)
    how = "copied from the cache" if hit else "generated, loaded, indexed and cached"
    print(f"\n{size:,} stories on {backend} ({how} in {time.perf_counter() - began:.1f} s)")
    try:
        yield url
    finally:
        if pg_server is not None and backend == "postgresql":
            drop(pg_server, url)


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", help="a PostgreSQL server URL (default: bench/dbcache.py's)")
    args = parser.parse_args()
    report = Report("Archive queries (/archive: count and page) at 10 k / 100 k stories")
    with postgres(args.pg_url if "postgresql" in args.backends else None) as pg_server:
        for backend in args.backends:
            if backend == "postgresql" and pg_server is None:
                report.add("PostgreSQL", "not run", note="no server (install postgresql)")
                continue
            for size in args.sizes:
                with (
                    tempfile.TemporaryDirectory() as tmp,
                    database(backend, Path(tmp), pg_server, size) as url,
                ):
                    repository = Repository(url)
                    for name, ms, total in measure(repository, args.rounds):
                        report.add(
                            f"{backend} {size // 1000} k: {name}",
                            round(ms, 1),
                            "ms",
                            ratio=round(ms / TARGET_MS, 2),
                            note=f"median of {args.rounds}; {total:,} matching;"
                            f" ratio to the {TARGET_MS} ms target",
                        )
    report.write(args.json)


if __name__ == "__main__":
    main()
