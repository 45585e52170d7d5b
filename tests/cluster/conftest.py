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
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster.harness import Cluster, Haproxy, ServeProcess, lianbo
from tests.support.certs import Ca
from tests.support.services import Postgres, free_port, missing

PROCESSES = 3
ADMIN = ("cluster-admin", "cluster-admin-pw-51")
_databases = itertools.count(1)


def _create_database(server: Postgres) -> str:
    name = f"cluster_{os.getpid()}_{next(_databases)}"
    address = ["-h", "127.0.0.1", "-p", str(server.port), "-U", "lianbo", "-d", "postgres"]
    subprocess.run(
        [str(server.bin_dir / "psql"), *address, "-c", f"CREATE DATABASE {name}"],
        check=True,
        capture_output=True,
    )
    return server.url(name)


def _cli(env: dict[str, str], data_dir: Path, *args: str) -> None:
    done = subprocess.run(
        [str(lianbo()), *args, "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"lianbo {' '.join(args)} failed: {done.stderr}"


def _server_env(database_url: str, data_dir: Path, proxy_port: int, name: str) -> dict[str, str]:
    """What every process shares (store, media, keys, proxy) plus its own name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIANBO_")}
    return env | {
        "LIANBO_DATABASE_URL": database_url,
        "LIANBO_DATA_DIR": str(data_dir),
        "LIANBO_MEDIA_DIR": str(data_dir / "media"),
        "LIANBO_PUBLIC_URL": f"https://127.0.0.1:{proxy_port}",
        "LIANBO_TRUSTED_PROXIES": '["127.0.0.1"]',
        "LIANBO_SECURE_COOKIES": "true",
        "LIANBO_PROCESS_NAME": name,
    }


def _haproxy_env(
    processes: list[ServeProcess], certificate: Path, port: int, stats: Path
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIANBO_")}
    env |= {f"LIANBO_SERVE_{i}": f"127.0.0.1:{p.port}" for i, p in enumerate(processes, 1)}
    return env | {
        "LIANBO_EDGE_CERT": str(certificate),
        "LIANBO_EDGE_BIND": f"127.0.0.1:{port}",
        "LIANBO_EDGE_STATS_SOCKET": str(stats),
        "LIANBO_EDGE_MAXCONN": "4096",
    }


@pytest.fixture(scope="session")
def running_cluster(postgres: Postgres | None) -> Iterator[Cluster]:
    if shutil.which("haproxy") is None:
        missing("HAProxy is not installed (apt-get install haproxy)")
    if postgres is None:
        missing("PostgreSQL is not installed (apt-get install postgresql)")
    assert postgres is not None
    base = Path(tempfile.mkdtemp(prefix="lianbo-cluster-"))
    data_dir, proxy_port = base / "data", free_port()
    database_url = _create_database(postgres)
    setup_env = _server_env(database_url, data_dir, proxy_port, "setup")
    _cli(setup_env, data_dir, "init")  # migrates once, makes the shared keys
    _cli(
        setup_env,
        data_dir,
        "user",
        "add",
        ADMIN[0],
        "--role",
        "admin",
        "--region",
        "51",
        "--password",
        ADMIN[1],
    )
    processes = [
        ServeProcess(
            name=f"serve{i}",
            port=free_port(),
            data_dir=data_dir,
            env=_server_env(database_url, data_dir, proxy_port, f"serve{i}"),
            log=base / f"serve{i}.log",
        )
        for i in range(1, PROCESSES + 1)
    ]
    ca = Ca.make("lianbo cluster test CA")
    ca_file = base / "ca.pem"
    ca_file.write_text(ca.pem)
    certificate = ca.write_server_files(base / "edge")
    env = _haproxy_env(processes, certificate, proxy_port, base / "haproxy.sock")
    proxy = Haproxy(proxy_port, base / "haproxy.sock", env, base / "haproxy.log")
    cluster = Cluster(processes, proxy, ca, ca_file, data_dir, ADMIN)
    try:
        for process in processes:  # one after another: a cold start is heavy on 2 cores
            process.start()
            process.wait_ready()
        proxy.start()
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
