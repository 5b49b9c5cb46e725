"""``clusterwatch explain URL`` and ``clusterwatch reclassify``: why an item was or was not
published, and re-running relevance and topics over the store after a rule change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from db.repository import Classification, FeedStory, Repository
from scraper import classify
from scraper.registry import spider_classes
from scraper.stories import SOURCE_ORDER


def canonical_of(url: str) -> tuple[str, str] | None:
    """(source, canonical URL) for a URL some source claims as an article."""
    for name, spider_class in spider_classes().items():
        spider = spider_class()
        if spider.is_article_url(url):
            return name, spider.canonical(url)
    return None


def relevance_mode(source: str) -> str:
    spider = spider_classes().get(source)
    return spider.relevance if spider is not None else "keywords"


@dataclass
class Explanation:
    url: str
    source: str
    state: str
    relevance: str
    stored_score: float | None
    now: classify.Relevance
    mode: str
    story: FeedStory | None
    topics: list[str]
    fail_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        story = self.story
        return {
            "url": self.url,
            "source": self.source,
            "state": self.state,
            "relevance": self.relevance,
            "relevance_mode": self.mode,
            "stored_score": self.stored_score,
            "score_now": self.now.score,
            "relevant_now": self.now.relevant if self.mode == "keywords" else True,
            "reasons": [
                {"term": r.term, "matched": r.matched, "weight": r.weight} for r in self.now.reasons
            ],
            "topics": self.topics,
            "fail_reason": self.fail_reason,
            "story": None
            if story is None
            else {
                "published": story.story.published,
                "guid": story.story.guid,
                "lead": story.lead.canonical_url,
                "also": [a.canonical_url for a in story.others],
            },
        }


def explain(repository: Repository, url: str, rules: classify.RuleSet) -> Explanation | None:
    found = canonical_of(url)
    candidates = [found[1]] if found else []
    candidates.append(url)
    for canonical in candidates:
        article = repository.article(canonical)
        if article is None:
            continue
        return Explanation(
            url=article.canonical_url,
            source=article.source,
            state=article.state,
            relevance=article.relevance,
            stored_score=article.relevance_score,
            now=classify.score(article.title, article.text, rules),
            mode=relevance_mode(article.source),
            story=repository.story_of(article.canonical_url),
            topics=list(article.topics or []),
            fail_reason=article.fail_reason,
        )
    return None


@dataclass
class ReclassifyReport:
    examined: int = 0
    to_relevant: int = 0
    to_irrelevant: int = 0
    topics_changed: int = 0
    stories_published: int = 0
    stories_withdrawn: int = 0


def reclassify(
    repository: Repository,
    rules: classify.RuleSet,
    source: str | None,
    dry_run: bool,
    source_order: list[str] = SOURCE_ORDER,
) -> ReclassifyReport:
    report = ReclassifyReport()
    changes = []
    for row in repository.classification_rows(source):
        report.examined += 1
        result = classify.score(row.title, row.text, rules)
        relevant = True if relevance_mode(row.source) == "all" else result.relevant
        relevance = "relevant" if relevant else "irrelevant"
        tags = [t.removeprefix("tag:") for t in row.topics if t.startswith("tag:")]
        topics = classify.topics(row.title, row.text, tags)
        if relevance == row.relevance and topics == row.topics and result.score == row.score:
            continue
        report.to_relevant += int(relevance != row.relevance and relevant)
        report.to_irrelevant += int(relevance != row.relevance and not relevant)
        report.topics_changed += int(topics != row.topics)
        changes.append(
            Classification(row.article_id, relevance, result.score, result.terms, topics)
        )
    if changes and not dry_run:
        report.stories_published, report.stories_withdrawn = repository.apply_classification(
            changes, source_order
        )
    return report
