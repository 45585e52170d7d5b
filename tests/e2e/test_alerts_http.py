"""The alert pages' HTTP rules against the real server, without a browser:
who may open them, CSRF, jurisdiction, and what bad input gets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.e2e.alert_support import add_township, add_user, csrf, enrolled_screen
from tests.e2e.content import unique
from tests.e2e.helpers import Server

pytestmark = pytest.mark.e2e

HOME = "510114101"  # 新都区: this module's issuers work here
AWAY = "510114102"
POINTS = ((30.80, 104.10), (30.80, 104.20), (30.90, 104.20), (30.90, 104.10))


@contextmanager
def signed_in(server: Server, user: tuple[str, str]) -> Iterator[httpx.Client]:
    with server.client(follow_redirects=False) as client:
        answer = client.post("/login", data={"username": user[0], "password": user[1]})
        assert answer.status_code == 303, answer.text
        yield client


@pytest.fixture(scope="module")
def people(server: Server) -> dict[str, tuple[str, str]]:
    add_township(server, HOME, "预警测试一镇")
    add_township(server, AWAY, "预警测试二镇")
    for n, (lat, lon) in enumerate(POINTS):
        enrolled_screen(server, unique(f"新都屏{n}"), ("outdoor", "hall")[n % 2], HOME, lat, lon)
    enrolled_screen(server, unique("外镇屏"), "home", AWAY, 30.85, 104.40)
    return {
        "first": add_user(server, "issuer", HOME),
        "second": add_user(server, "issuer", HOME),
        "away": add_user(server, "issuer", AWAY),
        "viewer": add_user(server, "viewer", HOME),
    }


def form(client: httpx.Client, **values: Any) -> dict[str, Any]:
    base = {
        "csrf_token": csrf(client),
        "severity": "Severe",
        "event": unique("测试"),
        "status": "Actual",
        "urgency": "Immediate",
        "expires_at": "2099-01-01T10:00",
        "headline": "测试预警",
        "description": "测试",
        "region": HOME,
    }
    return {**base, **values}


def issued(client: httpx.Client, **values: Any) -> str:
    answer = client.post("/alerts/new", data=form(client, **values))
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def test_pages_need_a_session(server: Server) -> None:
    with server.client() as client:
        for path in ("/alerts", "/alerts/new", "/monitoring", "/alarms", "/reports"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_only_issuers_open_the_composer(server: Server, people: dict[str, Any]) -> None:
    with signed_in(server, people["viewer"]) as viewer:
        assert viewer.get("/alerts").status_code == 200
        assert viewer.get("/alerts/new").status_code == 403
        assert viewer.post("/alerts/new", data=form(viewer)).status_code == 403
        assert viewer.post("/alerts/preview", data=form(viewer)).status_code == 403


def test_preview_and_send_need_the_csrf_token(server: Server, people: dict[str, Any]) -> None:
    with signed_in(server, people["first"]) as client:
        body = form(client)
        del body["csrf_token"]
        assert client.post("/alerts/preview", data=body).status_code == 403
        assert client.post("/alerts/new", data=body).status_code == 403


def test_preview_refuses_a_region_outside_and_warns_of_shapes_reaching_past(
    server: Server, people: dict[str, Any]
) -> None:
    with signed_in(server, people["first"]) as client:
        inside = client.post("/alerts/preview", data=form(client))
        assert "data-preview-total>4<" in inside.text.replace(" ", "")
        region = client.post("/alerts/preview", data=form(client, region=AWAY))
        assert f"区划 {AWAY} 不在管辖区域 {HOME} 内" in region.text  # domain_messages
        assert "data-preview-error" in region.text
        # Shapes are geography: accepted, with a warning for the part outside.
        far = json.dumps([[[30.0, 103.0], [30.0, 103.1], [30.1, 103.1]]])
        polygon = client.post("/alerts/preview", data=form(client, region="", polygons=far))
        assert "data-preview-error" not in polygon.text
        assert 'data-preview-warning="area_outside" data-part="polygon1"' in polygon.text
        # 25 km round the township's screens: the other township's screen lies
        # inside, and is not reached.
        wide = json.dumps([{"lat": 30.85, "lon": 104.30, "radius_km": 25}])
        circle = client.post("/alerts/preview", data=form(client, region="", circles=wide))
        assert "data-preview-total>4<" in circle.text.replace(" ", "")
        assert 'data-preview-warning="area_partly_outside" data-part="circle1"' in circle.text
        assert f'data-preview-region="{HOME}"' in circle.text
        assert f'data-preview-region="{AWAY}"' not in circle.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("polygons", "not json"),
        ("polygons", json.dumps([[[30.8, 104.1], [30.8, 104.2]]])),
        ("polygons", json.dumps([[[95, 104.1], [30.8, 104.2], [30.9, 104.2]]])),
        ("polygons", json.dumps([[["a", 1], [30.8, 104.2], [30.9, 104.2]]])),
        ("circles", json.dumps([{"lat": 30.8, "lon": 104.1, "radius_km": -1}])),
        ("circles", json.dumps([{"lat": 30.8}])),
        ("circles", json.dumps({"lat": 30.8})),
        ("region_codes", "51x"),
    ],
)
def test_bad_area_input_is_named_not_a_500(
    server: Server, people: dict[str, Any], field: str, value: str
) -> None:
    with signed_in(server, people["first"]) as client:
        preview = client.post("/alerts/preview", data=form(client, region="", **{field: value}))
        assert preview.status_code == 200 and "data-preview-error" in preview.text
        sent = client.post("/alerts/new", data=form(client, region="", **{field: value}))
        assert sent.status_code == 400, sent.text[:300]
        assert f'data-field-error="{field}"' in sent.text


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"severity": "Apocalyptic"}, "severity"),
        ({"event": ""}, "event"),
        ({"headline": ""}, "headline"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"region": ""}, "area"),
    ],
)
def test_bad_form_values_come_back_next_to_their_fields(
    server: Server, people: dict[str, Any], values: dict[str, str], field: str
) -> None:
    with signed_in(server, people["first"]) as client:
        answer = client.post("/alerts/new", data=form(client, **values))
    assert answer.status_code == 400
    assert f'data-field-error="{field}"' in answer.text


def test_expired_on_arrival_and_outside_jurisdiction_are_refused(
    server: Server, people: dict[str, Any]
) -> None:
    with signed_in(server, people["first"]) as client:
        past = client.post("/alerts/new", data=form(client, expires_at="2001-01-01T10:00"))
        assert past.status_code == 422
        away = client.post("/alerts/new", data=form(client, region=AWAY))
        assert away.status_code == 403
        assert 'data-field-error="area"' in away.text


def test_two_person_rule_and_jurisdiction_on_the_alert_page(
    server: Server, people: dict[str, Any]
) -> None:
    with signed_in(server, people["first"]) as first:
        location = issued(first)
        page = first.get(location)
        assert "data-waiting" in page.text and "data-confirm-alert" not in page.text
        assert (
            first.post(f"{location}/confirm", data={"csrf_token": csrf(first)}).status_code == 403
        )
    with signed_in(server, people["away"]) as away:
        assert away.get(location).status_code == 404
        assert away.post(f"{location}/cancel", data={"csrf_token": csrf(away)}).status_code == 404
    with signed_in(server, people["viewer"]) as viewer:
        assert viewer.get(location).status_code == 200
        assert (
            viewer.post(f"{location}/confirm", data={"csrf_token": csrf(viewer)}).status_code == 403
        )
    with signed_in(server, people["second"]) as second:
        assert "data-confirm-alert" in second.get(f"{location}/board").text
        assert second.post(f"{location}/confirm").status_code == 403  # no CSRF token
        done = second.post(f"{location}/confirm", data={"csrf_token": csrf(second)})
        assert done.status_code == 303
        assert 'data-state="active"' in second.get(location).text
        again = second.post(f"{location}/confirm", data={"csrf_token": csrf(second)})
        assert again.status_code == 409
        cancel = second.post(f"{location}/cancel", data={"csrf_token": csrf(second)})
        assert cancel.status_code == 303
        assert (
            second.post(f"{location}/cancel", data={"csrf_token": csrf(second)}).status_code == 409
        )
        assert second.get("/alerts/no-such-alert").status_code == 404
