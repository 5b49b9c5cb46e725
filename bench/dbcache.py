"""Generated benchmark databases, built once per machine and copied for every run.

A benchmark names what it generates (``archive-100000-a1``: what, size, generator version)
and passes the function that fills an empty, migrated database. The first run builds it;
later runs copy it — a SQLite file from the cache directory, a PostgreSQL database from a
template on the same server (``CREATE DATABASE … TEMPLATE``). A cached database is brought
to the newest migration in place before it is copied, so a new migration keeps the cache
and is paid once (at 1 M a migration that rewrites a table takes minutes), not per run.
The PostgreSQL cluster itself lives in the cache directory too (started for a run, stopped
after it; like the tests' clusters it runs with fsync off: delete the directory after a
crash of the machine).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from db.engine import create_db_engine
from db.migrate import upgrade

CACHE = Path(tempfile.gettempdir()) / "clusterwatch-bench-store"
# The benchmarks' own PostgreSQL cluster: kept between runs, so are its template databases.
PG_DATA = CACHE / "postgres"


@contextlib.contextmanager
def postgres(given: str | None) -> Iterator[str | None]:
    """A PostgreSQL server URL: ``given`` (``--pg-url``), else the benchmarks' kept cluster
    in the cache directory (started for the run, stopped after it); None without PostgreSQL."""
    if given:
        yield given
        return
    from tests.pg import postgres_server

    server = postgres_server(keep=PG_DATA)
    try:
        url = server.__enter__()
    except BaseException as exc:  # pytest.skip's exception when PostgreSQL is missing
        if isinstance(exc, KeyboardInterrupt):
            raise
        print(f"PostgreSQL not available: {exc}", file=sys.stderr)
        yield None
        return
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


def _family(name: str) -> str:
    """The name without its generator version: older versions of it are stale."""
    return name.rsplit("-", 1)[0]


def cached_sqlite(name: str, target: Path, build: Callable[[str], None]) -> tuple[float, bool]:
    """The SQLite database ``name`` at ``target``; (seconds, whether it came from the cache)."""
    began = time.perf_counter()
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"sqlite-{name}.db"
    hit = cached.exists()
    if not hit:
        for stale in CACHE.glob(f"sqlite-{_family(name)}-*.db*"):
            stale.unlink()
        building = cached.with_suffix(".building")
        building.unlink(missing_ok=True)
        url = f"sqlite:///{building}"
        upgrade(url)
        build(url)
        # Closing every connection checkpoints the write-ahead log into the file and
        # removes it: the cached file is then the whole database.
        dispose(url)
        assert not Path(f"{building}-wal").exists(), "write-ahead log left behind"
        building.rename(cached)
    else:  # brought to the newest migration in place: once, not in every copy
        upgrade(f"sqlite:///{cached}")
        dispose(f"sqlite:///{cached}")
    shutil.copyfile(cached, target)
    return time.perf_counter() - began, hit


def cached_postgres(
    server: str, name: str, build: Callable[[str], None]
) -> tuple[str, float, bool]:
    """A new database on ``server`` holding ``name``: (URL, seconds, whether it was cached)."""
    import psycopg

    began = time.perf_counter()
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    template = "cw_bench_" + name.replace("-", "_")
    with psycopg.connect(plain, autocommit=True) as connection:
        hit = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (template,)
        ).fetchone()
        if not hit:
            drop_stale_templates(connection, "cw_bench_" + _family(name).replace("-", "_"))
    if not hit:
        url = fresh_database(server)
        upgrade(url)
        build(url)
        dispose(url)
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" RENAME TO "{template}"')
    else:  # the template brought to the newest migration in place (it must be left idle)
        own = server.rsplit("/", 1)[0] + f"/{template}"
        upgrade(own)
        dispose(own)
    url = fresh_database(server, template=template)
    return url, time.perf_counter() - began, bool(hit)


def drop_stale_templates(connection: Any, family: str) -> list[str]:
    """Drop the templates ``<family>_<version>`` (an older generator's), and only those:
    ``_`` is LIKE's any-character, so unescaped, 10 k's family took 100 k's and 1 M's."""
    pattern = (family + "_").replace("_", r"\_") + "%"
    stale = [
        str(name)
        for (name,) in connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ESCAPE '\\'", (pattern,)
        ).fetchall()
    ]
    for name in stale:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    return stale


def fresh_database(server: str, template: str | None = None) -> str:
    """A new database on the server (empty, or a file copy of ``template``); its URL."""
    import psycopg

    name = f"cw_{os.urandom(6).hex()}"
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"{copy}')
    return server.rsplit("/", 1)[0] + f"/{name}"


def drop(server: str, url: str) -> None:
    """Drop the database at ``url`` (a copy) from the server."""
    import psycopg

    dispose(url)
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def dispose(url: str) -> None:
    """Close the pooled connections of ``url`` (a template must have none; SQLite's last
    close checkpoints the write-ahead log)."""
    create_db_engine(url).dispose()
    create_db_engine.cache_clear()
