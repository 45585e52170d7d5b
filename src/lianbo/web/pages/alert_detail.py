"""One alert: its text, the live delivery board, confirm and cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.alerting import lifecycle
from lianbo.domain.alerting.lifecycle import AlertState
from lianbo.domain.alerting.records import StoredAlert
from lianbo.services import area_preview
from lianbo.services.context import UnitOfWork
from lianbo.services.regions import region_names
from lianbo.web.pages import alert_board, alert_calls
from lianbo.web.pages.alert_board import WAITING
from lianbo.web.render import render
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)

# Screens listed by name as "not yet displaying"; the count shows the rest.
MISSING_SHOWN = 50
LIVE_STATES = lifecycle.LIVE


@router.get("/alerts/{alert_id}")
async def alert_page(
    request: Request, alert_id: str, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The alert and its delivery board (refreshed by HTMX every second)."""
    context = await board_context(uow, console, alert_id)
    flash = request.query_params.get("done", "")
    return render(
        request,
        "alerts_detail.html",
        {**context, "section": "alerts", "flash": flash, "now": container.clock.now()},
    )


@router.get("/alerts/{alert_id}/board")
async def alert_board_live(
    request: Request, alert_id: str, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The board alone, for the HTMX poll."""
    context = await board_context(uow, console, alert_id)
    return render(request, "alerts_board.html", {**context, "now": container.clock.now()})


@router.post("/alerts/{alert_id}/confirm")
async def confirm_alert(
    alert_id: str, console: PostConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """A second issuer confirms a pending alert; it goes out now."""
    await alert_calls.confirm(uow, container, console.actor, alert_id)
    return RedirectResponse(f"/alerts/{alert_id}?done=confirmed", status_code=303)


@router.post("/alerts/{alert_id}/cancel")
async def cancel_alert(
    alert_id: str, console: PostConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """Cancel the alert everywhere (the button asks first)."""
    await alert_calls.cancel(uow, container, console.actor, alert_id)
    return RedirectResponse(f"/alerts/{alert_id}?done=cancelled", status_code=303)


async def board_context(uow: UnitOfWork, console: Console, alert_id: str) -> dict[str, Any]:
    """Counts, latency, bars by tier and region, map dots, who is missing."""
    actor = console.actor
    board = await alert_calls.board(uow, actor, alert_id)
    alert = board.alert
    counted = await alert_calls.progress(uow, actor, alert_id)
    regions = await region_names(uow, counted["by_region"])
    states = await alert_calls.delivery_states(uow, actor, alert_id)
    screens = await area_preview.screens_within(uow, alert.region)
    missing, missing_total = await alert_calls.deliveries(
        uow, actor, alert_id, [*WAITING, "failed"], MISSING_SHOWN
    )
    names = {s.id: s.name for s in screens}
    return {
        "alert": alert,
        "texts": _texts(alert),
        "counts": board.counts,
        "latency": board.latency_ms,
        "by_tier": alert_board.progress(counted["by_tier"], {}),
        "by_region": alert_board.progress(counted["by_region"], regions),
        "map": alert_board.map_view(screens, states, alert.area or {}),
        "missing": [(d, names.get(d.terminal_id, d.terminal_id)) for d in missing],
        "missing_total": missing_total,
        "live": alert.state in LIVE_STATES,
        "can_confirm": alert.state is AlertState.PENDING
        and alert_calls.can_issue(actor)
        and alert.issuer_id != actor.user_id,
        "can_cancel": alert.state in LIVE_STATES and alert_calls.can_issue(actor),
    }


def _texts(alert: StoredAlert) -> list[dict[str, str]]:
    """The alert's text per language, zh-CN first (missing parts empty)."""
    texts = alert.texts if isinstance(alert.texts, dict) else {}
    found = []
    for language, value in texts.items():
        parts = value if isinstance(value, dict) else {"headline": value}
        found.append(
            {"language": str(language)}
            | {k: str(parts.get(k) or "") for k in ("headline", "description", "instruction")}
        )
    return sorted(found, key=lambda t: (not t["language"].startswith("zh"), t["language"]))
