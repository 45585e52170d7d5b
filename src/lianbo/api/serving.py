"""How lianbo is served: uvicorn, with the screens' lean socket protocol."""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import FastAPI

from lianbo.adapters.fleet.hub import WebSocketHub
from lianbo.api.terminal_socket import for_hub


def uvicorn_config(app: FastAPI, *, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's config for ``app`` (made by ``create_app``): with the
    built-in hub, WebSocket upgrades go to ``terminal_socket``."""
    fleet = app.state.container.fleet
    ws: Any = for_hub(fleet) if isinstance(fleet, WebSocketHub) else "auto"
    return uvicorn.Config(app, host=host, port=port, ws=ws, **options)
