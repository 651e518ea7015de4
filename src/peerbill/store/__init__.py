"""The store: SQLAlchemy 2 models, Alembic migrations, imports, runs and verdicts.

SQLite file by default; any SQLAlchemy URL (PostgreSQL for a shared installation).
"""

from .db import Store, normalize_url

__all__ = ["Store", "normalize_url"]
