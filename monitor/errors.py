"""Bad input and a broken environment as one line and an exit code, never a traceback.

Exit status 2: usage or configuration (a bad key, value, source name, ``DATABASE_URL`` that is
no URL, an unknown revision); 3: the environment (database unreachable or missing, driver not
installed, a path that cannot be written, a port in use). Passwords in database URLs are
masked in every message.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3

# DBAPI driver modules a DATABASE_URL may need, and how to install them.
DRIVERS = {
    "psycopg": "pip install 'clusterwatch[postgres]'",
    "psycopg2": "pip install psycopg2-binary (or use postgresql+psycopg://)",
}


@dataclass
class Problem(Exception):
    """An error already put into words for the operator."""

    message: str
    code: int = EXIT_ENVIRONMENT

    def __str__(self) -> str:
        return self.message


def describe(error: BaseException, database_url: str | None = None) -> Problem | None:
    """The one-line description of a known kind of failure, or None (a real bug)."""
    from alembic.util import CommandError
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    from db.engine import mask_secrets, mask_url
    from db.migrate import NoDatabase, SchemaOutOfDate
    from scraper.config import ConfigError

    url = database_url or ""
    shown = mask_url(url) if url else "the database"
    problem: Problem | None = None
    if isinstance(error, Problem):
        problem = error
    elif isinstance(error, ConfigError):
        problem = Problem(f"configuration error: {error}", EXIT_USAGE)
    elif isinstance(error, NoDatabase | SchemaOutOfDate):
        problem = Problem(str(error), EXIT_ENVIRONMENT)
    elif isinstance(error, NoSuchModuleError | ArgumentError):
        problem = Problem(
            f"DATABASE_URL {shown!r} is not a usable database URL ({_first_line(error)}); "
            "e.g. sqlite:////var/lib/clusterwatch/clusterwatch.db or "
            "postgresql+psycopg://user:password@host/clusterwatch",
            EXIT_USAGE,
        )
    elif isinstance(error, ModuleNotFoundError) and error.name:
        top = error.name.split(".")[0]
        hint = DRIVERS.get(top, f"pip install {top}")
        problem = Problem(
            f"DATABASE_URL {shown} needs the Python module {top!r}, which is not installed: {hint}",
            EXIT_ENVIRONMENT,
        )
    elif isinstance(error, DBAPIError):
        problem = Problem(
            f"database {shown} unavailable: {_first_line(error.orig or error)}", EXIT_ENVIRONMENT
        )
    elif isinstance(error, CommandError):
        problem = Problem(f"database migration: {error}", EXIT_USAGE)
    elif isinstance(error, OSError) and error.errno is not None:
        problem = Problem(_os_error(error), EXIT_ENVIRONMENT)
    if problem is not None and url:
        problem.message = mask_secrets(problem.message, url)
    return problem


def _os_error(error: OSError) -> str:
    where = f" {error.filename}" if error.filename else ""
    if error.errno == errno.EADDRINUSE:
        return f"cannot listen{where}: address already in use"
    reason = error.strerror or str(error)
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write{where}: {reason}"
    return f"cannot use{where}: {reason}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0].strip()
