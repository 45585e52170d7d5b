"""Errors raised while reading or checking an alert."""

from __future__ import annotations

from lianbo.domain.errors import InvalidInput, Unprocessable


class XmlRefused(InvalidInput):
    """An XML document we refuse to parse: too big, a DTD, entities, or
    not well-formed (400)."""

    code = "xml_refused"


class CapInvalid(Unprocessable):
    """A CAP message that breaks the standard; ``path`` names the element,
    e.g. ``alert/info[2]/area[1]/polygon[3]`` (422)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}", field=path)
        self.path = path
        self.reason = reason
