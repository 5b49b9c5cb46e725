"""story search and archive order: a full-text index over each story's lead (title, text) —
SQLite FTS5 with the trigram tokenizer (case-insensitive, umlauts, words inside German
compounds), PostgreSQL a tsvector with the 'german' configuration (stemming) and a GIN index

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The archive and the feeds read published stories newest first: one index serves both
    # the filter and the order (no sort of every published story for one page).
    op.create_index("ix_stories_published_order", "stories", ["published", "order_at", "id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE story_search USING fts5(title, body, tokenize='trigram')")
        op.execute(
            "INSERT INTO story_search(rowid, title, body) SELECT s.id, a.title, a.text "
            "FROM stories s JOIN articles a ON a.id = s.lead_article_id"
        )
        return
    op.add_column("stories", sa.Column("search_vector", postgresql.TSVECTOR()))
    op.execute(
        "UPDATE stories SET search_vector = "
        "setweight(to_tsvector('german', coalesce(a.title, '')), 'A') || "
        "setweight(to_tsvector('german', coalesce(a.text, '')), 'B') "
        "FROM articles a WHERE a.id = stories.lead_article_id"
    )
    op.create_index("ix_stories_search", "stories", ["search_vector"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_stories_published_order", table_name="stories")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE story_search")
        return
    op.drop_index("ix_stories_search", table_name="stories")
    op.drop_column("stories", "search_vector")
