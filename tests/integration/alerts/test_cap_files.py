"""CAP files on disk, end to end without the server: read → validate →
export (schema-valid) → target a fleet → device-side check agrees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from bench import alerts_core

from lianbo.adapters.cap import atom_feed, parse_cap, to_cap_xml
from lianbo.adapters.geo import TerminalIndex, alert_warnings, check_alert_jurisdiction
from lianbo.domain.alerting.geofence import in_any_area
from tests.integration.alerts.samples import SAMPLES, write_samples

XSD = Path(__file__).with_name("CAP-v1.2.xsd")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return write_samples(tmp_path)


def test_every_sample_file_reads_exports_and_validates(files: dict[str, Path]) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(XSD))
    for path in files.values():
        alert = parse_cap(path.read_bytes())
        exported = to_cap_xml(alert)
        schema.validate(exported)
        assert parse_cap(exported) == alert


def test_feed_of_all_samples_carries_each_document(files: dict[str, Path]) -> None:
    alerts = [parse_cap(p.read_bytes()) for p in files.values()]
    feed = atom_feed(alerts, "https://c.example/feeds/alerts.atom")
    assert feed.count(b"<entry>") == len(SAMPLES)


def test_sample_alert_targets_a_fleet_and_devices_agree() -> None:
    alert = parse_cap(SAMPLES["alert_multilang.xml"])
    check_alert_jurisdiction(alert, "51")
    assert alert_warnings(alert, "51", shapely.box(97, 26, 109, 35)) == ()
    rng = np.random.default_rng(7)
    n = 5_000
    lats, lons = rng.uniform(30.0, 31.6, n), rng.uniform(103.5, 104.9, n)
    regions = rng.choice(["510104", "510107", "510703", "5106", "500103"], n).tolist()
    ids = [f"t{i}" for i in range(n)]
    index = TerminalIndex(ids, lats, lons, regions)
    areas = alert.infos[0].areas
    mask = index.target_mask(areas)
    device = [in_any_area(lats[i], lons[i], areas, regions[i]) for i in range(n)]
    assert mask.tolist() == device
    assert 0 < mask.sum() < n
    # A Sichuan issuer's shapes reach Sichuan's screens only: 重庆's inside
    # them never hear it (their topics are not published to).
    sichuan = index.target_mask(areas, within="51")
    expected = [d and r.startswith("51") for d, r in zip(device, regions, strict=True)]
    assert sichuan.tolist() == expected


def test_bench_runs_at_a_small_size() -> None:
    figures = alerts_core.run(2_000, None, repeats=1, compare_strtree=False)
    assert figures["terminals"] == 2_000 and figures["polygons"] == 200
    assert figures["vertices"] == 20_000 and figures["cap_languages"] == 9
    assert 800_000 < figures["cap_bytes"] < 1_200_000
