"""workers: runs identified by launcher, worker and job id; claims on sources and domains
(crawl_locks); the HTTP cache in the store (http_cache)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from db.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("launcher", sa.String(16), nullable=True))
        batch.add_column(sa.Column("worker", sa.String(255), nullable=True))
        batch.add_column(sa.Column("job_id", sa.String(64), nullable=True))
        batch.create_index("ix_crawl_runs_job_id", ["job_id"])
    op.create_table(
        "crawl_locks",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_crawl_locks_holder", "crawl_locks", ["holder"])
    op.create_table(
        "http_cache",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("spider", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_http_cache_spider", "http_cache", ["spider"])


def downgrade() -> None:
    op.drop_index("ix_http_cache_spider", "http_cache")
    op.drop_table("http_cache")
    op.drop_index("ix_crawl_locks_holder", "crawl_locks")
    op.drop_table("crawl_locks")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_index("ix_crawl_runs_job_id")
        batch.drop_column("job_id")
        batch.drop_column("worker")
        batch.drop_column("launcher")
