"""One resumable upload, one process: behind HAProxy every PATCH of an upload
reaches the process whose disk holds its bytes (deploy/haproxy/haproxy.cfg,
backend ``uploads``), and the asset arrives whole.

Which process answered is read from HAProxy's own log (``backend/server``
per request, the path without its query): no header names a process to
the outside."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
import pytest

from tests.cluster.harness import Cluster, wait_for
from tests.support.content import png

pytestmark = pytest.mark.cluster

PARTS = 4
# One request in HAProxy's log-format: ... backend/server timers status ... method path HTTP/x
LOGGED = re.compile(
    r"\s(?P<backend>[\w-]+)/(?P<server>[\w<>-]+)\s[-\d]+/[-\d]+/[-\d]+/[-\d]+/[-\d]+\s"
    r"(?P<status>\d{3})\s.*\s(?P<method>[A-Z]+)\s(?P<path>\S+)\sHTTP/"
)


def answered_by(log: Path, method: str, path: str) -> list[tuple[str, str]]:
    """(backend, server) of every ``method path`` request in HAProxy's log."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        match = LOGGED.search(line)
        if match and match["method"] == method and match["path"] == path:
            found.append((match["backend"], match["server"]))
    return found


def tus(**headers: str) -> dict[str, str]:
    return {"Tus-Resumable": "1.0.0", **headers}


def test_every_patch_of_one_upload_is_answered_by_one_process(
    cluster: Cluster, admin: httpx.Client
) -> None:
    data = png(size=(640, 360))
    name = base64.b64encode(b"upload-through-haproxy.png").decode()
    created = admin.post(
        "/api/v1/uploads",
        headers=tus(**{"Upload-Length": str(len(data)), "Upload-Metadata": f"name {name}"}),
    )
    assert created.status_code == 201, created.text
    path = httpx.URL(created.headers["location"]).path
    step = -(-len(data) // PARTS)
    answer = created
    for offset in range(0, len(data), step):
        headers = tus(
            **{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        )
        answer = admin.patch(path, content=data[offset : offset + step], headers=headers)
        assert answer.status_code == 204, answer.text
    log = cluster.proxy.log
    wait_for(lambda: len(answered_by(log, "PATCH", path)) == PARTS, "every PATCH in the log")
    places = set(answered_by(log, "PATCH", path))
    assert len(places) == 1, places  # round robin would have spread them over the processes
    assert next(iter(places))[0] == "uploads"
    asset = admin.get(f"/api/v1/assets/{answer.headers['lianbo-asset-id']}").json()
    assert asset["sha256"] == hashlib.sha256(data).hexdigest()  # whole
    assert admin.get(f"/media/{asset['sha256']}").content == data
