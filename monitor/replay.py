"""The replay server: serves a tree ``DIR/<sitehost>/…`` through the mirror protocol.

``GET /<sitehost>/<path>?<query>`` answers what ``https://<sitehost>/<path>?<query>`` would
(see tests/sites/README.md for the mapping rules). Every answer carries ETag and
Last-Modified and honours conditional requests with 304, so crawls can be checked for
revalidation. Every request is logged (in memory and optionally as JSON lines).
``/_replay/faults`` injects faults by host / path / query (monitor/replay_faults.py).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from monitor.replay_faults import (
    FaultError,
    FaultRule,
    FaultRules,
    Original,
    answer,
    host_statuses,
)
from monitor.threaded import ThreadedServer
from scraper.replaytree import ReplayTree, Resolved


@dataclass
class LoggedRequest:
    method: str
    host: str
    path: str  # as sent, percent-encoded
    query: str
    status: int
    if_none_match: str | None
    if_modified_since: str | None
    time: float = field(default_factory=time.time)
    fault: str | None = None  # the fault kind that answered, if one did

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.path}" + (f"?{self.query}" if self.query else "")

    @property
    def conditional(self) -> bool:
        return bool(self.if_none_match or self.if_modified_since)


def _not_modified(request: Request, etag: str, mtime: float) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return etag in tags or "*" in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            return int(mtime) <= parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


class ReplayApp:
    def __init__(self, root: Path, log_file: Path | None = None):
        self.tree = ReplayTree(root)
        self.log: list[LoggedRequest] = []
        self.fault_rules = FaultRules()
        # uvicorn's live connections (set by the server running the app): raw-socket faults
        # find their request's transport there.
        self.connections: Callable[[], Iterable[Any]] = lambda: ()
        self._lock = threading.Lock()
        self._log_file = log_file
        self.app = Starlette(
            routes=[
                Route("/_replay/faults", self.control_faults, methods=["POST", "GET", "DELETE"]),
                Route("/_replay/log", self.get_log, methods=["GET"]),
                Route("/{rest:path}", self.serve, methods=["GET", "HEAD"]),
            ]
        )

    @property
    def faults(self) -> list[dict[str, Any]]:
        return self.fault_rules.as_json()

    @faults.setter
    def faults(self, value: dict[str, Any] | list[dict[str, Any]]) -> None:
        """``{"<host>": status}`` (every request to the host answers it) or a list of rules;
        replaces the active rules."""
        if isinstance(value, dict):
            self.fault_rules.replace(host_statuses(value))
        else:
            self.fault_rules.clear()
            self.fault_rules.add(value)

    async def control_faults(self, request: Request) -> Response:
        """GET lists the rules, DELETE clears them, POST adds a rule, a list or
        ``{"rules": [...]}`` (the older ``{"<host>": status}`` form replaces them all)."""
        if request.method == "DELETE":
            self.fault_rules.clear()
        elif request.method == "POST":
            try:
                data = await request.json()
                if isinstance(data, dict) and "fault" not in data and "rules" not in data:
                    self.fault_rules.replace(host_statuses(data))
                else:
                    self.fault_rules.add(data)
            except (ValueError, FaultError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"rules": self.faults})

    async def get_log(self, request: Request) -> Response:
        return JSONResponse([asdict(e) for e in self.log])

    def _record(
        self,
        request: Request,
        host: str,
        path: str,
        query: str,
        status: int,
        fault: str | None = None,
    ) -> None:
        entry = LoggedRequest(
            method=request.method,
            host=host,
            path=path,
            query=query,
            status=status,
            if_none_match=request.headers.get("if-none-match"),
            if_modified_since=request.headers.get("if-modified-since"),
            fault=fault,
        )
        with self._lock:
            self.log.append(entry)
            if self._log_file is not None:
                with self._log_file.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(asdict(entry)) + "\n")

    async def serve(self, request: Request) -> Response:
        raw = request.scope.get("raw_path") or request.url.path.encode()
        target = raw.decode("latin-1").split("?", 1)[0]
        query = request.scope.get("query_string", b"").decode("latin-1")
        host, _, rest = target.lstrip("/").partition("/")
        path = "/" + rest
        rule = self.fault_rules.take(host, path, query)
        resolved = self.tree.resolve(host, path, query)
        if rule is not None:
            original = self._original(host, path, query, resolved)
            self._record(request, host, path, query, _fault_status(rule), rule.fault)
            return answer(rule, original, self.connections)
        if resolved.location is not None:
            location = resolved.location
            if location.startswith("/"):
                location = f"https://{host}{location}"
            self._record(request, host, path, query, resolved.status)
            return Response(status_code=resolved.status, headers={"Location": location})
        if resolved.file is None:
            self._record(request, host, path, query, 404)
            return Response("Not Found\n", status_code=404, media_type="text/plain")
        body = resolved.file.read_bytes()
        mtime = resolved.file.stat().st_mtime
        headers = _validators(body, mtime, resolved.content_type)
        etag = headers["ETag"]
        if resolved.status == 200 and _not_modified(request, etag, mtime):
            self._record(request, host, path, query, 304)
            return Response(
                status_code=304, headers={"ETag": etag, "Last-Modified": headers["Last-Modified"]}
            )
        self._record(request, host, path, query, resolved.status)
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return Response(status_code=resolved.status, headers=headers)
        return Response(body, status_code=resolved.status, headers=headers)

    def _original(self, host: str, path: str, query: str, resolved: Resolved) -> Original:
        """What the request would have got (a fault answers in its place)."""
        url = f"https://{host}{path}" + (f"?{query}" if query else "")
        if resolved.file is None:
            return Original(resolved.status, b"", {}, url, host, path, query)
        body = resolved.file.read_bytes()
        headers = _validators(body, resolved.file.stat().st_mtime, resolved.content_type)
        return Original(resolved.status, body, headers, url, host, path, query)


def _validators(body: bytes, mtime: float, content_type: str | None) -> dict[str, str]:
    return {
        "ETag": '"' + hashlib.sha1(body).hexdigest()[:20] + '"',
        "Last-Modified": formatdate(mtime, usegmt=True),
        "Content-Type": content_type or "application/octet-stream",
    }


def _fault_status(rule: FaultRule) -> int:
    """The status a fault's log entry shows (0: no HTTP answer at all)."""
    if rule.fault in ("status", "redirect", "replace"):
        default = {"status": 503, "redirect": 302}.get(rule.fault, 200)
        return int(rule.options.get("status", default))
    if rule.fault == "redirect_loop":
        return 302
    if rule.fault in ("reset", "stall"):
        return 0
    return 200


def load_fault_file(path: Path) -> list[FaultRule]:
    """The rules of a ``--faults FILE.json`` (one rule, a list or ``{"rules": [...]}``)."""
    rules = FaultRules()
    try:
        rules.add(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise FaultError(f"{path}: {error}") from None
    return rules.rules


class ReplayServer(ThreadedServer):
    """Runs a ReplayApp on 127.0.0.1 in a background thread (tests, ``demo``)."""

    def __init__(
        self, root: Path, host: str = "127.0.0.1", port: int = 0, log_file: Path | None = None
    ):
        self.replay = ReplayApp(root, log_file)
        super().__init__(self.replay.app, host, port)
        state = self._server.server_state
        self.replay.connections = lambda: list(state.connections)

    @property
    def log(self) -> list[LoggedRequest]:
        return self.replay.log


def serve_forever(
    root: Path,
    host: str,
    port: int,
    log_file: Path | None = None,
    faults: list[FaultRule] | None = None,
) -> None:
    from monitor.threaded import serve_foreground

    replay = ReplayApp(root, log_file)
    replay.fault_rules.replace(faults or [])

    def started(server: Any) -> None:
        state = server.server_state
        replay.connections = lambda: list(state.connections)

    serve_foreground(replay.app, host, port, on_server=started, log_level="info")
