"""``lianbo player`` refuses bad input with one line and a non-zero exit."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from lianbo.player import identity as store
from lianbo.player.cli import player, player_app
from lianbo.player.identity import Identity
from tests.support.certs import Ca

# Registered the way the main CLI does it (a second command keeps "player"
# a subcommand, as in ``lianbo``).
app = typer.Typer()
app.command("player")(player)
app.command("version")(lambda: None)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["player", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--enrol", "ABCD-EFGH"], "--enrol needs --server URL"),
        (["--backend", "vlc"], "unknown backend 'vlc'"),
        (["--server", "nowhere", "--enrol", "ABCD-EFGH"], "not an http(s) URL"),
        ([], "not enrolled"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(tmp_path: Path, args: list[str], message: str) -> None:
    code, output = run(*args, "--state-dir", str(tmp_path))
    assert code == 1
    assert message in output
    assert len(output.strip().splitlines()) == 1


def test_an_unreachable_server_fails_enrolment_cleanly(tmp_path: Path) -> None:
    code, output = run(
        "--server", "http://127.0.0.1:9", "--enrol", "ABCD-EFGH", "--state-dir", str(tmp_path)
    )
    assert code == 1 and "cannot reach http://127.0.0.1:9" in output


@pytest.mark.skipif(importlib.util.find_spec("mpv") is not None, reason="python-mpv installed")
def test_mpv_missing_is_said_plainly(tmp_path: Path) -> None:
    store.save(Identity("http://c.example", "t", "tok", {}, backend="mpv"), tmp_path)
    code, output = run("--state-dir", str(tmp_path))
    assert code == 1 and "the mpv backend needs python-mpv" in output


def test_a_new_server_url_is_stored(tmp_path: Path) -> None:
    store.save(Identity("http://old.example", "t", "tok", {}), tmp_path)
    code, _ = run("--state-dir", str(tmp_path), "--server", "https://new.example/", "--enrol-only")
    assert code == 0
    assert store.load(tmp_path).server == "https://new.example"


def test_a_ca_file_is_kept_in_the_identity(tmp_path: Path) -> None:
    store.save(Identity("https://c.example", "t", "tok", {}), tmp_path)
    ca = tmp_path / "centre-ca.pem"
    ca.write_text(Ca.make().pem)
    code, _ = run("--state-dir", str(tmp_path), "--ca-file", str(ca), "--enrol-only")
    assert code == 0
    assert store.load(tmp_path).ca == ca.read_text()
    ca.unlink()  # kept in the identity, not read from the file again
    assert store.load(tmp_path).ca is not None


def test_a_bad_ca_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    code, output = run(
        "--server", "https://c.example", "--enrol", "ABCD-EFGH", "--state-dir", str(tmp_path),
        "--ca-file", str(tmp_path / "missing.pem"),
    )  # fmt: skip
    assert code == 1 and "cannot read CA file" in output
    assert len(output.strip().splitlines()) == 1


def test_the_typer_app_can_be_added_as_a_group_too() -> None:
    main = typer.Typer()
    main.add_typer(player_app, name="player")
    main.command("version")(lambda: None)
    result = CliRunner().invoke(main, ["player", "--help"])
    assert result.exit_code == 0 and "--enrol" in result.output
