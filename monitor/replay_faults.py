"""Fault injection for the replay server: rules that make matching requests misbehave.

A rule matches a request by site host, path and query (globs, or regular expressions with
``"match": "regex"``) and applies one fault kind a number of times (``"times"``: a count,
``"once"`` or ``"always"``). Rules are added, listed and cleared at run time through
``/_replay/faults`` (JSON) or loaded at start (``clusterwatch replay --faults FILE.json``);
the format is documented in tests/sites/README.md.

Most kinds are ordinary ASGI responses. The ones HTTP framing cannot express — a reset
before the headers or mid-body, a body cut short on a close-delimited response (no
Content-Length, no chunking: what Scrapy flags ``partial``) — write to the connection's
transport directly: the replay server hands the app uvicorn's live connections
(``ReplayApp.connections``), and the fault finds its own by the client address.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import re
import socket
import struct
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import lxml.html
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

KINDS = (
    "status",  # answer `status` (default 503), optional `retry_after` seconds
    "reset",  # TCP reset before any byte of the answer
    "reset_body",  # headers with Content-Length, `fraction` of the body, then a reset
    "stall",  # never answer (until the client gives up; at most `seconds`, default 600)
    "trickle",  # the real answer, `chunk` bytes every `delay` seconds
    "redirect",  # `status` (default 302) to `location` (absolute, or a path on the host)
    "redirect_loop",  # 302 to the same path with a growing ?_loop=N: never ends
    "charset",  # the text re-encoded as `encoding` (cp1252) but labelled `label` (utf-8)
    "truncate",  # `fraction` of the body, then the connection closes; `content_length`
    "gzip_garbage",  # Content-Encoding: gzip on bytes that are not gzip
    "huge",  # a `bytes`-long page (default 20 MB), `content_length` announced or not
    "replace",  # `body` (or the real file cut at `cut`) as `content_type`, with `status`
    "maintenance",  # the real page, its title and content swapped for a `notice` (a CMS
    # serving its maintenance text inside the site's own chrome: nav, consent, footer kept)
)
TIMES = {"once": 1, "always": None}
RAW_KINDS = frozenset({"reset", "reset_body", "stall", "truncate"})


NOTICE = (
    "Wartungsarbeiten|Aufgrund geplanter Wartungsarbeiten ist dieses Angebot vorübergehend "
    "nicht erreichbar. Wir arbeiten daran, die Seite so schnell wie möglich wieder für Sie "
    "bereitzustellen.|Bitte versuchen Sie es in einigen Minuten erneut. Wir bitten um Ihr "
    "Verständnis und danken für Ihre Geduld."
)  # headline|paragraph|paragraph


class FaultError(ValueError):
    """A rule that cannot be applied (unknown kind, bad field): refused with its reason."""


@dataclass
class FaultRule:
    fault: str
    host: str = "*"
    path: str = "*"
    query: str | None = None  # None: any query
    match: str = "glob"  # "glob" | "regex"
    times: int | None = None  # None: always
    options: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    @classmethod
    def parse(cls, data: dict[str, Any]) -> FaultRule:
        if not isinstance(data, dict):
            raise FaultError(f"a fault rule is a JSON object, not {type(data).__name__}")
        data = dict(data)
        data.pop("hits", None)
        data.pop("remaining", None)
        kind = data.pop("fault", None)
        if kind not in KINDS:
            raise FaultError(f"unknown fault {kind!r} (one of {', '.join(KINDS)})")
        times_raw = data.pop("times", "always")
        if isinstance(times_raw, str):
            if times_raw not in TIMES:
                raise FaultError(f"times must be a count, 'once' or 'always', not {times_raw!r}")
            times = TIMES[times_raw]
        elif isinstance(times_raw, int) and times_raw >= 0:
            times = times_raw
        else:
            raise FaultError(f"times must be a count, 'once' or 'always', not {times_raw!r}")
        match = data.pop("match", "glob")
        if match not in ("glob", "regex"):
            raise FaultError(f"match must be 'glob' or 'regex', not {match!r}")
        rule = cls(
            fault=kind,
            host=str(data.pop("host", "*")),
            path=str(data.pop("path", "*")),
            query=None if data.get("query") is None else str(data.pop("query")),
            match=match,
            times=times,
        )
        data.pop("query", None)
        rule.options = data
        if match == "regex":
            for pattern in (rule.host, rule.path, rule.query or ""):
                try:
                    re.compile(pattern)
                except re.error as error:
                    raise FaultError(f"bad regular expression {pattern!r}: {error}") from None
        return rule

    def _matches(self, pattern: str, value: str) -> bool:
        if self.match == "regex":
            return re.fullmatch(pattern, value) is not None
        return fnmatch.fnmatchcase(value, pattern)

    def matches(self, host: str, path: str, query: str) -> bool:
        return (
            self._matches(self.host, host)
            and self._matches(self.path, path)
            and (self.query is None or self._matches(self.query, query))
        )

    def as_json(self) -> dict[str, Any]:
        remaining = None if self.times is None else max(self.times - self.hits, 0)
        return {
            "fault": self.fault,
            "host": self.host,
            "path": self.path,
            "query": self.query,
            "match": self.match,
            "times": "always" if self.times is None else self.times,
            **self.options,
            "hits": self.hits,
            "remaining": "always" if remaining is None else remaining,
        }


class FaultRules:
    """The active rules, first match wins; a rule used up stops matching (kept for listing)."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, data: Any) -> list[FaultRule]:
        """Add one rule, a list of rules or ``{"rules": [...]}``; all or none."""
        if isinstance(data, dict) and "rules" in data:
            data = data["rules"]
        items = data if isinstance(data, list) else [data]
        parsed = [FaultRule.parse(item) for item in items]
        with self._lock:
            self.rules.extend(parsed)
        return parsed

    def replace(self, rules: Iterable[FaultRule]) -> None:
        with self._lock:
            self.rules = list(rules)

    def clear(self) -> None:
        self.replace([])

    def take(self, host: str, path: str, query: str) -> FaultRule | None:
        """The rule that applies to this request, its use counted."""
        with self._lock:
            for rule in self.rules:
                if rule.times is not None and rule.hits >= rule.times:
                    continue
                if rule.matches(host, path, query):
                    rule.hits += 1
                    return rule
        return None

    def as_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.as_json() for rule in self.rules]


def host_statuses(mapping: dict[str, Any]) -> list[FaultRule]:
    """The older form ``{"<host>": <status>}``: every request to the host answers it."""
    return [
        FaultRule(fault="status", host=str(host), options={"status": int(status)})
        for host, status in mapping.items()
    ]


# -- the answers -----------------------------------------------------------------------------


@dataclass
class Original:
    """What the replay would have answered without the fault."""

    status: int
    body: bytes
    headers: dict[str, str]
    url: str  # https://<host><path>?<query>
    host: str
    path: str
    query: str


Connections = Callable[[], Iterable[Any]]


def _option(rule: FaultRule, name: str, default: Any, kind: type) -> Any:
    value = rule.options.get(name, default)
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise FaultError(f"fault {rule.fault}: {name} must be {kind.__name__}") from None


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def answer(rule: FaultRule, original: Original, connections: Connections) -> Response:
    """The faulty answer for a request the rule matched."""
    kind = rule.fault
    headers = dict(original.headers)
    if kind == "status":
        status = _option(rule, "status", 503, int)
        extra = {}
        if "retry_after" in rule.options:
            extra["Retry-After"] = str(rule.options["retry_after"])
        return Response(
            f"replayed fault {status}\n", status_code=status, headers=extra, media_type="text/plain"
        )
    if kind in ("redirect", "redirect_loop"):
        status = _option(rule, "status", 302, int)
        if kind == "redirect_loop":
            match = re.search(r"(?:^|&)_loop=(\d+)", original.query)
            n = int(match.group(1)) + 1 if match else 1
            location = f"https://{original.host}{original.path}?_loop={n}"
        else:
            location = str(rule.options.get("location", "/"))
            if location.startswith("/"):
                location = f"https://{original.host}{location}"
        return Response(status_code=status, headers={"Location": location})
    if kind == "charset":
        encoding = str(rule.options.get("encoding", "cp1252"))
        label = rule.options.get("label", "utf-8")
        text = original.body.decode("utf-8", errors="replace")
        body = text.encode(encoding, errors="replace")
        mime = headers.get("Content-Type", "text/html").split(";")[0]
        headers["Content-Type"] = f"{mime}; charset={label}" if label else mime
        return Response(body, status_code=original.status, headers=headers)
    if kind == "gzip_garbage":
        # Keeps the real validators: a cache that stores this would be poisoned for good.
        garbage = b"\x1f\x8b\x08\x00" + hashlib.sha256(original.body).digest() * 64
        headers["Content-Encoding"] = "gzip"
        return Response(garbage, status_code=original.status, headers=headers)
    if kind == "replace":
        status = _option(rule, "status", 200, int)
        if "body" in rule.options:
            body = str(rule.options["body"]).encode("utf-8")
        else:
            body = original.body
        cut = rule.options.get("cut")
        if cut is not None:
            body = body[: int(len(body) * float(cut))]
        headers["ETag"] = _etag(body)
        if "content_type" in rule.options:
            headers["Content-Type"] = str(rule.options["content_type"])
        return Response(body, status_code=status, headers=headers)
    if kind == "maintenance":
        body = _maintenance_page(original.body, str(rule.options.get("notice", NOTICE)))
        headers["ETag"] = _etag(body)
        headers["Content-Type"] = "text/html; charset=utf-8"
        return Response(body, status_code=200, headers=headers)
    if kind == "trickle":
        chunk = _option(rule, "chunk", 512, int)
        delay = _option(rule, "delay", 0.2, float)
        headers["Content-Length"] = str(len(original.body))
        return StreamingResponse(
            _trickle(original.body, chunk, delay), status_code=original.status, headers=headers
        )
    if kind == "huge":
        size = _option(rule, "bytes", 20 * 1024 * 1024, int)
        if rule.options.get("content_length", True):
            headers["Content-Length"] = str(size)
        headers.pop("ETag", None)
        headers["Content-Type"] = "text/html; charset=utf-8"
        return StreamingResponse(_huge(size), status_code=200, headers=headers)
    if kind in RAW_KINDS:
        return RawFault(rule, original, connections)
    raise FaultError(f"unknown fault {kind!r}")


async def _trickle(body: bytes, chunk: int, delay: float) -> AsyncIterator[bytes]:
    for start in range(0, len(body), max(chunk, 1)):
        yield body[start : start + chunk]
        await asyncio.sleep(delay)


async def _huge(size: int) -> AsyncIterator[bytes]:
    block = (b"<p>" + b"x" * 1017 + b"</p>\n") * 64  # 64 kB
    yield b"<html><body>"
    sent = len(b"<html><body>")
    while sent < size:
        part = block[: size - sent]
        sent += len(part)
        yield part


class RawFault(Response):
    """A fault below HTTP framing: written to (or cut off) the connection itself."""

    def __init__(self, rule: FaultRule, original: Original, connections: Connections):
        super().__init__(status_code=0)
        self.rule = rule
        self.original = original
        self.connections = connections

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = tuple(scope.get("client") or ())
        # A closed connection of the same client address may not be gone from the list yet
        # (a reset frees the port at once): only a live one is this request's.
        transport = next(
            (
                c.transport
                for c in self.connections()
                if getattr(c, "client", None) == client and not c.transport.is_closing()
            ),
            None,
        )
        if transport is None:  # not served by uvicorn's h11 protocol: the closest we can do
            await Response("raw fault unavailable\n", status_code=502)(scope, receive, send)
            return
        kind, body = self.rule.fault, self.original.body
        if kind == "stall":
            seconds = _option(self.rule, "seconds", 600, float)
            try:
                await asyncio.wait_for(_disconnected(receive), seconds)
            except TimeoutError:
                _reset(transport)
        elif kind == "reset":
            _reset(transport)
        else:
            fraction = _option(self.rule, "fraction", 0.45, float)
            announce = kind == "reset_body" or bool(self.rule.options.get("content_length"))
            transport.write(self._head(len(body) if announce else None))
            transport.write(body[: int(len(body) * fraction)])
            if kind == "reset_body":
                _reset(transport)
            else:
                transport.close()  # the rest never comes; close-delimited without a length
        await _disconnected(receive)

    def _head(self, length: int | None) -> bytes:
        lines = [f"HTTP/1.1 {self.original.status} OK"]
        headers = {**self.original.headers, "Connection": "close"}
        if length is not None:
            headers["Content-Length"] = str(length)
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _reset(transport: Any) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of an orderly FIN."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _maintenance_page(body: bytes, notice: str) -> bytes:
    """The page with its own title, metadata and article swapped for ``notice``: the
    content root is <main>, else <article>, else the first headline's parent."""
    headline, *paragraphs = notice.split("|")
    doc = lxml.html.document_fromstring(body)
    for meta in doc.xpath(
        "//meta[contains(@property, 'title') or contains(@name, 'title') or "
        "contains(@property, 'description') or contains(@name, 'description')] | "
        "//script[@type='application/ld+json']"
    ):
        meta.drop_tree()
    for title in doc.xpath("//title"):
        title.text = headline
    roots = doc.xpath("//main | //article") or [h.getparent() for h in doc.xpath("//h1")]
    root = roots[0] if roots else doc.body
    for child in list(root):
        root.remove(child)
    root.text = None
    heading = lxml.html.Element("h1")
    heading.text = headline
    root.append(heading)
    for text in paragraphs:
        paragraph = lxml.html.Element("p")
        paragraph.text = text
        root.append(paragraph)
    return bytes(lxml.html.tostring(doc, encoding="utf-8", doctype="<!DOCTYPE html>"))
