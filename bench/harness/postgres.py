"""A throwaway PostgreSQL cluster on a free port, owned by one run (tests, benchmarks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.harness.ports import free_port


def _pg_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class Postgres:
    """A throwaway PostgreSQL cluster on a free port, owned by this test run."""

    bin_dir: Path
    data_dir: Path
    port: int
    process_user: str | None

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://lianbo@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.process_user:
            command = ["runuser", "-u", self.process_user, "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True)

    def initdb(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "lianbo",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )

    def start(self) -> None:
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200",
            "start",
        )

    def stop(self) -> None:
        subprocess.run(
            (["runuser", "-u", self.process_user, "--"] if self.process_user else [])
            + [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )

    def discard(self) -> None:
        """Stop the cluster and remove its files: a full test run creates
        thousands of databases, and a left-behind cluster is gigabytes."""
        self.stop()
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_postgres() -> Postgres | None:
    """Start a private cluster; None when PostgreSQL is not installed."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        return None
    user = None
    base = Path(tempfile.mkdtemp(prefix="lianbo-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = "postgres"
        shutil.chown(base, user=user)
        base.chmod(0o700)
    server = Postgres(bin_dir, base / "data", free_port(), user)
    if user:
        (base / "data").mkdir()
        shutil.chown(base / "data", user=user)
    server.initdb()
    for _ in range(3):
        try:
            server.start()
            return server
        except subprocess.CalledProcessError:
            server.port = free_port()
            time.sleep(0.5)
    raise RuntimeError("PostgreSQL did not start")


def create_database(server: Postgres, name: str) -> str:
    """``CREATE DATABASE name`` on ``server``; its SQLAlchemy URL."""
    address = ["-h", "127.0.0.1", "-p", str(server.port), "-U", "lianbo", "-d", "postgres"]
    subprocess.run(
        [str(server.bin_dir / "psql"), *address, "-c", f"CREATE DATABASE {name}"],
        check=True,
        capture_output=True,
    )
    return server.url(name)


@contextmanager
def database(url: str | None, bench: str) -> Iterator[str]:
    """A benchmark's PostgreSQL: ``url`` when given (an empty database is
    migrated by the run), else a fresh database ``bench_<bench>`` on a
    private cluster that is discarded afterwards."""
    if url:
        yield url
        return
    server = start_postgres()
    if server is None:
        raise SystemExit(f"bench {bench} needs PostgreSQL (apt-get install postgresql)")
    try:
        yield create_database(server, f"bench_{bench}")
    finally:
        server.discard()
