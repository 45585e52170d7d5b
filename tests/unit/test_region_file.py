"""Reading the statistics bureau's region code lists (``domain.region_file``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lianbo.domain.errors import InvalidInput
from lianbo.domain.region_file import RegionRecord, parse_csv, parse_json

NBS = Path(__file__).parents[1] / "data" / "regions" / "nbs_510107.csv"


def test_the_bureaus_table_reads_with_short_codes_and_village_classes() -> None:
    records = parse_csv(NBS.read_text(encoding="utf-8"))
    by_code = {r.code: r for r in records}
    assert len(records) == 12
    assert by_code["51"] == RegionRecord("51", "四川省", None)
    assert by_code["510107001"] == RegionRecord("510107001", "浆洗街街道", None)
    assert by_code["510107021201"] == RegionRecord("510107021201", "龙井村委会", "121")
    assert {r.category for r in records if len(r.code) == 12} == {"111", "112", "121", "220"}


def test_a_utf8_bom_and_english_headers_in_any_order_are_read() -> None:
    text = "\ufeffname,level,code\n浆洗街街道,4,510107001000\n"
    assert parse_csv(text) == [RegionRecord("510107001", "浆洗街街道")]


def test_headerless_rows_are_code_name_or_code_class_name() -> None:
    assert parse_csv("510107001000,浆洗街街道,4,510107000000\n") == [
        RegionRecord("510107001", "浆洗街街道")
    ]
    assert parse_csv("510107001001,111,浆洗街社区居委会\n") == [
        RegionRecord("510107001001", "浆洗街社区居委会", "111")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("a,b\n1,2\n", "line 1: the header names no code and name columns"),
        ("code,name\n510107001000,浆洗街街道\n5101070010,坏\n", "line 3: '5101070010' is not"),
        ("code,name\n510107001000\n", "line 2: needs a code and a name"),
        ("code,name\n510107001000,\n", "line 2: name must be 1-80"),
        ("code,category,name\n510107001001,11,社区\n", "line 2: urban-rural class '11'"),
    ],
)
def test_a_bad_line_is_named(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_csv(text)
    assert caught.value.message.startswith(message)
    assert caught.value.field == "file"


def test_json_nested_or_flat_parents_first() -> None:
    value = json.loads(
        '[{"code": "510107001000", "name": "浆洗街街道", "children": ['
        '{"code": "510107001001", "name": "浆洗街社区居委会", "category": "111"}]},'
        '{"code": 510107021000, "name": "簇桥街道"}]'
    )
    assert [r.code for r in parse_json(value)] == ["510107001", "510107001001", "510107021"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"code": "51"}, "expected a JSON list"),
        (["51"], "item 1: not a {code, name} object"),
        ([{"code": "51", "name": "x", "children": [{"name": "y"}]}], "item 1.1: no region code"),
        ([{"code": True, "name": "x"}], "item 1: no region code"),
    ],
)
def test_bad_json_items_are_named(value: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_json(value)
    assert caught.value.message.startswith(message)
