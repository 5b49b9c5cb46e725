"""Storage and dedup: idempotent inserts, content-hash and near duplicates, concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.migrate import SchemaOutOfDate, current_revision, ensure_schema, head_revision, upgrade
from db.repository import AddResult, ArticleRecord, Repository
from scraper import dedup

TEXT = (
    "Das Cluster für industrielle Biotechnologie startet ein neues Programm mit zwölf "
    "Partnern aus Forschung und Mittelstand in Nordrhein-Westfalen und Sachsen. "
) * 3


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    url = f"sqlite:///{tmp_path / 'cw.db'}"
    upgrade(url)
    return Repository(url)


def record(url: str, text: str = TEXT, **kw: object) -> ArticleRecord:
    return ArticleRecord(
        canonical_url=url,
        source=str(kw.pop("source", "clib")),
        url=url,
        title="Titel",
        text=text,
        html=f"<p>{text}</p>",
        content_hash=dedup.content_hash(text),
        relevance=str(kw.pop("relevance", "relevant")),
        published_at=datetime(2024, 1, 1, tzinfo=UTC),
        **kw,  # type: ignore[arg-type]
    )


def test_schema_is_created_once_and_checked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    ensure_schema(url)
    assert current_revision(url) == head_revision()
    ensure_schema(url)  # idempotent


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("create table something (x int)").connection.commit()
    with pytest.raises(SchemaOutOfDate):
        ensure_schema(f"sqlite:///{path}")


def test_same_url_twice_is_known(repo: Repository) -> None:
    assert repo.add_article(record("https://a/1"))[0] is AddResult.NEW
    assert repo.add_article(record("https://a/1"))[0] is AddResult.KNOWN
    assert len(repo.articles()) == 1
    assert repo.is_known("https://a/1") and not repo.is_known("https://a/2")


def test_same_text_under_another_url_is_a_duplicate(repo: Repository) -> None:
    _, original = repo.add_article(record("https://a/1"))
    result, dup = repo.add_article(record("https://b/1", text=TEXT.upper(), source="bmwe"))
    assert result is AddResult.DUPLICATE
    stored = {a.id: a for a in repo.articles()}
    assert stored[dup].duplicate_of == original  # type: ignore[index]
    assert [a.id for a in repo.feed_articles(None, 10)] == [original]


def test_translation_is_a_duplicate_of_its_alternate(repo: Repository) -> None:
    _, de = repo.add_article(record("https://c/de/x/"))
    result, _en = repo.add_article(
        record(
            "https://c/en/x/",
            text="An entirely English text about the cluster. " * 5,
            alternates=["https://c/de/x/"],
        )
    )
    assert result is AddResult.DUPLICATE
    assert repo.article("https://c/en/x/").duplicate_of == de  # type: ignore[union-attr]


def test_concurrent_inserts_never_duplicate(repo: Repository) -> None:
    barrier = threading.Barrier(8)
    results: list[AddResult] = []

    def insert() -> None:
        barrier.wait()
        results.append(repo.add_article(record("https://race/1"))[0])

    threads = [threading.Thread(target=insert) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.value for r in results) == ["known"] * 7 + ["new"]
    assert len(repo.articles()) == 1


def test_irrelevant_articles_are_stored_but_not_published(repo: Repository) -> None:
    repo.add_article(record("https://o/1", relevance="irrelevant", source="openpr"))
    assert repo.is_known("https://o/1")
    assert repo.feed_articles("openpr", 10) == []
