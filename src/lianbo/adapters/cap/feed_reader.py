"""Reading what an upstream CAP source serves: an Atom feed of CAP entries
(inline or linked, as public CAP feeds and NWS serve them), an RSS 2.0 feed
linking CAP documents, or one CAP document; and fetching it over HTTP with
ETag / If-Modified-Since and a size cap.

The body is parsed by defusedxml first (``reader.parse_xml``: no DTD, no
entities), then by lxml only to cut each inline ``<alert>`` out as it was
written, so a sender's signature still verifies (ADR 0027).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import httpx
from lxml import etree

from lianbo.adapters.cap.reader import parse_xml
from lianbo.adapters.cap.schema import NS, NS_1_0, NS_1_1
from lianbo.domain.alerting.errors import XmlRefused
from lianbo.domain.alerting.feeds import FeedFault

ATOM = "http://www.w3.org/2005/Atom"
CAP_NAMESPACES = (NS, NS_1_1, *NS_1_0)
CAP_TYPES = ("application/cap+xml", "application/common-alerting-protocol+xml")
MAX_FEED_BYTES = 10 * 1024 * 1024
MAX_ENTRIES = 500
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class FeedError(Exception):
    """The source could not be read: why (``fault``) and the one value the
    words quote (``detail``)."""

    def __init__(self, fault: FeedFault, detail: str = "") -> None:
        super().__init__(f"{fault.value} {detail}".strip())
        self.fault = fault
        self.detail = detail


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One message a source offers: a key that changes when it does, and
    its CAP document inline or a link to it."""

    key: str
    document: bytes | None
    link: str | None


@dataclass(frozen=True, slots=True)
class Fetched:
    """An HTTP answer: 304 (``body`` empty) or 200 with the validators."""

    status: int
    body: bytes
    etag: str | None
    last_modified: str | None


def read_feed(raw: bytes) -> list[FeedEntry]:
    """The messages in ``raw``: an Atom or RSS feed, or one CAP document."""
    try:
        root = parse_xml(raw, max_bytes=MAX_FEED_BYTES)
    except XmlRefused as refused:
        text = str(refused)
        fault = FeedFault.DTD if "DTD" in text or "entit" in text else FeedFault.BAD_XML
        raise FeedError(fault) from None
    namespace, _, local = (
        root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    )
    if local == "alert" and namespace in CAP_NAMESPACES:
        return [FeedEntry(hashlib.sha256(raw).hexdigest(), raw, None)]
    tree = etree.fromstring(raw, parser=_PARSER)
    if namespace == ATOM and local == "feed":
        entries = [_atom(e) for e in tree.iterfind(f"{{{ATOM}}}entry")]
    elif not namespace and local == "rss":
        entries = [_rss(i) for i in tree.iterfind("channel/item")]
    else:
        raise FeedError(FeedFault.NOT_A_FEED)
    found = [e for e in entries if e is not None]
    return found[:MAX_ENTRIES]


def _name(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _inline_alert(element: etree._Element) -> bytes | None:
    for namespace in CAP_NAMESPACES:
        alert = element.find(f".//{{{namespace}}}alert")
        if alert is not None:
            document: bytes = etree.tostring(alert)
            return document
    return None


def _atom(entry: etree._Element) -> FeedEntry | None:
    ident = entry.findtext(f"{{{ATOM}}}id") or ""
    updated = entry.findtext(f"{{{ATOM}}}updated") or ""
    content = entry.find(f"{{{ATOM}}}content")
    document = _inline_alert(content) if content is not None else None
    links = entry.findall(f"{{{ATOM}}}link")
    typed = [link.get("href") for link in links if link.get("type") in CAP_TYPES]
    alternate = [link.get("href") for link in links if link.get("rel", "alternate") == "alternate"]
    link = next((h for h in typed + alternate if h), None)
    if link is None and ident.startswith(("http://", "https://")):
        link = ident  # NWS: the entry's id is its CAP document's URL
    if document is None and link is None:
        return None
    return FeedEntry(f"{ident or link}|{updated}", document, link)


def _rss(item: etree._Element) -> FeedEntry | None:
    guid = (item.findtext("guid") or "").strip()
    enclosures = [e.get("url") for e in item.iterfind("enclosure") if e.get("type") in CAP_TYPES]
    link = next((u for u in enclosures if u), None) or (item.findtext("link") or "").strip() or None
    document = _inline_alert(item)
    if document is None and link is None:
        return None
    return FeedEntry(f"{guid or link}|{item.findtext('pubDate') or ''}", document, link)


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = MAX_FEED_BYTES,
) -> Fetched:
    """GET ``url`` conditionally, reading at most ``max_bytes``; FeedError
    for anything but 200 or 304 with a body that may be XML."""
    headers = {"Accept": "application/atom+xml, application/rss+xml, application/cap+xml, */*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return Fetched(304, b"", etag, last_modified)
            if response.status_code != 200:
                raise FeedError(FeedFault.HTTP, str(response.status_code))
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FeedError(FeedFault.TOO_LARGE, str(max_bytes))
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            found = Fetched(
                200,
                bytes(body),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
            )
    except httpx.TimeoutException:
        raise FeedError(FeedFault.TIMEOUT) from None
    except httpx.HTTPError as error:
        raise FeedError(FeedFault.UNREACHABLE, type(error).__name__) from None
    if kind == "text/html" or found.body.lstrip()[:15].lower().startswith(
        (b"<!doctype html", b"<html")
    ):
        raise FeedError(FeedFault.HTML)
    return found
