"""A throwaway PostgreSQL cluster on 127.0.0.1 for the tests that run on both backends.

``CLUSTERWATCH_TEST_POSTGRES_URL`` (a server URL, e.g. ``postgresql+psycopg://u@127.0.0.1:5432/
postgres``) uses an existing server. Otherwise the Debian ``postgresql`` package's binaries
start a cluster of their own in a temporary directory for the test session (as the
``postgres`` user when the tests run as root, since PostgreSQL refuses root). With
``CI=true`` a missing package or driver is a failure, never a skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

URL_ENV = "CLUSTERWATCH_TEST_POSTGRES_URL"


def _missing(what: str) -> None:
    message = f"PostgreSQL leg needs {what}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: this test must run)")
    pytest.skip(message)


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _running_port(data: Path) -> int | None:
    """The port of a postmaster already running on ``data`` (its postmaster.pid), if any."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
        os.kill(int(lines[0]), 0)
        return int(lines[3])
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def postgres_server(keep: Path | None = None) -> Iterator[str]:
    """A server URL (database ``postgres``) for the session.

    ``keep``: the cluster's data directory survives the session (the benchmarks' generated
    databases live on in it): created on first use, started if it is not running (and then
    stopped, not deleted, at the end), used as it is if a server already runs on it.
    """
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("the psycopg driver (pip install 'clusterwatch[postgres]')")
    given = os.environ.get(URL_ENV)
    if given:
        yield given
        return
    bindir = _bindir()
    if bindir is None:
        _missing("the Debian package postgresql (initdb, pg_ctl)")
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="cw-pg-"))
    data, sockets = (keep or root / "data"), root / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    running = _running_port(data) if keep else None
    if running is not None:
        shutil.rmtree(root, ignore_errors=True)
        yield f"postgresql+psycopg://cw@127.0.0.1:{running}/postgres"
        return
    if not (data / "PG_VERSION").exists():
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(data, "postgres")
        _initdb(bindir, data)
    port = _free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "-l",
                str(root / "log"),
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://cw@127.0.0.1:{port}/postgres"
    finally:
        # A kept cluster stops cleanly (its databases must survive); a throwaway one at once.
        mode = "fast" if keep else "immediate"
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", mode, "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _initdb(bindir: Path, data: Path) -> None:
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "cw",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )


def fresh_database(server_url: str) -> str:
    """A new, empty database on the server; returns its URL."""
    import psycopg

    name = f"cw_{uuid.uuid4().hex[:12]}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    for attempt in range(50):
        try:
            with psycopg.connect(plain, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
            break
        except psycopg.OperationalError:
            if attempt == 49:
                raise
            time.sleep(0.1)
    return server_url.rsplit("/", 1)[0] + f"/{name}"
