"""The replay server speaks the mirror protocol of DESIGN.md with real HTTP semantics."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from monitor.replay import ReplayServer, ReplayTree
from scraper.middlewares import retry_after_seconds
from tests.conftest import SITES
from tests.monitor.test_cli import CLUSTERWATCH

CP = "www.clusterplattform.de"
ARTICLE = (
    "/CLUSTER/Redaktion/DE/Kurzmeldungen/Aktuelles/2019/2_Quartal/20190409_gold_silber_labels.html"
)


def test_serves_pages_with_validators_and_304(replay: ReplayServer) -> None:
    url = f"{replay.url}/{CP}{ARTICLE}"
    first = httpx.get(url)
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/html; charset=utf-8"
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert httpx.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert httpx.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    head = httpx.head(url)
    assert head.status_code == 200 and head.content == b""
    assert [e.status for e in replay.log] == [200, 304, 304, 200, 200]
    assert replay.log[1].conditional and not replay.log[0].conditional


def test_jsessionid_and_unknown_query_serve_the_page(replay: ReplayServer) -> None:
    plain = httpx.get(f"{replay.url}/{CP}{ARTICLE}").content
    session = httpx.get(f"{replay.url}/{CP}{ARTICLE};jsessionid=17535CB49B047AE48CCFCE5A40688383")
    assert session.content == plain
    assert httpx.get(f"{replay.url}/{CP}{ARTICLE}?foo=bar").content == plain
    # The print view has a route to its own, reduced page.
    printed = httpx.get(f"{replay.url}/{CP}{ARTICLE}?view=renderPrint")
    assert printed.status_code == 200 and printed.content != plain


def test_routes_redirects_encodings_and_404(replay: ReplayServer) -> None:
    redirect = httpx.get(f"{replay.url}/www.openpr.de/news/1305512/")
    assert redirect.status_code == 301
    assert redirect.headers["location"].startswith("https://www.openpr.de/news/1305512/")
    cp1252 = httpx.get(f"{replay.url}/www.clib2021.de/news/news-clib2021?id=118")
    assert cp1252.headers["content-type"] == "text/html; charset=windows-1252"
    assert "Bioökonomie" in cp1252.content.decode("cp1252")
    assert httpx.get(f"{replay.url}/{CP}/nowhere.html").status_code == 404
    assert httpx.get(f"{replay.url}/no.such.host/").status_code == 404
    assert httpx.get(f"{replay.url}/{CP}/../../etc/passwd").status_code == 404
    assert httpx.get(f"{replay.url}/{CP}/_routes.json").status_code == 404


def test_faults_make_a_host_fail(replay: ReplayServer) -> None:
    httpx.post(f"{replay.url}/_replay/faults", json={CP: 503})
    assert httpx.get(f"{replay.url}/{CP}{ARTICLE}").status_code == 503
    httpx.post(f"{replay.url}/_replay/faults", json={})
    assert httpx.get(f"{replay.url}/{CP}{ARTICLE}").status_code == 200


def test_tree_resolves_percent_encoded_paths() -> None:
    tree = ReplayTree(SITES)
    url = (
        f"https://{CP}/CLUSTER/Redaktion/DE/Kurzmeldungen/Aktuelles/2017/2.%20Quartal/"
        "20170420_bmwi_dritte_f%C3%B6rderbekanntmachung_von_go_cluster.html"
    )
    resolved = tree.resolve_url(url)
    assert resolved.status == 200 and resolved.file is not None
    assert "förderbekanntmachung" in resolved.file.name


def test_fault_rules_match_count_list_and_clear(replay: ReplayServer) -> None:
    control = f"{replay.url}/_replay/faults"
    url = f"{replay.url}/{CP}{ARTICLE}"
    added = httpx.post(
        control,
        json={
            "rules": [
                {"fault": "status", "status": 429, "retry_after": 7, "path": "*/2019/*",
                 "times": "once"},
                {"fault": "redirect", "location": "/elsewhere.html", "match": "regex",
                 "host": r"www\.clusterplattform\.de", "path": r".*gold_silber.*", "times": 1},
            ]
        },
    )  # fmt: skip
    assert added.status_code == 200 and len(added.json()["rules"]) == 2
    first = httpx.get(url)
    assert first.status_code == 429 and first.headers["retry-after"] == "7"
    second = httpx.get(url)  # the first rule is used up: the second matches
    assert second.status_code == 302
    assert second.headers["location"] == f"https://{CP}/elsewhere.html"
    assert httpx.get(url).status_code == 200  # both used up
    listed = httpx.get(control).json()["rules"]
    assert [(r["hits"], r["remaining"]) for r in listed] == [(1, 0), (1, 0)]
    assert [e.fault for e in replay.log[-3:]] == ["status", "redirect", None]
    # A query filter: only that query fails.
    httpx.post(control, json={"fault": "status", "status": 500, "query": "view=renderPrint"})
    assert httpx.get(url).status_code == 200
    assert httpx.get(url + "?view=renderPrint").status_code == 500
    assert httpx.delete(control).json() == {"rules": []}
    assert httpx.get(url + "?view=renderPrint").status_code == 200


def test_bad_fault_rules_are_refused_with_the_reason(replay: ReplayServer) -> None:
    control = f"{replay.url}/_replay/faults"
    for rule, words in (
        ({"fault": "explode"}, "unknown fault 'explode'"),
        ({"fault": "status", "times": "twice"}, "times must be"),
        ({"fault": "status", "match": "regex", "path": "("}, "bad regular expression"),
        ([{"fault": "status"}, {"fault": "nope"}], "unknown fault 'nope'"),
    ):
        answer = httpx.post(control, json=rule)
        assert answer.status_code == 400 and words in answer.json()["error"]
    assert httpx.get(control).json() == {"rules": []}  # all or none
    assert httpx.post(control, content=b"{not json").status_code == 400


def test_raw_faults_cut_the_connection(replay: ReplayServer) -> None:
    url = f"{replay.url}/{CP}{ARTICLE}"
    whole = httpx.get(url).content
    control = f"{replay.url}/_replay/faults"
    httpx.post(control, json={"fault": "truncate", "fraction": 0.5, "times": 1})
    cut = httpx.get(url)  # close-delimited: the client cannot tell, only the length differs
    assert cut.status_code == 200 and "content-length" not in cut.headers
    assert cut.content == whole[: len(whole) // 2]
    for fault in ("reset", "reset_body"):
        httpx.post(control, json={"fault": fault, "times": 1})
        with pytest.raises(httpx.TransportError):
            httpx.get(url)
    httpx.post(control, json={"fault": "stall", "seconds": 30, "times": 1})
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, timeout=0.5)
    assert httpx.get(url).content == whole  # the server stays up


def test_cli_refuses_a_bad_fault_file(tmp_path: Path) -> None:
    bad = tmp_path / "faults.json"
    bad.write_text('[{"fault": "status"}, {"fault": "melt"}]', "utf-8")
    result = subprocess.run(
        [*CLUSTERWATCH, "replay", str(SITES), "--port", "0", "--faults", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "bad fault file" in result.stderr and "unknown fault 'melt'" in result.stderr
    assert "Traceback" not in result.stderr


def test_retry_after_values() -> None:
    assert retry_after_seconds(b"30") == 30.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None
