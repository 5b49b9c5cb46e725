"""The reliability record: every fault and hostile-input test says what it injected and what
the system did; the suite's run renders them into docs/RELIABILITY.md.

A test takes the ``reliability`` fixture and calls ``record(...)`` once per fault it checked
(after its assertions passed, so a row is only written for behaviour that was verified).
``pytest_sessionfinish`` in tests/conftest.py writes ``.reliability.json`` (every row of the
run) and, when the run was complete and green, regenerates the report through
``scripts/reliability_report.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Outcome:
    area: str  # "fetch", "robots", "feed", "cache", "crash", "content", "server", …
    fault: str  # what was injected, e.g. "503 once on an article linked from page 2"
    behaviour: str  # what the system did, e.g. "remembered as failed, fetched next crawl"
    lost: int = 0
    corrupted: int = 0
    duplicates: int = 0
    tracebacks: int = 0
    test: str = ""


@dataclass
class Recorder:
    test: str
    rows: list[Outcome] = field(default_factory=list)

    def record(
        self,
        area: str,
        fault: str,
        behaviour: str,
        *,
        lost: int = 0,
        corrupted: int = 0,
        duplicates: int = 0,
        tracebacks: int = 0,
    ) -> None:
        self.rows.append(
            Outcome(area, fault, behaviour, lost, corrupted, duplicates, tracebacks, self.test)
        )


def as_json(rows: list[Outcome]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]
