"""The dashboard's SVG geometry (pure functions; no server or browser needed)."""

from __future__ import annotations

import pytest

from lianbo.web import charts

SICHUAN = [(30.65, 104.07), (26.50, 101.74), (32.44, 105.83), (31.21, 107.50)]


def test_stacked_segments_fill_the_bar_in_order() -> None:
    segments = charts.stacked(
        {"online": 3, "pending": 1, "offline": 0}, ["online", "offline", "pending"]
    )
    assert [s.key for s in segments] == ["online", "pending"]
    assert segments[0].start == 0 and segments[1].start == pytest.approx(75)
    assert sum(s.width for s in segments) == pytest.approx(100)
    assert charts.stacked({}, ["online"]) == []


def test_projection_fits_every_point_inside_the_box() -> None:
    projection = charts.fit(SICHUAN, width=960)
    assert projection is not None
    for lat, lon in SICHUAN:
        x, y = projection.xy(lat, lon)
        assert 0 < x < projection.width and 0 < y < projection.height
    north = projection.xy(32.44, 105.83)[1]
    south = projection.xy(26.50, 101.74)[1]
    assert north < south  # north is up


def test_a_single_point_still_gets_a_map() -> None:
    projection = charts.fit([(30.0, 104.0)])
    assert projection is not None
    assert projection.xy(30.0, 104.0) == (
        pytest.approx(480, abs=1),
        pytest.approx(projection.height / 2, abs=1),
    )
    assert charts.fit([]) is None


def test_grid_lines_sit_on_round_degrees() -> None:
    projection = charts.fit(SICHUAN)
    assert projection is not None
    meridians, parallels = charts.grid(projection)
    assert meridians and parallels
    assert all(m.value == int(m.value) for m in meridians)
    assert parallels[0].label.endswith("°N") and meridians[0].label.endswith("°E")


@pytest.mark.parametrize(("span", "step"), [(7.0, 1.0), (0.4, 0.05), (60.0, 10.0), (1.5, 0.2)])
def test_nice_steps(span: float, step: float) -> None:
    assert charts.nice_step(span, 8) == pytest.approx(step)


def test_degree_labels() -> None:
    assert charts.degrees(30.0, "N", "S", 1.0) == "30°N"
    assert charts.degrees(-33.5, "N", "S", 0.5) == "33.5°S"
    assert charts.degrees(104.25, "E", "W", 0.25) == "104.25°E"


def test_overlapping_points_of_one_status_become_one_dot() -> None:
    projection = charts.fit(SICHUAN)
    assert projection is not None
    points = [
        ("a", "online", 30.65, 104.07),
        ("b", "online", 30.6501, 104.0701),
        ("c", "offline", 30.65, 104.07),
    ]
    dots = charts.dots(points, projection, ["online", "pending", "offline"])
    assert [(d.status, d.count) for d in dots] == [("online", 2), ("offline", 1)]


def test_labels_skip_the_ones_that_would_overlap() -> None:
    projection = charts.fit(SICHUAN)
    assert projection is not None
    clusters = [
        ("成都市", 24, 30.65, 104.07),
        ("成都边上", 2, 30.66, 104.08),
        ("攀枝花市", 4, 26.5, 101.74),
    ]
    placed = charts.labels(clusters, projection)
    assert [label.text for label in placed] == ["成都市", "攀枝花市"]
    assert placed[0].radius > placed[1].radius
