"""Issue 26: the report's heritage counts, empty layers and parameters as summary.csv says."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
from shapely.geometry import Point

from geoapp import report_pages
from geoapp.catalog import load_catalog
from geoapp.heritage import heritage_report
from geoapp.reporting import T as TEXTS

CATALOG = load_catalog()


def _statues() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"osm_id": ["node/1", "node/2"], "name": ["A", "B"], "historic": "memorial"},
        geometry=[Point(116.30, 40.00), Point(116.31, 40.01)],
        crs=4326,
    )


def test_heritage_lead_counts_designated_sites_and_warns_when_none():
    rep = heritage_report(_statues(), None)
    en = report_pages.heritage_lead(rep, "en")
    assert "0 designated (protected) heritage sites" in en
    assert "2 memorials, statues or unlisted historic features" in en
    assert "Memorial or statue 2" in en
    assert "holds no officially protected (designated) heritage site" in en
    zh = report_pages.heritage_lead(rep, "zh")
    assert "0 处文物保护单位" in zh and "按保护级别：纪念物、雕像 2" in zh
    assert "数据中没有文物保护单位" in zh


def test_a_layer_without_facilities_is_a_finding_by_its_name():
    empty = SimpleNamespace(status="no_data", layer=CATALOG["elderly_care"])
    d = SimpleNamespace(
        analyses={"elderly_care": empty}, boundaries=gpd.GeoDataFrame(geometry=[], crs=4326)
    )
    found, recs = report_pages.findings(d, TEXTS["en"], "en", {})
    assert found == [
        "No Elderly care facility in the data: import the official list before judging its "
        "coverage."
    ]
    assert recs == []
    zh, _ = report_pages.findings(d, TEXTS["zh"], "zh", {})
    assert zh[0].startswith("数据中没有") and "elderly_care" not in zh[0]
    assert report_pages.layer_label(d, "elderly_care", "en") == "Elderly care"
    assert report_pages.layer_label(d, "other", "en") == "other"


def test_parameters_are_written_plainly():
    assert report_pages.plain_number(50000.0) == "50,000"
    assert report_pages.plain_number(35390.4) == "35,390"
    assert report_pages.plain_number(0.25) == "0.25"
    assert report_pages.plain_number(1.0) == "1"
