"""``lianbo regions``: outlines an admin loads, townships and villages in bulk.

    lianbo regions outlines load FILE.geojson [--property code]
    lianbo regions import FILE.csv|FILE.json

Both act as the built-in admin (``SYSTEM``) on the data dir's store, are
audited, and are one transaction: a bad file changes nothing and is one
line on stderr with a non-zero exit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from lianbo.cli_common import DataDir, console, err, fail, load_settings, run
from lianbo.config import Settings

if TYPE_CHECKING:
    from lianbo.bootstrap import Container

regions_app = typer.Typer(help="Region outlines, township and village codes.", no_args_is_help=True)
outlines_app = typer.Typer(help="Region outlines drawn on maps (ADR 0026).", no_args_is_help=True)
regions_app.add_typer(outlines_app, name="outlines")
MAX_CODES_BYTES = 500 * 1024 * 1024  # the bureau's full five-level CSV is ~40 MB


def _read(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            fail(f"{path} is over {limit // (1024 * 1024)} MiB")
        data = path.read_bytes()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")
        raise
    if not data.strip():
        fail(f"{path} is empty")
    return data


def _store(data_dir: Path | None) -> Settings:
    """Settings of an initialised store (else a one-line error)."""
    settings = load_settings(data_dir)
    if settings.is_sqlite and not settings.sqlite_path.exists():
        fail(f"no database in {settings.data_dir} (run lianbo init first)")
    return settings


def _run(work: Callable[[Container], Awaitable[None]], settings: Settings) -> None:
    """Run with a container; a store that cannot be read is one line."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        run(work, settings)
    except SQLAlchemyError as error:  # no schema yet, unreachable server
        fail(f"cannot write to the store: {type(error).__name__} (run lianbo init first?)")


class _Bar:
    """A progress bar on stderr (drawn only on a terminal), shown from the
    first batch written: a store that fails before that stays one line."""

    def __init__(self, total: int, what: str) -> None:
        self.bar = Progress(
            TextColumn(what), BarColumn(), MofNCompleteColumn(), console=err, transient=True
        )
        self.task = self.bar.add_task(what, total=total)

    def advance(self, done: int) -> None:
        self.bar.start()  # idempotent
        self.bar.advance(self.task, done)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


@outlines_app.command("load")
def outlines_load(
    file: Annotated[Path, typer.Argument(help="A GeoJSON FeatureCollection of (Multi)Polygons.")],
    prop: Annotated[
        str, typer.Option("--property", help="The feature property holding the region code.")
    ] = "code",
    data_dir: DataDir = None,
) -> None:
    """Load region outlines (e.g. townships); they override the shipped ones."""
    from lianbo.adapters.geo.outline_file import (
        MAX_FILE_BYTES,
        OutlineFileError,
        parse_collection,
        read_features,
    )

    data = _read(file, MAX_FILE_BYTES)
    try:
        features = list(read_features(parse_collection(data), prop))
    except OutlineFileError as error:
        fail(f"{file.name}: {error}")
        raise
    settings = _store(data_dir)

    async def work(container: Container) -> None:
        from lianbo.domain.users import SYSTEM
        from lianbo.services.outlines import load_outlines

        with _Bar(len(features), "outlines") as bar:
            async with container.uow() as uow:
                count = await load_outlines(
                    uow, container.clock, SYSTEM, features, source=file.name, progress=bar.advance
                )
        console.print(f"{count} region outlines loaded from {file.name}", highlight=False)

    _run(work, settings)


@regions_app.command("import")
def regions_import(
    file: Annotated[Path, typer.Argument(help="The statistics bureau's codes: CSV or JSON.")],
    data_dir: DataDir = None,
) -> None:
    """Import township and village codes (12-digit, five levels) in bulk."""
    from lianbo.domain.errors import InvalidInput
    from lianbo.domain.region_file import parse_csv, parse_json

    data = _read(file, MAX_CODES_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{file.name}: not UTF-8 text")
        raise
    try:
        records = parse_json(json.loads(text)) if text.lstrip()[:1] in "[{" else parse_csv(text)
    except ValueError:  # json.JSONDecodeError
        fail(f"{file.name}: not valid JSON")
        raise
    except InvalidInput as error:
        fail(f"{file.name}: {error.message}")
        raise
    settings = _store(data_dir)

    async def work(container: Container) -> None:
        from lianbo.domain.users import SYSTEM
        from lianbo.services.region_import import import_regions

        with _Bar(len(records), "regions") as bar:
            async with container.uow() as uow:
                report = await import_regions(
                    uow, container.clock, SYSTEM, records, source=file.name, progress=bar.advance
                )
        console.print(
            f"{report.added} regions added from {file.name} ({report.known} already known)",
            highlight=False,
        )

    _run(work, settings)
