"""The review queues (审核): what waits for 初审, 复审 and 终审.

Each tab lists the assets waiting at that level, with what a reviewer wants
to know before opening one: QC status, how many findings and screening hits,
who submitted it and when, and who passed the earlier levels.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lianbo.api.deps import UowDep
from lianbo.domain.errors import Forbidden
from lianbo.domain.review import LEVEL_OF, ReviewState
from lianbo.services import asset_reads, assets
from lianbo.web.forms import page_number
from lianbo.web.render import render
from lianbo.web.session import ConsoleDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
# The state an asset sits in while it waits for each level.
WAITING: dict[int, ReviewState] = {level: state for state, level in LEVEL_OF.items()}


@router.get("/review")
async def review_queue(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """One level's queue (``?level=1|2|3``) with the counts of all three."""
    if not console.can_review:
        raise Forbidden("reviewing needs the reviewer role")
    raw = request.query_params.get("level", "1")
    level = int(raw) if raw in ("1", "2", "3") else 1
    page = page_number(request.query_params.get("page"))
    counts = {}
    for number, state in WAITING.items():
        _, counts[number] = await assets.list_assets(uow, console.actor, states=[state], limit=1)
    found, total = await assets.list_assets(
        uow,
        console.actor,
        states=[WAITING[level]],
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        request,
        "review.html",
        {
            "section": "review",
            "level": level,
            "counts": counts,
            "assets": found,
            "posters": await asset_reads.posters(uow, [a.id for a in found]),
            "facts": await asset_reads.queue_facts(
                uow, {a.id: a.review_round for a in found}, console.actor.user_id
            ),
            "total": total,
            "page": page,
            "pages": pages,
            "prev_url": _url(level, page - 1) if page > 1 else "",
            "next_url": _url(level, page + 1) if page < pages else "",
        },
    )


def _url(level: int, page: int) -> str:
    return "/review?" + urlencode({"level": level, "page": page})
