"""Run every benchmark and write docs/BENCHMARKS.md.

    make bench                      # quick mode (≤ 10 minutes in all)
    make bench ARGS=--full          # adds the large sizes (1 M stored articles)
    .venv/bin/python bench/run.py [--full] [--only NAME …] [--output PATH]

Each ``bench/bench_*.py`` runs in its own process with ``--quick|--full --json PATH`` (the
interface is in bench/report.py); its figures become one table of docs/BENCHMARKS.md, under
a header naming the machine (cores, CPU model, RAM, Python, SQLite, PostgreSQL) and the date.
A script that fails is listed with its exit status and the end of its error output.
With ``--only``, the other scripts' sections of an existing docs/BENCHMARKS.md are kept as
they were (each section names its own date and load).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DOC = ROOT.parent / "docs" / "BENCHMARKS.md"
MARK = "<!-- bench: {} -->"
SECTION = re.compile(r"^<!-- bench: (\S+) -->$", re.MULTILINE)


def kept_sections(path: Path) -> dict[str, str]:
    """The sections of an earlier run, by script name."""
    try:
        document = path.read_text("utf-8")
    except FileNotFoundError:
        return {}
    marks = list(SECTION.finditer(document))
    return {
        m.group(1): document[m.start() : marks[i + 1].start() if i + 1 < len(marks) else None]
        for i, m in enumerate(marks)
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def postgres_version() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        return "not installed"
    try:
        out = subprocess.run([found[-1], "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine() -> list[tuple[str, str]]:
    return [
        ("cores", str(os.cpu_count())),
        ("CPU", cpu_model()),
        ("RAM", memory_gib()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", postgres_version()),
        ("OS", platform.platform()),
    ]


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def table(document: dict[str, object]) -> list[str]:
    lines = ["| measure | value | ratio | note |", "|---|---:|---:|---|"]
    rows = document.get("rows") or []
    assert isinstance(rows, list)
    for row in rows:
        value = cell(row.get("value"))
        if row.get("unit"):
            value += f" {row['unit']}"
        lines.append(
            f"| {cell(row.get('measure'))} | {value} | {cell(row.get('ratio'))} "
            f"| {cell(row.get('note'))} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add the large sizes")
    parser.add_argument("--only", nargs="+", help="only these scripts (e.g. bench_store)")
    parser.add_argument("--output", type=Path, default=DOC)
    args = parser.parse_args()
    mode = "--full" if args.full else "--quick"
    scripts = sorted(ROOT.glob("bench_*.py"))
    if args.only:
        wanted = {name.removesuffix(".py") for name in args.only}
        scripts = [s for s in scripts if s.stem in wanted]
    started = datetime.now(UTC)
    load_before = load_average()
    sections: dict[str, list[str]] = {}
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for script in scripts:
            out = Path(tmp) / f"{script.stem}.json"
            print(f"== {script.name} {mode}", flush=True)
            began = time.monotonic()
            when = f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, load {load_average()}"
            proc = subprocess.run(
                [sys.executable, str(script), mode, "--json", str(out)],
                stderr=subprocess.PIPE,
                text=True,
            )
            seconds = time.monotonic() - began
            if proc.returncode != 0 or not out.exists():
                failed += 1
                tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
                print(tail, file=sys.stderr)
                sections[script.stem] = [
                    MARK.format(script.stem),
                    f"## {script.stem}",
                    "",
                    f"**failed** (exit {proc.returncode}, after {seconds:.0f} s; {when}):",
                    "",
                    "```",
                    tail,
                    "```",
                    "",
                ]
                continue
            document = json.loads(out.read_text("utf-8"))
            sections[script.stem] = [
                MARK.format(script.stem),
                f"## {document.get('title') or script.stem}",
                "",
                f"`bench/{script.name} {mode}` — {seconds:.0f} s, started {when}",
                "",
                *table(document),
                "",
            ]
    header = [
        "# Benchmarks",
        "",
        "Written by `bench/run.py` (`make bench`; `make bench ARGS=--full` adds the 1 M sizes)."
        " Every figure below was measured in the run that wrote this file; a ratio compares two"
        " figures of the same run. Do not edit by hand: run it again.",
        "",
        f"- date: {started.strftime('%Y-%m-%d %H:%M UTC')}, mode: `{mode}`,"
        f" load average before/after: {load_before} / {load_average()}",
    ]
    header += [f"- {name}: {value}" for name, value in machine()]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    body: list[str] = []
    kept = kept_sections(args.output) if args.only else {}
    for stem in sorted({*kept, *sections}):
        if stem in sections:
            body += sections[stem]
        else:
            body.append(kept[stem].rstrip() + "\n")
    if kept:
        earlier = ", ".join(sorted(set(kept) - set(sections))) or "none"
        header.append(f"- sections kept from an earlier run: {earlier}")
    args.output.write_text("\n".join([*header, "", *body]).rstrip() + "\n", "utf-8")
    print(f"wrote {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
