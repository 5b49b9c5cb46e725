"""The replay server speaks the mirror protocol of DESIGN.md with real HTTP semantics."""

from __future__ import annotations

import httpx

from monitor.replay import ReplayServer, ReplayTree
from tests.conftest import SITES

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
