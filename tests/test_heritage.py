from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from geoapp.catalog import load_catalog
from geoapp.heritage import HeritageReport, heritage_report

UTM = "EPSG:32650"
X0, Y0 = 440_000.0, 4_420_000.0
HERITAGE = load_catalog()["heritage"]


def _b(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _p(x, y):
    return Point(X0 + x, Y0 + y)


def _boundaries():
    return gpd.GeoDataFrame(
        {
            "district": ["A", "B"],
            "district_code": ["1", "2"],
            "zone_type": ["core", "rural"],
            "zone_fine": "",
        },
        geometry=[_b(0, 0, 1000, 1000), _b(1000, 0, 2000, 1000)],
        crs=UTM,
    ).to_crs(4326)


def _features():
    rows = [
        # osm_id, name, historic, boundary, geometry
        ("way/1", "Old City", None, "protected_area", _b(200, 200, 400, 700)),  # 0.1 km²
        ("way/2", "Hutong", "district", None, _b(200, 200, 300, 300)),  # inside way/1
        ("way/3", "Village", "district", None, _b(1100, 100, 1300, 200)),  # 0.02 km²
        ("node/1", "Temple", "temple", None, _p(300, 500)),
        ("node/2", "Gate", "city_gate", None, _p(250, 250)),
        ("node/3", "Stele", "memorial", None, _p(800, 800)),
        ("way/4", "Tower", "monument", None, _b(1500, 500, 1510, 510)),  # site footprint
        ("node/4", "Well", "wayside_shrine", None, _p(1150, 150)),
    ]
    return gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "historic": [r[2] for r in rows],
            "boundary": [r[3] for r in rows],
        },
        geometry=[r[4] for r in rows],
        crs=UTM,
    ).to_crs(4326)


def test_sites_protected_and_zones():
    rep = heritage_report(_features(), _boundaries())
    assert isinstance(rep, HeritageReport)
    sites = rep.sites.set_index("site_id")
    assert list(sites.index) == ["node/1", "node/2", "node/3", "way/4", "node/4"]
    assert sites["zone_id"].to_dict() == {
        "node/1": "way/1",
        "node/2": "way/2",  # smallest containing zone
        "node/3": "",
        "way/4": "",
        "node/4": "way/3",
    }
    assert sites["protected"].tolist() == [True, True, False, False, True]
    assert sites["unprotected"].tolist() == [False, False, True, True, False]
    assert sites.loc["way/4", "geometry_kind"] == "area"
    assert (rep.sites.geom_type == "Point").all()
    assert sites["district"].tolist() == ["A", "A", "A", "B", "B"]
    zones = rep.zones.set_index("zone_id")
    assert zones["area_km2"].to_dict() == pytest.approx(
        {"way/1": 0.1, "way/2": 0.01, "way/3": 0.02}, rel=1e-4
    )
    assert zones["zone_type"].tolist() == ["core", "core", "rural"]
    assert rep.sites.crs.to_epsg() == rep.zones.crs.to_epsg() == rep.buffers.crs.to_epsg() == 4326


def test_buffers_construction_control_belt():
    rep = heritage_report(_features(), _boundaries(), buffer_m=100.0)
    belt = rep.buffers.set_index("zone_id")["belt_area_km2"]
    # 200 x 500 m grown by 100 m: 2·100·(200+500) + π·100² m² around it
    assert belt["way/1"] == pytest.approx((140_000 + math.pi * 1e4) / 1e6, rel=5e-3)
    assert (rep.buffers["buffer_m"] == 100.0).all()
    assert rep.buffers.geometry.iloc[0].contains(rep.zones.geometry.iloc[0])
    rep0 = heritage_report(_features(), _boundaries(), buffer_m=0)
    assert rep0.buffers["belt_area_km2"].to_numpy() == pytest.approx(0.0, abs=1e-9)


def _classed_features():
    """``_features()`` with classes: Temple national, Gate provincial, Stele local, Tower
    listed; Well a shrine (minor); zones: way/1 listed (protected_area), way/2 and way/3
    historic (a bare ``historic=district``)."""
    feats = _features()
    feats["heritage"] = [None, None, None, "2", "4", "5", "yes", None]
    return feats


def test_summary_per_district_zone_type_and_region():
    # "sites" are the designated sites and zones, as summary.csv's n_designated (issue:
    # one figure everywhere); the Well (minor) and the historic zones are undesignated
    rep = heritage_report(_classed_features(), _boundaries())
    s = rep.summary.set_index(["level", "group"])
    a, b = s.loc[("district", "A")], s.loc[("district", "B")]
    # A: Temple (in way/1), Gate (in way/2), Stele (outside) + zone way/1 (listed)
    assert (a["n_sites"], a["n_protected_sites"], a["n_unprotected_sites"]) == (4, 3, 1)
    assert a["n_sites"] == a["n_designated"] and a["n_undesignated"] == 1  # way/2
    assert a["share_sites_protected"] == pytest.approx(3 / 4)
    assert a["n_zones"] == 2
    # overlapping zones are not counted twice
    assert a["protected_area_km2"] == pytest.approx(0.1, rel=1e-4)
    assert a["land_area_km2"] == pytest.approx(1.0, rel=1e-4)
    assert a["share_land_protected"] == pytest.approx(0.1, rel=1e-3)
    # B: the Tower footprint (listed, outside); the Well and way/3 apart
    assert (b["n_sites"], b["n_protected_sites"], b["n_unprotected_sites"]) == (1, 0, 1)
    assert b["n_undesignated"] == 2
    assert b["share_land_protected"] == pytest.approx(0.02, rel=1e-3)
    core, nt = s.loc[("zone_type", "core")], s.loc[("zone_type", "new_town")]
    assert core["n_sites"] == 4 and core["protected_area_km2"] == pytest.approx(0.1, rel=1e-4)
    assert nt["n_sites"] == 0 and math.isnan(nt["share_sites_protected"])
    assert math.isnan(nt["share_land_protected"])
    r = s.loc[("region", "region")]
    assert (r["n_sites"], r["n_protected_sites"], r["n_zones"]) == (5, 3, 3)
    assert (r["n_designated"], r["n_undesignated"]) == (5, 3)
    assert r["share_land_protected"] == pytest.approx(0.06, rel=1e-3)
    # the unprotected designated sites are those site_counts names
    from geoapp.heritage import site_counts

    assert site_counts(rep)["designated_unprotected"] == r["n_unprotected_sites"] == 2


def test_land_area_is_the_part_the_data_covers():
    # a partial extract: district A's data covers 0.5 of its 1 km² (data_area_km2, as
    # summary.csv's area_km2); B has no figure (NaN) and keeps its whole 1 km²
    bnd = _boundaries()
    bnd["data_area_km2"] = [0.5, np.nan]
    s = heritage_report(_features(), bnd).summary.set_index(["level", "group"])
    assert s.loc[("district", "A"), "land_area_km2"] == pytest.approx(0.5)
    assert s.loc[("district", "A"), "share_land_protected"] == pytest.approx(0.1 / 0.5, rel=1e-3)
    assert s.loc[("district", "B"), "land_area_km2"] == pytest.approx(1.0, rel=1e-4)
    assert s.loc[("region", "region"), "land_area_km2"] == pytest.approx(1.5, rel=1e-4)
    assert s.loc[("zone_type", "core"), "land_area_km2"] == pytest.approx(0.5)


def test_summary_with_access_coverage():
    pts = [_p(100, 100), _p(900, 900), _p(1500, 900)]
    access = gpd.GeoDataFrame(
        {
            "pop": [100.0, 100.0, 50.0],
            "pop_60plus": [10.0, 10.0, 5.0],
            "dist_m": [200.0, 600.0, np.inf],
            "district": ["A", "A", "B"],
            "zone_type": ["core", "core", "rural"],
            "layer": "heritage",
        },
        geometry=pts,
        crs=UTM,
    ).to_crs(4326)
    s = heritage_report(_features(), _boundaries(), access=access, layer=HERITAGE).summary
    s = s.set_index(["level", "group"])
    assert s.loc[("district", "A"), "share_pop_300"] == 0.5
    assert s.loc[("district", "A"), "share_pop_1000"] == 1.0
    assert s.loc[("district", "B"), "share_pop_1000"] == 0.0
    assert s.loc[("zone_type", "core"), "pop"] == 200.0
    assert s.loc[("region", "region"), "share_pop_300"] == pytest.approx(0.4)
    assert s.loc[("region", "region"), "share_pop_1000"] == pytest.approx(0.8)
    assert math.isnan(s.loc[("zone_type", "new_town"), "share_pop_300"])


def test_untagged_polygons_are_zones_and_no_boundaries():
    feats = gpd.GeoDataFrame(
        geometry=[_b(0, 0, 100, 100), _p(50, 50), _p(500, 500)], crs=UTM
    ).to_crs(4326)
    rep = heritage_report(feats, None)
    assert len(rep.zones) == 1 and len(rep.sites) == 2
    assert rep.sites["protected"].tolist() == [True, False]
    (row,) = rep.summary.itertuples()
    # untagged features are historic (undesignated): no designated site, three apart
    assert row.level == "region" and (row.n_sites, row.n_undesignated) == (0, 3)
    assert row.protected_area_km2 == pytest.approx(0.01, rel=1e-4)
    assert math.isnan(row.land_area_km2)


def test_no_heritage_features():
    empty = gpd.GeoDataFrame({"historic": []}, geometry=[], crs=4326)
    rep = heritage_report(empty, _boundaries())
    assert len(rep.sites) == 0 and len(rep.zones) == 0
    assert (rep.summary["n_sites"] == 0).all()
    assert (rep.summary["protected_area_km2"] == 0).all()


def test_classes_counted_per_level_and_per_class_access():
    feats = _features()
    feats["heritage"] = [None, None, None, "2", None, None, None, "5"]  # Temple, Well
    rep = heritage_report(feats, _boundaries())
    cls = rep.sites.set_index("site_id")["heritage_class"].to_dict()
    # national temple, local well, a plain gate, the stele and tower are minor
    assert cls == {
        "node/1": "national",
        "node/2": "historic",
        "node/3": "minor",
        "way/4": "minor",
        "node/4": "local",
    }
    assert set(rep.zones["heritage_class"]) == {"historic", "listed"}  # way/1: protected_area
    s = rep.summary.set_index(["level", "group"])
    a, b = s.loc[("district", "A")], s.loc[("district", "B")]
    # A: sites node/1..3 + zones way/1 (listed), way/2 (historic)
    assert (a["n_national"], a["n_historic"], a["n_minor"], a["n_listed"]) == (1, 2, 1, 1)
    assert a["n_designated"] == 2 and b["n_designated"] == 1 and b["n_local"] == 1
    r = s.loc[("region", "region")]
    assert r["n_designated"] == 3 and r["n_minor"] == 2
    assert rep.meta["warnings"] == []  # 3 designated: not "few"
    pts = [_p(100, 100), _p(900, 900), _p(1500, 900)]
    access = gpd.GeoDataFrame(
        {
            "pop": [100.0, 100.0, 50.0],
            "dist_m": [200.0, 600.0, 900.0],
            "dist_m_national": [1200.0, 700.0, np.inf],
            "dist_m_designated": [300.0, 700.0, 900.0],
            "district": ["A", "A", "B"],
            "zone_type": ["core", "core", "rural"],
            "layer": "heritage",
        },
        geometry=pts,
        crs=UTM,
    ).to_crs(4326)
    s = heritage_report(feats, _boundaries(), access=access, layer=HERITAGE).summary
    s = s.set_index(["level", "group"])
    # within the 1,000 m target of a national site: 100 of 250 residents
    assert s.loc[("region", "region"), "share_pop_national_1000"] == pytest.approx(0.4)
    assert s.loc[("region", "region"), "share_pop_designated_1000"] == pytest.approx(1.0)
    assert s.loc[("district", "A"), "share_pop_national_1000"] == pytest.approx(0.5)
    assert s.loc[("district", "B"), "share_pop_national_1000"] == 0.0
    assert "share_pop_local_1000" not in s.columns  # no dist_m_local in the access table


def test_few_designated_sites_warn():
    rep = heritage_report(_features(), _boundaries())
    (w,) = rep.meta["warnings"]
    assert "holds 1 officially protected" in w  # only the protected_area zone


def test_two_statues_are_no_designated_site_as_in_summary_csv():
    # issue 26: two statues (the bj-tsinghua QA) are 0 designated sites and 2 counted
    # apart, as the heritage layer's summary.csv says (n_designated 0, n_minor 2)
    from geoapp.heritage import site_counts

    feats = gpd.GeoDataFrame(
        {"osm_id": ["node/1", "node/2"], "name": ["Statue A", "Statue B"]},
        geometry=[_p(100, 100), _p(1500, 500)],
        crs=UTM,
    ).to_crs(4326)
    feats["historic"] = "memorial"
    rep = heritage_report(feats, _boundaries())
    counts = site_counts(rep)
    assert counts == {
        "designated": 0,
        "undesignated": 2,
        "classes": {"minor": 2},
        "designated_unprotected": 0,
    }
    assert site_counts(rep, level="district", group="B")["undesignated"] == 1
    assert any("holds 0 officially protected" in w for w in rep.meta["warnings"])
    # a designated site (heritage=2: national) outside every zone counts as unprotected
    feats["heritage"] = ["2", None]
    both = site_counts(heritage_report(feats, _boundaries()))
    assert (both["designated"], both["undesignated"], both["designated_unprotected"]) == (1, 1, 1)
    assert both["classes"] == {"national": 1, "minor": 1}
