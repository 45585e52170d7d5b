"""Screen quads: where a terminal's monitoring camera sees its screen.

Set and cleared by those who manage terminals, inside their jurisdiction,
and audited as control acts: a wrong quad makes every camera shot of that
screen a mismatch (or hides a hijack), so who changed it matters.
"""

from __future__ import annotations

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.errors import Conflict, Forbidden, NotFound
from lianbo.domain.monitoring.quad import Quad, check_quad
from lianbo.domain.ports import Clock
from lianbo.domain.roles import Permission
from lianbo.domain.terminals import Terminal, TerminalStatus
from lianbo.domain.users import Actor
from lianbo.services import audit
from lianbo.services.terminals import get_terminal

SET, CLEAR = "terminal.screen_quad.set", "terminal.screen_quad.clear"


async def _managed(uow: UnitOfWork, actor: Actor, terminal_id: str) -> Terminal:
    """The terminal, when the actor may change it (403: role; 404: unseen)."""
    if not actor.can(Permission.MANAGE_TERMINALS):
        raise Forbidden("managing terminals needs the operator or admin role")
    terminal = await get_terminal(uow, actor, terminal_id)
    if terminal.status is TerminalStatus.RETIRED:
        raise Conflict("a retired terminal cannot be changed")
    return terminal


def _json(quad: Quad | list[list[float]]) -> list[list[float]]:
    return [[float(x), float(y)] for x, y in quad]


async def get_screen_quad(uow: UnitOfWork, actor: Actor, terminal_id: str) -> list[list[float]]:
    """The terminal's quad; ``NotFound`` when it has none (or is not seen)."""
    await get_terminal(uow, actor, terminal_id)
    quad = await uow.screenshots.screen_quad(terminal_id)
    if quad is None:
        raise NotFound("this terminal has no screen quad")
    return quad


async def set_screen_quad(
    uow: UnitOfWork, clock: Clock, actor: Actor, terminal_id: str, value: object
) -> list[list[float]]:
    """Check and store the quad (``Unprocessable`` when it is no screen's), audited."""
    terminal = await _managed(uow, actor, terminal_id)
    quad = _json(check_quad(value))
    before = await uow.screenshots.screen_quad(terminal_id)
    await uow.screenshots.set_screen_quad(terminal_id, quad, clock.now())
    await audit.record(
        uow,
        clock,
        actor,
        SET,
        ("terminal", terminal_id),
        region=terminal.region,
        before={"quad": before} if before is not None else None,
        after={"quad": quad},
    )
    await uow.commit()
    return quad


async def clear_screen_quad(uow: UnitOfWork, clock: Clock, actor: Actor, terminal_id: str) -> None:
    """Forget the quad (camera shots are then refused), audited; 404 when none."""
    terminal = await _managed(uow, actor, terminal_id)
    before = await uow.screenshots.screen_quad(terminal_id)
    if before is None:
        raise NotFound("this terminal has no screen quad")
    await uow.screenshots.delete_screen_quad(terminal_id)
    await audit.record(
        uow,
        clock,
        actor,
        CLEAR,
        ("terminal", terminal_id),
        region=terminal.region,
        before={"quad": before},
    )
    await uow.commit()
