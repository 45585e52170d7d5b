"""The OpenAPI document names auth, the error shape and non-JSON media."""

from pathlib import Path
from typing import Any

import pytest

from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings


@pytest.fixture
def document(tmp_path: Path) -> dict[str, Any]:
    app = create_app(container=bootstrap(Settings(data_dir=tmp_path)))
    result: dict[str, Any] = app.openapi()
    return result


def test_user_operations_take_a_bearer_token_and_say_401_403(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == scheme | {"type": "http", "scheme": "bearer"}
    op = document["paths"]["/api/v1/terminals"]["get"]
    assert op["security"] == [{"bearerAuth": []}]
    assert {"400", "401", "403", "422"} <= set(op["responses"])
    login = document["paths"]["/api/v1/auth/token"]["post"]
    assert "security" not in login and {"401", "413", "429"} <= set(login["responses"])


def test_every_error_answer_has_the_error_shape(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for item in document["paths"].values():
        for op in item.values():
            for code, answer in op["responses"].items():
                if code.startswith("4"):
                    media = answer["content"]["application/json"]["schema"]
                    assert media == {"$ref": "#/components/schemas/Error"}


def test_non_json_bodies_and_answers_are_described(document: dict[str, Any]) -> None:
    paths = document["paths"]

    def body(path: str, method: str) -> set[str]:
        return set(paths[path][method]["requestBody"]["content"])

    def answer(path: str, method: str, code: str = "200") -> set[str]:
        return set(paths[path][method]["responses"][code]["content"])

    assert "application/cap+xml" in body("/api/v1/alerts/cap", "post")
    assert body("/api/v1/assets", "post") == {"multipart/form-data", "application/json"}
    assert "text/csv" in body("/api/v1/terminals/import", "post")
    assert body("/api/v1/uploads/{upload_id}", "patch") == {"application/offset+octet-stream"}
    assert answer("/api/v1/alerts/{alert_id}/cap", "get") == {"application/cap+xml"}
    assert answer("/feeds/alerts.atom", "get") == {"application/atom+xml"}
    assert answer("/metrics", "get") == {"text/plain"}
    assert answer("/media/{sha256}", "get") == {"*/*"}
    tus = {p["name"] for p in paths["/api/v1/uploads"]["post"]["parameters"]}
    assert {"Tus-Resumable", "Upload-Length", "Upload-Metadata"} <= tus
