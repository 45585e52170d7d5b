"""How lianbo is served: uvicorn, with the screens' lean socket protocol."""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import FastAPI

from lianbo.adapters.fleet.hub import WebSocketHub
from lianbo.api.terminal_socket import for_hub


def uvicorn_config(app: FastAPI, *, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's config for ``app`` (made by ``create_app``): with the
    built-in hub, WebSocket upgrades go to ``terminal_socket``; the client's
    address and scheme come from X-Forwarded-* only when a trusted proxy
    (``LIANBO_TRUSTED_PROXIES``) sent them."""
    container = app.state.container
    ws: Any = for_hub(container.fleet) if isinstance(container.fleet, WebSocketHub) else "auto"
    proxies: list[str] = container.settings.trusted_proxies
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws=ws,
        # uvicorn would trust 127.0.0.1 (or $FORWARDED_ALLOW_IPS) by default;
        # here only what the setting names.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=list(proxies),
        **options,
    )
