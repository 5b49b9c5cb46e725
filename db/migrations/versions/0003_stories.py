"""stories: one announcement, every place it appeared; LSH bands, hreflang links, the store
lock, relevance scores; backfilled from duplicate_of

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import hashlib
import re
import struct

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copies of the banding and title normalisation of this revision (migrations must not
# import application code that may change later).
_BANDS, _ROWS = 64, 2
_WORD = re.compile(r"\w+", re.UNICODE)


def _bands(minhash: bytes) -> list[int]:
    values = struct.unpack(f"<{len(minhash) // 8}Q", minhash)
    out = []
    for band in range(_BANDS):
        rows = values[band * _ROWS : (band + 1) * _ROWS]
        digest = hashlib.blake2b(struct.pack(f"<{len(rows)}Q", *rows), digest_size=8).digest()
        out.append(int.from_bytes(digest, "little") >> 1)
    return out


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lead_article_id", sa.Integer(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("guid", sa.String(2048), nullable=True, unique=True),
        sa.Column("first_published_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("order_at", UTCDateTime(), nullable=False),
        sa.Column("relevance_score", sa.Float(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_stories_published", "stories", ["published"])
    op.create_index("ix_stories_order_at", "stories", ["order_at"])
    op.create_table(
        "lsh_bands",
        sa.Column("band", sa.Integer(), primary_key=True),
        sa.Column("hash", sa.BigInteger(), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id"), primary_key=True),
    )
    op.create_table(
        "alternate_links",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id"), primary_key=True),
    )
    op.create_table(
        "store_lock",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("counter", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO store_lock (name, counter) VALUES ('stories', 0)")
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("title_key", sa.String(255), nullable=True))
        batch.add_column(sa.Column("relevance_score", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("relevance_terms", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.create_foreign_key("fk_articles_story", "stories", ["story_id"], ["id"])
        batch.create_index("ix_articles_story_id", ["story_id"])
        batch.create_index("ix_articles_title_key", ["title_key"])
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, title, relevance, duplicate_of, first_seen_at, published_at, minhash,"
            " canonical_url, alternates FROM articles WHERE state = 'stored' ORDER BY id"
        ).columns(
            sa.column("id", sa.Integer()),
            sa.column("title", sa.Text()),
            sa.column("relevance", sa.String()),
            sa.column("duplicate_of", sa.Integer()),
            sa.column("first_seen_at", UTCDateTime()),
            sa.column("published_at", UTCDateTime()),
            sa.column("minhash", sa.LargeBinary()),
            sa.column("canonical_url", sa.String()),
            sa.column("alternates", sa.JSON()),
        )
    ).fetchall()
    story_of: dict[int, int] = {}
    for row in rows:
        key = " ".join(_WORD.findall((row.title or "").lower()))[:255]
        bind.execute(
            sa.text("UPDATE articles SET title_key = :k WHERE id = :i"), {"k": key, "i": row.id}
        )
        if row.minhash:
            for band, value in enumerate(_bands(row.minhash)):
                bind.execute(
                    sa.text("INSERT INTO lsh_bands (band, hash, article_id) VALUES (:b, :h, :a)"),
                    {"b": band, "h": value, "a": row.id},
                )
        if row.duplicate_of is not None and row.duplicate_of in story_of:
            story = story_of[row.duplicate_of]
        else:
            story = bind.execute(
                sa.text(
                    "INSERT INTO stories (lead_article_id, published, order_at, created_at, topics)"
                    " VALUES (:a, :p, :o, :c, '[]') RETURNING id"
                ).bindparams(
                    sa.bindparam("o", type_=UTCDateTime()), sa.bindparam("c", type_=UTCDateTime())
                ),
                {
                    "a": row.id,
                    "p": False,
                    "o": row.published_at or row.first_seen_at,
                    "c": row.first_seen_at,
                },
            ).scalar_one()
        story_of[row.id] = story
        for url in sorted(set(row.alternates or [])):
            bind.execute(
                sa.text("INSERT INTO alternate_links (url, article_id) VALUES (:u, :a)"),
                {"u": url, "a": row.id},
            )
        bind.execute(
            sa.text("UPDATE articles SET story_id = :s WHERE id = :i"), {"s": story, "i": row.id}
        )
        if row.relevance == "relevant":
            bind.execute(
                sa.text(
                    "UPDATE stories SET published = :t, guid = COALESCE(guid, :g),"
                    " first_published_at = COALESCE(first_published_at, :f) WHERE id = :s"
                ).bindparams(sa.bindparam("f", type_=UTCDateTime())),
                {"t": True, "g": row.canonical_url, "f": row.first_seen_at, "s": story},
            )


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_index("ix_articles_title_key")
        batch.drop_index("ix_articles_story_id")
        batch.drop_constraint("fk_articles_story", type_="foreignkey")
        batch.drop_column("relevance_terms")
        batch.drop_column("relevance_score")
        batch.drop_column("title_key")
        batch.drop_column("story_id")
    op.drop_table("store_lock")
    op.drop_table("alternate_links")
    op.drop_table("lsh_bands")
    op.drop_index("ix_stories_order_at", table_name="stories")
    op.drop_index("ix_stories_published", table_name="stories")
    op.drop_table("stories")
