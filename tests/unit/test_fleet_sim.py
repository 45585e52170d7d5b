"""The simulator's wire codecs and arithmetic, without a server."""

from __future__ import annotations

import struct

from typer.testing import CliRunner

from lianbo.protocol import mqtt_wire
from lianbo.sim import wire
from lianbo.sim.cli import sim_app
from lianbo.sim.run import Endpoint, default_processes, percentiles
from lianbo.sim.screens import source_address


def unmask(frame: bytes) -> tuple[int, bytes]:
    assert frame[1] & 0x80, "client frames are masked"
    n, at = frame[1] & 0x7F, 2
    if n == 126:
        n, at = struct.unpack_from("!H", frame, 2)[0], 4
    mask, body = frame[at : at + 4], frame[at + 4 :]
    assert len(body) == n
    return frame[0] & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(body))


def test_client_frames_are_masked_and_round_trip() -> None:
    for payload in (b"", b"hi", "联播".encode() * 30):
        assert unmask(wire.client_frame(wire.TEXT, payload)) == (wire.TEXT, payload)


def test_server_frames_are_popped_whole() -> None:
    long = b"x" * 300
    buffer = bytearray(b"\x81\x02hi" + b"\x89\x00" + b"\x81\x7e" + struct.pack("!H", 300) + long)
    buffer += b"\x81\x05par"  # incomplete: stays
    assert wire.server_frames(buffer) == [(1, b"hi"), (9, b""), (1, long)]
    assert buffer == bytearray(b"\x81\x05par")
    buffer += b"ts"
    assert wire.server_frames(buffer) == [(1, b"parts")] and not buffer


def test_mqtt_packets_round_trip() -> None:
    packet = mqtt_wire.publish(b"lianbo/r/51/push", b'{"type":"alert"}' * 20, retain=True)
    buffer = bytearray(packet + mqtt_wire.subscribe(7, [b"a/b"]))
    (first, body), (sub_first, _) = mqtt_wire.packets(buffer)
    assert first >> 4 == mqtt_wire.PUBLISH and first & 1 and sub_first == 0x82
    assert mqtt_wire.published(first, body) == (b"lianbo/r/51/push", b'{"type":"alert"}' * 20)
    assert not buffer
    half = bytearray(packet[:5])
    assert mqtt_wire.packets(half) == [] and len(half) == 5


def test_connect_carries_credentials_and_will() -> None:
    packet = mqtt_wire.connect(
        b"t1", b"t1", b"tok", mqtt_wire.Will(b"lianbo/t/t1/status", b"offline")
    )
    assert packet[0] == 0x10
    flags = packet[2 + 6 + 1]  # fixed header (2), "MQTT" string (6), level (1)
    assert flags == 0x80 | 0x40 | 0x20 | 0x04 | 0x02
    assert mqtt_wire.connect(b"anon")[9] == 0x02


def test_percentiles_use_nearest_rank() -> None:
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert percentiles(values) == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
    assert percentiles([]) == {"p50": None, "p90": None, "p99": None, "max": None}


def test_screens_are_spread_over_source_addresses() -> None:
    assert source_address(0) == "127.0.1.1"
    assert source_address(249) == "127.0.1.1" and source_address(250) == "127.0.1.2"
    assert source_address(20_000) == "127.0.2.1"
    assert default_processes(1) == 1 and default_processes(10_000) == 2
    assert default_processes(15_000) == 2 and default_processes(15_001) == 3


def test_endpoints_parse() -> None:
    assert Endpoint.parse("http://127.0.0.1:8000") == Endpoint("127.0.0.1", 8000)
    assert Endpoint.parse("broker.example:1883") == Endpoint("broker.example", 1883)
    assert Endpoint.parse("http://host") == Endpoint("host", 80)


def test_the_cli_refuses_bad_input_in_one_line() -> None:
    runner = CliRunner()
    result = runner.invoke(sim_app, ["--terminals", "5", "--fleet", "carrier-pigeon"])
    assert result.exit_code != 0
    result = runner.invoke(
        sim_app, ["--terminals", "5", "--server", "http://127.0.0.1:9", "--password", "x"]
    )
    assert result.exit_code == 1 and result.output.startswith("error:")
