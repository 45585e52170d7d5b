"""Push messages on the fleet channel (WebSocket hub or MQTT), JSON objects.

Server → terminal:
    {"type": "hello", "terminal_id": str, "server_time": float, "alerts_follow"?: true}
    {"type": "alerts", "terminal"?: {...}, "alerts"?: [...]}   right after a hello
        with ``alerts_follow``: what GET /terminal/v1/alerts would answer (no
        need to ask); without ``alerts`` the server could not list them: ask
    {"type": "manifest", "version": str, "url"?: str}   a new manifest: fetch it now,
        from ``url`` when given (``/manifests/<audience>/<version>``, no token,
        through the edge: ADR 0024), else (or when that fails) from
        /terminal/v1/manifest
    {"type": "time", "t0": float, "server_time": float}   answer to a time request
    {"type": "command", "id": str, "command": "screenshot"|"reload"|"restart"}
    {"type": "alert", ...} / {"type": "alert-cancel", ...}   (emergency alerts)
    {"type": "heartbeat", "server_time": float, "heartbeat_seconds": number}
        answer to a status (a heartbeat); no audience: that comes over HTTP
    {"type": "heartbeat", "refused": str, "retry_after": number}   beating too often
    {"type": "alert-ack", "ref": str, "alert_id": str, "state": str, "changed": bool}
    {"type": "alert-ack", "ref": str, "alert_id": str, "refused": str, "status": int,
     "retry_after"?: number}   the outcome of an alert ack (``protocol/alerts.py``)
Terminal → server:
    {"type": "time", "t0": float}                  t0 = the terminal's clock (epoch s)
    {"type": "ack", "id": str}                     a command was carried out
    {"type": "status", ...}                        the status report: a heartbeat
        (the body of POST /terminal/v1/heartbeat, at most 16 KB)
    {"type": "alert-ack", "ref": str, "alert_id": str, "state": str, "reason"?: str}
        an alert's state on this screen (as POST /terminal/v1/alerts/{id}/ack);
        ``ref`` is the screen's own id for it, echoed in the answer

Times are Unix epoch seconds (float). Clock offset, NTP-style: the terminal
sends t0, gets server_time back at t1; offset = server_time + (t1 - t0)/2 - t1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lianbo.protocol import json_input
from lianbo.protocol.alerts import ack_problem

MAX_MESSAGE_BYTES = 64 * 1024
COMMANDS = ("screenshot", "reload", "restart")
SERVER_TYPES = (
    "hello",
    "alerts",
    "manifest",
    "time",
    "command",
    "alert",
    "alert-cancel",
    "heartbeat",
    "alert-ack",
)
TERMINAL_TYPES = ("time", "ack", "status", "alert-ack")


class MalformedMessage(ValueError):
    """A message that is not valid JSON of a known shape (dropped, logged)."""


@dataclass(frozen=True, slots=True)
class Message:
    type: str
    body: dict[str, Any]

    def encode(self) -> str:
        return json.dumps(
            {"type": self.type, **self.body}, ensure_ascii=False, separators=(",", ":")
        )


def decode(raw: str | bytes, *, allowed: tuple[str, ...]) -> Message:
    """Parse one message; MalformedMessage when it is not one we accept."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MalformedMessage("message too large")
    try:
        data = json_input.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedMessage(f"not JSON: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise MalformedMessage("a message is a JSON object with a string 'type'")
    kind = data.pop("type")
    if kind not in allowed:
        raise MalformedMessage(f"unknown message type {kind!r}")
    if kind == "time" and not isinstance(data.get("t0"), int | float):
        raise MalformedMessage("time needs a numeric t0")
    if kind == "ack" and not isinstance(data.get("id"), str):
        raise MalformedMessage("ack needs a string id")
    if kind == "alert-ack" and (problem := ack_problem(data, len(raw))) is not None:
        raise MalformedMessage(problem)
    return Message(kind, data)


MANIFESTS_PATH = "/manifests"


def manifest_path(audience_key: str, version: str) -> str:
    """Where one version of an audience's signed manifest is served, without
    a token: immutable, so any HTTP cache may keep it (ADR 0024)."""
    return f"{MANIFESTS_PATH}/{audience_key}/{version}"


def manifest_changed(version: str, url: str | None = None) -> Message:
    """The push of a new manifest version; ``url``: where to fetch it at once.
    Players that predate ``url`` ignore it and ask /terminal/v1/manifest."""
    return Message("manifest", {"version": version} | ({"url": url} if url else {}))


def announcement(audience_key: str, version: str, base: str | None) -> Message:
    """The ``manifest`` push for one audience: with the version's absolute
    URL under ``base`` (the edge, else the server) when there is one."""
    url = f"{base.rstrip('/')}{manifest_path(audience_key, version)}" if base else None
    return manifest_changed(version, url)


def time_reply(t0: float, server_time: float) -> Message:
    return Message("time", {"t0": t0, "server_time": server_time})


def command(command_id: str, name: str) -> Message:
    if name not in COMMANDS:
        raise ValueError(f"unknown command {name!r}")
    return Message("command", {"id": command_id, "command": name})


def clock_offset(t0: float, server_time: float, t1: float) -> float:
    """Server clock minus terminal clock, assuming a symmetric path (RTT/2)."""
    return server_time + (t1 - t0) / 2 - t1
