"""Restart safety of the real ``clusterwatch run``: SIGTERM during the start-up crawl, then a
restart. The stopped run is not held against the source, and the source is caught up at
once — not after its interval (an hour here)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from db.repository import Repository
from monitor.replay import ReplayServer
from scraper.evaluation import spider_classes
from tests.conftest import crawl_env
from tests.monitor.test_service_process import (
    STOP_TIMEOUT,
    ReplayGate,
    Service,
    free_port,
)

SOURCE = "clusterplattform"


def _config(path: Path, data_dir: Path, mirror: str, port: int) -> Path:
    lines = [
        f'data_dir = "{data_dir}"',
        f'mirror = "{mirror}"',
        f"http_port = {port}",
        "jitter_seconds = 0",
        f"[sources.{SOURCE}]",
        "interval_minutes = 60",
    ]
    lines += [f"[sources.{n}]\nenabled = false" for n in sorted(spider_classes()) if n != SOURCE]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _start(tmp_path: Path, config: Path, name: str) -> Service:
    log_path = tmp_path / f"{name}.log"
    env = crawl_env(tmp_path / "data", None, CLUSTERWATCH_CONFIG=str(config))
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    port = config.read_text("utf-8").split("http_port = ")[1].split("\n")[0]
    return Service(process, log_path, f"http://127.0.0.1:{port}")


def _stop(service: Service, signalled: bool = False) -> str:
    if not signalled:  # a second SIGTERM would kill the crawls at once
        service.process.send_signal(signal.SIGTERM)
    try:
        code = service.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        service.process.kill()
        pytest.fail(f"service still running {STOP_TIMEOUT:.0f} s after SIGTERM")
    assert code == 0, service.log()[-4000:]
    return service.log()


@pytest.mark.e2e
def test_sigterm_during_the_startup_crawl_then_restart_catches_up(
    tmp_path: Path, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = ReplayGate(replay, monkeypatch)
    config = _config(tmp_path / "clusterwatch.toml", tmp_path / "data", replay.url, free_port())
    repository = Repository(f"sqlite:///{tmp_path / 'data' / 'clusterwatch.db'}")

    gate.close()  # the start-up crawl hangs on its first request
    first = _start(tmp_path, config, "first")
    try:
        first.wait_for("the start-up crawl", lambda: gate.holding.is_set() or None, 60)
        (running,) = repository.unfinished_runs()
        assert running.log_path
        crawl_log = Path(running.log_path)
        first.process.send_signal(signal.SIGTERM)
        first.wait_for(
            "the crawl to receive SIGTERM",
            lambda: "Received SIGTERM" in crawl_log.read_text("utf-8", errors="replace") or None,
            STOP_TIMEOUT,
        )
    finally:
        gate.open()  # the held request completes; Scrapy then closes the crawl
    _stop(first, signalled=True)
    (stopped,) = repository.runs()
    assert (stopped.trigger, stopped.finish_reason) == ("startup", "shutdown")

    second = _start(tmp_path, config, "second")
    try:
        done = second.wait_for(
            "the catch-up run",
            lambda: next(
                (r for r in repository.runs() if r.id != stopped.id and r.finished_at), None
            ),
            90,
        )
        log = second.log()
        assert "scheduler started: 1 sources, 1 catching up now" in log, log[-3000:]
        assert (done.trigger, done.finish_reason) == ("startup", "finished")
        assert done.items_new > 0
        status = subprocess.run(
            [sys.executable, "-m", "monitor.cli", "status", "--format", "line"],
            cwd=tmp_path,
            env=crawl_env(tmp_path / "data", None, CLUSTERWATCH_CONFIG=str(config)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        line = next(x for x in status.stdout.splitlines() if f" {SOURCE}: " in x)
        assert line.startswith(f"CLUSTERWATCH OK - {SOURCE}: healthy"), status.stdout
    finally:
        _stop(second)
