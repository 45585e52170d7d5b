"""Playlists (节目单): the list, and the editor for a new or an existing one.

The editor is one plain form: the items are hidden inputs in display order,
so whatever order the operator dragged them into is the order saved.
``static/playlist.js`` adds the drag-and-drop, the up/down buttons, adding
from the picker and the live total; without it the form still saves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.assets import Asset
from lianbo.domain.errors import DomainError, Forbidden, InvalidInput
from lianbo.domain.playlists import ITEMS_MAX, STILL_DEFAULT_MS, Fit, Playlist
from lianbo.domain.review import ReviewState
from lianbo.services import asset_reads, assets, playlists
from lianbo.services.context import UnitOfWork
from lianbo.services.playlists import ItemRequest
from lianbo.web.forms import FormErrors, checked_form, page_number, query_text, status_of
from lianbo.web.render import render
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
PICKER_SIZE = 40
FITS: tuple[str, ...] = tuple(f.value for f in Fit)


@dataclass(frozen=True, slots=True)
class EditorItem:
    """One row of the editor: the asset (None if it vanished) and the typed values."""

    asset_id: str
    asset: Asset | None
    duration: str  # seconds as typed; '' means the asset's own length / default
    fit: str

    @property
    def natural_ms(self) -> int:
        """What the item plays when no duration is typed."""
        probe = self.asset.probe if self.asset else None
        if probe and probe.duration_s:
            return round(probe.duration_s * 1000)
        return STILL_DEFAULT_MS

    @property
    def effective_ms(self) -> int:
        """What the item plays with the typed duration (as the service decides)."""
        try:
            typed = round(float(self.duration) * 1000) if self.duration else None
        except ValueError:
            typed = None
        own = self.asset is not None and self.asset.kind.value in ("video", "audio")
        if typed is None:
            return self.natural_ms
        return min(typed, self.natural_ms) if own else typed


@router.get("/playlists")
async def playlist_list(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """Every playlist in the jurisdiction, newest first."""
    page = page_number(request.query_params.get("page"))
    found = await playlists.list_playlists(
        uow, console.actor, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    more, found = len(found) > PAGE_SIZE, found[:PAGE_SIZE]
    first = {p.id: [i.asset_id for i in p.items[:4]] for p in found}
    return render(
        request,
        "playlists.html",
        {
            "section": "playlists",
            "playlists": found,
            "strips": first,
            "posters": await asset_reads.posters(uow, (a for ids in first.values() for a in ids)),
            "page": page,
            "prev_url": f"/playlists?page={page - 1}" if page > 1 else "",
            "next_url": f"/playlists?page={page + 1}" if more else "",
        },
    )


@router.get("/playlists/picker")
async def picker(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """Approved assets matching ``q``, each ready to be added to the editor."""
    return render(request, "_playlist_picker.html", await _picker(request, uow, console))


async def _picker(request: Request, uow: UnitOfWork, console: Console) -> dict[str, Any]:
    q = query_text(request.query_params, "q")
    found, total = await assets.list_assets(
        uow, console.actor, states=[ReviewState.APPROVED], query=q or None, limit=PICKER_SIZE
    )
    items = [EditorItem(a.id, a, "", Fit.CONTAIN.value) for a in found]
    return {
        "q": q,
        "choices": items,
        "choice_total": total,
        "choice_posters": await asset_reads.posters(uow, (a.id for a in found)),
        "fits": FITS,
    }


@router.get("/playlists/new")
async def new_playlist(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """An empty editor."""
    _require_manager(console)
    return await _editor(request, uow, console, None, "", [])


@router.get("/playlists/{playlist_id}")
async def edit_playlist(
    request: Request, playlist_id: str, console: ConsoleDep, uow: UowDep
) -> Response:
    """The editor for one playlist; a 404 page outside the jurisdiction."""
    playlist = await playlists.get_playlist(uow, console.actor, playlist_id)
    items = [
        EditorItem(i.asset_id, None, _typed(i.duration_ms), i.fit.value) for i in playlist.items
    ]
    flash = "playlist.saved" if request.query_params.get("saved") else ""
    return await _editor(request, uow, console, playlist, playlist.name, items, flash=flash)


def _typed(duration_ms: int) -> str:
    return f"{duration_ms / 1000:g}"


@router.post("/playlists/new")
async def create_playlist(
    request: Request, console: PostConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """Save a new playlist; refusals come back in the editor with the items kept."""
    return await _save(request, console, container, uow, None)


@router.post("/playlists/{playlist_id}")
async def update_playlist(
    request: Request,
    playlist_id: str,
    console: PostConsoleDep,
    container: ContainerDep,
    uow: UowDep,
) -> Response:
    """Replace the playlist's name and items (in the order they were sent)."""
    playlist = await playlists.get_playlist(uow, console.actor, playlist_id)
    return await _save(request, console, container, uow, playlist)


async def _save(
    request: Request,
    console: Console,
    container: ContainerDep,
    uow: UnitOfWork,
    playlist: Playlist | None,
) -> Response:
    _require_manager(console)
    form = await checked_form(request)
    name = str(form.get("name") or "").strip()[:300]
    # One more than allowed, so the service still says "at most 500 items".
    ids = [str(v)[:64] for v in form.getlist("asset_id")][: ITEMS_MAX + 1]
    durations = [str(v).strip() for v in form.getlist("duration")]
    fits = [str(v) for v in form.getlist("fit")]
    items = [
        EditorItem(
            asset_id,
            None,
            durations[n] if n < len(durations) else "",
            fits[n] if n < len(fits) and fits[n] in FITS else Fit.CONTAIN.value,
        )
        for n, asset_id in enumerate(ids)
    ]
    errors = FormErrors()
    try:
        requests = [
            ItemRequest(i.asset_id, _ms(i.duration, n), Fit(i.fit)) for n, i in enumerate(items)
        ]
        if playlist is None:
            saved = await playlists.create_playlist(
                uow, container.clock, console.actor, name, requests
            )
        else:
            saved = await playlists.update_playlist(
                uow, container.clock, console.actor, playlist.id, name, requests
            )
    except DomainError as problem:
        errors.add(problem)
        return await _editor(
            request, uow, console, playlist, name, items, errors=errors, status=status_of(problem)
        )
    return RedirectResponse(f"/playlists/{saved.id}?saved=1", status_code=303)


def _ms(typed: str, index: int) -> int | None:
    """Seconds as typed (``12``, ``7.5``) to milliseconds; blank is None."""
    if not typed:
        return None
    try:
        value = float(typed.replace("，", "."))
    except ValueError:
        raise InvalidInput(f"not a number: {typed!r}", field=f"items.{index}.duration_ms") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput(f"not a number: {typed!r}", field=f"items.{index}.duration_ms")
    return round(value * 1000)


def _require_manager(console: Console) -> None:
    if not console.can_manage_content:
        raise Forbidden("editing playlists needs the operator or admin role")


async def _editor(
    request: Request,
    uow: UnitOfWork,
    console: Console,
    playlist: Playlist | None,
    name: str,
    items: list[EditorItem],
    *,
    errors: FormErrors | None = None,
    flash: str = "",
    status: int = 200,
) -> Response:
    known: dict[str, Asset | None] = {}
    for item in items:
        if item.asset_id not in known:
            known[item.asset_id] = await _visible(uow, console, item.asset_id)
    rows = [EditorItem(i.asset_id, known[i.asset_id], i.duration, i.fit) for i in items]
    context: dict[str, Any] = {
        "section": "playlists",
        "playlist": playlist,
        "name": name,
        "items": rows,
        "item_posters": await asset_reads.posters(uow, known),
        "errors": errors or FormErrors(),
        "flash": flash,
        "editable": console.can_manage_content,
        **await _picker(request, uow, console),
    }
    return render(request, "playlist_edit.html", context, status=status)


async def _visible(uow: UnitOfWork, console: Console, asset_id: str) -> Asset | None:
    try:
        return await assets.get_asset(uow, console.actor, asset_id)
    except DomainError:
        return None
