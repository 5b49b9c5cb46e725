"""The service caps glibc's malloc arenas before its threads start (issue 11).

Every thread that mallocs while the existing arenas belong to other live threads gets an
arena of its own, and each arena keeps the high-water mark of what its threads once held:
with the service's threads taking turns through the feed and health hooks, RSS rose run
after run (bench/bench_service.py). Checked in a fresh interpreter, as ``clusterwatch run``
starts: eight threads alive at once, then the arenas glibc reports (``malloc_info``).
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO_ROOT

THREADS = """
import sys, threading
sys.path.insert(0, {root!r})
from monitor.service import limit_malloc_arenas, malloc_heaps

capped = limit_malloc_arenas() if sys.argv[1] == "cap" else False
barrier = threading.Barrier(9)

def work():
    held = [bytearray(200_000) for _ in range(5)]  # malloc'd by this thread
    barrier.wait()  # all eight alive at once
    barrier.wait()
    del held

threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
barrier.wait()
arenas, _ = malloc_heaps()
barrier.wait()
for thread in threads:
    thread.join()
print(capped, arenas)
"""


def _arenas(mode: str, **env: str) -> tuple[str, int]:
    environment = {k: v for k, v in os.environ.items() if k not in ("MALLOC_ARENA_MAX",)}
    environment.pop("GLIBC_TUNABLES", None)
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", THREADS.format(root=str(REPO_ROOT)), mode],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    capped, arenas = done.stdout.split()
    return capped, int(arenas)


def test_the_service_caps_malloc_arenas_before_its_threads_start() -> None:
    uncapped = _arenas("none")
    # The main arena and one per thread (glibc allows 8 per core).
    assert uncapped[0] == "False" and uncapped[1] >= 8, uncapped
    assert _arenas("cap") == ("True", 2)


def test_an_arena_limit_set_by_the_operator_wins() -> None:
    assert _arenas("cap", MALLOC_ARENA_MAX="4") == ("False", 4)
