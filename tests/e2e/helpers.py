"""What the e2e tests share: the users, the server handle, browser steps."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.waiting import HANG_GUARD_S

ADMIN = ("admin51", "e2e-admin-pass-51")
OPERATOR = ("op107", "e2e-operator-107")
# Three reviewers over the whole province: each review level needs another one.
REVIEWERS = (
    ("rev51a", "e2e-reviewer-51a"),
    ("rev51b", "e2e-reviewer-51b"),
    ("rev51c", "e2e-reviewer-51c"),
)


@dataclass(frozen=True)
class Server:
    """A running server: where it listens and where its data lives."""

    url: str
    data_dir: Path

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=HANG_GUARD_S, **kwargs)

    def api_headers(self, user: tuple[str, str] = ADMIN) -> dict[str, str]:
        """Bearer headers from the JSON API, for quick set-up through the API."""
        with self.client() as client:
            answer = client.post(
                "/api/v1/auth/token", json={"username": user[0], "password": user[1]}
            )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}


def sign_in(page: Any, user: tuple[str, str], next_path: str = "/") -> None:
    """Fill the login form like a person would and wait for the landing page."""
    page.goto(f"/login?next={next_path}")
    page.fill("input[name=username]", user[0])
    page.fill("input[name=password]", user[1])
    page.click("form.login-form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot when LIANBO_SCREENSHOTS names a directory."""
    folder = os.environ.get("LIANBO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
