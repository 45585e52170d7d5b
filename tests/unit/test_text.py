"""The one text rule (domain.text): what a stored string may hold."""

from __future__ import annotations

import pytest

from lianbo.domain.errors import Unprocessable
from lianbo.domain.text import check_text, refused_character, refused_in_json


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x1f", "\x7f", "\ud800", "\udfff"])
def test_controls_del_and_lone_surrogates_are_refused_everywhere(character: str) -> None:
    assert refused_character(f"a{character}b") == character
    assert refused_character(f"a{character}b", multiline=True) == character


@pytest.mark.parametrize("character", ["\t", "\n", "\r"])
def test_tab_and_line_breaks_pass_only_in_multi_line_text(character: str) -> None:
    assert refused_character(f"a{character}b") == character
    assert refused_character(f"a{character}b", multiline=True) is None


def test_printable_text_of_any_script_passes() -> None:
    for text in (
        "武侯区 大屏",
        "Ünïcødé",
        "😀 paired surrogates are one character",
        "\x80\x9f",
        "",
    ):
        assert refused_character(text) is None


def test_check_text_names_the_field_and_the_code_point() -> None:
    assert check_text("fine", "name") == "fine"
    with pytest.raises(Unprocessable) as refused:
        check_text("ro\x00ot", "username")
    assert refused.value.field == "username"
    assert refused.value.message == "username contains a control character (U+0000)"


def test_json_values_are_searched_keys_and_all() -> None:
    assert refused_in_json({"a": [1, {"b": "ok\nfine"}]}) is None
    assert refused_in_json({"a": [1, {"b": "x\x00"}]}) == ("a.1.b", "\x00")
    assert refused_in_json({"k\x07": 1}) == ("k\x07", "\x07")
    assert refused_in_json(["\x7f"]) == ("0", "\x7f")
