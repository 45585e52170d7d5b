import secrets
from datetime import UTC, datetime, timedelta

from lianbo.domain import enrolment


def test_codes_are_short_and_typable() -> None:
    code = enrolment.new_code(secrets.randbelow)
    assert len(code) == 9 and code[4] == "-"
    assert set(code.replace("-", "")) <= set(enrolment.ALPHABET)
    assert not set(code) & set("ILOU")


def test_what_people_type_is_forgiven() -> None:
    assert enrolment.normalise_code(" ab1o-x9zi ") == "AB10X9Z1"
    assert enrolment.normalise_code("AB10X9Z1") == enrolment.normalise_code("ab10-x9z1")


def test_codes_live_a_day() -> None:
    issued = datetime(2026, 11, 22, tzinfo=UTC)
    assert enrolment.expires_at(issued) - issued == timedelta(hours=24)


def test_codes_are_not_repeated() -> None:
    assert len({enrolment.new_code(secrets.randbelow) for _ in range(2000)}) == 2000
