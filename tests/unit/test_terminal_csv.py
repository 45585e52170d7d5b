import pytest

from lianbo.domain.errors import InvalidInput
from lianbo.domain.terminal_csv import parse_terminal_csv
from lianbo.domain.terminals import Tier

KNOWN = {"510107", "510104", "5101"}


def allowed(code: str) -> str | None:
    return None if code in KNOWN else f"unknown region code {code!r}"


def test_rows_become_drafts_with_labels() -> None:
    text = (
        "\ufeffname,tier,region,latitude,longitude,tags,groups\n"
        "武侯祠大屏,outdoor,510107,30.64,104.04,landmark;4k,chengdu\n"
        "锦江社区厅,HALL,510104000,30.65,104.08,,\n"
    )
    drafts = parse_terminal_csv(text, region_allowed=allowed)
    assert [d.name for d in drafts] == ["武侯祠大屏", "锦江社区厅"]
    assert drafts[0].tags == ("landmark", "4k")
    assert drafts[1].tier is Tier.HALL
    assert drafts[1].region == "510104"


@pytest.mark.parametrize(
    ("body", "row", "words"),
    [
        ("a,outdoor,510107,30,104\nb,tv,510107,30,104\n", 3, "tier"),
        ("a,outdoor,510107,30,104\nb,home,999999,30,104\n", 3, "region"),
        ("a,outdoor,510107,91,104\n", 2, "latitude"),
        ("a,outdoor,510107,x,104\n", 2, "number"),
        ("a,outdoor,510107,30,104\na,home,510107,30,104\n", 3, "repeats row 2"),
        (",outdoor,510107,30,104\n", 2, "empty"),
        ("a,outdoor,510107,30,104,x,y,extra\n", 2, "more cells"),
    ],
)
def test_the_first_bad_row_is_named(body: str, row: int, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_terminal_csv("name,tier,region,latitude,longitude\n" + body, region_allowed=allowed)
    assert caught.value.message.startswith(f"row {row}:")
    assert words in caught.value.message


def test_a_missing_column_is_named() -> None:
    with pytest.raises(InvalidInput, match="longitude"):
        parse_terminal_csv("name,tier,region,latitude\na,home,510107,30\n", region_allowed=allowed)


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no rows"):
        parse_terminal_csv("name,tier,region,latitude,longitude\n", region_allowed=allowed)
