"""Is an announcement cluster news? Relevance as a score with reasons, and topics.

Pure functions of title and text. The rule set is data (``Term`` objects with stable ids)
so an operator can read why an item was or was not published (``clusterwatch explain``)
and extend the rules in the TOML (``[relevance]``).

**Score.** Every distinct *positive* term found adds its weight (a match in the title counts
``TITLE_FACTOR`` times): cluster-organisation words (Clustermanagement, Spitzencluster,
go-cluster, Innovationscluster, Kompetenznetz …) weigh most; a named cluster ("Leichtbau-
Cluster", "Cluster Oberflächentechnik e.V.") a little less; a plain "Cluster" 1 each, at
most ``PLAIN_CAP``. Every distinct *other sense* of "Cluster" found (server/GPU/Kubernetes
clusters, Clusterkopfschmerz, Streumunition, Clusteranalyse, star clusters, infection
clusters, atom clusters …) subtracts its weight, and then plain mentions count nothing —
they most likely mean the same thing. Matches inside an other-sense match never count as
positive. An item is relevant when its score reaches ``threshold`` (default 3).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

try:  # the regular-expression parser (CPython 3.11+), for the literal prefilter below
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
    from re import _parser as _sre_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another Python: every pattern simply runs
    _sre_parser = _sre_constants = None

TITLE_FACTOR = 2.0
PLAIN_CAP = 3
TAIL_SHARE = 0.2  # the closing share of a text where press releases put the issuer's profile
DEFAULT_THRESHOLD = 3.0


@dataclass(frozen=True)
class Term:
    id: str
    pattern: re.Pattern[str]
    weight: float


def _term(id: str, pattern: str, weight: float, case: bool = False) -> Term:
    return Term(id, re.compile(pattern, 0 if case else re.IGNORECASE), weight)


_W = r"[\w-]*"  # the rest of a compound word
POSITIVE: tuple[Term, ...] = (
    _term(
        "cluster-organisation",
        r"\bcluster-?(?:management|manager\w*|initiativ\w*|organisation\w*|politi\w*|"
        r"förder\w*|plattform\w*|woche\w*|konferenz\w*|treffen|strategie\w*|akteur\w*|"
        r"mitglied\w*|partner\w*|exzellenz|sprecher\w*|netzwerk\w*|geschäftsstelle|"
        r"agentur\w*|landschaft|programm\w*|wettbewerb\w*|verbund\w*)",
        4,
    ),
    # "Mitglied im Wasserstoffcluster" in a product release is a mention, not the news.
    _term(
        "membership-mention",
        r"\bmitglied (?:im|des|der|in)\s+(?:[\w.-]+\s+){0,3}?[\w.-]*cluster[\w.-]*"
        r"(?:\s+[A-ZÄÖÜ][\w-]+)*|\bmember of (?:the\s+)?(?:[\w.-]+\s+){0,3}?[\w.-]*cluster"
        r"[\w.-]*(?:\s+[A-Z][\w-]+)*",
        1,
    ),
    _term(
        "programme",
        r"\b(?:spitzencluster|zukunftscluster|clusters4future|go-cluster|"
        r"innovationscluster\w*|landescluster\w*|kompetenzcluster\w*|exzellenzcluster\w*)\b",
        4,
    ),
    # Economists' words for a concentration of an industry, as often as for an organisation.
    _term("economic-cluster", r"\b(?:branchen|regional|technologie|industrie)cluster\w*", 2),
    _term(
        "cluster-label",
        r"\b(?:ECEI|european cluster excellence|cluster excellence|ECCP|european cluster "
        r"collaboration platform|european cluster\w*|cluster management excellence)\b|"
        r"\b(?:gold|silber|silver|bronze)[- ]?label\b",
        4,
    ),
    _term(
        "network",
        r"\b(?:kompetenznetz\w*|innovationsnetzwerk\w*|bioregio\w*|"
        r"kompetenznetze deutschland)\b",
        3,
    ),
    _term("english-cluster", r"\bcluster (?:management|organi[sz]ation|initiative|members?)\b", 4),
    # A named cluster: "Leichtbau-Cluster", "BioTech-Cluster", "AutoCluster.NRW",
    # "Automotive Cluster Westsachsen", "Cluster Oberflächentechnik e.V.", "… Cluster e.V.".
    _term(
        "named-cluster",
        r"\b(?!(?:der|die|das|dem|den|des|ein\w*|im|am|vom|zum|beim)\b)[A-ZÄÖÜ][\w-]+ "
        r"Cluster (?:[A-ZÄÖÜ][\w-]+|\([A-Z]{2,}\))",
        3,
        case=True,
    ),
    _term(
        "named-cluster",
        r"\b[A-ZÄÖÜ][\w.]*-?[Cc]luster\b(?:\.\w+)?|\bcluster\s+[\wäöü-]+\s+e\.\s?v\.|\bcluster\s+e\.\s?v\.",
        3,
    ),
    _term("cluster-compound", r"\bcluster(?!analyse|kopf|bomb|munition|wohn)\w{3,}", 2),
    # What a cluster organisation is, in words that need no "Cluster": a network
    # organisation with a management office, members from business and research.
    _term("network-organisation", r"\bnetzwerk(?:organisation|management|manager\w*|büro)\b", 3),
    _term(
        "triple-helix",
        r"\b(?:vernetzt|verbindet|bündelt|zusammengeschlossen)\b[^.]{0,120}?"
        r"\b(?:unternehmen|wirtschaft|industrie)\w*[^.]{0,80}?"
        r"\b(?:hochschul|forschung|wissenschaft|universit)\w*",
        2,
    ),
    _term(
        "members-business-research",
        r"\b\d+\s+mitglied(?:er|ern|sunternehmen)\b[^.]{0,40}?\baus\b[^.]{0,80}?"
        r"\b(?:forschung|wissenschaft|hochschul|kliniken|universit)\w*",
        2,
    ),
    _term("member-companies", r"\bmitgliedsunternehmen\b|\b\d+\s+mitglied(?:er|ern)\b", 1),
    _term("management-office", r"\bgeschäftsstelle\b", 1),
    _term("sector-initiative", r"\b[A-ZÄÖÜ][\wäöü]+-initiative\b", 1.5),
)
PLAIN = re.compile(r"\bclustern?\b|\bclusters\b", re.IGNORECASE)

# Other senses of "Cluster" ("negative contexts").
OTHER_SENSES: tuple[Term, ...] = (
    _term(
        "computing",
        r"\b(?:server|rechen|hochleistungs-?rechen|compute|hpc|gpu|ki-rechen|kubernetes|k8s|"
        r"datenbank|database|storage|speicher|hadoop|spark|computer|supercomputer|container|"
        r"failover|hochverfügbarkeits|einstiegs)-?cluster\w*|\bcluster-?knoten\w*|"
        r"\bkubernetes\b|\brechenzentr\w*|\bpetaflops?\b|\bgpus?\b",
        4,
    ),
    _term("headache", r"\bcluster-?kopfschmerz\w*|\bcluster headache\w*", 6),
    _term("munition", r"\bstreumunition\w*|\b(?:cluster|streu)-?bombe\w*|\bcluster munition\w*", 6),
    _term(
        "statistics",
        r"\bcluster-?analyse\w*|\bclusterverfahren\b|\bk-means\b|\bclustering\b|"
        r"\bcluster analysis\b|\bhierarchisch\w* cluster\w*",
        5,
    ),
    _term(
        "astronomy",
        r"\b(?:stern|galaxien|galaxy|kugelstern|galaxie)(?:haufen|-?cluster)\w*|"
        r"\b(?:star|globular|galaxy|open|stellar) clusters?\b",
        6,
    ),
    _term("housing", r"\bcluster-?wohn\w*", 6),
    _term("instrument-cluster", r"\binstrument(?:en)?-?cluster\w*|\bkombiinstrument\w*", 6),
    _term("product-name", r"[„\"»‚'“]\s?cluster\s?[“\"«‘'”]", 4),
    _term("chemistry", r"\b(?:atom|metall|nano|molekül|wasser|gold)-?cluster\w*", 5),
    _term(
        "epidemiology",
        r"\b(?:infektions|corona|covid|ausbruchs|krankheits)-?cluster\w*|\binfection cluster\w*",
        6,
    ),
    _term("genetics", r"\bgen-?cluster\w*|\bgenexpressions?-?cluster\w*", 5),
)


@dataclass(frozen=True)
class Reason:
    term: str
    matched: str
    weight: float


@dataclass
class Relevance:
    score: float
    relevant: bool
    reasons: list[Reason] = field(default_factory=list)

    @property
    def terms(self) -> list[str]:
        """The matched terms, for storing beside the score ("+programme:Spitzencluster")."""
        return [f"{'+' if r.weight > 0 else '-'}{r.term}:{r.matched}" for r in self.reasons]


@dataclass(frozen=True)
class RuleSet:
    positive: tuple[Term, ...] = POSITIVE
    other_senses: tuple[Term, ...] = OTHER_SENSES
    threshold: float = DEFAULT_THRESHOLD

    def with_extra(
        self, positive: dict[str, float], negative: dict[str, float], threshold: float | None
    ) -> RuleSet:
        """Operator additions from the TOML: phrase → weight (regexes, case-insensitive)."""
        return RuleSet(
            self.positive + tuple(_term(f"custom:{p}", p, w) for p, w in positive.items()),
            self.other_senses + tuple(_term(f"custom:{p}", p, w) for p, w in negative.items()),
            self.threshold if threshold is None else threshold,
        )


DEFAULT_RULES = RuleSet()


def score(title: str, text: str, rules: RuleSet = DEFAULT_RULES) -> Relevance:
    reasons: list[Reason] = []
    total = 0.0
    blocked: list[tuple[int, int]] = []  # spans of other senses, in the joined document
    document = f"{title}\n{text}"
    fold = folded(document)
    title_end = len(title)
    for term in rules.other_senses:
        if not possible(term.pattern, fold):
            continue
        matches = list(term.pattern.finditer(document))
        if matches:
            blocked.extend(m.span() for m in matches)
            reasons.append(Reason(term.id, matches[0].group(0), -term.weight))
            total -= term.weight
    claimed: list[tuple[int, int]] = list(blocked)
    # Which characters a match already claimed: an overlap test per match in O(its length)
    # instead of against every span so far (quadratic on a 100 kB text of repeated terms).
    covered = _Coverage(len(document), blocked)
    for term in rules.positive:
        if not possible(term.pattern, fold):
            continue
        found = [m for m in term.pattern.finditer(document) if not covered.overlaps(m.span())]
        if not found:
            continue
        claimed.extend(m.span() for m in found)
        covered.add(m.span() for m in found)
        in_title = any(m.start() < title_end for m in found)
        weight = term.weight * (TITLE_FACTOR if in_title else 1.0)
        reasons.append(Reason(term.id, found[0].group(0), weight))
        total += weight
    plain = [m for m in PLAIN.finditer(document) if not covered.overlaps(m.span())]
    if plain and not blocked:
        weight = float(min(len(plain), PLAIN_CAP))
        reasons.append(Reason("plain-cluster", plain[0].group(0), weight))
        total += weight
    # Mentioned only in the closing lines (the issuer's profile: "engagiert sich im
    # Kunststoff-Cluster") the cluster is not what the release is about: half weight.
    other_senses = set(blocked)
    positive = [span for span in claimed if span not in other_senses]
    positive += [m.span() for m in plain] if not blocked else []
    tail = len(document) - max(1, int(TAIL_SHARE * len(text)))
    if positive and total > 0 and all(start >= tail for start, _ in positive):
        reasons.append(Reason("only-in-closing-lines", "", -total / 2))
        total /= 2
    return Relevance(round(total, 2), total >= rules.threshold, reasons)


class _Coverage:
    """The characters of a document some match claimed."""

    def __init__(self, size: int, spans: Iterable[tuple[int, int]] = ()):
        self._marks = bytearray(size)
        self.add(spans)

    def add(self, spans: Iterable[tuple[int, int]]) -> None:
        for start, end in spans:
            self._marks[start:end] = b"\x01" * (end - start)

    def overlaps(self, span: tuple[int, int]) -> bool:
        start, end = span
        return self._marks.find(1, start, end) != -1


# -- a literal prefilter: patterns that cannot match are not run -----------------------
#
# Most terms and topics are absent from most texts, and a case-insensitive search over a
# 5 kB text costs ~0.15 ms a pattern (no literal fast path). A match always contains the
# literal runs its pattern requires; ``possible`` looks for them with ``in`` in the text
# folded once per text — the same answer as the search whenever the search finds nothing.
# Folding: lower case, plus the four characters other than a letter's own cases that a
# case-insensitive match of an ASCII letter accepts (found by testing every code point:
# İ ı → i, K (Kelvin) → k, ſ → s; İ also is the one character whose lower() is longer).
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u212a": "k", "\u017f": "s"})
_SAFE = frozenset(string.ascii_lowercase + string.digits + " -_./&+'")


@lru_cache(maxsize=4)
def folded(text: str) -> str:
    # Kept for the last few texts: score and topics fold the same document of a page.
    return text.translate(_FOLD).lower()


@lru_cache(maxsize=4096)
def _anchors(pattern: str, flags: int) -> tuple[tuple[str, ...], ...] | None:
    """Alternatives of literals, one of which every match contains all of (None: none
    known): ``Rechen-?Cluster|GPU-Cluster`` → (("rechen", "cluster"), ("gpu-cluster",)) —
    all of an alternative's literals, not the longest one alone, or a text about clusters
    would run every other-senses pattern of ``cluster``."""
    if _sre_parser is None:
        return None
    try:
        return _needed(list(_sre_parser.parse(pattern, flags)))
    except Exception:
        return None


def _needed(items: list[tuple[Any, Any]]) -> tuple[tuple[str, ...], ...] | None:
    """For a sequence (every item required): each run of plain literal characters, and of
    its required alternations or groups the one whose weakest alternative is strongest,
    each of its alternatives with the runs."""
    runs: list[str] = []
    groups: list[tuple[tuple[str, ...], ...]] = []
    run = ""
    for op, value in items:
        char = chr(value).lower() if op is _sre_constants.LITERAL else ""
        if char and char in _SAFE:
            run += char
            continue
        runs.append(run)
        run = ""
        found: tuple[tuple[str, ...], ...] | None = None
        if op is _sre_constants.BRANCH:
            branches = [_needed(list(branch)) for branch in value[1]]
            if all(b is not None for b in branches):
                found = tuple(alt for b in branches if b is not None for alt in b)
        elif op is _sre_constants.SUBPATTERN:
            found = _needed(list(value[-1]))
        if found:
            groups.append(found)
    runs.append(run)
    required = tuple(r for r in runs if len(r) >= 2)
    if groups:
        best = max(groups, key=lambda g: min(sum(map(len, alt)) for alt in g))
        if min(sum(map(len, alt)) for alt in best) >= 2:
            return tuple(required + alt for alt in best)
    return (required,) if required else None


def possible(pattern: re.Pattern[str], folded_text: str) -> bool:
    """False only if ``pattern`` cannot match the text ``folded_text`` was folded from."""
    anchors = _anchors(pattern.pattern, pattern.flags)
    return anchors is None or any(
        all(literal in folded_text for literal in alternative) for alternative in anchors
    )


# -- topics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    kind: str  # programme | region | field
    name: str
    pattern: re.Pattern[str]

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


def _topic(kind: str, name: str, pattern: str) -> Topic:
    return Topic(kind, name, re.compile(pattern, re.IGNORECASE))


PROGRAMMES: tuple[Topic, ...] = (
    _topic("programme", "go-cluster", r"\bgo-cluster\b"),
    _topic("programme", "Spitzencluster", r"\bspitzencluster\w*"),
    _topic("programme", "Zukunftscluster", r"\bzukunftscluster\w*|\bclusters4future\b"),
    _topic("programme", "ZIM", r"\bZIM\b|zentrales innovationsprogramm mittelstand"),
    _topic("programme", "ECEI Gold", r"\bgold[- ]?label\w*|\bECEI[- ]gold\b"),
    _topic("programme", "ECEI Silber", r"\b(?:silber|silver)[- ]?label\w*"),
    _topic("programme", "ECEI Bronze", r"\bbronze[- ]?label\w*"),
    _topic("programme", "Kompetenznetze", r"\bkompetenznetz\w*"),
    _topic("programme", "Exzellenzcluster", r"\bexzellenzcluster\w*"),
    _topic("programme", "ECCP", r"\bECCP\b|european cluster collaboration platform"),
)
# Gazetteer: Länder, their usual abbreviations, capitals and big cities, cluster regions.
_LAENDER = {
    "Baden-Württemberg": r"baden-württemberg\w*|\bBW\b|stuttgart|karlsruhe|freiburg|mannheim|"
    r"heidelberg|ulm|oberrhein|schwarzwald|bodensee",
    "Bayern": r"\bbayern\b|bayerisch\w*|münchen|nürnberg|augsburg|regensburg|würzburg|"
    r"erlangen|ingolstadt",
    "Berlin": r"\bberlin\w*",
    "Brandenburg": r"\bbrandenburg\w*|potsdam|cottbus|lausitz",
    "Bremen": r"\bbremen\b|bremerhaven",
    "Hamburg": r"\bhamburg\w*",
    "Hessen": r"\bhessen\b|hessisch\w*|frankfurt|wiesbaden|darmstadt|kassel|rhein-main|"
    r"nordhessen",
    "Mecklenburg-Vorpommern": r"mecklenburg-vorpommern|rostock|schwerin|greifswald",
    "Niedersachsen": r"niedersachsen|niedersächsisch\w*|hannover|braunschweig|osnabrück|"
    r"oldenburg|göttingen|wolfsburg",
    "Nordrhein-Westfalen": r"nordrhein-westfal\w*|\bNRW\b|düsseldorf|köln|dortmund|essen|"
    r"duisburg|bochum|münster|bielefeld|aachen|paderborn|\bOWL\b|ostwestfalen|ruhrgebiet|"
    r"\bruhr\b|rheinisches revier",
    "Rheinland-Pfalz": r"rheinland-pfalz|mainz|kaiserslautern|koblenz|ludwigshafen|trier",
    "Saarland": r"\bsaarland\w*|saarbrücken",
    "Sachsen": r"\bsachsen\b|sächsisch\w*|dresden|leipzig|chemnitz|biosaxony|silicon saxony",
    "Sachsen-Anhalt": r"sachsen-anhalt|magdeburg|halle \(saale\)|\bhalle\b|elbe-saale",
    "Schleswig-Holstein": r"schleswig-holstein|kiel\b|lübeck|flensburg",
    "Thüringen": r"thüringen|thüringisch\w*|erfurt|jena|weimar|ilmenau",
}
REGIONS: tuple[Topic, ...] = tuple(_topic("region", n, p) for n, p in _LAENDER.items())
FIELDS: tuple[Topic, ...] = (
    _topic(
        "field",
        "Biotechnologie",
        r"\bbio(?:tech\w*|ökonomie|ökonomisch\w*|pharma\w*)|"
        r"\bbiobasiert\w*|\bindustrielle biotechnologie|\bbioregio",
    ),
    _topic("field", "Chemie", r"\bchemie\w*|\bchemisch\w*|\bkunststoff\w*"),
    _topic("field", "Automotive", r"\bautomo\w*|\bfahrzeug\w*|\bmobilität\w*|\belektromobil\w*"),
    _topic(
        "field",
        "IKT",
        r"\bIKT\b|\bIT-\w*|\bsoftware\w*|\bdigitalisierung\w*|\bkünstliche "
        r"intelligenz|\bKI\b|\bcyber\w*|\bmikroelektronik\w*|\bhalbleiter\w*",
    ),
    _topic(
        "field",
        "Energie",
        r"\benergie\w*|\bwasserstoff\w*|\bbatterie\w*|\bphotovoltaik\w*|"
        r"\bwindenergie\w*|\bsolar\w*",
    ),
    _topic("field", "Gesundheit", r"\bgesundheit\w*|\bmedizin\w*|\bmedizintechnik\w*|\bklinik\w*"),
    _topic("field", "Logistik", r"\blogistik\w*"),
    _topic("field", "Luft- und Raumfahrt", r"\bluftfahrt\w*|\braumfahrt\w*|\baerospace\b"),
    _topic(
        "field",
        "Werkstoffe",
        r"\bleichtbau\w*|\bwerkstoff\w*|\bfaserverbund\w*|"
        r"\boberflächentechnik\w*|\bmaterial\w*",
    ),
    _topic("field", "Photonik", r"\bphotonik\w*|\boptik\w*|\blaser\w*|\bquanten\w*"),
    _topic("field", "Mikrosysteme", r"\bmikrosystem\w*|\bsensorik\w*|\bnanotechnolog\w*"),
    _topic("field", "Produktion", r"\bmaschinenbau\w*|\bproduktion\w*|\bindustrie 4\.0"),
    _topic("field", "Ernährung", r"\bernährung\w*|\blebensmittel\w*|\bagrar\w*"),
    _topic("field", "Maritime Wirtschaft", r"\bmaritim\w*|\bschiffbau\w*|\bhafen\w*|offshore"),
)
TOPICS: tuple[Topic, ...] = PROGRAMMES + REGIONS + FIELDS


def topic_key(kind: str, term: str) -> str | None:
    """The stored topic key a feed definition means: for ``topic`` a key ("field:Energie",
    any "tag:…" a source declares) or a bare topic name ("Energie"); for ``programme`` and
    ``region`` a bare name ("go-cluster", "Sachsen"). None when no such topic exists."""
    keys = {t.key for t in TOPICS}
    if kind == "topic":
        if term in keys or (term.startswith("tag:") and len(term) > 4):
            return term
        named = [t.key for t in TOPICS if t.name == term]
        return named[0] if len(named) == 1 else None
    key = f"{kind}:{term}"
    return key if key in keys else None


def topic_names(kind: str) -> list[str]:
    """What a feed definition may name for ``kind`` (for "did you mean" and error hints)."""
    if kind == "topic":
        return [t.key for t in TOPICS] + [t.name for t in TOPICS]
    return [t.name for t in TOPICS if t.kind == kind]


def topics(title: str, text: str, extra: Sequence[str] = ()) -> list[str]:
    """Topic keys ("programme:go-cluster", "region:Sachsen", "field:Energie") found in the
    text, plus ``extra`` topics a source declared on the page (its own tags)."""
    document = f"{title}\n{text}"
    fold = folded(document)
    found = [t.key for t in TOPICS if possible(t.pattern, fold) and t.pattern.search(document)]
    for tag in extra:
        key = f"tag:{tag}"
        if key not in found:
            found.append(key)
    return found


def rules_from_config(
    threshold: float, terms: dict[str, float], other_senses: dict[str, float]
) -> RuleSet:
    return DEFAULT_RULES.with_extra(terms, other_senses, threshold)


def rules_from_settings(settings: Any) -> RuleSet:
    """The default rule set plus the operator's ``[relevance]`` additions (Scrapy settings)."""
    positive = dict(settings.getdict("CLUSTERWATCH_RELEVANCE_TERMS") or {})
    negative = dict(settings.getdict("CLUSTERWATCH_RELEVANCE_OTHER_SENSES") or {})
    threshold = settings.get("CLUSTERWATCH_RELEVANCE_THRESHOLD")
    return DEFAULT_RULES.with_extra(
        {str(k): float(v) for k, v in positive.items()},
        {str(k): float(v) for k, v in negative.items()},
        float(threshold) if threshold is not None else None,
    )
