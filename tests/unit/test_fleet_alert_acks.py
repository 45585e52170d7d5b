"""Alert acks that come up the fleet channel (adapters/fleet/alert_acks.py
through the inbox): handed to the real ack batcher on a fake store, answered
on the channel once their batch commits, refused (and counted) when bad.
Socket and MQTT paths on both stores: tests/integration/fleet/test_alert_acks_channel.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from lianbo.adapters.fleet.inbox import Inbox
from lianbo.domain.errors import NotFound
from lianbo.protocol.alerts import AckAnswer, ack_answer
from lianbo.protocol.messages import Message
from lianbo.services.alert_acks import AckBatcher
from lianbo.services.alert_terminal import Ack, Acked, Outcome
from tests.support.clock import FakeClock


class Store:
    """Applies batches as the store answers them; ``missing`` is nobody's."""

    def __init__(self) -> None:
        self.batches: list[list[Ack]] = []
        self.broken = False

    async def apply(self, acks: Sequence[Ack]) -> Sequence[Outcome]:
        if self.broken:
            raise RuntimeError("connection reset")
        self.batches.append(list(acks))
        return [
            NotFound("not this screen's")
            if a.alert_id == "missing"
            else Acked(a.alert_id, a.state.value, True)
            for a in acks
        ]


class Replies:
    """The channel's late answers, by screen."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Message]] = []
        self.arrived = asyncio.Event()

    def __call__(self, terminal_id: str, message: Message) -> None:
        self.sent.append((terminal_id, message))
        self.arrived.set()

    def answers(self) -> list[tuple[str, AckAnswer | None]]:
        return [(t, ack_answer(m.body)) for t, m in self.sent if m.type == "alert-ack"]


def up(ref: str, alert_id: str, state: str, **more: object) -> str:
    body = {"type": "alert-ack", "ref": ref, "alert_id": alert_id, "state": state, **more}
    return json.dumps(body)


def inbox(store: Store, replies: Replies) -> tuple[Inbox, AckBatcher]:
    batcher = AckBatcher(store.apply)
    return Inbox(FakeClock(), alert_acks=batcher, reply=replies), batcher


async def test_an_ack_is_stored_for_the_sender_and_answered_after_the_commit() -> None:
    store, replies = Store(), Replies()
    box, _ = inbox(store, replies)
    # a terminal_id in the message is not the sender's word: the channel's is
    assert box.receive("t1", up("r1", "a1", "displayed", terminal_id="t9")) is None
    await box.settle()
    assert [(a.terminal_id, a.alert_id, a.state.value) for a in store.batches[0]] == [
        ("t1", "a1", "displayed")
    ]
    assert replies.answers() == [("t1", AckAnswer("r1", "a1", "displayed", changed=True))]


async def test_acks_from_many_screens_go_in_one_batch_in_order() -> None:
    store, replies = Store(), Replies()
    box, batcher = inbox(store, replies)
    for i in range(5):
        box.receive(f"t{i}", up(f"r{i}", "a1", "received"))
        box.receive(f"t{i}", up(f"s{i}", "a1", "displayed"))
    await box.settle()
    assert batcher.batches == 1
    assert [(a.terminal_id, a.state.value) for a in store.batches[0]][:2] == [
        ("t0", "received"),
        ("t0", "displayed"),
    ]
    assert len(replies.answers()) == 10


async def test_an_ack_for_an_alert_not_the_screens_is_refused_for_good() -> None:
    store, replies = Store(), Replies()
    box, _ = inbox(store, replies)
    box.receive("t1", up("r1", "missing", "displayed"))
    await box.settle()
    [(_, answer)] = replies.answers()
    assert answer is not None and answer.refused == "not_found" and answer.final


async def test_an_unknown_state_is_refused_at_once() -> None:
    store, replies = Store(), Replies()
    box, _ = inbox(store, replies)
    reply = box.receive("t1", up("r1", "a1", "shown"))
    assert reply is not None
    answer = ack_answer(reply.body)
    assert answer is not None and answer.refused == "invalid" and answer.final
    assert store.batches == []


async def test_a_store_failure_asks_the_screen_to_ack_again() -> None:
    store, replies = Store(), Replies()
    store.broken = True
    box, _ = inbox(store, replies)
    box.receive("t1", up("r1", "a1", "displayed"))
    await box.settle()
    [(_, answer)] = replies.answers()
    assert answer is not None and answer.retry_after is not None and not answer.final


async def test_after_close_an_ack_is_refused_with_retry() -> None:
    store, replies = Store(), Replies()
    box, batcher = inbox(store, replies)
    await batcher.close()
    reply = box.receive("t1", up("r1", "a1", "displayed"))
    assert reply is not None
    answer = ack_answer(reply.body)
    assert answer is not None and answer.refused == "unavailable" and not answer.final


async def test_malformed_or_oversized_acks_are_dropped_and_counted() -> None:
    store, replies = Store(), Replies()
    box, _ = inbox(store, replies)
    bad = [
        up("r1", "a1", "displayed", pad="x" * 17_000),  # oversized
        json.dumps({"type": "alert-ack", "alert_id": "a1", "state": "displayed"}),  # no ref
        up("r1", "a1", "failed", reason=["not", "text"]),
        "{not json",
    ]
    for raw in bad:
        assert box.receive("t1", raw) is None
    await box.settle()
    assert box.dropped == len(bad)
    assert store.batches == [] and replies.sent == []


async def test_without_a_batcher_alert_acks_are_dropped() -> None:
    box = Inbox(FakeClock())
    assert box.receive("t1", up("r1", "a1", "displayed")) is None
    assert box.dropped == 1
