"""The push channel over an MQTT broker, for a server with ``LIANBO_FLEET=mqtt``.

The same channel as ``push.PushChannel`` (it is one: the agent, the
heartbeats and the handlers cannot tell which is in use), with the broker
in the middle:

- the screen logs in as itself — username = terminal id, password = its
  token — so a retired or re-enrolled screen is refused at CONNACK (the
  link is then down and retried with the usual jittered backoff);
- its will is ``offline`` on its status topic, and it publishes a retained
  ``online`` once subscribed: the server learns who is there from the
  broker, and a screen that dies is reported by the broker;
- it listens on its own topic, on its region's and every ancestor's (one
  publish reaches a whole province) and on its audience's (one publish per
  manifest change); when the audience changes (the screen was moved or
  re-tagged) it resubscribes;
- what it sends (``time``, ``ack``, ``status``) goes to its ``up`` topic.

The topic names come from the server in the enrolment reply (``MqttRoute``):
the player carries no topic layout of its own, so the two cannot drift.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiomqtt
from aiomqtt.exceptions import MqttConnectError  # not re-exported at the top

from lianbo.domain.errors import InvalidInput
from lianbo.domain.regions import ancestors, normalise_code
from lianbo.domain.targeting import Audience
from lianbo.domain.terminals import Tier
from lianbo.player.backoff import Backoff
from lianbo.player.clock import Clock, OffsetEstimator
from lianbo.player.push import Handler, PushChannel
from lianbo.player.waits import within
from lianbo.protocol.messages import Message

log = logging.getLogger("lianbo.player")

AudienceSource = Callable[[], Mapping[str, Any] | None]
TOPIC_KEYS = ("push", "up", "status", "region", "audience")


@dataclass(frozen=True, slots=True)
class MqttRoute:
    """Where the broker is and which topics are this screen's (from the server).

    ``region`` and ``audience`` are templates holding ``{code}`` and ``{key}``.
    """

    host: str
    port: int
    push: str
    up: str
    status: str
    region: str
    audience: str
    online: bytes  # the retained presence payloads on ``status``
    offline: bytes
    # Every node of a broker cluster, (host, port), tried in turn when one
    # fails; empty means just ``host:port`` (a single broker, older servers).
    brokers: tuple[tuple[str, int], ...] = ()

    @property
    def addresses(self) -> tuple[tuple[str, int], ...]:
        """Where to connect, first choice first."""
        return self.brokers or ((self.host, self.port),)

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> MqttRoute:
        """The ``push`` block of an enrolment reply; ValueError when malformed."""
        host, port, names = block.get("host"), block.get("port"), block.get("topics")
        host, port = _address(host, port)
        brokers = block.get("brokers", [])
        if not isinstance(brokers, list):
            raise ValueError("mqtt push channel brokers is not a list")
        addresses = tuple(
            _address(b.get("host"), b.get("port")) if isinstance(b, Mapping) else _address(b, None)
            for b in brokers
        )
        if not isinstance(names, dict) or not all(
            isinstance(names.get(k), str) and names[k] for k in TOPIC_KEYS
        ):
            raise ValueError(f"mqtt push channel needs topics {', '.join(TOPIC_KEYS)}")
        online, offline = block.get("online"), block.get("offline")
        if not isinstance(online, str) or not isinstance(offline, str) or online == offline:
            raise ValueError("mqtt push channel needs its online and offline payloads")
        return cls(
            host,
            port,
            push=names["push"],
            up=names["up"],
            status=names["status"],
            region=names["region"],
            audience=names["audience"],
            online=online.encode(),
            offline=offline.encode(),
            brokers=addresses,
        )

    def listen(self, audience: Mapping[str, Any] | None) -> list[str]:
        """Every topic to subscribe to, for this audience (None: not known yet)."""
        found = [self.push]
        region = _region(audience)
        if region is not None:
            found += [self.region.replace("{code}", c) for c in [*ancestors(region), region]]
        key = audience_key(audience)
        if key is not None:
            found.append(self.audience.replace("{key}", key))
        return found


def _address(host: Any, port: Any) -> tuple[str, int]:
    """A broker's (host, port); ValueError when malformed."""
    if not isinstance(host, str) or not host:
        raise ValueError("mqtt push channel without a host")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ValueError(f"mqtt push channel with a bad port {port!r}")
    return host, port


def audience_key(audience: Mapping[str, Any] | None) -> str | None:
    """The server's key for an audience (the domain's own rule); None when unreadable."""
    if audience is None:
        return None
    try:
        return Audience(
            str(audience["region"]),
            Tier(audience["tier"]),
            tuple(str(g) for g in audience["groups"]),
            tuple(str(t) for t in audience["tags"]),
        ).key()
    except (KeyError, TypeError, ValueError):
        log.warning("audience %r unreadable; not listening on its topic", audience)
        return None


def _region(audience: Mapping[str, Any] | None) -> str | None:
    try:
        return normalise_code(str(audience["region"])) if audience is not None else None
    except (KeyError, InvalidInput):
        return None


class MqttPushChannel(PushChannel):
    """Keeps one broker session open, hands server messages to ``handler``."""

    greets = False  # no hello from a broker: the alert list is asked for

    def __init__(
        self,
        route: MqttRoute,
        terminal_id: str,
        token: str,
        handler: Handler,
        *,
        audience: AudienceSource,
        clock: Clock,
        estimator: OffsetEstimator,
        backoff: Backoff,
        on_connect: Callable[[], Awaitable[None]] | None = None,
        audience_check: float = 5.0,
    ) -> None:
        super().__init__(
            f"mqtt://{route.host}:{route.port}",
            token,
            handler,
            clock=clock,
            estimator=estimator,
            backoff=backoff,
            on_connect=on_connect,
        )
        self.route = route
        self.terminal_id = terminal_id
        self.audience = audience
        self.audience_check = audience_check
        self.listening: set[str] = set()
        self._client: aiomqtt.Client | None = None
        self._broker = 0  # index into ``route.addresses``: the one tried now

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def send(self, message: Message) -> bool:
        """Publish on the ``up`` topic; False when there is no session right now."""
        client = self._client
        if client is None:
            return False
        try:
            await client.publish(self.route.up, message.encode().encode(), qos=0)
        except aiomqtt.MqttError:
            return False
        return True

    async def run(self) -> None:
        """Connect, serve, reconnect after a backoff delay; forever."""
        while True:
            try:
                await self._broker_session()
                self.link.failed("closed by the broker")
            except MqttConnectError as error:  # CONNACK: bad credentials, ...
                self.link.failed(f"refused by the broker: {error}")
            except (aiomqtt.MqttError, OSError, TimeoutError) as error:
                self.link.failed(f"{type(error).__name__}: {error}")
            _cancelled_meanwhile()
            # A broker cluster: the next node (its sessions and retained
            # presence are the cluster's, so any node will do).
            self._broker = (self._broker + 1) % len(self.route.addresses)
            await asyncio.sleep(self.backoff.next_delay())

    @property
    def broker(self) -> tuple[str, int]:
        """The broker (host, port) this channel uses or tries now."""
        return self.route.addresses[self._broker % len(self.route.addresses)]

    async def _broker_session(self) -> None:
        route = self.route
        host, port = self.broker
        async with aiomqtt.Client(
            host,
            port,
            identifier=self.terminal_id,  # one session per screen, as the broker sees it
            username=self.terminal_id,
            password=self.token,
            will=aiomqtt.Will(route.status, route.offline, retain=True),
            keepalive=30,
            timeout=10,
        ) as client:
            self.listening = set()
            await self._follow(client)
            await client.publish(route.status, route.online, retain=True)
            self._client = client
            helpers = [
                asyncio.create_task(self._sample()),
                asyncio.create_task(self._watch(client)),
            ]
            try:
                if self.on_connect is not None:
                    await self.on_connect()
                async for message in client.messages:
                    if isinstance(message.payload, bytes | bytearray):
                        await self._receive(bytes(message.payload))
            finally:
                self._client = None
                for task in helpers:
                    task.cancel()
                await self._goodbye(client)

    async def _follow(self, client: aiomqtt.Client) -> None:
        """Subscribe to the topics of the current audience, leave the others."""
        wanted = set(self.route.listen(self.audience()))
        new, old = wanted - self.listening, self.listening - wanted
        if new:
            await client.subscribe([(topic, 0) for topic in sorted(new)])
        if old:
            await client.unsubscribe(sorted(old))
        if self.listening and (new or old):
            log.info("audience changed; push topics followed")
        self.listening = wanted

    async def _watch(self, client: aiomqtt.Client) -> None:
        """A moved screen's audience changes (heartbeat replies say so)."""
        while True:
            await asyncio.sleep(self.audience_check)
            with contextlib.suppress(aiomqtt.MqttError):
                await self._follow(client)

    async def _sample(self) -> None:
        """A burst of time requests on connect, then one now and then."""
        sent = 0
        while await self.send(Message("time", {"t0": self.clock.time()})):
            sent += 1
            await asyncio.sleep(self.time_spacing if sent < self.time_burst else self.time_every)

    async def _goodbye(self, client: aiomqtt.Client) -> None:
        """A clean exit sends no will: say ``offline`` ourselves (best effort)."""
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            await within(client.publish(self.route.status, self.route.offline, retain=True), 1.0)


def _cancelled_meanwhile() -> None:
    """Raise the cancellation aiomqtt lost: on Python 3.11 its
    ``asyncio.wait_for`` can swallow a cancel that arrives with the broker's
    answer (CPython gh-86296) and raise the refusal instead, and the loop
    would retry for ever while whoever stops it waits."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def route_of(block: Any) -> MqttRoute | None:
    """The broker route of a ``push`` block (enrolment reply, identity file);
    None for the hub — also when there is no block (identities from before
    the server named the channel). ValueError when it is malformed."""
    if block is None:
        return None
    if not isinstance(block, Mapping):
        raise ValueError("the push channel is not an object")
    channel = block.get("channel")
    if channel == "mqtt":
        return MqttRoute.from_json(block)
    if channel != "hub":  # a newer server's channel: the hub, else polling, still works
        log.warning("unknown push channel %r; trying the hub", channel)
    return None
