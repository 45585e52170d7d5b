"""SQLAlchemy 2 store: tables, repositories, migrations."""
