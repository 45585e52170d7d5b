import pytest

from lianbo.domain.assets import check_stream_url, check_ticker, clean_name
from lianbo.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("宣传片.mp4", "宣传片.mp4"),
        ("a\x00b\nc.png", "abc.png"),
        (".hidden", "hidden"),
    ],
)
def test_names_lose_paths_and_control_characters(raw: str, clean: str) -> None:
    assert clean_name(raw) == clean


@pytest.mark.parametrize(
    "raw", ["../../x", "..\\..\\evil.exe", "/etc/passwd", "..", "", "\x00", "...", "x" * 201]
)
def test_names_that_are_nothing_or_too_long_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        clean_name(raw)


def test_tickers_and_streams() -> None:
    assert check_ticker("  今晚有雨  ") == "今晚有雨"
    with pytest.raises(InvalidInput):
        check_ticker("   ")
    assert check_stream_url("rtmp://live.example/app/key").startswith("rtmp")
    for bad in ["file:///etc/passwd", "javascript:alert(1)", "http://", "not a url"]:
        with pytest.raises(InvalidInput):
            check_stream_url(bad)
