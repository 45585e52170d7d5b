"""Process roles (ADR 0012): ``lianbo worker``, and the checks every
long-running process makes before it starts (role, single SQLite process)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console

from lianbo.config import Settings

err = Console(stderr=True)

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (default: $LIANBO_DATA_DIR).")
]


def register(app: typer.Typer) -> None:
    """Add ``lianbo worker`` to the ``lianbo`` app."""
    app.command()(worker)


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


def start_process(settings: Settings, role: str) -> BinaryIO | None:
    """Refuse what cannot work, before touching the store.

    SQLite serves one process in role ``all``; on it, this process takes the
    data dir's lock (kept by the returned file, held until exit)."""
    from lianbo.adapters.process_lock import DataDirInUse, hold_data_dir

    if not settings.is_sqlite:
        return None
    if role != "all":
        _fail(
            f"role {role!r} needs PostgreSQL (set LIANBO_DATABASE_URL); "
            "the embedded SQLite store runs as one process in role 'all'"
        )
    try:
        return hold_data_dir(settings.data_dir)
    except DataDirInUse:
        _fail(
            f"another lianbo process is using {settings.data_dir}; SQLite is for one "
            "process: use PostgreSQL (LIANBO_DATABASE_URL) for more than one"
        )
        raise


def worker(data_dir: DataDir = None) -> None:
    """Run background jobs (QC, screening, renditions) from the PostgreSQL
    job queue; serves no HTTP. Start as many as the machines allow."""
    from lianbo.cli import _init, _settings, run

    settings = _settings(data_dir)
    lock = start_process(settings, "worker")
    run(_init, settings)  # migrations, under their lock
    run_jobs(settings)
    del lock


def run_jobs(settings: Settings) -> None:
    """Work the job queue until SIGINT or SIGTERM, then stop cleanly."""
    from lianbo.bootstrap import bootstrap
    from lianbo.logs import configure_logging
    from lianbo.services.ingest import run_worker

    configure_logging(settings.log_level, json=settings.log_json)

    async def main() -> None:
        container = bootstrap(settings)
        task = asyncio.create_task(run_worker(container))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass
        finally:
            await container.close()

    err.print("worker: running jobs (Ctrl-C stops)", highlight=False)
    asyncio.run(main())
