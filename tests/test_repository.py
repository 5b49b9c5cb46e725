"""Storage and dedup on SQLite and PostgreSQL: idempotent inserts, content-hash copies and
translations in one story, failure memory, concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
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
def repo(backend_url: str) -> Repository:
    upgrade(backend_url)
    return Repository(backend_url)


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


def test_failures_back_off_and_never_downgrade_a_stored_article(repo: Repository) -> None:
    from datetime import timedelta

    from db.repository import FailedPage

    backoff = [timedelta(days=1), timedelta(days=7), timedelta(days=28)]
    page = FailedPage("https://f/1", "clib", "https://f/1", "article answered HTTP 503")
    waits = []
    for _ in range(4):
        outcome = repo.record_failure(page, backoff)
        assert outcome.retry_at is not None
        waits.append(round((outcome.retry_at - datetime.now(UTC)).total_seconds() / 86400))
    assert waits == [1, 7, 28, 28]
    assert repo.is_known("https://f/1")  # waiting for its retry: not fetched
    assert repo.is_known("https://f/1", now=datetime.now(UTC) + timedelta(days=29)) is False
    assert repo.feed_articles(None, 10) == []
    # It extracts at last: stored, published, and a later failure does not undo that.
    assert repo.add_article(record("https://f/1"))[0] is AddResult.NEW
    assert repo.failures() == []
    assert repo.record_failure(page, backoff).retry_at is None
    assert [a.canonical_url for a in repo.feed_articles(None, 10)] == ["https://f/1"]


def test_copies_stored_at_the_same_moment_form_one_story(repo: Repository) -> None:
    """20 rounds of two crawls storing copies of one announcement at once (threads, one
    engine each way): always one story, one published entry."""
    from scraper.stories import fingerprint, same_story

    for round_ in range(20):
        words = [f"wort{round_}x{i}" for i in range(60)]  # a different announcement per round
        text = "Das Cluster meldet: " + " ".join(words) + "."
        barrier = threading.Barrier(2)

        def store(url: str, body: str, barrier: threading.Barrier = barrier) -> None:
            rec = record(url, body, source="bmwe" if "bmwe" in url else "clusterplattform")
            print_ = fingerprint(rec.title, body, rec.content_hash)
            rec.title_key, rec.bands, rec.minhash = print_.title_key, print_.bands, print_.minhash
            barrier.wait()
            repo.add_article(
                rec,
                lambda c, body=body: same_story("Titel", body, None, rec.content_hash, c),
            )

        threads = [
            threading.Thread(target=store, args=(f"https://bmwe/{round_}", text)),
            threading.Thread(
                target=store, args=(f"https://cp/{round_}", text + " © BMWK/Foto Meyer")
            ),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        story = repo.story_of(f"https://bmwe/{round_}")
        assert story is not None and len(story.others) == 1, f"round {round_}"
    published = repo.feed_stories(None, 100)
    assert len(published) == 20


def test_stories_are_queryable_by_topic(repo: Repository) -> None:
    repo.add_article(record("https://t/1", topics=["region:Sachsen", "field:Energie"]))
    other = TEXT.replace("Biotechnologie", "Logistik") + " Ganz andere Meldung hier."
    repo.add_article(record("https://t/2", other, topics=["region:Bayern"]))
    found = repo.feed_stories(None, 10, topic="region:Sachsen")
    assert [fs.lead.canonical_url for fs in found] == ["https://t/1"]
    assert repo.feed_stories(None, 10, topic="region:Sach") == []  # whole keys only


def test_migration_backfills_stories_from_duplicate_of(tmp_path: Path) -> None:
    from sqlalchemy import text as sql

    from db.engine import create_db_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    with create_db_engine(url).begin() as connection:
        for i, (dup, relevance) in enumerate(
            [(None, "relevant"), (1, "relevant"), (None, "irrelevant")], start=1
        ):
            connection.execute(
                sql(
                    "INSERT INTO articles (id, canonical_url, source, url, title, text, html,"
                    " first_seen_at, content_hash, relevance, topics, alternates, duplicate_of,"
                    " raw_headers, state, attempts) VALUES (:i, :u, 'clib', :u, 'T', 'x', '',"
                    " '2024-01-01 00:00:00', :h, :r, '[]', '[]', :d, '{}', 'stored', 0)"
                ),
                {"i": i, "u": f"https://m/{i}", "h": f"h{i}", "r": relevance, "d": dup},
            )
    upgrade(url)
    repository = Repository(url)
    groups = {
        frozenset(a.canonical_url for a in members): story
        for story, members in repository.stories()
    }
    assert set(groups) == {frozenset({"https://m/1", "https://m/2"}), frozenset({"https://m/3"})}
    published = groups[frozenset({"https://m/1", "https://m/2"})]
    assert published.published and published.guid == "https://m/1"
    assert not groups[frozenset({"https://m/3"})].published


def test_stories_are_selected_by_a_feed_query_on_both_backends(repo: Repository) -> None:
    """Named feeds' queries: topic groups (an umlaut in a key), sources, score, keywords."""
    from db.repository import StoryQuery, Terms

    texts = [
        "Erste Meldung über Wasserstoffnetze in Thüringen und die Bioökonomiestrategie. " * 3,
        "Zweite Nachricht: Photonik-Forschung in Jena mit vielen Partnern vor Ort. " * 3,
        "Dritter Bericht zur Logistik im Hafen von Hamburg und zur Schifffahrt heute. " * 3,
    ]
    rows = [
        ("https://q/1", "clib", ["region:Thüringen", "field:Energie"], 9.0),
        ("https://q/2", "openpr", ["region:Thüringen", "field:Photonik"], 4.0),
        ("https://q/3", "openpr", ["region:Hamburg", "field:Logistik"], 12.0),
    ]
    for day, ((url, source, topics, score), text) in enumerate(zip(rows, texts, strict=True)):
        rec = record(url, text, source=source, topics=topics, relevance_score=score)
        rec.published_at = datetime(2024, 1, day + 1, tzinfo=UTC)
        repo.add_article(rec)

    def urls(query: StoryQuery, source: str | None = None) -> list[str]:
        return [fs.lead.canonical_url for fs in repo.feed_stories(source, 10, query=query)]

    thueringen = Terms(all=("region:Thüringen",))
    assert urls(StoryQuery(topics=(thueringen,))) == ["https://q/2", "https://q/1"]
    not_energy = Terms(any=("region:Thüringen", "region:Hamburg"), none=("field:Energie",))
    assert urls(StoryQuery(topics=(not_energy,))) == ["https://q/3", "https://q/2"]
    assert urls(StoryQuery(sources=Terms(none=("openpr",)))) == ["https://q/1"]
    assert urls(StoryQuery(topics=(thueringen,)), source="openpr") == ["https://q/2"]
    assert urls(StoryQuery(min_score=9)) == ["https://q/3", "https://q/1"]
    assert urls(StoryQuery(keywords=Terms(any=("BIOÖKONOMIE", "hafen")))) == [
        "https://q/3",
        "https://q/1",
    ]
    keys = repo.feed_story_keys(None, StoryQuery(keywords=Terms(none=("jena",))))
    assert [k.topics for k in keys] == [tuple(rows[0][2]), tuple(rows[2][2])]  # oldest first
    found = repo.stories_by_id([keys[1].id, keys[0].id])
    assert [fs.lead.canonical_url for fs in found] == ["https://q/3", "https://q/1"]


def test_archive_search_paging_and_filters_on_both_backends(repo: Repository) -> None:
    """Full-text search over the lead: umlauts, any case, a word at the start of a compound
    (FTS5 trigram on SQLite, German stemming with prefixes on PostgreSQL)."""
    from db.repository import StoryQuery, Terms

    texts = [
        "Das Cluster legt seine Bioökonomiestrategie für Thüringen vor und lädt ein. " * 3,
        "Wasserstoffnetze im Norden: das Netzwerk wächst um zwölf Mitglieder weiter. " * 3,
        "Künstliche Intelligenz in der Fertigung, ein Bericht aus Süddeutschland heute. " * 3,
    ]
    for day, text in enumerate(texts):
        rec = record(f"https://s/{day}", text, source="openpr" if day else "clib")
        rec.published_at = datetime(2024, 2, day + 1, tzinfo=UTC)
        repo.add_article(rec)

    def found(search: str | None, **kw: object) -> list[str]:
        page = repo.archive_stories(search=search, **kw)  # type: ignore[arg-type]
        return [fs.lead.canonical_url for fs in page.stories]

    assert found("BIOÖKONOMIE") == ["https://s/0"]  # compound, umlaut, upper case
    assert found("wasserstoff mitglieder") == ["https://s/1"]  # every word
    assert found("künstliche") == ["https://s/2"]
    # the later part of a compound: FTS5 trigrams on SQLite, pg_trgm on PostgreSQL
    assert found("strategie") == ["https://s/0"]
    assert found("stoffnetze wächst") == ["https://s/1"]
    assert found("Quantencomputer") == []
    assert found(None) == ["https://s/2", "https://s/1", "https://s/0"]
    second = repo.archive_stories(offset=1, limit=1)
    assert second.total == 3 and [fs.lead.canonical_url for fs in second.stories] == ["https://s/1"]
    only_openpr = StoryQuery(sources=Terms(all=("openpr",)))
    assert found(None, query=only_openpr) == ["https://s/2", "https://s/1"]
    story = repo.archive_stories(search="Thüringen").stories[0].story
    published = repo.published_story(story.id)
    assert published is not None and published.lead.canonical_url == "https://s/0"


def test_archive_count_is_capped_and_paging_still_knows_older_pages(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    import db.repository

    monkeypatch.setattr(db.repository, "ARCHIVE_COUNT_CAP", 2)
    for n, topic in enumerate(["Wasserstoff", "Photonik", "Logistik", "Chemie"]):
        text = f"Meldung {n} über {topic} mit eigenen Worten Nummer {n}. " * 4
        repo.add_article(record(f"https://c/{n}", text))
    page = repo.archive_stories(offset=0, limit=1)
    assert (page.total, page.capped, page.more) == (2, True, True)
    last = repo.archive_stories(offset=3, limit=1)
    assert len(last.stories) == 1 and not last.more


def test_a_batch_counts_template_lines_as_one_page_at_a_time_does(repo: Repository) -> None:
    # The batch counts every line of every new page once per page (a line twice on a page
    # counts once), skips known pages, and adds to the counts already stored.
    from db.repository import StoreEntry

    repo.count_lines("clib", ["nav", "footer"])
    pages = [
        ("https://a/1", "clib", ["nav", "footer", "nav", "x1"]),
        ("https://a/2", "clib", ["nav", "x2"]),
        ("https://b/1", "openpr", ["nav", "y"]),
        ("https://a/1", "clib", ["nav", "footer"]),  # the same page again: known
    ]
    entries = [
        StoreEntry(record(url, TEXT + url, source=source), None, lines)
        for url, source, lines in pages
    ]
    results = repo.add_articles(entries)
    assert [r for r, _ in results] == [AddResult.NEW] * 3 + [AddResult.KNOWN]

    assert repo.frequent_lines("clib", 1, 0.0) == ({"nav", "footer", "x1", "x2"}, 3)
    assert repo.frequent_lines("clib", 3, 0.0) == ({"nav"}, 3)
    assert repo.frequent_lines("clib", 2, 0.0) == ({"nav", "footer"}, 3)
    assert repo.frequent_lines("openpr", 1, 0.0) == ({"nav", "y"}, 1)


def test_archive_search_follows_a_redated_or_reworded_lead(repo: Repository) -> None:
    """The search index follows each story's lead: a re-extraction that moves a story's
    date moves it in the search results (SQLite keys its full-text rows by the archive
    order), one that changes its words finds it by the new words only, and stories within
    one second keep the archive's order across page boundaries (the key orders a second by
    story id alone)."""
    text = "Wasserstoff im Netzwerk: ein Bericht über neue Partner und Projekte. " * 3

    def article(url: str, body: str, when: datetime) -> ArticleRecord:
        rec = record(url, body)
        rec.published_at = when
        return rec

    for n in range(3):
        repo.add_article(
            article(f"https://r/{n}", f"{text} Nummer {n}", datetime(2024, 3, n + 1, tzinfo=UTC))
        )

    def found(search: str | None, **kw: object) -> list[str]:
        page = repo.archive_stories(search=search, **kw)  # type: ignore[arg-type]
        return [fs.lead.canonical_url for fs in page.stories]

    assert found("wasserstoff") == ["https://r/2", "https://r/1", "https://r/0"]
    moved = article("https://r/0", f"{text} Nummer 0", datetime(2024, 3, 10, tzinfo=UTC))
    assert repo.replace_article(moved)
    assert found("wasserstoff") == ["https://r/0", "https://r/2", "https://r/1"]
    page = repo.archive_stories(search="wasserstoff")
    assert (page.total, page.capped, page.more) == (3, False, False)  # no stale entry left
    reworded = "Photonik und Leichtbau: der Verbund stellt seine Ergebnisse vor. " * 3
    assert repo.replace_article(article("https://r/1", reworded, datetime(2024, 3, 2, tzinfo=UTC)))
    assert found("wasserstoff") == ["https://r/0", "https://r/2"]
    assert found("photonik") == ["https://r/1"]

    # Three stories in one second, the earliest stored (lowest id) dated latest.
    noon = datetime(2024, 4, 1, 12, 0, 0, tzinfo=UTC)
    for n, micro in enumerate([900, 500, 100]):
        when = noon.replace(microsecond=micro)
        repo.add_article(article(f"https://t/{n}", f"Reallabor Quartier {n}. " * 12, when))
    expected = ["https://t/0", "https://t/1", "https://t/2"]
    assert found(None)[:3] == expected
    assert found("reallabor") == expected
    for offset, url in enumerate(expected):
        page = repo.archive_stories(search="reallabor", offset=offset, limit=1)
        assert [fs.lead.canonical_url for fs in page.stories] == [url]
        assert page.more == (offset < 2) and page.total == 3
    # A rebuild of the whole index (over the entries there) gives the same answers.
    assert repo.reindex_search() == 6
    assert found("reallabor") == expected
    assert found("wasserstoff") == ["https://r/0", "https://r/2"]


def test_migration_keys_existing_search_entries(tmp_path: Path) -> None:
    """A database indexed before 0010 (FTS rows keyed by story id) is found by search, in
    archive order, after the upgrade."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0008")
    from sqlalchemy import text as sql

    from db.engine import create_db_engine

    with create_db_engine(url).begin() as connection:
        for n in range(1, 4):  # the first stored is the newest
            day = f"2024-05-0{4 - n} 00:00:00.000000"
            body = f"Bioökonomie im Verbund, Meldung {n}. " * 6
            connection.execute(
                sql(
                    "INSERT INTO stories (id, published, guid, order_at, topics, created_at)"
                    " VALUES (:i, 1, :u, :d, '[]', :d)"
                ),
                {"i": n, "u": f"https://o/{n}", "d": day},
            )
            connection.execute(
                sql(
                    "INSERT INTO articles (id, canonical_url, source, url, title, text, html,"
                    " published_at, first_seen_at, content_hash, relevance, topics, alternates,"
                    " raw_headers, state, attempts, story_id) VALUES (:i, :u, 'clib', :u, 'T',"
                    " :t, '', :d, :d, :h, 'relevant', '[]', '[]', '{}', 'stored', 0, :i)"
                ),
                {"i": n, "u": f"https://o/{n}", "t": body, "d": day, "h": f"h{n}"},
            )
            connection.execute(
                sql("UPDATE stories SET lead_article_id = :i WHERE id = :i"), {"i": n}
            )
            connection.execute(
                sql("INSERT INTO story_search(rowid, title, body) VALUES (:i, 'T', :t)"),
                {"i": n, "t": body},
            )
    upgrade(url)
    page = Repository(url).archive_stories(search="bioökonomie")
    assert [fs.lead.canonical_url for fs in page.stories] == [f"https://o/{n}" for n in (1, 2, 3)]
    assert page.total == 3


def test_archive_search_pages_agree_with_the_full_match_set(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page and count of a search equals what the whole match set gives, whichever
    way the backend reads it: windows shrunk so that PostgreSQL's walk of the newest
    stories, its widened walk and its GIN fallback all run, and SQLite's key order meets
    the end of the matches and the count cap."""
    import db.repository
    from db.repository import StoryQuery, Terms

    monkeypatch.setattr(db.repository, "ARCHIVE_COUNT_CAP", 5)
    monkeypatch.setattr(db.repository, "ARCHIVE_PROBE", 3)
    monkeypatch.setattr(db.repository, "ARCHIVE_WALK", 9)
    words = {}
    for n in range(16):
        held = ["Verbundprojekt"]  # every story
        held += ["Leichtbauforschung"] if n % 3 == 0 else []  # a third, spread
        held += ["Marsmission"] if n < 2 else []  # only the two oldest
        body = f"Meldung {n}: " + " ".join(held) + f" im Quartier Nummer{n}. " * 4
        rec = record(f"https://w/{n}", body, source="openpr" if n % 2 else "clib")
        rec.published_at = datetime(2024, 6, 1, tzinfo=UTC) + timedelta(days=n)
        repo.add_article(rec)
        words[f"https://w/{n}"] = (set(held), rec.source)
    newest_first = [f"https://w/{n}" for n in reversed(range(16))]
    for search, source in [
        ("verbundprojekt", None),
        ("leichtbau", None),
        ("marsmission", None),
        ("forschung verbundprojekt", "openpr"),
        ("marsmission", "openpr"),
        (None, "openpr"),
    ]:
        wanted = [
            url
            for url in newest_first
            if all(any(w in h.casefold() for h in words[url][0]) for w in (search or "").split())
            and (source is None or words[url][1] == source)
        ]
        query = StoryQuery(sources=Terms(all=(source,))) if source else None
        for offset in range(len(wanted) + 1):
            page = repo.archive_stories(query, search, offset, limit=2)
            got = [fs.lead.canonical_url for fs in page.stories]
            assert got == wanted[offset : offset + 2], (search, source, offset)
            assert page.total == min(len(wanted), 5), (search, source, offset)
            assert page.capped == (len(wanted) > 5) and page.more == (offset + 2 < len(wanted))
