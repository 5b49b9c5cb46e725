from __future__ import annotations

import re

import pytest

from scraper.mirror import mirror_url
from scraper.urls import canonical_url, clean_url

MINISTRY = ("www.bundeswirtschaftsministerium.de", "www.bmwi.de", "www.bmwk.de", "www.bmwe.de")
PAGE = "https://www.clusterplattform.de/CLUSTER/Redaktion/DE/Kurzmeldungen/Aktuelles/x.html"


@pytest.mark.parametrize(
    "variant",
    [
        PAGE,
        PAGE.replace("https", "http"),
        PAGE + ";jsessionid=17535CB49B047AE48CCFCE5A40688383",
        PAGE + "?view=renderPrint",
        PAGE + ";jsessionid=A4BDB78B88DF7F23E102C6CC5EA24314?view=renderPrint#top",
        PAGE + "?utm_source=newsletter&utm_medium=email",
        PAGE.replace("www.clusterplattform.de", "WWW.Clusterplattform.DE"),
        PAGE.replace("www.clusterplattform.de", "clusterplattform.de"),
    ],
)
def test_variants_share_one_canonical_url(variant: str) -> None:
    assert canonical_url(variant, ("www.clusterplattform.de",)) == PAGE


def test_alias_hosts_fold_to_the_first_host() -> None:
    path = "/Redaktion/DE/Pressemitteilungen/2019/20190411-x.html"
    for host in MINISTRY:
        assert canonical_url(f"https://{host}{path}", MINISTRY) == f"https://{MINISTRY[0]}{path}"
    # A host that is not the source's stays what it is.
    assert canonical_url(f"https://example.org{path}", MINISTRY) == f"https://example.org{path}"


def test_query_is_sorted_and_kept() -> None:
    url = "https://www.clib2021.de/news/news-clib2021?id=118&lang=de"
    assert canonical_url(url) == canonical_url(
        "https://www.clib2021.de/news/news-clib2021?lang=de&id=118"
    )
    assert "id=118" in canonical_url(url)


def test_rewrites_fold_paths_of_one_article() -> None:
    rewrites = [(re.compile(r"^(/news/\d+)/.*$"), r"\1/")]
    slug = "https://www.openpr.de/news/513038/Fuehrende-Branchencluster.html"
    assert canonical_url(slug, ("www.openpr.de",), rewrites) == canonical_url(
        "https://www.openpr.de/news/513038/", ("www.openpr.de",), rewrites
    )


def test_clean_url_keeps_host_and_encoding() -> None:
    listing = "https://www.clusterplattform.de/a/aktuelles.html?gtp=1862532_list%253D2"
    assert clean_url(listing) == listing
    assert clean_url("http://www.clib2021.de/news/x?id=1;jsessionid=1").startswith(
        "https://www.clib2021.de"
    )
    assert clean_url(PAGE + ";jsessionid=ABC?view=renderPrint&x=1") == PAGE + "?x=1"


def test_mirror_url_keeps_host_path_and_query() -> None:
    url = "https://www.openpr.de/news/kategorien.html?page=2"
    assert mirror_url("http://127.0.0.1:8765/", url) == (
        "http://127.0.0.1:8765/www.openpr.de/news/kategorien.html?page=2"
    )
