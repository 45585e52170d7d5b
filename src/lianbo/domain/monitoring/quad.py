"""A screen quad: where a monitoring camera sees a screen in its picture.

Some screens cannot give a framebuffer capture (an LED wall driven by a
sending card, a TV set-top box); a camera watches them instead. Its photo
is registered before hashing: the screen's four corners in the photo —
top-left, top-right, bottom-right, bottom-left of the picture shown, in
the photo's pixels (x right, y down) — are warped onto a rectangle. The
quad is set once per terminal by an operator; this module checks it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from lianbo.domain.errors import Unprocessable

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]

MAX_COORDINATE = 100_000.0  # pixels: far beyond any camera (48 MP is 8,000 wide)
MIN_AREA = 16 * 9  # square pixels: a screen smaller than 16×9 px proves nothing
FIELD = "quad"


def _point(value: object, index: int) -> Point:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise Unprocessable(f"corner {index} is not an [x, y] pair", field=FIELD)
    x, y = value
    for number in (x, y):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise Unprocessable(f"corner {index} has a coordinate that is no number", field=FIELD)
        if not math.isfinite(number) or abs(number) > MAX_COORDINATE:
            raise Unprocessable(f"corner {index} has a coordinate out of range", field=FIELD)
    return float(x), float(y)


def _turns(quad: Quad) -> list[float]:
    """The cross product of each pair of consecutive edges (> 0: a right turn, y down)."""
    turns = []
    for i in range(4):
        (ax, ay), (bx, by), (cx, cy) = quad[i], quad[(i + 1) % 4], quad[(i + 2) % 4]
        turns.append((bx - ax) * (cy - by) - (by - ay) * (cx - bx))
    return turns


def area(quad: Quad) -> float:
    """The quad's area in square pixels (shoelace; positive in corner order, y down)."""
    return 0.5 * sum(
        quad[i][0] * quad[(i + 1) % 4][1] - quad[(i + 1) % 4][0] * quad[i][1] for i in range(4)
    )


def check_quad(value: object) -> Quad:
    """The quad in ``value`` ([[x, y] × 4], corners TL, TR, BR, BL), or ``Unprocessable``.

    It must be a convex, non-degenerate quadrilateral with its corners in
    that order (clockwise on the photo): a bow-tie, a mirrored order, three
    corners on a line or a sliver would register a picture that is not the
    screen's.
    """
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 4:
        raise Unprocessable("a screen quad is four [x, y] corners", field=FIELD)
    first, second, third, fourth = (_point(corner, i) for i, corner in enumerate(value))
    quad = (first, second, third, fourth)
    turns = _turns(quad)
    if all(turn < 0 for turn in turns):
        raise Unprocessable(
            "the corners go anticlockwise: give top-left, top-right, bottom-right, bottom-left",
            field=FIELD,
        )
    if not all(turn > 0 for turn in turns):
        raise Unprocessable("the corners do not make a convex quadrilateral", field=FIELD)
    if area(quad) < MIN_AREA:
        raise Unprocessable(f"the quad is smaller than {MIN_AREA} square pixels", field=FIELD)
    return quad


def inside(quad: Sequence[Point], width: int, height: int, slack: float = 0.02) -> bool:
    """Every corner lies in a ``width`` × ``height`` picture (give or take ``slack`` of it)."""
    dx, dy = width * slack, height * slack
    return all(-dx <= x <= width + dx and -dy <= y <= height + dy for x, y in quad)
