"""The extraction quality gate: F1, dates, titles, relevance and language of every replayed
article against its expected JSON, with floors pinned in tests/quality_floors.toml."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import pytest

from monitor.replay import ReplayTree
from scraper.config import Config
from scraper.evaluation import extract_expected, load_expected, relevant, spider_classes, token_f1
from scraper.extract import Extracted, parse_date
from tests.conftest import EXPECTED, SITES

FLOORS = tomllib.loads((Path(__file__).with_name("quality_floors.toml")).read_text("utf-8"))
_ENTRIES = [
    line.strip()
    for line in Path(__file__).with_name("boilerplate.txt").read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
BOILERPLATE = [e for e in _ENTRIES if not e.startswith("line: ")]
BOILERPLATE_LINES = [e.removeprefix("line: ") for e in _ENTRIES if e.startswith("line: ")]
SOURCES = sorted(spider_classes())


def floor(source: str, name: str) -> float:
    return float(FLOORS.get("sources", {}).get(source, {}).get(name, FLOORS["default"][name]))


@cache
def extracted(source: str) -> list[tuple[dict[str, object], Extracted]]:
    tree = ReplayTree(SITES)
    return [(item.data, extract_expected(tree, item)) for item in load_expected(EXPECTED, source)]


def expected_date(local: str) -> object:
    return parse_date(local.replace("T", " "))


@pytest.mark.parametrize("source", SOURCES)
def test_text_f1_meets_floor(source: str) -> None:
    scores = {str(d["url"]): token_f1(e.text, str(d["text"])) for d, e in extracted(source)}
    mean = sum(scores.values()) / len(scores)
    worst_url, worst = min(scores.items(), key=lambda kv: kv[1])
    print(f"{source}: mean F1 {mean:.4f}, worst {worst:.4f} ({worst_url})")
    assert mean >= floor(source, "mean_f1")
    assert worst >= floor(source, "min_article_f1"), worst_url


@pytest.mark.parametrize("source", SOURCES)
def test_dates_titles_relevance_language(source: str) -> None:
    keywords = Config().relevance_keywords
    pairs = extracted(source)
    checks = {
        "date_accuracy": [
            e.published_at == expected_date(str(d["published_local"])) for d, e in pairs
        ],
        "title_accuracy": [e.title == d["title"] for d, e in pairs],
        "relevance_accuracy": [relevant(source, e, keywords) == d["relevant"] for d, e in pairs],
        "language_accuracy": [e.language == d["language"] for d, e in pairs],
    }
    for name, results in checks.items():
        accuracy = sum(results) / len(results)
        failed = [str(d["url"]) for (d, _), ok in zip(pairs, results, strict=True) if not ok]
        assert accuracy >= floor(source, name), f"{name} {accuracy:.2f}: {failed}"
    assert all(e.date_source == "page" for _, e in pairs)


@pytest.mark.parametrize("source", SOURCES)
def test_snippets_and_no_boilerplate(source: str) -> None:
    for data, item in extracted(source):
        for snippet in data["must_contain"]:  # type: ignore[attr-defined]
            assert snippet in item.text, f"{data['url']}: missing {snippet!r}"
        for snippet in [*data["must_not_contain"], *BOILERPLATE]:  # type: ignore[misc]
            assert snippet not in item.text, f"{data['url']}: boilerplate {snippet!r} survived"
        paragraphs = {p.strip().rstrip(":") for p in item.text.split("\n")}
        for line in BOILERPLATE_LINES:
            assert line not in paragraphs, f"{data['url']}: boilerplate line {line!r} survived"
        assert "<" not in item.text and "\ufffd" not in item.text
