"""Reading an admin's GeoJSON outlines (``adapters/geo/outline_file``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lianbo.adapters.geo.outline_file import OutlineFileError, parse_collection, read_features

SQUARE = [[[104.0, 30.6], [104.05, 30.6], [104.05, 30.65], [104.0, 30.65], [104.0, 30.6]]]
BOWTIE = [[[104.0, 30.6], [104.05, 30.65], [104.05, 30.6], [104.0, 30.65], [104.0, 30.6]]]


def feature(code: Any, coordinates: Any = SQUARE, kind: str = "Polygon", prop: str = "code") -> Any:
    return {
        "type": "Feature",
        "properties": {prop: code},
        "geometry": {"type": kind, "coordinates": coordinates},
    }


def load(*features: Any, prop: str = "code") -> list[Any]:
    data = json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()
    return list(read_features(parse_collection(data), prop))


def test_features_read_with_short_codes_and_geojson_kept() -> None:
    found = load(feature("510107001000"), feature(510104, [SQUARE], "MultiPolygon"))
    assert [f.code for f in found] == ["510107001", "510104"]
    assert found[0].geometry["type"] == "Polygon"
    assert found[1].geometry["type"] == "MultiPolygon"


def test_the_code_may_sit_in_another_property() -> None:
    assert load(feature("510107", prop="adcode"), prop="adcode")[0].code == "510107"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG", "not JSON"),
        (b'{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
        (b'{"type": "FeatureCollection", "features": []}', "the FeatureCollection has no"),
    ],
)
def test_a_file_that_is_no_feature_collection_is_one_line(data: bytes, message: str) -> None:
    with pytest.raises(OutlineFileError) as caught:
        parse_collection(data)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ([{"type": "Point"}], "feature 1: not a GeoJSON Feature"),
        ([feature(None)], "feature 1: no region code in property 'code'"),
        ([feature("51"), feature("abc")], "feature 2: 'abc' is not a region code"),
        ([feature("51"), feature("510000")], "feature 2: region 51 appears twice"),
        ([feature("51", [104.0, 30.6], "Point")], "feature 1 (51): geometry must be a Polygon"),
        ([feature("51", [[[1, 2], [3]]])], "feature 1 (51): malformed coordinates"),
        ([feature("51", BOWTIE)], "feature 1 (51): invalid geometry (Self-intersection)"),
        (
            [feature("51", [[[400000, 3000000], [400100, 3000000], [400100, 3000100]]])],
            "feature 1 (51): coordinates are not lon/lat degrees",
        ),
    ],
)
def test_the_first_bad_feature_is_named(features: list[Any], message: str) -> None:
    with pytest.raises(OutlineFileError) as caught:
        load(*features)
    assert str(caught.value) == message or str(caught.value).startswith(message)
