"""The cluster the tests run: started by ``bench/harness/cluster.py`` (the
cluster benchmark starts the same one). Names kept here for the tests."""

from __future__ import annotations

from bench.harness.cluster import (
    BACKENDS,
    HAPROXY_CFG,
    START_TIMEOUT,
    Cluster,
    Haproxy,
    NeverHappened,
    ServeProcess,
    launch,
    lianbo,
    wait_for,
)

__all__ = [
    "BACKENDS",
    "HAPROXY_CFG",
    "START_TIMEOUT",
    "Cluster",
    "Haproxy",
    "NeverHappened",
    "ServeProcess",
    "launch",
    "lianbo",
    "wait_for",
]
