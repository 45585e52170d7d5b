"""The screenshot fast path's multipart splitting: plain forms only."""

from __future__ import annotations

from lianbo.api.screenshot_fastpath import split_form

B = b"xYz123"


def _part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"Content-Disposition: {disposition}\r\n"
    if filename:
        head += "Content-Type: image/jpeg\r\n"
    return b"--" + B + b"\r\n" + head.encode() + b"\r\n" + value + b"\r\n"


def _form(*parts: bytes, tail: bytes = b"\r\n") -> bytes:
    return b"".join(parts) + b"--" + B + b"--" + tail


def test_a_plain_form_is_split_by_name() -> None:
    picture = b"\xff\xd8\xff\r\n--xYz12\r\n\r\nbytes that look like a delimiter"
    body = _form(_part("taken_at", b"2026-11-22T08:00:00+00:00"), _part("file", picture, "s.jpg"))
    assert split_form(body, B) == {"taken_at": b"2026-11-22T08:00:00+00:00", "file": picture}
    assert split_form(_form(_part("file", b"x", "a.png"), tail=b""), B) == {"file": b"x"}


def test_anything_unusual_is_left_to_the_route() -> None:
    file = _part("file", b"\xff\xd8\xff", "s.jpg")
    assert split_form(b"preamble\r\n" + _form(file), B) is None
    assert split_form(_form(file, _part("file", b"again", "t.jpg")), B) is None
    assert split_form(_form(file, _part("colour", b"red")), B) is None
    assert split_form(_form(_part("file", b"not a file part")), B) is None
    assert split_form(_form(file, _part("taken_at", b"now", "t.txt")), B) is None
    assert split_form(_form(file, tail=b"\r\nepilogue"), B) is None
    assert split_form(_form(file)[:-10], B) is None  # no closing delimiter
    assert split_form(b"--" + B + b"\r\nno blank line" + b"\r\n--" + B + b"--", B) is None
