"""Extraction benchmark, side by side in one run on the same replayed pages of both trees
(tests/sites and the independently written tests/sites_v2):

* ``rules``   — clusterwatch with the source's declared rules (the crawl's extraction);
* ``generic`` — clusterwatch with no rules at all (what a redesigned or new source gets);
* ``bare``    — ``trafilatura.extract`` on the page, as a peer would use it.

Quality is token F1 against the gold text and pages with a boilerplate leak; speed is each
mode's time as a ratio of bare trafilatura's, measured interleaved, so a noisy machine still
compares like with like.

    .venv/bin/python bench/bench_extract.py [--quick|--full] [--rounds N] [--json PATH]

(``--full`` runs 3 rounds instead of 1; the interface is in bench/report.py.)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura
from scrapy.http import HtmlResponse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Report, arguments  # noqa: E402
from monitor.replay import ReplayTree  # noqa: E402
from scraper.evaluation import (  # noqa: E402
    fetch_replayed,
    load_expected,
    source_template,
    spider_classes,
    token_f1,
)
from scraper.extract import (  # noqa: E402
    ExtractionError,
    ExtractionRules,
    TemplateLines,
    extract,
)

TREES = {
    "v1": (ROOT / "tests" / "sites", ROOT / "tests" / "expected"),
    "v2": (ROOT / "tests" / "sites_v2", ROOT / "tests" / "expected_v2"),
}
MODES = ("rules", "generic", "bare")


def _boilerplate() -> list[str]:
    lines = (ROOT / "tests" / "boilerplate.txt").read_text("utf-8").splitlines()
    return [
        line.strip()
        for line in lines
        if line.strip() and not line.startswith("#") and not line.startswith("line: ")
    ]


def _safe(run: Callable[[], str]) -> str:
    try:
        return run()
    except ExtractionError:
        return ""


def _modes(
    rules: ExtractionRules, generic: ExtractionRules, template: TemplateLines
) -> dict[str, Callable[[HtmlResponse], str]]:
    return {
        "rules": lambda r: _safe(lambda: extract(r.body, r.url, rules, template=template).text),
        "generic": lambda r: _safe(lambda: extract(r.body, r.url, generic, template=template).text),
        "bare": lambda r: trafilatura.extract(r.text, url=r.url) or "",
    }


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, help="default: 1 quick, 3 full")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.full else 1)
    report = Report("Extraction: clusterwatch against bare trafilatura on the replayed pages")
    boilerplate = _boilerplate()
    generic = ExtractionRules()
    print(
        f"{'tree':5}{'source':18}{'pages':>6}"
        + "".join(f"{'F1 ' + m:>12}" for m in MODES)
        + "".join(f"{'leaks ' + m:>14}" for m in MODES)
        + f"{'time rules/bare':>17}{'generic/bare':>14}"
    )
    totals = dict.fromkeys(MODES, 0.0)
    for tree_name, (sites, expected) in TREES.items():
        tree = ReplayTree(sites)
        summary = {m: [0.0, 0] for m in MODES}
        pages_total = 0
        for source, spider in sorted(spider_classes().items()):
            items = load_expected(expected, source)
            template = source_template(tree, items)
            pages = [(item, fetch_replayed(tree, item.url)) for item in items]
            runs = _modes(spider.extraction, generic, template)
            seconds = dict.fromkeys(MODES, 0.0)
            for _ in range(rounds):
                for _item, response in pages:
                    for mode in MODES:
                        start = time.perf_counter()
                        runs[mode](response)
                        seconds[mode] += time.perf_counter() - start
            f1 = dict.fromkeys(MODES, 0.0)
            leaks = dict.fromkeys(MODES, 0)
            for item, response in pages:
                gold = str(item.data["text"])
                forbidden = [*boilerplate, *item.data["must_not_contain"]]
                for mode in MODES:
                    text = runs[mode](response)
                    f1[mode] += token_f1(text, gold)
                    leaks[mode] += any(b in text for b in forbidden)
            n = len(pages)
            pages_total += n
            for mode in MODES:
                totals[mode] += seconds[mode]
                summary[mode][0] += f1[mode]
                summary[mode][1] += leaks[mode]
            print(
                f"{tree_name:5}{source:18}{n:>6}"
                + "".join(f"{f1[m] / n:>12.3f}" for m in MODES)
                + "".join(f"{leaks[m]:>14}" for m in MODES)
                + f"{seconds['rules'] / seconds['bare']:>16.2f}x"
                + f"{seconds['generic'] / seconds['bare']:>13.2f}x"
            )
        print(
            f"{tree_name:5}{'all':18}{pages_total:>6}"
            + "".join(f"{summary[m][0] / pages_total:>12.3f}" for m in MODES)
            + "".join(f"{int(summary[m][1]):>14}" for m in MODES)
        )
        bare_f1 = summary["bare"][0] / pages_total
        for mode in MODES:
            f1_mode = summary[mode][0] / pages_total
            report.add(
                f"{tree_name} ({sites.name}): text F1, {mode}",
                round(f1_mode, 3),
                ratio=round(f1_mode / bare_f1, 3) if bare_f1 else None,
                note=f"{pages_total} pages; {int(summary[mode][1])} with a boilerplate leak;"
                " ratio to bare trafilatura",
            )
    print(
        f"time ratio over both trees: rules/bare {totals['rules'] / totals['bare']:.2f}x, "
        f"generic/bare {totals['generic'] / totals['bare']:.2f}x ({rounds} rounds)"
    )
    for mode in MODES:
        report.add(
            f"extraction time, {mode} (both trees, {rounds} round(s))",
            round(totals[mode], 2),
            "s",
            ratio=round(totals[mode] / totals["bare"], 2),
            note="ratio to bare trafilatura, measured interleaved",
        )
    report.write(args.json)


if __name__ == "__main__":
    main()
