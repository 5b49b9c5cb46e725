"""``clusterwatch source add URL``: fetch through the mirror protocol (like every crawl),
propose a source (``scraper.proposal``), show it, and append its TOML block."""

from __future__ import annotations

import os
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

from scraper.config import CONFIG_ENV, DEFAULT_CONFIG_FILE, Config
from scraper.mirror import mirror_url
from scraper.proposal import Fetch, Fetched
from scraper.sources import SourceSpec, registry

MAX_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A mirror answers with the site's own Location: follow it ourselves, through the mirror.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def fetcher(config: Config) -> Fetch:
    opener = urllib.request.build_opener(_NoRedirects)

    def fetch(url: str) -> Fetched | None:
        for _ in range(MAX_REDIRECTS):
            target = mirror_url(config.mirror, url) if config.mirror else url
            request = urllib.request.Request(target, headers={"User-Agent": config.user_agent})
            try:
                with opener.open(request, timeout=config.download_timeout) as response:
                    body = response.read(MAX_BYTES)
                    return Fetched(url, body, response.headers.get("Content-Type"))
            except urllib.error.HTTPError as error:
                location = error.headers.get("Location")
                if error.code in (301, 302, 303, 307, 308) and location:
                    url = urljoin(url, location)
                    continue
                return None
            except (urllib.error.URLError, TimeoutError, OSError):
                return None
        return None

    return fetch


def config_file(given: Path | None) -> Path:
    if given is not None:
        return given
    explicit = os.environ.get(CONFIG_ENV)
    return Path(explicit) if explicit else Path(DEFAULT_CONFIG_FILE)


def checked_block(block: str, name: str, config: Config, target: Path) -> SourceSpec:
    """The block parses, makes a valid source, and its name is new (to the configuration
    and to the file it goes into)."""
    in_file: dict[str, object] = {}
    if target.is_file():
        with target.open("rb") as handle:
            in_file = tomllib.load(handle).get("sources", {})
    if name in config.source_specs() or name in in_file:
        raise ValueError(f"a source named {name!r} exists already (choose one with --name)")
    data = tomllib.loads(block)["sources"]
    return registry({**config.sources, **data})[name]


def append_block(path: Path, block: str) -> None:
    existing = path.read_text("utf-8") if path.is_file() else ""
    separator = "" if not existing or existing.endswith("\n\n") else "\n"
    if existing and not existing.endswith("\n"):
        separator = "\n\n"
    path.write_text(existing + separator + block, "utf-8")
