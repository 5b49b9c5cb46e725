"""``clusterwatch workers deploy``: build the project's egg and upload it to every Scrapyd.

The egg is what a worker runs: the packages ``scrapy crawl`` needs (spiders, scraper, db
with its migrations; monitor rides along), the ``scrapy`` entry point naming
``scraper.settings``, and the operator's clusterwatch.toml as ``scraper/deployed.toml`` so
sources declared only in the TOML exist on the workers too. setuptools builds it from
pyproject.toml (``bdist_egg``), with every build directory in a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scraper.config import DEPLOYED_CONFIG


class DeployError(RuntimeError):
    pass


@dataclass(frozen=True)
class Deployed:
    url: str
    version: str
    spiders: int


def build_egg(project_dir: Path, config_file: Path | None, out_dir: Path) -> Path:
    """The egg of the checkout at ``project_dir``, with ``config_file`` inside it."""
    build = Path(tempfile.mkdtemp(prefix="clusterwatch-egg-", dir=out_dir))
    command = [
        sys.executable,
        "-c",
        "from setuptools import setup; setup()",
        "egg_info",
        "--egg-base",
        str(build),
        "build",
        "--build-base",
        str(build / "build"),
        "bdist_egg",
        "--bdist-dir",
        str(build / "bdist"),
        "--dist-dir",
        str(out_dir),
    ]
    result = subprocess.run(command, cwd=project_dir, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        raise DeployError(f"building the egg failed: {' '.join(tail)}")
    eggs = sorted(out_dir.glob("*.egg"), key=lambda p: p.stat().st_mtime)
    if not eggs:
        raise DeployError("building the egg produced no .egg file")
    egg = eggs[-1]
    if config_file is not None:
        with zipfile.ZipFile(egg, "a") as archive:
            archive.write(config_file, f"scraper/{DEPLOYED_CONFIG}")
    return egg


def upload(url: str, project: str, version: str, egg: Path) -> Deployed:
    """``addversion.json``: the worker keeps the egg and lists its spiders."""
    import requests  # the [workers] extra (scrapyd-client) brings it

    try:
        with egg.open("rb") as handle:
            response = requests.post(
                f"{url.rstrip('/')}/addversion.json",
                data={"project": project, "version": version},
                files={"egg": (egg.name, handle)},
                timeout=120,
            )
        answer = response.json()
    except (OSError, ValueError, requests.RequestException) as error:
        raise DeployError(f"{url}: {error}") from None
    if answer.get("status") != "ok":
        raise DeployError(f"{url}: {answer.get('message', answer)}")
    return Deployed(url, version, int(answer.get("spiders", 0)))


def deploy(
    project_dir: Path,
    config_file: Path | None,
    urls: Sequence[str],
    project: str,
    version: str | None = None,
) -> list[Deployed]:
    version = version or time.strftime("%Y%m%dT%H%M%S")
    with tempfile.TemporaryDirectory(prefix="clusterwatch-deploy-") as tmp:
        egg = build_egg(project_dir, config_file, Path(tmp))
        return [upload(url, project, version, egg) for url in urls]
