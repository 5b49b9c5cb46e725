"""The steady state, measured on generated replays (bench/generate_site.py):

* one source: a first crawl, then recrawls with 0 / 1 / 10 / 100 new articles — requests
  that left for the site, bytes received, article requests, CPU seconds of the process;
* many small sources, nothing new: an unchanged recrawl of all of them grouped as the
  scheduler groups sources that fall due together (``python -m scraper.crawl_many`` with
  ``crawl_group_size`` sources per process, the default 20) against one ``scrapy crawl``
  process per source — CPU seconds per source from ``getrusage(RUSAGE_CHILDREN)``, measured
  side by side.

    .venv/bin/python bench/bench_recrawl.py [--quick | --full] [--json PATH]

``--quick`` (default): the one source has 200 articles on 10 listing pages; 20 small sources
(one group), 3 of them also crawled in separate processes; ``--full``: 2,000 articles on
100 listing pages; 100 sources (five groups), all 100 in separate processes as well.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawlkit import crawl_env, crawl_many, last_stats, scrapy_crawl
from generate_site import Site

from bench.report import Report, arguments
from monitor.replay import ReplayServer
from scraper.config import Config

GROUP = Config.model_fields["crawl_group_size"].default


def one_source(report: Report, work: Path, articles: int, listing_pages: int) -> None:
    site = Site(work / "sites", articles, listing_pages).write()
    config = work / "one.toml"
    config.write_text(site.toml(), "utf-8")
    data = work / "data-one"
    with ReplayServer(work / "sites") as server:
        env = crawl_env(data, config, server.url)
        first = scrapy_crawl(site.source, env)
        stats = last_stats(data, site.source)
        report.add(
            f"first crawl of {articles} articles: requests",
            stats["_requests"],
            "requests",
            note=f"{stats['_items_new']} stored, {first.wall:.1f} s wall",
        )
        for new in (0, 1, 10, 100):
            if new:
                site.add_articles(new)
            timed = scrapy_crawl(site.source, env)
            stats = last_stats(data, site.source)
            articles_fetched = int(stats.get("clusterwatch/upstream/requests/article", 0))
            report.add(
                f"recrawl with {new} new: requests",
                stats["_requests"],
                "requests",
                note=f"{articles_fetched} article requests, {stats['_items_new']} stored",
            )
            report.add(
                f"recrawl with {new} new: bytes received",
                int(stats.get("clusterwatch/upstream/bytes", 0)),
                "bytes",
                note="bodies as received (a 304 has none)",
            )
            report.add(f"recrawl with {new} new: CPU of the process", timed.cpu, "CPU-s")


def many_sources(report: Report, work: Path, count: int, separate: int) -> None:
    root = work / "many"
    sites = [
        Site(root, 3, 1, seed=i, host=f"www.cluster-{i:03d}.de", source=f"cluster{i:03d}").write()
        for i in range(count)
    ]
    config = work / "many.toml"
    config.write_text("".join(s.toml() for s in sites), "utf-8")
    names = [s.source for s in sites]
    groups = [names[i : i + GROUP] for i in range(0, count, GROUP)]
    data = work / "data-many"
    with ReplayServer(root) as server:
        env = crawl_env(data, config, server.url)
        for group in groups:
            assert crawl_many(group, env).returncode == 0, "a first crawl failed"
        together = [crawl_many(group, env) for group in groups]
        assert all(t.returncode == 0 for t in together), "a grouped recrawl failed"
        unchanged = [last_stats(data, n) for n in names]
        assert all(s["_items_new"] == 0 for s in unchanged)
        requests = statistics.mean(s["_requests"] for s in unchanged)
        alone = [scrapy_crawl(n, env) for n in names[:separate]]
        assert all(t.returncode == 0 for t in alone), "a separate recrawl failed"
    grouped_cpu = sum(t.cpu for t in together)
    per_source = grouped_cpu / count
    per_process = statistics.mean(t.cpu for t in alone)
    report.add(
        f"unchanged recrawl of {count} sources, {GROUP} per crawl process: CPU per source",
        per_source,
        "CPU-s",
        per_source / per_process,
        f"vs one process per source (target ≤ 0.3 CPU-s); {len(groups)} processes, "
        f"{grouped_cpu:.1f} CPU-s, {sum(t.wall for t in together):.1f} s wall for all; "
        f"{requests:.1f} requests per source",
    )
    report.add(
        "unchanged recrawl, one scrapy crawl process per source: CPU per source",
        per_process,
        "CPU-s",
        note=f"mean of {separate} sources, {statistics.mean(t.wall for t in alone):.1f} s wall",
    )


def main() -> None:
    parser = arguments(__doc__.split("\n\n")[0])
    args = parser.parse_args()
    articles, pages, count, separate = (2000, 100, 100, 100) if args.full else (200, 10, 20, 3)
    report = Report("Recrawls and the steady state (bench/bench_recrawl.py)")
    with tempfile.TemporaryDirectory(prefix="cw-bench-recrawl-") as tmp:
        one_source(report, Path(tmp), articles, pages)
        many_sources(report, Path(tmp), count, separate)
    report.write(args.json)


if __name__ == "__main__":
    main()
