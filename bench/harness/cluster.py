"""A cluster as operators run one: real ``lianbo serve`` processes sharing a
PostgreSQL database, behind HAProxy with the shipped config over TLS.

``launch`` starts it all (the database given by URL, migrated by
``lianbo init``; an admin; N processes; a CA and an edge certificate made on
the spot; HAProxy reading ``deploy/haproxy/haproxy.cfg`` with its variables
set, as Debian's unit does). Processes are started with the console script
and the environment a deployment would give them. What HAProxy thinks of
each process comes from its stats socket, so callers wait on what the
balancer sees, never on a duration. ``tests/cluster`` and ``bench/cluster.py``
both use this.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.harness.certs import Ca
from bench.harness.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
START_TIMEOUT = 120.0  # a loaded 2-core machine starts slowly; ready servers answer at once
WAIT_TIMEOUT = 60.0  # only a hung cluster ever waits this long
BACKENDS = ("screens", "console")


class NeverHappened(AssertionError):
    """What was waited for did not happen (an AssertionError: a test fails)."""


def lianbo() -> Path:
    """The console script next to this interpreter (what operators run)."""
    return Path(sys.executable).with_name("lianbo")


def wait_for(condition: Callable[[], bool], what: str, within: float = WAIT_TIMEOUT) -> None:
    """Return once ``condition()`` holds; NeverHappened only if it never does."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise NeverHappened(f"{what} never happened (hang guard: {within:.0f} s)")
        time.sleep(0.05)


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _without_lianbo() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LIANBO_")}


@dataclass
class ServeProcess:
    """One ``lianbo serve``: start, ``kill`` (SIGKILL, no goodbye), ``pause``
    (SIGSTOP: hung) and ``resume``, ``restart``."""

    name: str
    port: int
    data_dir: Path
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        command = [str(lianbo()), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [*command, "--data-dir", str(self.data_dir)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        """Until its own /healthz answers 200 (NeverHappened at once if it exits)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive:
                raise NeverHappened(f"{self.name} exited early:\n{_log_tail(self.log)}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise NeverHappened(f"{self.name} did not become ready:\n{_log_tail(self.log)}")

    def kill(self) -> None:
        """kill -9: the process dies mid-whatever, as in a crash."""
        if self.popen is not None and self.alive:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def pause(self) -> None:
        """SIGSTOP: the process hangs (alive, answering nothing)."""
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.popen is not None and self.alive:
            os.kill(self.popen.pid, signal.SIGCONT)

    def restart(self) -> None:
        self.kill()
        self.start()
        self.wait_ready()

    def stop(self) -> None:
        if self.popen is None or not self.alive:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Haproxy:
    """HAProxy running the shipped config; ``status`` reads its stats socket."""

    port: int
    stats_socket: Path
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                ["haproxy", "-db", "-f", str(HAPROXY_CFG)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._answers, f"HAProxy on :{self.port} ({self.log})", START_TIMEOUT)

    def _answers(self) -> bool:
        if self.popen is None or self.popen.poll() is not None:
            raise NeverHappened(f"haproxy exited:\n{_log_tail(self.log)}")
        try:
            self.command("show info")
        except OSError:
            return False
        return True

    def command(self, line: str) -> str:
        """One command on the admin socket; its whole answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.stats_socket))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stats(self) -> list[dict[str, str]]:
        """``show stat`` as rows (pxname, svname, status, scur, stot, …)."""
        text = self.command("show stat").lstrip("# ")
        return list(csv.DictReader(io.StringIO(text)))

    def status(self, server: str) -> set[str]:
        """The server's status in each backend ("UP", "DOWN", "UP 1/2", …)."""
        return {
            row["status"]
            for row in self.stats()
            if row["pxname"] in BACKENDS and row["svname"] == server
        }

    def sessions(self, backend: str) -> dict[str, int]:
        """Current sessions per server of ``backend``."""
        return {
            row["svname"]: int(row["scur"] or 0)
            for row in self.stats()
            if row["pxname"] == backend and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Cluster:
    """N processes, one HAProxy, one CA. Callers kill and restart processes;
    ``heal`` brings every process back and waits until HAProxy has them all."""

    processes: list[ServeProcess]
    proxy: Haproxy
    ca: Ca
    ca_file: Path
    data_dir: Path
    admin: tuple[str, str]  # username, password
    more_proxies: list[Haproxy] = field(default_factory=list)  # further edges, same config

    @property
    def edges(self) -> list[Haproxy]:
        """Every HAProxy in front (one unless launched with ``edges``)."""
        return [self.proxy, *self.more_proxies]

    @property
    def proxy_url(self) -> str:
        return f"https://127.0.0.1:{self.proxy.port}"

    def tls(self) -> ssl.SSLContext:
        """A client context that trusts the cluster's CA (and only it)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def by_name(self, name: str) -> ServeProcess:
        return next(p for p in self.processes if p.name == name)

    def wait_status(self, name: str, up: bool) -> None:
        """Until HAProxy reports ``name`` UP (or DOWN) in every backend."""
        wanted = "UP" if up else "DOWN"
        wait_for(
            lambda: self.proxy.status(name) == {wanted},
            f"HAProxy marking {name} {wanted}",
        )

    def heal(self) -> None:
        """Restart dead processes; return once HAProxy has every one UP."""
        for process in self.processes:
            process.resume()  # harmless when it was not paused
            if not process.alive:
                process.restart()
        for process in self.processes:
            self.wait_status(process.name, up=True)

    def stop(self) -> None:
        for proxy in self.edges:
            proxy.stop()
        for process in self.processes:
            process.stop()


def _cli(env: dict[str, str], data_dir: Path, *args: str) -> None:
    done = subprocess.run(
        [str(lianbo()), *args, "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise NeverHappened(f"lianbo {args[0]} failed: {done.stderr.strip()[-500:]}")


def server_env(database_url: str, data_dir: Path, proxy_port: int, name: str) -> dict[str, str]:
    """What every process shares (store, media, keys, proxy) plus its own name."""
    return _without_lianbo() | {
        "LIANBO_DATABASE_URL": database_url,
        "LIANBO_DATA_DIR": str(data_dir),
        "LIANBO_MEDIA_DIR": str(data_dir / "media"),
        "LIANBO_PUBLIC_URL": f"https://127.0.0.1:{proxy_port}",
        "LIANBO_TRUSTED_PROXIES": '["127.0.0.1"]',
        "LIANBO_SECURE_COOKIES": "true",
        "LIANBO_PROCESS_NAME": name,
    }


def _haproxy_env(
    processes: list[ServeProcess], certificate: Path, port: int, stats: Path, maxconn: int
) -> dict[str, str]:
    env = _without_lianbo()
    env |= {f"LIANBO_SERVE_{i}": f"127.0.0.1:{p.port}" for i, p in enumerate(processes, 1)}
    return env | {
        "LIANBO_EDGE_CERT": str(certificate),
        "LIANBO_EDGE_BIND": f"127.0.0.1:{port}",
        "LIANBO_EDGE_STATS_SOCKET": str(stats),
        "LIANBO_EDGE_MAXCONN": str(maxconn),
    }


def launch(
    base: Path,
    database_url: str,
    admin: tuple[str, str],
    *,
    processes: int = 3,
    maxconn: int = 4096,
    settings: Mapping[str, str] | None = None,
    edges: int = 1,
) -> Cluster:
    """Migrate ``database_url`` (``lianbo init``), add ``admin`` (admin of 51),
    start ``processes`` servers one after another and HAProxy in front; files
    (data dir, logs, CA, certificate, stats socket) go under ``base``.
    ``settings`` are extra ``LIANBO_*`` variables for every process.
    ``edges`` HAProxy instances with the same config share the load when one
    cannot hold every connection (a process may hold 20,000 open files here,
    and each screen costs HAProxy two)."""
    data_dir, proxy_port = base / "data", free_port()
    base.mkdir(parents=True, exist_ok=True)
    setup_env = server_env(database_url, data_dir, proxy_port, "setup")
    _cli(setup_env, data_dir, "init")  # migrates once, makes the shared keys
    name, password = admin
    user = ["user", "add", name, "--role", "admin", "--region", "51", "--password", password]
    _cli(setup_env, data_dir, *user)
    servers = [
        ServeProcess(
            name=f"serve{i}",
            port=free_port(),
            data_dir=data_dir,
            env=server_env(database_url, data_dir, proxy_port, f"serve{i}") | dict(settings or {}),
            log=base / f"serve{i}.log",
        )
        for i in range(1, processes + 1)
    ]
    ca = Ca.make("lianbo cluster CA (made for this run)")
    ca_file = base / "ca.pem"
    ca_file.write_text(ca.pem)
    certificate = ca.write_server_files(base / "edge")
    proxies = []
    for k in range(edges):
        port = proxy_port if k == 0 else free_port()
        stats = base / ("haproxy.sock" if k == 0 else f"haproxy-{k + 1}.sock")
        env = _haproxy_env(servers, certificate, port, stats, maxconn)
        log = base / ("haproxy.log" if k == 0 else f"haproxy-{k + 1}.log")
        proxies.append(Haproxy(port, stats, env, log))
    cluster = Cluster(servers, proxies[0], ca, ca_file, data_dir, admin, proxies[1:])
    try:
        for process in servers:  # one after another: a cold start is heavy on 2 cores
            process.start()
            process.wait_ready()
        for proxy in proxies:
            proxy.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
