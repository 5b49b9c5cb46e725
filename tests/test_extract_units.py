from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scraper.extract import DateHints, ExtractionError, ExtractionRules, extract, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16.11.2016", datetime(2016, 11, 15, 23, 0, tzinfo=UTC)),  # CET midnight
        ("18.09.2014", datetime(2014, 9, 17, 22, 0, tzinfo=UTC)),  # CEST midnight
        ("16.02.2011 10:56", datetime(2011, 2, 16, 9, 56, tzinfo=UTC)),
        ("4. Mai 2023", datetime(2023, 5, 3, 22, 0, tzinfo=UTC)),
        ("Veröffentlicht am 1. März 2024", datetime(2024, 2, 29, 23, 0, tzinfo=UTC)),
        ("2023-05-04T09:12:00+02:00", datetime(2023, 5, 4, 7, 12, tzinfo=UTC)),
        ("2023-05-04T07:12:00Z", datetime(2023, 5, 4, 7, 12, tzinfo=UTC)),
        ("22.01.2016Bioökonomie – aus dem Labor", datetime(2016, 1, 21, 23, 0, tzinfo=UTC)),
    ],
)
def test_parse_date_reads_berlin_wall_time(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "kein Datum", "31.02.2020", "99.99.9999"])
def test_parse_date_rejects_non_dates(text: str) -> None:
    assert parse_date(text) is None


PAGE = """<html lang="de"><head><title>Seite</title></head><body>
<div id="cookie">Wir verwenden Cookies.</div>
<div class="main"><h1>Neue Clusterförderung</h1><p class="d">03.04.2024</p>
<div class="body"><p>(openPR) - Erster Absatz mit genügend Text über das Cluster und seine
Partner in der Region.</p>
<div class="teaser"><p><b>Ein Zwischenabsatz im Teaser-Kasten über Cluster steht hier
und ist lang genug, um als Absatz zu gelten.</b></p></div>
<figure><img alt="Bild"><figcaption>Ein Bild © Foto AG</figcaption></figure>
<p>Zweiter Absatz, ebenfalls lang genug, damit er im Ergebnis erscheint und zählt.</p>
<div class="box">Pressekontakt: Max Muster</div></div></div>
<footer>Impressum</footer></body></html>"""
RULES = ExtractionRules(
    body_xpaths=("//div[@class='body']",),
    title_xpaths=("//h1",),
    date_xpaths=("//p[@class='d']",),
    prune_xpaths=("//div[@class='box']",),
    strip_prefixes=(r"\(openPR\)\s*-?\s*",),
)


def test_declared_rules_give_clean_text() -> None:
    result = extract(PAGE, "https://example.org/a.html", RULES)
    assert result.title == "Neue Clusterförderung"
    assert result.published_at == datetime(2024, 4, 2, 22, 0, tzinfo=UTC)
    assert result.provenance["date"] == "declared"
    assert result.text.startswith("Erster Absatz")  # marker stripped
    assert "Ein Zwischenabsatz im Teaser-Kasten" in result.text  # class heuristics overruled
    for boilerplate in ("(openPR)", "Pressekontakt", "© Foto AG", "Cookies", "Impressum"):
        assert boilerplate not in result.text
    assert result.html.startswith("<p>") and "<script" not in result.html
    assert result.language == "de"
    assert not result.used_fallback


def test_missing_container_falls_back_and_says_so() -> None:
    rules = ExtractionRules(body_xpaths=("//div[@id='gone']",), title_xpaths=("//h1",))
    result = extract(PAGE, "https://example.org/a.html", rules)
    assert result.used_fallback
    assert "Zweiter Absatz" in result.text


UNDATED = PAGE.replace('<p class="d">03.04.2024</p>', "")


def test_visible_date_is_found_without_a_declared_rule() -> None:
    rules = ExtractionRules(body_xpaths=("//div[@class='body']",), title_xpaths=("//h1",))
    result = extract(PAGE, "https://example.org/a.html", rules)
    assert (result.published_at, result.date_source) == (
        datetime(2024, 4, 2, 22, 0, tzinfo=UTC),
        "htmldate",
    )


def test_feed_date_is_used_when_the_page_has_none() -> None:
    rules = ExtractionRules(body_xpaths=("//div[@class='body']",), title_xpaths=("//h1",))
    feed_date = datetime(2024, 4, 3, 8, 0, tzinfo=UTC)
    result = extract(UNDATED, "https://example.org/a.html", rules, DateHints(feed=feed_date))
    assert (result.published_at, result.date_source) == (feed_date, "feed")


def test_url_date_is_the_last_resort() -> None:
    rules = ExtractionRules(body_xpaths=("//div[@class='body']",), title_xpaths=("//h1",))
    result = extract(UNDATED, "https://example.org/2024/20240405-x.html", rules)
    assert (result.published_at, result.date_source) == (
        datetime(2024, 4, 4, 22, 0, tzinfo=UTC),
        "url",
    )


def test_empty_page_is_an_error() -> None:
    with pytest.raises(ExtractionError):
        extract("<html><body><h1>Nur Titel</h1></body></html>", "https://e.org/", RULES)


STRUCTURED = """<html lang="de"><head><title>Cluster baut Netzwerk aus - Beispiel</title></head>
<body><nav><a href="/">Start</a></nav><main><article><h1>Cluster baut Netzwerk aus</h1>
<div class="content"><p>Das Innovationscluster meldet heute einen Ausbau seines Netzwerks mit
vielen neuen Partnern aus Forschung und Mittelstand in der ganzen Region.</p>
<h2>Neue Partner</h2>
<ul><li>Hochschule Musterstadt mit dem Institut für Verfahrenstechnik</li>
<li>Muster GmbH aus dem Bereich Sensorik und Messtechnik</li></ul>
<p>Mehr dazu steht im <a href="/bericht.html" onclick="steal()">Jahresbericht</a> und im
<a href="javascript:alert(1)">Archiv</a> des Clusters, das allen Mitgliedern offensteht.</p>
<script>alert('x')</script></div></article></main></body></html>"""


def test_html_keeps_headings_lists_and_links_sanitised() -> None:
    rules = ExtractionRules(body_xpaths=("//div[@class='content']",), title_xpaths=("//h1",))
    result = extract(STRUCTURED, "https://cluster.example/news/a.html", rules)
    assert "<h2>Neue Partner</h2>" in result.html
    assert "<ul><li>Hochschule Musterstadt" in result.html and "</li></ul>" in result.html
    assert '<a href="https://cluster.example/bericht.html"' in result.html  # made absolute
    for dangerous in ("<script", "onclick", "javascript:", "alert"):
        assert dangerous not in result.html
    # The text keeps headings and list items as paragraphs of their own, without bullets.
    paragraphs = result.text.split("\n\n")
    assert "Neue Partner" in paragraphs
    assert "Muster GmbH aus dem Bereich Sensorik und Messtechnik" in paragraphs


def test_generic_mode_finds_every_field_without_rules() -> None:
    result = extract(STRUCTURED, "https://cluster.example/news/a.html")
    assert result.title == "Cluster baut Netzwerk aus"
    assert result.provenance["body"] == "trafilatura" and result.title_source != "declared"
    assert "Hochschule Musterstadt" in result.text and "Start" not in result.text.split("\n\n")


def test_empty_or_broken_pages_raise_extraction_errors_not_parser_errors() -> None:
    for page in ("", "   ", b"\x00\x01", "<html></html>"):
        with pytest.raises(ExtractionError):
            extract(page, "https://e.org/x.html")
