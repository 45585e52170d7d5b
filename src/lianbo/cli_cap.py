"""``lianbo cap-senders list|trust|forget``: the CAP senders whose
signatures are checked, against which certificates, and whether they must
sign (ADR 0027, docs/alerts.md "Signed messages"). Each change is written
to the audit log as ``system``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lianbo.cli_common import DataDir, console, fail, load_settings, run
from lianbo.domain.users import SYSTEM

if TYPE_CHECKING:
    from lianbo.bootstrap import Container

cap_app = typer.Typer(help="Trusted CAP senders and their certificates.", no_args_is_help=True)
_MAX_PEM_FILE = 64 * 1024


@cap_app.command("list")
def senders_list(data_dir: DataDir = None) -> None:
    """Every configured sender, its certificates' fingerprints, must it sign."""
    from lianbo.services import cap_trust

    async def work(container: Container) -> None:
        async with container.uow() as uow:
            found = await cap_trust.listing(uow, SYSTEM)
        table = Table("sender", "must sign", "certificates (SHA-256)")
        for view in found:
            prints = "\n".join(view.fingerprints) or "—"
            table.add_row(view.sender, "yes" if view.must_be_signed else "no", prints)
        console.print(table)

    run(work, load_settings(data_dir))


@cap_app.command("trust")
def senders_trust(
    sender: Annotated[str, typer.Argument(help="The CAP <sender>, as its messages write it.")],
    cert: Annotated[
        list[Path] | None,
        typer.Option("--cert", help="A PEM certificate file (repeat for several)."),
    ] = None,
    must_sign: Annotated[
        bool, typer.Option("--must-sign", help="Refuse its messages unless verified.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Check SENDER's signatures against these certificates (replacing any
    configured before)."""
    from lianbo.services import cap_trust

    pems = [_pem(path) for path in cert or []]

    async def work(container: Container) -> None:
        async with container.uow() as uow:
            view = await cap_trust.trust(container, uow, SYSTEM, sender, pems, must_sign)
        rule = "must sign" if view.must_be_signed else "signature checked when present"
        console.print(f"{view.sender}: {len(view.fingerprints)} certificate(s), {rule}")

    run(work, load_settings(data_dir))


@cap_app.command("forget")
def senders_forget(sender: str, data_dir: DataDir = None) -> None:
    """Stop trusting SENDER: its signatures no longer verify."""
    from lianbo.services import cap_trust

    async def work(container: Container) -> None:
        async with container.uow() as uow:
            await cap_trust.forget(container, uow, SYSTEM, sender)
        console.print(f"{sender}: no longer trusted")

    run(work, load_settings(data_dir))


def _pem(path: Path) -> str:
    try:
        data = path.read_bytes()[: _MAX_PEM_FILE + 1]
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")
        raise
    if len(data) > _MAX_PEM_FILE or b"-----BEGIN CERTIFICATE-----" not in data:
        fail(f"{path} is not a PEM certificate")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        fail(f"{path} is not a PEM certificate")
        raise
