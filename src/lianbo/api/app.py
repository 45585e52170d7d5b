"""create_app(settings): the whole HTTP application, built on demand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lianbo import __version__
from lianbo.api.errors import install_error_handlers
from lianbo.api.metrics import count_requests
from lianbo.api.routes import audit, auth, health, regions, terminal_v1, terminals, users
from lianbo.bootstrap import Container, bootstrap
from lianbo.config import Settings


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    """Build the app; ``container`` lets tests inject a clock or a store."""
    container = container or bootstrap(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await container.close()

    app = FastAPI(title="lianbo", version=__version__, lifespan=lifespan)
    app.state.container = container
    install_error_handlers(app)
    app.middleware("http")(count_requests)
    for module in (auth, users, regions, terminals, terminal_v1, audit, health):
        app.include_router(module.router)
    from lianbo.web import console

    console.mount(app)
    return app
