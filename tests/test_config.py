from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from scraper.config import Config


def test_defaults_work_without_any_file() -> None:
    config = Config()
    assert config.data_dir == Path("data")
    assert config.db_url.startswith("sqlite:///") and config.db_url.endswith("clusterwatch.db")
    assert config.mirror is None and config.feed_max_entries == 100


def test_toml_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "cw.toml"
    toml.write_text(
        'data_dir = "/srv/cw"\nrelevance_keywords = ["cluster", "netzwerk"]\n'
        '[sources.openpr]\nlistings = ["https://www.openpr.de/news/kategorien.html"]\n'
        "interval_minutes = 15\n[health]\nmax_errors = 3\n[health.sources.bmwe]\nmax_errors = 9\n",
        "utf-8",
    )
    monkeypatch.setenv("CLUSTERWATCH_CONFIG", str(toml))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/cw")
    monkeypatch.setenv("CLUSTERWATCH_MIRROR", "http://127.0.0.1:8765/")
    config = Config()
    assert config.data_dir == Path("/srv/cw")
    assert config.db_url == "postgresql+psycopg://u@db/cw"
    assert config.mirror == "http://127.0.0.1:8765"
    specs = config.source_specs()
    assert specs["openpr"].interval_minutes == 15
    assert specs["openpr"].listings == ("https://www.openpr.de/news/kategorien.html",)
    assert specs["openpr"].feeds == ("https://www.openpr.de/rss/openpr.xml",)  # kept
    assert specs["clib"].interval_minutes == 180
    assert config.thresholds("bmwe").max_errors == 9
    assert config.thresholds("clib").max_errors == 3
    monkeypatch.setenv("CLUSTERWATCH_DATA_DIR", "/elsewhere")
    assert Config().data_dir == Path("/elsewhere")  # environment beats the file


def test_bad_input_is_refused_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTERWATCH_MIRROR", "127.0.0.1:8765")
    with pytest.raises(ValidationError, match="mirror must be an http"):
        Config()
    monkeypatch.delenv("CLUSTERWATCH_MIRROR")
    toml = tmp_path / "cw.toml"
    toml.write_text("[sources.openpr]\nintervall = 5\n", "utf-8")  # typo
    monkeypatch.setenv("CLUSTERWATCH_CONFIG", str(toml))
    with pytest.raises(ValidationError, match="intervall"):
        Config()
    monkeypatch.setenv("CLUSTERWATCH_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(FileNotFoundError, match=r"missing\.toml"):
        Config()


def test_relevance_and_story_settings_reach_the_crawl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scraper.classify import rules_from_settings, score
    from scraper.settings import scrapy_settings

    toml = tmp_path / "cw.toml"
    toml.write_text(
        'relevance_keywords = ["Verbundinitiative"]\n'
        "[relevance]\nthreshold = 4\n"
        '[relevance.other_senses]\n"\\\\bcluster-?sofa\\\\w*" = 6\n'
        '[stories]\ncontainment = 0.9\nsource_order = ["openpr", "bmwe"]\n',
        "utf-8",
    )
    monkeypatch.setenv("CLUSTERWATCH_CONFIG", str(toml))
    config = Config()
    settings = scrapy_settings(config)
    assert settings["CLUSTERWATCH_STORY_CONTAINMENT"] == 0.9
    assert settings["CLUSTERWATCH_STORY_SOURCE_ORDER"] == ["openpr", "bmwe"]
    from scrapy.settings import Settings

    rules = rules_from_settings(Settings(settings))
    assert rules.threshold == 4
    assert score("Die Verbundinitiative tagt", "Ein Treffen.", rules).relevant
    assert not score("Neues Cluster-Sofa", "Das Cluster steht im Laden.", rules).relevant

    toml.write_text("[stories]\ncontainmnet = 0.9\n", "utf-8")
    with pytest.raises(ValidationError):
        Config()
