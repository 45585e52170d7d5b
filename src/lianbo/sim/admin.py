"""What the simulator does through the admin API: enrol screens, publish.

Everything goes through the public HTTP API, as an operator's tooling
would: a bearer token from ``POST /api/v1/auth/token``, terminals from a
CSV import, tokens from ``POST /terminal/v1/enrol`` (in parallel), and a
ticker taken through the three review levels into a playlist, so that
publishing a schedule changes every simulated screen's manifest.
"""

from __future__ import annotations

import asyncio
import secrets
import ssl
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from lianbo.sim.screens import Credential

TIERS = ("outdoor", "hall", "home")
ENROL_CONCURRENCY = 16


class AdminError(RuntimeError):
    """The server refused a simulator request (one line, with the reason)."""


class Admin:
    def __init__(self, client: httpx.AsyncClient, verify: ssl.SSLContext | bool = True) -> None:
        self.client = client
        self.verify = verify
        self.run = secrets.token_hex(3)  # names of this run's screens and users

    @classmethod
    async def login(
        cls, server: str, username: str, password: str, verify: ssl.SSLContext | bool = True
    ) -> Admin:
        """Logged in; ``verify`` checks an https server's certificate (a
        context trusting the centre's CA, as ``lianbo.player.tls`` makes)."""
        client = httpx.AsyncClient(
            base_url=server.rstrip("/"),
            timeout=120,
            limits=httpx.Limits(max_connections=ENROL_CONCURRENCY),
            verify=verify,
        )
        admin = cls(client, verify)
        token = await admin.call("POST", "/api/v1/auth/token", json=_login(username, password))
        client.headers["Authorization"] = f"Bearer {token['token']}"
        return admin

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise AdminError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    @property
    def tag(self) -> str:
        return f"sim-{self.run}"

    async def places(self, root: str, most: int = 200) -> list[str]:
        """Region codes two levels under ``root`` (counties under a province)."""
        found: list[str] = []
        for child in await self._children(root):
            found += await self._children(child) or [child]
            if len(found) >= most:
                break
        return found[:most] or [root]

    async def _children(self, code: str) -> list[str]:
        page = await self.call("GET", "/api/v1/regions", params={"parent": code, "limit": 500})
        return [item["code"] for item in page["items"]]

    async def enrol(self, count: int, places: list[str]) -> list[Credential]:
        """Create ``count`` screens (one CSV import) and enrol each one."""
        rows = ["name,tier,region,latitude,longitude,tags"]
        for i in range(count):
            place = places[i % len(places)]
            rows.append(f"{self.tag}-{i:06d},{TIERS[i % 3]},{place},30.6,104.0,{self.tag}")
        imported = await self.call(
            "POST",
            "/api/v1/terminals/import",
            content="\n".join(rows).encode(),
            headers={"content-type": "text/csv"},
        )
        gate = asyncio.Semaphore(ENROL_CONCURRENCY)

        async def one(item: dict[str, Any]) -> Credential:
            async with gate:
                body = await self.call(
                    "POST", "/terminal/v1/enrol", json={"code": item["enrolment_code"]}
                )
            return Credential(body["terminal_id"], body["token"], item["region"])

        return list(await asyncio.gather(*(one(item) for item in imported["items"])))

    async def programme(self, region: str) -> str:
        """An approved ticker in a playlist; the playlist id."""
        asset = await self.call(
            "POST",
            "/api/v1/assets",
            json={"kind": "ticker", "name": f"{self.tag} ticker", "text": "联播模拟 simulation"},
        )
        await self.call("POST", f"/api/v1/assets/{asset['id']}/submit")
        for level in range(3):  # a reviewer passes one level of an asset at most
            name = f"{self.tag}-reviewer{level}-{secrets.token_hex(3)}"
            password = secrets.token_urlsafe(12)
            await self.call(
                "POST",
                "/api/v1/users",
                # Reviewers must see the asset: same jurisdiction as its owner.
                json={
                    "username": name,
                    "password": password,
                    "role": "reviewer",
                    "region": asset["region"],
                },
            )
            base = str(self.client.base_url)
            async with httpx.AsyncClient(base_url=base, verify=self.verify) as reviewer:
                token = await reviewer.post("/api/v1/auth/token", json=_login(name, password))
                reviewer.headers["Authorization"] = f"Bearer {token.json()['token']}"
                review = await reviewer.post(
                    f"/api/v1/assets/{asset['id']}/review", json={"decision": "approve"}
                )
                if review.status_code != 200:
                    raise AdminError(f"review: {review.status_code} {review.text[:300]}")
        playlist = await self.call(
            "POST",
            "/api/v1/playlists",
            json={"name": self.tag, "items": [{"asset_id": asset["id"], "duration_ms": 10_000}]},
        )
        return str(playlist["id"])

    async def draft(self, playlist_id: str, region: str) -> str:
        """A schedule over the next day for every screen of ``region``."""
        now = datetime.now(UTC)
        schedule = await self.call(
            "POST",
            "/api/v1/schedules",
            json={
                "name": f"{self.tag} {now:%H:%M:%S.%f}",
                "playlist_id": playlist_id,
                "targets": {"regions": [region]},
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(days=1)).isoformat(),
                "priority": "local",
            },
        )
        return str(schedule["id"])

    async def publish(self, schedule_id: str) -> None:
        await self.call("POST", f"/api/v1/schedules/{schedule_id}/publish")

    async def online(self) -> int:
        """How many of this run's screens the server counts as online."""
        page = await self.call(
            "GET", "/api/v1/terminals", params={"tag": self.tag, "status": "online", "limit": 1}
        )
        return int(page["total"])


def _login(username: str, password: str) -> dict[str, str]:
    return {"username": username, "password": password}
