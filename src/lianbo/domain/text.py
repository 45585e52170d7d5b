"""Which characters a stored text may hold: one rule for every store.

PostgreSQL refuses NUL in any text and cannot encode a lone surrogate;
SQLite stores both. So that both stores behave the same (and a NUL never
reaches a query as a 500), every entry point refuses, before anything is
stored or looked up, the characters no name needs: the C0 controls, DEL
and lone surrogates. Tab, line feed and carriage return are allowed only
in multi-line free text (descriptions, reasons, ticker text), never in a
name, code or id. The rule is pure so the API, the console, the CLI, the
CAP reader and the CSV import share it.
"""

from __future__ import annotations

import re

from lianbo.domain.errors import Unprocessable

# C0 controls (U+0000-U+001F), DEL (U+007F) and the surrogate range, which
# in a Python str can only be a lone (unpaired) surrogate.
_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# The same minus tab, line feed and carriage return.
_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def refused_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character ``value`` may not hold, or None when it is clean."""
    found = (_MULTILINE if multiline else _LINE).search(value)
    return found.group() if found else None


def describe(character: str) -> str:
    """A refused character as a person can read it: ``U+0000``."""
    return f"U+{ord(character):04X}"


def refusal(field: str, character: str) -> str:
    """The message naming the field and the character it may not hold."""
    return f"{field} contains a control character ({describe(character)})"


def check_text(value: str, field: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or Unprocessable (422) naming ``field``."""
    character = refused_character(value, multiline=multiline)
    if character is not None:
        raise Unprocessable(refusal(field, character), field=field)
    return value


def refused_in_json(value: object, where: str = "") -> tuple[str, str] | None:
    """(path, character) of the first refused character in a decoded JSON
    value's keys and strings, or None. Free-form reports (a heartbeat's
    status) may carry multi-line text, so tab and line breaks pass."""
    if isinstance(value, str):
        character = refused_character(value, multiline=True)
        return (where, character) if character is not None else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            character = refused_character(str(key), multiline=True)
            found = (path, character) if character is not None else refused_in_json(item, path)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = refused_in_json(item, f"{where}.{index}" if where else str(index))
            if found is not None:
                return found
    return None
