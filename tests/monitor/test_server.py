"""The HTTP server: feeds with conditional GET and gzip, index, health, crawl logs."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from db.repository import ArticleRecord, Repository
from monitor.feeds import build_feeds
from monitor.server import BackgroundServer, create_app
from scraper.config import Config
from tests.monitor.conftest import FEED_SOURCES

IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture
def client(
    feed_config: Config, repository: Repository, add_article: Callable[..., ArticleRecord]
) -> Iterator[TestClient]:
    for n in range(5):  # enough text that gzip is worth it
        add_article(source="alpha" if n % 2 else "beta")
    build_feeds(feed_config, repository, FEED_SOURCES)
    with TestClient(create_app(feed_config)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("all.xml", "application/rss+xml; charset=utf-8"),
        ("all.atom", "application/atom+xml; charset=utf-8"),
        ("alpha.xml", "application/rss+xml; charset=utf-8"),
        ("beta.atom", "application/atom+xml; charset=utf-8"),
    ],
)
def test_feed_content_types_and_body(
    client: TestClient, feed_config: Config, name: str, media_type: str
) -> None:
    response = client.get(f"/feeds/{name}", headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.content == (feed_config.feeds_dir / name).read_bytes()
    assert "content-encoding" not in response.headers
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith("GMT")


def test_etag_revalidation_gives_304(client: TestClient) -> None:
    first = client.get("/feeds/all.xml", headers=IDENTITY)
    etag = first.headers["etag"]
    again = client.get("/feeds/all.xml", headers={**IDENTITY, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    weak = client.get("/feeds/all.xml", headers={**IDENTITY, "If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    other = client.get("/feeds/all.xml", headers={**IDENTITY, "If-None-Match": '"other"'})
    assert other.status_code == 200


def test_if_none_match_wins_over_if_modified_since(client: TestClient) -> None:
    first = client.get("/feeds/all.xml", headers=IDENTITY)
    headers = {
        **IDENTITY,
        "If-None-Match": '"stale"',
        "If-Modified-Since": first.headers["last-modified"],
    }
    assert client.get("/feeds/all.xml", headers=headers).status_code == 200


def test_last_modified_revalidation_gives_304(client: TestClient, feed_config: Config) -> None:
    first = client.get("/feeds/all.atom", headers=IDENTITY)
    last_modified = first.headers["last-modified"]
    mtime = (feed_config.feeds_dir / "all.atom").stat().st_mtime
    assert last_modified == formatdate(mtime, usegmt=True)
    same = client.get("/feeds/all.atom", headers={**IDENTITY, "If-Modified-Since": last_modified})
    assert same.status_code == 304
    older = formatdate(mtime - 3600, usegmt=True)
    assert (
        client.get("/feeds/all.atom", headers={**IDENTITY, "If-Modified-Since": older}).status_code
        == 200
    )


def test_feed_changes_after_rebuild_with_new_item(
    client: TestClient,
    feed_config: Config,
    repository: Repository,
    add_article: Callable[..., ArticleRecord],
) -> None:
    first = client.get("/feeds/all.xml", headers=IDENTITY)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    build_feeds(feed_config, repository, FEED_SOURCES)  # nothing new: same bytes
    assert client.get("/feeds/all.xml", headers={"If-None-Match": etag}).status_code == 304
    add_article(title="Brand new")
    build_feeds(feed_config, repository, FEED_SOURCES)  # most likely within the same second
    changed = client.get("/feeds/all.xml", headers={**IDENTITY, "If-None-Match": etag})
    assert changed.status_code == 200
    assert b"Brand new" in changed.content
    assert changed.headers["etag"] != etag
    assert parsedate_to_datetime(changed.headers["last-modified"]) > parsedate_to_datetime(
        last_modified
    )
    since = client.get("/feeds/all.xml", headers={**IDENTITY, "If-Modified-Since": last_modified})
    assert since.status_code == 200


def test_gzip_when_accepted(client: TestClient, feed_config: Config) -> None:
    plain = client.get("/feeds/all.xml", headers=IDENTITY)
    zipped = client.get("/feeds/all.xml", headers=GZIP)
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert zipped.content == (feed_config.feeds_dir / "all.xml").read_bytes()  # decoded
    assert int(zipped.headers["content-length"]) < len(plain.content)
    # A different representation gets its own ETag, and revalidates too.
    assert zipped.headers["etag"] != plain.headers["etag"]
    revalidated = client.get(
        "/feeds/all.xml", headers={**GZIP, "If-None-Match": zipped.headers["etag"]}
    )
    assert revalidated.status_code == 304
    refused = client.get("/feeds/all.xml", headers={"Accept-Encoding": "gzip;q=0, *"})
    assert "content-encoding" not in refused.headers


def test_gzip_bytes_are_stable(client: TestClient) -> None:
    with client.stream("GET", "/feeds/all.atom", headers=GZIP) as first:
        raw_first = b"".join(first.iter_raw())
    with client.stream("GET", "/feeds/all.atom", headers=GZIP) as second:
        raw_second = b"".join(second.iter_raw())
    assert raw_first == raw_second
    assert gzip.decompress(raw_first).startswith(b"<?xml")


@pytest.mark.parametrize("headers", [IDENTITY, GZIP])
def test_head_matches_get_without_body(client: TestClient, headers: dict[str, str]) -> None:
    get = client.get("/feeds/all.xml", headers=headers)
    head = client.head("/feeds/all.xml", headers=headers)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("etag", "last-modified", "content-type", "content-length"):
        assert head.headers[name] == get.headers[name], name
    assert head.headers.get("content-encoding") == get.headers.get("content-encoding")


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/nope.xml",
        "/feeds/all.rss",
        "/feeds/feeds.opml",
        "/feeds/clusterwatch.db",
        "/feeds/..%2Fclusterwatch.db",
        "/feeds/..%2F..%2Fdata%2Ffeeds%2Fall.xml",
        "/feeds/.all.xml.tmp",
        "/feeds/%2E%2E",
    ],
)
def test_unknown_or_escaping_names_are_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_feed_index_lists_feeds(client: TestClient) -> None:
    response = client.get("/feeds/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for name in ("all.xml", "all.atom", "alpha.xml", "beta.atom"):
        assert f'href="/feeds/{name}"' in response.text


def test_healthz_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "feeds": 9}


def test_healthz_503_when_database_unreachable(tmp_path: Path) -> None:
    # A directory is not a database file: SQLite cannot open it.
    (tmp_path / "not-a-db").mkdir()
    config = Config(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'not-a-db'}")
    with TestClient(create_app(config)) as test_client:
        response = test_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_healthz_503_without_schema(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with TestClient(create_app(config)) as test_client:
        assert test_client.get("/healthz").status_code == 503


def test_run_log_is_served_as_text(
    client: TestClient, repository: Repository, tmp_path: Path
) -> None:
    log = tmp_path / "run.log"
    log.write_text("2024-01-01 INFO crawl started\nÄrger: 1 error\n", encoding="utf-8")
    run_id = repository.start_run("alpha", "manual", str(log), None)
    response = client.get(f"/runs/{run_id}/log")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == log.read_text(encoding="utf-8")

    gone = repository.start_run("alpha", "manual", str(tmp_path / "missing.log"), None)
    no_log = repository.start_run("alpha", "manual", None, None)
    for path in (f"/runs/{gone}/log", f"/runs/{no_log}/log", "/runs/9999/log", "/runs/x/log"):
        assert client.get(path).status_code == 404, path


def test_status_page_route(client: TestClient) -> None:
    response = client.get("/")
    # Until monitor.status_page exists the route says so with a 503.
    if response.status_code == 503:
        assert "status page not available" in response.text
    else:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")


def test_real_uvicorn_server(client: TestClient, feed_config: Config) -> None:
    with BackgroundServer(feed_config, host="127.0.0.1", port=0) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=server.url, timeout=10) as http:
            first = http.get("/feeds/all.xml", headers=GZIP)
            assert first.status_code == 200
            assert first.headers["content-encoding"] == "gzip"
            assert first.content == (feed_config.feeds_dir / "all.xml").read_bytes()
            again = http.get(
                "/feeds/all.xml", headers={**GZIP, "If-None-Match": first.headers["etag"]}
            )
            assert again.status_code == 304
            head = http.head("/feeds/all.atom")
            assert head.status_code == 200 and head.content == b""
            assert http.get("/healthz").json()["status"] == "ok"


def test_the_gzip_twin_written_at_build_time_is_what_is_served(
    client: TestClient, feed_config: Config
) -> None:
    twin = feed_config.feeds_dir / "all.xml.gz"
    with client.stream("GET", "/feeds/all.xml", headers=GZIP) as response:
        raw = b"".join(response.iter_raw())
    assert raw == twin.read_bytes()
    assert gzip.decompress(raw) == (feed_config.feeds_dir / "all.xml").read_bytes()


def test_a_twin_that_does_not_match_its_file_is_not_served(
    client: TestClient, feed_config: Config
) -> None:
    (feed_config.feeds_dir / "all.atom.gz").write_bytes(gzip.compress(b"<stale/>", mtime=0))
    # the file changes after the twin (a fresh inode): the server reads both again
    document = feed_config.feeds_dir / "all.atom"
    body = document.read_bytes()
    document.unlink()
    document.write_bytes(body)
    with client.stream("GET", "/feeds/all.atom", headers=GZIP) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == body


def test_a_replaced_feed_is_served_new_at_once(
    client: TestClient,
    feed_config: Config,
    repository: Repository,
    add_article: Callable[..., ArticleRecord],
) -> None:
    before = client.get("/feeds/all.json", headers=GZIP)
    assert before.status_code == 200
    add_article(title="Served from the new file")
    build_feeds(feed_config, repository, FEED_SOURCES)
    for headers in (GZIP, IDENTITY):
        after = client.get("/feeds/all.json", headers=headers)
        assert "Served from the new file" in after.text
        assert after.headers["etag"] != before.headers["etag"]


def test_the_service_socket_is_tcp_so_small_answers_are_not_delayed() -> None:
    """asyncio sets TCP_NODELAY only on sockets made with IPPROTO_TCP; without it each small
    response waited for the client's delayed ACK of its headers (~40 ms)."""
    import socket

    from monitor.threaded import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
