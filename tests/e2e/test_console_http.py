"""The console's HTTP rules, checked against the real server without a browser."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.e2e.helpers import ADMIN, OPERATOR, Server

pytestmark = pytest.mark.e2e


@contextmanager
def signed_in(server: Server, user: tuple[str, str] = ADMIN) -> Iterator[httpx.Client]:
    """A client holding a console session cookie, as a browser would."""
    with server.client(follow_redirects=False) as client:
        answer = client.post("/login", data={"username": user[0], "password": user[1], "next": "/"})
        assert answer.status_code == 303, answer.text
        yield client


@pytest.fixture
def admin(server: Server) -> Iterator[httpx.Client]:
    with signed_in(server) as client:
        yield client


def csrf_of(client: httpx.Client) -> str:
    token = client.cookies["lianbo_session"]
    return hashlib.sha256(("csrf:" + token).encode()).hexdigest()


NEW_TERMINAL = {
    "name": "csrf-screen",
    "tier": "home",
    "region": "510107",
    "latitude": "30.6",
    "longitude": "104.0",
}


def test_session_cookie_is_httponly_and_lax(server: Server) -> None:
    with server.client() as client:
        answer = client.post(
            "/login", data={"username": ADMIN[0], "password": ADMIN[1]}, follow_redirects=False
        )
    cookie = answer.headers["set-cookie"].lower()
    assert "lianbo_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_post_without_csrf_token_is_refused(admin: httpx.Client) -> None:
    assert admin.post("/terminals/new", data=NEW_TERMINAL).status_code == 403
    wrong = admin.post("/terminals/new", data={**NEW_TERMINAL, "csrf_token": "0" * 64})
    assert wrong.status_code == 403
    assert admin.post("/logout").status_code == 403


def test_post_with_csrf_field_or_header_is_accepted(admin: httpx.Client) -> None:
    field = admin.post("/terminals/new", data={**NEW_TERMINAL, "csrf_token": csrf_of(admin)})
    assert field.status_code == 201, field.text
    header = admin.post(
        "/terminals/new",
        data={**NEW_TERMINAL, "name": "csrf-screen-2"},
        headers={"X-CSRF-Token": csrf_of(admin)},
    )
    assert header.status_code == 201, header.text


def test_pages_redirect_to_login_with_a_relative_next(server: Server) -> None:
    with server.client() as client:
        answer = client.get("/terminals?tier=hall", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/terminals%3Ftier%3Dhall"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_and_language_switch_never_redirect_off_site(server: Server, target: str) -> None:
    with server.client(follow_redirects=False) as client:
        answer = client.post(
            "/login", data={"username": ADMIN[0], "password": ADMIN[1], "next": target}
        )
        assert answer.headers["location"] == "/"
        switched = client.get("/lang/en", params={"next": target})
        assert switched.headers["location"] == "/"


def test_language_switch_sets_the_cookie_and_goes_back(admin: httpx.Client) -> None:
    answer = admin.get("/lang/en", params={"next": "/regions"})
    assert answer.status_code == 303 and answer.headers["location"] == "/regions"
    assert "Regions" in admin.get("/regions").text
    admin.get("/lang/zh-CN", params={"next": "/"})
    assert "区域" in admin.get("/regions").text


def test_wrong_password_is_401_with_a_friendly_page(server: Server) -> None:
    with server.client() as client:
        answer = client.post("/login", data={"username": OPERATOR[0], "password": "nope-nope"})
    assert answer.status_code == 401
    assert "text/html" in answer.headers["content-type"]
    assert "data-login-error" in answer.text


def test_unknown_console_pages_are_html_but_api_errors_stay_json(admin: httpx.Client) -> None:
    page = admin.get("/no-such-page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    api = admin.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")


def test_bad_query_values_never_fail_the_page(admin: httpx.Client) -> None:
    for query in ("page=abc&tier=tank&status=x", "region=zzz", "region=11"):
        assert admin.get(f"/terminals?{query}").status_code == 200
    assert admin.get("/audit?since=yesterday&page=-3").status_code == 200


def test_pages_carry_security_headers(admin: httpx.Client) -> None:
    answer = admin.get("/")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"


def test_operator_cannot_read_audit_or_verify(server: Server) -> None:
    with signed_in(server, OPERATOR) as client:
        assert client.get("/audit").status_code == 403
        verify = client.post("/audit/verify", headers={"X-CSRF-Token": csrf_of(client)})
        assert verify.status_code == 403


def test_admin_creates_a_user_then_changes_its_role(admin: httpx.Client) -> None:
    form = {
        "username": "viewer107",
        "display_name": "武侯观察员",
        "role": "viewer",
        "region": "510107",
        "password": "short",
        "csrf_token": csrf_of(admin),
    }
    refused = admin.post("/users", data=form)
    assert refused.status_code == 400 and 'data-field-error="password"' in refused.text
    assert "武侯观察员" in refused.text and "short" not in refused.text

    created = admin.post("/users", data={**form, "password": "long-enough-1"})
    assert created.status_code == 303
    user_id = user_row_id(admin.get("/users").text, "viewer107")
    changed = admin.post(
        f"/users/{user_id}",
        data={"role": "operator", "region": "510107", "active": "on", "csrf_token": csrf_of(admin)},
    )
    assert changed.status_code == 303
    row = next(r for r in admin.get("/users").text.split("<tr") if ">viewer107<" in r)
    assert '<option value="operator" selected>' in row


def user_row_id(listing: str, username: str) -> str:
    """The id in the save form of ``username``'s table row."""
    row = next(r for r in listing.split("<tr") if f">{username}<" in r)
    found = re.search(r'action="/users/([0-9a-f]+)"', row)
    assert found, row
    return found[1]


def test_adding_a_township_and_refusing_a_duplicate(admin: httpx.Client) -> None:
    form = {"code": "510107801", "name": "测试街道", "csrf_token": csrf_of(admin)}
    added = admin.post("/regions", data=form)
    assert added.status_code == 200 and "测试街道" in added.text
    again = admin.post("/regions", data=form)
    assert again.status_code == 409 and 'data-field-error="code"' in again.text


def test_editing_and_retiring_a_terminal(admin: httpx.Client, server: Server) -> None:
    with server.client(headers=server.api_headers()) as api:
        made = api.post(
            "/api/v1/terminals",
            json={
                "name": "待改名",
                "tier": "home",
                "region": "510107",
                "latitude": 30.6,
                "longitude": 104.0,
            },
        ).json()
    page = f"/terminals/{made['id']}"
    form = {
        "name": "已改名",
        "tier": "hall",
        "region": "510107",
        "latitude": "30.61",
        "longitude": "104.01",
        "tags": "a；b",
        "groups": "",
        "csrf_token": csrf_of(admin),
    }
    bad = admin.post(f"{page}/edit", data={**form, "latitude": "abc"})
    assert bad.status_code == 400 and 'data-field-error="latitude"' in bad.text
    assert admin.post(f"{page}/edit", data=form).status_code == 303
    shown = admin.get(page).text
    assert "已改名" in shown and ">a<" in shown and ">b<" in shown
    assert admin.post(f"{page}/retire", data={"csrf_token": csrf_of(admin)}).status_code == 303
    assert "pill-retired" in admin.get(page).text
