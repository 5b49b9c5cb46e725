"""The link that announced a page as evidence the page is that article (scraper/linktext.py).

The crawl tests show every labelled article of both independently written trees passes
(tests/test_crawl_e2e.py); the fault suite shows a maintenance page in the site's chrome is
refused (tests/test_faults_articles.py). Here: the rule's edges.
"""

from hypothesis import given
from hypothesis import strategies as st

from scraper.linktext import MAX_LINK_TEXT, broken_promise, link_text, words

HEADLINE = "Leichtbau-Cluster OWL eröffnet Technikum für Faserverbundbauteile in Paderborn"
MAINTENANCE = (
    "Aufgrund geplanter Wartungsarbeiten ist dieses Angebot vorübergehend nicht erreichbar. "
    "Bitte versuchen Sie es in einigen Minuten erneut."
)


def test_the_headline_anchor_is_kept_not_the_read_more_or_image_link() -> None:
    assert link_text(["", "Weiterlesen", f"  {HEADLINE}\n ", "mehr"]) == HEADLINE


def test_a_link_that_says_too_little_is_no_evidence() -> None:
    assert link_text(["Weiterlesen", "12.03.2024", "Mehr erfahren"]) is None
    assert broken_promise("Mehr erfahren", "Wartungsarbeiten", MAINTENANCE) is None


def test_a_teaser_card_is_bounded() -> None:
    found = link_text([HEADLINE + " " + "Lorem ipsum dolor sit amet " * 40])
    assert found is not None and len(found) == MAX_LINK_TEXT


def test_a_maintenance_page_is_not_the_announced_article() -> None:
    broken = broken_promise(HEADLINE, "Wartungsarbeiten", MAINTENANCE)
    assert broken is not None
    assert broken.found == 0 and broken.promised == len(words(HEADLINE))
    assert "not the announced article" in str(broken)


def test_the_article_under_a_shortened_headline_is_kept() -> None:
    text = "Paderborn, 22. Januar 2019 – Der Leichtbau-Cluster hat ein Technikum eröffnet."
    assert broken_promise("Leichtbau-Cluster OWL eröffnet Technikum …", HEADLINE, text) is None
    # Words are compared case-insensitively, umlauts kept.
    assert broken_promise(HEADLINE.upper(), HEADLINE, text) is None


@given(st.text(min_size=0, max_size=200), st.text(min_size=0, max_size=500))
def test_a_page_whose_title_is_the_link_is_never_refused(link: str, text: str) -> None:
    assert broken_promise(link, link, text) is None


@given(st.lists(st.text(max_size=400), max_size=6))
def test_link_text_never_raises_and_stays_bounded(texts: list[str]) -> None:
    found = link_text(texts)
    assert found is None or (0 < len(found) <= MAX_LINK_TEXT and len(words(found)) >= 3)
