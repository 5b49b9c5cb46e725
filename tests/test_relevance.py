"""Relevance as a score with reasons, judged on a labelled set written independently of the
rules (tests/relevance/labelled.jsonl: cluster announcements, ordinary releases, and releases
using "Cluster" in another sense). Precision and recall floors in tests/quality_floors.toml."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.classify import DEFAULT_RULES, score, topics

HERE = Path(__file__).parent
FLOORS = tomllib.loads((HERE / "quality_floors.toml").read_text("utf-8"))["relevance"]
ITEMS = [
    json.loads(line)
    for line in (HERE / "relevance" / "labelled.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def test_the_labelled_set_is_big_enough() -> None:
    labels = [i["label"] for i in ITEMS]
    other_sense = [i for i in ITEMS if i["kind"].startswith("other_sense")]
    assert labels.count("cluster") >= 30 and labels.count("other") >= 40
    assert len(other_sense) >= 10


def test_precision_and_recall_meet_the_floors() -> None:
    results = [(i, score(i["title"], i["text"])) for i in ITEMS]
    tp = sum(1 for i, r in results if r.relevant and i["label"] == "cluster")
    fp = [i["id"] for i, r in results if r.relevant and i["label"] != "cluster"]
    fn = [i["id"] for i, r in results if not r.relevant and i["label"] == "cluster"]
    precision = tp / (tp + len(fp))
    recall = tp / (tp + len(fn))
    print(f"relevance: precision {precision:.3f}, recall {recall:.3f} ({len(ITEMS)} items)")
    assert precision >= FLOORS["precision"], f"false positives: {fp}"
    assert recall >= FLOORS["recall"], f"false negatives: {fn}"


@pytest.mark.parametrize(
    ("title", "text", "relevant", "reason"),
    [
        (
            "Kubernetes-Cluster in 5 Minuten",
            "Der Server-Cluster skaliert automatisch.",
            False,
            "computing",
        ),
        (
            "Neue Therapie gegen Clusterkopfschmerz",
            "Der Cluster-Kopfschmerz trifft …",
            False,
            "headache",
        ),
        ("Spitzencluster startet Transferprogramm", "Das Cluster lädt ein.", True, "programme"),
        (
            "Clustermanagement lädt zur Jahrestagung",
            "Mitglieder treffen sich.",
            True,
            "cluster-organisation",
        ),
    ],
)
def test_reasons_name_the_rule_that_decided(
    title: str, text: str, relevant: bool, reason: str
) -> None:
    result = score(title, text)
    assert result.relevant is relevant
    assert reason in {r.term for r in result.reasons}
    assert result.terms and all(t[0] in "+-" for t in result.terms)


def test_operator_terms_extend_the_rules() -> None:
    custom = DEFAULT_RULES.with_extra({r"\bverbundinitiative\b": 5}, {}, None)
    text = "Die Verbundinitiative Nord stellt neue Projekte vor."
    assert not score("Neuigkeiten", text).relevant
    assert score("Neuigkeiten", text, custom).relevant


def test_topics_programme_region_field() -> None:
    found = topics(
        "go-cluster: Wasserstoff-Netzwerk aus Dresden erhält GOLD-Label",
        "Das Clustermanagement in Sachsen arbeitet mit Partnern aus der Energiewirtschaft.",
        ["Netzwerke"],
    )
    for key in (
        "programme:go-cluster",
        "programme:ECEI Gold",
        "region:Sachsen",
        "field:Energie",
        "tag:Netzwerke",
    ):
        assert key in found


def _variants(text: str) -> list[str]:
    """The text, and copies spelled with the characters a case-insensitive match of an
    ASCII letter also accepts (İ ı for i, K for k, ſ for s) and in upper case."""
    odd = str.maketrans({"i": "\u0131", "k": "\u212a", "s": "\u017f"})
    dotted = str.maketrans({"i": "\u0130"})
    return [text, text.translate(odd), text.translate(dotted), text.upper()]


def test_the_literal_prefilter_changes_no_score_and_no_topic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every labelled item, every pattern's own literals (so each pattern matches somewhere)
    # and their odd-letter spellings: the prefiltered score and topics equal those of
    # running every pattern.
    from scraper import classify

    rules = DEFAULT_RULES.with_extra({r"\bsmart-?city": 2.0}, {r"Kühlcluster": 1.0}, None)
    patterns = [t.pattern for t in (*rules.positive, *rules.other_senses)]
    patterns += [t.pattern for t in classify.TOPICS]
    anchored = [p for p in patterns if classify._anchors(p.pattern, p.flags)]
    assert len(anchored) >= len(patterns) * 3 // 4  # the prefilter does filter
    # Each alternative's literals, all of which a match needs: together in one text, and
    # each alone (where the prefilter must skip, and the search must find nothing either).
    alternatives = [a for p in anchored for a in classify._anchors(p.pattern, p.flags) or ()]
    literals = [" ".join(a) for a in alternatives] + [x for a in alternatives for x in a]
    texts = [(item["title"], item["text"]) for item in ITEMS]
    texts += [("Meldung", f"Im Text steht {a} und mehr dazu {a}.") for a in literals]
    texts += [("Kühlcluster im Smart-City Labor", "Nichts weiter.")]
    cases = [
        (v, w)
        for title, text in texts
        for v, w in zip(_variants(title), _variants(text), strict=True)
    ]
    filtered = [(score(t, x, rules), topics(t, x, ["Tag"])) for t, x in cases]
    # … and on the labelled items most searches are skipped (the prefilter does filter).
    skipped = sum(
        not classify.possible(p, classify.folded(f"{item['title']}\n{item['text']}"))
        for item in ITEMS
        for p in patterns
    )
    assert skipped > len(ITEMS) * len(patterns) // 2
    monkeypatch.setattr(classify, "possible", lambda pattern, text: True)
    unfiltered = [(score(t, x, rules), topics(t, x, ["Tag"])) for t, x in cases]
    assert filtered == unfiltered


def _pieces() -> list[str]:
    """Words the patterns are made of (each alternative's literals) and some that are not,
    in several spellings: the material a prefilter must not misjudge."""
    from scraper import classify

    patterns = [t.pattern for t in (*DEFAULT_RULES.positive, *DEFAULT_RULES.other_senses)]
    patterns += [t.pattern for t in classify.TOPICS]
    found = {
        literal
        for p in patterns
        for alternative in classify._anchors(p.pattern, p.flags) or ()
        for literal in alternative
    }
    words = [*sorted(found), "Cluster", "-", " ", "Rechen", "GPU", "Förder", "ung", "\n", "İ"]
    return words + [w.upper() for w in sorted(found)][:40]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_pieces()), min_size=1, max_size=12))
def test_the_prefilter_never_skips_a_pattern_that_matches(pieces: list[str]) -> None:
    """Texts glued from the patterns' own literals and other words: wherever a pattern's
    search finds a match, ``possible`` said the pattern could match."""
    from scraper import classify

    text = "".join(pieces)
    fold = classify.folded(text)
    patterns = [t.pattern for t in (*DEFAULT_RULES.positive, *DEFAULT_RULES.other_senses)]
    patterns += [t.pattern for t in classify.TOPICS]
    for pattern in patterns:
        if pattern.search(text):
            assert classify.possible(pattern, fold), (pattern.pattern, text)
