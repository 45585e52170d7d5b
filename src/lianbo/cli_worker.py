"""Process roles (ADR 0012): ``lianbo worker``, and the checks every
long-running process makes before it starts (role, single SQLite process)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Annotated, Any, BinaryIO

import typer

from lianbo.cli_common import DataDir, err, fail, initialise_data_dir, load_settings, run
from lianbo.config import Settings


def register(app: typer.Typer) -> None:
    """Add ``lianbo worker`` to the ``lianbo`` app."""
    app.command()(worker)


def start_process(settings: Settings, role: str) -> BinaryIO | None:
    """Refuse what cannot work, before touching the store.

    SQLite serves one process in role ``all``; on it, this process takes the
    data dir's lock (kept by the returned file, held until exit)."""
    from lianbo.adapters.process_lock import DataDirInUse, hold_data_dir

    if not settings.is_sqlite:
        return None
    if role != "all":
        fail(
            f"role {role!r} needs PostgreSQL (set LIANBO_DATABASE_URL); "
            "the embedded SQLite store runs as one process in role 'all'"
        )
    try:
        return hold_data_dir(settings.data_dir)
    except DataDirInUse:
        fail(
            f"another lianbo process is using {settings.data_dir}; SQLite is for one "
            "process: use PostgreSQL (LIANBO_DATABASE_URL) for more than one"
        )
        raise


MetricsPort = Annotated[
    int | None,
    typer.Option(
        "--metrics-port",
        min=1,
        max=65535,
        help="Serve /metrics and /healthz on this port (for Prometheus; none by default).",
    ),
]
MetricsHost = Annotated[
    str, typer.Option("--metrics-host", help="Address for --metrics-port (keep it private).")
]


def worker(
    data_dir: DataDir = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
) -> None:
    """Run background jobs (QC, screening, renditions) from the PostgreSQL
    job queue; serves no HTTP but /metrics and /healthz when asked. Start as
    many as the machines allow."""
    settings = load_settings(data_dir)
    lock = start_process(settings, "worker")
    run(initialise_data_dir, settings)  # migrations, under their lock
    run_jobs(settings, metrics=(metrics_host, metrics_port) if metrics_port else None)
    del lock


def run_jobs(settings: Settings, metrics: tuple[str, int] | None = None) -> None:
    """Work the job queue until SIGINT or SIGTERM, then stop cleanly; with
    ``metrics`` (host, port) also answer /metrics and /healthz there."""
    from lianbo.bootstrap import bootstrap
    from lianbo.logs import configure_logging
    from lianbo.services.ingest import run_worker

    configure_logging(settings.log_level, json=settings.log_json)

    async def main() -> None:
        container = bootstrap(settings)
        await container.bus.start()  # every process hears every event (ADR 0010)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        tasks = [asyncio.create_task(run_worker(container))]
        server = _metrics_server(container, metrics) if metrics else None
        if server is not None:
            tasks.append(asyncio.create_task(server.serve()))
        try:
            await stop.wait()
        finally:
            if server is not None:
                server.should_exit = True
            tasks[0].cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await container.bus.stop()
            await container.close()

    err.print("worker: running jobs (Ctrl-C stops)", highlight=False)
    asyncio.run(main())


def _metrics_server(container: Any, where: tuple[str, int]) -> Any:
    """uvicorn serving the worker's /metrics and /healthz; the worker, not
    uvicorn, owns the signals (it stops the jobs first)."""
    import uvicorn

    from lianbo.api.worker_app import create_worker_app

    class Quiet(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    host, port = where
    config = uvicorn.Config(create_worker_app(container), host=host, port=port, log_level="warning")
    return Quiet(config)
