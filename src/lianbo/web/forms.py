"""Reading HTML forms and query strings without ever answering 422.

Browsers send whatever a person typed; the console parses it by hand so a
bad value becomes a message next to its field, not a JSON error page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from starlette.datastructures import FormData

from lianbo.api.errors import STATUS
from lianbo.domain.errors import DomainError, InvalidInput
from lianbo.domain.text import check_text, refused_character

# Operators paste lists from spreadsheets and chat: accept ASCII and
# full-width commas and semicolons alike.
LABEL_SEPARATORS = re.compile(r"[,;，；、]")
FIELD_MAX = 2000
T = TypeVar("T")


# Textareas: the only console fields where tab and line breaks belong.
MULTILINE_FIELDS = frozenset(
    ("text", "description", "instruction", "tr_description", "tr_instruction", "reason")
)


async def checked_form(request: Request) -> FormData:
    """The posted form, every text field (repeated ones too) held to the one
    text rule (``domain.text``): a control character is Unprocessable naming
    the field, which the console shows as an error page, never a 500."""
    form = await request.form()
    for key, value in form.multi_items():
        if isinstance(value, str):
            check_text(value, key, multiline=key in MULTILINE_FIELDS)
    return form


async def form_text(request: Request) -> dict[str, str]:
    """The text fields of a posted form (files are left out), trimmed in length."""
    form = await checked_form(request)
    return {key: value[:FIELD_MAX] for key, value in form.items() if isinstance(value, str)}


async def refuse_control_characters_in_path(request: Request) -> None:
    """Router dependency of every console page: a path value breaking the
    one text rule (``domain.text``) is Unprocessable (the error page)."""
    for name, value in request.path_params.items():
        if isinstance(value, str):
            check_text(value, name)


def without_control_characters(query_string: bytes) -> bytes | None:
    """The query string without the pairs that break the one text rule, or
    None when every pair is clean. The console ignores such junk, as it
    ignores other junk in a query string, rather than failing the page."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if refused_character(k + v) is None]
    return urlencode(kept).encode("latin-1") if len(kept) < len(pairs) else None


def query_text(params: Mapping[str, str], name: str, limit: int = 120) -> str:
    """A query parameter as stripped text, '' when absent."""
    return params.get(name, "").strip()[:limit]


def page_number(raw: str | None, last: int = 100_000) -> int:
    """A 1-based page number; junk reads as page 1."""
    try:
        number = int(raw or "1")
    except ValueError:
        return 1
    return min(max(number, 1), last)


def split_labels(raw: str) -> tuple[str, ...]:
    """``a, b; c`` -> ("a", "b", "c"), empty parts dropped."""
    return tuple(part.strip() for part in LABEL_SEPARATORS.split(raw) if part.strip())


def parse_float(raw: str, field_name: str) -> float:
    """A decimal number, or InvalidInput naming the field."""
    try:
        return float(raw.strip().replace("，", "."))
    except ValueError:
        raise InvalidInput(f"not a number: {raw!r}", field=field_name) from None


@dataclass
class FormErrors:
    """Messages by field name; ``general`` holds the ones without a field."""

    fields: dict[str, str] = field(default_factory=dict)
    general: str = ""

    def add(self, error: DomainError) -> None:
        """Keep the first message per field (the one to fix first)."""
        if error.field and error.field not in self.fields:
            self.fields[error.field] = error.message
        elif not error.field and not self.general:
            self.general = error.message

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def collect(errors: FormErrors, parse: Callable[[], T]) -> T | None:
    """``parse()``, or None with its InvalidInput noted in ``errors``.

    Lets a form parse every field and show all the mistakes at once.
    """
    try:
        return parse()
    except InvalidInput as problem:
        errors.add(problem)
        return None


def status_of(error: DomainError) -> int:
    """The HTTP status a console page answers with for a domain error."""
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400
