"""Persistence: SQLAlchemy models, database set-up and Alembic migrations."""
