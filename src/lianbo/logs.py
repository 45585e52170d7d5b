"""Structured logs (structlog): key=value for people, JSON for machines."""

from __future__ import annotations

import logging

import structlog


def configure_logging(level: str = "info", *, json: bool = False) -> None:
    """Set up structlog and route the standard library's logs through it."""
    # Plain tracebacks: rich ones print every frame's locals (tokens,
    # passwords) into the log and take seconds to render on a busy machine.
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *([structlog.processors.format_exc_info] if json else []),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level.upper(), format="%(message)s")
