"""Users (admins only): list, create, change role, jurisdiction or active."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.errors import DomainError, Forbidden
from lianbo.domain.users import parse_role
from lianbo.services import users
from lianbo.services.context import UnitOfWork
from lianbo.services.regions import region_names
from lianbo.web.forms import FormErrors, form_text, page_number, status_of
from lianbo.web.pages.common import ROLES
from lianbo.web.render import render
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
NEW_FIELDS = ("username", "display_name", "role", "region", "password")


@router.get("/users")
async def user_list(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """Every user in the admin's jurisdiction; a 403 page for other roles."""
    _require_admin(console)
    flash = ""
    if request.query_params.get("created"):
        flash = "users.created"
    elif request.query_params.get("saved"):
        flash = "users.saved"
    values = dict.fromkeys(NEW_FIELDS, "") | {"role": "operator"}
    return await _page(request, console, uow, values, FormErrors(), flash=flash)


def _require_admin(console: Console) -> None:
    # Checked before any query so a non-admin learns nothing about users.
    if not console.is_admin:
        raise Forbidden("managing users needs the admin role")


@router.post("/users")
async def create_user(
    request: Request, console: PostConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """Create a user; errors come back next to their fields."""
    _require_admin(console)
    form = await form_text(request)
    values = {name: form.get(name, "").strip() for name in NEW_FIELDS}
    values["password"] = form.get("password", "")
    errors = FormErrors()
    try:
        await users.create_user(
            uow,
            container.clock,
            console.actor,
            username=values["username"],
            password=values["password"],
            role=parse_role(values["role"]),
            region=values["region"],
            display_name=values["display_name"],
        )
    except DomainError as problem:
        errors.add(problem)
        # Never echo a password back into the page.
        values["password"] = ""
        return await _page(request, console, uow, values, errors, status=status_of(problem))
    return RedirectResponse("/users?" + urlencode({"created": values["username"]}), 303)


@router.post("/users/{user_id}")
async def update_user(
    request: Request,
    user_id: str,
    console: PostConsoleDep,
    container: ContainerDep,
    uow: UowDep,
) -> Response:
    """Change one user's role, jurisdiction and active flag from its table row."""
    _require_admin(console)
    form = await form_text(request)
    try:
        await users.update_user(
            uow,
            container.clock,
            console.actor,
            user_id,
            role=parse_role(form.get("role", "").strip()),
            region=form.get("region", "").strip(),
            active=form.get("active") == "on",
        )
    except DomainError as problem:
        values = dict.fromkeys(NEW_FIELDS, "") | {"role": "operator"}
        row_error = {"user_id": user_id, "message": problem.message}
        return await _page(
            request,
            console,
            uow,
            values,
            FormErrors(),
            row_error=row_error,
            status=status_of(problem),
        )
    return RedirectResponse("/users?" + urlencode({"saved": user_id}), 303)


async def _page(
    request: Request,
    console: Console,
    uow: UnitOfWork,
    values: dict[str, str],
    errors: FormErrors,
    *,
    flash: str = "",
    row_error: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    page = page_number(request.query_params.get("page"))
    found, total = await users.list_users(
        uow, console.actor, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    context: dict[str, Any] = {
        "section": "users",
        "users": found,
        "total": total,
        "names": await region_names(uow, (u.region for u in found)),
        "roles": ROLES,
        "values": values,
        "errors": errors,
        "flash": flash,
        "row_error": row_error or {},
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
    }
    return render(request, "users.html", context, status=status)
