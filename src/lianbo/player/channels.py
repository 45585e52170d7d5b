"""Which push channel a screen uses: the hub's WebSocket or an MQTT broker.

The server names it at enrolment (the reply's ``push`` block, kept in the
identity); an identity from before it did uses the hub. Both channels have
``PushChannel``'s surface, so nothing else in the agent knows which it got.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from lianbo.player.api import websocket_url
from lianbo.player.backoff import Backoff
from lianbo.player.clock import Clock, OffsetEstimator
from lianbo.player.identity import Identity
from lianbo.player.push import Handler, PushChannel
from lianbo.player.push_mqtt import AudienceSource, MqttPushChannel, route_of
from lianbo.player.tls import server_context


def push_channel(
    identity: Identity,
    handler: Handler,
    *,
    audience: AudienceSource,
    clock: Clock,
    estimator: OffsetEstimator,
    backoff: Backoff,
    on_connect: Callable[[], Awaitable[None]] | None = None,
) -> PushChannel:
    """The channel ``identity`` was enrolled for (``audience``: its current one)."""
    route = route_of(identity.push)
    if route is not None:
        return MqttPushChannel(
            route,
            identity.terminal_id,
            identity.token,
            handler,
            audience=audience,
            clock=clock,
            estimator=estimator,
            backoff=backoff,
            on_connect=on_connect,
        )
    return PushChannel(
        websocket_url(identity.server, identity.terminal_id),
        identity.token,
        handler,
        clock=clock,
        estimator=estimator,
        backoff=backoff,
        on_connect=on_connect,
        tls=server_context(identity.ca),
    )


def with_broker(block: dict[str, Any] | None, address: str) -> dict[str, Any]:
    """The ``push`` block with the broker at ``address`` (``HOST:PORT``) instead:
    for a screen that reaches the broker by another name than the server gave.
    ValueError when the screen is not enrolled for MQTT or the address is bad."""
    if route_of(block) is None or block is None:
        raise ValueError(
            "this screen was enrolled for the hub; the MQTT topics come from a "
            "server running LIANBO_FLEET=mqtt (enrol again there)"
        )
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"--mqtt wants HOST:PORT, not {address!r}")
    # one broker named by hand replaces the cluster's list too
    kept = {k: v for k, v in block.items() if k != "brokers"}
    moved = {**kept, "host": host.strip("[]"), "port": int(port)}
    route_of(moved)  # the port range
    return moved
