"""Domain errors. Entry points map each to an HTTP status or a CLI message."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user can cause; never a 500."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """The request is well-formed but a value is not acceptable (400)."""

    code = "invalid"


class Unprocessable(InvalidInput):
    """A well-formed value that cannot be meant (end before start, an RRULE
    that does not parse, an unknown time zone): 422, naming the field."""

    code = "validation"


class NotFound(DomainError):
    """Absent, or outside the caller's jurisdiction (404: the two look alike)."""

    code = "not_found"


class Conflict(DomainError):
    """The request clashes with existing state, e.g. a duplicate name (409)."""

    code = "conflict"


class Forbidden(DomainError):
    """The caller's role does not allow this act (403)."""

    code = "forbidden"


class Unauthorized(DomainError):
    """No valid credentials (401)."""

    code = "unauthorized"


class RateLimited(DomainError):
    """Too many attempts; try again later (429)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooLarge(DomainError):
    """An upload over the configured size limit (413)."""

    code = "too_large"


class Gone(DomainError):
    """A one-time thing that was used or has expired (410)."""

    code = "gone"


class Unavailable(DomainError):
    """Something the request needs is out of reach for now, e.g. the media
    object storage (503); trying again later may succeed."""

    code = "unavailable"
