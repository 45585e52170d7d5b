"""Alarm webhooks delivered to a real local HTTP receiver, with retry."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from lianbo.adapters.notify.webhooks import WebhookNotifier
from tests.integration.monitoring.helpers import screen
from tests.support.env import Env
from tests.support.waiting import HANG_GUARD_S, until

pytestmark = pytest.mark.integration


class Receiver:
    """A tiny HTTP server that fails its first ``failures`` requests with 503."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.attempts += 1
                if receiver.attempts <= receiver.failures:
                    self.send_response(503)
                else:
                    receiver.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(failures=2)
    yield found
    found.close()


async def test_alarm_events_reach_the_receiver_after_failures(env: Env, receiver: Receiver) -> None:
    monitor = env.container.monitor
    # (a request timeout a loaded machine cannot reach: the attempts are counted)
    notifier = WebhookNotifier([receiver.url], base_delay=0.05, max_delay=0.2, timeout=HANG_GUARD_S)
    monitor.notifier = notifier
    monitor.desk.notifier = notifier
    worker = asyncio.create_task(notifier.run())
    try:
        admin = await env.as_role()
        terminal_id, headers = await screen(env, admin)
        await env.client.post("/terminal/v1/heartbeat", headers=headers)
        env.clock.advance(seconds=61)
        await monitor.sweep()
        await until(lambda: len(receiver.received) == 1)
        assert receiver.attempts == 3  # two 503s, then delivered
        event = receiver.received[0]
        assert event["event"] == "opened"
        assert event["alarm"]["type"] == "offline" and event["alarm"]["terminal_id"] == terminal_id
        alarm_id = event["alarm"]["id"]
        await env.client.post(f"/api/v1/alarms/{alarm_id}/ack", headers=admin)
        await env.client.post(f"/api/v1/alarms/{alarm_id}/resolve", headers=admin)
        await until(lambda: len(receiver.received) == 3)
        assert [e["event"] for e in receiver.received] == ["opened", "acknowledged", "resolved"]
        assert receiver.received[2]["alarm"]["state"] == "resolved"
        # The receiver has the last one before the notifier has its answer.
        await until(lambda: notifier.delivered == 3 and notifier.idle, "the last answer")
        assert notifier.failed == 2
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def test_an_unreachable_receiver_is_given_up_without_stopping_the_rest(
    receiver: Receiver,
) -> None:
    receiver.failures = 0
    notifier = WebhookNotifier(
        ["http://127.0.0.1:9/nothing-listens", receiver.url],
        attempts=3,
        base_delay=0.01,
        timeout=HANG_GUARD_S,
    )
    worker = asyncio.create_task(notifier.run())
    try:
        notifier.notify({"event": "opened", "alarm": {"id": "a1"}})
        notifier.notify({"event": "resolved", "alarm": {"id": "a1"}})
        await until(lambda: notifier.idle and notifier.dropped == 2)
        assert [e["event"] for e in receiver.received] == ["opened", "resolved"]
        assert notifier.failed == 6  # three attempts for each event to the dead URL
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


def test_backoff_doubles_up_to_the_cap() -> None:
    notifier = WebhookNotifier([], base_delay=1.0, max_delay=8.0)
    delays = [notifier.delay(n) for n in range(1, 7)]
    assert 0.8 <= delays[0] <= 1.2 and 1.6 <= delays[1] <= 2.4
    assert all(6.4 <= d <= 9.6 for d in delays[3:])
