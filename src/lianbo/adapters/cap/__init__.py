"""CAP XML in (1.2 and 1.1) and out (1.2), and the Atom feed of alerts."""

from lianbo.adapters.cap.atom import Entry, atom_feed
from lianbo.adapters.cap.reader import MAX_BYTES, CapReading, parse_cap, parse_xml, read_cap
from lianbo.adapters.cap.writer import to_cap_xml, to_element

__all__ = [
    "MAX_BYTES",
    "CapReading",
    "Entry",
    "atom_feed",
    "parse_cap",
    "parse_xml",
    "read_cap",
    "to_cap_xml",
    "to_element",
]
