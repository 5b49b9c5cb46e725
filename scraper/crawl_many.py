"""Several sources' crawls in one process: ``python -m scraper.crawl_many SOURCE… [-s K=V]…``.

The steady state of a large installation is sources with nothing new: a recrawl is two
conditional requests answered 304, and most of the cost of a ``scrapy crawl`` process is
starting it. Sources that fall due together run here in one ``AsyncCrawlerProcess``, one
crawler each — the same settings as ``scrapy crawl`` (the project's settings, the
``CLUSTERWATCH_*`` environment, ``-s`` overrides), the same components, so each run still
gets its own ``crawl_runs`` row, its own log file (records attributed to their crawler:
``scraper.extensions.CrawlerRecords``) and its own counters. The process stays apart from
the service like a ``scrapy crawl``; the crawls in it are independent: a source whose crawl
fails (an exception at start, an unreachable site) ends with its own finish reason and the
others run to their end. Article pages of all of them share one extraction pool
(scraper/pool.py).

Exit status: 0 when every crawl ran, 1 when one could not start, 2 for a usage error (an
unknown source, a malformed ``-s``) — ``scrapy crawl``'s codes.
"""

from __future__ import annotations

import os
import sys


def parse_args(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """(sources, ``-s`` settings); raises ValueError naming a malformed argument."""
    sources: list[str] = []
    settings: dict[str, str] = {}
    args = iter(argv)
    for arg in args:
        if arg in ("-s", "--set"):
            value = next(args, None)
            if value is None or "=" not in value:
                raise ValueError(f"{arg} needs NAME=VALUE, got {value!r}")
            name, _, setting = value.partition("=")
            settings[name] = setting
        elif arg.startswith("-"):
            raise ValueError(f"unknown option {arg}")
        elif arg not in sources:
            sources.append(arg)
    if not sources:
        raise ValueError("name at least one source")
    return sources, settings


def main(argv: list[str] | None = None) -> int:
    try:
        sources, overrides = parse_args(sys.argv[1:] if argv is None else argv)
    except ValueError as error:
        sys.stderr.write(f"clusterwatch: crawl_many: {error}\n")
        return 2
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "scraper.settings")
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.spiderloader import get_spider_loader
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    known = set(get_spider_loader(settings).list())
    unknown = [s for s in sources if s not in known]
    if unknown:
        sys.stderr.write(f"clusterwatch: crawl_many: unknown source(s): {', '.join(unknown)}\n")
        return 2
    process = AsyncCrawlerProcess(settings)
    for source in sources:
        process.crawl(source)
    process.start()
    return 1 if process.bootstrap_failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
