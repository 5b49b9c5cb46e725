"""The HTTP side of the service: feeds, the status page, crawl logs and a health check.

Feeds are served from the files the feed builder writes, with a strong ETag (hash of the
bytes) and Last-Modified (file mtime), so readers polling every few minutes get 304s. Feeds
are gzipped by their handler rather than by Starlette's middleware because a gzipped body is
a different representation and needs its own ETag (RFC 9110 §8.8.3); the middleware
compresses the status page, the feed index and crawl logs.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import logging
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from functools import cached_property
from pathlib import Path

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from db.repository import Repository
from monitor.errors import describe
from monitor.feeds import ARCHIVE_DIR, FORMATS, OPML_FILE, gzip_path, gzipped
from monitor.health import NextRun
from monitor.threaded import ThreadedServer, serve_foreground
from scraper.config import FEED_NAME as FEED_NAME_PATTERN
from scraper.config import Config

logger = logging.getLogger(__name__)

# Only names the feed builder writes (a configured feed name, bounded, plus a suffix): no
# dots besides the suffix, so no traversal and no half-written temp files
# (".all.xml.XXXX.tmp"), and no name too long for the file system (ENAMETOOLONG).
FEED_NAME = re.compile(rf"{FEED_NAME_PATTERN.pattern.removesuffix('$')}\.(xml|atom|json)$")
FEED_MEDIA_TYPES = {suffix: f"{media}; charset=utf-8" for suffix, media in FORMATS.items()}
OPML_MEDIA_TYPE = "text/x-opml; charset=utf-8"
ARCHIVE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
ARCHIVE_PAGE = re.compile(r"^[1-9][0-9]{0,8}\.(xml|atom)$")
# Readers should revalidate every time: a 304 is cheap and new items show up at once.
FEED_CACHE_CONTROL = "no-cache"
STATUS_PAGE_MODULE = "monitor.status_page"
FEED_CACHE_FILES = 256  # published files kept in memory (feeds, archive pages, OPML)
# The server only reads: a request may carry no body worth reading, and a URL longer than
# any the service makes is refused before routing (request line and headers are bounded by
# uvicorn, see monitor/threaded.py).
MAX_BODY_BYTES = 0
MAX_PATH_CHARS = 2048
# h11 bounds only a head that arrives in pieces; one that fits a single read is complete
# at once, so the head is bounded here as well.
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERS = 100


class IdConvertor(Convertor[int]):
    """A database id in a path: 1 to 18 digits, so every match fits a signed 64-bit
    integer (a longer one is no id of ours: 404, not an OverflowError in the driver)."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())


class RequestLimits:
    """Refuse what a read-only server never needs before any handler runs: a request body
    (413), a path longer than ``MAX_PATH_CHARS`` (414), more or larger headers than any
    client sends (431)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            pairs = scope["headers"]
            if len(pairs) > MAX_HEADERS or sum(len(k) + len(v) for k, v in pairs) > (
                MAX_HEADER_BYTES
            ):
                await _refuse(send, 431, "request headers too large\n")
                return
            headers = dict(pairs)
            length = headers.get(b"content-length", b"0").strip()
            chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
            too_big = chunked or not length.isdigit() or int(length) > MAX_BODY_BYTES
            if too_big:
                await _refuse(send, 413, "request bodies are not accepted\n")
                return
            target = len(scope.get("raw_path") or scope["path"]) + len(scope["query_string"])
            if target > MAX_PATH_CHARS:
                await _refuse(send, 414, "URL too long\n")
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = message.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass(frozen=True)
class FeedFile:
    """One snapshot of a feed file: bytes and mtime read from the same open file, and its
    gzip representation (the builder's twin file when it matches, else compressed here)."""

    body: bytes
    mtime: float
    gzip_body: bytes | None = None

    @cached_property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gzip"'

    @property
    def last_modified(self) -> str:
        return formatdate(self.mtime, usegmt=True)

    @cached_property
    def gzipped(self) -> bytes:
        return self.gzip_body if self.gzip_body is not None else gzipped(self.body)


class FeedFiles:
    """Published files by path, read once per change: a request costs one ``stat`` while
    the file is unchanged (a replaced file has a new inode, mtime or size). The gzip twin
    the builder wrote is served when it decompresses to the file's bytes. Bounded: the
    least recently served files are dropped first."""

    def __init__(self, capacity: int = FEED_CACHE_FILES):
        self._capacity = capacity
        self._files: OrderedDict[Path, tuple[tuple[int, int, int], FeedFile]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> FeedFile | None:
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        key = (info.st_ino, info.st_mtime_ns, info.st_size)
        with self._lock:
            cached = self._files.get(path)
            if cached is not None and cached[0] == key:
                self._files.move_to_end(path)
                return cached[1]
        try:
            with path.open("rb") as handle:
                body = handle.read()
                stat = os.fstat(handle.fileno())
        except (FileNotFoundError, IsADirectoryError):
            return None
        feed = FeedFile(body, stat.st_mtime, _matching_twin(path, body))
        with self._lock:
            self._files[path] = ((stat.st_ino, stat.st_mtime_ns, stat.st_size), feed)
            self._files.move_to_end(path)
            while len(self._files) > self._capacity:
                self._files.popitem(last=False)
        return feed


def _matching_twin(path: Path, body: bytes) -> bytes | None:
    try:
        twin = gzip_path(path).read_bytes()
        return twin if gzip.decompress(twin) == body else None
    except (OSError, EOFError, gzip.BadGzipFile):
        return None


def accepts_gzip(request: Request) -> bool:
    """Whether Accept-Encoding allows gzip (an explicit ``gzip`` q-value beats ``*``)."""
    weights: dict[str, float] = {}
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.partition(";")
        weights[coding.strip().lower()] = _q_value(params)
    for coding in ("gzip", "x-gzip", "*"):
        if coding in weights:
            return weights[coding] > 0
    return False


def _q_value(params: str) -> float:
    name, _, value = params.strip().partition("=")
    if name.strip().lower() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0


def not_modified(request: Request, etags: tuple[str, ...], mtime: float) -> bool:
    """RFC 9110 §13.2.2: If-None-Match (weak comparison) wins over If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in wanted or not wanted.isdisjoint(etags)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            return int(mtime) <= parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False  # an unparsable date is ignored, as the RFC says
    return False


class Handlers:
    """The endpoints; DB-touching ones are sync so Starlette runs them in its threadpool."""

    def __init__(self, config: Config, next_run: NextRun | None = None):
        self.config = config
        self.next_run = next_run  # the scheduler's next run per source, inside the service
        self._repository: Repository | None = None
        self._files = FeedFiles()

    @property
    def repository(self) -> Repository:
        """The repository, after checking the database is there with our schema.

        Created on first use: a broken database URL must not keep the server (and so
        /healthz's 503) from coming up. Checked on every use: the server only reads, and
        must answer 503 rather than create an empty database when the file is gone.
        """
        from db.migrate import check_schema

        check_schema(self.config.db_url)
        if self._repository is None:
            self._repository = Repository(self.config.db_url)
        return self._repository

    def feed(self, request: Request) -> Response:
        name = request.path_params["name"]
        match = FEED_NAME.fullmatch(name)
        feed = self._files.get(self.config.feeds_dir / name) if match else None
        if match is None or feed is None:
            return PlainTextResponse(f"no feed {name!r}\n", status_code=404)
        return self._published_file(request, feed, FEED_MEDIA_TYPES[match.group(1)])

    def feed_archive(self, request: Request) -> Response:
        """An RFC 5005 archive page: ``/feeds/archive/<feed>/<k>.xml|.atom``."""
        name, page = request.path_params["name"], request.path_params["page"]
        match = ARCHIVE_PAGE.fullmatch(page)
        valid = match is not None and FEED_NAME.fullmatch(f"{name}.xml") is not None
        path = self.config.feeds_dir / ARCHIVE_DIR / name / page
        document = self._files.get(path) if valid else None
        if match is None or document is None:
            return PlainTextResponse(f"no archive page {name}/{page}\n", status_code=404)
        return self._published_file(request, document, FEED_MEDIA_TYPES[match.group(1)])

    def opml(self, request: Request) -> Response:
        document = self._files.get(self.config.feeds_dir / OPML_FILE)
        if document is None:
            return PlainTextResponse("no feeds built yet\n", status_code=404)
        return self._published_file(request, document, OPML_MEDIA_TYPE)

    def _published_file(self, request: Request, feed: FeedFile, media_type: str) -> Response:
        """A file the feed builder wrote, with ETag/Last-Modified, 304s and gzip."""
        compress = accepts_gzip(request)
        headers = {
            "ETag": feed.gzip_etag if compress else feed.etag,
            "Last-Modified": feed.last_modified,
            "Cache-Control": FEED_CACHE_CONTROL,
            "Vary": "Accept-Encoding",
        }
        if not_modified(request, (feed.etag, feed.gzip_etag), feed.mtime):
            return Response(status_code=304, headers=headers)
        # Deterministic gzip bytes (mtime=0): their ETag is stable across requests.
        body = feed.gzipped if compress else feed.body
        if compress:
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = media_type
        headers["Content-Length"] = str(len(body))
        return Response(b"" if request.method == "HEAD" else body, headers=headers)

    def feed_index(self, request: Request) -> Response:
        names = sorted(
            p.name for p in self.config.feeds_dir.glob("*") if FEED_NAME.fullmatch(p.name)
        )
        items = "".join(
            f'<li><a href="/feeds/{html.escape(n)}">{html.escape(n)}</a></li>' for n in names
        )
        body = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>clusterwatch feeds</title></head><body><h1>Feeds</h1>"
            f"<ul>{items or '<li>no feeds built yet</li>'}</ul>"
            f'<p><a href="/{OPML_FILE}">all feeds as OPML</a></p>'
            '<p><a href="/">status page</a></p></body></html>'
        )
        return HTMLResponse(body)

    def healthz(self, request: Request) -> Response:
        try:
            self.repository.ping()
        except Exception as exc:  # any failure means "not healthy", whatever the driver
            problem = describe(exc, self.config.db_url)
            message = problem.message if problem else f"unavailable ({type(exc).__name__})"
            logger.warning("health check: %s", message)
            return JSONResponse(
                {"status": "error", "database": f"unavailable ({type(exc).__name__})"},
                status_code=503,
            )
        feeds = sum(1 for p in self.config.feeds_dir.glob("*") if FEED_NAME.fullmatch(p.name))
        return JSONResponse({"status": "ok", "database": "ok", "feeds": feeds})

    def run_log(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            run = self.repository.run(run_id)
        except Exception as exc:
            if not _database_error(exc):
                raise
            return PlainTextResponse(f"{self._problem(exc)}\n", status_code=503)
        if run is not None and run.launcher == "scrapyd":
            from monitor.launchers.scrapyd import WorkerError, fetch_log

            try:
                remote = fetch_log(run, self.config.scrapyd_project)
            except WorkerError as error:
                return PlainTextResponse(f"log of crawl run {run_id}: {error}\n", status_code=502)
            return Response(remote, media_type="text/plain; charset=utf-8")
        if run is None or not run.log_path:
            return PlainTextResponse(f"no log for crawl run {run_id}\n", status_code=404)
        try:
            # Read once: a running crawl keeps appending, which would break Content-Length.
            body = Path(run.log_path).read_bytes()
        except FileNotFoundError:
            return PlainTextResponse(
                f"log file of crawl run {run_id} is gone: {run.log_path}\n", status_code=404
            )
        return Response(body, media_type="text/plain; charset=utf-8")

    def status(self, request: Request) -> Response:
        try:
            from monitor.status_page import render_status
        except ImportError as exc:
            if exc.name != STATUS_PAGE_MODULE:
                raise
            return PlainTextResponse(
                "status page not available: monitor.status_page is not installed\n",
                status_code=503,
            )
        try:
            page = render_status(self.config, self.repository, next_run=self.next_run)
        except Exception as exc:
            if not _database_error(exc):
                raise
            return HTMLResponse(self._unavailable_page(exc), status_code=503)
        return HTMLResponse(page)

    def archive(self, request: Request) -> Response:
        from monitor.archive_page import ArchiveFilters, render_archive
        from monitor.sources import list_sources

        sources = list_sources(self.config)
        filters = ArchiveFilters.from_params(request.query_params, sources)
        try:
            page = render_archive(self.repository, sources, filters)
        except Exception as exc:
            if not _database_error(exc):
                raise
            return HTMLResponse(self._unavailable_page(exc), status_code=503)
        return HTMLResponse(page, headers={"Content-Security-Policy": ARCHIVE_CSP})

    def story(self, request: Request) -> Response:
        from monitor.archive_page import render_story
        from monitor.sources import list_sources

        story_id = request.path_params["story_id"]
        try:
            found = self.repository.published_story(story_id)
        except Exception as exc:
            if not _database_error(exc):
                raise
            return HTMLResponse(self._unavailable_page(exc), status_code=503)
        if found is None:
            return PlainTextResponse(f"no story {story_id}\n", status_code=404)
        page = render_story(found, list_sources(self.config))
        return HTMLResponse(page, headers={"Content-Security-Policy": ARCHIVE_CSP})

    def _problem(self, exc: BaseException) -> str:
        problem = describe(exc, self.config.db_url)
        return problem.message if problem else "database unavailable"

    def _unavailable_page(self, exc: BaseException) -> str:
        message = self._problem(exc)
        logger.warning("status page: %s", message)
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="refresh" content="30"><title>clusterwatch: database unavailable'
            "</title></head><body><h1>clusterwatch: database unavailable</h1>"
            f"<p>{html.escape(message)}</p><p>The feeds are still served from their files: "
            '<a href="/feeds/">feeds</a>. This page retries every 30 seconds.</p></body></html>'
        )

    def metrics(self, request: Request) -> Response:
        from monitor import clusterwatch_version
        from monitor.health import evaluate
        from monitor.metrics import CONTENT_TYPE, render_metrics

        try:
            body = render_metrics(
                lambda: evaluate(self.config, self.repository, next_run=self.next_run),
                clusterwatch_version(),
            )
        except Exception as exc:
            if not _database_error(exc):
                raise
            return PlainTextResponse(f"{self._problem(exc)}\n", status_code=503)
        return Response(body, media_type=CONTENT_TYPE)


def _database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    from db.migrate import NoDatabase, SchemaOutOfDate

    return isinstance(exc, SQLAlchemyError | NoDatabase | SchemaOutOfDate | ModuleNotFoundError)


def create_app(config: Config, next_run: NextRun | None = None) -> Starlette:
    handlers = Handlers(config, next_run)
    # Feeds do their own gzip (own ETag, honours q=0); the middleware's simple check would
    # re-compress an identity answer for "gzip;q=0", so it wraps only the other routes.
    gzipped = [Middleware(GZipMiddleware, minimum_size=500)]
    read_only = ["GET", "HEAD"]
    routes = [
        Route("/", handlers.status, methods=read_only, middleware=gzipped),
        Route("/feeds/", handlers.feed_index, methods=read_only, middleware=gzipped),
        Route("/feeds/{name}", handlers.feed, methods=read_only),
        Route(f"/{OPML_FILE}", handlers.opml, methods=read_only),
        Route(f"/feeds/{ARCHIVE_DIR}/{{name}}/{{page}}", handlers.feed_archive, methods=read_only),
        Route("/archive", handlers.archive, methods=read_only, middleware=gzipped),
        Route("/stories/{story_id:id}", handlers.story, methods=read_only, middleware=gzipped),
        Route("/healthz", handlers.healthz, methods=read_only),
        Route("/metrics", handlers.metrics, methods=read_only),
        Route("/runs/{run_id:id}/log", handlers.run_log, methods=read_only, middleware=gzipped),
    ]
    return Starlette(routes=routes, middleware=[Middleware(RequestLimits)])


def serve(config: Config, host: str | None = None, port: int | None = None) -> None:
    """Run the server in the foreground until interrupted (``clusterwatch serve``)."""
    serve_foreground(
        create_app(config),
        host or config.http_host,
        config.http_port if port is None else port,
        log_level="info",
    )


class BackgroundServer(ThreadedServer):
    """The HTTP server in a thread (inside ``clusterwatch run``, and in tests).

    ``app`` replaces ``create_app(config)``, e.g. to wrap it in a recording middleware.
    """

    def __init__(
        self,
        config: Config,
        host: str | None = None,
        port: int | None = None,
        app: ASGIApp | None = None,
    ):
        super().__init__(
            app if app is not None else create_app(config),
            host or config.http_host,
            config.http_port if port is None else port,
        )
