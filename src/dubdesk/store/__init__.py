"""The project store: SQLite through SQLAlchemy 2, schema kept by Alembic, plus a folder per project."""
from .database import open_database
from .models import Project, StageRun

__all__ = ["open_database", "Project", "StageRun"]
