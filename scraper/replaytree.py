"""The replayed sites on disk (tests/sites/<host>/…): a site URL → the file, status and
redirect it replays. No HTTP here — the replay server (monitor/replay.py) serves it, the
extraction evaluation (scraper/evaluation.py) reads it directly. The tree's format is
documented in tests/sites/README.md."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

_JSESSIONID = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "text/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
INDEX_FILES = ("index.html", "index.xml")


@dataclass(frozen=True)
class Resolved:
    status: int
    file: Path | None = None
    content_type: str | None = None
    location: str | None = None


class ReplayTree:
    """Maps site URLs to files of the tree (no HTTP here, so tests can use it directly)."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"replay directory {root} does not exist")

    def routes(self, host: str) -> dict[str, dict[str, Any]]:
        path = self.root / host / "_routes.json"
        if not path.is_file():
            return {}
        data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def resolve(self, host: str, raw_path: str, raw_query: str = "") -> Resolved:
        host_dir = (self.root / host).resolve()
        if host_dir.parent != self.root or not host_dir.is_dir():
            return Resolved(404)
        path = _JSESSIONID.sub("", raw_path) or "/"
        routes = self.routes(host)
        route = routes.get(f"{path}?{raw_query}") if raw_query else None
        route = route or routes.get(path)
        if route is not None:
            return self._from_route(host_dir, route)
        return self._from_file(host_dir, path)

    def resolve_url(self, url: str) -> Resolved:
        parts = urlsplit(url)
        return self.resolve(parts.netloc, parts.path or "/", parts.query)

    def _from_route(self, host_dir: Path, route: dict[str, Any]) -> Resolved:
        status = int(route.get("status", 200))
        if status in (301, 302, 303, 307, 308):
            return Resolved(status, location=route["location"])
        file = (host_dir / route["file"]).resolve()
        if not file.is_file() or host_dir not in file.parents:
            return Resolved(404)
        return Resolved(status, file, route.get("content_type") or _content_type(file))

    def _from_file(self, host_dir: Path, path: str) -> Resolved:
        target = (host_dir / unquote(path).lstrip("/")).resolve()
        if target != host_dir and host_dir not in target.parents:
            return Resolved(404)
        if target.is_dir():
            if not path.endswith("/"):
                return Resolved(301, location=path + "/")
            for index in INDEX_FILES:
                if (target / index).is_file():
                    target = target / index
                    break
            else:
                return Resolved(404)
        content_type = _content_type(target)
        if not target.is_file() or content_type is None or target.name == "_routes.json":
            return Resolved(404)
        return Resolved(200, target, content_type)


def _content_type(file: Path) -> str | None:
    return CONTENT_TYPES.get(file.suffix.lower())
