"""JSON from a peer, parsed with its nesting bounded.

``json.loads`` recurses once per ``[`` or ``{``: a body of 100,000 ``[``
raises ``RecursionError`` (not ``ValueError``), which every caller that
catches only ``ValueError`` turned into a 500. And a document nested a
few hundred deep still parses, only to fail later in whatever walks it
(``json.dumps`` when it is stored). Every parser of what a client or a
screen sends uses ``loads`` here: too deep is just another ``ValueError``.
"""

from __future__ import annotations

import json
from typing import Any

# Our documents are a few levels deep (an alert's polygons are the deepest:
# area → polygons → polygon → point); 32 leaves room and stays far from
# Python's recursion limit.
MAX_DEPTH = 32


class TooDeep(ValueError):
    """JSON nested deeper than ``MAX_DEPTH``."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested deeper than {limit} levels")


def loads(raw: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads``, raising ``TooDeep`` (a ``ValueError``) for deep nesting."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise TooDeep(max_depth) from None
    # Cheap test first: a document with few brackets cannot be deep.
    if _brackets(raw) > max_depth and depth(value) > max_depth:
        raise TooDeep(max_depth)
    return value


def _brackets(raw: str | bytes) -> int:
    if isinstance(raw, str):
        return raw.count("[") + raw.count("{")
    return raw.count(b"[") + raw.count(b"{")


def depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a scalar); iterative."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest
