"""The web player at ``/play``: a screen, not a console page.

A smart TV or a browser opens ``/play`` once, enters an enrolment code and
from then on plays what the control centre signs (``static/play/*.js``). No
operator session is involved: the page is static, needs no login or CSRF
token (its only form posts to ``/terminal/v1/enrol`` from script), and the
terminal's token lives in the browser's own storage.

The page's Content-Security-Policy lets scripts come only from this origin,
media play from verified ``blob:`` copies, and network requests go to this
origin and to the public media URL the manifests name.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from lianbo.api.deps import ContainerDep
from lianbo.web import i18n
from lianbo.web.render import render

router = APIRouter(include_in_schema=False)

STATIC_PLAY = Path(__file__).parent.parent / "static" / "play"

# What the screen says, in both console languages (the script picks one).
PLAY_MESSAGES: dict[str, dict[str, str]] = {
    "play.title": {"zh-CN": "联播播放器", "en": "lianbo player"},
    "play.enrol.heading": {"zh-CN": "登记此屏幕", "en": "Enrol this screen"},
    "play.enrol.hint": {
        "zh-CN": "输入控制中心为此终端生成的登记码。",
        "en": "Enter the enrolment code the control centre made for this terminal.",
    },
    "play.enrol.code": {"zh-CN": "登记码", "en": "Enrolment code"},
    "play.enrol.submit": {"zh-CN": "登记", "en": "Enrol"},
    "play.enrol.empty": {"zh-CN": "请输入登记码。", "en": "Enter the code."},
    "play.enrol.refused": {
        "zh-CN": "登记码无效或已使用：{message}",
        "en": "The code was refused: {message}",
    },
    "play.enrol.unreachable": {
        "zh-CN": "无法连接控制中心，请稍后重试。",
        "en": "The control centre cannot be reached; try again later.",
    },
    "play.unsupported": {
        "zh-CN": "此浏览器无法校验签名（需要 HTTPS 与 Ed25519 WebCrypto），不能播放。",
        "en": "This browser cannot check signatures (it needs HTTPS and Ed25519 "
        "WebCrypto), so it will not play.",
    },
    "play.token_refused": {
        "zh-CN": "控制中心拒绝了此屏幕的令牌（可能已被吊销），正在播放缓存的节目。"
        "如需重新登记，请清除本网站的数据。",
        "en": "The control centre refused this screen's token (revoked?); playing from "
        "the cache. To enrol again, clear this site's data.",
    },
    "play.fullscreen": {"zh-CN": "全屏", "en": "Full screen"},
    "play.waiting": {"zh-CN": "等待节目…", "en": "Waiting for the programme…"},
    "play.exercise": {"zh-CN": "演练 EXERCISE", "en": "演练 EXERCISE"},
    "play.alert.instruction": {"zh-CN": "应对措施", "en": "What to do"},
    "play.alert.level": {
        "zh-CN": "{level}级（{colour}）预警",
        "en": "Level {level} ({colour}) warning",
    },
}

PLAY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


def content_security_policy(public_url: str) -> str:
    """Scripts and styles from here only; media from verified blobs; requests
    to this origin (HTTP and WebSocket) and to the public media origin."""
    parts = urlsplit(public_url)
    media_origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    connect = " ".join(x for x in ("'self'", media_origin) if x)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' blob: data:; media-src 'self' blob:; "
        f"connect-src {connect}; worker-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


@router.get("/play")
async def play(request: Request, container: ContainerDep) -> Response:
    """The player page; everything after this is done by its scripts."""
    language = i18n.supported(request.query_params.get("lang")) or i18n.DEFAULT
    texts = {key: values[language] for key, values in PLAY_MESSAGES.items()}
    headers = {
        **PLAY_HEADERS,
        "Content-Security-Policy": content_security_policy(
            container.settings.media_url or container.settings.public_url
        ),
    }
    context = {"lang": language, "texts": texts, "texts_json": json.dumps(texts)}
    return render(request, "play.html", context, headers=headers)


@router.get("/play-sw.js")
async def service_worker() -> Response:
    """The service worker that keeps ``/play`` and its scripts for offline
    start-up (served from the root so its scope may be ``/play``)."""
    path = STATIC_PLAY / "sw.js"
    return FileResponse(
        path,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/play"},
    )
