"""The CAP 1.2 element structure: order and cardinality of each element's
children, as the OASIS schema (CAP-v1.2.xsd) states them. The writer emits
children in this order; the reader checks cardinality (order-tolerant).
CAP 1.1 (``STRUCTURE_1_1``) differs only in an optional resource mimeType."""

from __future__ import annotations

NS = "urn:oasis:names:tc:emergency:cap:1.2"
NS_1_1 = "urn:oasis:names:tc:emergency:cap:1.1"
# CAP 1.0 lived in two namespaces: the OASIS one and the draft's incident.com.
NS_1_0 = ("urn:oasis:names:tc:emergency:cap:1.0", "http://www.incident.com/cap/1.0")
UNBOUNDED = -1

# parent -> ordered (child, min occurs, max occurs)
STRUCTURE: dict[str, tuple[tuple[str, int, int], ...]] = {
    "alert": (
        ("identifier", 1, 1),
        ("sender", 1, 1),
        ("sent", 1, 1),
        ("status", 1, 1),
        ("msgType", 1, 1),
        ("source", 0, 1),
        ("scope", 1, 1),
        ("restriction", 0, 1),
        ("addresses", 0, 1),
        ("code", 0, UNBOUNDED),
        ("note", 0, 1),
        ("references", 0, 1),
        ("incidents", 0, 1),
        ("info", 0, UNBOUNDED),
    ),
    "info": (
        ("language", 0, 1),
        ("category", 1, UNBOUNDED),
        ("event", 1, 1),
        ("responseType", 0, UNBOUNDED),
        ("urgency", 1, 1),
        ("severity", 1, 1),
        ("certainty", 1, 1),
        ("audience", 0, 1),
        ("eventCode", 0, UNBOUNDED),
        ("effective", 0, 1),
        ("onset", 0, 1),
        ("expires", 0, 1),
        ("senderName", 0, 1),
        ("headline", 0, 1),
        ("description", 0, 1),
        ("instruction", 0, 1),
        ("web", 0, 1),
        ("contact", 0, 1),
        ("parameter", 0, UNBOUNDED),
        ("resource", 0, UNBOUNDED),
        ("area", 0, UNBOUNDED),
    ),
    "resource": (
        ("resourceDesc", 1, 1),
        ("mimeType", 1, 1),
        ("size", 0, 1),
        ("uri", 0, 1),
        ("derefUri", 0, 1),
        ("digest", 0, 1),
    ),
    "area": (
        ("areaDesc", 1, 1),
        ("polygon", 0, UNBOUNDED),
        ("circle", 0, UNBOUNDED),
        ("geocode", 0, UNBOUNDED),
        ("altitude", 0, 1),
        ("ceiling", 0, 1),
    ),
    "eventCode": (("valueName", 1, 1), ("value", 1, 1)),
    "parameter": (("valueName", 1, 1), ("value", 1, 1)),
    "geocode": (("valueName", 1, 1), ("value", 1, 1)),
}


# CAP 1.1: a resource's mimeType may be left out (1.2 requires it).
STRUCTURE_1_1 = {
    **STRUCTURE,
    "resource": tuple(
        (name, 0 if name == "mimeType" else low, high) for name, low, high in STRUCTURE["resource"]
    ),
}


def qname(local: str) -> str:
    """The Clark-notation name of a CAP element."""
    return f"{{{NS}}}{local}"
