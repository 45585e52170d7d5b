"""Fixtures for the cluster tests: PostgreSQL, N ``lianbo serve``, HAProxy.

``cluster`` (process handles: ``kill`` is kill -9, ``restart``, ``heal``),
``proxy_url`` (HTTPS through HAProxy) and ``admin`` (an API client logged in
through the proxy). The cluster starts once per run; each test gets it with
every process up and marked UP by HAProxy, whatever the test before it killed.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.harness.postgres import create_database

from tests.cluster.harness import Cluster, launch
from tests.support.services import Postgres, missing

PROCESSES = 3
ADMIN = ("cluster-admin", "cluster-admin-pw-51")
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def running_cluster(postgres: Postgres | None) -> Iterator[Cluster]:
    if shutil.which("haproxy") is None:
        missing("HAProxy is not installed (apt-get install haproxy)")
    if postgres is None:
        missing("PostgreSQL is not installed (apt-get install postgresql)")
    assert postgres is not None
    base = Path(tempfile.mkdtemp(prefix="lianbo-cluster-"))
    database_url = create_database(postgres, f"cluster_{os.getpid()}_{next(_databases)}")
    cluster = launch(base, database_url, ADMIN, processes=PROCESSES)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def cluster(running_cluster: Cluster) -> Cluster:
    """The cluster with every process up and in rotation."""
    running_cluster.heal()
    return running_cluster


@pytest.fixture
def proxy_url(cluster: Cluster) -> str:
    return cluster.proxy_url


@pytest.fixture
def admin(cluster: Cluster) -> Iterator[httpx.Client]:
    """An API client logged in as an admin (51), through HAProxy over HTTPS."""
    with httpx.Client(base_url=cluster.proxy_url, verify=cluster.tls(), timeout=30) as client:
        name, password = cluster.admin
        reply = client.post("/api/v1/auth/token", json={"username": name, "password": password})
        assert reply.status_code == 200, reply.text
        client.headers["Authorization"] = f"Bearer {reply.json()['token']}"
        yield client
