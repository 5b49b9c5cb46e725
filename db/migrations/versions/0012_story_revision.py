"""stories.revision: a store-wide change counter. Every change to what a feed shows of a
story (lead, members, order, topics, score, publication, entry update) gives the story the
next revision, under the story lock, so revisions follow commit order; ``first_revision``
is the one it was created at and ``earliest_order_at`` the earliest place it ever had. A
feed's RFC 5005 archive remembers the revision it was built at and looks only at what
changed since: at 1 M stories it had read every story key of every feed on every build.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: no table rewrite on either backend (existing stories: revision 0).
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("first_revision", sa.BigInteger(), nullable=False, server_default="0")
        )
        # NULL until the story next changes: its order then is the earliest known.
        batch.add_column(sa.Column("earliest_order_at", UTCDateTime(), nullable=True))
    op.create_index("ix_stories_revision", "stories", ["revision"])


def downgrade() -> None:
    op.drop_index("ix_stories_revision", table_name="stories")
    # Not a batch: re-creating ``stories`` trips the articles' foreign keys on SQLite, which
    # drops a column in place since 3.35.
    for name in ("earliest_order_at", "first_revision", "revision"):
        op.execute(f"ALTER TABLE stories DROP COLUMN {name}")
