"""The feed builder against a real SQLite database, checked with feedparser and lxml."""

from __future__ import annotations

import calendar
import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from db.models import Article
from db.repository import ArticleRecord, Repository
from monitor.feeds import (
    FORMATS,
    FeedSpec,
    build_feeds,
    plain_description,
    render_feed,
    write_if_changed,
)
from scraper.config import Config
from tests.monitor.conftest import FEED_SOURCES

AddArticle = Callable[..., ArticleRecord]
ILLEGAL = "\x00\x01\x08\x0b\x0c\x1f\ufffe\uffff"
NS = {"atom": "http://www.w3.org/2005/Atom", "content": "http://purl.org/rss/1.0/modules/content/"}


def build(config: Config, repository: Repository) -> list[Path]:
    return build_feeds(config, repository, FEED_SOURCES)


def parse(path: Path) -> Any:
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def guids(path: Path) -> list[str]:
    return [entry.id for entry in parse(path).entries]


def test_builds_rss_atom_and_json_feed_for_all_and_each_source_and_the_opml(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    add_article(source="alpha")
    add_article(source="beta")
    changed = build(feed_config, repository)

    feeds = {f"{stem}.{suffix}" for stem in ("all", "alpha", "beta") for suffix in FORMATS}
    assert {p.name for p in changed} == {*feeds, "feeds.opml"}
    # no temp files left; every served file has its gzip twin, written at build time, and
    # each feed the signature of its build (a dot file, never served)
    served = {*feeds, "feeds.opml"}
    assert {p.name for p in feed_config.feeds_dir.iterdir()} == served | {
        f"{name}.gz" for name in served
    } | {f".{stem}.built" for stem in ("all", "alpha", "beta")}
    for name in served:
        path = feed_config.feeds_dir / name
        assert gzip.decompress((path.parent / f"{name}.gz").read_bytes()) == path.read_bytes()
    for name in feeds:
        path = feed_config.feeds_dir / name
        if name.endswith(".json"):  # this feedparser reads no JSON Feed
            assert json.loads(path.read_bytes())["version"] == "https://jsonfeed.org/version/1.1"
        else:
            assert parse(path).version == ("rss20" if name.endswith(".xml") else "atom10")


def test_entry_fields_follow_the_design(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    published = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    record = add_article(
        url="https://alpha.example/news/1?jsessionid=x",
        canonical_url="https://alpha.example/news/1",
        title="Wasserstoff-Cluster gegründet",
        text="Erster Absatz über das Cluster.\nZweiter Absatz " + "mit viel Text " * 40,
        html="<p>Erster Absatz über das Cluster.</p><script>alert(1)</script>"
        '<p onclick="evil()">Zweiter <a href="javascript:evil()">Absatz</a></p>',
        topics=["Wasserstoff", "Energie", "Wasserstoff"],
        published_at=published,
    )
    build(feed_config, repository)

    rss = parse(feed_config.feeds_dir / "all.xml").entries[0]
    assert rss.id == record.canonical_url
    assert rss.link == record.url
    assert rss.title == "Wasserstoff-Cluster gegründet"
    assert calendar.timegm(rss.published_parsed) == published.timestamp()
    assert [t.term for t in rss.tags] == ["Alpha Cluster", "Wasserstoff", "Energie"]
    content = rss.content[0].value
    assert "<p>Erster Absatz über das Cluster.</p>" in content
    assert "<script" not in content and "onclick" not in content and "javascript:" not in content
    assert "<" not in rss.summary and len(rss.summary) <= 300
    assert rss.summary.startswith("Erster Absatz über das Cluster. Zweiter Absatz")
    assert rss.summary.endswith("…")

    tree = etree.parse(str(feed_config.feeds_dir / "all.xml"))
    assert tree.findtext("channel/item/guid") == record.canonical_url
    assert tree.find("channel/item/guid").get("isPermaLink") == "true"
    assert tree.findtext("channel/item/content:encoded", namespaces=NS) == content

    atom = parse(feed_config.feeds_dir / "all.atom").entries[0]
    assert atom.id == record.canonical_url
    assert atom.link == record.url
    assert atom.content[0].type == "text/html" and "<script" not in atom.content[0].value
    assert [t.term for t in atom.tags] == ["Alpha Cluster", "Wasserstoff", "Energie"]


def test_published_falls_back_to_first_seen(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    record = add_article(published_at=None)
    build(feed_config, repository)
    stored = repository.article(record.canonical_url)
    assert stored is not None
    entry = parse(feed_config.feeds_dir / "all.xml").entries[0]
    assert calendar.timegm(entry.published_parsed) == int(stored.first_seen_at.timestamp())


def test_plain_text_html_fallback_when_no_html_stored(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    add_article(html="", text="Zeile <eins>\nZeile zwei")
    build(feed_config, repository)
    content = parse(feed_config.feeds_dir / "all.xml").entries[0].content[0].value
    assert content == "<p>Zeile &lt;eins&gt;</p><p>Zeile zwei</p>"


def test_channel_metadata_self_links_and_deterministic_build_date(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    add_article(source="alpha")
    add_article(source="beta")
    build(feed_config, repository)
    newest_seen = max(a.first_seen_at for a in repository.articles()).replace(microsecond=0)
    # alpha's feed is dated by alpha's newest article (beta's may be a second later)
    alpha_seen = max(a.first_seen_at for a in repository.articles("alpha")).replace(microsecond=0)

    rss = etree.parse(str(feed_config.feeds_dir / "alpha.xml"))
    self_link = rss.find("channel/atom:link[@rel='self']", namespaces=NS)
    assert self_link.get("href") == "https://feeds.example/feeds/alpha.xml"
    assert parsedate_to_datetime(rss.findtext("channel/lastBuildDate")) == alpha_seen

    atom = parse(feed_config.feeds_dir / "all.atom")
    self_links = [link.href for link in atom.feed.links if link.rel == "self"]
    assert self_links == ["https://feeds.example/feeds/all.atom"]
    assert calendar.timegm(atom.feed.updated_parsed) == newest_seen.timestamp()


def test_rebuild_without_new_items_is_byte_identical_and_guids_are_stable(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    add_article(source="alpha", published_at=datetime(2024, 1, 1, tzinfo=UTC))
    add_article(source="beta", published_at=datetime(2024, 1, 2, tzinfo=UTC))
    build(feed_config, repository)
    before = {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in feed_config.feeds_dir.iterdir()
    }
    old_guids = guids(feed_config.feeds_dir / "all.xml")

    assert build(feed_config, repository) == []
    after = {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in feed_config.feeds_dir.iterdir()
    }
    assert after == before  # bytes and mtime: ETag and Last-Modified stay put

    new = add_article(source="alpha", published_at=datetime(2024, 2, 1, tzinfo=UTC))
    changed = build(feed_config, repository)
    assert {p.name for p in changed} == {
        f"{stem}.{suffix}" for stem in ("all", "alpha") for suffix in FORMATS
    }
    assert guids(feed_config.feeds_dir / "all.xml") == [new.canonical_url, *old_guids]


def test_xml_illegal_characters_are_removed(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    add_article(
        title=f"Kaputt{ILLEGAL}er Titel",
        text=f"Text{ILLEGAL} mit Steuerzeichen",
        html=f"<p>HTML{ILLEGAL} mit Steuerzeichen</p>",
        topics=[f"Thema{ILLEGAL}"],
    )
    build(feed_config, repository)
    for name in ("all.xml", "all.atom", "alpha.xml", "alpha.atom"):
        path = feed_config.feeds_dir / name
        text = path.read_bytes().decode("utf-8")
        assert not set(ILLEGAL) & set(text), path.name
        entry = parse(path).entries[0]
        assert entry.title == "Kaputter Titel"
        assert "HTML mit Steuerzeichen" in entry.content[0].value
        assert "Thema" in [t.term for t in entry.tags]


def test_lone_surrogates_are_removed() -> None:
    # SQLite cannot even store lone surrogates, so render an unsaved row directly.
    article = Article(
        canonical_url="https://alpha.example/s",
        source="alpha",
        url="https://alpha.example/s",
        title="Sur\ud800rogat",
        text="Text \udfff hier",
        html="<p>HTML \ud83d hier</p>",
        topics=["T\udc00"],
        published_at=datetime(2024, 1, 1, tzinfo=UTC),
        first_seen_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    config = Config(feed_base_url="https://feeds.example")
    for document in render_feed(
        config, FeedSpec("all", "all", None), [article], {"alpha": "Alpha"}
    ):
        parsed = feedparser.parse(document)
        assert parsed.bozo == 0
        assert parsed.entries[0].title == "Surrogat"


def test_newest_entries_only(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    config = feed_config.model_copy(update={"feed_max_entries": 3})
    start = datetime(2024, 1, 1, tzinfo=UTC)
    records = [add_article(published_at=start + timedelta(days=i)) for i in range(5)]
    build(config, repository)
    newest_first = [r.canonical_url for r in reversed(records)][:3]
    assert guids(config.feeds_dir / "all.xml") == newest_first
    assert guids(config.feeds_dir / "all.atom") == newest_first


def test_per_source_feeds_hold_only_their_source(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    alpha = [add_article(source="alpha").canonical_url for _ in range(2)]
    beta = [add_article(source="beta").canonical_url for _ in range(3)]
    build(feed_config, repository)
    assert sorted(guids(feed_config.feeds_dir / "alpha.atom")) == sorted(alpha)
    assert sorted(guids(feed_config.feeds_dir / "beta.xml")) == sorted(beta)
    assert sorted(guids(feed_config.feeds_dir / "all.xml")) == sorted(alpha + beta)


def test_irrelevant_articles_are_left_out_and_copies_are_one_story(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    original = add_article(content_hash="same-text")
    add_article(content_hash="same-text", url="https://beta.example/copy", source="beta")
    add_article(relevance="irrelevant")
    build(feed_config, repository)
    assert guids(feed_config.feeds_dir / "all.xml") == [original.canonical_url]
    # The copy's source lists the story too — one entry, the same GUID.
    assert guids(feed_config.feeds_dir / "beta.atom") == [original.canonical_url]


def test_empty_database_gives_valid_empty_feeds(
    feed_config: Config, repository: Repository
) -> None:
    build(feed_config, repository)
    for path in feed_config.feeds_dir.glob("*.atom"):
        assert parse(path).entries == []
    for path in feed_config.feeds_dir.glob("*.xml"):
        assert parse(path).entries == []
    for path in feed_config.feeds_dir.glob("*.json"):
        assert json.loads(path.read_bytes())["items"] == []
    assert build(feed_config, repository) == []


def test_output_dir_overrides_the_feeds_dir(
    feed_config: Config, repository: Repository, add_article: AddArticle, tmp_path: Path
) -> None:
    add_article()
    out = tmp_path / "elsewhere"
    build_feeds(feed_config, repository, FEED_SOURCES, output_dir=out)
    assert (out / "all.xml").is_file()
    assert not feed_config.feeds_dir.exists()


def test_plain_description_cuts_at_a_word() -> None:
    assert plain_description("kurz  und\n\tknapp") == "kurz und knapp"
    cut = plain_description("wort " * 100, limit=23)
    assert cut == "wort wort wort wort…"


def test_a_change_always_advances_the_whole_second_mtime(tmp_path: Path) -> None:
    # Last-Modified has one-second resolution; curl-based readers ignore a 200 whose
    # Last-Modified is not newer than what they have, so two changes within one second
    # must still yield two different seconds.
    path = tmp_path / "all.xml"
    assert write_if_changed(path, b"<rss>1</rss>")
    seconds = [int(path.stat().st_mtime)]
    for n in (2, 3):
        assert write_if_changed(path, f"<rss>{n}</rss>".encode())
        seconds.append(int(path.stat().st_mtime))
    assert seconds[0] < seconds[1] < seconds[2]
    assert not write_if_changed(path, b"<rss>3</rss>")
    assert int(path.stat().st_mtime) == seconds[2]
    assert [p.name for p in tmp_path.iterdir()] == ["all.xml"]


def test_extracted_structure_reaches_the_feed(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    """Headings, lists, paragraphs and links of the extracted HTML survive into the feed."""
    from scraper.extract import ExtractionRules, extract
    from tests.test_extract_units import STRUCTURED

    rules = ExtractionRules(body_xpaths=("//div[@class='content']",), title_xpaths=("//h1",))
    extracted = extract(STRUCTURED, "https://alpha.example/news/a.html", rules)
    add_article(html=extracted.html, text=extracted.text)
    build(feed_config, repository)
    for name in ("all.xml", "all.atom"):
        content = parse(feed_config.feeds_dir / name).entries[0].content[0].value
        assert "<h2>Neue Partner</h2>" in content
        assert "<ul><li>" in content and "<p>" in content
        assert 'href="https://alpha.example/bericht.html"' in content
        assert "javascript:" not in content and "<script" not in content


def test_one_entry_per_story_with_every_other_place_and_a_fixed_guid(
    feed_config: Config, repository: Repository, add_article: AddArticle
) -> None:
    """The first copy publishes the story; a later, more complete copy from the same day
    becomes the lead version — the entry keeps its GUID, gets an updated date and names the
    other place it appeared."""
    day = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    first = add_article(source="beta", content_hash="same", text="Kurz. " * 20, published_at=day)
    build(feed_config, repository)
    before = parse(feed_config.feeds_dir / "all.atom").entries
    assert [e.id for e in before] == [first.canonical_url]
    longer = add_article(
        source="alpha", content_hash="same", text="Ausführlich. " * 40, published_at=day
    )
    build(feed_config, repository)
    after = parse(feed_config.feeds_dir / "all.atom").entries
    assert len(after) == 1
    entry = after[0]
    assert entry.id == first.canonical_url  # fixed at first publication
    assert entry.link == longer.url  # the lead is the most complete copy
    assert "Auch erschienen bei" in entry.content[0].value
    assert f'href="{first.url}"' in entry.content[0].value
    assert entry.updated_parsed > entry.published_parsed
    assert {t.term for t in entry.tags} >= {"Alpha Cluster", "Beta Netzwerk"}
    # Both sources' feeds list it, under the same GUID.
    for name in ("alpha.xml", "beta.xml"):
        assert guids(feed_config.feeds_dir / name) == [first.canonical_url]


# -- skipping the rendering of an unchanged feed -------------------------------------------


def feed_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")}


def test_an_unchanged_feed_is_not_rendered_again_but_a_missing_file_is_written(
    feed_config: Config,
    repository: Repository,
    add_article: AddArticle,
    monkeypatch: Any,
) -> None:
    import monitor.feeds as feeds

    add_article(source="alpha")
    add_article(source="beta")
    build(feed_config, repository)
    before = feed_bytes(feed_config.feeds_dir)
    rendered: list[str] = []
    real = feeds.render_feed

    def counting(config: Config, spec: FeedSpec, *args: Any, **kwargs: Any) -> Any:
        rendered.append(spec.name)
        return real(config, spec, *args, **kwargs)

    monkeypatch.setattr(feeds, "render_feed", counting)
    assert build(feed_config, repository) == []
    assert rendered == []
    assert feed_bytes(feed_config.feeds_dir) == before
    # A served file gone (removed by hand, a restored backup without it): that feed is
    # built again, the others are not.
    (feed_config.feeds_dir / "beta.json").unlink()
    assert [p.name for p in build(feed_config, repository)] == ["beta.json"]
    assert rendered == ["beta"]
    assert feed_bytes(feed_config.feeds_dir) == before


def test_a_changed_withdrawn_or_redated_story_rebuilds_the_feed_as_a_full_build_would(
    feed_config: Config, repository: Repository, add_article: AddArticle, tmp_path: Path
) -> None:
    from dataclasses import replace

    from db.repository import Classification

    records = [
        add_article(source=source, published_at=datetime(2024, 1, day, tzinfo=UTC))
        for day, source in ((1, "alpha"), (2, "beta"), (3, "alpha"), (4, "beta"))
    ]
    build(feed_config, repository)

    def check(changed: set[str]) -> None:
        built = {p.name for p in build(feed_config, repository)}
        assert built == changed
        fresh = tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}"
        build_feeds(feed_config, repository, FEED_SOURCES, output_dir=fresh)
        assert feed_bytes(feed_config.feeds_dir) == feed_bytes(fresh)

    every = {f"{stem}.{sfx}" for stem in ("all", "alpha") for sfx in FORMATS}
    # Only the HTML of an entry changes (same text, so the same content hash).
    repository.replace_article(replace(records[0], html="<p>Corrected <b>HTML</b>.</p>"))
    check(every)
    assert b"Corrected" in (feed_config.feeds_dir / "alpha.xml").read_bytes()
    # Re-dated: the oldest alpha story becomes the newest of all.
    repository.replace_article(replace(records[0], published_at=datetime(2024, 2, 1, tzinfo=UTC)))
    check(every)
    assert guids(feed_config.feeds_dir / "all.xml")[0] == records[0].canonical_url
    # Withdrawn (reclassified irrelevant): it leaves the feeds it was in.
    beta = repository.article(records[3].canonical_url)
    assert beta is not None
    repository.apply_classification([Classification(beta.id, "irrelevant", 0.0, [], [])])
    check({f"{stem}.{sfx}" for stem in ("all", "beta") for sfx in FORMATS})
    assert records[3].canonical_url not in guids(feed_config.feeds_dir / "all.xml")
    # Nothing changed since: nothing is rendered or written.
    assert build(feed_config, repository) == []


def test_one_fsync_per_served_file_and_a_torn_twin_is_written_again(
    feed_config: Config,
    repository: Repository,
    add_article: AddArticle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A build syncs each served document once; the gzip twins and the build marks are not
    synced (the server serves a twin only when it decompresses to its file), and a twin a
    crash left torn is replaced by the build that follows, though its file is unchanged."""
    import os

    add_article(source="alpha")
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    changed = build(feed_config, repository)
    served = {p.name for p in changed}
    assert "alpha.json" in served and "all.xml" in served
    names = [Path(p).name for p in synced]
    # each synced file is a temp file of a served document: ".<name>.<random>.tmp"
    assert sorted(n.split(".tmp")[0].rsplit(".", 1)[0].lstrip(".") for n in names) == sorted(served)
    # A crash mid-build: a twin torn, the build mark (written last) not there.
    twin = feed_config.feeds_dir / "alpha.xml.gz"
    twin.write_bytes(twin.read_bytes()[:20])
    (feed_config.feeds_dir / ".alpha.built").unlink()
    synced.clear()
    assert build(feed_config, repository) == []  # nothing served changed …
    plain = (feed_config.feeds_dir / "alpha.xml").read_bytes()
    assert gzip.decompress(twin.read_bytes()) == plain  # … yet the twin is whole again
    assert synced == []
