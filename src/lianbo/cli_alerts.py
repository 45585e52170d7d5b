"""``lianbo alert send FILE.cap``: post a CAP 1.2 (or 1.1) message to a
running server; the alert it became is shown with any warnings.

Credentials: ``--token`` (or ``LIANBO_TOKEN``), else ``--user`` and
``--password`` (or ``LIANBO_USER`` / ``LIANBO_PASSWORD``) for a token first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from lianbo.cli_common import console, fail

alert_app = typer.Typer(help="Emergency alerts (CAP 1.2).", no_args_is_help=True)
MAX_FILE_BYTES = 5 * 1024 * 1024


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")
        raise
    if not data.strip():
        fail(f"{path} is empty")
    if len(data) > MAX_FILE_BYTES:
        fail(f"{path} is over {MAX_FILE_BYTES} bytes")
    if not data.lstrip().startswith(b"<"):
        fail(f"{path} is not an XML document")
    return data


def _token(client: httpx.Client, token: str | None, user: str | None, password: str | None) -> str:
    if token:
        return token
    if not user or not password:
        fail("give --token, or --user and --password (or LIANBO_TOKEN / LIANBO_USER)")
    response = client.post("/api/v1/auth/token", json={"username": user, "password": password})
    if response.status_code != 200:
        fail(f"login refused: {_message(response)}")
    return str(response.json()["token"])


def _message(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
    field = f"{error['field']}: " if error.get("field") else ""
    message = str(error.get("message", ""))
    return message if field and message.startswith(field) else f"{field}{message}"


def _show(alert: dict[str, Any]) -> None:
    verdict = "issued" if alert.get("created") else "already issued (same message)"
    table = Table(title=f"alert {alert['id']} {verdict}", show_header=False)
    for key in ("state", "status", "msg_type", "severity", "event", "targeted", "expires"):
        table.add_row(key, str(alert.get(key)))
    if alert.get("replaces"):
        table.add_row("replaces", ", ".join(alert["replaces"]))
    if alert.get("topics"):
        table.add_row("topics", " ".join(alert["topics"]))
    signature = alert.get("cap_signature")
    if signature:
        table.add_row("signature", f"{signature['state']}: {signature['message']}")
    for code, counts in ((alert.get("reach") or {}).get("by_region") or {}).items():
        tiers = ", ".join(f"{tier} {n}" for tier, n in counts.items() if tier != "total")
        table.add_row(f"reach {code}", f"{counts.get('total', 0)} ({tiers})")
    for warning in alert.get("warnings") or []:  # accepted, but worth knowing
        table.add_row("warning", f"{warning['path']}: {warning['message']}")
    console.print(table)


@alert_app.command("send")
def send(
    file: Annotated[Path, typer.Argument(help="A CAP 1.2 XML file.")],
    server: Annotated[
        str, typer.Option(envvar="LIANBO_SERVER", help="Server base URL.")
    ] = "http://127.0.0.1:8000",
    user: Annotated[str | None, typer.Option(envvar="LIANBO_USER")] = None,
    password: Annotated[str | None, typer.Option(envvar="LIANBO_PASSWORD")] = None,
    token: Annotated[str | None, typer.Option(envvar="LIANBO_TOKEN")] = None,
) -> None:
    """Send FILE.cap to the server's CAP import; show the alert it became."""
    data = _read(file)
    try:
        with httpx.Client(base_url=server.rstrip("/"), timeout=30) as client:
            bearer = _token(client, token, user, password)
            response = client.post(
                "/api/v1/alerts/cap",
                content=data,
                headers={
                    "Authorization": f"Bearer {bearer}",
                    "Content-Type": "application/cap+xml",
                },
            )
    except httpx.HTTPError as error:
        fail(f"cannot reach {server}: {error}")
        raise
    if response.status_code not in (200, 201):
        fail(f"refused ({response.status_code}): {_message(response)}")
    _show(response.json())
