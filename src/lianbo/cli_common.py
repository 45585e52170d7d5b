"""What every ``lianbo`` subcommand shares: the consoles, ``--data-dir``,
settings, one-line failures and running async work with a container."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from lianbo.config import Settings
from lianbo.domain.errors import DomainError
from lianbo.domain.text import refusal, refused_character

if TYPE_CHECKING:
    from lianbo.bootstrap import Container

console = Console()
err = Console(stderr=True)
T = TypeVar("T")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (default: $LIANBO_DATA_DIR).")
]


def fail(message: str) -> None:
    """One line on stderr and a non-zero exit."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


def load_settings(data_dir: Path | None) -> Settings:
    """Settings from the environment (and ``--data-dir``); bad ones are one line."""
    try:
        return Settings(data_dir=data_dir) if data_dir else Settings()
    except Exception as error:  # pydantic ValidationError, bad TOML
        fail(f"bad settings: {str(error).splitlines()[0]}")
        raise


def refuse_controls(**values: str) -> None:
    """Command-line text held to the one text rule (``domain.text``): a
    control character is a one-line error before anything is stored."""
    for field, value in values.items():
        character = refused_character(value)
        if character is not None:
            fail(refusal(field, character))


def run_async(work: Awaitable[T]) -> T:
    """Run ``work``; a refused act or a file system error is a one-line exit."""

    async def main() -> T:
        return await work

    try:
        return asyncio.run(main())
    except DomainError as error:
        fail(f"{error.field + ': ' if error.field else ''}{error.message}")
        raise
    except OSError as error:  # a full disk, a folder we may not write
        fail(f"{error.filename or ''}: {error.strerror or error}".lstrip(": "))
        raise


def run(work: Callable[[Container], Awaitable[T]], settings: Settings) -> T:
    """Run an async job with a container, closed afterwards."""
    from lianbo.bootstrap import bootstrap

    async def with_container() -> T:
        container = bootstrap(settings)
        try:
            return await work(container)
        finally:
            await container.close()

    return run_async(with_container())


async def initialise_data_dir(container: Container) -> None:
    """Migrate the store, load regions, make a signing key if there is none."""
    from lianbo.services.setup import initialise

    report = await initialise(container)
    console.print(
        f"data dir [bold]{container.settings.data_dir}[/bold] ready; "
        f"{report.regions_loaded} regions loaded; signing key {report.key_id}"
    )
