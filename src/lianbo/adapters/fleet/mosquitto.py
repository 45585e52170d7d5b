"""Broker accounts for mosquitto: a password file and an ACL lianbo writes.

Terminals log in with username = terminal id and password = their token
(the secret they got at enrolment). lianbo stores only a digest of that
token, so it cannot write a password entry later: entries are written by
whoever holds the tokens at that moment (enrolment tooling, the simulator,
the tests). Deployments that enrol screens continuously put an auth hook
in front instead (mosquitto-go-auth, EMQX or VerneMQ HTTP auth) that checks
the token against lianbo; see docs/fleet-scaling.md.

The ACL confines each terminal to its own topics (``%u`` is the username)
and lets it read the region and audience topics; the server account gets
``lianbo/#``. mosquitto checks every delivery against the patterns in
order, first match wins: the fan-out topics (one publish, thousands of
deliveries) come first so a region message costs one check per screen.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

ITERATIONS = 101  # mosquitto_passwd's own choice for $7$ (PBKDF2-SHA512)
MAX_QUEUED = 200_000  # per client; see ``config``

ACL = """\
user {server}
topic readwrite lianbo/#

pattern read lianbo/r/+/push
pattern read lianbo/a/+/push
pattern read lianbo/t/%u/push
pattern write lianbo/t/%u/up
pattern readwrite lianbo/t/%u/status
"""


def password_line(username: str, password: str, *, salt: bytes | None = None) -> str:
    """One ``mosquitto_passwd`` line (``$7$``: PBKDF2-SHA512, 12-byte salt)."""
    salt = salt or os.urandom(12)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
    b64 = base64.b64encode
    return f"{username}:$7${ITERATIONS}${b64(salt).decode()}${b64(key).decode()}"


def write_password_file(path: Path, accounts: Iterable[tuple[str, str]]) -> int:
    """Write (username, password) entries; how many. Reload mosquitto after."""
    lines = [password_line(user, password) for user, password in accounts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return len(lines)


def write_acl(path: Path, server_username: str) -> None:
    path.write_text(ACL.format(server=server_username), encoding="utf-8")


def config(
    port: int,
    password_file: Path,
    acl_file: Path,
    *,
    host: str = "127.0.0.1",
    user: str | None = None,
) -> str:
    """A mosquitto.conf for lianbo: authenticated, no persistence.

    ``max_queued_messages``: mosquitto 2 counts QoS 0 packets waiting for a
    client's socket against it too and drops the rest. When a whole fleet
    reconnects, the server's subscription gets a ``status`` and an ``up`` from
    every screen within seconds; at mosquitto's 100 it lost thousands of
    them. A screen's own queue stays near empty (a few pushes a minute).

    ``user``: the account mosquitto runs as when started by root (it drops
    to ``mosquitto`` otherwise, which cannot read a root-owned 0600 file).
    """
    return (
        (f"user {user}\n" if user else "") + f"listener {port} {host}\n"
        "allow_anonymous false\n"
        f"password_file {password_file}\n"
        f"acl_file {acl_file}\n"
        "persistence false\n"
        f"max_queued_messages {MAX_QUEUED}\n"
        "log_type error\n"
        "log_type warning\n"
    )
