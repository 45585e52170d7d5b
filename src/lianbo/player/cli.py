"""``lianbo player``: enrol this machine as a screen, then play.

    lianbo player --server https://bokong.example --enrol ABCD-EFGH [--backend mpv]
    lianbo player --server https://… --enrol CODE --ca-file centre-ca.pem   # a private CA
    lianbo player                       # later runs: the stored identity
    lianbo player --mqtt broker.example:1883   # reach the MQTT broker by another name

Every mistake ends with one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import httpx
import typer

from lianbo.player import identity as store
from lianbo.player.agent import Agent, AgentConfig
from lianbo.player.api import normalise_server
from lianbo.player.channels import with_broker
from lianbo.player.headless import HeadlessBackend
from lianbo.player.identity import BACKENDS, EnrolmentFailed, Identity, NotEnrolled
from lianbo.player.playback import Backend, BackendUnavailable
from lianbo.player.tls import BadCaFile, read_ca, server_context

player_app = typer.Typer(
    help="Run this machine as a screen: enrol once, then play.", add_completion=False
)


def fail(message: str) -> None:
    """One line on stderr and a non-zero exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


@player_app.callback(invoke_without_command=True)
def player(
    server: Annotated[
        str | None, typer.Option("--server", help="The control centre's URL (with --enrol).")
    ] = None,
    enrol: Annotated[
        str | None, typer.Option("--enrol", help="A one-time enrolment code (XXXX-XXXX).")
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option("--state-dir", help="Identity, manifest and media cache.", show_default=False),
    ] = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="headless | mpv (default: as enrolled).")
    ] = None,
    cache_mb: Annotated[int, typer.Option("--cache-mb", min=1, help="Media cache budget.")] = 8192,
    poll_seconds: Annotated[
        float, typer.Option("--poll-seconds", min=1.0, help="Manifest polls without push.")
    ] = 30.0,
    push: Annotated[
        bool, typer.Option("--push/--no-push", help="Use the push channel (hub or MQTT).")
    ] = True,
    mqtt: Annotated[
        str | None,
        typer.Option("--mqtt", help="HOST:PORT of the MQTT broker, if not the one enrolled."),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option(
            "--ca-file",
            help="A CA certificate (PEM) to trust for the server's https certificate, "
            "besides the system's; kept for later runs.",
            show_default=False,
        ),
    ] = None,
    enrol_only: Annotated[
        bool, typer.Option("--enrol-only", help="Enrol and exit without playing.")
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
) -> None:
    """Enrol with --server and --enrol, or play as the stored identity."""
    if backend is not None and backend not in BACKENDS:
        fail(f"unknown backend {backend!r} (choose {' or '.join(BACKENDS)})")
    if log_level.upper() not in logging.getLevelNamesMapping():
        fail(f"unknown log level {log_level!r}")
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    if log_level.upper() != "DEBUG":  # one line per request is for debugging
        for chatty in ("httpx", "httpcore", "websockets"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
    directory = state_dir or store.default_state_dir()
    ca = _read_ca(ca_file) if ca_file is not None else None
    identity = _identity(directory, server, enrol, backend, ca)
    if mqtt is not None:
        identity = _broker(identity, mqtt, directory)
    if enrol_only:
        return
    config = AgentConfig(
        state_dir=directory,
        cache_bytes=cache_mb * 1024 * 1024,
        poll_seconds=poll_seconds,
        push=push,
    )
    try:
        screen = make_backend(identity.backend, directory)
    except BackendUnavailable as error:
        fail(str(error))
        return
    asyncio.run(_play(Agent(identity, config, screen)))


def make_backend(name: str, state_dir: Path) -> Backend:
    """The named backend; BackendUnavailable when it cannot run here."""
    if name == "mpv":
        from lianbo.player.mpv_backend import MpvBackend

        return MpvBackend()
    return HeadlessBackend(state_dir / "headless.jsonl")


def _read_ca(path: Path) -> str:
    try:
        return read_ca(path)
    except BadCaFile as error:
        fail(str(error))
        raise


def _identity(
    directory: Path, server: str | None, code: str | None, backend: str | None, ca: str | None
) -> Identity:
    if code is not None:
        if server is None:
            fail("--enrol needs --server URL")
        assert server is not None
        try:
            identity = asyncio.run(_enrol(server, code, backend or "headless", ca))
        except EnrolmentFailed as error:
            fail(str(error))
            raise
        store.save(identity, directory)
        typer.echo(f"enrolled as terminal {identity.terminal_id} ({directory})")
        return identity
    try:
        identity = store.load(directory)
    except NotEnrolled as error:
        fail(f"{error}; run: lianbo player --server URL --enrol CODE")
        raise
    changed = identity
    if server is not None:
        try:
            changed = replace(changed, server=normalise_server(server))
        except ValueError as error:
            fail(str(error))
    if backend is not None:
        changed = replace(changed, backend=backend)
    if ca is not None:
        changed = replace(changed, ca=ca)
    if changed != identity:
        store.save(changed, directory)
    return changed


def _broker(identity: Identity, address: str, directory: Path) -> Identity:
    """The identity with its MQTT broker at ``address`` (kept for later runs)."""
    try:
        changed = replace(identity, push=with_broker(identity.push, address))
    except ValueError as error:
        fail(str(error))
        raise
    if changed != identity:
        store.save(changed, directory)
    return changed


async def _enrol(server: str, code: str, backend: str, ca: str | None) -> Identity:
    async with httpx.AsyncClient(verify=server_context(ca)) as client:
        return await store.enrol(server, code, client, backend=backend, ca=ca)


async def _play(agent: Agent) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, agent.stop)
    await agent.run()
