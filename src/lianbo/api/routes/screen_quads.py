"""/api/v1/terminals/{id}/screen-quad: where the monitoring camera sees a screen."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from lianbo.api.deps import ActorDep, ContainerDep, UowDep
from lianbo.services import screen_quads

router = APIRouter(prefix="/api/v1/terminals", tags=["terminals"])


class ScreenQuadIn(BaseModel):
    """Four [x, y] corners (top-left, top-right, bottom-right, bottom-left of
    the screen's picture) in the camera photo's pixels; the service checks
    they are numbers and make a convex quadrilateral."""

    model_config = ConfigDict(extra="forbid")

    quad: Annotated[list[Any], Field(min_length=4, max_length=4)]


class ScreenQuadOut(BaseModel):
    terminal_id: str
    quad: list[list[float]]


@router.get("/{terminal_id}/screen-quad")
async def get_screen_quad(terminal_id: str, actor: ActorDep, uow: UowDep) -> ScreenQuadOut:
    quad = await screen_quads.get_screen_quad(uow, actor, terminal_id)
    return ScreenQuadOut(terminal_id=terminal_id, quad=quad)


@router.put("/{terminal_id}/screen-quad")
async def put_screen_quad(
    terminal_id: str, body: ScreenQuadIn, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> ScreenQuadOut:
    """Set the quad camera shots of this screen are registered with (audited)."""
    quad = await screen_quads.set_screen_quad(uow, container.clock, actor, terminal_id, body.quad)
    return ScreenQuadOut(terminal_id=terminal_id, quad=quad)


@router.delete("/{terminal_id}/screen-quad", status_code=204)
async def delete_screen_quad(
    terminal_id: str, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> Response:
    """Forget the quad: camera shots of this screen are refused until set again."""
    await screen_quads.clear_screen_quad(uow, container.clock, actor, terminal_id)
    return Response(status_code=204)
