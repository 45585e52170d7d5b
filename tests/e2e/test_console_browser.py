"""The console in a real browser: sign in, languages, terminals, regions, audit."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.e2e.helpers import ADMIN, OPERATOR, Server, screenshot, sign_in
from tests.support.waiting import HANG_GUARD_S

pytestmark = pytest.mark.e2e

CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}$")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def create_via_api(server: Server, region: str, name: str) -> dict[str, Any]:
    with server.client(headers=server.api_headers()) as client:
        answer = client.post(
            "/api/v1/terminals",
            json={
                "name": name,
                "tier": "hall",
                "region": region,
                "latitude": 30.657,
                "longitude": 104.081,
            },
        )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def test_admin_switches_language_creates_a_terminal_and_its_code_enrols(
    page: Any, server: Server
) -> None:
    sign_in(page, ADMIN)
    nav = page.locator("nav.nav")
    assert nav.get_by_text("终端").is_visible()

    page.click("a[hreflang=en]")
    page.wait_for_selector("nav.nav >> text=Terminals")
    for label in ("Dashboard", "Terminals", "Regions", "Users", "Audit"):
        assert nav.get_by_text(label, exact=True).is_visible()
    page.click("a[hreflang=zh-CN]")
    page.wait_for_selector("nav.nav >> text=仪表盘")

    name = unique("武侯祠大屏")
    page.goto("/terminals/new")
    page.fill("input[name=name]", name)
    page.select_option("select[name=tier]", "outdoor")
    page.fill("input[name=region]", "510107")
    page.fill("input[name=latitude]", "30.646")
    page.fill("input[name=longitude]", "104.048")
    page.fill("input[name=tags]", "landmark, 4k")
    page.click("form[action='/terminals/new'] button[type=submit]")
    code = page.locator("[data-enrolment-code]").inner_text().strip()
    assert CODE.match(code), code
    assert name in page.content()

    answer = httpx.post(
        f"{server.url}/terminal/v1/enrol", json={"code": code}, timeout=HANG_GUARD_S
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token"]


def test_form_errors_stay_next_to_their_fields_with_the_typed_values(page: Any) -> None:
    sign_in(page, ADMIN, "/terminals/new")
    page.fill("input[name=name]", "坏坐标")
    page.fill("input[name=region]", "510107")
    page.fill("input[name=latitude]", "north")
    page.fill("input[name=longitude]", "104.0")
    page.click("form[action='/terminals/new'] button[type=submit]")
    assert page.locator("[data-field-error=latitude]").is_visible()
    assert page.input_value("input[name=name]") == "坏坐标"
    assert page.input_value("input[name=latitude]") == "north"


def test_operator_sees_only_their_county(page: Any, server: Server) -> None:
    elsewhere = create_via_api(server, "510104", unique("春熙路影厅"))
    mine = create_via_api(server, "510107", unique("玉林影厅"))

    sign_in(page, OPERATOR, "/terminals")
    table = page.locator("#terminal-table")
    assert mine["name"] in table.inner_text()
    assert elsewhere["name"] not in table.inner_text()
    for row in page.locator("#terminal-table tbody tr[data-terminal-id]").all():
        assert "510107" in row.inner_text()
    assert not page.locator("nav.nav a[href='/users']").count()

    answer = page.goto(f"/terminals/{elsewhere['id']}")
    assert answer is not None and answer.status == 404
    assert page.locator(".error-code").inner_text() == "404"
    answer = page.goto("/users")
    assert answer is not None and answer.status == 403


def test_wrong_password_shows_a_message(page: Any) -> None:
    page.goto("/login")
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", "not-the-password")
    posted = page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST")
    with posted as info:
        page.click("form.login-form button[type=submit]")
    assert info.value.status == 401
    assert page.locator("[data-login-error]").is_visible()
    assert "/login" in page.url


def test_csv_import_shows_codes(page: Any) -> None:
    rows = [unique("双流机场屏"), unique("双流社区厅")]
    text = "name,tier,region,latitude,longitude,tags,groups\n" + "".join(
        f"{name},hall,510116,30.57,103.95,airport;4k,shuangliu\n" for name in rows
    )
    sign_in(page, ADMIN, "/terminals/import")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "screens.csv", "mimeType": "text/csv", "buffer": text.encode()}],
    )
    page.click("form.upload-form button[type=submit]")
    assert page.locator("[data-import-count]").get_attribute("data-import-count") == "2"
    codes = [c.strip() for c in page.locator("td[data-enrolment-code]").all_inner_texts()]
    assert len(codes) == 2 and all(CODE.match(c) for c in codes)
    href = page.locator("a[download]").get_attribute("href") or ""
    assert href.startswith("data:text/csv")
    assert rows[0] in unquote(href) and codes[0] in unquote(href)


def test_csv_import_names_the_bad_row(page: Any) -> None:
    text = (
        "name,tier,region,latitude,longitude\n"
        "ok,hall,510107,30.6,104.0\n"
        "bad,tank,510107,30.6,104.0\n"
    )
    sign_in(page, ADMIN, "/terminals/import")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": text.encode()}],
    )
    page.click("form.upload-form button[type=submit]")
    assert "第 3 行" in page.locator("[data-import-error]").inner_text()


def test_region_tree_expands_to_districts_with_counts(page: Any, server: Server) -> None:
    create_via_api(server, "510107", unique("武侯区屏"))
    sign_in(page, ADMIN, "/regions")
    province = page.locator("li.tree-node[data-code='51']")
    assert "四川省" in province.locator("summary").first.inner_text()
    city = province.locator("li.tree-node[data-code='5101']")
    assert city.is_visible()
    assert int(city.locator(".tree-count").first.get_attribute("data-count") or 0) >= 1
    city.locator("summary").first.click()
    district = city.locator("li.tree-node[data-code='510107']")
    district.wait_for()
    assert "武侯区" in district.inner_text()
    assert int(district.locator(".tree-count").get_attribute("data-count") or 0) >= 1


def test_dashboard_and_terminals_render_and_refresh(page: Any, server: Server) -> None:
    create_via_api(server, "510107", unique("仪表盘屏"))
    sign_in(page, ADMIN)
    assert page.locator("svg.map circle").count() >= 1
    assert page.locator("#live[hx-trigger='every 15s']").count() == 1
    with page.expect_response(lambda r: "/dashboard/live" in r.url) as info:
        # What the 15-second trigger does, without waiting 15 seconds.
        page.evaluate("htmx.ajax('GET', '/dashboard/live', {target: '#live', swap: 'innerHTML'})")
    assert info.value.status == 200
    screenshot(page, "dashboard")
    page.goto("/terminals")
    assert page.locator("[data-total]").count() == 1
    screenshot(page, "terminals")


def test_audit_lists_acts_and_verifies_the_chain(page: Any) -> None:
    sign_in(page, ADMIN, "/audit?action=auth.")
    assert page.locator("table.audit-table tbody tr").count() >= 1
    page.click("form[action='/audit/verify'] button")
    result = page.locator("#verify-result [data-chain]")
    result.wait_for()
    assert result.get_attribute("data-chain") == "ok"


def test_sign_out_ends_the_session(page: Any) -> None:
    sign_in(page, ADMIN)
    page.click("form[action='/logout'] button")
    page.wait_for_url(re.compile(r"/login"))
    page.goto("/terminals")
    assert "/login?next=/terminals" in page.url
