"""deploy/docker-compose.yml and deploy/scrapyd.conf, checked without a Docker engine: the
YAML's services, images and environment must make a working two-worker setup."""

from __future__ import annotations

import configparser
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from scraper.config import Config
from tests.conftest import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text("utf-8"))
    return data


def test_services_make_a_two_worker_setup(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "worker1", "worker2", "deploy", "clusterwatch"}
    assert services["postgres"]["image"].startswith("postgres:")
    for name in ("worker1", "worker2", "deploy", "clusterwatch"):
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / "Dockerfile").is_file()
        # The image carries the PostgreSQL driver and Scrapyd (the Dockerfile's EXTRAS).
        extras = set(build["args"]["EXTRAS"].split(","))
        assert extras == {"postgres", "workers"}
    assert "ARG EXTRAS" in (REPO_ROOT / "Dockerfile").read_text("utf-8")
    assert services["worker1"]["command"] == ["scrapyd"]
    assert services["deploy"]["command"] == ["clusterwatch", "workers", "deploy"]
    assert services["clusterwatch"]["depends_on"]["deploy"]["condition"] == (
        "service_completed_successfully"
    )
    # Both workers mount their own data volume (eggs, logs, job queue).
    volumes = {name: services[name]["volumes"] for name in ("worker1", "worker2")}
    assert volumes["worker1"] != volumes["worker2"]
    assert all(any("scrapyd.conf" in v for v in vs) for vs in volumes.values())


def test_the_service_environment_is_a_valid_scrapyd_configuration(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose["services"]
    environment = services["clusterwatch"]["environment"]
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    config = Config()
    assert config.launcher == "scrapyd"
    assert config.db_url.startswith("postgresql+psycopg://")
    assert urlsplit(config.db_url).hostname == "postgres"
    scrapyd = configparser.ConfigParser()
    scrapyd.read(DEPLOY / "scrapyd.conf")
    port = scrapyd.getint("scrapyd", "http_port")
    assert scrapyd.get("scrapyd", "bind_address") == "0.0.0.0"
    assert scrapyd.getint("scrapyd", "max_proc") == config.scrapyd_slots
    # Every worker URL names a worker service on Scrapyd's port.
    hosts = {(urlsplit(u).hostname, urlsplit(u).port) for u in config.scrapyd_urls}
    assert hosts == {("worker1", port), ("worker2", port)}
    deploy_urls = json.loads(services["deploy"]["environment"]["CLUSTERWATCH_SCRAPYD_URLS"])
    assert deploy_urls == config.scrapyd_urls
    # The workers reach the same store as the service.
    for name in ("worker1", "worker2"):
        worker_env = services[name]["environment"]
        assert worker_env["DATABASE_URL"] == environment["DATABASE_URL"]
