"""``lianbo sim``: a fleet of virtual screens against a running server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Literal

import httpx
import typer

from lianbo.player.tls import BadCaFile, read_ca
from lianbo.sim.admin import AdminError
from lianbo.sim.run import SimOptions, simulate

sim_app = typer.Typer(help="Simulate a fleet of screens and measure push propagation.")


@sim_app.command()
def sim(
    terminals: Annotated[int, typer.Option(help="How many virtual screens.", min=1, max=100_000)],
    server: Annotated[str, typer.Option(help="The lianbo server.")] = "http://127.0.0.1:8000",
    user: Annotated[str, typer.Option(help="An admin user (creates the screens).")] = "admin",
    password: Annotated[str, typer.Option(help="Its password.", envvar="LIANBO_SIM_PASSWORD")] = "",
    fleet: Annotated[str, typer.Option(help="hub (WebSocket) or mqtt.")] = "hub",
    processes: Annotated[
        int | None, typer.Option(help="Worker processes (default: one per 5,000).", min=1)
    ] = None,
    region: Annotated[
        str, typer.Option(help="Where the screens are (and what is published).")
    ] = "51",
    broker: Annotated[
        str, typer.Option(help="MQTT broker host:port (--fleet mqtt).")
    ] = "127.0.0.1:1883",
    rounds: Annotated[int, typer.Option(help="Schedules to publish and time.", min=1)] = 1,
    mqtt_password_file: Annotated[
        Path | None, typer.Option(help="mosquitto password file to add the screens to.")
    ] = None,
    mqtt_pid: Annotated[int | None, typer.Option(help="mosquitto's pid, to reload it.")] = None,
    ca_file: Annotated[
        Path | None, typer.Option(help="CA certificate (PEM) to trust for an https server.")
    ] = None,
) -> None:
    """Enrol N screens through the admin API, connect them, publish, time it."""
    if fleet not in ("hub", "mqtt"):
        raise typer.BadParameter("hub or mqtt", param_hint="--fleet")
    kind: Literal["hub", "mqtt"] = "hub" if fleet == "hub" else "mqtt"
    try:
        ca_pem = read_ca(ca_file) if ca_file is not None else None
    except BadCaFile as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    options = SimOptions(
        server=server,
        terminals=terminals,
        user=user,
        password=password,
        fleet=kind,
        processes=processes,
        region=region,
        broker=broker,
        rounds=rounds,
        mqtt_password_file=mqtt_password_file,
        mqtt_pid=mqtt_pid,
        ca_pem=ca_pem,
    )
    try:
        report = asyncio.run(simulate(options))
    except (AdminError, OSError, httpx.HTTPError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(report, ensure_ascii=False))
