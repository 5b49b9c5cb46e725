"""Sources as data: every SourceSpec field overridable from TOML, unknown fields refused by
name, new sources declared in TOML only — seen by ``scrapy list/crawl/parse``, crawled end
to end against their replayed pages, and listed by the CLI and health like built-in ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from db.repository import Repository
from monitor.health import evaluate
from monitor.replay import ReplayServer
from scraper.config import Config, load_config
from scraper.evaluation import load_expected, token_f1
from scraper.extract import BERLIN, ExtractionRules
from scraper.registry import spider_class, spider_classes
from scraper.sources import SourceError, SourceSpec, builtin_specs, merge, registry
from tests.conftest import REPO_ROOT, copy_sites, crawl_env, run_crawl
from tests.sources import EXPECTED_CONFIG, SITES_CONFIG, SOURCES_TOML, configured_sources

CONFIG_ONLY = "biooekonomie_mitte"

# One value per SourceSpec field, each different from clib's built-in one.
OVERRIDE: dict[str, Any] = {
    "label": "CLIB (renamed)",
    "hosts": ["www.clib.example", "clib.example"],
    "feeds": ["https://www.clib.example/feed/"],
    "listings": ["https://www.clib.example/news/"],
    "sitemaps": ["https://www.clib.example/sitemap.xml"],
    "article_pattern": r"/news/\d+/$",
    "canonical_rewrites": [[r"^/n/(\d+)$", r"/news/\1/"]],
    "next_page_xpaths": ["//a[@rel='next']/@href"],
    "relevance": "keywords",
    "interval_minutes": 7.5,
    "enabled": False,
    "extraction": {
        "body_xpaths": ["//main"],
        "prune_xpaths": ["//aside"],
        "title_xpaths": ["//h1"],
        "date_xpaths": ["//time/@datetime"],
        "topics_xpath": "//a[@rel='tag']",
        "strip_prefixes": ["^CLIB: "],
        "drop_lines": ["^Quelle:"],
        "language": "de",
    },
}


def test_every_field_is_overridable() -> None:
    fields = set(SourceSpec.model_fields) - {"name"}
    assert set(OVERRIDE) == fields, "the test names every SourceSpec field"
    assert set(OVERRIDE["extraction"]) == set(ExtractionRules.__dataclass_fields__)
    base = builtin_specs()["clib"]
    merged = merge(base, "clib", OVERRIDE)
    for field in fields - {"extraction"}:
        value = getattr(merged, field)
        want = OVERRIDE[field]
        if isinstance(want, list):
            want = tuple(tuple(v) if isinstance(v, list) else v for v in want)
        assert value == want, field
        assert value != getattr(base, field), field
    for field, want in OVERRIDE["extraction"].items():
        got = getattr(merged.extraction, field)
        assert got == (tuple(want) if isinstance(want, list) else want), field
    assert merged.extraction.digest() != base.extraction.digest()


def test_override_changes_only_what_it_names() -> None:
    base = builtin_specs()["bmwe"]
    merged = merge(base, "bmwe", {"interval_minutes": 5, "extraction": {"language": "de"}})
    assert merged.interval_minutes == 5
    assert merged.extraction.language == "de"
    assert merged.extraction.body_xpaths == base.extraction.body_xpaths
    assert merged.model_dump(exclude={"interval_minutes", "extraction"}) == base.model_dump(
        exclude={"interval_minutes", "extraction"}
    )


@pytest.mark.parametrize(
    ("block", "named"),
    [
        ({"intervall": 5}, "intervall"),
        ({"extraction": {"body_xpath": ["//main"]}}, "body_xpath"),
        ({"relevance": "some"}, "relevance"),
        ({"interval_minutes": 0}, "interval_minutes"),
        ({"article_pattern": "(unclosed"}, "article_pattern"),
    ],
)
def test_bad_fields_are_refused_by_name(
    block: dict[str, Any], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "cw.toml"
    lines = ["[sources.clib]"]
    for key, value in block.items():
        if isinstance(value, dict):
            lines.append("[sources.clib.extraction]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    toml.write_text("\n".join(lines) + "\n", "utf-8")
    monkeypatch.setenv("CLUSTERWATCH_CONFIG", str(toml))
    with pytest.raises(ValidationError, match=named):
        Config()
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "sources"],
        cwd=REPO_ROOT,
        env=crawl_env(tmp_path, None, CLUSTERWATCH_CONFIG=str(toml)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and named in result.stderr and "Traceback" not in result.stderr


def test_a_new_source_must_be_complete() -> None:
    with pytest.raises(SourceError, match=r"sources\.newcluster.*hosts"):
        registry({"newcluster": {"feeds": ["https://n.example/feed/"], "article_pattern": "/n/"}})
    with pytest.raises(SourceError, match="at least one of feeds, listings, sitemaps"):
        registry({"newcluster": {"hosts": ["n.example"], "article_pattern": "/n/"}})
    with pytest.raises(SourceError, match="source name"):
        registry({"New-Cluster": {"hosts": ["n.example"], "feeds": ["https://n.example/f"]}})


def test_config_only_sources_are_registered_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTERWATCH_CONFIG", str(SOURCES_TOML))
    load_config.cache_clear()
    assert CONFIG_ONLY in spider_classes()
    assert CONFIG_ONLY not in builtin_specs()
    spec = load_config().source_specs()[CONFIG_ONLY]
    assert spec.label == "Cluster Bioökonomie Mitte" and spec.extraction == ExtractionRules()
    spider = spider_class(spec)()
    assert spider.is_article_url(
        "https://cluster-biooekonomie-mitte.de/2024/08/30/sieben-neue-mitglieder-im-netzwerk/"
    )
    assert not spider.is_article_url("https://www.cluster-biooekonomie-mitte.de/ueber-uns/")


def test_scrapy_parse_sees_a_config_only_source(tmp_path: Path) -> None:
    page = (
        "https://www.cluster-biooekonomie-mitte.de/2024/08/30/sieben-neue-mitglieder-im-netzwerk/"
    )
    with ReplayServer(SITES_CONFIG) as server:
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "parse", "--nolog", "--pipelines", page],
            cwd=REPO_ROOT,
            env=crawl_env(tmp_path, server.url, CLUSTERWATCH_CONFIG=str(SOURCES_TOML)),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Sieben neue Mitglieder stärken das Netzwerk" in result.stdout


def test_config_only_source_crawled_end_to_end(tmp_path: Path) -> None:
    sites = copy_sites(tmp_path / "sites", SITES_CONFIG)
    data_dir = tmp_path / "data"
    spec = registry(configured_sources())[CONFIG_ONLY]
    spider = spider_class(spec)()
    with ReplayServer(sites) as server:
        run_crawl(CONFIG_ONLY, data_dir, server.url, CLUSTERWATCH_CONFIG=str(SOURCES_TOML))
    repository = Repository(f"sqlite:///{data_dir / 'clusterwatch.db'}")
    stored = {a.canonical_url: a for a in repository.articles(CONFIG_ONLY)}
    expected = load_expected(EXPECTED_CONFIG, CONFIG_ONLY)
    assert set(stored) == {spider.canonical(e.url) for e in expected}
    for item in expected:
        article = stored[spider.canonical(item.url)]
        assert article.title == item.data["title"]
        assert article.published_at is not None
        local = article.published_at.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")
        assert local == item.data["published_local"]
        assert token_f1(article.text, item.data["text"]) >= 0.95, item.url
        for phrase in item.data["must_not_contain"]:
            assert phrase not in article.text, (item.url, phrase)
        assert article.relevance == "relevant" and article.story_id is not None
    # Health and the status page judge it like a built-in source.
    config = Config(data_dir=data_dir, sources=configured_sources())
    verdicts = {h.source: h for h in evaluate(config, repository)}
    assert verdicts[CONFIG_ONLY].verdict == "healthy", verdicts[CONFIG_ONLY].reasons
