"""Errors of the media adapter that are not the user's fault alone."""

from __future__ import annotations

from lianbo.domain.media import Analysis


class MediaDecodeError(RuntimeError):
    """The file probed but could not be decoded to its end.

    ``partial`` holds what was measured before the failure, so the caller can
    still judge it: ``judge(probe, err.partial, ..., decode_error=err.reason)``
    marks the QC report ``failed`` with ``reason`` as an error finding. A
    ``RuntimeError`` with a ``message`` like ``DomainError``, so a job that
    only catches those still fails the asset with a readable reason.
    """

    def __init__(self, reason: str, partial: Analysis) -> None:
        super().__init__(reason)
        self.reason = self.message = reason
        self.partial = partial
