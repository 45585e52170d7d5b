"""Terminals: create (one or thousands), list, edit, retire, enrol."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.adapters.key_store import SharedKeys
from lianbo.adapters.keys import PublicKey
from lianbo.domain import enrolment
from lianbo.domain.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound
from lianbo.domain.events import TerminalEdited, TerminalEnrolled, TerminalRetired
from lianbo.domain.ports import Clock
from lianbo.domain.regions import normalise_code
from lianbo.domain.roles import Permission
from lianbo.domain.terminal_csv import parse_terminal_csv
from lianbo.domain.terminals import (
    Terminal,
    TerminalChanges,
    TerminalDraft,
    TerminalFilter,
    TerminalStatus,
    check_labels,
    check_name,
    check_position,
)
from lianbo.domain.tokens import digest, new_secret
from lianbo.domain.users import SYSTEM, Actor
from lianbo.services import audit
from lianbo.services.regions import require_region


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A terminal with the one-time enrolment code just made for it."""

    terminal: Terminal
    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Enrolment:
    terminal_id: str
    token: str
    keys: list[PublicKey]


def _require_manager(actor: Actor) -> None:
    if not actor.can(Permission.MANAGE_TERMINALS):
        raise Forbidden("managing terminals needs the operator or admin role")


def _new_terminal(draft: TerminalDraft, now: datetime) -> Terminal:
    return Terminal(
        id=uuid.uuid4().hex,
        name=draft.name,
        tier=draft.tier,
        region=draft.region,
        latitude=draft.latitude,
        longitude=draft.longitude,
        status=TerminalStatus.PENDING,
        tags=draft.tags,
        groups=draft.groups,
        created_at=now,
        updated_at=now,
    )


def _issue_codes(terminals: list[Terminal], now: datetime) -> list[IssuedCode]:
    expires = enrolment.expires_at(now)
    return [IssuedCode(t, enrolment.new_code(secrets.randbelow), expires) for t in terminals]


async def _store_codes(uow: UnitOfWork, issued: list[IssuedCode], now: datetime) -> None:
    await uow.terminals.add_codes(
        [
            (digest(enrolment.normalise_code(i.code)), i.terminal.id, now, i.expires_at)
            for i in issued
        ]
    )


async def create_terminal(
    uow: UnitOfWork, clock: Clock, actor: Actor, draft: TerminalDraft
) -> IssuedCode:
    """Create one terminal and its first enrolment code (audited)."""
    _require_manager(actor)
    region = await require_region(uow, actor, draft.region)
    draft = replace(
        draft,
        region=region,
        name=check_name(draft.name),
        tags=check_labels(draft.tags, field_name="tags"),
        groups=check_labels(draft.groups, field_name="groups"),
    )
    check_position(draft.latitude, draft.longitude)
    if await uow.terminals.names_taken({(region, draft.name)}):
        raise Conflict(f"a terminal named {draft.name!r} exists in this region", field="name")
    now = clock.now()
    terminal = _new_terminal(draft, now)
    await uow.terminals.add_many([terminal])
    issued = _issue_codes([terminal], now)
    await _store_codes(uow, issued, now)
    await audit.record(
        uow,
        clock,
        actor,
        "terminal.create",
        ("terminal", terminal.id),
        region=region,
        after=terminal.facts(),
    )
    await uow.commit()
    return issued[0]


async def import_csv(uow: UnitOfWork, clock: Clock, actor: Actor, text: str) -> list[IssuedCode]:
    """Create every terminal in a CSV, or none: the first bad row is named."""
    _require_manager(actor)
    known = await uow.regions.codes()

    def region_allowed(code: str) -> str | None:
        if code not in known or not actor.sees(code):
            return f"unknown region code {code!r}"
        return None

    drafts = parse_terminal_csv(text, region_allowed=region_allowed)
    taken = await uow.terminals.names_taken({(d.region, d.name) for d in drafts})
    if taken:
        first = next(i for i, d in enumerate(drafts) if (d.region, d.name) in set(taken))
        raise InvalidInput(
            f"row {first + 2}: a terminal named {drafts[first].name!r} exists in this region",
            field="file",
        )
    now = clock.now()
    terminals = [_new_terminal(d, now) for d in drafts]
    await uow.terminals.add_many(terminals)
    issued = _issue_codes(terminals, now)
    await _store_codes(uow, issued, now)
    await audit.record(
        uow,
        clock,
        actor,
        "terminal.import",
        ("terminal", f"{len(terminals)} terminals"),
        region=actor.jurisdiction,
        after={"count": len(terminals), "ids": [t.id for t in terminals]},
    )
    await uow.commit()
    await uow.refresh_statistics()
    return issued


async def get_terminal(uow: UnitOfWork, actor: Actor, terminal_id: str) -> Terminal:
    """A terminal inside the actor's jurisdiction; otherwise it is not found."""
    terminal = await uow.terminals.get(terminal_id)
    if terminal is None or not actor.sees(terminal.region):
        raise NotFound("terminal not found")
    return terminal


async def list_terminals(
    uow: UnitOfWork, actor: Actor, where: TerminalFilter, *, limit: int, offset: int
) -> tuple[list[Terminal], int]:
    """A page of terminals, never reaching outside the jurisdiction."""
    region = actor.jurisdiction
    if where.region:
        region = normalise_code(where.region)
        if not actor.sees(region):
            return [], 0
    return await uow.terminals.search(replace(where, region=region), limit=limit, offset=offset)


async def update_terminal(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    terminal_id: str,
    changes: TerminalChanges,
) -> Terminal:
    """Edit name, tier, region, position, tags or groups (audited)."""
    _require_manager(actor)
    before = await get_terminal(uow, actor, terminal_id)
    if before.status is TerminalStatus.RETIRED:
        raise Conflict("a retired terminal cannot be changed")
    region = before.region
    if changes.region is not None:
        region = await require_region(uow, actor, changes.region)
    latitude, longitude = check_position(
        before.latitude if changes.latitude is None else changes.latitude,
        before.longitude if changes.longitude is None else changes.longitude,
    )
    after = replace(
        before,
        name=before.name if changes.name is None else check_name(changes.name),
        tier=changes.tier or before.tier,
        region=region,
        latitude=latitude,
        longitude=longitude,
        tags=before.tags if changes.tags is None else check_labels(changes.tags, field_name="tags"),
        groups=(
            before.groups
            if changes.groups is None
            else check_labels(changes.groups, field_name="groups")
        ),
        updated_at=clock.now(),
    )
    if (after.region, after.name) != (before.region, before.name) and (
        await uow.terminals.names_taken({(after.region, after.name)})
    ):
        raise Conflict(f"a terminal named {after.name!r} exists in this region", field="name")
    await uow.terminals.update(after)
    await audit.record(
        uow,
        clock,
        actor,
        "terminal.update",
        ("terminal", terminal_id),
        region=after.region,
        before=before.facts(),
        after=after.facts(),
    )
    uow.record(TerminalEdited(terminal_id))  # its audience may have changed
    await uow.commit()
    return after


async def retire_terminal(
    uow: UnitOfWork, clock: Clock, actor: Actor, terminal_id: str
) -> Terminal:
    """Take a terminal out of service: its token and codes stop working."""
    _require_manager(actor)
    before = await get_terminal(uow, actor, terminal_id)
    if before.status is TerminalStatus.RETIRED:
        return before
    now = clock.now()
    after = replace(before, status=TerminalStatus.RETIRED, retired_at=now, updated_at=now)
    await uow.terminals.update(after)
    await uow.terminals.set_token(terminal_id, None)
    await uow.terminals.void_codes(terminal_id, now)
    await audit.record(
        uow,
        clock,
        actor,
        "terminal.retire",
        ("terminal", terminal_id),
        region=before.region,
        before=before.facts(),
        after=after.facts(),
    )
    uow.record(TerminalRetired(terminal_id))  # its token is refused everywhere
    await uow.commit()
    return after


async def reissue_code(uow: UnitOfWork, clock: Clock, actor: Actor, terminal_id: str) -> IssuedCode:
    """A new enrolment code (for a replaced or reinstalled screen); old ones die."""
    _require_manager(actor)
    terminal = await get_terminal(uow, actor, terminal_id)
    if terminal.status is TerminalStatus.RETIRED:
        raise Conflict("a retired terminal cannot be enrolled")
    now = clock.now()
    await uow.terminals.void_codes(terminal_id, now)
    issued = _issue_codes([terminal], now)
    await _store_codes(uow, issued, now)
    await audit.record(
        uow, clock, actor, "terminal.code", ("terminal", terminal_id), region=terminal.region
    )
    await uow.commit()
    return issued[0]


async def enrol(uow: UnitOfWork, clock: Clock, keys: SharedKeys, typed_code: str) -> Enrolment:
    """Exchange a one-time code for the terminal's token (stored hashed)."""
    code_hash = digest(enrolment.normalise_code(typed_code))
    found = await uow.terminals.code(code_hash)
    now = clock.now()
    if found is None:
        raise NotFound("unknown enrolment code", field="code")
    terminal_id, expires, used = found
    if used is not None:
        raise Gone("this enrolment code was already used", field="code")
    if expires <= now:
        raise Gone("this enrolment code has expired", field="code")
    terminal = await uow.terminals.get(terminal_id)
    if terminal is None or terminal.status is TerminalStatus.RETIRED:
        raise Gone("this terminal was retired", field="code")
    if not await uow.terminals.use_code(code_hash, now):
        raise Gone("this enrolment code was already used", field="code")
    token = new_secret()
    await uow.terminals.set_token(
        terminal_id, digest(token), enrolled_at=now, status=TerminalStatus.OFFLINE.value
    )
    await audit.record(
        uow,
        clock,
        replace(SYSTEM, username=f"terminal:{terminal_id}"),
        "terminal.enrol",
        ("terminal", terminal_id),
        region=terminal.region,
    )
    uow.record(TerminalEnrolled(terminal_id))  # an old token, if any, is refused
    await uow.commit()
    return Enrolment(terminal_id, token, await keys.public_keys(uow))
