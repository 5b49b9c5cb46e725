"""The interface every ``bench/bench_*.py`` script speaks (``bench/run.py`` drives them).

A script takes ``--quick`` (the default: what ``make bench`` runs, all scripts together in
≤ 10 minutes) or ``--full`` (adds the large sizes), prints its figures as it measures them
and, with ``--json PATH``, writes ``{"title": …, "rows": [{"measure", "value", "unit",
"ratio", "note"}]}`` — ``ratio`` is a comparison measured in the same run (or null), ``note``
says what the figure is against (a target, a peer).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Row:
    measure: str
    value: float | int | str
    unit: str = ""
    ratio: float | None = None
    note: str = ""


@dataclass
class Report:
    title: str
    rows: list[Row] = field(default_factory=list)

    def add(
        self,
        measure: str,
        value: float | int | str,
        unit: str = "",
        ratio: float | None = None,
        note: str = "",
    ) -> Row:
        """Record one figure and print it at once (a long run shows its progress)."""
        row = Row(measure, value, unit, ratio, note)
        self.rows.append(row)
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        extra = f"  ratio {ratio:.3g}" if ratio is not None else ""
        print(f"  {measure:<58} {shown:>10} {unit:<6}{extra}  {note}", flush=True)
        return row

    def write(self, path: Path | None) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"title": self.title, "rows": [asdict(row) for row in self.rows]}
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", "utf-8")


def arguments(description: str) -> argparse.ArgumentParser:
    """A parser with the common options; a script adds its own."""
    parser = argparse.ArgumentParser(description=description)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the quick sizes (default)")
    mode.add_argument("--full", action="store_true", help="add the large sizes")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    return parser
