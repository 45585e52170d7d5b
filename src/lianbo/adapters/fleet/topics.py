"""MQTT topic names of the fleet channel (part of the wire contract v1).

    lianbo/t/<terminal_id>/push    server → one terminal (messages.py JSON)
    lianbo/t/<terminal_id>/up      terminal → server (time, ack, status)
    lianbo/t/<terminal_id>/status  terminal presence: "online", and "offline"
                                   as its will; both retained
    lianbo/r/<code>/push           server → every terminal of a region subtree
    lianbo/a/<audience>/push       server → every terminal of an audience
                                   (``manifest`` messages)

Region codes are in short form ("51", "5101", "510107"). A terminal
subscribes to its own push topic and to the push topic of its region and
of every ancestor, so one publish to ``lianbo/r/51/push`` reaches the whole
province and the broker does the fan-out (cell-broadcast style). Once it
has a manifest it also subscribes to its audience's topic (the key is
``audience_key(manifest["audience"])``; resubscribe when it changes), so a
manifest change is one publish per audience, not one per screen.
"""

from __future__ import annotations

import hashlib
from typing import Any

from lianbo.domain.canonical import canonical_json
from lianbo.domain.regions import ancestors

ROOT = "lianbo"
PUSH = "push"
UP = "up"
STATUS = "status"
ONLINE = b"online"
OFFLINE = b"offline"
# What the server subscribes to. Presence (``status``, retained, with the
# screen's will) reaches every server process: each keeps the picture of who
# is online, and a shared subscription would get no retained messages.
# ``up`` is a shared subscription (``server_subscriptions``) when a group is
# set: the broker hands each message to one process of the group (ADR 0014).
SERVER_SUBSCRIPTIONS = (f"{ROOT}/t/+/{STATUS}", f"{ROOT}/t/+/{UP}")
SHARE_GROUP = "lianbo"


def server_subscriptions(share_group: str = SHARE_GROUP) -> list[str]:
    """The server's topic filters; ``up`` shared by ``share_group`` ("": not
    shared, for a broker without shared subscriptions and one process)."""
    status, up = SERVER_SUBSCRIPTIONS
    return [status, f"$share/{share_group}/{up}" if share_group else up]


def terminal(terminal_id: str, leaf: str = PUSH) -> str:
    return f"{ROOT}/t/{terminal_id}/{leaf}"


def region(code: str) -> str:
    return f"{ROOT}/r/{code}/{PUSH}"


def audience(key: str) -> str:
    return f"{ROOT}/a/{key}/{PUSH}"


def audience_key(audience_json: dict[str, Any]) -> str:
    """The server's audience key, computed from a manifest's ``audience``."""
    return hashlib.sha256(canonical_json(audience_json)).hexdigest()[:32]


def subscriptions(terminal_id: str, region_code: str) -> list[str]:
    """Every topic a terminal listens on."""
    return [terminal(terminal_id)] + [region(c) for c in [*ancestors(region_code), region_code]]


def parse(topic: str) -> tuple[str, str] | None:
    """(terminal_id, leaf) of a per-terminal topic; None for anything else."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == ROOT and parts[1] == "t" and parts[2]:
        return parts[2], parts[3]
    return None
