"""Extraction benchmark: clusterwatch's declared-rules extraction vs plain trafilatura on the
same replayed pages, side by side in one run. Prints quality (token F1 against the gold text,
boilerplate leaks) and speed as ratios, so noisy machines still compare like with like.

    .venv/bin/python bench/bench_extract.py [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.replay import ReplayTree  # noqa: E402
from scraper.evaluation import fetch_replayed, load_expected, spider_classes, token_f1  # noqa: E402
from scraper.extract import extract  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tree = ReplayTree(ROOT / "tests" / "sites")
    boilerplate = [
        line.strip().removeprefix("line: ")
        for line in (ROOT / "tests" / "boilerplate.txt").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith("line: ")
    ]
    print(
        f"{'source':18}{'pages':>6}{'F1 ours':>9}{'F1 plain':>10}{'leaks ours':>11}"
        f"{'leaks plain':>12}{'time ours/plain':>17}"
    )
    total_ours = total_plain = 0.0
    # Warm up both sides (language model, lxml/trafilatura caches) outside the timings.
    warm = fetch_replayed(tree, load_expected(ROOT / "tests" / "expected", "clib")[0].url)
    extract(warm.text, warm.url, spider_classes()["clib"].extraction)
    trafilatura.extract(warm.text, url=warm.url)
    for source, spider in sorted(spider_classes().items()):
        pages = [
            (item, fetch_replayed(tree, item.url))
            for item in load_expected(ROOT / "tests" / "expected", source)
        ]
        f1_ours = f1_plain = 0.0
        leaks_ours = leaks_plain = 0
        time_ours = time_plain = 0.0
        for _ in range(args.rounds):
            for _item, response in pages:
                start = time.perf_counter()
                ours = extract(response.text, response.url, spider.extraction).text
                time_ours += time.perf_counter() - start
                start = time.perf_counter()
                plain = trafilatura.extract(response.text, url=response.url) or ""
                time_plain += time.perf_counter() - start
        for item, response in pages:
            ours = extract(response.text, response.url, spider.extraction).text
            plain = trafilatura.extract(response.text, url=response.url) or ""
            gold = str(item.data["text"])
            f1_ours += token_f1(ours, gold)
            f1_plain += token_f1(plain, gold)
            leaks_ours += sum(b in ours for b in boilerplate)
            leaks_plain += sum(b in plain for b in boilerplate)
        n = len(pages)
        total_ours += time_ours
        total_plain += time_plain
        print(
            f"{source:18}{n:>6}{f1_ours / n:>9.3f}{f1_plain / n:>10.3f}{leaks_ours:>11}"
            f"{leaks_plain:>12}{time_ours / time_plain:>16.2f}x"
        )
    print(
        f"overall time ratio ours/plain: {total_ours / total_plain:.2f}x "
        f"({args.rounds} rounds; < 1 means faster than plain trafilatura)"
    )


if __name__ == "__main__":
    main()
