"""provenance per field, failure memory, raw page inputs, template-line statistics

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ORIGINAL_STORED = "duplicate_of IS NULL AND state = 'stored'"


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("title_source", sa.String(16), nullable=True))
        batch.add_column(sa.Column("body_source", sa.String(16), nullable=True))
        batch.add_column(sa.Column("language_source", sa.String(16), nullable=True))
        batch.add_column(sa.Column("raw_encoding", sa.String(32), nullable=True))
        batch.add_column(
            sa.Column("raw_headers", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch.add_column(sa.Column("feed_date", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("rules_version", sa.String(16), nullable=True))
        batch.add_column(sa.Column("state", sa.String(16), nullable=False, server_default="stored"))
        batch.add_column(sa.Column("fail_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("retry_at", UTCDateTime(), nullable=True))
    # Rows stored before provenance existed came from the declared rules.
    op.execute(
        "UPDATE articles SET title_source = 'declared', body_source = 'declared' "
        "WHERE title_source IS NULL"
    )
    op.execute("UPDATE articles SET date_source = 'declared' WHERE date_source = 'page'")
    op.drop_index("uq_articles_content_hash_original", table_name="articles")
    op.create_index(
        "uq_articles_content_hash_original",
        "articles",
        ["content_hash"],
        unique=True,
        sqlite_where=sa.text(ORIGINAL_STORED),
        postgresql_where=sa.text(ORIGINAL_STORED),
    )
    op.create_index("ix_articles_retry_at", "articles", ["retry_at"])
    op.create_index("ix_articles_source_state", "articles", ["source", "state"])
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(
            sa.Column("items_failed", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "furniture_lines",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("line_hash", sa.String(16), primary_key=True),
        sa.Column("pages", sa.Integer(), nullable=False),
    )
    op.create_table(
        "furniture_pages",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("pages", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("furniture_pages")
    op.drop_table("furniture_lines")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("items_failed")
    op.drop_index("ix_articles_source_state", table_name="articles")
    op.drop_index("ix_articles_retry_at", table_name="articles")
    op.drop_index("uq_articles_content_hash_original", table_name="articles")
    op.execute("DELETE FROM articles WHERE state <> 'stored'")
    op.create_index(
        "uq_articles_content_hash_original",
        "articles",
        ["content_hash"],
        unique=True,
        sqlite_where=sa.text("duplicate_of IS NULL"),
        postgresql_where=sa.text("duplicate_of IS NULL"),
    )
    with op.batch_alter_table("articles") as batch:
        for column in (
            "retry_at",
            "attempts",
            "fail_reason",
            "state",
            "rules_version",
            "feed_date",
            "raw_headers",
            "raw_encoding",
            "language_source",
            "body_source",
            "title_source",
        ):
            batch.drop_column(column)
