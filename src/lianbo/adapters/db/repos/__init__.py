"""Repositories: domain objects in, domain objects out."""
