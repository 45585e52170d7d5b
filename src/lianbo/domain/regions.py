"""Region codes (GB/T 2260 style) and the subtree rule.

A code is a string of 2 (province), 4 (city), 6 (county), 9 (township) or
12 (village/community) digits. The full GB/T 2260 form pads to 6 digits with
zero groups (``51`` = ``510000``, ``5101`` = ``510100``) and deeper codes pad
to 9 or 12. We store the *short* form, so a region's subtree is exactly the
codes that start with it: a cheap range scan on an index.
"""

from __future__ import annotations

from dataclasses import dataclass

from lianbo.domain.errors import InvalidInput

# Digits in each level's code, from province down.
LEVEL_LENGTHS: tuple[int, ...] = (2, 4, 6, 9, 12)
LEVEL_NAMES: tuple[str, ...] = ("province", "city", "county", "township", "village")

# Upper bound for a prefix range scan: "~" sorts after every digit.
_RANGE_END = "~"


@dataclass(frozen=True, slots=True)
class Region:
    """One administrative division."""

    code: str
    name: str
    parent_code: str | None
    full_name: str
    # The statistics bureau's urban-rural class of a village (e.g. "111"
    # 主城区, "220" 村庄), when imported with it (``domain.region_file``).
    category: str | None = None

    @property
    def level(self) -> int:
        """1 for a province, up to 5 for a village."""
        return level_of(self.code)


def normalise_code(raw: str, *, field: str = "region") -> str:
    """Return the short form of a code in short or full GB/T 2260 form.

    Raises InvalidInput (naming ``field``) when it is not a code at all.
    """
    code = raw.strip()
    if not code.isascii() or not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
        raise InvalidInput(f"not a region code: {raw!r}", field=field)
    if len(code) == 12 and code.endswith("000"):
        code = code[:9]
    if len(code) == 9 and code.endswith("000"):
        code = code[:6]
    if len(code) == 6 and code.endswith("00"):
        code = code[:4]
    if len(code) == 4 and code.endswith("00"):
        code = code[:2]
    if code == "00" or code.startswith("00"):
        raise InvalidInput(f"not a region code: {raw!r}", field=field)
    return code


def full_form(code: str) -> str:
    """The GB/T 2260 form: 6 digits for province/city/county, else 9 or 12."""
    if len(code) <= 6:
        return code.ljust(6, "0")
    return code


def level_of(code: str) -> int:
    """Level (1..5) of a short-form code."""
    return LEVEL_LENGTHS.index(len(code)) + 1


def ancestors(code: str) -> list[str]:
    """Short-form prefixes of ``code`` at every level above it, top first.

    Some of them may not exist as regions (a municipality's counties sit
    straight under the province); callers keep only the known ones.
    """
    return [code[:n] for n in LEVEL_LENGTHS if n < len(code)]


def parent_of(code: str, known: set[str] | frozenset[str]) -> str | None:
    """The nearest existing ancestor of ``code`` among ``known`` codes."""
    for candidate in reversed(ancestors(code)):
        if candidate in known:
            return candidate
    return None


def is_within(code: str, jurisdiction: str) -> bool:
    """True when ``code`` lies in the subtree of ``jurisdiction``."""
    return code.startswith(jurisdiction)


def subtree_range(prefix: str) -> tuple[str, str]:
    """Half-open ``[low, high)`` string range holding exactly the subtree."""
    return prefix, prefix + _RANGE_END


def child_code_is_valid(parent: str, child: str) -> bool:
    """A user-added code must extend a county (9 digits) or township (12)."""
    return len(parent) in (6, 9) and len(child) == len(parent) + 3 and child.startswith(parent)


def join_full_name(names: list[str]) -> str:
    """Names from the top down, space-separated: "四川省 成都市 武侯区"."""
    return " ".join(names)
