"""Server hardening against a real uvicorn on 127.0.0.1: odd and traversing paths, methods,
oversized requests, unbounded ids and names; the defaults bind to loopback; a bounded load
test with flat memory; an unwritable feed directory."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.repository import ArticleRecord, Repository
from monitor.feeds import FeedWriteError, build_feeds
from monitor.server import BackgroundServer
from scraper.config import Config
from tests.monitor.conftest import FEED_SOURCES
from tests.reliability import Recorder

REPO_ROOT = Path(__file__).resolve().parents[2]
CLUSTERWATCH = Path(sys.executable).with_name("clusterwatch")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    """One real server for the module's requests (none of them changes anything)."""
    from db.migrate import upgrade

    data = tmp_path_factory.mktemp("hardening") / "data"
    url = f"sqlite:///{data / 'clusterwatch.db'}"
    upgrade(url)
    config = Config(data_dir=data, database_url=url, feed_base_url="https://feeds.example")
    repository = Repository(url)
    for n in range(6):
        source = "alpha" if n % 2 else "beta"
        repository.add_article(
            ArticleRecord(
                canonical_url=f"https://{source}.example/news/{n}",
                source=source,
                url=f"https://{source}.example/news/{n}",
                title=f"Announcement {n}",
                text=f"Cluster news number {n}. " * 5,
                html=f"<p>Cluster news number {n}.</p>",
                content_hash=f"hash-{n}",
                relevance="relevant",
            )
        )
    build_feeds(config, repository, FEED_SOURCES)
    with BackgroundServer(config, "127.0.0.1", 0) as running:
        yield running


def raw_request(server: BackgroundServer, data: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are (no client normalising the path) and read the answer."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def get(server: BackgroundServer, target: str, method: str = "GET", extra: str = "") -> int:
    request = f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n"
    return status_of(raw_request(server, request.encode("latin-1")))


ODD_PATHS = [
    "/feeds/../clusterwatch.db",
    "/feeds/%2e%2e/clusterwatch.db",
    "/feeds/..%2fclusterwatch.db",
    "/feeds/%2e%2e%2fclusterwatch.db",
    "/feeds/archive/../../clusterwatch.db/1.xml",
    "/feeds/archive/all/..%2f..%2fclusterwatch.db",
    "/feeds/.all.xml.tmp",
    "/feeds/all.xml%00.txt",
    "/feeds/all.xml%0a",
    "/feeds//all.xml",
    "/feeds/ALL.XML",
    "/feeds/all.xml.gz",
    "/feeds/archive/all/0.xml",
    "/feeds/archive/all/9999999999999999999999.xml",
    "/runs/99999999999999999999999/log",
    "/runs/9223372036854775808/log",
    "/runs/-1/log",
    "/runs/1e3/log",
    "/stories/99999999999999999999999",
    "/stories/0x10",
    "//etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/static/../../etc/passwd",
    "/nothing-here",
]


@pytest.mark.parametrize("path", ODD_PATHS, ids=range(len(ODD_PATHS)))
def test_odd_and_traversing_paths_are_404(
    server: BackgroundServer, path: str, reliability: Recorder
) -> None:
    assert get(server, path) == 404
    reliability.record("server", f"GET {path[:60]}", "404, nothing outside the feeds served")


def test_a_100_kb_feed_name_is_refused_not_500(
    server: BackgroundServer, reliability: Recorder
) -> None:
    # Beyond uvicorn's bounded request head: refused before routing (400), the server lives.
    answer = raw_request(
        server, f"GET /feeds/{'a' * 100_000}.xml HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )
    assert status_of(answer) in (400, 414, 431)
    # Just under it: the name is longer than any feed name may be, 404 (not ENAMETOOLONG).
    assert get(server, f"/feeds/{'a' * 15_000}.xml") == 414
    assert get(server, f"/feeds/{'a' * 1000}.xml") == 404
    assert get(server, "/feeds/all.xml") == 200
    reliability.record("server", "100 kB feed name in the URL", "400 before routing; server up")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
@pytest.mark.parametrize("path", ["/", "/feeds/all.xml", "/healthz", "/runs/1/log"])
def test_unknown_methods_are_405(
    server: BackgroundServer, method: str, path: str, reliability: Recorder
) -> None:
    answer = raw_request(
        server, f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert status_of(answer) == 405
    allow = next(line for line in answer.lower().split(b"\r\n") if line.startswith(b"allow:"))
    assert set(allow.removeprefix(b"allow:").replace(b" ", b"").split(b",")) == {b"get", b"head"}
    reliability.record("server", f"{method} {path}", "405 with Allow: GET, HEAD")


def test_oversized_requests_are_refused(server: BackgroundServer, reliability: Recorder) -> None:
    # A header block beyond the bound: refused by the HTTP parser.
    huge_header = f"X-Junk: {'j' * 40_000}\r\n"
    assert get(server, "/", extra=huge_header) in (400, 431)
    many_headers = "".join(f"X-H{n}: {'v' * 50}\r\n" for n in range(1000))
    assert get(server, "/", extra=many_headers) in (400, 431)
    # A body (any: the server only reads) with or without a length.
    assert get(server, "/feeds/all.xml", extra="Content-Length: 10000000\r\n") == 413
    assert get(server, "/feeds/all.xml", extra="Transfer-Encoding: chunked\r\n") == 413
    # A long URL below the head bound.
    assert get(server, "/archive?q=" + "x" * 4000) == 414
    # The server is still answering.
    assert get(server, "/feeds/all.xml") == 200
    reliability.record(
        "server",
        "40 kB header, 1000 headers, 10 MB and chunked bodies, 4 kB URL",
        "400/431, 413, 414; server up",
    )


def test_binds_to_loopback_by_default(feed_config: Config, reliability: Recorder) -> None:
    assert Config().http_host == "127.0.0.1"
    with BackgroundServer(feed_config, port=0) as running:
        assert running.host == "127.0.0.1"
    reliability.record("server", "default configuration", "listens on 127.0.0.1 only")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_load_on_loopback_no_errors_flat_memory(
    feed_config: Config,
    repository: Repository,
    add_article: Callable[..., ArticleRecord],
    tmp_path: Path,
    long_mode: bool,
    reliability: Recorder,
) -> None:
    """``clusterwatch serve`` as its own process under concurrent GETs of the status page,
    a feed, the archive and /metrics: no error answer, resident memory flat."""
    for n in range(30):
        add_article(source="alpha" if n % 2 else "beta")
    build_feeds(feed_config, repository, FEED_SOURCES)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "CLUSTERWATCH_DATA_DIR": str(feed_config.data_dir),
        "CLUSTERWATCH_DATABASE_URL": feed_config.db_url,
        "CLUSTERWATCH_HTTP_PORT": str(port),
    }
    process = subprocess.Popen(
        [str(CLUSTERWATCH), "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    paths = ["/", "/feeds/all.xml", "/archive", "/metrics"]
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)

        def hammer(seconds: float, workers: int) -> tuple[int, list[str]]:
            errors: list[str] = []
            done = [0] * workers
            stop = time.monotonic() + seconds

            def worker(index: int) -> None:
                with httpx.Client(base_url=base, timeout=10) as client:
                    while time.monotonic() < stop:
                        path = paths[done[index] % len(paths)]
                        try:
                            status = client.get(path).status_code
                        except httpx.HTTPError as error:
                            errors.append(f"{path}: {type(error).__name__}")
                            continue
                        if status != 200:
                            errors.append(f"{path}: {status}")
                        done[index] += 1

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return sum(done), errors

        # Warm up at full concurrency (imports, caches, the thread pool's 40 workers and
        # their malloc arenas: RSS grows for the first ~1500 requests, then levels off),
        # then measure two halves.
        hammer(5 if long_mode else 3, 8)
        seconds = 24 if long_mode else 6
        before = _rss_kib(process.pid)
        first, errors = hammer(seconds / 2, 8)
        middle = _rss_kib(process.pid)
        second, more_errors = hammer(seconds / 2, 8)
        after = _rss_kib(process.pid)
        errors += more_errors
        requests = first + second
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    assert errors == [], errors[:10]
    assert requests > 50
    assert "Traceback" not in stderr.decode("utf-8", "replace")
    # Flat: the second half adds under 8 MiB (a leak of 10 kB per request would add more
    # over the second half's requests in long mode) and the whole run under 24 MiB.
    assert after - middle < 8 * 1024, f"RSS {before} → {middle} → {after} KiB"
    assert after - before < 24 * 1024, f"RSS {before} → {middle} → {after} KiB"
    reliability.record(
        "server",
        f"{requests} concurrent GETs of /, a feed, /archive, /metrics in {seconds} s (8 clients)",
        f"0 errors; RSS {before // 1024} → {middle // 1024} → {after // 1024} MiB",
    )


# -- an unwritable feed directory ----------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _read_only(folder: Path) -> Callable[[], None]:
    """Make ``folder`` read-only for this process: mode 0555, or (root ignores modes) the
    immutable attribute. Returns the undo."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return lambda: folder.chmod(0o755)
    subprocess.run(["chattr", "+i", str(folder)], check=True)
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_read_only_feed_directory_is_one_clear_error_and_old_feeds_stay(
    feed_config: Config,
    repository: Repository,
    add_article: Callable[..., ArticleRecord],
    reliability: Recorder,
) -> None:
    add_article(source="alpha")
    build_feeds(feed_config, repository, FEED_SOURCES)
    folder = feed_config.feeds_dir
    before = _snapshot(folder)
    add_article(source="beta")
    undo = _read_only(folder)
    try:
        with pytest.raises(FeedWriteError) as raised:
            build_feeds(feed_config, repository, FEED_SOURCES)
        # The service's hook logs it and keeps going instead of raising.
        from monitor.service import ServiceHooks

        ServiceHooks(feed_config, repository, FEED_SOURCES).rebuild_feeds()
        result = _feed_command(feed_config)
    finally:
        undo()
    assert str(folder) in str(raised.value) and "previous feed files are kept" in str(raised.value)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert _snapshot(folder) == before  # intact, no temp files left
    reliability.record(
        "feeds", "read-only feed directory", "one line naming it (exit 3); old feeds intact"
    )


def _feed_command(feed_config: Config, **options: Any) -> subprocess.CompletedProcess[str]:
    """``clusterwatch feed`` on the fixture's data dir and database, as an operator runs it."""
    return subprocess.run(
        [str(CLUSTERWATCH), "feed"],
        env={
            **os.environ,
            "CLUSTERWATCH_DATA_DIR": str(feed_config.data_dir),
            "CLUSTERWATCH_DATABASE_URL": feed_config.db_url,
        },
        cwd=feed_config.data_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
        **options,
    )


def test_full_feed_directory_is_one_clear_error_and_old_feeds_stay(
    feed_config: Config,
    repository: Repository,
    add_article: Callable[..., ArticleRecord],
    reliability: Recorder,
) -> None:
    """No space left (a file-size limit on the writing process: its writes fail with EFBIG
    as on a full disk): every feed file stays complete, the old version or the new."""
    add_article(source="alpha")
    build_feeds(feed_config, repository, FEED_SOURCES)
    folder = feed_config.feeds_dir
    before = _snapshot(folder)
    for n in range(40):  # the new feeds are far larger than the limit
        add_article(source="beta", text=f"Langer Text {n}. " * 300)
    limit = max(len(b) for b in before.values()) + 512

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = _feed_command(feed_config, preexec_fn=small_files)
    assert result.returncode == 3, result.stderr
    assert "feeds not written" in result.stderr and "Traceback" not in result.stderr
    after = _snapshot(folder)
    assert set(after) == set(before)  # no temp file left behind
    from lxml import etree

    for name, body in after.items():
        if name.endswith((".xml", ".atom", ".opml")):
            etree.fromstring(body)  # complete documents, old or new
    reliability.record(
        "feeds", "feed directory full (writes fail)", "one line (exit 3); every file complete"
    )
