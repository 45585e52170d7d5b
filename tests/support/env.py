"""A running app over a fresh database, and factories to fill it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from lianbo.bootstrap import Container
from lianbo.domain.roles import Role
from lianbo.domain.users import SYSTEM, User
from lianbo.services import users
from tests.support.clock import FakeClock

PASSWORD = "correct-horse-51"
_names = itertools.count(1)


@dataclass
class Env:
    """One test's world: container (real store), ASGI client, movable clock."""

    container: Container
    client: httpx.AsyncClient
    clock: FakeClock
    backend: str

    async def user(self, role: Role = Role.ADMIN, region: str = "51", **extra: Any) -> User:
        """Create a user directly through the service (factory)."""
        name = extra.pop("username", f"{role.value}{next(_names)}")
        async with self.container.uow() as uow:
            return await users.create_user(
                uow,
                self.clock,
                SYSTEM,
                username=name,
                password=PASSWORD,
                role=role,
                region=region,
                **extra,
            )

    async def login(self, user: User, address_ok: bool = True) -> dict[str, str]:
        """Bearer headers for ``user``."""
        response = await self.client.post(
            "/api/v1/auth/token", json={"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    async def as_role(self, role: Role = Role.ADMIN, region: str = "51") -> dict[str, str]:
        return await self.login(await self.user(role, region))

    async def terminal(self, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
        """Create a terminal through the API (factory with sensible defaults)."""
        body = {
            "name": f"屏幕{next(_names)}",
            "tier": "outdoor",
            "region": "510107",
            "latitude": 30.64,
            "longitude": 104.04,
        } | fields
        response = await self.client.post("/api/v1/terminals", json=body, headers=headers)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result
