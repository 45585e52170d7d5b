"""POST /api/v1/auth/token and logout."""

from __future__ import annotations

from fastapi import APIRouter, Request

from lianbo.api.deps import ActorDep, ContainerDep, UowDep, bearer_token, client_address
from lianbo.api.schemas import TokenRequest, TokenResponse, UserOut
from lianbo.services import auth

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token")
async def issue_token(
    body: TokenRequest, request: Request, container: ContainerDep, uow: UowDep
) -> TokenResponse:
    """Exchange a username and password for an expiring bearer token."""
    token, user = await auth.login(
        uow,
        container.clock,
        container.limiter,
        username=body.username,
        password=body.password,
        address=client_address(request),
        kind=auth.API,
        ttl=container.token_ttl,
    )
    return TokenResponse(
        token=token, expires_in=int(container.token_ttl.total_seconds()), user=UserOut.of(user)
    )


@router.post("/logout", status_code=204)
async def logout(request: Request, actor: ActorDep, container: ContainerDep, uow: UowDep) -> None:
    """Revoke the bearer token used for this request."""
    await auth.logout(uow, container.clock, actor, bearer_token(request) or "")
