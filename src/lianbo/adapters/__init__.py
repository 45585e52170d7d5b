"""Adapters: the outside world (database, media, fleet, notifications)."""
