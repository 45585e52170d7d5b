"""The anchor log file, the signature check and the copies (syslog)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from lianbo.adapters.anchors import (
    FileAnchorLog,
    SyslogAnchorSink,
    WebhookAnchorSink,
    anchor_sinks,
    signature_check,
)
from lianbo.adapters.keys import KeyRing
from lianbo.config import Settings
from lianbo.domain.audit_anchors import Anchor

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def anchor(seq: int) -> Anchor:
    return Anchor(seq, f"{seq:064x}", T0, "0123456789abcdef", "c2ln")


async def test_an_anchor_is_appended_as_one_json_line_and_read_back(tmp_path: Path) -> None:
    log = FileAnchorLog(tmp_path / "data" / "audit-anchors.jsonl")
    assert await log.read() == []
    seen: list[Anchor | None] = []

    def make(seq: int) -> Callable[[Anchor | None], Anchor]:
        def decide(last: Anchor | None) -> Anchor:
            seen.append(last)
            return anchor(seq)

        return decide

    assert await log.append_next(make(3)) == anchor(3)
    assert await log.append_next(make(7)) == anchor(7)
    assert seen == [None, anchor(3)]  # make is shown the newest anchor
    text = log.path.read_text()
    assert text.endswith("\n") and len(text.splitlines()) == 2
    assert json.loads(text.splitlines()[1]) == anchor(7).to_json()
    assert [line.anchor for line in await log.read()] == [anchor(3), anchor(7)]


async def test_nothing_is_written_when_make_declines(tmp_path: Path) -> None:
    log = FileAnchorLog(tmp_path / "audit-anchors.jsonl")
    assert await log.append_next(lambda last: None) is None
    assert log.path.read_bytes() == b""


async def test_a_torn_last_line_stays_alone_and_is_skipped(tmp_path: Path) -> None:
    log = FileAnchorLog(tmp_path / "audit-anchors.jsonl")
    await log.append_next(lambda last: anchor(1))
    with log.path.open("a") as handle:
        handle.write('{"type": "lianbo.audit.an')  # power lost in the middle of a line
    newest: list[Anchor | None] = []
    await log.append_next(lambda last: newest.append(last) or anchor(2))
    assert newest == [anchor(1)]
    assert [(line.number, line.anchor) for line in await log.read()] == [
        (1, anchor(1)),
        (2, None),
        (3, anchor(2)),
    ]


def test_appends_from_many_writers_never_interleave_or_double(tmp_path: Path) -> None:
    path = tmp_path / "audit-anchors.jsonl"

    def once(_: int) -> Anchor | None:
        # Every writer wants to anchor head 5: the lock lets only the first do it.
        return FileAnchorLog(path)._append_next(
            lambda last: None if last and last.seq >= 5 else anchor(5)
        )

    def many(worker: int) -> None:
        log = FileAnchorLog(path)
        for i in range(40):
            log._append_next(lambda last, i=i: anchor(100 * (worker + 1) + i))

    with ThreadPoolExecutor(8) as pool:
        assert sum(a is not None for a in pool.map(once, range(8))) == 1
        list(pool.map(many, range(8)))
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 8 * 40
    assert all(json.loads(line)["type"] == "lianbo.audit.anchor" for line in lines)


def test_the_signature_check_knows_the_control_centres_keys(tmp_path: Path) -> None:
    keys = KeyRing(tmp_path / "keys")
    old = keys.signer()
    keys.rotate()  # an anchor signed by an older key still checks
    unsigned = Anchor(9, "a" * 64, T0, old.key_id)
    good = replace(unsigned, signature=old.sign(unsigned.signed_bytes()))
    check = signature_check(keys.public)
    assert check(good.key_id, good.signed_bytes(), good.signature)
    assert not check(good.key_id, replace(good, seq=8).signed_bytes(), good.signature)
    assert not check("fedcba9876543210", good.signed_bytes(), good.signature)
    assert not check(good.key_id, good.signed_bytes(), "not base64!")


def test_an_anchor_signed_by_a_retired_key_still_checks(tmp_path: Path) -> None:
    keys = KeyRing(tmp_path / "keys")
    old = keys.signer()
    unsigned = Anchor(9, "a" * 64, T0, old.key_id)
    good = replace(unsigned, signature=old.sign(unsigned.signed_bytes()))
    keys.rotate()
    keys.retire(old.key_id)  # its private half is gone, its public half kept
    assert not (tmp_path / "keys" / f"{old.key_id}.pem").exists()
    check = signature_check(keys.public)
    assert check(good.key_id, good.signed_bytes(), good.signature)
    assert not check(good.key_id, replace(good, seq=8).signed_bytes(), good.signature)


def test_checking_signatures_never_creates_a_key(tmp_path: Path) -> None:
    keys = KeyRing(tmp_path / "keys")
    assert not signature_check(keys.public)("0123456789abcdef", b"x", "c2ln")
    assert not (tmp_path / "keys").exists()


def test_syslog_gets_one_datagram_per_anchor() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(30)
        (sink,) = anchor_sinks([f"syslog://127.0.0.1:{receiver.getsockname()[1]}"])
        sink.send(anchor(4))
        datagram = receiver.recv(4096).decode()
    prefix = "<37>lianbo-audit-anchor: "
    assert datagram.startswith(prefix)
    assert json.loads(datagram.removeprefix(prefix)) == anchor(4).to_json()


def test_an_absent_syslog_costs_a_warning_not_an_error(tmp_path: Path) -> None:
    SyslogAnchorSink(str(tmp_path / "no-such-socket")).send(anchor(1))


async def test_a_webhook_copy_is_queued_for_every_url() -> None:
    (sink,) = anchor_sinks(["https://a.example/anchors", "syslog", "http://b.example/x"])[:1]
    assert isinstance(sink, WebhookAnchorSink)
    sink.send(anchor(2))
    assert sink.notifier.queue.qsize() == 2
    assert sink.notifier.queue.get_nowait().payload == anchor(2).to_json()


@pytest.mark.parametrize(
    "target", ["ftp://x", "syslog://host", "syslog://:514", "syslog://h:99999", "syslog://h:５"]
)
def test_a_bad_anchor_target_is_refused_by_the_settings(target: str) -> None:
    with pytest.raises(ValidationError, match="audit anchor target"):
        Settings(audit_anchor_targets=[target])


def test_the_anchor_log_has_a_fixed_name_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, audit_anchor_targets=["syslog", "https://r.example"])
    assert settings.audit_anchor_path == tmp_path / "audit-anchors.jsonl"
    assert (settings.audit_anchor_every, settings.audit_anchor_minutes) == (100, 5)


def test_a_second_writer_waits_for_the_first_to_finish_deciding(tmp_path: Path) -> None:
    path = tmp_path / "audit-anchors.jsonl"
    inside, release = threading.Event(), threading.Event()
    seen_by_second: list[Anchor | None] = []

    def first(last: Anchor | None) -> Anchor:
        inside.set()
        release.wait(60)
        return anchor(5)

    def second(last: Anchor | None) -> None:
        seen_by_second.append(last)

    a = threading.Thread(target=FileAnchorLog(path)._append_next, args=(first,))
    a.start()
    inside.wait(60)
    b = threading.Thread(target=FileAnchorLog(path)._append_next, args=(second,))
    b.start()
    b.join(0.5)  # without the lock it would decide now, before the first anchor exists
    release.set()
    a.join(60)
    b.join(60)
    assert seen_by_second == [anchor(5)]
