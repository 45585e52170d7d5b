"""Alert sources (admins only): the upstream CAP feeds with their last poll,
last error and counts, and the CAP senders whose signatures are checked."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lianbo.api.deps import UowDep
from lianbo.domain.alerting.feeds import Outcome, read_fault
from lianbo.services import cap_feed_admin, cap_trust
from lianbo.web.render import render
from lianbo.web.session import ConsoleDep

router = APIRouter(include_in_schema=False)


@router.get("/alerts/feeds")
async def feeds_page(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """Every feed in the admin's jurisdiction, and the trusted senders."""
    feeds = await cap_feed_admin.listing(uow, console.actor)  # Forbidden for non-admins
    senders = await cap_trust.listing(uow, console.actor)
    context = {
        "section": "alert-feeds",
        "feeds": feeds,
        "senders": senders,
        "outcomes": [o.value for o in Outcome],
        "faults": {v.feed.id: read_fault(v.feed.last_error or "") for v in feeds},
    }
    return render(request, "alerts_feeds.html", context)
