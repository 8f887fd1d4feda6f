"""Storage: SQLAlchemy Core tables, the database engine, Alembic migrations."""
