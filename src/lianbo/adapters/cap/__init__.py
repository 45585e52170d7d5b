"""CAP 1.2 XML in and out, and the Atom feed of alerts."""

from lianbo.adapters.cap.atom import atom_feed
from lianbo.adapters.cap.reader import MAX_BYTES, parse_cap, parse_xml
from lianbo.adapters.cap.writer import to_cap_xml, to_element

__all__ = ["MAX_BYTES", "atom_feed", "parse_cap", "parse_xml", "to_cap_xml", "to_element"]
