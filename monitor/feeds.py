"""The feed builder: RSS 2.0 and Atom files, one pair for all sources and one per source.

Output is deterministic: the build date is the newest entry's ``first_seen_at``, not "now",
so rebuilding without new articles yields byte-identical files. A file is only rewritten
when its bytes change, which keeps its mtime (Last-Modified) and hash (ETag) stable and lets
readers get 304s. Writes are atomic (temp file in the same directory + ``os.replace``).
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nh3
from feedgen.feed import FeedEntry, FeedGenerator

from db.models import Article
from db.repository import Repository
from monitor.sources import SourceInfo
from scraper.config import Config

ALL_FEED = "all"
DESCRIPTION_CHARS = 300
# An empty feed still needs a build date; a constant keeps rebuilds byte-identical.
EMPTY_FEED_DATE = datetime(1970, 1, 1, tzinfo=UTC)
# Characters XML 1.0 forbids (C0 controls except \t \n \r, lone surrogates, U+FFFE/U+FFFF)
# plus DEL and C1 controls, which are legal but only ever come from mis-decoded pages and
# make some readers choke. lxml refuses to serialise the forbidden ones at all.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_WHITESPACE = re.compile(r"\s+")
# Tags a feed reader can render; everything else (script, style, forms, iframes) is dropped.
_CONTENT_TAGS = {
    "p", "br", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "pre", "code",
    "em", "strong", "b", "i", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


@dataclass(frozen=True)
class FeedSpec:
    """One feed: its file stem, title and the source it is limited to (None = all)."""

    name: str
    title: str
    source: str | None


def build_feeds(
    config: Config,
    repository: Repository,
    sources: Sequence[SourceInfo],
    output_dir: Path | None = None,
) -> list[Path]:
    """Write ``all.xml``/``all.atom`` and ``<source>.xml``/``.atom``; return changed files."""
    target = output_dir or config.feeds_dir
    target.mkdir(parents=True, exist_ok=True)
    labels = {s.name: s.label for s in sources}
    changed: list[Path] = []
    for spec in feed_specs(sources):
        articles = repository.feed_articles(spec.source, config.feed_max_entries)
        rss, atom = render_feed(config, spec, articles, labels)
        for path, data in (
            (target / f"{spec.name}.xml", rss),
            (target / f"{spec.name}.atom", atom),
        ):
            if write_if_changed(path, data):
                changed.append(path)
    return changed


def feed_specs(sources: Iterable[SourceInfo]) -> list[FeedSpec]:
    specs = [FeedSpec(ALL_FEED, "clusterwatch: all cluster announcements", None)]
    specs += [FeedSpec(s.name, f"clusterwatch: {s.label}", s.name) for s in sources]
    return specs


def render_feed(
    config: Config, spec: FeedSpec, articles: Sequence[Article], labels: dict[str, str]
) -> tuple[bytes, bytes]:
    """The RSS 2.0 and Atom documents of one feed (entries newest first, as given)."""
    base = config.base_url  # feed_base_url, else the configured host and port
    rss_gen = _feed_generator(spec, base, f"{spec.name}.xml", "application/rss+xml", articles)
    atom_gen = _feed_generator(spec, base, f"{spec.name}.atom", "application/atom+xml", articles)
    for article in articles:
        label = labels.get(article.source, article.source)
        _fill_entry(rss_gen.add_entry(order="append"), article, label)
        _fill_entry(atom_gen.add_entry(order="append"), article, label)
    return rss_gen.rss_str(pretty=True), atom_gen.atom_str(pretty=True)


def _feed_generator(
    spec: FeedSpec, base: str, filename: str, media_type: str, articles: Sequence[Article]
) -> FeedGenerator:
    self_url = f"{base}/feeds/{filename}"
    gen = FeedGenerator()
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
    gen.updated(_build_date(articles))
    return gen


def _build_date(articles: Sequence[Article]) -> datetime:
    """When the feed last gained an entry: deterministic, unlike the build time."""
    newest = max((a.first_seen_at for a in articles), default=EMPTY_FEED_DATE)
    return newest.replace(microsecond=0)


def _fill_entry(entry: FeedEntry, article: Article, source_label: str) -> None:
    published = article.published_at or article.first_seen_at
    # The canonical URL is the identity and an https URL, so it is a valid permalink.
    entry.id(xml_safe(article.canonical_url))
    entry.guid(xml_safe(article.canonical_url), permalink=True)
    entry.title(one_line(article.title) or one_line(article.url))
    entry.link(href=xml_safe(article.url), rel="alternate")
    entry.published(published)
    entry.updated(published)
    entry.content(content_html(article), type="html")
    # After content(): with isSummary the teaser becomes RSS description and Atom summary.
    entry.description(plain_description(article.text), isSummary=True)
    for category in categories(source_label, article.topics):
        entry.category(term=category)


def categories(source_label: str, topics: Iterable[str] | None) -> list[str]:
    """The source label first, then the article's topics, each once, in order."""
    seen: dict[str, None] = {}
    for value in [source_label, *(topics or [])]:
        cleaned = one_line(value)
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def xml_safe(value: str | None) -> str:
    """``value`` without the characters an XML document cannot hold."""
    return _XML_ILLEGAL.sub("", value or "")


def one_line(value: str | None) -> str:
    """``value`` XML-safe, with runs of whitespace (newlines too) folded to one space."""
    return _WHITESPACE.sub(" ", xml_safe(value)).strip()


def plain_description(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """A one-paragraph plain-text teaser of at most ``limit`` characters, cut at a word."""
    flat = one_line(text)
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–") + "…"


def content_html(article: Article) -> str:
    """The full text as sanitised HTML; built from the plain text when no HTML is stored."""
    source = xml_safe(article.html)
    if not source.strip():
        paragraphs = [p.strip() for p in xml_safe(article.text).split("\n") if p.strip()]
        source = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    cleaned = nh3.clean(source, tags=_CONTENT_TAGS, url_schemes={"http", "https", "mailto"})
    # nh3 may emit entities for characters it decoded; run the filter again to be sure.
    return xml_safe(cleaned)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Atomically replace ``path`` with ``data`` unless it already holds exactly that."""
    try:
        if path.read_bytes() == data:
            return False
        previous_mtime: int | None = int(path.stat().st_mtime)
    except FileNotFoundError:
        previous_mtime = None
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
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
