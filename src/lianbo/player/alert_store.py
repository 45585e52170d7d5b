"""The alert store: what this screen decided about alerts, kept on disk.

``alerts.json`` in the state dir holds the terminal's facts and one record
per alert id, so an alert is never taken as new twice — not after a
restart either — and one still in force comes back on screen. The file is
no more trusted than the network: a stored body is verified again on load.
Alerts long over are forgotten, so the file stays small.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from lianbo.player.alert_state import SHOWABLE, AlertRecord, parse_time
from lianbo.player.alert_view import TerminalFacts
from lianbo.player.files import write_atomic
from lianbo.protocol.alerts import NoticeRejected, verify_notice

log = logging.getLogger("lianbo.player")

STORE_FILE = "alerts.json"
KEEP_ENDED = timedelta(days=3)  # remembered this long past expiry, for dedup
KEEP_MAX = 500


class AlertStore:
    """``alerts.json`` in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / STORE_FILE

    def load(
        self, keys: Callable[[], dict[str, str]]
    ) -> tuple[TerminalFacts, dict[str, AlertRecord]]:
        """The facts and records kept; nothing when the file is absent or
        unreadable. Alerts in force get their notice back if it verifies."""
        records: dict[str, AlertRecord] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return TerminalFacts(), records
        except (OSError, ValueError) as error:
            log.warning("alert store unreadable, starting afresh: %s", error)
            return TerminalFacts(), records
        if not isinstance(data, dict):
            return TerminalFacts(), records
        facts = TerminalFacts.from_json(data.get("terminal"))
        for item in data.get("alerts") or []:
            try:
                record = AlertRecord.from_json(item)
            except (KeyError, TypeError, ValueError):
                continue
            records[record.id] = record
            if record.state in SHOWABLE and record.body is not None:
                try:  # verified again: the file is no more trusted than the network
                    record.notice = verify_notice(record.body, keys())
                except NoticeRejected as error:
                    log.warning("stored alert %s not shown: %s", record.id, error.reason)
        return facts, records

    def save(self, facts: TerminalFacts, records: dict[str, AlertRecord], now: datetime) -> None:
        """Forget what is long over (from ``records`` too), then write the rest."""
        prune(records, now)
        data = {
            "terminal": facts.as_json(),
            "alerts": [r.as_json() for r in records.values()],
        }
        write_atomic(self.path, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def prune(records: dict[str, AlertRecord], now: datetime) -> None:
    """Forget alerts long over, so the store stays small."""
    horizon = now - KEEP_ENDED
    for record in list(records.values()):
        expires = parse_time(record.expires)
        if record.state not in SHOWABLE and expires is not None and expires < horizon:
            del records[record.id]
    while len(records) > KEEP_MAX:
        del records[next(iter(records))]
