"""FastAPI dependencies: the container, a unit of work, the acting user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from lianbo.bootstrap import Container
from lianbo.domain.errors import Unauthorized
from lianbo.domain.terminals import Terminal
from lianbo.domain.tokens import digest
from lianbo.domain.users import Actor
from lianbo.services import auth
from lianbo.services.context import UnitOfWork


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_uow(container: ContainerDep) -> AsyncIterator[UnitOfWork]:
    async with container.uow() as uow:
        yield uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def current_actor(request: Request, container: ContainerDep, uow: UowDep) -> Actor:
    """The user behind the bearer token (API clients) or session cookie (console)."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("missing bearer token")
    return await auth.authenticate(
        uow, container.clock, token, client_address(request), kind=auth.API
    )


ActorDep = Annotated[Actor, Depends(current_actor)]


async def current_terminal(request: Request, uow: UowDep) -> Terminal:
    """The terminal behind a terminal token."""
    token = bearer_token(request)
    terminal = await uow.terminals.by_token_hash(digest(token)) if token else None
    if terminal is None:
        raise Unauthorized("unknown or revoked terminal token")
    return terminal


TerminalDep = Annotated[Terminal, Depends(current_terminal)]
