"""The HTTP cache's rows: entry-point responses every worker revalidates against."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from db.engine import session_factory
from db.models import HttpCacheEntry, utcnow


@dataclass(frozen=True)
class CachedResponse:
    url: str
    status: int
    headers: bytes  # the raw header block
    body: bytes
    stored_at: datetime


class HttpCacheStore:
    def __init__(self, url_or_factory: str | sessionmaker[Session]):
        self._sessions = (
            session_factory(url_or_factory) if isinstance(url_or_factory, str) else url_or_factory
        )

    def get(self, fingerprint: str) -> CachedResponse | None:
        with self._sessions() as s:
            row = s.get(HttpCacheEntry, fingerprint)
            if row is None:
                return None
            return CachedResponse(
                row.url, row.status, row.headers, zlib.decompress(row.body), row.stored_at
            )

    def put(
        self, fingerprint: str, spider: str, url: str, status: int, headers: bytes, body: bytes
    ) -> None:
        values = {
            "fingerprint": fingerprint,
            "spider": spider,
            "url": url,
            "status": status,
            "headers": headers,
            "body": zlib.compress(body),
            "stored_at": utcnow(),
        }
        with self._sessions() as s, s.begin():
            dialect = s.get_bind().dialect.name
            module = sqlite if dialect == "sqlite" else postgresql
            stmt = module.insert(HttpCacheEntry).values(values)
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["fingerprint"],
                    set_={k: v for k, v in values.items() if k != "fingerprint"},
                )
            )

    def count(self, spider: str | None = None) -> int:
        with self._sessions() as s:
            stmt = select(func.count()).select_from(HttpCacheEntry)
            if spider is not None:
                stmt = stmt.where(HttpCacheEntry.spider == spider)
            return int(s.scalar(stmt) or 0)

    def clear(self, spider: str | None = None) -> None:
        with self._sessions() as s, s.begin():
            stmt = delete(HttpCacheEntry)
            if spider is not None:
                stmt = stmt.where(HttpCacheEntry.spider == spider)
            s.execute(stmt)
