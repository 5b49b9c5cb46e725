"""Engine and session setup. SQLite runs in WAL mode with a busy timeout so the service,
a scheduled crawl and a hand-started ``scrapy crawl`` can share one file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other backends and in-memory databases)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``: what every message and log shows."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: nothing that looks like a password to hide
        return url


def mask_secrets(text: str, url: str) -> str:
    """``text`` (an error message, say) with the URL's password masked wherever it appears."""
    try:
        password = make_url(url).password
    except Exception:
        return text
    text = text.replace(url, mask_url(url))
    return text.replace(str(password), "***") if password else text


@lru_cache(maxsize=8)
def create_db_engine(url: str) -> Engine:
    """One engine per URL and process (engines pool connections; create them once).

    Creates nothing on disk: a SQLite file appears on the first write (``db upgrade``, the
    service, a crawl), whose callers make its directory (:func:`prepare_sqlite_dir`).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(create_db_engine(url), expire_on_commit=False)


def prepare_sqlite_dir(url: str) -> None:
    """Make the directory of a SQLite database (for commands that create it)."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
