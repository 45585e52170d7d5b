"""Screen quads: four corners of a convex, clockwise (y down) quadrilateral."""

from __future__ import annotations

import math

import pytest

from lianbo.domain.errors import Unprocessable
from lianbo.domain.monitoring.quad import area, check_quad, inside

SQUARE = [[100, 100], [900, 120], [880, 560], [90, 540]]


def test_a_perspective_quad_is_accepted_as_floats() -> None:
    quad = check_quad(SQUARE)
    assert quad == ((100.0, 100.0), (900.0, 120.0), (880.0, 560.0), (90.0, 540.0))
    assert area(quad) > 300_000


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (SQUARE[:3], "four"),
        ([*SQUARE, [0, 0]], "four"),
        ("abcd", "four"),
        ([[0, 0], [1, 0], [1, 1], [0]], "pair"),
        ([[0, 0], [1, 0], [1, 1], "xy"], "pair"),
        ([[0, 0], [10, 0], [10, "5"], [0, 5]], "no number"),
        ([[0, 0], [10, 0], [10, True], [0, 5]], "no number"),
        ([[0, 0], [10, 0], [10, math.nan], [0, 5]], "out of range"),
        ([[0, 0], [10, 0], [10, math.inf], [0, 5]], "out of range"),
        ([[0, 0], [1e9, 0], [1e9, 5], [0, 5]], "out of range"),
        ([[100, 100], [90, 540], [880, 560], [900, 120]], "anticlockwise"),
        ([[100, 100], [880, 560], [900, 120], [90, 540]], "convex"),  # a bow-tie
        ([[0, 0], [100, 0], [200, 0], [0, 100]], "convex"),  # three corners on a line
        ([[0, 0], [100, 0], [60, 20], [100, 100]], "convex"),  # a dent
        ([[0, 0], [10, 0], [10, 5], [0, 5]], "smaller"),
    ],
)
def test_what_is_no_screen_is_refused(value: object, message: str) -> None:
    with pytest.raises(Unprocessable, match=message) as refused:
        check_quad(value)
    assert refused.value.field == "quad"


def test_inside_allows_a_small_slack() -> None:
    quad = check_quad(SQUARE)
    assert inside(quad, 1000, 600)
    assert inside(check_quad([[-10, 0], [990, 0], [990, 590], [-10, 590]]), 1000, 600)
    assert not inside(quad, 800, 600)
