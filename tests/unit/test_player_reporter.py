"""Play logs: batched, kept on disk and bounded, tolerant of a server without them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from lianbo.player.api import TerminalApi, Unreachable
from lianbo.player.reporter import HttpReporter, PlayLogBook
from lianbo.protocol.reports import PlayLogEntry

T = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def entry(n: int) -> PlayLogEntry:
    return PlayLogEntry(f"{n:064x}", "s1", T + timedelta(seconds=n), T + timedelta(seconds=n + 1))


def test_the_book_survives_a_restart_and_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "playlog.jsonl"
    book = PlayLogBook(path, limit=5)
    for n in range(12):
        book.record(entry(n))
    assert [e.started_at.second for e in book.pending] == [7, 8, 9, 10, 11]
    assert book.dropped == 7
    path.write_text(path.read_text() + '{"sha256": "cut sh')  # a power cut mid-line
    again = PlayLogBook(path, limit=5)
    assert list(again.pending) == list(book.pending)
    assert len(path.read_text().splitlines()) <= 2 * 5 + 1


class Centre:
    def __init__(self, status: int) -> None:
        self.status = status
        self.bodies: list[dict[str, object]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.status == 0:
            raise httpx.ConnectError("refused")
        self.bodies.append(json.loads(request.content))
        return httpx.Response(self.status, json={})


def reporter(tmp: Path, centre: Centre) -> HttpReporter:
    client = httpx.AsyncClient(transport=httpx.MockTransport(centre))
    return HttpReporter(PlayLogBook(tmp / "log.jsonl"), TerminalApi("http://c", "tok", client))


async def test_entries_go_out_in_the_protocol_shape(tmp_path: Path) -> None:
    centre = Centre(200)
    sending = reporter(tmp_path, centre)
    sending.record(entry(1))
    await sending.flush()
    assert centre.bodies == [
        {
            "entries": [
                {
                    "sha256": f"{1:064x}",
                    "schedule_id": "s1",
                    "started_at": "2026-11-23T10:00:01+00:00",
                    "ended_at": "2026-11-23T10:00:02+00:00",
                }
            ]
        }
    ]
    assert not sending.book.pending and sending.sent == 1


@pytest.mark.parametrize("status", [404, 405, 503])
async def test_a_server_without_play_logs_or_down_keeps_them(tmp_path: Path, status: int) -> None:
    sending = reporter(tmp_path, Centre(status))
    sending.record(entry(1))
    if status >= 500:
        with pytest.raises(Unreachable):
            await sending.flush()
    else:
        await sending.flush()
    assert len(sending.book.pending) == 1


async def test_a_batch_the_server_will_never_take_is_dropped(tmp_path: Path) -> None:
    sending = reporter(tmp_path, Centre(422))
    sending.record(entry(1))
    await sending.flush()
    assert not sending.book.pending
