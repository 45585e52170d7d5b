"""What FastAPI cannot see about each operation, keyed by (method, path).

``PUBLIC`` lists the operations that take no bearer token. ``EXTRA`` adds
status codes beyond the rules in ``openapi`` (conflicts, gone codes, rate
limits, conditional answers). ``REPLACE`` sets parts of an operation
outright: request bodies a route reads from the raw request (multipart,
CAP XML, CSV, tus bytes), tus headers, and answers that are not JSON.
Errors are added by ``openapi`` itself, always in the error shape.
"""

from __future__ import annotations

from typing import Any

from lianbo.api.content_schemas import AssetCreate
from lianbo.api.routes.alerts import CAP_TYPES

Key = tuple[str, str]

PUBLIC: frozenset[Key] = frozenset(
    {
        ("post", "/api/v1/auth/token"),
        ("post", "/terminal/v1/enrol"),
        ("get", "/terminal/v1/keys"),
        ("options", "/api/v1/uploads"),
        ("get", "/media/{sha256}"),
        ("head", "/media/{sha256}"),
        ("get", "/manifests/{audience_key}/{version}"),
        ("get", "/healthz"),
        ("get", "/metrics"),
        ("get", "/feeds/alerts.atom"),
    }
)

EXTRA: dict[Key, tuple[int, ...]] = {
    ("post", "/api/v1/auth/token"): (401, 429),
    ("post", "/api/v1/users"): (409,),
    ("patch", "/api/v1/users/{user_id}"): (409,),
    ("get", "/media/{sha256}"): (410, 416),
    ("head", "/media/{sha256}"): (410, 416),
    ("get", "/api/v1/regions"): (404,),
    ("post", "/api/v1/regions"): (409,),
    ("post", "/api/v1/terminals"): (404, 409),
    ("post", "/api/v1/terminals/import"): (404, 409),
    ("patch", "/api/v1/terminals/{terminal_id}"): (409,),
    ("post", "/api/v1/terminals/{terminal_id}/retire"): (409,),
    ("post", "/api/v1/terminals/{terminal_id}/enrolment-code"): (409,),
    ("post", "/api/v1/terminals/{terminal_id}/commands"): (409,),
    ("put", "/api/v1/terminals/{terminal_id}/screen-quad"): (409,),
    ("delete", "/api/v1/terminals/{terminal_id}/screen-quad"): (409,),
    ("post", "/terminal/v1/enrol"): (404, 409, 410),
    ("post", "/terminal/v1/heartbeat"): (429,),
    ("post", "/terminal/v1/playlog"): (403, 429),
    ("post", "/terminal/v1/screenshot"): (403, 409, 429),
    ("post", "/terminal/v1/alerts/{alert_id}/ack"): (409,),
    ("post", "/api/v1/assets/{asset_id}/submit"): (409,),
    ("post", "/api/v1/assets/{asset_id}/review"): (409,),
    ("post", "/api/v1/assets/{asset_id}/revoke"): (409,),
    ("post", "/api/v1/uploads"): (413,),
    ("patch", "/api/v1/uploads/{upload_id}"): (409, 415),
    ("post", "/api/v1/playlists"): (404, 409),
    ("put", "/api/v1/playlists/{playlist_id}"): (409,),
    ("post", "/api/v1/schedules"): (404, 409),
    ("post", "/api/v1/schedules/{schedule_id}/publish"): (409,),
    ("post", "/api/v1/schedules/{schedule_id}/unpublish"): (409,),
    ("post", "/api/v1/alerts"): (409,),
    ("post", "/api/v1/alerts/cap"): (409,),
    ("post", "/api/v1/alerts/{alert_id}/confirm"): (409,),
    ("post", "/api/v1/alerts/{alert_id}/cancel"): (409,),
    ("post", "/api/v1/alarms/{alarm_id}/ack"): (409,),
    ("post", "/api/v1/alarms/{alarm_id}/resolve"): (409,),
}

COMPONENTS: dict[str, Any] = {
    "AssetCreate": AssetCreate.model_json_schema(ref_template="#/components/schemas/{model}"),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(name)}}


def _body(media: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": media}


def _answer(
    description: str, media: dict[str, Any] | None = None, /, **headers: Any
) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if media:
        answer["content"] = media
    if headers:
        answer["headers"] = {
            name.replace("_", "-"): spec if isinstance(spec, dict) else _header(spec)
            for name, spec in headers.items()
        }
    return answer


def _header(kind: str, *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "schema": {"type": kind}}


def _param(name: str, schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "schema": schema}


BINARY = {"type": "string", "format": "binary"}
TEXT = {"type": "string"}
JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}
# An answer repeated for a request's Idempotency-Key says so (ADR 0015).
REPLAYED = {
    "required": False,
    "schema": {"type": "string", "enum": ["true"]},
    "description": "present on the answer kept for a repeated Idempotency-Key",
}
IDEMPOTENCY_KEY = _param(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    required=False,
) | {
    "description": "1-255 visible ASCII characters, new for each alert (a UUID; the "
    'draft\'s quoted form "…" is taken too). A retry with the same key and body '
    "answers with the alert the first request issued, with that request's status "
    "and `Idempotency-Replayed: true`, instead of issuing a second alert; the same "
    "key with another body is 422 `idempotency_key_reused`; while the first request "
    "with the key is still running, 409 `idempotency_key_in_progress`; a malformed key "
    "is 400. Keys belong to the user and are kept `LIANBO_IDEMPOTENCY_KEY_HOURS` (24)."
}
ISSUED = {
    "200": _answer(
        "Repeats an alert already issued",
        _json("AlertIssued"),
        Idempotency_Replayed=REPLAYED,
    ),
    "201": _answer("Issued", _json("AlertIssued"), Idempotency_Replayed=REPLAYED),
}
TUS_RESUMABLE = _param("Tus-Resumable", {"type": "string", "enum": ["1.0.0"]})
UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": TEXT}
SHA256 = {"name": "sha256", "in": "path", "required": True, "schema": TEXT}
MEDIA_HEADERS = {"ETag": "string", "Cache_Control": "string"}
MEDIA_PARAMETERS = [
    SHA256,
    _param("Range", TEXT, required=False),
    _param("If-None-Match", TEXT, required=False),
]
MULTIPART_FILE = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {"file": BINARY, "name": {"type": "string", "maxLength": 200}},
        }
    }
}

REPLACE: dict[Key, dict[str, Any]] = {
    ("post", "/api/v1/assets"): {
        "requestBody": _body(
            MULTIPART_FILE | {"application/json": {"schema": _ref("AssetCreate")}}
        ),
        "responses": {
            "200": _answer("The same bytes were uploaded before", _json("AssetOut")),
            "201": _answer("Added", _json("AssetOut")),
        },
    },
    ("post", "/api/v1/terminals/import"): {
        "requestBody": _body(
            {"text/csv": {"schema": TEXT}}
            | {"multipart/form-data": MULTIPART_FILE["multipart/form-data"]}
        ),
    },
    ("post", "/api/v1/alerts"): {"parameters": [IDEMPOTENCY_KEY], "responses": ISSUED},
    ("post", "/api/v1/alerts/cap"): {
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": _body({kind: {"schema": TEXT} for kind in CAP_TYPES}),
        "responses": ISSUED,
    },
    ("get", "/api/v1/alerts/{alert_id}/cap"): {
        "responses": {"200": _answer("CAP 1.2 XML", {"application/cap+xml": {"schema": TEXT}})},
    },
    ("get", "/feeds/alerts.atom"): {
        "responses": {
            "200": _answer("Atom feed of CAP entries", {"application/atom+xml": {"schema": TEXT}})
        },
    },
    ("get", "/metrics"): {
        "responses": {"200": _answer("Prometheus text format", {"text/plain": {"schema": TEXT}})},
    },
    ("get", "/healthz"): {
        "responses": {
            "200": _answer("Ready: the store and every named check answer", JSON_OBJECT),
            "503": _answer("Not ready: `not_ready` names what is not", JSON_OBJECT),
        },
    },
    ("get", "/media/{sha256}"): {
        "parameters": MEDIA_PARAMETERS,
        "responses": {
            "200": _answer("The bytes", {"*/*": {"schema": BINARY}}, **MEDIA_HEADERS),
            "206": _answer("The requested Range", {"*/*": {"schema": BINARY}}),
            "304": _answer("If-None-Match is current"),
        },
    },
    ("head", "/media/{sha256}"): {
        "parameters": MEDIA_PARAMETERS,
        "responses": {
            "200": _answer("The bytes' headers", **MEDIA_HEADERS),
            "206": _answer("The requested Range's headers"),
            "304": _answer("If-None-Match is current"),
        },
    },
    ("get", "/api/v1/alarms/{alarm_id}/evidence/screenshot"): {
        "responses": {"200": _answer("The screenshot", {"image/*": {"schema": BINARY}})},
    },
    ("get", "/api/v1/alarms/{alarm_id}/evidence/expected"): {
        "responses": {"200": _answer("The expected frame", {"image/jpeg": {"schema": BINARY}})},
    },
    ("get", "/api/v1/reports/plays"): {
        "responses": {
            "200": _answer(
                "The report (CSV with format=csv or Accept: text/csv)",
                JSON_OBJECT | {"text/csv": {"schema": TEXT}},
            )
        },
    },
    ("get", "/terminal/v1/manifest"): {
        "parameters": [_param("If-None-Match", TEXT, required=False)],
        "responses": {
            "200": _answer(
                "{manifest, signature, key_id, server_time}; manifest as signed",
                JSON_OBJECT,
                ETag="string",
            ),
            "304": _answer("If-None-Match is current", ETag="string"),
        },
    },
    ("get", "/manifests/{audience_key}/{version}"): {
        "parameters": [
            {"name": "audience_key", "in": "path", "required": True, "schema": TEXT},
            {"name": "version", "in": "path", "required": True, "schema": TEXT},
            _param("If-None-Match", TEXT, required=False),
        ],
        "responses": {
            "200": _answer(
                "{manifest, signature, key_id}; manifest as signed (immutable, ADR 0024)",
                JSON_OBJECT,
                **MEDIA_HEADERS,
            ),
            "304": _answer("If-None-Match is current", ETag="string"),
        },
    },
    ("post", "/terminal/v1/heartbeat"): {
        "requestBody": _body(JSON_OBJECT, required=False),
    },
    ("post", "/terminal/v1/playlog"): {
        "requestBody": _body(
            {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["entries"],
                        "properties": {
                            "terminal_id": TEXT,
                            "entries": {"type": "array", "items": {"type": "object"}},
                        },
                    }
                }
            }
        ),
        "responses": {"200": _answer("{accepted, rejected, unauthorised}", JSON_OBJECT)},
    },
    ("post", "/terminal/v1/screenshot"): {
        "requestBody": _body(
            {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "taken_at"],
                        "properties": {
                            "file": BINARY,
                            "taken_at": {"type": "string", "format": "date-time"},
                            "source": {"type": "string", "enum": ["framebuffer", "camera"]},
                            "terminal_id": TEXT,
                        },
                    }
                }
            }
        ),
    },
    ("options", "/api/v1/uploads"): {
        "responses": {
            "204": _answer(
                "tus capabilities",
                Tus_Resumable="string",
                Tus_Version="string",
                Tus_Extension="string",
                Tus_Max_Size="integer",
            )
        },
    },
    ("post", "/api/v1/uploads"): {
        "parameters": [
            TUS_RESUMABLE,
            _param("Upload-Length", {"type": "integer", "minimum": 0}),
            _param("Upload-Metadata", TEXT, required=False),
        ],
        "responses": {"201": _answer("Created", Location="string", Tus_Resumable="string")},
    },
    ("head", "/api/v1/uploads/{upload_id}"): {
        "parameters": [UPLOAD_ID],
        "responses": {
            "200": _answer(
                "How far the upload got",
                Upload_Offset="integer",
                Upload_Length="integer",
                Tus_Resumable="string",
                Lianbo_Asset_Id=_header("string", required=False),
            )
        },
    },
    ("patch", "/api/v1/uploads/{upload_id}"): {
        "parameters": [
            UPLOAD_ID,
            TUS_RESUMABLE,
            _param("Upload-Offset", {"type": "integer", "minimum": 0}),
        ],
        "requestBody": _body({"application/offset+octet-stream": {"schema": BINARY}}),
        "responses": {
            "204": _answer(
                "Appended; Lianbo-Asset-Id once the last byte landed",
                Upload_Offset="integer",
                Tus_Resumable="string",
                Lianbo_Asset_Id=_header("string", required=False),
            )
        },
    },
    ("delete", "/api/v1/uploads/{upload_id}"): {
        "parameters": [UPLOAD_ID],
        "responses": {"204": _answer("Cancelled", Tus_Resumable="string")},
    },
}
