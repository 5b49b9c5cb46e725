"""Metamorphic template-mutation suite: every replayed article page, mutated the way a site
redesign would (tests/mutations.py), must still extract to its gold title, date and text
without leaking furniture. One test per (source, mutation kind), with floors in
tests/quality_floors.toml [mutations.<kind>] (defaults in [mutations.default]).

``pytest -s tests/test_mutations.py`` prints a table source × kind (title acc, date acc,
mean F1, min F1, leaks) after the last test.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest

from monitor.replay import ReplayTree
from scraper.evaluation import fetch_replayed, load_expected, spider_classes, token_f1
from scraper.extract import ExtractionError, TemplateLines, extract, learn_template, parse_date
from tests.conftest import EXPECTED, SITES
from tests.mutations import (
    BY_KIND,
    MUTATIONS,
    WRAP_CLASSES,
    Mutation,
    MutationContext,
    body_containers,
    canonical,
    parse,
    title_element,
)

HERE = Path(__file__).parent
FLOORS = tomllib.loads((HERE / "quality_floors.toml").read_text("utf-8")).get("mutations", {})
DEFAULT_FLOORS = {"title_accuracy": 1.0, "date_accuracy": 1.0, "min_f1": 0.95, "max_leaks": 0}
_ENTRIES = [
    line.strip()
    for line in (HERE / "boilerplate.txt").read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
BOILERPLATE = [e for e in _ENTRIES if not e.startswith("line: ")]
BOILERPLATE_LINES = [e.removeprefix("line: ") for e in _ENTRIES if e.startswith("line: ")]
SOURCES = sorted(spider_classes())
KINDS = [m.kind for m in MUTATIONS]


def floors(kind: str, source: str = "") -> dict[str, float]:
    """Defaults < [mutations.default] < [mutations.<kind>] < [mutations.<kind>.<source>]."""
    per_kind = FLOORS.get(kind, {})
    own = {k: v for k, v in per_kind.items() if not isinstance(v, dict)}
    return {**DEFAULT_FLOORS, **FLOORS.get("default", {}), **own, **per_kind.get(source, {})}


# -- pages and their mutations (cached: each page fetched once, each cell computed once) --


@dataclass(frozen=True)
class Page:
    source: str
    url: str
    html: str  # fetch_replayed(...).text: decoded, redirects followed
    final_url: str
    data: dict[str, object] = field(hash=False, compare=False)
    ctx: MutationContext = field(hash=False, compare=False)


@cache
def pages(source: str) -> tuple[Page, ...]:
    tree = ReplayTree(SITES)
    rules = spider_classes()[source].extraction
    result = []
    for item in load_expected(EXPECTED, source):
        response = fetch_replayed(tree, item.url)
        ctx = MutationContext.from_gold(rules, item.data)
        result.append(Page(source, item.url, response.text, response.url, item.data, ctx))
    return tuple(result)


@cache
@cache
def archive(source: str) -> TemplateLines:
    """The source's template lines as a crawl of its unmutated pages has stored them: the
    redesigned page meets an established source."""
    return learn_template(page.html for page in pages(source))


def mutated(source: str, kind: str) -> tuple[str | None, ...]:
    """The mutated HTML of every page of ``source`` (None where the mutation is n/a)."""
    mutation = BY_KIND[kind]
    out = []
    for page in pages(source):
        new = mutation.apply(page.html, page.ctx)
        out.append(None if new == page.html else new)
    return tuple(out)


@dataclass
class Outcome:
    url: str
    title_ok: bool
    date_ok: bool
    f1: float
    leaked: list[str]
    problems: list[str]


@dataclass
class Cell:
    source: str
    kind: str
    outcomes: list[Outcome]
    not_applicable: int

    @property
    def n(self) -> int:
        return len(self.outcomes)

    def rate(self, attr: str) -> float:
        return sum(getattr(o, attr) for o in self.outcomes) / self.n

    @property
    def mean_f1(self) -> float:
        return sum(o.f1 for o in self.outcomes) / self.n

    @property
    def min_f1(self) -> float:
        return min(o.f1 for o in self.outcomes)

    @property
    def leaks(self) -> int:
        return sum(bool(o.leaked) for o in self.outcomes)


def forbidden(page: Page, mutation: Mutation) -> list[str]:
    gold = str(page.data["text"])
    inserted = [s for s in mutation.furniture(page.ctx) if s not in gold]
    snippets = [*page.data["must_not_contain"], *BOILERPLATE, *inserted]  # type: ignore[misc]
    return list(dict.fromkeys(snippets))


def judge(page: Page, mutation: Mutation, html: str) -> Outcome:
    want_date = parse_date(str(page.data["published_local"]).replace("T", " "))
    try:
        got = extract(html, page.final_url, page.ctx.rules, template=archive(page.source))
    except ExtractionError as error:
        return Outcome(page.url, False, False, 0.0, [], [f"ExtractionError: {error}"])
    problems = []
    title_ok = got.title == page.data["title"]
    if not title_ok:
        problems.append(f"title {got.title!r} != {page.data['title']!r}")
    date_ok = got.published_at == want_date
    if not date_ok:
        problems.append(f"date {_fmt(got.published_at)} ({got.date_source}) != {_fmt(want_date)}")
    f1 = token_f1(got.text, str(page.data["text"]))
    leaked = [s for s in forbidden(page, mutation) if s in got.text]
    paragraphs = {p.strip().rstrip(":") for p in got.text.split("\n")}
    leaked += [f"line {line!r}" for line in BOILERPLATE_LINES if line in paragraphs]
    if leaked:
        problems.append(f"leaked {leaked}")
    problems.append(f"F1 {f1:.3f}" + (" (fallback body)" if got.used_fallback else ""))
    return Outcome(page.url, title_ok, date_ok, f1, leaked, problems)


def _fmt(value: datetime | None) -> str:
    return value.isoformat() if value else "None"


@cache
def cell(source: str, kind: str) -> Cell:
    mutation = BY_KIND[kind]
    outcomes, not_applicable = [], 0
    for page, html in zip(pages(source), mutated(source, kind), strict=True):
        if html is None:
            not_applicable += 1
            continue
        outcomes.append(judge(page, mutation, html))
    return Cell(source, kind, outcomes, not_applicable)


# -- the metamorphic checks -----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", SOURCES)
def test_mutated_pages_still_extract(source: str, kind: str) -> None:
    result = cell(source, kind)
    if not result.outcomes:
        pytest.skip(f"{kind} does not apply to any {source} page (n/a)")
    floor = floors(kind, source)
    failures: dict[str, list[str]] = {}

    def fail(outcome: Outcome) -> None:
        failures.setdefault(outcome.url, outcome.problems)

    if result.rate("title_ok") < floor["title_accuracy"]:
        for o in result.outcomes:
            if not o.title_ok:
                fail(o)
    if result.rate("date_ok") < floor["date_accuracy"]:
        for o in result.outcomes:
            if not o.date_ok:
                fail(o)
    if result.min_f1 < floor["min_f1"]:
        for o in result.outcomes:
            if o.f1 < floor["min_f1"]:
                fail(o)
    if result.leaks > floor["max_leaks"]:
        for o in result.outcomes:
            if o.leaked:
                fail(o)
    summary = (
        f"{source} × {kind} ({result.n} pages, {result.not_applicable} n/a): "
        f"title {result.rate('title_ok'):.2f} (floor {floor['title_accuracy']}), "
        f"date {result.rate('date_ok'):.2f} (floor {floor['date_accuracy']}), "
        f"min F1 {result.min_f1:.3f} (floor {floor['min_f1']}), "
        f"leaks {result.leaks} (max {floor['max_leaks']:g})"
    )
    detail = "\n".join(f"  {url}\n    " + "; ".join(p) for url, p in failures.items())
    assert not failures, f"{summary}\n{detail}"


# -- the mutations themselves must bite (or the suite confirms itself) ----------------------


def _invariant(kind: str, page: Page, html: str) -> str | None:
    """A kind-specific property of the mutated page; returns what is wrong, if anything."""
    root, rules = parse(html), page.ctx.rules
    boxes = body_containers(root, rules)
    if kind in ("strip_attrs_outside_body", "rename_attrs_outside_body"):
        # Body XPaths may depend on outer attributes (then nothing matches any more), so
        # compare counts: only what sat inside the original container may keep its names.
        def named(tree: object, only_inside: bool) -> int:
            inside = body_containers(tree, rules)  # type: ignore[arg-type]
            count = 0
            for node in tree.iter():  # type: ignore[attr-defined]
                if not isinstance(node.tag, str):
                    continue
                if only_inside and not (
                    node in inside or any(a in inside for a in node.iterancestors())
                ):
                    continue
                for name in ("class", "id"):
                    value = node.get(name)
                    if value is not None and not re.fullmatch(r"(x[0-9a-f]{7}\s*)+", value):
                        count += 1
            return count

        if named(root, False) != named(parse(page.html), True):
            return "class/id outside the body survived"
    if kind == "rename_body_class" and boxes:
        return "a declared body XPath still matches"
    if kind == "wrap_body":
        wrapped = root.xpath(f"//div[@class='{WRAP_CLASSES[1]}']")
        if len(wrapped) < 1:
            return "no wrapper inserted"
    if kind == "drop_declared_title":
        if title_element(root, rules) is not None:
            return "a declared title XPath still yields text"
        if not root.xpath("//head/title"):
            return "<title> was removed"
    if kind in ("date_in_meta_only", "date_in_jsonld_only"):
        if root.xpath("//time"):
            times = [t.get("datetime") or t.text_content() for t in root.xpath("//time")]
            if any(
                (d := parse_date(t or "")) is not None
                and d.astimezone(page.ctx.published.tzinfo).date() == page.ctx.date
                for t in times
            ):
                return "a <time> with the article's day survived"
        metas = root.xpath("//meta[@property='article:published_time']")
        if kind == "date_in_meta_only" and len(metas) != 1:
            return f"{len(metas)} article:published_time metas"
        if kind == "date_in_jsonld_only" and metas:
            return "an article:published_time meta survived"
        published = re.findall(r'"datePublished": "([^"]+)"', html)
        want = [page.ctx.published.isoformat(timespec="seconds")]
        if published != (want if kind == "date_in_jsonld_only" else []):
            return f"JSON-LD datePublished {published}, want {want}"
    if kind == "glue_date_to_title":
        node = title_element(root, rules)
        stamp = page.ctx.date.strftime("%d.%m.%Y")
        if node is None or not node.text_content().strip().startswith(stamp + page.ctx.title[:5]):
            return "the title element does not start with the glued date"
    for snippet in BY_KIND[kind].furniture(page.ctx):
        if snippet not in " ".join(root.xpath("//body")[0].text_content().split()):
            return f"inserted {snippet!r} not on the page"
        inside = " ".join(" ".join(b.text_content().split()) for b in boxes)
        if snippet not in inside:
            return f"inserted {snippet!r} not inside the body container"
    return None


@pytest.mark.parametrize("kind", KINDS)
def test_each_mutation_changes_every_page_it_applies_to(kind: str) -> None:
    mutation = BY_KIND[kind]
    applied, problems = 0, []
    for source in SOURCES:
        for page, html in zip(pages(source), mutated(source, kind), strict=True):
            if html is None:
                continue
            applied += 1
            if canonical(html) == canonical(page.html):
                problems.append(f"{page.url}: no structural change")
            if mutation.apply(page.html, page.ctx) != html:
                problems.append(f"{page.url}: not deterministic")
            wrong = _invariant(kind, page, html)
            if wrong:
                problems.append(f"{page.url}: {wrong}")
    assert applied, f"{kind} applies to no replayed page at all"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source", SOURCES)
def test_serialisation_alone_changes_nothing(source: str) -> None:
    """Control: parsing and re-serialising a page (what every mutation does) keeps the
    extraction identical, so any difference the suite measures comes from the mutation."""
    for page in pages(source):
        template = archive(source)
        before = extract(page.html, page.final_url, page.ctx.rules, template=template)
        after = extract(canonical(page.html), page.final_url, page.ctx.rules, template=template)
        assert (after.title, after.published_at, after.text) == (
            before.title,
            before.published_at,
            before.text,
        ), page.url


def test_report_table() -> None:
    """Prints the table (visible with ``pytest -s``); always passes."""
    header = (
        f"{'source':<17} {'kind':<26} {'n':>3} {'n/a':>3} {'title':>6} {'date':>6} "
        f"{'meanF1':>7} {'minF1':>6} {'leaks':>5}"
    )
    lines = ["", "Template-mutation suite (extractor under test)", header, "-" * len(header)]
    for source in SOURCES:
        for kind in KINDS:
            c = cell(source, kind)
            if not c.outcomes:
                lines.append(f"{source:<17} {kind:<26} {0:>3} {c.not_applicable:>3}   n/a")
                continue
            lines.append(
                f"{source:<17} {kind:<26} {c.n:>3} {c.not_applicable:>3} "
                f"{c.rate('title_ok'):>6.2f} {c.rate('date_ok'):>6.2f} "
                f"{c.mean_f1:>7.3f} {c.min_f1:>6.3f} {c.leaks:>5}"
            )
    print("\n".join(lines))
