"""Named filtered feeds (``[feeds.<name>]``): one definition per query form, each built over
the crawled labelled story set (tests/sites_stories), with the exact expected entries —
newest first, named by the start of the lead's title. Definitions naming unknown topics or
sources are refused by name, by the CLI at start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monitor.feeds import FeedDefinitionError, build_feeds, named_feeds
from monitor.sources import list_sources
from scraper.config import Config
from tests.conftest import REPO_ROOT, crawl_env
from tests.monitor.conftest import Crawled
from tests.monitor.feed_check import check_feed

MEDTECH = "MedTech-Cluster Rhein-Neckar gründet Testzentrum"
SENSORIK_KI = "Cluster Sensorik Ostbayern startet Weiterbildungsreihe"
SENSORIK_LAB = "Cluster Sensorik Ostbayern eröffnet Prüflabor"
WAERMEWENDE = "Cluster für die Wärmewende"
BIOLOOP_TEST = "BIOLOOP: Erste Klebstoffe"
CONFERENCE_REVIEW = "Rückblick: CLIB International Conference 2025"
CONFERENCE_CALL = "CLIB International Conference 2025: Aufruf"
SCALE_UP = "CLIB startet Scale-up-Programm"
BIOLOOP_EU = "CLIB koordiniert EU-Projekt BIOLOOP"
CLUSTERWOCHE = "Bilanz der Clusterwoche 2025"
WASSERSTOFF = "Sechs Wasserstoff-Reallabore"
FERMENTATION = "Fachgruppe Fermentation tagt in Wuppertal"
FACHKRAEFTE = "Cluster sichern Fachkräfte"
PHOTONIK = "Kompetenzcluster Photonik Jena"
MIKROALGEN = "Verpackungsfolie aus Mikroalgen"
KUNSTSTOFF = "Cluster Kunststofftechnik Thüringen"
FOOD = "Food-Cluster Weser-Ems"
OWL_GOLD = "Cluster Maschinenbau Ostwestfalen"
STUTTGART_CONTEST = "Mobilitätscluster Region Stuttgart startet Wettbewerb"
STUTTGART_BOARD = "Mobilitätscluster Region Stuttgart wählt"
POSITIONSPAPIER = "CLIB veröffentlicht Positionspapier zur Bioökonomiestrategie"

# name → (definition as in the TOML, expected entries newest first)
CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "programme-any": (
        {"programmes": ["go-cluster"]},
        [MEDTECH, SENSORIK_KI, SENSORIK_LAB, WAERMEWENDE],
    ),
    "regions-all": (
        {"regions": {"all": ["Nordrhein-Westfalen", "Bayern"]}},
        [SENSORIK_KI, SENSORIK_LAB],
    ),
    # "biotech clusters in NRW": a bare topic name and a region, combined with AND
    "topic-and-region": (
        {"topics": ["Biotechnologie"], "regions": ["Nordrhein-Westfalen"]},
        [BIOLOOP_TEST, CONFERENCE_REVIEW, CONFERENCE_CALL, SCALE_UP, BIOLOOP_EU],
    ),
    "topic-not": (
        {"topics": {"any": ["field:Energie"], "not": ["region:Baden-Württemberg"]}},
        [CLUSTERWOCHE, WASSERSTOFF, FERMENTATION, WAERMEWENDE, FACHKRAEFTE],
    ),
    "sources-all": (
        {"sources": {"all": ["clusterplattform", "openpr"]}},
        [PHOTONIK, MEDTECH, MIKROALGEN, KUNSTSTOFF, FOOD],
    ),
    "sources-any-not": (
        {"sources": {"any": ["openpr"], "not": ["clusterplattform"]}},
        [OWL_GOLD, STUTTGART_CONTEST, STUTTGART_BOARD, SENSORIK_KI, SENSORIK_LAB, SCALE_UP],
    ),
    # an umlaut, another case and a compound ("Bioökonomiestrategie")
    "keyword-umlaut-compound": ({"keywords": ["BIOÖKONOMIE"]}, [POSITIONSPAPIER]),
    "keywords-all-not": (
        {"keywords": {"all": ["cluster", "förder"], "not": ["bund"]}},
        [STUTTGART_BOARD, SCALE_UP, KUNSTSTOFF],
    ),
    "min-score": ({"min_score": 17}, [OWL_GOLD, PHOTONIK, SENSORIK_KI, SENSORIK_LAB, WAERMEWENDE]),
    "programme-and-score": (
        {"programmes": ["go-cluster"], "min_score": 16.5},
        [SENSORIK_KI, SENSORIK_LAB, WAERMEWENDE],
    ),
}


def _config(crawled: Crawled, feeds: dict[str, dict[str, Any]]) -> Config:
    return crawled.config.model_copy(
        update={
            "feeds": Config(feeds={n: {"title": n, **d} for n, d in feeds.items()}).feeds,
            "feed_base_url": "https://feeds.example",
        }
    )


@pytest.fixture(scope="module")
def built(crawled: Crawled, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every case as one named feed, built with the others in one run."""
    out = tmp_path_factory.mktemp("named-feeds")
    config = _config(crawled, {name: definition for name, (definition, _) in CASES.items()})
    build_feeds(config, crawled.repository, list_sources(config), output_dir=out)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_named_feed_holds_exactly_the_expected_entries(built: Path, name: str) -> None:
    expected = CASES[name][1]
    items = json.loads((built / f"{name}.json").read_bytes())["items"]
    titles = [item["title"] for item in items]
    assert len(titles) == len(expected), titles
    for title, start in zip(titles, expected, strict=True):
        assert title.startswith(start), (title, start)
    for suffix in ("xml", "atom", "json"):
        body = (built / f"{name}.{suffix}").read_bytes()
        url = f"https://feeds.example/feeds/{name}.{suffix}"
        assert check_feed(body, suffix, url) == []


def test_named_feeds_are_in_the_opml_with_their_titles(built: Path) -> None:
    opml = (built / "feeds.opml").read_text("utf-8")
    for name in CASES:
        assert f'title="{name}" xmlUrl="https://feeds.example/feeds/{name}.xml"' in opml


def test_unknown_topics_programmes_regions_and_sources_are_refused_by_name(
    crawled: Crawled,
) -> None:
    config = _config(
        crawled,
        {
            "bad": {
                "topics": ["field:Quatsch"],
                "programmes": ["Spitzenclusters"],
                "regions": {"not": ["NRW"]},
                "sources": ["nope"],
            },
            "good": {"topics": ["Energie", "tag:Mittelstand"]},
            "all": {"topics": ["Energie"]},
        },
    )
    with pytest.raises(FeedDefinitionError) as caught:
        named_feeds(config, list_sources(config))
    message = str(caught.value)
    for part in (
        "[feeds.bad]",
        "unknown topic 'field:Quatsch'",
        "unknown programme 'Spitzenclusters'",
        "unknown region 'NRW'",
        "unknown source 'nope'",
        "[feeds.all]: the name 'all' is taken",
    ):
        assert part in message
    assert "feeds.good" not in message


def test_the_cli_refuses_a_bad_feed_definition_at_start(tmp_path: Path) -> None:
    toml = tmp_path / "clusterwatch.toml"
    toml.write_text(
        '[feeds.bio-nrw]\ntitle = "Biotech in NRW"\ntopics = ["Biotech"]\n'
        'sources = { any = ["clib", "biotech.example"] }\n',
        encoding="utf-8",
    )
    env = crawl_env(tmp_path / "data", None, CLUSTERWATCH_CONFIG=str(toml))
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "feed"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    line = " ".join(result.stderr.split())
    assert (
        f"clusterwatch: configuration error: {toml}: [feeds.bio-nrw]: unknown topic 'Biotech'"
        in line
    )
    assert "(did you mean 'Biotechnologie'?); unknown source 'biotech.example'" in line
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # refused before touching anything
