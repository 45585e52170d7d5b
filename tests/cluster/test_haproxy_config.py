"""The shipped HAProxy config is valid with only what a site must give."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cluster.harness import HAPROXY_CFG
from tests.support.certs import Ca
from tests.support.services import missing

pytestmark = pytest.mark.cluster


def check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if shutil.which("haproxy") is None:
        missing("HAProxy is not installed (apt-get install haproxy)")
    base = {k: v for k, v in os.environ.items() if not k.startswith("LIANBO_")}
    return subprocess.run(
        ["haproxy", "-c", "-f", str(HAPROXY_CFG)],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_one_server_and_a_certificate_are_enough(tmp_path: Path) -> None:
    certificate = Ca.make().write_server_files(tmp_path)
    done = check({"LIANBO_EDGE_CERT": str(certificate), "LIANBO_SERVE_1": "127.0.0.1:8000"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[WARNING]" not in done.stdout + done.stderr


def test_without_a_certificate_it_refuses_to_start() -> None:
    done = check({"LIANBO_SERVE_1": "127.0.0.1:8000"})
    assert done.returncode != 0
