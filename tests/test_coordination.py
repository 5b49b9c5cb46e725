"""Claims on sources and domains (db/coordination.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from db.coordination import Coordination, domain_key, next_key, source_key
from db.migrate import upgrade
from db.models import utcnow

TTL = timedelta(minutes=5)


def test_a_key_has_one_holder_and_claims_are_all_or_nothing(backend_url: str) -> None:
    upgrade(backend_url)
    claims = Coordination(backend_url)
    assert claims.claim([source_key("clib"), domain_key("clib.de")], "job-1", TTL)
    # Same source, or only the same domain: refused, and nothing of the second claim stays.
    assert not claims.claim([source_key("clib")], "job-2", TTL)
    assert not claims.claim([source_key("other"), domain_key("CLIB.de")], "job-3", TTL)
    assert claims.holders([source_key("other")]) == {}
    assert claims.holders([domain_key("clib.de")]) == {domain_key("clib.de"): "job-1"}
    claims.release("job-1")
    assert claims.claim([source_key("other"), domain_key("clib.de")], "job-3", TTL)


def test_an_expired_claim_is_taken_over(backend_url: str) -> None:
    upgrade(backend_url)
    claims = Coordination(backend_url)
    past = utcnow() - timedelta(hours=1)
    assert claims.claim([source_key("clib")], "dead-service", TTL, now=past)
    assert claims.holders([source_key("clib")]) == {}
    assert claims.claim([source_key("clib")], "job-2", TTL)
    assert claims.holders([source_key("clib")]) == {source_key("clib"): "job-2"}


def test_of_many_claims_at_once_exactly_one_wins(backend_url: str) -> None:
    upgrade(backend_url)
    claims = Coordination(backend_url)
    barrier = threading.Barrier(8)
    won: list[str] = []

    def contend(n: int) -> None:
        barrier.wait()
        if claims.claim([source_key("clib"), domain_key("clib.de")], f"job-{n}", TTL):
            won.append(f"job-{n}")

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1
    assert claims.holders([source_key("clib")]) == {source_key("clib"): won[0]}


def test_a_waiting_crawl_goes_next(backend_url: str) -> None:
    upgrade(backend_url)
    claims = Coordination(backend_url)
    domain = domain_key("clib.de")
    assert claims.claim([source_key("a"), domain], "job-a", TTL, after=[next_key(domain)])
    # b waits for the domain and reserves its turn; c comes later and must not jump ahead.
    assert not claims.claim([source_key("b"), domain], "job-b", TTL, after=[next_key(domain)])
    assert claims.claim([next_key(domain)], "job-b", TTL)
    claims.release("job-a")
    assert not claims.claim([source_key("c"), domain], "job-c", TTL, after=[next_key(domain)])
    assert claims.claim([source_key("b"), domain], "job-b", TTL, after=[next_key(domain)])
    # b's reservation is used up with its claim.
    assert claims.holders([next_key(domain)]) == {}


def test_claims_of_a_dead_process_of_this_machine_are_freed(backend_url: str) -> None:
    """A service killed with -9 leaves its claims; its restart frees them at once (by
    process liveness and identity), instead of skipping its sources as "already running"
    until the claims expire. Live owners and other machines' owners are left alone."""
    import subprocess
    import sys

    from monitor.scheduler import process_owner, release_dead_claims

    upgrade(backend_url)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_owner = process_owner(dead.pid)  # recorded while it lived
    dead.wait()
    Coordination(backend_url, owner=dead_owner).claim(
        [source_key("clib"), domain_key("clib.de")], "job-dead", TTL
    )
    live = Coordination(backend_url, owner=process_owner())
    assert live.claim([source_key("openpr")], "job-live", TTL)
    elsewhere = Coordination(backend_url, owner="another-host|1|boot:1")
    assert elsewhere.claim([source_key("bmwe")], "job-far", TTL)
    # A pid reused by another process since: its identity differs, so it is dead too.
    reused = Coordination(backend_url, owner=process_owner().rsplit("|", 1)[0] + "|boot:0")
    assert reused.claim([source_key("other")], "job-reused", TTL)

    freed = release_dead_claims(live)

    assert sorted(freed) == sorted([dead_owner, process_owner().rsplit("|", 1)[0] + "|boot:0"])
    keys = [source_key(s) for s in ("clib", "openpr", "bmwe", "other")] + [domain_key("clib.de")]
    assert live.holders(keys) == {source_key("openpr"): "job-live", source_key("bmwe"): "job-far"}
    assert live.claim([source_key("clib"), domain_key("clib.de")], "job-restart", TTL)
