"""The feed builder: RSS 2.0, Atom and JSON Feed 1.1 files for all sources, one set per
source, and the OPML list of them all (``feeds.opml``).

One entry per **story** (one announcement, wherever it appeared): the lead version's title,
text and link, the story's GUID (fixed at first publication), ``updated`` when a later copy
or a re-extraction changed it, "Auch erschienen bei: …" links to every other place it
appeared, and the sources and topics as categories. A source's feed lists the stories it
has a copy in.

Output is deterministic: the build date is the newest entry's ``first_seen_at``, not "now",
so rebuilding without new articles yields byte-identical files. A file is only rewritten
when its bytes change, which keeps its mtime (Last-Modified) and hash (ETag) stable and lets
readers get 304s. Writes are atomic (temp file in the same directory + ``os.replace``).
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import nh3
from feedgen.feed import FeedEntry, FeedGenerator
from lxml import etree

from db.models import Article
from db.repository import FeedStory, Repository, StoryQuery, Terms
from monitor.errors import Problem
from scraper.classify import topic_key
from scraper.config import Config, Match
from scraper.sources import SourceSpec
from scraper.text import printable, shorten
from scraper.urls import absolute_url

ALL_FEED = "all"
DESCRIPTION_CHARS = 300
# An empty feed still needs a build date; a constant keeps rebuilds byte-identical. It is
# the project's own start, not the Unix epoch: validators call 1970 "implausible".
EMPTY_FEED_DATE = datetime(2024, 1, 1, tzinfo=UTC)
OPML_FILE = "feeds.opml"
GZIP_SUFFIX = ".gz"  # every served file has a gzip twin, written with it
# Measured on a top-100 feed (360 kB): level 4 compresses in 2.4 ms to 40 kB, level 6 (the
# default) in 5.4 ms to 35 kB — compression was a fifth of a feed build's CPU at 6.
GZIP_LEVEL = 4
ARCHIVE_DIR = "archive"
ARCHIVE_FORMATS = ("xml", "atom")  # JSON Feed has no archive relation
ARCHIVE_LAYOUT = 1  # bump when archive pages must all be rendered again
FEED_LAYOUT = 1  # bump when every subscription document must be rendered again
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# The formats of every feed: file suffix → media type (the self links name it too).
FORMATS = {
    "xml": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
_WHITESPACE = re.compile(r"\s+")
# Tags a feed reader can render; everything else (script, style, forms, iframes) is dropped.
_CONTENT_TAGS = {
    "p", "br", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "pre", "code",
    "em", "strong", "b", "i", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


@dataclass(frozen=True)
class FeedSpec:
    """One feed: its file stem, title, the source it is limited to (None = all) and, for a
    named filtered feed, its query."""

    name: str
    title: str
    source: str | None
    query: StoryQuery | None = None


class FeedWriteError(Problem):
    """The feed directory could not be written (exit status 3 from the CLI)."""


class FeedDefinitionError(ValueError):
    """A ``[feeds.<name>]`` definition names something that does not exist."""


def build_feeds(
    config: Config,
    repository: Repository,
    sources: Sequence[SourceSpec],
    output_dir: Path | None = None,
) -> list[Path]:
    """Write ``<feed>.xml``/``.atom``/``.json`` for ``all`` and each source, and
    ``feeds.opml``; return the changed files.

    A directory that cannot be written (read-only, full, gone) raises
    :class:`FeedWriteError` naming it; every file is replaced atomically, so each one is
    either its previous version or the new one, never half-written.
    """
    target = output_dir or config.feeds_dir
    try:
        return _build_feeds(config, repository, sources, target)
    except OSError as error:
        where = error.filename or target
        reason = error.strerror or type(error).__name__
        raise FeedWriteError(
            f"feeds not written to {target}: {where}: {reason} "
            "(the previous feed files are kept and still served)"
        ) from error


def _build_feeds(
    config: Config, repository: Repository, sources: Sequence[SourceSpec], target: Path
) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    labels = {s.name: s.label for s in sources}
    changed: list[Path] = []
    specs = feed_specs(sources, config)
    for spec in specs:
        pages, archived = write_archives(config, repository, spec, labels, target)
        changed += archived
        changed += write_feed(config, repository, spec, labels, target, pages)
    changed += write_published(target / OPML_FILE, render_opml(config, specs))
    _keep_used_parts()
    return changed


def write_feed(
    config: Config,
    repository: Repository,
    spec: FeedSpec,
    labels: dict[str, str],
    target: Path,
    pages: int = 0,
) -> list[Path]:
    """The subscription documents of one feed (its newest ``feed_max_entries`` stories in
    every format, each with its gzip twin); ``pages``: its RFC 5005 archive pages, the
    newest of which the documents link to. Returns the changed files."""
    stories = repository.feed_stories(spec.source, config.feed_max_entries, query=spec.query)
    # A feed whose entries and settings are what its last build wrote is not rendered again
    # (rendering is most of a build): the signature of what went into it is kept beside it.
    signature = feed_signature(config, spec, stories, labels, pages)
    mark = built_mark(target, spec.name)
    outputs = [target / f"{spec.name}.{suffix}" for suffix in FORMATS]
    if _read_text(mark) == signature and all(p.exists() and gzip_path(p).exists() for p in outputs):
        return []
    rss, atom = render_feed(config, spec, stories, labels)
    if pages:  # RFC 5005: the subscription document points at the newest archive
        base = config.base_url
        rss, atom = (
            with_history(doc, {"prev-archive": archive_url(base, spec.name, pages, sfx)})
            for doc, sfx in ((rss, "xml"), (atom, "atom"))
        )
    documents = {
        "xml": rss,
        "atom": atom,
        "json": render_json_feed(config, spec, stories, labels),
    }
    changed: list[Path] = []
    for suffix, data in documents.items():
        changed += write_published(target / f"{spec.name}.{suffix}", data)
    # Last: a build cut short is redone. Not synced: a mark lost in a crash costs one
    # render, never a wrong feed.
    write_if_changed(mark, signature.encode("utf-8"), durable=False)
    return changed


def built_mark(target: Path, name: str) -> Path:
    """Where the signature of a feed's last build is kept: a dot file, which the server
    never serves (feed names have no leading dot)."""
    return target / f".{name}.built"


def feed_signature(
    config: Config,
    spec: FeedSpec,
    stories: Sequence[FeedStory],
    labels: dict[str, str],
    pages: int,
) -> str:
    """A digest of everything a feed's documents are made of: the layout and program
    version, the feed's definition, base URL and archive pages, the labels, and per entry
    every story and member field that is rendered (text and HTML by their digest)."""
    digest = hashlib.sha256()
    head = [FEED_LAYOUT, _version(), spec.name, spec.title, spec.source, repr(spec.query)]
    head += [config.base_url, pages, sorted(labels.items())]
    digest.update(repr(head).encode("utf-8"))
    for story in stories:
        st = story.story
        fields: list[object] = [st.id, st.guid, st.updated_at, st.topics, st.lead_article_id]
        for a in [story.lead, *story.others]:
            fields += [a.id, a.source, a.url, a.canonical_url, a.title, a.published_at]
            fields += [a.first_seen_at, a.topics, _digest(a.text), _digest(a.html)]
        digest.update(repr(fields).encode("utf-8"))
    return digest.hexdigest()


def _digest(value: str | None) -> str:
    return hashlib.blake2b((value or "").encode("utf-8"), digest_size=16).hexdigest()


@cache
def _version() -> str:
    try:
        return metadata.version("clusterwatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def gzip_path(path: Path) -> Path:
    """Where the gzip representation of a published file is kept (``all.xml.gz``)."""
    return path.with_name(path.name + GZIP_SUFFIX)


def gzipped(data: bytes) -> bytes:
    """The gzip representation: deterministic (no timestamp), so its ETag is stable."""
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def write_published(path: Path, data: bytes) -> list[Path]:
    """Write a served file and its gzip twin (compressed once here, at build time, rather
    than on every request); returns ``[path]`` when it changed. The server checks that the
    two agree before it serves the twin (they are replaced one after the other), so the
    twin is not synced to disk — one fsync per served file, not two: a twin a crash left
    stale or torn is never served (the server compresses on request instead), and it is
    written again whenever its feed is rendered (after a crash mid-build, the next build)."""
    twin = gzip_path(path)
    if write_if_changed(path, data, dry_run=True) or not _twin_matches(twin, data):
        write_if_changed(twin, gzipped(data), durable=False)
    return [path] if write_if_changed(path, data) else []


def _twin_matches(twin: Path, data: bytes) -> bool:
    try:
        return gzip.decompress(twin.read_bytes()) == data
    except (OSError, EOFError, gzip.BadGzipFile):
        return False


def feed_specs(sources: Iterable[SourceSpec], config: Config | None = None) -> list[FeedSpec]:
    """``all``, one feed per source, then the named filtered feeds of ``config``."""
    sources = list(sources)
    specs = [FeedSpec(ALL_FEED, "clusterwatch: all cluster announcements", None)]
    specs += [FeedSpec(s.name, f"clusterwatch: {s.label}", s.name) for s in sources]
    if config is not None:
        specs += named_feeds(config, sources)
    return specs


def named_feeds(config: Config, sources: Iterable[SourceSpec]) -> list[FeedSpec]:
    """The ``[feeds.<name>]`` definitions as feeds; :class:`FeedDefinitionError` naming the
    feed and every unknown topic, programme, region or source."""
    known_sources = {s.name for s in sources}
    specs = []
    problems = []
    for name, definition in config.feeds.items():
        unknown: list[str] = []
        if name == ALL_FEED or name in known_sources:
            unknown.append(f"the name {name!r} is taken by a built-in feed")
        topic_groups = []
        for kind, match in (
            ("topic", definition.topics),
            ("programme", definition.programmes),
            ("region", definition.regions),
        ):
            if not match.terms():
                continue
            keys = {term: topic_key(kind, term) for term in match.terms()}
            unknown += [f"unknown {kind} {term!r}" for term, key in keys.items() if key is None]
            resolved = {term: key or term for term, key in keys.items()}
            topic_groups.append(_terms(match, resolved.__getitem__))
        unknown += [
            f"unknown source {term!r}"
            for term in definition.sources.terms()
            if term not in known_sources
        ]
        unknown += ["empty keyword" for term in definition.keywords.terms() if not term.strip()]
        if unknown:
            problems.append(f"[feeds.{name}]: {'; '.join(unknown)}")
            continue
        query = StoryQuery(
            topics=tuple(topic_groups),
            sources=_terms(definition.sources, str),
            keywords=_terms(definition.keywords, str),
            min_score=definition.min_score,
        )
        specs.append(FeedSpec(name, definition.title, None, query))
    if problems:
        hint = f"known sources: {', '.join(sorted(known_sources))}; topics: see README"
        raise FeedDefinitionError(" | ".join(problems) + f" ({hint})")
    return specs


def _terms(match: Match, key: Callable[[str], str]) -> Terms:
    return Terms(
        all=tuple(key(t) for t in match.all),
        any=tuple(key(t) for t in match.any),
        none=tuple(key(t) for t in match.none),
    )


def write_archives(
    config: Config,
    repository: Repository,
    spec: FeedSpec,
    labels: dict[str, str],
    target: Path,
) -> tuple[int, list[Path]]:
    """RFC 5005 archive documents of one feed: ``archive/<feed>/<k>.xml|.atom``.

    Pages are counted from the oldest story, ``feed_max_entries`` each, so a page keeps its
    entries when new stories arrive; only complete pages are archived, and the newest N
    stay in the subscription document, so the two together hold every story. A page is
    rendered again only when its stories (id, lead, update, topics) or its neighbours
    changed — a signature per page is kept in ``pages.json``. Returns (pages, changed).

    Incremental: ``pages.json`` also keeps the store's revision at the build (migration
    0012) and where the last archived page starts. The pages before it are settled while
    the feed's stories up to there are the same ones, unchanged since that revision
    (``Repository.feed_range_intact``: it looks only at the stories changed since); then
    only the stories from the last archived page on are read — new stories arrive at the
    end. Anything else (a story changed or gone in the settled range, another feed
    definition, a missing page file) reads every story key, as the first build does.
    """
    size = config.feed_max_entries
    base = config.base_url
    folder = target / ARCHIVE_DIR / spec.name
    index = folder / "pages.json"
    context = hashlib.sha256(
        json.dumps(
            [ARCHIVE_LAYOUT, spec.title, repr(spec.source), repr(spec.query), base, labels, size],
            sort_keys=True,
        ).encode("utf-8")
    ).hexdigest()
    revision = repository.story_revision()  # before any read: a later change is seen next time
    state = _archive_state(index)
    known: dict[str, str] = state.get("pages", {})
    start, through = 1, None
    if state.get("context") == context and state.get("tail", 1) > 1:
        tail, place = int(state["tail"]), _parse_place(state["through"])
        if _settled_files(folder, tail) and repository.feed_range_intact(
            spec.source, spec.query, place, int(state["revision"])
        ):
            start, through = tail, place
    keys = repository.feed_story_keys(spec.source, spec.query, after=through)
    pages = max(0, ((start - 1) * size + len(keys) - 1) // size)
    if start > 1 and pages < start:  # fewer stories: the settled last page becomes the last
        start, through = 1, None
        keys = repository.feed_story_keys(spec.source, spec.query)
        pages = max(0, (len(keys) - 1) // size)
    if pages == 0 and not folder.exists():
        return 0, []
    folder.mkdir(parents=True, exist_ok=True)
    signatures = {k: v for k, v in known.items() if int(k) < start}
    changed: list[Path] = []
    for page in range(start, pages + 1):
        chunk = keys[(page - start) * size : (page - start + 1) * size]
        signature = hashlib.sha256(
            json.dumps(
                [
                    ARCHIVE_LAYOUT,
                    spec.title,
                    base,
                    labels,
                    page == pages,
                    [[k.id, k.lead_article_id, str(k.updated_at), list(k.topics)] for k in chunk],
                ],
                sort_keys=True,
            ).encode("utf-8")
        ).hexdigest()
        signatures[str(page)] = signature
        paths = {suffix: folder / f"{page}.{suffix}" for suffix in ARCHIVE_FORMATS}
        if known.get(str(page)) == signature and all(p.exists() for p in paths.values()):
            continue
        stories = repository.stories_by_id([k.id for k in reversed(chunk)])  # newest first
        own_url = archive_url(base, spec.name, page, "xml")
        rss, atom = render_feed(config, spec, stories, labels, own_url)
        rendered = {"xml": rss, "atom": atom}
        for suffix, path in paths.items():
            links = {"current": feed_url(base, spec.name, suffix)}
            if page > 1:
                links["prev-archive"] = archive_url(base, spec.name, page - 1, suffix)
            if page < pages:
                links["next-archive"] = archive_url(base, spec.name, page + 1, suffix)
            document = with_history(rendered[suffix], links, archive=True)
            changed += write_published(path, document)
    for path in folder.iterdir():  # pages that no longer exist (fewer stories after reclassify)
        stem = path.name.split(".", 1)[0]
        if stem.isdigit() and int(stem) > pages:
            path.unlink()
            if not path.name.endswith(GZIP_SUFFIX):
                changed.append(path)
    # The next build's settled range: every page before the last archived one.
    tail = max(pages, 1)
    if tail > start:
        last = keys[(tail - start) * size - 1]
        assert last.order_at is not None
        through = (last.order_at, last.id)
    new_state = {
        "format": 2,
        "context": context,
        "revision": revision,
        "tail": tail,
        "through": None if through is None else [through[0].isoformat(), through[1]],
        "pages": signatures,
    }
    write_if_changed(index, (json.dumps(new_state, indent=1, sort_keys=True) + "\n").encode())
    return pages, changed


def _archive_state(index: Path) -> dict[str, Any]:
    """``pages.json`` as the last build left it; the first format (page signatures only)
    keeps its signatures, so no page is rendered again for the upgrade."""
    try:
        found = json.loads(index.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return found if found.get("format") == 2 else {"pages": found}


def _parse_place(value: list[Any]) -> tuple[datetime, int]:
    """A place (order, story id) as pages.json keeps it."""
    return datetime.fromisoformat(value[0]), int(value[1])


def _settled_files(folder: Path, tail: int) -> bool:
    """Every settled page (before ``tail``) has its documents (one directory listing)."""
    try:
        names = set(os.listdir(folder))
    except OSError:
        return False
    return all(f"{page}.{suffix}" in names for page in range(1, tail) for suffix in ARCHIVE_FORMATS)


def archive_url(base: str, name: str, page: int, suffix: str) -> str:
    return f"{base.rstrip('/')}/feeds/{ARCHIVE_DIR}/{name}/{page}.{suffix}"


def with_history(document: bytes, links: dict[str, str], archive: bool = False) -> bytes:
    """``document`` (RSS or Atom) with RFC 5005 ``atom:link``s (prev-archive, next-archive,
    current) after its own links and, for an archive document, ``<fh:archive/>``."""
    root = etree.fromstring(document, etree.XMLParser(remove_blank_text=True))
    parent = root if root.tag == f"{{{ATOM_NS}}}feed" else root.find("channel")
    media_type = FORMATS["atom" if parent is root else "xml"]
    position = max(
        (i + 1 for i, child in enumerate(parent) if child.tag == f"{{{ATOM_NS}}}link"),
        default=len(parent),
    )
    for rel, href in links.items():
        element = etree.Element(f"{{{ATOM_NS}}}link", rel=rel, href=href, type=media_type)
        parent.insert(position, element)
        position += 1
    if archive:
        parent.insert(position, etree.Element(f"{{{HISTORY_NS}}}archive", nsmap={"fh": HISTORY_NS}))
    return bytes(etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8"))


def render_feed(
    config: Config,
    spec: FeedSpec,
    stories: Sequence[FeedStory | Article],
    labels: dict[str, str],
    self_url: str | None = None,
) -> tuple[bytes, bytes]:
    """The RSS 2.0 and Atom documents of one feed (entries newest first, as given);
    ``self_url`` for an archive page (the document's own URL, with its suffix)."""
    entries = _as_stories(stories)
    base = config.base_url  # feed_base_url, else the configured host and port
    rss_gen = _feed_generator(spec, base, "xml", entries, self_url)
    atom_gen = _feed_generator(spec, base, "atom", entries, self_url)
    # An archive page is rendered again only when it changes: its entries are not kept
    # (kept, a service held every page it ever rendered, up to the caches' bound).
    keep = self_url is None
    for story in entries:  # one filled entry serves both formats (and the next build)
        entry = _feed_entry(story, labels, keep)
        rss_gen.add_entry(entry, order="append")
        atom_gen.add_entry(entry, order="append")
    return rss_gen.rss_str(pretty=True), atom_gen.atom_str(pretty=True)


def _feed_entry(story: FeedStory, labels: dict[str, str], keep: bool = True) -> FeedEntry:
    """The feedgen entry of a story, kept while none of its parts change (filling one
    costs more than rendering it); ``keep=False``: used if kept, else made and not kept."""
    key = _parts_key(story, labels)
    if keep:
        _USED.add(key)
    entry = _ENTRIES.get(key)
    if entry is None:
        # feedgen's extension module needs lxml.etree imported first (by feedgen.feed).
        from feedgen.ext.dc import DcEntryExtension

        entry = FeedEntry()
        entry.register_extension("dc", DcEntryExtension, atom=False, rss=True)
        _fill_entry(entry, _entry_parts(story, labels, keep))
        if not keep:
            return entry
        if len(_ENTRIES) >= _PARTS_CACHE_SIZE:
            _ENTRIES.pop(next(iter(_ENTRIES)))
        _ENTRIES[key] = entry
    return entry


@dataclass(frozen=True)
class EntryParts:
    """What every format says of one story, worked out once (sanitising the text is most of
    a feed build's time)."""

    guid: str
    url: str
    title: str
    content: str
    summary: str
    published: datetime
    modified: datetime
    author: str
    tags: list[str]


_PARTS_CACHE_SIZE = 2048  # a few top-100 feeds' worth; a key holds no text


def entry_parts(stories: Sequence[FeedStory], labels: dict[str, str]) -> list[EntryParts]:
    return [_entry_parts(story, labels) for story in stories]


def _entry_parts(story: FeedStory, labels: dict[str, str], keep: bool = True) -> EntryParts:
    key = _parts_key(story, labels)
    if keep:
        _USED.add(key)
    cached = _PARTS.get(key)
    if cached is not None:
        return cached
    lead = story.lead
    # Whole seconds, as in RSS and JSON Feed: the same date in every format.
    published = (lead.published_at or lead.first_seen_at).replace(microsecond=0)
    updated = story.story.updated_at
    modified = updated.replace(microsecond=0) if updated and updated > published else published
    sources = [labels.get(a.source, a.source) for a in [lead, *story.others]]
    parts = EntryParts(
        # The GUID was fixed when the story was first published (an https canonical URL,
        # so a valid permalink); it never changes, whichever copy leads today.
        guid=xml_safe(story.story.guid or lead.canonical_url),
        url=web_link(lead.url, xml_safe(story.story.guid or lead.canonical_url)),
        title=one_line(lead.title) or one_line(lead.url),
        content=content_html(lead) + also_appeared(story, labels),
        summary=plain_description(lead.text),
        published=published,
        modified=modified,
        author=one_line(sources[0]),
        tags=categories(sources, story.story.topics or lead.topics),
    )
    if not keep:
        return parts
    if len(_PARTS) >= _PARTS_CACHE_SIZE:
        _PARTS.pop(next(iter(_PARTS)))
    _PARTS[key] = parts
    return parts


def _parts_key(story: FeedStory, labels: dict[str, str]) -> tuple[object, ...]:
    """Everything an entry is made of: a rebuild of the same feed, or the same story in
    another feed, reuses the parts only while none of it changed."""
    members = tuple(
        (a.id, a.source, a.url, a.canonical_url, a.title, hash(a.text), hash(a.html),
         a.published_at, a.first_seen_at, tuple(a.topics or ()))
        for a in [story.lead, *story.others]
    )  # fmt: skip
    st = story.story
    named = tuple(sorted((k, v) for k, v in labels.items() if k in {m[1] for m in members}))
    return (st.id, st.guid, st.updated_at, tuple(st.topics or ()), members, named)


_PARTS: dict[tuple[object, ...], EntryParts] = {}
_ENTRIES: dict[tuple[object, ...], FeedEntry] = {}
_USED: set[tuple[object, ...]] = set()  # the keys the build under way has used


def _keep_used_parts() -> None:
    """After a build: keep only the parts and entries it used. Those that left every feed
    (a new story each run pushes one out) would otherwise stay until the size bound, a
    service's memory growing by an entry per run until then."""
    for kept in (_PARTS, _ENTRIES):
        for key in [k for k in kept if k not in _USED]:
            del kept[key]
    _USED.clear()


def _as_stories(stories: Sequence[FeedStory | Article]) -> list[FeedStory]:
    return [s if isinstance(s, FeedStory) else _single(s) for s in stories]


def _single(article: Article) -> FeedStory:
    """An article outside any stored story (tests, previews) as a story of its own."""
    from db.models import Story

    return FeedStory(Story(guid=article.canonical_url, topics=article.topics), article, [])


def feed_url(base: str, name: str, suffix: str) -> str:
    """Where a feed is served: its self link."""
    return f"{base.rstrip('/')}/feeds/{name}.{suffix}"


def _feed_generator(
    spec: FeedSpec,
    base: str,
    suffix: str,
    stories: Sequence[FeedStory],
    self_url: str | None = None,
) -> FeedGenerator:
    if self_url is not None:
        self_url = self_url.rsplit(".", 1)[0] + f".{suffix}"
    else:
        self_url = feed_url(base, spec.name, suffix)
    media_type = FORMATS[suffix]
    gen = FeedGenerator()
    gen.load_extension("dc", atom=False, rss=True)
    # The Atom id must never change: the feed's own URL without the format suffix.
    gen.id(f"{base}/feeds/{spec.name}")
    gen.title(xml_safe(spec.title))
    gen.description(xml_safe(f"{spec.title} (new announcements, newest first)"))
    gen.link(href=self_url, rel="self", type=media_type)
    # feedgen takes the RSS <link> from the last link given: the human-readable page.
    gen.link(href=f"{base}/", rel="alternate")
    gen.language("de")
    # feedgen's default generator string carries its version; ours keeps output stable.
    gen.generator("clusterwatch", uri="https://github.com/clusterwatch/clusterwatch")
    gen.updated(_build_date(stories))
    return gen


def _build_date(stories: Sequence[FeedStory]) -> datetime:
    """When the feed last gained or changed an entry: deterministic, unlike the build time."""
    moments = [s.lead.first_seen_at for s in stories]
    moments += [s.story.updated_at for s in stories if s.story.updated_at]
    newest = max(moments, default=EMPTY_FEED_DATE)
    return newest.replace(microsecond=0)


def _fill_entry(entry: FeedEntry, parts: EntryParts) -> None:
    entry.id(parts.guid)
    entry.guid(parts.guid, permalink=True)
    entry.title(parts.title)
    entry.link(href=parts.url, rel="alternate")
    entry.published(parts.published)
    entry.updated(parts.modified)
    entry.content(parts.content, type="html")
    # After content(): with isSummary the teaser becomes RSS description and Atom summary.
    # Both are HTML-escaped once (RSS 2.0 description is entity-encoded HTML, and readers
    # render it so; Atom says so with type="html"): page text showing "<script>" stays the
    # visible text "<script>" and never becomes an element. (JSON Feed's summary is plain.)
    teaser = html.escape(parts.summary, quote=False)
    entry.description(teaser, isSummary=True)
    entry.summary(teaser, type="html")
    for category in parts.tags:
        entry.category(term=category)
    # Atom requires an author; the publishing source is the one we can name. RSS's
    # <author> must be an e-mail address, so RSS gets dc:creator instead.
    entry.author(name=parts.author)
    entry.dc.dc_creator(parts.author)


def render_json_feed(
    config: Config,
    spec: FeedSpec,
    stories: Sequence[FeedStory | Article],
    labels: dict[str, str],
) -> bytes:
    """The JSON Feed 1.1 document of one feed: the same entries, ids, dates, tags and
    content as the RSS and Atom documents."""
    entries = _as_stories(stories)
    base = config.base_url
    items = [
        {
            "id": parts.guid,
            "url": parts.url,
            "title": parts.title,
            "content_html": parts.content,
            "summary": parts.summary,
            "date_published": rfc3339(parts.published),
            "date_modified": rfc3339(parts.modified),
            "authors": [{"name": parts.author}],
            "tags": parts.tags,
            "language": "de",
        }
        for parts in entry_parts(entries, labels)
    ]
    document = {
        "version": JSON_FEED_VERSION,
        "title": xml_safe(spec.title),
        "home_page_url": f"{base}/",
        "feed_url": feed_url(base, spec.name, "json"),
        "description": xml_safe(f"{spec.title} (new announcements, newest first)"),
        "language": "de",
        "items": items,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def rfc3339(moment: datetime) -> str:
    """``2024-03-05T09:30:00Z``: RFC 3339 in UTC, as JSON Feed and Atom want it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_opml(config: Config, specs: Sequence[FeedSpec]) -> bytes:
    """OPML 2.0 listing every feed once (its RSS document) with its title, for importing
    everything into a reader at once."""
    base = config.base_url
    outlines = "".join(
        '    <outline type="rss" version="RSS2" text="{t}" title="{t}" xmlUrl="{x}" '
        'htmlUrl="{h}"/>\n'.format(
            t=html.escape(one_line(spec.title), quote=True),
            x=html.escape(feed_url(base, spec.name, "xml"), quote=True),
            h=html.escape(f"{base}/", quote=True),
        )
        for spec in specs
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<opml version="2.0">\n'
        "  <head>\n"
        "    <title>clusterwatch feeds</title>\n"
        f"    <docs>http://opml.org/spec2.opml</docs>\n"
        "  </head>\n"
        "  <body>\n"
        f"{outlines}"
        "  </body>\n"
        "</opml>\n"
    )
    return document.encode("utf-8")


def also_appeared(story: FeedStory, labels: dict[str, str]) -> str:
    """ "Auch erschienen bei: openPR, BMWE" with a link to each other copy."""
    links = []
    for other in story.others:
        if absolute_url(other.url, other.url) is None:
            continue  # only links a reader may follow
        label = html.escape(labels.get(other.source, other.source))
        href = html.escape(xml_safe(other.url), quote=True)
        links.append(f'<a href="{href}">{label}</a>')
    if not links:
        return ""
    return xml_safe(f"<p>Auch erschienen bei: {', '.join(links)}</p>")


def categories(sources: Iterable[str], topics: Iterable[str] | None) -> list[str]:
    """The source labels first, then the topics' names ("region:Sachsen" → "Sachsen"),
    each once, in order."""
    seen: dict[str, None] = {}
    names = [t.split(":", 1)[-1] for t in (topics or [])]
    for value in [*sources, *names]:
        cleaned = one_line(value)
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def web_link(url: str, fallback: str) -> str:
    """``url`` when a reader may follow it (http(s) with a host), else ``fallback`` (the
    story's GUID, itself an https URL)."""
    return xml_safe(absolute_url(url, url) or fallback)


def xml_safe(value: str | None) -> str:
    """``value`` without the characters an XML document cannot hold (nor any a reader
    should not show: ``scraper.text``)."""
    return printable(value)


def one_line(value: str | None) -> str:
    """``value`` XML-safe, with runs of whitespace (newlines too) folded to one space."""
    return _WHITESPACE.sub(" ", xml_safe(value)).strip()


def plain_description(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """A one-paragraph plain-text teaser of at most ``limit`` characters, cut at a word."""
    return shorten(one_line(text), limit)


def content_html(article: Article) -> str:
    """The full text as sanitised HTML; built from the plain text when no HTML is stored."""
    source = xml_safe(article.html)
    if not source.strip():
        paragraphs = [p.strip() for p in xml_safe(article.text).split("\n") if p.strip()]
        source = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    cleaned = nh3.clean(source, tags=_CONTENT_TAGS, url_schemes={"http", "https", "mailto"})
    # nh3 may emit entities for characters it decoded; run the filter again to be sure.
    # RSS carries content:encoded as CDATA, which cannot hold "]]>": nh3 escapes ">" in
    # text but not in attribute values, where "&gt;" means the same.
    return xml_safe(cleaned).replace("]]>", "]]&gt;")


def write_if_changed(path: Path, data: bytes, dry_run: bool = False, durable: bool = True) -> bool:
    """Atomically replace ``path`` with ``data`` unless it already holds exactly that
    (``dry_run``: only tell whether it would be replaced). ``durable``: the data is synced
    before the rename, so a crash leaves the old file or the whole new one; without it a
    crash may leave a torn file (for files whose reader checks them)."""
    try:
        if path.read_bytes() == data:
            return False
        if dry_run:
            return True
        previous_mtime: int | None = int(path.stat().st_mtime)
    except FileNotFoundError:
        if dry_run:
            return True
        previous_mtime = None
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; feeds are public
        _advance_mtime(Path(tmp_name), previous_mtime)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return True


def _advance_mtime(path: Path, previous: int | None) -> None:
    """Make the whole-second mtime (the HTTP Last-Modified) later than the previous one.

    HTTP dates have one-second resolution, and libcurl-based readers such as newsboat drop
    a 200 whose Last-Modified is not newer than their If-Modified-Since: a feed changed
    twice within one second would otherwise never reach them.
    """
    if previous is None or int(path.stat().st_mtime) > previous:
        return
    os.utime(path, (previous + 1, previous + 1))
