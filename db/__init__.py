"""Storage: SQLAlchemy models, the repository (every query lives here), engine setup and
Alembic migrations."""

from db.engine import create_db_engine, session_factory
from db.repository import AddResult, Repository

__all__ = ["AddResult", "Repository", "create_db_engine", "session_factory"]
