"""link_text: the words the listing or feed gave an article's link, kept with the other page
inputs — a page that carries none of them is not the article (scraper/linktext.py), and a
failed page's retry needs them after the listing has moved on

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("link_text", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("link_text")
