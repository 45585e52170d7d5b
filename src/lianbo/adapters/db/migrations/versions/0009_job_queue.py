"""the job queue's schema on PostgreSQL (procrastinate 3.10; ADR 0012)

PostgreSQL only: on SQLite the queue is in-process and this revision does
nothing. The SQL is procrastinate's own schema file from the pinned
package, run as it ships (it is a script of many statements with dollar
quoting, so it goes to the driver whole). Its tables, types and functions
all start with ``procrastinate_`` and stay outside lianbo's metadata.

A later procrastinate release brings its own migration files
(``procrastinate/sql/migrations``); upgrading the pin means a new lianbo
revision that runs those, never editing this one.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text
from sqlalchemy.util import await_only

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PINNED = "3.10.0"  # pyproject.toml pins this release; its schema.sql is what runs here


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from importlib.metadata import version

    from procrastinate.schema import SchemaManager

    installed = version("procrastinate")
    if installed != PINNED:
        raise RuntimeError(f"migration 0009 needs procrastinate {PINNED}, found {installed}")
    driver = bind.connection.driver_connection  # asyncpg: runs a multi-statement script
    assert driver is not None
    await_only(driver.execute(SchemaManager.get_schema()))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Everything procrastinate made: tables (with their triggers), then its
    # functions and types, found by their common prefix.
    bind.execute(
        text(
            """
DO $$
DECLARE item record;
BEGIN
    FOR item IN SELECT tablename FROM pg_tables
                WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%'
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
    LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
    END LOOP;
    FOR item IN SELECT t.typname FROM pg_type t
                JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                  AND t.typtype IN ('e', 'c')
    LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
    END LOOP;
END
$$
"""
        )
    )
