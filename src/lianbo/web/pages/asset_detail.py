"""One asset: preview, probe, QC, screening, renditions, review history, actions.

Submit, approve/reject and revoke are plain forms. A refusal from the review
service (say, the same reviewer trying to pass a second level) comes back as
a message on this page with the service's status, never as a 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.errors import DomainError
from lianbo.domain.media import AssetKind
from lianbo.domain.review import LEVEL_OF, Decision, ReviewState
from lianbo.services import assets, review
from lianbo.services.assets import AssetDetail
from lianbo.services.context import UnitOfWork
from lianbo.web.forms import FormErrors, form_text, status_of
from lianbo.web.media_view import (
    HIT_KEYS,
    complete,
    finding_timeline,
    highlight,
    loudness_gauges,
    ordered_findings,
    probe_rows,
)
from lianbo.web.render import render
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)

FLASHES = {"submitted", "approved", "rejected", "revoked"}
REVIEWABLE = (ReviewState.SUBMITTED, ReviewState.LEVEL1, ReviewState.LEVEL2)


@router.get("/assets/{asset_id}")
async def asset_page(
    request: Request, asset_id: str, console: ConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """Everything about one asset; a 404 page outside the jurisdiction."""
    detail = await assets.asset_detail(uow, console.actor, asset_id)
    done = request.query_params.get("done", "")
    return _page(request, container, console, detail, flash=done if done in FLASHES else "")


def _renditions(detail: AssetDetail) -> dict[str, dict[str, Any]]:
    return {str(r["name"]): r for r in detail.renditions}


def _preview(detail: AssetDetail) -> dict[str, str]:
    """What the preview plays: the home rendition (browser-friendly) first."""
    asset, by_name = detail.asset, _renditions(detail)
    poster = by_name.get("poster", {}).get("sha256", "")
    if asset.kind is AssetKind.VIDEO:
        home = by_name.get("home-1080p")
        source = home["sha256"] if home else asset.sha256 or ""
        return {"kind": "video", "src": source, "poster": poster}
    if asset.kind in (AssetKind.IMAGE, AssetKind.AUDIO):
        return {"kind": asset.kind.value, "src": asset.sha256 or "", "poster": poster}
    return {"kind": asset.kind.value, "src": "", "poster": ""}


def _screening(detail: AssetDetail) -> list[dict[str, Any]]:
    hits = complete((detail.screening or {}).get("hits") or [], HIT_KEYS)
    return [
        {**hit, "parts": highlight(str(hit["text"] or hit["word"]), str(hit["word"] or ""))}
        for hit in hits
    ]


def _page(
    request: Request,
    container: ContainerDep,
    console: Console,
    detail: AssetDetail,
    *,
    flash: str = "",
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    asset = detail.asset
    qc = detail.qc or {}
    findings = ordered_findings(qc.get("findings") or [])
    duration = asset.probe.duration_s if asset.probe else None
    can_review = console.can_review
    context: dict[str, Any] = {
        "section": "assets",
        "detail": detail,
        "asset": asset,
        "qc": qc,
        "findings": findings,
        "timeline": finding_timeline(findings, duration),
        "gauges": loudness_gauges(qc.get("analysis"), container.settings.loudness()),
        "profile": container.settings.loudness(),
        "probe": probe_rows(asset.probe),
        "preview": _preview(detail),
        "renditions": detail.renditions,
        "sprite": _renditions(detail).get("sprite"),
        "hits": _screening(detail),
        "screened_words": (detail.screening or {}).get("words"),
        "history": list(reversed(detail.history)),
        "flash": flash,
        "errors": errors or FormErrors(),
        "can_submit": console.can_manage_content
        and asset.review_state in (ReviewState.DRAFT, ReviewState.REJECTED),
        "review_level": LEVEL_OF.get(asset.review_state) if can_review else None,
        "can_revoke": can_review and asset.review_state is ReviewState.APPROVED,
    }
    return render(request, "asset_detail.html", context, status=status)


async def _act(
    request: Request,
    container: ContainerDep,
    console: Console,
    uow: UnitOfWork,
    asset_id: str,
    action: str,
) -> Response:
    """Run one review act; redirect on success, the page with a message on refusal."""
    form = await form_text(request)
    reason = form.get("reason", "").strip() or None
    try:
        if action == "submit":
            await review.submit(uow, container.clock, console.actor, asset_id)
            done = "submitted"
        elif action == "revoke":
            await review.revoke(uow, container.clock, console.actor, asset_id, reason)
            done = "revoked"
        else:
            decision = Decision.REJECT if form.get("decision") == "reject" else Decision.APPROVE
            await review.review(uow, container.clock, console.actor, asset_id, decision, reason)
            done = "rejected" if decision is Decision.REJECT else "approved"
    except DomainError as problem:
        errors = FormErrors()
        errors.add(problem)
        detail = await assets.asset_detail(uow, console.actor, asset_id)
        return _page(request, container, console, detail, errors=errors, status=status_of(problem))
    return RedirectResponse(f"/assets/{asset_id}?done={done}", status_code=303)


@router.post("/assets/{asset_id}/submit")
async def submit(
    request: Request,
    asset_id: str,
    console: PostConsoleDep,
    container: ContainerDep,
    uow: UowDep,
) -> Response:
    """Send a draft (or a rejected asset) to 初审."""
    return await _act(request, container, console, uow, asset_id, "submit")


@router.post("/assets/{asset_id}/review")
async def decide(
    request: Request,
    asset_id: str,
    console: PostConsoleDep,
    container: ContainerDep,
    uow: UowDep,
) -> Response:
    """Pass or fail the level the asset waits at (``decision`` approve|reject)."""
    return await _act(request, container, console, uow, asset_id, "review")


@router.post("/assets/{asset_id}/revoke")
async def revoke(
    request: Request,
    asset_id: str,
    console: PostConsoleDep,
    container: ContainerDep,
    uow: UowDep,
) -> Response:
    """Take an approved asset off air everywhere (a reason is required)."""
    return await _act(request, container, console, uow, asset_id, "revoke")
