"""``lianbo keys list|rotate|retire``: the control centre's signing keys.

By default the private keys are files in the data dir; with several
processes they come from ``LIANBO_SIGNING_KEY_FILE`` (``lianbo keys new``
makes one), and the public keys live in the store (ADR 0014).
A rotation is signed by the old keys, so screens adopt it by themselves;
retire the old key once every screen reports the new key set's serial
(``docs/player.md``). Both acts are written to the audit log as ``system``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lianbo.cli_common import DataDir, console, fail, load_settings, run
from lianbo.domain.users import SYSTEM

if TYPE_CHECKING:
    from lianbo.bootstrap import Container

keys_app = typer.Typer(help="The control centre's signing keys.", no_args_is_help=True)


def _run_with(data_dir: Path | None, work: Callable[[Container], Awaitable[None]]) -> None:
    run(work, load_settings(data_dir))


@keys_app.command("list")
def keys_list(data_dir: DataDir = None) -> None:
    """The keys in the current key set, and the retired ones."""
    from lianbo.services import keys

    async def work(container: Container) -> None:
        found = await keys.listing(container, SYSTEM)
        table = Table("key id", "state", title=f"key set serial {found.key_set.serial}")
        for key_id in sorted(found.key_set.keys, key=lambda k: k != found.key_set.active):
            table.add_row(key_id, "active" if key_id == found.key_set.active else "trusted")
        for key_id in found.retired:
            table.add_row(key_id, "retired")
        console.print(table)

    _run_with(data_dir, work)


@keys_app.command("new")
def keys_new(
    out: Annotated[Path, typer.Option("--out", help="Where to write the private key (PEM).")],
) -> None:
    """Make a private key for LIANBO_SIGNING_KEY_FILE (appended to --out if it exists);
    give the file to every process, then `lianbo keys rotate`."""
    from lianbo.adapters.key_store import new_private_pem

    key_id, pem = new_private_pem()
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(pem)
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror or 'error'}")
    console.print(f"key [bold]{key_id}[/bold] added to {out}")


@keys_app.command("nats-issuer")
def keys_nats_issuer(
    out: Annotated[Path, typer.Option("--out", help="Where to write the seed (a new file).")],
) -> None:
    """Make the NATS auth callout's issuer: an account nkey seed for
    LIANBO_NATS_ISSUER_SEED_FILE; its public key goes in the NATS config
    (NATS_ISSUER, docs/broker.md)."""
    from lianbo.adapters.fleet.nats_jwt import Signer

    signer = Signer.new("account")
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(signer.seed + b"\n")
    except FileExistsError:
        fail(f"{out} exists; the issuer of running brokers is not replaced")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror or 'error'}")
    console.print(f"issuer seed written to {out}; public key (NATS_ISSUER):")
    console.print(signer.public_key, highlight=False, soft_wrap=True)


@keys_app.command("rotate")
def keys_rotate(data_dir: DataDir = None) -> None:
    """Make a new active key; the new key set is signed by the old keys."""
    from lianbo.services import keys

    async def work(container: Container) -> None:
        key_set = await keys.rotate(container, SYSTEM)
        console.print(
            f"active key [bold]{key_set.active}[/bold]; key set serial {key_set.serial} "
            f"holds {len(key_set.keys)} keys"
        )

    _run_with(data_dir, work)


@keys_app.command("retire")
def keys_retire(
    key_id: Annotated[str, typer.Argument(help="The key to drop (see `lianbo keys list`).")],
    data_dir: DataDir = None,
) -> None:
    """Drop a key from the key set (the active key cannot be retired)."""
    from lianbo.services import keys

    async def work(container: Container) -> None:
        key_set = await keys.retire(container, SYSTEM, key_id.strip())
        console.print(f"key {key_id} retired; key set serial {key_set.serial}")

    _run_with(data_dir, work)
