"""Claims that make the database the arbiter between schedulers and workers.

A crawl claims its source and every host it crawls before it is dispatched, in one
transaction: a key can be held by one job only (the primary key of ``crawl_locks``), so a
source never runs twice at once and a domain is never crawled by two workers at once,
however many services or workers share the store. Claims expire, so a service that died
holding one does not block the source forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.engine import session_factory
from db.models import CrawlLock, CrawlRun, utcnow


def source_key(source: str) -> str:
    return f"source:{source}"


def domain_key(host: str) -> str:
    return f"domain:{host.lower()}"


def next_key(key: str) -> str:
    """The reservation of the one crawl waiting for ``key`` (it goes next: no starvation)."""
    return f"next:{key}"


class Coordination:
    def __init__(self, url_or_factory: str | sessionmaker[Session], owner: str | None = None):
        self.owner = owner  # written on every claim this instance takes
        self._sessions = (
            session_factory(url_or_factory) if isinstance(url_or_factory, str) else url_or_factory
        )

    def claim(
        self,
        keys: Sequence[str],
        holder: str,
        ttl: timedelta,
        now: datetime | None = None,
        *,
        after: Sequence[str] = (),
    ) -> bool:
        """Take every key for ``holder`` (all or none); False when one is held by another,
        or when another holder has reserved one of ``after`` (it waited first)."""
        now = now or utcnow()
        unique = sorted(set(keys))
        try:
            with self._sessions() as s, s.begin():
                s.execute(
                    delete(CrawlLock).where(
                        CrawlLock.key.in_([*unique, *after]), CrawlLock.expires_at < now
                    )
                )
                if after:
                    others = s.scalar(
                        select(CrawlLock.key)
                        .where(CrawlLock.key.in_(list(after)), CrawlLock.holder != holder)
                        .limit(1)
                    )
                    if others is not None:
                        return False
                    s.execute(
                        delete(CrawlLock).where(
                            CrawlLock.key.in_(list(after)), CrawlLock.holder == holder
                        )
                    )
                s.add_all(
                    CrawlLock(
                        key=k,
                        holder=holder,
                        owner=self.owner,
                        acquired_at=now,
                        expires_at=now + ttl,
                    )
                    for k in unique
                )
        except IntegrityError:
            return False
        return True

    def release(self, holder: str) -> None:
        with self._sessions() as s, s.begin():
            s.execute(delete(CrawlLock).where(CrawlLock.holder == holder))

    def owners(self) -> set[str]:
        """The processes holding claims now (claims taken without an owner excluded)."""
        with self._sessions() as s:
            rows = s.scalars(select(CrawlLock.owner).where(CrawlLock.owner.is_not(None)))
            return {owner for owner in rows if owner}

    def release_owner(self, owner: str) -> int:
        """Free every claim a (dead) process took; how many."""
        with self._sessions() as s, s.begin():
            result = s.execute(delete(CrawlLock).where(CrawlLock.owner == owner))
            return int(getattr(result, "rowcount", 0) or 0)

    def holders(self, keys: Iterable[str]) -> dict[str, str]:
        """Who holds which of ``keys`` now (expired claims excluded)."""
        with self._sessions() as s:
            rows = s.execute(
                select(CrawlLock.key, CrawlLock.holder).where(
                    CrawlLock.key.in_(list(keys)), CrawlLock.expires_at >= utcnow()
                )
            )
            return {row.key: row.holder for row in rows}

    # -- runs by job ------------------------------------------------------------------

    def run_of_job(self, job_id: str) -> CrawlRun | None:
        """The run a job recorded (its ``CrawlLog`` writes the job id into the row)."""
        with self._sessions() as s:
            stmt = select(CrawlRun).where(CrawlRun.job_id == job_id).order_by(CrawlRun.id.desc())
            return s.scalar(stmt.limit(1))
