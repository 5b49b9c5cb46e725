"""Alembic, driven from code: ``clusterwatch db upgrade`` and the crawl's first-run setup."""

from __future__ import annotations

import fcntl
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from db.engine import create_db_engine, mask_url, prepare_sqlite_dir, sqlite_path

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaOutOfDate(RuntimeError):
    pass


class NoDatabase(RuntimeError):
    """Read-only commands never create a database: there is none (or no schema) at the URL."""

    def __init__(self, url: str):
        super().__init__(
            f"no clusterwatch database at {_where(url)}; run `clusterwatch db upgrade`"
        )


def _where(url: str) -> str:
    path = sqlite_path(url)
    return str(path.resolve()) if path is not None else mask_url(url)


@lru_cache(maxsize=1)
def migrations_dir() -> Path:
    """The migrations as a directory Alembic can read.

    Inside a zipped egg (a Scrapyd worker runs the deployed egg) they are copied out once.
    """
    if MIGRATIONS.is_dir():
        return MIGRATIONS
    target = Path(tempfile.mkdtemp(prefix="clusterwatch-migrations-"))
    _copy_tree(resources.files("db").joinpath("migrations"), target)
    return target


def _copy_tree(source: Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.is_dir():
            if entry.name != "__pycache__":
                (target / entry.name).mkdir()
                _copy_tree(entry, target / entry.name)
        elif entry.name.endswith((".py", ".mako")):
            (target / entry.name).write_bytes(entry.read_bytes())


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    prepare_sqlite_dir(url)
    cfg = alembic_config(url)
    engine = create_db_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # Batch migrations rebuild SQLite tables (copy, drop, rename); with foreign keys
            # enforced the drop of a referenced table fails. Off for the migration only
            # (the pragma is ignored inside a transaction, so before it begins).
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def current_revision(url: str) -> str | None:
    with create_db_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def check_schema(url: str) -> None:
    """For read-only commands: the database must exist with the current schema.

    Raises :class:`NoDatabase` (no file, or no clusterwatch tables) or
    :class:`SchemaOutOfDate`; never creates anything, not even an empty SQLite file.
    """
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise NoDatabase(url)
    current = current_revision(url)
    if current is None:
        raise NoDatabase(url)
    if current != head_revision():
        raise SchemaOutOfDate(
            f"database schema is at {current}, code expects {head_revision()}: "
            "run `clusterwatch db upgrade`"
        )


def ensure_schema(url: str) -> None:
    """Create the schema on an empty database; refuse to run on an outdated one.

    Upgrading a populated database is a deliberate operator step (``clusterwatch db
    upgrade``), so a crawl never migrates data behind the operator's back. Two crawls that
    start at the same moment on a fresh database must not both create it: SQLite makes the
    tables visible before Alembic records the version, so creation is serialised.
    """
    prepare_sqlite_dir(url)
    with _schema_lock(url):
        _ensure_schema(url)


def _ensure_schema(url: str) -> None:
    engine = create_db_engine(url)
    current = current_revision(url)
    if current is None:
        tables = set(inspect(engine).get_table_names())
        if tables - {"alembic_version"}:
            if _wait_for_head(url):
                return  # another process (without our lock: not SQLite) just created it
            raise SchemaOutOfDate(
                f"database {mask_url(url)} has tables but no migration version; "
                "it was not created by clusterwatch"
            )
        try:
            upgrade(url)
        except OperationalError:
            if not _wait_for_head(url):
                raise
        return
    if current != head_revision():
        raise SchemaOutOfDate(
            f"database schema is at {current}, code expects {head_revision()}: "
            "run `clusterwatch db upgrade`"
        )


def _wait_for_head(url: str, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if current_revision(url) == head_revision():
            return True
        time.sleep(0.2)
    return False


@contextmanager
def _schema_lock(url: str) -> Iterator[None]:
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        yield
        return
    lock_path = Path(parsed.database).with_suffix(".migrate.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
