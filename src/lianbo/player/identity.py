"""Who this screen is: its server, terminal id, token and trusted keys.

Kept in a state directory (default ``$XDG_DATA_HOME/lianbo-player``, i.e.
``~/.local/share/lianbo-player``)::

    identity.json   server, terminal_id, keys, audience, backend, push, ca
    token           the bearer token, mode 0600 (a secret; never logged)

``ca`` is the CA certificate (PEM) given at enrolment to check the server's
certificate with (``tls.py``), or null for the system's CAs alone.

``push`` is the push channel the server named at enrolment (the hub's
WebSocket or an MQTT broker and its topics; ``player/channels.py``); files
written before it was stored have none and use the hub.

The keys received at enrolment are the trust anchor for manifests and alert
notices; ``key_serial`` is the serial of the signed key set they came in
(0 from a server without key sets). They change only by a newer key set
signed by one of them (``trust.py``).
"""

from __future__ import annotations

import json
import os
import ssl
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from lianbo.player.api import Refused, TerminalApi, Unreachable, keys_of, normalise_server
from lianbo.player.files import write_atomic
from lianbo.player.push_mqtt import route_of
from lianbo.player.tls import server_context
from lianbo.protocol.keyset import KeySetRejected, self_signed

IDENTITY_FILE = "identity.json"
TOKEN_FILE = "token"
BACKENDS = ("headless", "mpv")


class NotEnrolled(Exception):
    """No (readable) identity in the state directory."""


class EnrolmentFailed(Exception):
    """The server refused the code, or could not be reached."""


@dataclass(frozen=True, slots=True)
class Identity:
    server: str
    terminal_id: str
    token: str = field(repr=False)
    keys: dict[str, str]
    audience: dict[str, Any] | None = None  # checked against manifests when known
    backend: str = "headless"
    push: dict[str, Any] | None = None  # the push channel; None: the hub
    key_serial: int = 0  # the pinned key set's serial
    ca: str | None = None  # PEM: a CA trusted for the server's certificate

    def with_server(self, server: str) -> Identity:
        return replace(self, server=normalise_server(server))


def default_state_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lianbo-player"


def load(state_dir: Path) -> Identity:
    """The stored identity, or NotEnrolled with what is wrong."""
    try:
        data = json.loads((state_dir / IDENTITY_FILE).read_text(encoding="utf-8"))
        token = (state_dir / TOKEN_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise NotEnrolled(f"not enrolled (no identity in {state_dir})") from None
    except (OSError, ValueError) as error:
        raise NotEnrolled(f"unreadable identity in {state_dir}: {error}") from None
    try:
        return Identity(
            server=normalise_server(data["server"]),
            terminal_id=str(data["terminal_id"]),
            token=token,
            keys={str(k): str(v) for k, v in data["keys"].items()},
            audience=data.get("audience"),
            backend=str(data.get("backend", "headless")),
            push=_push(data.get("push")),
            key_serial=int(data.get("key_serial", 0)),
            ca=_ca(data.get("ca")),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise NotEnrolled(f"unreadable identity in {state_dir}: {error}") from None


def save(identity: Identity, state_dir: Path) -> None:
    """Write the identity; the token file is created with mode 0600."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    public = {k: v for k, v in asdict(identity).items() if k != "token"}
    write_atomic(state_dir / TOKEN_FILE, identity.token.encode(), mode=0o600)
    text = json.dumps(public, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    write_atomic(state_dir / IDENTITY_FILE, text.encode("utf-8"), mode=0o644)


async def enrol(
    server: str,
    code: str,
    client: httpx.AsyncClient,
    *,
    backend: str = "headless",
    ca: str | None = None,
) -> Identity:
    """Trade a one-time enrolment code for this screen's identity; ``client``
    checks the server's certificate as ``ca`` says (``tls.server_context``)."""
    code = code.strip()
    if not code or len(code) > 32:
        raise EnrolmentFailed("an enrolment code looks like XXXX-XXXX")
    try:
        api = TerminalApi(server, None, client)
    except ValueError as error:
        raise EnrolmentFailed(str(error)) from None
    try:
        reply = await api.enrol(code)
        keys, serial = _pinned(reply)
        return Identity(
            server=api.server,
            terminal_id=str(reply["terminal_id"]),
            token=str(reply["token"]),
            keys=keys,
            audience=reply.get("audience"),
            backend=backend,
            push=_push(reply.get("push")),
            key_serial=serial,
            ca=ca,
        )
    except Refused as error:
        raise EnrolmentFailed(f"enrolment refused: {error.message}") from None
    except Unreachable as error:
        raise EnrolmentFailed(f"cannot reach {api.server}: {error}") from None
    except KeySetRejected as error:
        raise EnrolmentFailed(f"enrolment reply refused: the key set is {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise EnrolmentFailed(f"unexpected enrolment reply: {error}") from None


def _pinned(reply: dict[str, Any]) -> tuple[dict[str, str], int]:
    """The keys to pin and their set's serial: the signed set when the server
    sends one (checked against its own signatures), else the plain list."""
    if "key_set" not in reply:
        return keys_of(reply), 0
    key_set = self_signed(reply)
    return dict(key_set.keys), key_set.serial


def _ca(value: Any) -> str | None:
    """The stored CA, checked (ValueError when it is not a usable certificate)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("ca is not PEM text")
    try:
        server_context(value)
    except ssl.SSLError:
        raise ValueError("ca is not a usable certificate") from None
    return value


def _push(block: Any) -> dict[str, Any] | None:
    """A ``push`` block as given, once checked (ValueError when malformed)."""
    route_of(block)
    return dict(block) if block is not None else None
