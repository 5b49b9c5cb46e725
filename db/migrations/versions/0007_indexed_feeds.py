"""indexed feeds, status and lookups at a million rows: an index on the content hash (the
story candidates' first lookup scanned every article), a per-source feed order key on each
article (its story's order while the story is published, else NULL) with an index, an
index for the status page's per-source figures, one for a source's newest runs, and one on
an article's LSH bands (replaced on re-extraction: a scan of every band before); on
PostgreSQL the lead's plain text beside the tsvector with a pg_trgm index, so a search finds
a word inside a compound as SQLite's trigram FTS does

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

PUBLISHED_ARTICLE = "relevance = 'relevant' AND state = 'stored'"
IN_A_FEED = "feed_order IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("feed_order", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE articles SET feed_order = (SELECT s.order_at FROM stories s "
        "WHERE s.id = articles.story_id AND s.published) "
        "WHERE state = 'stored' AND story_id IS NOT NULL"
    )
    op.create_index("ix_articles_content_hash", "articles", ["content_hash"])
    op.create_index(
        "ix_articles_source_feed",
        "articles",
        ["source", "feed_order", "story_id"],
        sqlite_where=sa.text(IN_A_FEED),
        postgresql_where=sa.text(IN_A_FEED),
    )
    op.create_index(
        "ix_articles_source_published_seen",
        "articles",
        ["source", "first_seen_at"],
        sqlite_where=sa.text(PUBLISHED_ARTICLE),
        postgresql_where=sa.text(PUBLISHED_ARTICLE),
    )
    op.create_index("ix_crawl_runs_spider_id", "crawl_runs", ["spider", "id"])
    op.create_index("ix_lsh_bands_article_id", "lsh_bands", ["article_id"])
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.add_column("stories", sa.Column("search_text", sa.Text(), nullable=True))
        op.execute(
            "UPDATE stories SET search_text = coalesce(a.title, '') || ' ' || "
            "coalesce(a.text, '') FROM articles a WHERE a.id = stories.lead_article_id"
        )
        op.create_index(
            "ix_stories_search_text",
            "stories",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_stories_search_text", table_name="stories")
        op.drop_column("stories", "search_text")
    op.drop_index("ix_lsh_bands_article_id", table_name="lsh_bands")
    op.drop_index("ix_crawl_runs_spider_id", table_name="crawl_runs")
    op.drop_index("ix_articles_source_published_seen", table_name="articles")
    op.drop_index("ix_articles_source_feed", table_name="articles")
    op.drop_index("ix_articles_content_hash", table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("feed_order")
