"""Text at the HTTP edge: the string types of request models, and a guard
for query and path strings (the rule itself is ``domain.text``).

Every ``str`` in a request model is a :data:`Line` (names, codes, ids) or a
:data:`Text` (multi-line free text: descriptions, reasons, ticker text), so
a control character is a 422 naming the field on SQLite and PostgreSQL
alike, before anything is stored or looked up.
``tests/integration/test_text_sweep.py`` finds every request body's strings
(and every string parameter) in the OpenAPI document and posts a NUL into
each, so a new plain ``str`` field fails there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from lianbo.domain.text import check_text, describe, refused_character

CONTROL_CHARACTER = "control_character"


def _checked(value: str, *, multiline: bool) -> str:
    character = refused_character(value, multiline=multiline)
    if character is not None:
        raise PydanticCustomError(
            CONTROL_CHARACTER,
            "contains a control character ({character})",
            {"character": describe(character)},
        )
    return value


def _line(value: str) -> str:
    return _checked(value, multiline=False)


def _text(value: str) -> str:
    return _checked(value, multiline=True)


LINE_RULE = AfterValidator(_line)
"""The one-line rule as metadata, for a type whose other constraints must
come first (a ``pattern`` after a validator drops out of the JSON schema)."""

Line = Annotated[str, LINE_RULE]
"""One line: a name, code, id or label (no control characters at all)."""

Text = Annotated[str, AfterValidator(_text)]
"""Multi-line free text: tab, line feed and carriage return are allowed."""


async def refuse_control_characters(request: Request) -> None:
    """Dependency of every API router (``api.app``): a path or query string
    with a control character is a 422 naming the parameter (``?user=a%00b``
    -> field ``user``), declared parameter or not. The console ignores such
    query values instead (``web.console.CleanConsoleQuery``)."""
    for name, value in request.path_params.items():
        if isinstance(value, str):
            check_text(value, name)
    for name, value in request.query_params.multi_items():
        check_text(value, name)
