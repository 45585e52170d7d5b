"""Job queue adapters (ADR 0012): in-process, or procrastinate on PostgreSQL."""
