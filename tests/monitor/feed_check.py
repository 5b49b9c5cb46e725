"""A feed checker written against the specs' required elements (no W3C validator package
is available offline): RSS 2.0 (RSS Advisory Board spec, with the W3C validator's checks for
self links, e-mail authors and plausible dates), Atom (RFC 4287) and JSON Feed 1.1.

``check_feed(body, suffix, served_at)`` returns a list of error strings; ``[]`` is valid.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
HISTORY = "http://purl.org/syndication/history/1.0"
NS = {"atom": ATOM, "dc": "http://purl.org/dc/elements/1.1/"}
# The W3C validator calls dates before 1990 or in the future "implausible".
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
JSON_FEED_TOP = {
    "version", "title", "home_page_url", "feed_url", "description", "user_comment",
    "next_url", "icon", "favicon", "authors", "author", "language", "expired", "hubs", "items",
}  # fmt: skip
JSON_FEED_ITEM = {
    "id", "url", "external_url", "title", "content_html", "content_text", "summary", "image",
    "banner_image", "date_published", "date_modified", "authors", "author", "tags",
    "language", "attachments",
}  # fmt: skip


def _absolute(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: no URL at all
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _plausible(moment: datetime, what: str, errors: list[str]) -> None:
    if moment.tzinfo is None:
        errors.append(f"{what}: date without time zone")
        return
    if moment < EARLIEST or moment > datetime.now(UTC) + timedelta(days=1):
        errors.append(f"{what}: implausible date {moment.isoformat()}")


def _rfc822(value: str | None, what: str, errors: list[str]) -> None:
    if value is None:
        return
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        errors.append(f"{what}: not an RFC 822 date: {value!r}")
        return
    _plausible(moment, what, errors)


def _rfc3339(value: str | None, what: str, errors: list[str], required: bool = True) -> None:
    if value is None:
        if required:
            errors.append(f"{what}: missing")
        return
    if not RFC3339.match(value.strip()):
        errors.append(f"{what}: not an RFC 3339 date: {value!r}")
        return
    _plausible(datetime.fromisoformat(value.strip().replace("Z", "+00:00")), what, errors)


def check_feed(body: bytes, suffix: str, served_at: str, archive: bool = False) -> list[str]:
    """Errors of the document ``body`` (``xml`` RSS, ``atom``, ``json``) served at
    ``served_at``; ``archive``: an RFC 5005 archive document."""
    if suffix == "json":
        return check_json_feed(body, served_at)
    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    errors = check_rss(root, served_at) if suffix == "xml" else check_atom(root, served_at)
    return errors + check_history(root, archive)


def check_history(root: Any, archive: bool) -> list[str]:
    """RFC 5005 §4: archive documents carry fh:archive and link to the subscription
    document (current); archive links are absolute; a subscription document is no archive."""
    errors: list[str] = []
    parent = root if root.tag == f"{{{ATOM}}}feed" else root.find("channel")
    marked = parent.find(f"{{{HISTORY}}}archive") is not None
    if marked != archive:
        errors.append("fh:archive missing" if archive else "fh:archive in a subscription feed")
    links = {link.get("rel"): link.get("href") for link in parent.findall("atom:link", NS)}
    if archive and not _absolute(links.get("current")):
        errors.append("archive document without a 'current' link")
    for rel in ("prev-archive", "next-archive", "current"):
        if rel in links and not _absolute(links[rel]):
            errors.append(f"{rel} link is not absolute")
    if not archive and "next-archive" in links:
        errors.append("a subscription document has no next-archive")
    return errors


def check_rss(root: Any, served_at: str) -> list[str]:
    errors: list[str] = []
    if root.tag != "rss" or root.get("version") != "2.0":
        return [f"root is {root.tag} version {root.get('version')}, not rss 2.0"]
    channels = root.findall("channel")
    if len(channels) != 1:
        return [f"{len(channels)} channel elements"]
    channel = channels[0]
    for name in ("title", "link", "description"):
        if not (channel.findtext(name) or "").strip():
            errors.append(f"channel: missing {name}")
    if not _absolute(channel.findtext("link")):
        errors.append("channel: link is not an absolute URL")
    for name in ("lastBuildDate", "pubDate"):
        _rfc822(channel.findtext(name), f"channel {name}", errors)
    selfs = channel.findall("atom:link[@rel='self']", NS)
    if [link.get("href") for link in selfs] != [served_at]:
        errors.append(f"self link {[link.get('href') for link in selfs]} != {served_at}")
    elif selfs[0].get("type") != "application/rss+xml":
        errors.append(f"self link type {selfs[0].get('type')}")
    guids: set[str] = set()
    for n, item in enumerate(channel.findall("item")):
        where = f"item {n}"
        if not (item.findtext("title") or item.findtext("description")):
            errors.append(f"{where}: neither title nor description")
        guid = item.find("guid")
        if guid is None or not (guid.text or "").strip():
            errors.append(f"{where}: no guid")
        else:
            if guid.get("isPermaLink", "true") == "true" and not _absolute(guid.text):
                errors.append(f"{where}: permalink guid is not a URL: {guid.text!r}")
            if guid.text in guids:
                errors.append(f"{where}: duplicate guid {guid.text}")
            guids.add(guid.text or "")
        if not _absolute(item.findtext("link")):
            errors.append(f"{where}: link is not an absolute URL")
        _rfc822(item.findtext("pubDate"), f"{where} pubDate", errors)
        if item.findtext("pubDate") is None:
            errors.append(f"{where}: no pubDate")
        author = item.findtext("author")
        if author is not None and "@" not in author:
            errors.append(f"{where}: author is not an e-mail address: {author!r}")
        if not (item.findtext("dc:creator", namespaces=NS) or author):
            errors.append(f"{where}: no author (dc:creator)")
        for category in item.findall("category"):
            if not (category.text or "").strip():
                errors.append(f"{where}: empty category")
    return errors


def check_atom(root: Any, served_at: str) -> list[str]:
    errors: list[str] = []
    if root.tag != f"{{{ATOM}}}feed":
        return [f"root is {root.tag}, not atom:feed"]

    def text(element: Any, name: str) -> str | None:
        return element.findtext(f"atom:{name}", namespaces=NS)

    for name in ("id", "title", "updated"):
        if len(root.findall(f"atom:{name}", NS)) != 1:
            errors.append(f"feed: must have exactly one {name}")
    _rfc3339(text(root, "updated"), "feed updated", errors)
    links = root.findall("atom:link", NS)
    selfs = [link.get("href") for link in links if link.get("rel") == "self"]
    if selfs != [served_at]:
        errors.append(f"self link {selfs} != {served_at}")
    feed_has_author = root.find("atom:author/atom:name", NS) is not None
    ids: set[str] = set()
    for n, entry in enumerate(root.findall("atom:entry", NS)):
        where = f"entry {n}"
        for name in ("id", "title", "updated"):
            if len(entry.findall(f"atom:{name}", NS)) != 1:
                errors.append(f"{where}: must have exactly one {name}")
        entry_id = text(entry, "id") or ""
        if not _absolute(entry_id):
            errors.append(f"{where}: id is not an absolute IRI: {entry_id!r}")
        if entry_id in ids:
            errors.append(f"{where}: duplicate id {entry_id}")
        ids.add(entry_id)
        _rfc3339(text(entry, "updated"), f"{where} updated", errors)
        _rfc3339(text(entry, "published"), f"{where} published", errors, required=False)
        authors = entry.findall("atom:author", NS)
        if not authors and not feed_has_author:
            errors.append(f"{where}: missing entry element: author")
        for author in authors:
            if not (author.findtext("atom:name", namespaces=NS) or "").strip():
                errors.append(f"{where}: author without name")
        alternates = [
            link
            for link in entry.findall("atom:link", NS)
            if link.get("rel", "alternate") == "alternate"
        ]
        content = entry.find("atom:content", NS)
        if not alternates and content is None:
            errors.append(f"{where}: neither alternate link nor content")
        if len({(a.get("type"), a.get("hreflang")) for a in alternates}) != len(alternates):
            errors.append(f"{where}: two alternate links of one type and language")
        for link in alternates:
            if not _absolute(link.get("href")):
                errors.append(f"{where}: link href is not absolute")
        if content is not None and content.get("type") not in (None, "text", "html", "xhtml"):
            errors.append(f"{where}: content type {content.get('type')}")
        for category in entry.findall("atom:category", NS):
            if not (category.get("term") or "").strip():
                errors.append(f"{where}: category without term")
    return errors


def check_json_feed(body: bytes, served_at: str) -> list[str]:
    errors: list[str] = []
    try:
        feed = json.loads(body)
    except ValueError as exc:
        return [f"not JSON: {exc}"]
    if not isinstance(feed, dict):
        return ["top level is not an object"]
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        errors.append(f"version {feed.get('version')!r}")
    if not isinstance(feed.get("title"), str) or not feed["title"]:
        errors.append("title missing")
    if feed.get("feed_url") != served_at:
        errors.append(f"feed_url {feed.get('feed_url')!r} != {served_at}")
    if "home_page_url" in feed and not _absolute(feed["home_page_url"]):
        errors.append("home_page_url is not an absolute URL")
    errors += [f"unknown top-level key {k}" for k in feed if k not in JSON_FEED_TOP and k[0] != "_"]
    items = feed.get("items")
    if not isinstance(items, list):
        return [*errors, "items missing"]
    ids: set[str] = set()
    for n, item in enumerate(items):
        where = f"item {n}"
        if not isinstance(item, dict):
            errors.append(f"{where}: not an object")
            continue
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            errors.append(f"{where}: id missing or not a string")
        elif item_id in ids:
            errors.append(f"{where}: duplicate id {item_id}")
        ids.add(str(item_id))
        if not any(isinstance(item.get(k), str) for k in ("content_html", "content_text")):
            errors.append(f"{where}: neither content_html nor content_text")
        for key in ("url", "external_url"):
            if key in item and not _absolute(item[key]):
                errors.append(f"{where}: {key} is not an absolute URL")
        for key in ("date_published", "date_modified"):
            _rfc3339(item.get(key), f"{where} {key}", errors, required=False)
        tags = item.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
            errors.append(f"{where}: tags must be non-empty strings")
        for author in item.get("authors", []):
            if not isinstance(author, dict) or not any(
                author.get(k) for k in ("name", "url", "avatar")
            ):
                errors.append(f"{where}: an author needs name, url or avatar")
        errors += [
            f"{where}: unknown key {k}" for k in item if k not in JSON_FEED_ITEM and k[0] != "_"
        ]
    return errors
