"""One terminal: its facts, its live state, commands, the edit form,
retiring it, a new enrolment code."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.bootstrap import Container
from lianbo.domain.errors import DomainError
from lianbo.domain.terminals import (
    Terminal,
    TerminalChanges,
    TerminalStatus,
    parse_tier,
)
from lianbo.protocol.messages import COMMANDS
from lianbo.services import commands, terminals
from lianbo.services.commands import SentCommand
from lianbo.services.context import UnitOfWork
from lianbo.services.regions import region_names
from lianbo.services.terminals import IssuedCode
from lianbo.web.forms import (
    FormErrors,
    collect,
    form_text,
    parse_float,
    split_labels,
    status_of,
)
from lianbo.web.pages.common import TIERS
from lianbo.web.pages.terminals import FORM_FIELDS
from lianbo.web.render import render
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep
from lianbo.web.terminal_status import live_state

router = APIRouter(include_in_schema=False)

LIVE_EVERY_S = 5  # the live card's refresh period


@router.get("/terminals/{terminal_id}")
async def terminal_page(
    request: Request, terminal_id: str, console: ConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """All of a terminal's facts; NotFound (a 404 page) outside the jurisdiction."""
    terminal = await terminals.get_terminal(uow, console.actor, terminal_id)
    flash = "terminal.saved" if request.query_params.get("saved") else ""
    return await _page(
        request, uow, container, console, terminal, form_values(terminal), flash=flash
    )


@router.get("/terminals/{terminal_id}/live")
async def terminal_live(
    request: Request, terminal_id: str, console: ConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """The live card alone, for the HTMX refresh."""
    terminal = await terminals.get_terminal(uow, console.actor, terminal_id)
    return render(request, "_terminal_live.html", await _live(uow, container, terminal))


async def _live(uow: UnitOfWork, container: Container, terminal: Terminal) -> dict[str, Any]:
    return {
        "terminal": terminal,
        "live": await live_state(uow, container.fleet, terminal),
        "now": container.clock.now(),
    }


@router.post("/terminals/{terminal_id}/command")
async def send_command(
    request: Request,
    terminal_id: str,
    console: PostConsoleDep,
    container: ContainerDep,
    uow: UowDep,
) -> Response:
    """Push a command (the button's value) to the screen and say whether it
    was connected; an HTMX request gets the result box alone."""
    name = (await form_text(request)).get("command", "")
    sent: SentCommand | None = None
    error = ""
    status = 200
    try:
        sent = await commands.send_command(
            uow, container.fleet, container.clock, console.actor, terminal_id, name
        )
    except DomainError as problem:
        error, status = problem.message, status_of(problem)
    result = {"sent": sent, "error": error}
    if request.headers.get("HX-Request"):
        return render(request, "_terminal_command_result.html", result)  # 200: HTMX swaps it
    terminal = await terminals.get_terminal(uow, console.actor, terminal_id)
    return await _page(
        request,
        uow,
        container,
        console,
        terminal,
        form_values(terminal),
        result=result,
        status=status,
    )


def form_values(terminal: Terminal) -> dict[str, str]:
    """The edit form pre-filled from the stored terminal."""
    return {
        "name": terminal.name,
        "tier": terminal.tier.value,
        "region": terminal.region,
        "latitude": f"{terminal.latitude:g}",
        "longitude": f"{terminal.longitude:g}",
        "tags": ", ".join(terminal.tags),
        "groups": ", ".join(terminal.groups),
    }


@router.post("/terminals/{terminal_id}/edit")
async def edit_terminal(
    request: Request,
    terminal_id: str,
    console: PostConsoleDep,
    container: ContainerDep,
    uow: UowDep,
) -> Response:
    """Save the edit form; errors come back next to their fields, values kept."""
    terminal = await terminals.get_terminal(uow, console.actor, terminal_id)
    form = await form_text(request)
    values = {name: form.get(name, "").strip() for name in FORM_FIELDS}
    errors = FormErrors()
    changes = _changes(values, errors)
    if not errors:
        try:
            await terminals.update_terminal(
                uow, container.clock, console.actor, terminal_id, changes
            )
        except DomainError as problem:
            errors.add(problem)
            status = status_of(problem)
        else:
            return RedirectResponse(f"/terminals/{terminal_id}?saved=1", status_code=303)
    else:
        status = 400
    return await _page(
        request, uow, container, console, terminal, values, errors=errors, status=status
    )


def _changes(values: dict[str, str], errors: FormErrors) -> TerminalChanges:
    """The whole form as an edit; parse errors are collected, not raised."""
    return TerminalChanges(
        name=values["name"],
        tier=collect(errors, lambda: parse_tier(values["tier"])),
        region=values["region"],
        latitude=collect(errors, lambda: parse_float(values["latitude"], "latitude")),
        longitude=collect(errors, lambda: parse_float(values["longitude"], "longitude")),
        tags=split_labels(values["tags"]),
        groups=split_labels(values["groups"]),
    )


@router.post("/terminals/{terminal_id}/retire")
async def retire_terminal(
    terminal_id: str, console: PostConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """Take the screen out of service (the page asked for confirmation)."""
    await terminals.retire_terminal(uow, container.clock, console.actor, terminal_id)
    return RedirectResponse(f"/terminals/{terminal_id}", status_code=303)


@router.post("/terminals/{terminal_id}/code")
async def new_code(
    request: Request,
    terminal_id: str,
    console: PostConsoleDep,
    container: ContainerDep,
    uow: UowDep,
) -> Response:
    """Issue a fresh enrolment code; it is shown on this response only."""
    issued = await terminals.reissue_code(uow, container.clock, console.actor, terminal_id)
    terminal = issued.terminal
    return await _page(
        request, uow, container, console, terminal, form_values(terminal), issued=issued
    )


async def _page(
    request: Request,
    uow: UnitOfWork,
    container: Container,
    console: Console,
    terminal: Terminal,
    values: dict[str, str],
    *,
    errors: FormErrors | None = None,
    issued: IssuedCode | None = None,
    flash: str = "",
    result: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        **await _live(uow, container, terminal),
        "live_every": LIVE_EVERY_S,
        "commands": COMMANDS,
        "command_result": result is not None,
        **(result or {"sent": None, "error": ""}),
        "section": "terminals",
        "terminal": terminal,
        "region_name": (await region_names(uow, [terminal.region]))[terminal.region],
        "values": values,
        "errors": errors or FormErrors(),
        "issued": issued,
        "flash": flash,
        "tiers": TIERS,
        "retired": terminal.status is TerminalStatus.RETIRED,
        "can_manage": console.can_manage_terminals,
    }
    return render(request, "terminal_detail.html", context, status=status)
