"""The clusterwatch add-on: ``-s CLUSTERWATCH_*`` works like the environment variable, and
the commands that only look at a page (``shell``, ``parse``, ``fetch``, ``check``) leave the
database alone.

``scraper.settings`` derives Scrapy's settings from the configuration when it is imported,
before Scrapy applies ``-s``. This add-on runs once the command line is applied: it builds
the configuration again with the ``-s CLUSTERWATCH_*`` values winning, and derives every
dependent setting again (``-s CLUSTERWATCH_DATA_DIR=…`` moves the database, logs and HTTP
cache; ``-s CLUSTERWATCH_MIRROR=…`` switches replay mode on).

Looking at a page is not a run of the source: no crawl-log row (see ``CrawlLog``), nothing
stored, and a page already stored is fetched anyway (the operator asked for it).
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn, Self, get_origin

from pydantic import ValidationError
from scrapy.crawler import Crawler
from scrapy.settings import SETTINGS_PRIORITIES, Settings

from scraper.config import ENV_PREFIX, Config, describe_validation_error, did_you_mean
from scraper.extensions import NOT_A_RUN, scrapy_command
from scraper.settings import SCRAPY_ONLY, scrapy_settings

COMMAND_LINE = SETTINGS_PRIORITIES["cmdline"]
PROJECT = SETTINGS_PRIORITIES["project"]


def refuse(message: str) -> NoReturn:
    """One line and exit status 2, like a usage error of ``scrapy`` itself.

    Raised from inside the crawler's set-up, Scrapy would log any other exception with a
    traceback; SystemExit passes through and ends the command before anything ran.
    """
    sys.stderr.write(f"clusterwatch: {message}\n")
    raise SystemExit(2)


def _config_field(setting: str) -> str | None:
    name = setting.removeprefix(ENV_PREFIX).lower()
    return name if name in Config.model_fields else None


def command_line_overrides(settings: Settings) -> dict[str, Any]:
    """The configuration fields given as ``-s CLUSTERWATCH_*`` (typos refused by name)."""
    overrides: dict[str, Any] = {}
    known = [ENV_PREFIX + f.upper() for f in Config.model_fields] + sorted(SCRAPY_ONLY)
    for setting in list(settings):
        priority = settings.getpriority(setting)
        if not setting.startswith(ENV_PREFIX) or priority is None or priority < COMMAND_LINE:
            continue
        if setting in SCRAPY_ONLY:
            continue
        field = _config_field(setting)
        if field is None:
            refuse(f"unknown setting {setting}{did_you_mean(setting, known)}")
        origin = get_origin(Config.model_fields[field].annotation)
        if origin is list:
            overrides[field] = settings.getlist(setting)
        elif origin is dict:
            overrides[field] = settings.getdict(setting)
        else:
            overrides[field] = settings[setting]
    return overrides


class ClusterwatchSettings:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls()

    def update_settings(self, settings: Settings) -> None:
        if scrapy_command() in NOT_A_RUN:
            _leave_the_database_alone(settings)
        overrides = command_line_overrides(settings)
        if not overrides:
            return
        try:
            config = Config(**overrides)
        except ValidationError as error:
            refuse(describe_validation_error(error, None, {}))
        for name, value in scrapy_settings(config).items():
            priority = settings.getpriority(name)
            if priority is None or priority <= PROJECT:
                settings.set(name, value, priority="project")


def _leave_the_database_alone(settings: Settings) -> None:
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    pipelines.pop("scraper.pipelines.StorePipeline", None)
    settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
    middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares["scraper.middlewares.KnownArticleMiddleware"] = None
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="cmdline")
