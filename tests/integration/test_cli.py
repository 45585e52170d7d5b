"""The ``lianbo`` command, run as a user would run it."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import missing

pytestmark = pytest.mark.integration

LIANBO = str(Path(sys.executable).with_name("lianbo"))


def lianbo(
    *args: str, data_dir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LIANBO, *args],
        capture_output=True,
        text=True,
        env=os.environ | {"LIANBO_DATA_DIR": str(data_dir), "COLUMNS": "200"} | (env or {}),
        timeout=120,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("demo")
    result = lianbo("demo", "--no-serve", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "lianbo-demo" in result.stdout and "http://127.0.0.1:8000/" in result.stdout
    return data_dir


def test_demo_seeds_once_and_a_second_run_adds_nothing(demo_dir: Path) -> None:
    db = sqlite3.connect(demo_dir / "lianbo.db")
    before = db.execute("select count(*), count(distinct tier) from terminals").fetchone()
    people = db.execute("select count(*) from users").fetchone()
    slides = db.execute("select count(*) from assets where review_state = 'approved'").fetchone()
    assert slides[0] >= 3
    assert before[0] >= 60 and before[1] == 3
    cities = db.execute(
        "select count(distinct substr(region_code, 1, 4)) from terminals"
    ).fetchone()
    assert cities[0] >= 5
    again = lianbo("demo", "--no-serve", data_dir=demo_dir)
    assert again.returncode == 0 and "0 terminals added" in again.stdout
    after = db.execute("select count(*) from terminals").fetchone()
    users = db.execute("select count(*) from users").fetchone()
    regions = db.execute("select count(*) from regions").fetchone()
    assert after[0] == before[0] and users[0] == people[0] and regions[0] == 3210
    again_slides = db.execute("select count(*) from assets").fetchone()
    assert again_slides[0] == slides[0]
    published = db.execute("select count(*) from schedules where state = 'published'").fetchone()
    assert published[0] == 1


def test_audit_verify_names_a_tampered_row(demo_dir: Path, tmp_path: Path) -> None:

    copy = tmp_path / "copy"
    shutil.copytree(demo_dir, copy)
    ok = lianbo("audit", "verify", data_dir=copy)
    assert ok.returncode == 0 and "audit chain ok" in ok.stdout
    db = sqlite3.connect(copy / "lianbo.db")
    db.execute('update audit_log set after = \'{"name": "forged"}\' where seq = 7')
    db.commit()
    broken = lianbo("audit", "verify", data_dir=copy)
    assert broken.returncode == 1
    assert broken.stderr.strip() == "error: audit chain broken: entry 7 was edited"


def test_user_add_then_bad_input_is_one_line(tmp_path: Path) -> None:
    assert lianbo("init", data_dir=tmp_path).returncode == 0
    added = lianbo(
        "user",
        "add",
        "wuhou",
        "--role",
        "operator",
        "--region",
        "510107000",
        "--password",
        "long-enough-1",
        data_dir=tmp_path,
    )
    assert added.returncode == 0 and "(operator, 510107)" in added.stdout
    for args, words in [
        (["--role", "king", "--region", "51", "--password", "long-enough-1"], "role"),
        (["--role", "viewer", "--region", "99", "--password", "long-enough-1"], "region"),
        (["--role", "viewer", "--region", "51", "--password", "short"], "password"),
    ]:
        bad = lianbo("user", "add", "someone", *args, data_dir=tmp_path)
        assert bad.returncode == 1
        assert len(bad.stderr.strip().splitlines()) == 1 and words in bad.stderr
    dup = lianbo(
        "user",
        "add",
        "wuhou",
        "--role",
        "viewer",
        "--region",
        "51",
        "--password",
        "long-enough-1",
        data_dir=tmp_path,
    )
    assert dup.returncode == 1 and "taken" in dup.stderr


def test_settings_come_from_a_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "lianbo.toml"
    data_dir = tmp_path / "from-toml"
    config.write_text(f'data_dir = "{data_dir}"\n')
    env = {"LIANBO_CONFIG": str(config)}
    result = subprocess.run(
        [LIANBO, "init"],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "LIANBO_DATA_DIR"} | env,
    )
    assert result.returncode == 0, result.stderr
    assert (data_dir / "lianbo.db").exists() and (data_dir / "keys" / "active").exists()


def test_unknown_benchmark_is_refused(tmp_path: Path) -> None:
    result = lianbo("bench", "nope", data_dir=tmp_path)
    assert result.returncode == 1 and "unknown benchmark" in result.stderr


def test_api_benchmark_runs_at_a_small_size(tmp_path: Path) -> None:
    result = lianbo("bench", "api", "--size", "600", "--import-rows", "300", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "api" and figures["terminals"] == 600
    assert figures["import_rows"] == 300 and figures["page_ms_p50"] > 0


def test_manifests_benchmark_runs_at_a_small_size(tmp_path: Path) -> None:
    result = lianbo("bench", "manifests", "--size", "600", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["terminals"] == 600 and figures["audiences"] > 0
    assert figures["manifest_304_statuses"] == {"304": figures["manifest_304_statuses"]["304"]}
    assert figures["media_bytes"] == 600 * 10_738 // (1 << 20) * (1 << 20)


def test_user_add_refuses_a_control_character_in_one_line(tmp_path: Path) -> None:
    for args in (
        ["ro\x01ot", "--role", "viewer", "--region", "51", "--password", "long-enough-1"],
        ["root", "--role", "viewer", "--region", "51", "--password", "long-enough\x01"],
    ):
        bad = lianbo("user", "add", *args, data_dir=tmp_path)
        assert bad.returncode == 1
        assert len(bad.stderr.strip().splitlines()) == 1 and "(U+0001)" in bad.stderr


@pytest.mark.mqtt
def test_wire_benchmark_runs_at_a_small_size(tmp_path: Path) -> None:
    if shutil.which("mosquitto") is None:
        missing("mosquitto is not installed (apt-get install mosquitto)")
    result = lianbo("bench", "wire", "--size", "200", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures["mqtt"]) == {"lianbo_session", "aiomqtt", "gmqtt"}
    for client in figures["mqtt"].values():
        assert set(client) == {"busy_loop", "idle_loop"}
        assert all(0 <= run["received"] <= 200 for run in client.values())
    sides = figures["websocket"]
    assert set(sides) == {"messages", "ws_frames", "websockets_sansio"}
    for side in ("ws_frames", "websockets_sansio"):
        assert sides[side]["read_us"] > 0 and sides[side]["connection_bytes"] > 0


@pytest.mark.postgres
def test_events_benchmark_runs_at_a_small_size(tmp_path: Path) -> None:
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        missing("PostgreSQL is not installed (apt-get install postgresql)")
    result = lianbo("bench", "events", "--size", "20", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "events"
    assert figures["idle"]["received"] == 20 and figures["burst"]["received"] == 20
