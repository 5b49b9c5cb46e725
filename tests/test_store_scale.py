"""The store's indexed paths (issue 11): a source's feed from its feed-order index, the
migration that fills that key, and lookups that use an index rather than a scan. On both
backends; the speed itself is measured in bench/bench_store.py, not here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text as sql

from db.engine import create_db_engine
from db.migrate import upgrade
from db.models import Article
from db.repository import (
    ArticleRecord,
    Classification,
    Repository,
    StoryQuery,
    Terms,
)

DAY = datetime(2024, 3, 1, tzinfo=UTC)


def record(n: int, source: str, day: int, **fields: object) -> ArticleRecord:
    text = fields.pop("text", f"Meldung Nummer {n} über Cluster {n * 7} und Netzwerk {n * 13}.")
    return ArticleRecord(
        canonical_url=f"https://{source}.example/{n}",
        source=source,
        url=f"https://{source}.example/{n}",
        title=str(fields.pop("title", f"Meldung {n}")),
        text=str(text),
        html="",
        content_hash=str(fields.pop("content_hash", f"hash-{n}")),
        relevance=str(fields.pop("relevance", "relevant")),
        published_at=DAY + timedelta(days=day),
        **fields,  # type: ignore[arg-type]
    )


def source_feed(repo: Repository, source: str, limit: int = 50) -> list[str | None]:
    return [fs.story.guid for fs in repo.feed_stories(source, limit)]


def exists_feed(repo: Repository, source: str, limit: int = 50) -> list[str | None]:
    """The same feed through the general query (an EXISTS per story): the reference."""
    query = StoryQuery(sources=Terms(all=(source,)))
    return [fs.story.guid for fs in repo.feed_stories(None, limit, query=query)]


def test_source_feed_from_its_index_matches_the_general_query(backend_url: str) -> None:
    upgrade(backend_url)
    repo = Repository(backend_url)
    # alpha: 1 (day 5), 2 (day 1, irrelevant), 3 (day 3); beta copies 1 (same hash) and
    # has 4 (day 4); alpha has a second copy of 3 under another URL (hreflang-free: same
    # hash) — read twice from the index, listed once.
    repo.add_article(record(1, "alpha", 5))
    repo.add_article(record(2, "alpha", 1, relevance="irrelevant"))
    repo.add_article(record(3, "alpha", 3))
    repo.add_article(record(11, "beta", 6, content_hash="hash-1"))
    repo.add_article(record(4, "beta", 4))
    repo.add_article(record(13, "alpha", 3, content_hash="hash-3"))
    alpha = source_feed(repo, "alpha")
    assert alpha == exists_feed(repo, "alpha")
    # story 1's lead is alpha's copy (earliest day), so its GUID is alpha's URL
    assert alpha == ["https://alpha.example/1", "https://alpha.example/3"]
    assert source_feed(repo, "beta") == exists_feed(repo, "beta")
    assert source_feed(repo, "beta") == ["https://alpha.example/1", "https://beta.example/4"]
    assert source_feed(repo, "alpha", limit=1) == ["https://alpha.example/1"]
    assert source_feed(repo, "nobody") == []


def test_source_feed_follows_reclassification_and_new_copies(backend_url: str) -> None:
    upgrade(backend_url)
    repo = Repository(backend_url)
    repo.add_article(record(1, "alpha", 1))
    repo.add_article(record(2, "alpha", 2, relevance="irrelevant"))
    assert source_feed(repo, "alpha") == ["https://alpha.example/1"]
    # The irrelevant story becomes relevant: it enters the feed in its order.
    second = repo.article("https://alpha.example/2")
    assert second is not None
    repo.apply_classification([Classification(second.id, "relevant", 9.0, [], [])])
    assert source_feed(repo, "alpha") == ["https://alpha.example/2", "https://alpha.example/1"]
    # A later copy from beta with an earlier date becomes the lead of story 1: the story's
    # order moves, in alpha's feed too (the key is the story's, not the copy's).
    repo.add_article(record(21, "beta", 3, content_hash="hash-1"))
    assert source_feed(repo, "alpha") == exists_feed(repo, "alpha")
    first = repo.article("https://alpha.example/1")
    assert first is not None
    repo.apply_classification([Classification(first.id, "irrelevant", 0.0, [], [])])
    beta = repo.article("https://beta.example/21")
    assert beta is not None
    repo.apply_classification([Classification(beta.id, "irrelevant", 0.0, [], [])])
    assert source_feed(repo, "alpha") == ["https://alpha.example/2"]
    assert source_feed(repo, "beta") == []


def test_migration_fills_the_feed_order_of_stored_copies_of_published_stories(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    with create_db_engine(url).begin() as connection:
        for story, published, order in ((1, True, "2024-01-02"), (2, False, "2024-01-03")):
            connection.execute(
                sql(
                    "INSERT INTO stories (id, published, guid, order_at, topics, created_at)"
                    " VALUES (:i, :p, :g, :o, '[]', :o)"
                ),
                {"i": story, "p": published, "g": f"https://m/{story}", "o": f"{order} 00:00:00"},
            )
        rows = [(1, 1, "stored"), (2, 1, "failed"), (3, 2, "stored")]
        for article, story, state in rows:
            connection.execute(
                sql(
                    "INSERT INTO articles (id, canonical_url, source, url, title, text, html,"
                    " first_seen_at, content_hash, relevance, topics, alternates, raw_headers,"
                    " state, attempts, story_id) VALUES (:i, :u, 'clib', :u, 'T', 'x', '',"
                    " '2024-01-01 00:00:00', :h, 'relevant', '[]', '[]', '{}', :s, 0, :st)"
                ),
                {"i": article, "u": f"https://m/{article}", "h": f"h{article}", "s": state,
                 "st": story},
            )  # fmt: skip
        connection.execute(sql("UPDATE stories SET lead_article_id = id"))
    upgrade(url)
    repo = Repository(url)
    with repo.session() as s:
        orders = {a.id: a.feed_order for a in s.query(Article)}
    assert orders == {1: datetime(2024, 1, 2, tzinfo=UTC), 2: None, 3: None}
    assert source_feed(repo, "clib") == ["https://m/1"]


@pytest.mark.parametrize(
    ("query", "index"),
    [
        # the candidates' first lookup (same text or same title)
        (
            "SELECT id FROM articles WHERE (content_hash = 'x' OR title_key = 'y')"
            " AND state = 'stored'",
            "ix_articles_content_hash",
        ),
        # a source's feed
        (
            "SELECT story_id FROM articles WHERE source = 'clib' AND feed_order IS NOT NULL"
            " ORDER BY feed_order DESC, story_id DESC LIMIT 100",
            "ix_articles_source_feed",
        ),
        # the status page's "new in 7 days" and "last new item"
        (
            "SELECT count(id) FROM articles WHERE relevance = 'relevant' AND state = 'stored'"
            " AND source = 'clib' AND first_seen_at >= '2024-01-01'",
            "ix_articles_source_published_seen",
        ),
        # an article's bands, replaced on re-extraction
        ("DELETE FROM lsh_bands WHERE article_id = 7", "ix_lsh_bands_article_id"),
    ],
)
def test_hot_lookups_use_an_index_on_sqlite(tmp_path: Path, query: str, index: str) -> None:
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    upgrade(url)
    with create_db_engine(url).connect() as connection:
        plan = " | ".join(row[-1] for row in connection.execute(sql(f"EXPLAIN QUERY PLAN {query}")))
    assert index in plan, plan
    assert "SCAN articles" not in plan and "SCAN lsh_bands" not in plan, plan


def test_keyword_feeds_are_narrowed_by_the_full_text_index(
    backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keyword feed reads only the stories the database's full-text index matches (the
    exact rule is still checked on those), not every lead in batches."""
    upgrade(backend_url)
    repo = Repository(backend_url)
    for n in range(40):
        repo.add_article(record(n, "alpha", n % 20))
    repo.add_article(record(99, "alpha", 30, text="Das Wasserstoffnetz im Norden wächst weiter."))
    checked: list[str] = []
    original = Terms.matches_text

    def counting(self: Terms, text: str) -> bool:
        checked.append(text)
        return original(self, text)

    monkeypatch.setattr(Terms, "matches_text", counting)
    query = StoryQuery(keywords=Terms(any=("WASSERSTOFF", "stoffnetz")))
    assert [fs.story.guid for fs in repo.feed_stories(None, 10, query=query)] == [
        "https://alpha.example/99"
    ]
    assert len(checked) == 1  # only the matching story was read and checked
    checked.clear()
    keys = repo.feed_story_keys(None, StoryQuery(keywords=Terms(all=("netz im",))))
    assert len(keys) == 1 and len(checked) == 1
    # a term too short for the index is still matched exactly, in Python
    short = StoryQuery(keywords=Terms(all=("im", "wasserstoff")))
    assert [fs.story.guid for fs in repo.feed_stories(None, 10, query=short)] == [
        "https://alpha.example/99"
    ]


def test_story_candidates_come_from_every_index_in_one_statement(backend_url: str) -> None:
    """The candidates of a new article: a shared pair of LSH bands (one shared band is not
    enough), the same content hash, the same title key, an hreflang link either way —
    each found once, only stored articles, linked ones marked."""
    upgrade(backend_url)
    repo = Repository(backend_url)
    bands = [1000 + i for i in range(64)]
    other = [5000 + i for i in range(64)]
    repo.add_article(record(1, "alpha", 1, bands=bands))
    repo.add_article(record(2, "alpha", 2, bands=other))
    repo.add_article(record(3, "beta", 3, content_hash="same-text"))
    repo.add_article(record(4, "beta", 4, title_key="same title"))
    repo.add_article(record(5, "gamma", 5))
    repo.add_article(record(6, "gamma", 6, alternates=["https://delta.example/9"]))
    repo.add_article(record(7, "gamma", 7, title_key="same title", relevance="irrelevant"))
    new = record(
        9,
        "delta",
        9,
        content_hash="same-text",
        title_key="same title",
        alternates=["https://gamma.example/5"],
        bands=[bands[0], bands[1], other[2], *(9000 + i for i in range(3, 64))],
    )

    def article_id(source: str, n: int) -> int:
        found = repo.article(f"https://{source}.example/{n}")
        assert found is not None
        return found.id

    found = {c.article_id: c.linked for c in repo.story_candidates(new)}
    assert found == {
        article_id("alpha", 1): False,
        article_id("beta", 3): False,
        article_id("beta", 4): False,
        article_id("gamma", 5): True,
        article_id("gamma", 6): True,
        article_id("gamma", 7): False,  # irrelevant, yet stored: still the same story
    }
    # Without bands, a title key or links: only the content hash is asked for.
    bare = record(10, "delta", 10, content_hash="same-text")
    assert [c.article_id for c in repo.story_candidates(bare)] == [article_id("beta", 3)]


def test_the_candidates_statement_probes_indexes_only_on_sqlite(tmp_path: Path) -> None:
    from db.repository import _candidates_query

    url = f"sqlite:///{tmp_path / 'plan.db'}"
    upgrade(url)
    params = {f"h{i}": i for i in range(64)}
    statement = _candidates_query(64, False).bindparams(
        alternates=["https://a.example/1"], url="https://b.example/2", content_hash="h",
        title_key="t", **params,
    )  # fmt: skip
    engine = create_db_engine(url)
    compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        plan = " | ".join(
            row[-1] for row in connection.execute(sql(f"EXPLAIN QUERY PLAN {compiled}"))
        )
    assert "ix_articles_content_hash" in plan and "ix_articles_title_key" in plan, plan
    assert "sqlite_autoindex_lsh_bands_1" in plan, plan  # the (band, hash) primary key
    scans = [part for part in plan.split(" | ") if part.startswith("SCAN ")]
    assert not [s for s in scans if "CONSTANT" not in s and "linked" not in s], plan


def test_source_overviews_equal_the_per_source_queries_in_two_statements(
    backend_url: str,
) -> None:
    """The status page's per-source figures for every source at once: the same runs, last
    judged run, count since and newest item as the one-source queries, in two statements
    however many sources (plus one only for a judged run older than the window)."""
    from sqlalchemy import event

    upgrade(backend_url)
    repo = Repository(backend_url)
    sources = ["alpha", "beta", "gamma", "quiet"]
    for n in range(30):
        source = sources[n % 3]
        repo.add_article(record(n, source, n, relevance="relevant" if n % 4 else "irrelevant"))
    # alpha and beta: the judged run is older than the window of 3 newest (shutdown,
    # unfinished, no reason are not judged); gamma: never judged, in the window.
    reasons = {
        "alpha": ["finished", "shutdown", None, "unfinished"],
        "beta": ["finished", "interrupted", "shutdown", "interrupted", "interrupted"],
        "gamma": ["shutdown", "unfinished"],
    }
    for source, ends in reasons.items():
        for end in ends:
            run = repo.start_run(source, "cli", None, None)
            if end != "unfinished":
                repo.finish_run(run, finish_reason=end, items_new=len(end or ""))
    since = DAY + timedelta(days=12)
    excluding = ("shutdown", "interrupted")
    engine = create_db_engine(backend_url)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        overviews = repo.source_overviews(sources, since, runs=3, excluding=excluding)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # runs, figures, and alpha's and beta's judged run (older than the window)
    assert len(statements) == 4, statements
    statements.clear()
    event.listen(engine, "before_cursor_execute", count)
    try:
        wide = repo.source_overviews(sources, since, runs=10, excluding=excluding)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 2, statements  # every judged run is in the window
    assert {s: w.judged.id if w.judged else None for s, w in wide.items()} == {
        s: o.judged.id if o.judged else None for s, o in overviews.items()
    }
    for source in sources:
        got = overviews[source]
        assert [r.id for r in got.runs] == [r.id for r in repo.runs(spider=source, limit=3)]
        judged = repo.last_run(source, finished_only=True, excluding=excluding)
        assert (got.judged.id if got.judged else None) == (judged.id if judged else None)
        assert got.items_since == repo.count_articles(source, since=since)
        assert got.last_new_at == repo.last_new_article_at(source)
    assert overviews["alpha"].judged is not None and overviews["beta"].judged is not None
    assert overviews["gamma"].judged is None and overviews["quiet"].runs == []
    assert overviews["alpha"].items_since > 0 and overviews["quiet"].last_new_at is None


def test_band_key_puts_the_bigint_first_on_postgresql_and_keeps_the_bands(
    backend_url: str,
) -> None:
    """Migration 0011: PostgreSQL's band key becomes (hash, band, article_id) — unpadded,
    so smaller — with the stored bands kept and still found; SQLite's is left as it was."""
    from sqlalchemy import inspect

    upgrade(backend_url, "0010")
    repo = Repository(backend_url)
    bands = [7000 + i for i in range(64)]
    repo.add_article(record(1, "alpha", 1, bands=bands))
    engine = create_db_engine(backend_url)
    with engine.connect() as connection:
        before = inspect(connection).get_pk_constraint("lsh_bands")["constrained_columns"]
    assert before == ["band", "hash", "article_id"]
    upgrade(backend_url)
    with engine.connect() as connection:
        after = inspect(connection).get_pk_constraint("lsh_bands")["constrained_columns"]
        rows = connection.execute(sql("SELECT count(*) FROM lsh_bands")).scalar_one()
    postgres = engine.dialect.name == "postgresql"
    assert after == (["hash", "band", "article_id"] if postgres else before)
    assert rows == 64
    copy = record(2, "beta", 2, bands=[*bands[:2], *(9000 + i for i in range(62))])
    stored = repo.article("https://alpha.example/1")
    assert stored is not None
    assert [c.article_id for c in repo.story_candidates(copy)] == [stored.id]
