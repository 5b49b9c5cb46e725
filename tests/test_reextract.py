"""Re-extraction of stored pages after a rule change (``clusterwatch reextract``), on a real
crawl of the replayed CLIB site (which holds the Windows-1252 page).

Changed rules change the affected articles in place — same rows, same GUIDs, an ``updated``
date on their feed entries — and leave every other row byte-identical; a page stored as
failed is recovered; ``--dry-run`` writes nothing; the stored bytes are decoded with the
stored encoding.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from db.models import Article, Story
from db.repository import Repository
from monitor.replay import ReplayServer, ReplayTree
from scraper.evaluation import spider_classes
from tests.conftest import REPO_ROOT, copy_sites, crawl_env, manifest, run_crawl

SOURCE = "clib"
CHANGED = {
    "https://www.clib-cluster.de/de/clib-15-jahre/": "Beteiligte und Kenner",
    "https://www.clib-cluster.de/news/news-clib2021?id=118": "Die Veranstaltung diente",
}
RULE_CHANGE = (
    "[sources.clib.extraction]\n"
    'drop_lines = ["^Beteiligte und Kenner", "^Die Veranstaltung diente"]\n'
)
FAILED = "https://www.clib-cluster.de/de/clib-begruesst-start-des-biooekonomie-rats-nrw/"


@pytest.fixture(scope="module")
def crawled_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("reextract")
    sites = copy_sites(base / "sites")
    data_dir = base / "data"
    with ReplayServer(sites) as server:
        run_crawl(SOURCE, data_dir, server.url)
    return data_dir / "clusterwatch.db"


@pytest.fixture
def data_dir(crawled_db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    target.mkdir()
    # The backup API, not a file copy: the crawl's last writes may still be in its WAL.
    source, copy = sqlite3.connect(crawled_db), sqlite3.connect(target / "clusterwatch.db")
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return target


def _rows(repository: Repository) -> dict[str, dict[str, Any]]:
    with repository.session() as s:
        articles = {
            a.canonical_url: {c.name: getattr(a, c.name) for c in Article.__table__.columns}
            for a in s.scalars(select(Article))
        }
        stories = {
            st.id: {c.name: getattr(st, c.name) for c in Story.__table__.columns}
            for st in s.scalars(select(Story))
        }
    for row in articles.values():
        row["story"] = stories.get(row["story_id"])
    return articles


def _reextract(data_dir: Path, *args: str, config: str | None = None) -> str:
    extra = {}
    if config is not None:
        toml = data_dir.parent / "cw.toml"
        toml.write_text(config, "utf-8")
        extra["CLUSTERWATCH_CONFIG"] = str(toml)
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "reextract", *args],
        cwd=REPO_ROOT,
        env={**crawl_env(data_dir, None, **extra), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def _canonical(url: str) -> str:
    return spider_classes()[SOURCE]().canonical(url)


def test_without_a_rule_change_nothing_changes(data_dir: Path) -> None:
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    before = _rows(repository)
    out = _reextract(data_dir)
    assert f"{len(before)} stored pages re-extracted ({len(before)} unchanged)" in out, out
    assert _rows(repository) == before


def test_windows_1252_page_is_decoded_with_the_stored_encoding(data_dir: Path) -> None:
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    (page,) = manifest(SOURCE)["windows_1252"]
    article = repository.article(_canonical(page))
    assert article is not None and article.raw_html is not None
    assert article.raw_encoding and article.raw_encoding.lower() in ("cp1252", "windows-1252")
    assert "ö".encode("cp1252") in zlib.decompress(article.raw_html)  # really not UTF-8
    _reextract(data_dir, config=RULE_CHANGE)
    after = repository.article(_canonical(page))
    assert after is not None and after.text != article.text
    assert "Die Veranstaltung diente" not in after.text  # the dropped paragraph
    assert "Wirtschaftsminister Rösler" in after.text and "Außenhandelskammer" in after.text
    assert "\ufffd" not in after.text and "Ã" not in after.text
    assert re.search("[äöüÄÖÜß„“–]", after.text)


def test_rule_change_updates_the_affected_articles_in_place(data_dir: Path) -> None:
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    before = _rows(repository)
    dry = _reextract(data_dir, "--dry-run", config=RULE_CHANGE)
    assert "2 changed" in dry and "dry run: nothing written" in dry, dry
    assert _rows(repository) == before  # --dry-run writes nothing
    out = _reextract(data_dir, config=RULE_CHANGE)
    assert "2 changed" in out, out
    after = _rows(repository)
    assert set(after) == set(before)
    changed = {_canonical(url): line for url, line in CHANGED.items()}
    changed_stories = {after[url]["story_id"] for url in changed}
    for url, row in after.items():
        old = before[url]
        if url not in changed:
            assert row == old or (  # byte-identical, but for a story shared with a changed one
                {k: v for k, v in row.items() if k != "story"}
                == {k: v for k, v in old.items() if k != "story"}
                and row["story_id"] in changed_stories
            ), url
            continue
        assert changed[url] not in row["text"] and changed[url] in old["text"]
        assert row["id"] == old["id"] and row["first_seen_at"] == old["first_seen_at"]
        assert row["story"]["guid"] == old["story"]["guid"] and row["story"]["guid"]
        assert row["story"]["updated_at"] is not None
        assert row["content_hash"] != old["content_hash"]
        assert row["raw_html"] == old["raw_html"]
    for url in changed:
        assert url in out  # the table names what changed, with the text F1 old vs new
    assert re.search(r"0\.\d{3}", out)
    # A second run under the same rules changes nothing more.
    assert "2 changed" not in _reextract(data_dir, config=RULE_CHANGE)


def test_failed_article_is_recovered(data_dir: Path, tmp_path: Path) -> None:
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    canonical = _canonical(FAILED)
    page = ReplayTree(REPO_ROOT / "tests" / "sites").resolve_url(FAILED).file
    assert page is not None
    guid_before = repository.story_of(canonical)
    with repository.session() as s, s.begin():
        s.execute(
            update(Article)
            .where(Article.canonical_url == canonical)
            .values(
                state="failed",
                title="",
                text="",
                content_hash="",
                duplicate_of=None,
                fail_reason="extraction failed: no title found",
                rules_version="0ld",
                raw_html=zlib.compress(page.read_bytes()),
                retry_at=datetime.now(UTC) + timedelta(days=20),
            )
        )
    dry = _reextract(data_dir, "--dry-run", "--source", SOURCE)
    assert "1 recovered" in dry
    assert repository.article(canonical).state == "failed"  # type: ignore[union-attr]
    out = _reextract(data_dir, "--source", SOURCE, "--since", "2000-01-01")
    assert "1 recovered" in out, out
    article = repository.article(canonical)
    assert article is not None and article.state == "stored" and article.title
    assert canonical in {a.canonical_url for a in repository.feed_articles(SOURCE, 100)}
    story = repository.story_of(canonical)
    assert story is not None and guid_before is not None
    assert story.story.guid == guid_before.story.guid  # back in its story, same GUID


def test_since_and_unknown_source(data_dir: Path) -> None:
    out = _reextract(data_dir, "--since", "2999-01-01")
    assert "0 stored pages re-extracted" in out
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "reextract", "--source", "clbi"],
        cwd=REPO_ROOT,
        env=crawl_env(data_dir, None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "unknown source 'clbi'" in result.stderr
