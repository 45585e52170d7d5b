"""``lianbo backup DEST`` and ``lianbo restore SRC`` (docs/operations.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from lianbo.cli_common import DataDir, console, err, load_settings, run_async
from lianbo.config import Settings
from lianbo.domain.backup import BackupManifest


def register(app: typer.Typer) -> None:
    """Add the two commands to the ``lianbo`` app."""
    app.command()(backup)
    app.command()(restore)


def backup(
    dest: Annotated[Path, typer.Argument(help="New (or empty) folder to write the backup to.")],
    no_media: Annotated[
        bool, typer.Option("--no-media", help="List the media files, do not copy them.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Write a consistent backup of the running deployment to DEST (it is secret)."""
    from lianbo.bootstrap import blob_store, store_dump
    from lianbo.domain.ports import SystemClock
    from lianbo.services.backup import backup as make_backup

    settings = load_settings(data_dir)
    manifest = run_async(
        make_backup(
            settings,
            store_dump(settings),
            dest,
            SystemClock(),
            media=not no_media,
            progress=_phase("backup"),
            blobs=blob_store(settings),
        )
    )
    _summary(f"backup written to [bold]{dest}[/bold]", manifest)
    if manifest.media.missing:
        err.print(
            f"[yellow]warning:[/yellow] {len(manifest.media.missing)} referenced media files "
            f"are missing or damaged in {_media_place(settings)} (listed in backup.json)",
            highlight=False,
        )


def restore(
    src: Annotated[Path, typer.Argument(help="A folder written by lianbo backup.")],
    check: Annotated[
        bool, typer.Option("--check", help="Only check the backup is complete and intact.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Restore SRC into an empty data dir and an empty database."""
    from lianbo.bootstrap import blob_store, store_dump
    from lianbo.services.restore import check_backup
    from lianbo.services.restore import restore as load

    settings = load_settings(data_dir)
    if check:
        checked, _ = run_async(asyncio.to_thread(check_backup, src))
        _summary(f"backup [bold]{src}[/bold] is complete and intact", checked)
        return
    blobs = blob_store(settings)
    manifest = run_async(
        load(settings, store_dump(settings), src, progress=_phase("restore"), blobs=blobs)
    )
    _summary(f"restored into [bold]{settings.data_dir}[/bold]", manifest)
    console.print("next: lianbo audit verify, then lianbo serve")


def _media_place(settings: Settings) -> str:
    if settings.media_store == "s3":
        return f"bucket {settings.s3_bucket}"
    return str(settings.media_dir)


def _summary(headline: str, manifest: BackupManifest) -> None:
    media = manifest.media
    console.print(
        f"{headline}: {manifest.store} revision {manifest.revision}, "
        f"{manifest.counts.get('audit_log', 0)} audit entries, "
        f"{manifest.counts.get('terminals', 0)} terminals, {manifest.keys} keys, "
        f"{media.listed} media files {'copied' if media.included else 'listed'}, "
        f"made {manifest.created_at.isoformat(timespec='seconds')}",
        highlight=False,
        soft_wrap=True,
    )


def _phase(command: str) -> Callable[[str], None]:
    def show(phase: str) -> None:
        console.print(f"{command}: {phase}", highlight=False)

    return show
