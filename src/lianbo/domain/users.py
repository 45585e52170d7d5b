"""Users and the acting identity every service call carries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lianbo.domain.errors import InvalidInput, NotFound
from lianbo.domain.regions import is_within
from lianbo.domain.roles import Permission, Role, can

USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
PASSWORD_MIN = 8
PASSWORD_MAX = 256


@dataclass(frozen=True, slots=True)
class User:
    """A person with a role and a jurisdiction."""

    id: str
    username: str
    display_name: str
    role: Role
    region: str
    active: bool
    language: str
    created_at: datetime

    def facts(self) -> dict[str, object]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.value,
            "region": self.region,
            "active": self.active,
        }


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting, from where, over which jurisdiction."""

    user_id: str
    username: str
    role: Role
    jurisdiction: str
    address: str | None = None
    language: str = "zh-CN"

    def can(self, permission: Permission) -> bool:
        return can(self.role, permission)

    def sees(self, region_code: str) -> bool:
        """True when ``region_code`` is inside this actor's jurisdiction."""
        return is_within(region_code, self.jurisdiction)

    def require_within(self, region_code: str, what: str = "object") -> None:
        """Raise NotFound (as if absent) when outside the jurisdiction."""
        if not self.sees(region_code):
            raise NotFound(f"{what} not found")


SYSTEM = Actor(user_id="system", username="system", role=Role.ADMIN, jurisdiction="")


def check_username(name: str) -> str:
    if not USERNAME.match(name):
        raise InvalidInput(
            "username must be 2-64 letters, digits, '_', '.' or '-'", field="username"
        )
    return name


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(
            f"password must be {PASSWORD_MIN}-{PASSWORD_MAX} characters", field="password"
        )
    return password


def parse_role(raw: str) -> Role:
    try:
        return Role(raw)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"role must be one of {allowed}", field="role") from None
