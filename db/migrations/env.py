"""Alembic environment: runs online against the connection handed in by db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from db.engine import create_db_engine
from db.models import Base

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    with create_db_engine(config.attributes["url"]).begin() as conn:
        run(conn)
