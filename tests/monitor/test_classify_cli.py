"""``clusterwatch explain`` and ``clusterwatch reclassify`` as an operator runs them, on a
real crawl of the independently written openPR replay (it holds releases using "Cluster"
in another sense)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import update

from db.models import Article
from db.repository import Repository
from monitor.replay import ReplayServer
from tests.conftest import SITES_V2, copy_sites, crawl_env, run_crawl

CLI = Path(sys.executable).with_name("clusterwatch")
KUBERNETES = (
    "https://www.openpr.de/news/1310187/Managed-Kubernetes-aus-Frankfurt-mainzone-IT-startet-"
    "hochverfuegbare-Server-Cluster-fuer-den-Mittelstand.html"
)


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, timeout=120, env=crawl_env(data, None)
    )


def test_explain_and_reclassify(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ReplayServer(copy_sites(tmp_path / "sites", SITES_V2)) as server:
        run_crawl("openpr", data, server.url)
    repository = Repository(f"sqlite:///{data / 'clusterwatch.db'}")

    explained = _cli(data, "explain", KUBERNETES.replace("https://", "http://"), "-f", "json")
    assert explained.returncode == 0, explained.stderr
    record = json.loads(explained.stdout)
    assert record["relevance"] == "irrelevant" and record["story"]["published"] is False
    assert "computing" in {r["term"] for r in record["reasons"]}
    text = _cli(data, "explain", KUBERNETES)
    assert "not published" in text.stdout and "computing" in text.stdout

    # As if older rules had taken the Kubernetes release for cluster news.
    with repository.session() as s, s.begin():
        s.execute(
            update(Article)
            .where(Article.canonical_url.like("%/1310187/%"))
            .values(relevance="relevant")
        )
    dry = _cli(data, "reclassify", "--dry-run")
    assert dry.returncode == 0 and "would change: 0 to relevant, 1 to irrelevant" in dry.stdout
    assert repository.article(record["url"]).relevance == "relevant"  # type: ignore[union-attr]
    done = _cli(data, "reclassify")
    assert "changed: 0 to relevant, 1 to irrelevant" in done.stdout
    assert repository.article(record["url"]).relevance == "irrelevant"  # type: ignore[union-attr]
    again = _cli(data, "reclassify")
    assert "changed: 0 to relevant, 0 to irrelevant" in again.stdout

    missing = _cli(data, "explain", "https://www.openpr.de/news/1/nie.html")
    assert missing.returncode == 1 and "not stored" in missing.stderr
    assert "Traceback" not in missing.stderr
