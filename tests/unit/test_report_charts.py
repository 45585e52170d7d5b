"""The reports page's uptime chart geometry (pure, no server)."""

from __future__ import annotations

from lianbo.web.pages.report_charts import HEIGHT, MAX_SERIES, uptime_chart


def test_lines_join_known_buckets_and_scale_uptime_to_the_height() -> None:
    chart = uptime_chart(
        {"5101": {0: 1.0, 1: None, 2: 0.5}, "5107": {1: 0.0}},
        {"5101": "成都市", "5107": "绵阳市"},
        ["00:00", "01:00", "02:00"],
    )
    assert chart is not None
    first, second = chart.series
    assert (first.key, first.label, first.last) == ("5101", "成都市", 0.5)
    points = [tuple(map(float, p.split(","))) for p in first.points.split()]
    assert len(points) == 2  # the unknown bucket is skipped, not drawn as zero
    assert points[0][1] < points[1][1] < HEIGHT  # 100 % sits above 50 %
    assert second.points.count(",") == 1
    assert [t.label for t in chart.y_ticks] == ["0%", "50%", "100%"]


def test_no_data_gives_no_chart_and_many_groups_are_capped() -> None:
    assert uptime_chart({}, {}, ["00:00"]) is None
    many = {f"g{n}": {0: 0.9} for n in range(MAX_SERIES + 3)}
    chart = uptime_chart(many, {}, ["00:00", "01:00"])
    assert chart is not None and len(chart.series) == MAX_SERIES
