"""The shipped caching edge (deploy/nginx/lianbo-edge.conf.template) run by
tests and benchmarks: nginx from Debian with the cache-purge module, in front
of a lianbo origin (one process's own port: plain HTTP)."""

from __future__ import annotations

import os
import shutil
import socket
import string
import subprocess
import tempfile
import time
from pathlib import Path

from bench.harness.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "lianbo-edge.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PURGE_MODULE = Path("/usr/lib/nginx/modules/ngx_http_cache_purge_module.so")
START_GUARD_S = 30.0


def available() -> bool:
    """nginx and the cache-purge module are installed (scripts/install-services)."""
    return Path(NGINX).exists() and PURGE_MODULE.exists()


def render(values: dict[str, str]) -> str:
    """The template with the EDGE_* values filled in (nginx's own ``$uri``
    and friends left alone, as ``envsubst`` with a variable list does)."""
    return string.Template(TEMPLATE.read_text()).safe_substitute(values)


class Edge:
    """nginx running the shipped edge config on ``port`` (a free one when
    not given); stopped by ``stop``."""

    def __init__(self, origin_port: int, port: int | None = None) -> None:
        if not available():
            raise RuntimeError("nginx with the cache-purge module is not installed")
        self.port = port or free_port()
        # Not under pytest's tmp_path: nginx's workers run as nobody when the
        # master is root, and must reach the cache through every parent.
        self.dir = Path(tempfile.mkdtemp(prefix="lianbo-edge-"))
        os.chmod(self.dir, 0o777)
        conf = self.dir / "nginx.conf"
        conf.write_text(
            render(
                {
                    "EDGE_LISTEN": f"127.0.0.1:{self.port}",
                    "EDGE_ORIGIN": f"127.0.0.1:{origin_port}",
                    "EDGE_DIR": str(self.dir),
                    "EDGE_CACHE_SIZE": "1g",
                    "EDGE_PURGE_FROM": "127.0.0.1",
                }
            )
        )
        checked = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx refused the edge config: {checked.stderr}")
        self.process = subprocess.Popen([NGINX, "-c", str(conf)], stderr=subprocess.DEVNULL)
        self._wait_listening()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + START_GUARD_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.dir / "error.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)
