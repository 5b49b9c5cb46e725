"""archive search that stops early on SQLite: each story's FTS5 row is keyed by its archive
order — the second of ``order_at`` in the high bits, the story id in the low 31 — so the
full-text table read in rowid order DESC yields matches newest first and a page or a capped
count stops after the rows it needs (before: every row holding the words was matched,
joined and sorted). ``stories.search_key`` remembers the key, so a re-dated or re-led
story's old entry is found and replaced. On PostgreSQL a GIN index (jsonb_path_ops) over
a story's topics, so a topic filter reads the stories holding the topic instead of every
story until the page and the count are full.

Revision ID: 0010
Revises: 0013
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0013"
branch_labels = None
depends_on = None

# The key as db/repository.py computes it (SEARCH_KEY there): kept in step by hand, as a
# migration must not change when the code does.
SEARCH_KEY = "CAST(strftime('%s', stories.order_at) AS INTEGER) * 2147483648 + stories.id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute(
            "CREATE INDEX ix_stories_topics ON stories "
            "USING gin ((CAST(topics AS jsonb)) jsonb_path_ops)"
        )
        return
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("search_key", sa.BigInteger(), nullable=True))
    # A new table rather than DELETE + INSERT: FTS5 keeps deleted rows as tombstones in
    # its segments until they are merged, and every later query would read through them.
    op.execute("DROP TABLE story_search")
    op.execute("CREATE VIRTUAL TABLE story_search USING fts5(title, body, tokenize='trigram')")
    op.execute(f"UPDATE stories SET search_key = {SEARCH_KEY} WHERE lead_article_id IS NOT NULL")
    op.execute(
        "INSERT INTO story_search(rowid, title, body) SELECT s.search_key, a.title, a.text "
        "FROM stories s JOIN articles a ON a.id = s.lead_article_id ORDER BY s.search_key"
    )  # in key order: FTS5 flushes its pending index whenever a rowid is not above the last


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP INDEX ix_stories_topics")
        return
    op.execute("DROP TABLE story_search")
    op.execute("CREATE VIRTUAL TABLE story_search USING fts5(title, body, tokenize='trigram')")
    op.execute(
        "INSERT INTO story_search(rowid, title, body) SELECT s.id, a.title, a.text "
        "FROM stories s JOIN articles a ON a.id = s.lead_article_id"
    )
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("search_key")
