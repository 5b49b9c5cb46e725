"""Every bad input and broken environment, through the real ``clusterwatch`` command: one
line naming the problem, exit 2 (usage/configuration) or 3 (environment), no traceback,
no password, and no database created by a read-only command."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.migrate import upgrade
from db.repository import Repository
from tests.conftest import crawl_env
from tests.monitor.conftest import record_run
from tests.monitor.test_cli import CLUSTERWATCH

PASSWORD = "s3cr3t-pw"


@dataclass
class Case:
    id: str
    args: list[str]
    code: int
    message: str  # a fragment of the one line on stderr
    toml: str | None = None
    env: dict[str, str] = field(default_factory=dict)


def _cli(
    args: list[str], cwd: Path, env: dict[str, str], columns: int = 250, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLUSTERWATCH, *args],
        cwd=cwd,
        env={**env, "COLUMNS": str(columns)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**crawl_env(tmp_path / "data", None), **extra}


CASES = [
    Case(
        "unknown-key",
        ["runs"],
        2,
        "clusterwatch.toml line 2: [health] max_error: unknown key (did you mean 'max_errors'?)",
        toml="[health]\nmax_error = 20\n",
    ),
    Case(
        "unknown-source-section",
        ["runs"],
        2,
        "[sources.bmwi]: unknown source 'bmwi' (did you mean 'bmwe'?)",
        toml="[sources.bmwi]\nenabled = false\n",
    ),
    Case(
        "source-section-wrong-case",
        ["runs"],
        2,
        "[sources.openPR]: unknown source 'openPR' (did you mean 'openpr'?)",
        toml="[sources.openPR]\ninterval_minutes = 5\n",
    ),
    Case(
        "unknown-health-source",
        ["runs"],
        2,
        "[health.sources.nosuch]: unknown source 'nosuch'; known: bmwe, clib",
        toml="[health.sources.nosuch]\nmax_errors = 1\n",
    ),
    Case(
        "unknown-rule",
        ["runs"],
        2,
        "skip_rules: unknown health rule 'extraction.drfit' (did you mean 'extraction.drift'?)",
        toml='[health]\nskip_rules = ["extraction.drfit"]\n',
    ),
    Case(
        "bad-value",
        ["runs"],
        2,
        "clusterwatch.toml line 1: http_port: Input should be a valid integer",
        toml='http_port = "eighty"\n',
    ),
    Case(
        "toml-syntax",
        ["runs"],
        2,
        "clusterwatch.toml: invalid TOML: Expected '=' after a key in a key/value pair "
        "(at line 2, column 12)",
        toml="[health]\nmax_errors 5\n",
    ),
    Case(
        "unknown-variable",
        ["runs"],
        2,
        "unknown environment variable CLUSTERWATCH_HTTP_PROT "
        "(did you mean 'CLUSTERWATCH_HTTP_PORT'?)",
        env={"CLUSTERWATCH_HTTP_PROT": "9999"},
    ),
    Case(
        "bad-variable-value",
        ["runs"],
        2,
        "CLUSTERWATCH_HEALTH__MAX_ERRORS: Input should be a valid integer",
        env={"CLUSTERWATCH_HEALTH__MAX_ERRORS": "many"},
    ),
    Case(
        "missing-config-file",
        ["runs"],
        2,
        "CLUSTERWATCH_CONFIG=/nonexistent/cw.toml: no such config file",
        env={"CLUSTERWATCH_CONFIG": "/nonexistent/cw.toml"},
    ),
    Case(
        "database-url-not-a-url",
        ["runs"],
        2,
        "DATABASE_URL 'foo' is not a usable database URL",
        env={"DATABASE_URL": "foo"},
    ),
    Case(
        "database-url-unknown-dialect",
        ["runs"],
        2,
        "is not a usable database URL (Can't load plugin: sqlalchemy.dialects:nosuchdb)",
        env={"DATABASE_URL": f"nosuchdb://user:{PASSWORD}@127.0.0.1/x"},
    ),
    Case(
        "database-driver-missing",
        ["runs"],
        3,
        "DATABASE_URL postgresql+pg8000://user:***@127.0.0.1:1/cw needs the Python module "
        "'pg8000', which is not installed: pip install pg8000",
        env={"DATABASE_URL": f"postgresql+pg8000://user:{PASSWORD}@127.0.0.1:1/cw"},
    ),
    Case(
        "database-server-down",
        ["runs"],
        3,
        "database postgresql+psycopg://user:***@127.0.0.1:1/cw unavailable: connection failed",
        env={"DATABASE_URL": f"postgresql+psycopg://user:{PASSWORD}@127.0.0.1:1/cw"},
    ),
    Case(
        "database-server-down-db-upgrade",
        ["db", "upgrade"],
        3,
        "database postgresql+psycopg://user:***@127.0.0.1:1/cw unavailable",
        env={"DATABASE_URL": f"postgresql+psycopg://user:{PASSWORD}@127.0.0.1:1/cw"},
    ),
    Case("unknown-source-argument", ["crawl", "opnpr"], 2, "unknown source 'opnpr' (did you"),
    Case("unknown-source-option", ["runs", "--source", "clbi"], 2, "unknown source 'clbi'"),
    Case("unknown-revision", ["db", "upgrade", "bogus"], 2, "Can't locate revision"),
    Case("bad-status-format", ["status", "--format", "xml"], 2, "Invalid value for '--format'"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_one_line_and_an_exit_code(case: Case, tmp_path: Path) -> None:
    if case.toml is not None:
        (tmp_path / "clusterwatch.toml").write_text(case.toml, "utf-8")
    result = _cli(case.args, tmp_path, _env(tmp_path, **case.env))
    assert result.returncode == case.code, result.stdout + result.stderr
    assert case.message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    if not case.id.startswith("bad-status-format"):
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    if case.args[0] != "db":
        assert not (tmp_path / "data").exists(), "a failed command left a data dir behind"


READ_ONLY = [["status"], ["runs"], ["log", "1"], ["export"]]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: a[0])
def test_read_only_commands_never_create_a_database(args: list[str], tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "dir" / "x.db"
    env = _env(tmp_path, DATABASE_URL=f"sqlite:///{target}")
    result = _cli(args, tmp_path, env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"clusterwatch: no clusterwatch database at {target}; run `clusterwatch db upgrade`"
    )
    assert not (tmp_path / "nonexistent").exists()


def test_serve_without_a_database_refuses_to_start(tmp_path: Path) -> None:
    result = _cli(["serve", "--port", "0"], tmp_path, _env(tmp_path))
    assert result.returncode == 3
    assert "no clusterwatch database at" in result.stderr
    assert not (tmp_path / "data").exists()


def test_data_dir_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = _env(tmp_path, CLUSTERWATCH_DATA_DIR=str(blocker / "data"))
    for args in (["db", "upgrade"], ["crawl", "clib"], ["feed"], ["run"]):
        result = _cli(args, tmp_path, env)
        assert result.returncode == 3, (args, result.stdout + result.stderr)
        assert result.stderr.strip() == (
            f"clusterwatch: data directory {blocker / 'data'} is not writable: Not a directory"
        ), args


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[tuple[dict[str, str], Repository]]:
    url = f"sqlite:///{tmp_path / 'data' / 'clusterwatch.db'}"
    upgrade(url)
    yield _env(tmp_path), Repository(url)


def test_export_into_a_missing_directory(
    tmp_path: Path, migrated: tuple[dict[str, str], Repository]
) -> None:
    env, _ = migrated
    target = tmp_path / "missing" / "out.json"
    result = _cli(["export", "--output", str(target)], tmp_path, env)
    assert result.returncode == 3
    assert result.stderr.strip() == (
        f"clusterwatch: cannot write {target}: No such file or directory"
    )


def test_log_of_an_unknown_run(tmp_path: Path, migrated: tuple[dict[str, str], Repository]) -> None:
    env, _ = migrated
    result = _cli(["log", "999"], tmp_path, env)
    assert result.returncode == 2
    assert result.stderr.strip() == "clusterwatch: no crawl run 999 (see `clusterwatch runs`)"


@pytest.mark.parametrize("command", [["serve"], ["run"]], ids=lambda c: c[0])
def test_port_in_use(
    command: list[str], tmp_path: Path, migrated: tuple[dict[str, str], Repository]
) -> None:
    env, _ = migrated
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _cli(command, tmp_path, {**env, "CLUSTERWATCH_HTTP_PORT": str(port)})
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "serving" not in result.stdout + result.stderr
    assert "Uvicorn running" not in result.stderr


def test_db_upgrade_masks_the_password_when_it_works(tmp_path: Path) -> None:
    # SQLite has no password; the printed URL goes through the same masking as PostgreSQL's.
    from db.engine import mask_secrets, mask_url

    url = f"postgresql+psycopg://cw:{PASSWORD}@db.example/cw"
    assert mask_url(url) == "postgresql+psycopg://cw:***@db.example/cw"
    assert PASSWORD not in mask_secrets(f"failed for {url} ({PASSWORD})", url)
    result = _cli(["db", "upgrade"], tmp_path, _env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "database at revision" in result.stdout


# -- status: exit codes and machine-readable output ---------------------------------------


GOOD = {"article_links": 12, "items_new": 3, "stats": {"clusterwatch/fields/items": 3}}
GOOD["stats"].update({f"clusterwatch/fields/{f}": 3 for f in ("title", "date", "text")})  # type: ignore[attr-defined]


def _status(tmp_path: Path, env: dict[str, str], fmt: str) -> subprocess.CompletedProcess[str]:
    return _cli(["status", "--format", fmt], tmp_path, env)


def test_status_exit_codes_and_formats(
    tmp_path: Path, migrated: tuple[dict[str, str], Repository]
) -> None:
    env, repository = migrated
    sources = ("bmwe", "clib", "clusterplattform", "openpr")
    for source in sources:
        record_run(repository, source, **GOOD)
    assert _status(tmp_path, env, "line").returncode == 0

    drift = dict(GOOD["stats"])  # type: ignore[call-overload]
    drift.update(
        {
            "clusterwatch/articles/fetched": 3,
            "clusterwatch/provenance/title/declared": 3,
            "clusterwatch/provenance/body/declared": 3,
            "clusterwatch/provenance/date/htmldate": 3,
        }
    )
    record_run(repository, "clib", **{**GOOD, "stats": drift})
    degraded = _status(tmp_path, env, "line")
    assert degraded.returncode == 1, degraded.stdout
    assert (
        "CLUSTERWATCH WARNING - clib: date taken from fallback layers on 3/3 pages "
        "(100%; maximum 50%): htmldate 3 [extraction.drift]"
    ) in degraded.stdout.splitlines()

    unreachable = {
        "clusterwatch/entry/attempted": 2,
        "clusterwatch/entry/ok": 0,
        "clusterwatch/entry/failures": [
            {"url": "https://www.openpr.de/rss/openpr.xml", "kind": "feed", "cause": c}
            for c in ("DNS lookup failed for www.openpr.de",)
        ],
    }
    record_run(repository, "openpr", article_links=0, errors=4, stats=unreachable)
    critical = _status(tmp_path, env, "line")
    assert critical.returncode == 2
    lines = critical.stdout.splitlines()
    assert len(lines) == len(sources)
    assert lines[-1] == (
        "CLUSTERWATCH CRITICAL - openpr: source unreachable: none of 2 entry points answered: "
        "DNS lookup failed for www.openpr.de [entry.unreachable]"
    )
    assert lines[0].startswith("CLUSTERWATCH OK - bmwe: healthy (last run ")

    as_json = _status(tmp_path, env, "json")
    assert as_json.returncode == 2
    data = json.loads(as_json.stdout)
    assert data["status"] == "CRITICAL" and data["exit_code"] == 2
    by_source = {s["source"]: s for s in data["sources"]}
    assert by_source["openpr"]["verdict"] == "unhealthy"
    assert by_source["openpr"]["findings"][0]["rule"] == "entry.unreachable"
    assert by_source["clib"]["verdict"] == "degraded"
    assert by_source["bmwe"]["last_success_at"] is not None
    assert datetime.fromisoformat(by_source["bmwe"]["next_run_at"]) > datetime(
        2020, 1, 1, tzinfo=UTC
    )


def test_status_unknown_when_the_database_is_unreachable(tmp_path: Path) -> None:
    env = _env(tmp_path, DATABASE_URL=f"postgresql+psycopg://u:{PASSWORD}@127.0.0.1:1/cw")
    line = _status(tmp_path, env, "line")
    assert line.returncode == 3
    assert line.stdout.startswith("CLUSTERWATCH UNKNOWN - database postgresql+psycopg://u:***@")
    as_json = _status(tmp_path, env, "json")
    assert as_json.returncode == 3
    assert json.loads(as_json.stdout)["status"] == "UNKNOWN"
    table = _status(tmp_path, env, "table")
    assert table.returncode == 3 and "unavailable" in table.stderr
    bad_config = _status(tmp_path, {**env, "CLUSTERWATCH_HTTP_PROT": "1"}, "line")
    assert bad_config.returncode == 3
    assert "CLUSTERWATCH UNKNOWN - configuration error: unknown environment variable" in (
        bad_config.stdout
    )
    for result in (line, as_json, table, bad_config):
        assert PASSWORD not in result.stdout + result.stderr


def test_tables_fit_80_columns(tmp_path: Path, migrated: tuple[dict[str, str], Repository]) -> None:
    env, repository = migrated
    for source in ("bmwe", "clib", "clusterplattform", "openpr"):
        record_run(repository, source, **GOOD)
    record_run(repository, "openpr", article_links=12, errors=9, stats=GOOD["stats"])
    for args in (["status"], ["runs"]):
        result = _cli(args, tmp_path, env, columns=80)
        assert result.returncode in (0, 2), result.stderr
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80, result.stdout
        text = result.stdout
        for name in ("clusterplattform", "openpr", "bmwe", "clib"):
            assert name in text, text  # source names are never cut (no "sou…")
        assert "…" not in text, text
    status = _cli(["status"], tmp_path, env, columns=80).stdout
    assert "unhealthy" in status and "errors.max" in status


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_status_page_answers_503_when_the_database_goes_down(
    tmp_path: Path, migrated: tuple[dict[str, str], Repository]
) -> None:
    import httpx

    env, repository = migrated
    record_run(repository, "clib", **GOOD)
    port = _free_port()
    server = subprocess.Popen(
        [*CLUSTERWATCH, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                first = httpx.get(f"{base}/", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        assert first.status_code == 200 and "clusterwatch status" in first.text
        metrics = httpx.get(f"{base}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert 'clusterwatch_source_verdict{source="clib",verdict="healthy"} 1.0' in metrics.text

        # The database goes away under the running server (a volume unmounted, a restore).
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / "data" / f"clusterwatch.db{suffix}").unlink(missing_ok=True)
        for path in ("/", "/metrics", "/healthz"):
            down = httpx.get(f"{base}{path}", timeout=10)
            assert down.status_code == 503, (path, down.text)
        page = httpx.get(f"{base}/", timeout=10)
        assert "clusterwatch: database unavailable" in page.text
        assert "no clusterwatch database at" in page.text
        assert not (tmp_path / "data" / "clusterwatch.db").exists(), "nothing re-created it"
        assert "Traceback" not in page.text
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "Traceback" not in output


@pytest.mark.e2e
def test_crawl_of_an_unreachable_source_exits_1_with_the_cause(tmp_path: Path) -> None:
    # Every entry point refused: the run "finishes", but the source published nothing.
    env = _env(tmp_path, CLUSTERWATCH_MIRROR="http://127.0.0.1:1")
    (tmp_path / "clusterwatch.toml").write_text("[health.sources.clib]\nmax_errors = 20\n", "utf-8")
    result = _cli(["crawl", "clib"], tmp_path, env, timeout=180)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "clib: unhealthy: source unreachable" in result.stderr
    assert "[entry.unreachable]" in result.stderr


# -- the same on a real PostgreSQL server (tests/pg.py) -------------------------------------


def _with_password(url: str, user: str | None = None) -> str:
    """The URL with a password (the throwaway server trusts 127.0.0.1, so any will do)."""
    scheme, rest = url.split("://", 1)
    default_user, host = rest.split("@", 1)
    return f"{scheme}://{user or default_user}:{PASSWORD}@{host}"


def test_postgresql_role_missing_database_missing_and_no_schema(
    tmp_path: Path, postgres_server_url: str
) -> None:
    from tests.pg import fresh_database

    server = postgres_server_url.rsplit("/", 1)[0]
    seen: list[subprocess.CompletedProcess[str]] = []

    def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        seen.append(_cli(args, tmp_path, env))
        return seen[-1]

    no_role = _with_password(postgres_server_url, user="nosuchrole")
    result = cli(["runs"], _env(tmp_path, DATABASE_URL=no_role))
    assert result.returncode == 3
    assert 'FATAL:  role "nosuchrole" does not exist' in result.stderr
    assert result.stderr.startswith("clusterwatch: database postgresql+psycopg://nosuchrole:***@")

    no_db = _with_password(f"{server}/nosuchdb")
    result = cli(["status", "--format", "line"], _env(tmp_path, DATABASE_URL=no_db))
    assert result.returncode == 3
    assert result.stdout.startswith("CLUSTERWATCH UNKNOWN - database ")
    assert 'database "nosuchdb" does not exist' in result.stdout

    empty = _with_password(fresh_database(postgres_server_url))
    env = _env(tmp_path, DATABASE_URL=empty)
    for args in (["status"], ["runs"], ["export"]):
        result = cli(args, env)
        assert result.returncode == 3, (args, result.stderr)
        assert "no clusterwatch database at postgresql+psycopg://" in result.stderr
        assert "run `clusterwatch db upgrade`" in result.stderr
    upgraded = cli(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert ":***@" in upgraded.stdout.replace("\n", "")
    assert cli(["status"], env).returncode == 0
    for result in seen:
        assert PASSWORD not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr
