"""China's CAP profile (GB/T 35965.1-2018, 应急信息交互协议 第1部分：预警信息):
its message identifiers and sender codes.

An identifier is ``ZZZZZZDDDUUUXX_YYYYMMDDhhmmss_N`` (31 characters): the
issuing unit's code (发布单位代码: ``ZZZZZZ`` its GB/T 2260 region, ``DDD``
its organisation per GB/T 4657, ``UUU`` a unit inside it, default ``000``,
``XX`` an extension, default ``00``), the time the message was entered in
Beijing time, and ``N``, 0-9, numbering the unit's messages entered in the
same second. Times in the profile carry ``+08:00``, which CAP reads as any
offset. Identifiers in this form are accepted like any other; ours take it
when a sender code is configured (``LIANBO_CAP_SENDER_CODE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
SEQUENCES = 10  # N is one digit
_CODE = re.compile(r"\d{14}")
_IDENTIFIER = re.compile(r"(\d{6})(\d{3})(\d{3})(\d{2})_(\d{14})_(\d)")


@dataclass(frozen=True, slots=True)
class ChinaIdentifier:
    """An identifier in China's form, read into its parts."""

    region: str  # GB/T 2260 code of the issuing unit
    organisation: str  # GB/T 4657
    unit: str
    extension: str
    entered: datetime  # +08:00
    sequence: int

    @property
    def sender_code(self) -> str:
        """The issuing unit's 14-digit code."""
        return f"{self.region}{self.organisation}{self.unit}{self.extension}"


def read_identifier(identifier: str) -> ChinaIdentifier | None:
    """The parts of a China-profile identifier; None for any other form
    (including one with an impossible date)."""
    found = _IDENTIFIER.fullmatch(identifier)
    if found is None:
        return None
    region, organisation, unit, extension, stamp, sequence = found.groups()
    try:
        entered = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None
    return ChinaIdentifier(region, organisation, unit, extension, entered, int(sequence))


def is_sender_code(code: str) -> bool:
    """True for a 14-digit 发布单位代码."""
    return _CODE.fullmatch(code) is not None


def identifier(sender_code: str, entered: datetime, sequence: int) -> str:
    """Our identifier for a message entered at ``entered`` (any offset;
    written in Beijing time), the ``sequence``-th of that second."""
    if not is_sender_code(sender_code):
        raise ValueError("a sender code is 14 digits")
    if not 0 <= sequence < SEQUENCES:
        raise ValueError("the sequence is one digit")
    stamp = entered.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")
    return f"{sender_code}_{stamp}_{sequence}"


def second_prefix(sender_code: str, entered: datetime) -> str:
    """What every identifier of that unit and second starts with."""
    return identifier(sender_code, entered, 0)[:-1]
