"""The PostgreSQL listener when there is no PostgreSQL to listen to."""

from __future__ import annotations

from structlog.testing import capture_logs

from lianbo.adapters.bus.postgres import PostgresListener, asyncpg_dsn
from tests.support.services import free_port
from tests.support.waiting import until


async def _nothing(*_: object) -> None: ...


def test_the_dsn_drops_the_driver_and_keeps_the_password() -> None:
    url = "postgresql+asyncpg://lianbo:s3cret@db.example:5433/lianbo"
    assert asyncpg_dsn(url) == "postgresql://lianbo:s3cret@db.example:5433/lianbo"


async def test_an_unreachable_store_is_logged_once_and_retried() -> None:
    url = f"postgresql+asyncpg://lianbo@127.0.0.1:{free_port()}/lianbo"
    listener = PostgresListener(url, _nothing, _nothing, retry_max_s=0.05)
    with capture_logs() as logs:
        await listener.start()
        try:
            await until(lambda: listener.failures >= 3, "three failed attempts")
            assert not listener.connected
        finally:
            await listener.stop()
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["event bus lost"]
