"""initial schema: articles and crawl_runs

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("spider", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("finish_reason", sa.String(64), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("responses_by_status", sa.JSON(), nullable=False),
        sa.Column("items_new", sa.Integer(), nullable=False),
        sa.Column("items_duplicate", sa.Integer(), nullable=False),
        sa.Column("items_irrelevant", sa.Integer(), nullable=False),
        sa.Column("items_skipped", sa.Integer(), nullable=False),
        sa.Column("article_links", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("log_path", sa.String(1024), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("stats", sa.JSON(), nullable=False),
    )
    op.create_index("ix_crawl_runs_spider", "crawl_runs", ["spider"])
    op.create_index("ix_crawl_runs_started_at", "crawl_runs", ["started_at"])
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("canonical_url", sa.String(2048), nullable=False, unique=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("date_source", sa.String(16), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("relevance", sa.String(16), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("alternates", sa.JSON(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), sa.ForeignKey("articles.id"), nullable=True),
        sa.Column("minhash", sa.LargeBinary(), nullable=True),
        sa.Column("raw_html", sa.LargeBinary(), nullable=True),
        sa.Column("crawl_run_id", sa.Integer(), sa.ForeignKey("crawl_runs.id"), nullable=True),
    )
    op.create_index("ix_articles_source", "articles", ["source"])
    op.create_index("ix_articles_published_at", "articles", ["published_at"])
    op.create_index("ix_articles_first_seen_at", "articles", ["first_seen_at"])
    op.create_index("ix_articles_duplicate_of", "articles", ["duplicate_of"])
    op.create_index(
        "uq_articles_content_hash_original",
        "articles",
        ["content_hash"],
        unique=True,
        sqlite_where=sa.text("duplicate_of IS NULL"),
        postgresql_where=sa.text("duplicate_of IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("articles")
    op.drop_table("crawl_runs")
