"""Refresh the machine fields of tests/expected/<source>/*.json from the current extractor.

Run after a deliberate extractor change, then review the diff (git diff tests/expected):
    python scripts/regen_expected.py [SOURCE…] [--check]
Only title, published_local, language and relevant are rewritten. The gold text and the
must_contain / must_not_contain snippets are hand-written and never touched. --check exits 1
when a file would change (nothing is written).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.replay import ReplayTree  # noqa: E402
from scraper.evaluation import extract_expected, load_expected, relevant, spider_classes  # noqa: E402
from scraper.extract import BERLIN  # noqa: E402


def machine_fields(source: str, item, tree: ReplayTree) -> dict[str, object]:
    extracted = extract_expected(tree, item)
    local = extracted.published_at.astimezone(BERLIN) if extracted.published_at else None
    had_time = "T" in str(item.data.get("published_local", ""))
    published = None
    if local is not None:
        published = local.strftime("%Y-%m-%dT%H:%M") if had_time else local.strftime("%Y-%m-%d")
    return {
        "title": extracted.title,
        "published_local": published,
        "language": extracted.language,
        "relevant": relevant(source, extracted),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", help="default: every spider")
    parser.add_argument("--check", action="store_true", help="report only; exit 1 on changes")
    args = parser.parse_args()
    tree = ReplayTree(ROOT / "tests" / "sites")
    changed = 0
    for source in args.sources or sorted(spider_classes()):
        for item in load_expected(ROOT / "tests" / "expected", source):
            fields = machine_fields(source, item, tree)
            diff = {k: (item.data.get(k), v) for k, v in fields.items() if item.data.get(k) != v}
            if not diff:
                continue
            changed += 1
            print(f"{item.path.relative_to(ROOT)}:")
            for key, (old, new) in diff.items():
                print(f"  {key}: {old!r} -> {new!r}")
            if not args.check:
                item.data.update(fields)
                item.path.write_text(
                    json.dumps(item.data, ensure_ascii=False, indent=2) + "\n", "utf-8"
                )
    print(f"{changed} expected file(s) {'would change' if args.check else 'updated'}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
