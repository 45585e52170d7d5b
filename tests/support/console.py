"""Signing in to the console with a test's ASGI client."""

from __future__ import annotations

import hashlib

from lianbo.domain.roles import Role
from tests.support.env import PASSWORD, Env


async def signed_in(env: Env, role: Role = Role.ADMIN) -> str:
    """Log in to the console with ``env.client``; the CSRF token of the session."""
    user = await env.user(role, "51")
    answer = await env.client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "next": "/"}
    )
    assert answer.status_code == 303, answer.text
    token = env.client.cookies["lianbo_session"]
    return hashlib.sha256(("csrf:" + token).encode()).hexdigest()
