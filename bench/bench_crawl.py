"""Crawl throughput, side by side in one run on a generated replay of one source (2,000
real-size article pages, 100 listing pages, feed and sitemap — bench/generate_site.py):

* the extraction floor — ``scraper.extract.extract`` alone on the same pages, one process
  (pages/s and CPU per page);
* bare ``trafilatura.extract`` on the same pages, one process;
* the full ``scrapy crawl`` (discover + fetch + extract + store) with article pages extracted
  on the reactor thread (``CLUSTERWATCH_CRAWL_WORKERS=0``, the old way) and in the process
  pool (the default: one worker per core) — pages/s and the ratio to the floor, CPU per page
  (the crawl process and its pool workers, read from /proc); the stored rows of both crawls
  compared field by field;
* what the crawl's CPU time allows on an idle machine (the crawl process's thread and all
  cores), with and without its start-up (an unchanged recrawl measures that) — figures that
  hold under load, where the wall-time ratio does not;
* the peer: trafilatura's own command line fetching and extracting the same URLs (wall time
  ratio; text F1 of both against the generated text).

    .venv/bin/python bench/bench_crawl.py [--quick | --full] [--json PATH]

``--quick`` (default): 600 articles on 30 listing pages, the floor timed once over them;
``--full``: 2,000 articles on 100 listing pages, the floor over three rounds.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawlkit import Timed, crawl_env, last_stats, repository, run, scrapy_crawl
from generate_site import SOURCE, Site

from bench.report import Report, arguments
from monitor.replay import ReplayServer
from scraper.dedup import token_f1
from scraper.extract import ExtractionRules, TemplateLines, extract
from scraper.sources import registry

COMPARED = [
    "title",
    "text",
    "html",
    "language",
    "published_at",
    "content_hash",
    "relevance",
    "relevance_score",
    "topics",
    "title_source",
    "date_source",
    "body_source",
    "language_source",
    "story_id",
    "duplicate_of",
]


def _rules(site: Site) -> ExtractionRules:
    return registry(tomllib.loads(site.toml())["sources"])[site.source].extraction


def floor(site: Site, sample: int, rounds: int) -> tuple[float, float, float]:
    """(extract pages/s, bare trafilatura pages/s, extract CPU-s per page), interleaved
    page by page."""
    rules = _rules(site)
    pages = [(url, path.read_bytes()) for url, path in site.page_files()[:sample]]
    ours = theirs = ours_cpu = 0.0
    template = TemplateLines()
    for _ in range(rounds):
        for url, body in pages:
            start, cpu = time.perf_counter(), time.process_time()
            extract(body, url, rules, template=template)
            ours += time.perf_counter() - start
            ours_cpu += time.process_time() - cpu
            start = time.perf_counter()
            trafilatura.extract(body.decode("utf-8"), url=url)
            theirs += time.perf_counter() - start
    n = len(pages) * rounds
    return n / ours, n / theirs, ours_cpu / n


def rows(data_dir: Path) -> dict[str, tuple[Any, ...]]:
    """The stored rows by canonical URL; stories as their members' URLs (ids are numbered
    in storing order, which concurrency decides)."""
    articles = repository(data_dir).articles(SOURCE)
    url_of = {a.id: a.canonical_url for a in articles}
    members: dict[int | None, list[str]] = {}
    for a in articles:
        members.setdefault(a.story_id, []).append(a.canonical_url)
    found = {}
    for a in articles:
        values = [getattr(a, f) for f in COMPARED]
        values[COMPARED.index("story_id")] = tuple(sorted(members[a.story_id]))
        values[COMPARED.index("duplicate_of")] = url_of.get(a.duplicate_of or -1)
        found[a.canonical_url] = tuple(values)
    return found


def gold(site: Site) -> dict[str, str]:
    """Each article's text as generated (what a perfect extraction returns), by URL."""
    return {a.url: "\n".join(a.paragraphs) for a in site.articles}


def mean_f1(texts: dict[str, str], golden: dict[str, str]) -> float:
    """Token F1 against the generated text, averaged over every article (missing: 0)."""
    return statistics.mean(token_f1(texts.get(url, ""), text) for url, text in golden.items())


def peer_texts(site: Site, out: Path) -> dict[str, str]:
    """trafilatura's output files (named by a hash of their content, not by URL), by the URL
    of the article whose first paragraph opens one of the file's lines."""
    first = {a.paragraphs[0][:60]: a.url for a in site.articles}
    found = {}
    for path in out.rglob("*.txt"):
        text = path.read_text("utf-8")
        for line in text.splitlines():
            url = first.get(line[:60])
            if url is not None:
                found[url] = text
                break
    return found


def trafilatura_cli(site: Site, mirror: str, work: Path) -> Timed:
    urls = work / "urls.txt"
    urls.write_text("".join(f"{mirror}/{site.host}{a.path}\n" for a in site.articles), "utf-8")
    config = work / "trafilatura.cfg"
    default = Path(trafilatura.__file__).parent / "settings.cfg"
    text = default.read_text("utf-8")
    text = text.replace("SLEEP_TIME = 5.0", "SLEEP_TIME = 0").replace(
        "SSRF_PROTECTION = on", "SSRF_PROTECTION = off"
    )
    config.write_text(text, "utf-8")
    out = work / "trafilatura-out"
    binary = Path(sys.executable).parent / "trafilatura"
    return run(
        [
            str(binary),
            "-i",
            str(urls),
            "-o",
            str(out),
            "--parallel",
            "2",
            "--config-file",
            str(config),
        ],
        {"PATH": "/usr/bin:/bin"},
    )


def main() -> None:
    parser = arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, help="default: 2,000 (--full), 600 (--quick)")
    args = parser.parse_args()
    args.articles = args.articles or (2000 if args.full else 600)
    sample, rounds = (args.articles, 3) if args.full else (args.articles, 1)
    report = Report("Crawl throughput on a generated replay (bench/bench_crawl.py)")
    with tempfile.TemporaryDirectory(prefix="cw-bench-crawl-") as tmp:
        work = Path(tmp)
        site = Site(work / "sites", args.articles, max(1, args.articles // 20)).write()
        config = work / "clusterwatch.toml"
        config.write_text(site.toml(), "utf-8")
        sizes = [p.stat().st_size for _u, p in site.page_files()]
        report.add(
            "article pages",
            len(sizes),
            "pages",
            note=f"{site.listing_pages} listing pages, feed, sitemap",
        )
        report.add("mean article page size", statistics.mean(sizes) / 1000, "kB")
        ours, bare, floor_cpu = floor(site, sample, rounds)
        report.add(
            "extraction floor: scraper.extract.extract, one process",
            ours,
            "pages/s",
            ours / bare,
            f"vs bare trafilatura; {sample} pages x {rounds}",
        )
        report.add("bare trafilatura.extract, one process", bare, "pages/s")
        report.add("extraction floor, CPU per page", floor_cpu * 1000, "ms")
        golden = gold(site)
        with ReplayServer(work / "sites") as server:
            results = {}
            for label, workers in (("reactor thread", "0"), ("process pool", "")):
                data = work / f"data-{workers or 'pool'}"
                env = crawl_env(data, config, server.url)
                settings = [f"CLUSTERWATCH_CRAWL_WORKERS={workers}"] if workers else []
                timed = scrapy_crawl(SOURCE, env, *settings)
                if timed.returncode != 0:
                    raise SystemExit(f"scrapy crawl failed (exit {timed.returncode})")
                stats = last_stats(data, SOURCE)
                fetched = int(stats.get("clusterwatch/articles/fetched", 0))
                elapsed = float(stats.get("elapsed_time_seconds", timed.wall))
                results[label] = (data, fetched / elapsed, timed)
                report.add(
                    f"scrapy crawl, extraction on the {label}",
                    fetched / elapsed,
                    "pages/s",
                    fetched / elapsed / ours,
                    f"vs the floor; {fetched} pages stored {stats['_items_new']}; "
                    f"{elapsed:.1f} s crawling, {timed.wall:.1f} s wall with start-up",
                )
                report.add(
                    f"scrapy crawl ({label}), wall with start-up",
                    fetched / timed.wall,
                    "pages/s",
                    fetched / timed.wall / ours,
                    "vs the floor",
                )
                total = timed.cpu + timed.descendants_cpu
                report.add(
                    f"scrapy crawl ({label}), CPU per page",
                    total / max(1, fetched) * 1000,
                    "ms",
                    total / max(1, fetched) / floor_cpu,
                    f"vs the floor's; crawl process {timed.cpu:.1f} CPU-s (start-up included), "
                    f"pool workers {timed.descendants_cpu:.1f} CPU-s",
                )
            before, after = rows(results["reactor thread"][0]), rows(results["process pool"][0])
            differing = sum(1 for url in before if before[url] != after.get(url)) + len(
                set(after) - set(before)
            )
            report.add(
                "stored rows differing, pool vs reactor thread",
                differing,
                "rows",
                note=f"of {len(before)}; fields {', '.join(COMPARED)}",
            )
            report.add(
                "process pool vs reactor thread",
                results["process pool"][1] / results["reactor thread"][1],
                "x",
            )
            pool = results["process pool"][2]
            pool_pages = len(before)
            # What the crawl's one thread allows on an otherwise idle machine: its process's
            # CPU per page (the workers run beside it on the other core).
            thread_bound = pool_pages / pool.cpu
            cores = os.cpu_count() or 1
            cores_bound = cores * pool_pages / (pool.cpu + pool.descendants_cpu)
            report.add(
                "crawl bound by its CPU time (idle machine)",
                min(thread_bound, cores_bound),
                "pages/s",
                min(thread_bound, cores_bound) * floor_cpu,
                f"vs the floor's CPU rate; crawl process {thread_bound:.0f} pages/CPU-s, "
                f"all {cores} cores {cores_bound:.0f} pages/s",
            )
            # The same crawl again, nothing new: what start-up costs the crawl process; the
            # rest of its CPU time is what the pages cost.
            data = results["process pool"][0]
            again = scrapy_crawl(SOURCE, crawl_env(data, config, server.url))
            repeat = last_stats(data, SOURCE)
            steady = (pool.cpu - again.cpu) / pool_pages
            steady_cores = cores * pool_pages / (pool.cpu - again.cpu + pool.descendants_cpu)
            report.add(
                "unchanged recrawl, crawl process CPU (start-up)",
                again.cpu,
                "CPU-s",
                note=f"{repeat['_requests']} requests, "
                f"{int(repeat.get('clusterwatch/articles/fetched', 0))} articles fetched",
            )
            report.add(
                "crawl bound by its CPU time beyond start-up (idle machine)",
                min(1 / steady, steady_cores),
                "pages/s",
                min(1 / steady, steady_cores) * floor_cpu,
                f"vs the floor's CPU rate; crawl process {steady * 1000:.1f} ms per page "
                f"beyond start-up (the floor: {floor_cpu * 1000:.1f} ms), all {cores} cores "
                f"{steady_cores:.0f} pages/s (pool workers' start-up included)",
            )
            peer = trafilatura_cli(site, server.url, work)
            pool_wall = pool.wall
            written = sum(1 for p in (work / "trafilatura-out").rglob("*") if p.is_file())
            texts = peer_texts(site, work / "trafilatura-out")
            report.add(
                "peer: trafilatura CLI (-i urls --parallel 2), wall",
                peer.wall,
                "s",
                pool_wall / peer.wall,
                f"clusterwatch crawl wall (start-up included) / trafilatura's; "
                f"{written} files written, {len(texts)} of them matched to an article",
            )
            ours_texts = {
                a.canonical_url: a.text
                for a in repository(results["process pool"][0]).articles(SOURCE)
            }
            peer_f1, ours_f1 = mean_f1(texts, golden), mean_f1(ours_texts, golden)
            report.add(
                "text F1 vs the generated text: clusterwatch crawl",
                ours_f1,
                "",
                ours_f1 / peer_f1 if peer_f1 else None,
                f"vs trafilatura CLI's {peer_f1:.3f}; {len(golden)} articles",
            )
            report.add("text F1 vs the generated text: trafilatura CLI", peer_f1)
    report.write(args.json)


if __name__ == "__main__":
    main()
