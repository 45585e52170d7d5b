"""The ``lianbo`` command. Thin: parse, call a service, print."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lianbo.bootstrap import Container
from lianbo.cli_alerts import alert_app
from lianbo.cli_backup import register as register_backup
from lianbo.cli_cap import cap_app
from lianbo.cli_common import (
    DataDir,
    console,
    fail,
    initialise_data_dir,
    load_settings,
    refuse_controls,
    run,
)
from lianbo.cli_keys import keys_app
from lianbo.cli_regions import regions_app
from lianbo.cli_worker import register as register_worker
from lianbo.cli_worker import run_jobs, start_process

if TYPE_CHECKING:
    from lianbo.api.app import Job
from lianbo.config import Settings
from lianbo.domain.users import SYSTEM, parse_role
from lianbo.logs import configure_logging
from lianbo.player.cli import player as player_command
from lianbo.sim.cli import sim as sim_command

app = typer.Typer(
    help="lianbo (联播): broadcast control for networks of UHD screens.", no_args_is_help=True
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(alert_app, name="alert")
register_backup(app)  # lianbo backup DEST, lianbo restore SRC
app.add_typer(keys_app, name="keys")
app.add_typer(cap_app, name="cap-senders")
app.add_typer(regions_app, name="regions")  # outlines load, import
register_worker(app)  # lianbo worker


@app.command()
def init(data_dir: DataDir = None) -> None:
    """Create the data dir, run migrations, load regions, make keys."""
    run(initialise_data_dir, load_settings(data_dir))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    data_dir: DataDir = None,
) -> None:
    """Migrate, then serve the API, console and terminal endpoints
    (``LIANBO_ROLE``: ``all`` also runs the jobs; ``worker`` only runs them,
    answering just /metrics and /healthz on the port)."""
    settings = load_settings(data_dir)
    lock = start_process(settings, settings.role)  # held while this process lives
    run(initialise_data_dir, settings)
    if settings.role == "worker":
        run_jobs(settings, metrics=(host, port))
    else:
        _serve(settings, host, port)
    del lock


def _serve(settings: Settings, host: str, port: int, *, background: Sequence[Job] = ()) -> None:
    import uvicorn

    from lianbo.api.app import create_app
    from lianbo.api.serving import uvicorn_config

    configure_logging(settings.log_level, json=settings.log_json)
    console.print(f"console: [bold]http://{host}:{port}/[/bold]")
    app = create_app(settings, background=background)
    uvicorn.Server(uvicorn_config(app, host=host, port=port, log_level="warning")).run()


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    data_dir: DataDir = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed only.")] = False,
) -> None:
    """Init, seed a demo province (四川省) with screens, then serve."""
    from lianbo.services.demo import ADMIN_PASSWORD, ADMIN_USERNAME, seed, simulate_fleet

    settings = load_settings(data_dir)
    lock = start_process(settings, settings.role) if not no_serve else None

    async def work(container: Container) -> None:
        await initialise_data_dir(container)
        report = await seed(container)
        console.print(
            f"demo: admin {'created' if report.admin_created else 'exists'}, "
            f"{report.terminals_created} terminals added, "
            f"{report.slides_created} demo slides approved and scheduled"
        )

    run(work, settings)
    console.rule("[bold]lianbo demo[/bold]")
    console.print(f"open      http://{host}:{port}/")
    console.print(f"username  [bold]{ADMIN_USERNAME}[/bold]")
    console.print(f"password  [bold]{ADMIN_PASSWORD}[/bold]")
    console.rule()
    if not no_serve:
        _serve(settings, host, port, background=[simulate_fleet])
    del lock


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Username.")],
    role: Annotated[
        str, typer.Option(help="admin, operator, reviewer, issuer, monitor or viewer.")
    ],
    region: Annotated[str, typer.Option(help="Jurisdiction region code, e.g. 51 or 510107.")],
    password: Annotated[str, typer.Option(help="Password (8+ characters).")],
    data_dir: DataDir = None,
) -> None:
    """Add a user with a role and a jurisdiction."""
    from lianbo.services.users import create_user

    refuse_controls(name=name, role=role, region=region, password=password)
    settings = load_settings(data_dir)

    async def work(container: Container) -> None:
        async with container.uow() as uow:
            user = await create_user(
                uow,
                container.clock,
                SYSTEM,
                username=name,
                password=password,
                role=parse_role(role),
                region=region,
            )
        console.print(f"user [bold]{user.username}[/bold] ({user.role.value}, {user.region}) added")

    run(work, settings)


@audit_app.command("verify")
def audit_verify(data_dir: DataDir = None) -> None:
    """Walk the audit chain and compare it with its anchors (writes nothing);
    name the first entry edited, deleted, missing or rewritten."""
    from sqlalchemy.exc import SQLAlchemyError

    from lianbo.services.audit_anchoring import verify

    settings = load_settings(data_dir)
    if settings.is_sqlite and not settings.sqlite_path.exists():
        fail(f"no database in {settings.data_dir} (run lianbo init first)")

    async def work(container: Container) -> None:
        try:
            report = await verify(container)
        except (SQLAlchemyError, OSError) as error:  # no schema, unreachable, unreadable file
            fail(f"cannot read the audit log: {type(error).__name__}")
            raise
        if not report.ok:
            fail(f"audit chain broken: {report.reason}")
        anchored = (
            f"anchors agree: {report.anchors} (newest: entry {report.anchored_seq})"
            if report.anchors
            else f"no anchors yet in {settings.audit_anchor_path}"
        )
        console.print(
            f"audit chain ok: {report.checked} entries verified; {anchored}",
            highlight=False,
            soft_wrap=True,  # one line, however narrow the terminal
        )

    run(work, settings)


@app.command()
def bench(
    name: Annotated[str, typer.Argument(help="Benchmark to run: api.")],
    size: Annotated[
        int | None, typer.Option(help="Scale (each benchmark's own default when omitted).", min=1)
    ] = None,
    import_rows: Annotated[int, typer.Option(help="Rows for the CSV import.", min=1)] = 10_000,
    data_dir: DataDir = None,
) -> None:
    """Run benchmark NAME from bench/ and print a one-line JSON result."""
    import importlib
    import json

    if not name.isidentifier():
        fail(f"unknown benchmark {name!r}")
    repo = Path(__file__).resolve().parents[2]
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    try:
        module = importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError:
        fail(f"unknown benchmark {name!r} (see bench/README.md)")
        raise
    # Warnings only: the in-process runs log every transition, and the
    # result must stay the one line on stdout. (Here, at the entry point:
    # a bench's run() is also called in-process by the smoke tests.)
    configure_logging("warning")
    result = module.run(size or module.DEFAULT_SIZE, data_dir, import_rows=import_rows)
    print(json.dumps(result, ensure_ascii=False))


app.command("player", help="Run this machine as a screen (enrol once, then play).")(player_command)
app.command("sim", help="Simulate N screens; measure push propagation.")(sim_command)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
