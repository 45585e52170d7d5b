"""What an upstream source serves, read into entries (adapters.cap.feed_reader)."""

from __future__ import annotations

import pytest

from lianbo.adapters.cap import read_cap
from lianbo.adapters.cap.feed_reader import FeedError, read_feed
from lianbo.domain.alerting.feeds import FeedFault
from tests.integration.alerts.feed_server import atom, entry
from tests.integration.alerts.samples import SAMPLES

CAP = SAMPLES["alert_multilang.xml"].encode()


def test_an_atom_feed_gives_inline_documents_and_links() -> None:
    feed = atom(entry("urn:a", inline=CAP), entry("urn:b", link="https://x.example/b.xml"))
    first, second = read_feed(feed)
    assert first.document is not None and second.document is None
    assert read_cap(first.document).alert == read_cap(CAP).alert
    assert second.link == "https://x.example/b.xml" and first.key != second.key


def test_an_nws_entry_whose_id_is_its_cap_url_is_followed() -> None:
    nws = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        b"<id>https://alerts.example.gov/cap/wwacapget.php?x=MT1</id>"
        b"<updated>2026-07-10T04:07:00-06:00</updated><title>Flash Flood Watch</title>"
        b"</entry></feed>"
    )
    (only,) = read_feed(nws)
    assert only.link == "https://alerts.example.gov/cap/wwacapget.php?x=MT1"


def test_an_rss_feed_links_by_enclosure_or_link() -> None:
    rss = (
        b"<rss version='2.0'><channel><title>t</title>"
        b"<item><guid>g1</guid><link>https://x.example/1.xml</link></item>"
        b"<item><guid>g2</guid><link>https://x.example/page</link>"
        b"<enclosure url='https://x.example/2.cap' type='application/cap+xml'/></item>"
        b"</channel></rss>"
    )
    links = [e.link for e in read_feed(rss)]
    assert links == ["https://x.example/1.xml", "https://x.example/2.cap"]


def test_one_cap_document_is_one_entry() -> None:
    (only,) = read_feed(CAP)
    assert only.document == CAP


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        (b"<html><body>hi</body></html>", FeedFault.NOT_A_FEED),
        (b"<feed", FeedFault.BAD_XML),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><feed>&a;</feed>', FeedFault.DTD),
    ],
)
def test_what_is_not_a_feed_is_a_fault(body: bytes, fault: FeedFault) -> None:
    with pytest.raises(FeedError) as caught:
        read_feed(body)
    assert caught.value.fault is fault
