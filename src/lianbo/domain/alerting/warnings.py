"""What a CAP message gets wrong without being wrong: warnings.

The reference validator (google/cap-library) separates errors, which
refuse a message, from cosmetic faults a receiver should accept. We do the
same: an empty optional element, a geocode scheme we do not target by, a
restriction on a message that is not Restricted, a CAP 1.1 message read as
1.2, an earlier message we never received (or a later one received first),
a drawn shape reaching beyond the issuer's jurisdiction are accepted, kept
with the alert and shown on it (docs/alerts.md, "Errors and warnings"). A life-safety
message is never refused for a cosmetic rule.

A warning names the element path, as a refusal does, and a ``code`` the
message catalogs turn into words (``alerts.warning.<code>``, zh-CN and
English); ``detail`` is the one value the words quote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class WarningCode(StrEnum):
    EMPTY_ELEMENT = "empty_element"  # <restriction/>, an empty <polygon/>: ignored
    RESTRICTION_SCOPE = "restriction_scope"  # a restriction, scope not Restricted
    GEOCODE_SCHEME = "geocode_scheme"  # a geocode we do not target by
    CAP_1_1 = "cap_1_1"  # read as CAP 1.1, exported as 1.2
    LEGACY_CERTAINTY = "legacy_certainty"  # "Very Likely" (CAP 1.0/1.1) read as Likely
    UPDATE_UNKNOWN = "update_unknown"  # updates a message we never received
    CANCEL_UNKNOWN = "cancel_unknown"  # cancels a message we never received
    UPDATED_FIRST = "updated_first"  # its Update came first: arrives superseded
    CANCELLED_FIRST = "cancelled_first"  # its Cancel came first: arrives cancelled
    # A drawn shape (polygon, circle) beyond the issuer's jurisdiction: the
    # part outside reaches no screen (docs/alerts.md, "Areas").
    AREA_PARTLY_OUTSIDE = "area_partly_outside"
    AREA_OUTSIDE = "area_outside"  # wholly outside: it reaches no screen at all


@dataclass(frozen=True, slots=True)
class CapWarning:
    """One cosmetic fault, accepted: where, what, and the value it quotes."""

    path: str
    code: WarningCode
    detail: str = ""

    def as_json(self) -> dict[str, str]:
        """The stored form."""
        return {"path": self.path, "code": self.code.value, "detail": self.detail}

    @classmethod
    def of_json(cls, data: dict[str, str]) -> CapWarning:
        """The inverse of :meth:`as_json`."""
        return cls(data["path"], WarningCode(data["code"]), data.get("detail", ""))


def merged(*groups: Iterable[CapWarning]) -> tuple[CapWarning, ...]:
    """The warnings of every group, each once, in the order first seen."""
    return tuple(dict.fromkeys(w for group in groups for w in group))
