"""Errors refuse, warnings accept (google/cap-library's split): empty
optional elements, geocode schemes we do not target by, a restriction on a
message that is not Restricted, CAP 1.1 read as 1.2; CAP 1.0 refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from lianbo.adapters.cap import parse_cap, read_cap, to_cap_xml
from lianbo.adapters.cap.schema import NS
from lianbo.domain.alerting.errors import CapInvalid
from lianbo.domain.alerting.model import Certainty, ResponseType
from lianbo.domain.alerting.warnings import CapWarning, WarningCode
from lianbo.web.i18n import LANGUAGES, translate
from lianbo.web.messages import MESSAGES
from tests.integration.alerts.samples import SAMPLES

REAL = Path(__file__).parents[1] / "integration" / "alerts" / "real"
NWS = (REAL / "nws_flash_flood_watch_1_1.xml").read_bytes()
LEGACY = (REAL / "legacy_1_1.xml").read_bytes()
EMPTY = (REAL / "public_empty_restriction.xml").read_bytes()


def _found(data: bytes | str) -> set[tuple[str, WarningCode]]:
    return {(w.path, w.code) for w in read_cap(data).warnings}


def test_an_nws_cap_1_1_message_is_read_with_its_quirks_as_warnings() -> None:
    reading = read_cap(NWS)
    assert reading.version == "1.1"
    info = reading.alert.infos[0]
    assert info.event == "Flash Flood Watch" and info.certainty is Certainty.POSSIBLE
    assert info.areas[0].polygons == ()  # the empty <polygon/> is skipped
    assert info.areas[0].geocodes == (("FIPS6", "030049"), ("UGC", "MTZ014"))
    assert info.parameters[0] == ("WMOHEADER", "")
    assert _found(NWS) == {
        ("alert", WarningCode.CAP_1_1),
        ("alert/info[1]/area[1]/polygon[1]", WarningCode.EMPTY_ELEMENT),
        ("alert/info[1]/area[1]/geocode[1]", WarningCode.GEOCODE_SCHEME),
        ("alert/info[1]/area[1]/geocode[2]", WarningCode.GEOCODE_SCHEME),
    }


def test_a_cap_1_1_message_is_exported_as_cap_1_2_unchanged() -> None:
    for data in (NWS, LEGACY):
        alert = parse_cap(data)
        exported = to_cap_xml(alert)
        assert f'xmlns="{NS}"'.encode() in exported
        assert read_cap(exported).version == "1.2"
        assert parse_cap(exported) == alert


def test_a_cap_1_1_message_exports_valid_against_the_cap_1_2_schema() -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(REAL.parent / "CAP-v1.2.xsd"))
    for data in (NWS, LEGACY):
        schema.validate(to_cap_xml(parse_cap(data)))


def test_cap_1_1_legacy_values_map_to_the_model() -> None:
    reading = read_cap(LEGACY)
    info = reading.alert.infos[0]
    assert info.certainty is Certainty.LIKELY  # "Very Likely"
    assert info.response_types == (ResponseType.EVACUATE,)
    assert info.resources[0].mime_type == "application/octet-stream"  # optional in 1.1
    very_likely = CapWarning("alert/info[1]/certainty", WarningCode.LEGACY_CERTAINTY, "Very Likely")
    assert very_likely in reading.warnings


def test_cap_1_2_values_are_refused_in_cap_1_1_and_legacy_ones_in_1_2() -> None:
    avoid = LEGACY.replace(b"Evacuate", b"Avoid")
    with pytest.raises(CapInvalid, match=r"CAP 1\.2 responseType") as caught:
        parse_cap(avoid)
    assert caught.value.path == "alert/info[1]/responseType[1]"
    in_1_2 = LEGACY.replace(b"cap:1.1", b"cap:1.2").replace(
        b"<uri>", b"<mimeType>a/b</mimeType><uri>"
    )
    with pytest.raises(CapInvalid, match="is not one of") as caught:
        parse_cap(in_1_2)
    assert caught.value.path == "alert/info[1]/certainty"


@pytest.mark.parametrize(
    "namespace", ["urn:oasis:names:tc:emergency:cap:1.0", "http://www.incident.com/cap/1.0"]
)
def test_cap_1_0_is_refused_naming_the_version(namespace: str) -> None:
    with pytest.raises(CapInvalid, match=r"CAP 1\.0 is not accepted") as caught:
        parse_cap(SAMPLES["alert_multilang.xml"].replace(NS, namespace))
    assert caught.value.path == "alert"


def test_empty_optional_elements_are_warnings_not_refusals() -> None:
    alert = parse_cap(EMPTY)
    assert alert.restriction is None and alert.codes == () and alert.infos[0].web is None
    assert alert.infos[0].areas[0].region_codes() == ("510104",)
    assert _found(EMPTY) == {
        ("alert/restriction", WarningCode.EMPTY_ELEMENT),
        ("alert/code[1]", WarningCode.EMPTY_ELEMENT),
        ("alert/info[1]/web", WarningCode.EMPTY_ELEMENT),
        ("alert/info[1]/area[1]/polygon[1]", WarningCode.EMPTY_ELEMENT),
    }


def test_a_restriction_on_a_public_message_is_kept_with_a_warning() -> None:
    doc = EMPTY.replace(b"<restriction/>", "<restriction>内部</restriction>".encode())
    alert = parse_cap(doc)
    assert alert.restriction == "内部"
    warning = CapWarning("alert/restriction", WarningCode.RESTRICTION_SCOPE, "Public")
    assert warning in read_cap(doc).warnings


def test_one_warning_per_geocode_scheme_per_area() -> None:
    codes = "".join(
        f"<geocode><valueName>UGC</valueName><value>MTZ0{n}</value></geocode>" for n in range(10)
    )
    doc = NWS.replace(b"</area>", codes.encode() + b"</area>")
    schemes = [w for w in read_cap(doc).warnings if w.code is WarningCode.GEOCODE_SCHEME]
    assert [w.detail for w in schemes] == ["FIPS6", "UGC"]


def test_a_plain_cap_1_2_message_has_no_warnings() -> None:
    assert read_cap(SAMPLES["cancel.xml"]).warnings == ()


def test_errors_still_refuse() -> None:
    open_ring = EMPTY.replace(
        b"<polygon></polygon>", b"<polygon>30.5,103.9 30.5,104.2 30.8,104.2 30.8,103.9</polygon>"
    )
    with pytest.raises(CapInvalid, match="closed"):
        parse_cap(open_ring)
    with pytest.raises(CapInvalid, match="missing"):
        parse_cap(EMPTY.replace(b"<event>\xe6\x9a\xb4\xe9\x9b\xa8</event>", b""))


def test_warnings_round_trip_through_their_stored_form() -> None:
    for warning in read_cap(NWS).warnings:
        assert CapWarning.of_json(warning.as_json()) == warning


@pytest.mark.parametrize("code", list(WarningCode))
def test_every_warning_has_words_in_both_languages(code: WarningCode) -> None:
    key = f"alerts.warning.{code.value}"
    assert set(MESSAGES[key]) == set(LANGUAGES)
    for language in LANGUAGES:
        assert "{" not in translate(language, key, detail="X")
