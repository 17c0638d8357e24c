"""Heritage with official lists, as found on a real 东城区 list and real Beijing extracts.

Issue 25: a list mixing points (empty ``wkt``, lon/lat given) and 历史文化街区 polygons
(``wkt``) in GCJ-02; Beijing's 市级 is the provincial level; a site both mapped and
listed counts once; a 历史文化街区 is a designated area; heritage coverage and its
status count designated sites only (two statues never make a status "met"); places
tagged only ``historic=yes`` (demolished villages' names) are not sites; rows far
outside the extract are said to be outside it, not "far from a street"; the per-class
counts reach ``summary.csv``. Small extracts are built with osmium
(``fixtures.flats_grid``) near Wudaokou, Haidian; answers are worked out by hand.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from fixtures import flats_grid, grid_at, to_gcj02
from shapely.geometry import Point, box

from geoapp import workflow
from geoapp.catalog import load_catalog
from geoapp.crs import local_crs, wgs84_to_gcj02
from geoapp.heritage import heritage_report
from geoapp.inputs import add_facility_tables
from geoapp.layers import (
    DESIGNATED_CLASSES,
    HERITAGE_CLASSES,
    place_names_only,
    select_features,
    title_class,
)
from geoapp.sources.facilities_table import (
    duplicates_of,
    normalise_name,
    outside_data,
    read_facility_table,
)
from geoapp.sources.osm_file import read_osm_file

HERITAGE = load_catalog()["heritage"]


def _region(tmp_path, extra_nodes: dict):
    """The flats grid (``fixtures.flats_grid``, streets 100 m apart) and ``extra_nodes``."""
    return read_osm_file(flats_grid(tmp_path / "wudaokou.osm.pbf", extra_nodes))


# --------------------------------------------------------------------------- a: wkt + lon/lat


def test_wkt_list_reads_points_by_lon_lat_and_polygons_by_wkt(tmp_path):
    """Points with an empty wkt cell take lon/lat; a polygon takes its wkt; all GCJ-02."""
    truth = {
        "大钟寺": Point(*grid_at(2.5, 2.5)),
        "觉生寺碑": Point(*grid_at(5.5, 5.5)),
        "西郊古街历史文化街区": box(*grid_at(4.9, 4.9), *grid_at(6.1, 6.1)),
    }
    rows = ["名称,级别,经度,纬度,wkt"]
    for name, cls in (("大钟寺", "全国重点文物保护单位"), ("觉生寺碑", "区级文物保护单位")):
        g = to_gcj02(truth[name])
        rows.append(f"{name},{cls},{g.x!r},{g.y!r},")
    rows.append(f'西郊古街历史文化街区,,,,"{to_gcj02(truth["西郊古街历史文化街区"]).wkt}"')
    rows.append("无坐标,市级文物保护单位,,,")  # neither: rejected, named by line
    path = tmp_path / "list.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    table = read_facility_table(path, coords="gcj02", layer="heritage")
    got = table.frame.set_index("name")
    assert list(got.index) == list(truth)
    assert list(got.geom_type) == ["Point", "Point", "Polygon"]
    assert table.problems == ("line 5: no wkt and no longitude/latitude (give a shape or a point)",)
    crs = local_crs(table.frame)
    for name, geom in truth.items():
        back = gpd.GeoSeries([got.loc[name, "geometry"]], crs=4326).to_crs(crs)
        want = gpd.GeoSeries([geom], crs=4326).to_crs(crs)
        assert back.hausdorff_distance(want, align=False).iloc[0] < 0.5  # metres
    fac = select_features(table.frame, HERITAGE).set_index("name")
    assert fac["heritage_class"].to_dict() == {
        "大钟寺": "national",
        "觉生寺碑": "local",
        "西郊古街历史文化街区": "conservation_area",  # e: no class given, named a 街区
    }


# --------------------------------------------------------------------------- c: classes


@pytest.mark.parametrize(
    ("text", "cls"),
    [
        ("市级文物保护单位", "provincial"),  # the 东城区 list's 75 municipal sites
        ("市级", "provincial"),
        ("市保", "provincial"),
        ("北京市文物保护单位", "provincial"),
        ("区级文物保护单位", "local"),
        ("区保", "local"),
        ("县级文物保护单位", "local"),
        ("杭州市级文物保护单位", "local"),  # a named prefecture city
        ("历史文化街区", "conservation_area"),
        ("尚未核定为保护单位", "historic"),
    ],
)
def test_beijing_class_texts(text, cls):
    assert title_class(text) == cls


def test_conservation_areas_are_designated_and_counted():
    """A 历史文化街区 polygon with no class is a designated zone: no 'no protected' warning."""
    district = box(*grid_at(1, 1), *grid_at(3, 3))
    feats = gpd.GeoDataFrame(
        {
            "osm_id": ["way/1", "node/2"],
            "name": ["南锣鼓巷历史文化街区", "某纪念碑"],
            "historic": ["yes", "memorial"],
        },
        geometry=[district, Point(*grid_at(2, 2))],
        crs=4326,
    )
    fac = select_features(feats, HERITAGE)
    assert list(fac["heritage_class"]) == ["conservation_area", "minor"]
    assert "conservation_area" in DESIGNATED_CLASSES
    rep = heritage_report(fac, None)
    r = rep.summary.set_index("level").loc["region"]
    assert (r["n_conservation_area"], r["n_minor"], r["n_designated"]) == (1, 1, 1)
    assert r["n_undesignated"] == 1
    assert list(rep.zones["name"]) == ["南锣鼓巷历史文化街区"]
    assert not any("0 officially protected" in w for w in rep.meta["warnings"])


# --------------------------------------------------------------------------- g: place names


def test_places_tagged_only_historic_yes_are_not_sites(tmp_path):
    """Demolished villages' names (place=* + historic=yes) are left out and named."""
    region = _region(
        tmp_path,
        {
            70_001: (*grid_at(1.5, 1.5), {"place": "neighbourhood", "historic": "yes",
                                          "name": "二里庄"}),
            70_002: (*grid_at(2.5, 1.5), {"place": "village", "historic": "yes",
                                          "name": "西八间房"}),
            70_003: (*grid_at(3.5, 1.5), {"place": "neighbourhood", "historic": "yes",
                                          "heritage": "2", "name": "某村"}),
            70_004: (*grid_at(4.5, 1.5), {"historic": "yes", "name": "老墙"}),
        },
    )  # fmt: skip
    mask = place_names_only(region.features)
    assert set(region.features.loc[mask, "osm_id"]) == {"node/70001", "node/70002"}
    fac = select_features(region.features, HERITAGE)
    assert sorted(fac["facility_id"]) == ["node/70003", "node/70004"]
    result = workflow.analyse(region, "heritage", mode="euclidean")
    (note,) = [w for w in result.warnings if "historic=yes" in w]
    assert note.startswith("Heritage: 2 places") and "node/70001 (二里庄)" in note


# --------------------------------------------------------------------------- f: status


def test_two_statues_never_make_heritage_met(tmp_path):
    """Only memorials near everyone: no_data with the warning; said apart, never judged."""
    region = _region(
        tmp_path,
        {
            60_001: (*grid_at(3.5, 3.5), {"historic": "memorial", "memorial": "statue"}),
            60_002: (*grid_at(4.5, 4.5), {"historic": "memorial", "memorial": "bust"}),
        },
    )
    result = workflow.analyse(region, "heritage", mode="euclidean")
    assert result.status == "no_data" and len(result.facilities) == 0
    r = result.summary.set_index("level").loc["region"]
    assert r["status"] == "no_data" and np.isnan(r["share_pop_1000"])
    assert (r["n_minor"], r["n_designated"], r["n_undesignated"]) == (2, 0, 2)
    # every resident lives within 1000 m of a statue (the grid is 700 m wide): said apart
    assert r["share_pop_undesignated_1000"] == pytest.approx(1.0)
    assert result.meta["heritage_classes"]["minor"] == 2
    text = " ".join(result.warnings)
    assert "0 officially protected" in text
    assert "No Heritage facilities were found" in text
    assert "(no officially protected site; 2 memorials, statues" in text


def test_status_follows_designated_sites_only(tmp_path):
    """A national site at one corner: the share is its own, the statue's never adds."""
    region = _region(
        tmp_path,
        {
            60_001: (*grid_at(6.5, 6.5), {"historic": "memorial", "memorial": "statue"}),
            60_003: (*grid_at(0.0, 0.0), {"historic": "temple", "heritage": "2", "name": "寺"}),
        },
    )
    result = workflow.analyse(region, "heritage", mode="euclidean")
    assert list(result.facilities["facility_id"]) == ["node/60003"]
    acc = result.access
    crs = local_crs(acc)
    temple = gpd.GeoSeries([Point(*grid_at(0, 0))], crs=4326).to_crs(crs).iloc[0]
    d = acc.geometry.to_crs(crs).distance(temple).to_numpy()
    w = acc["pop"].to_numpy()
    r = result.summary.set_index("level").loc["region"]
    assert r["share_pop_300"] == pytest.approx(w[d <= 300].sum() / w.sum(), abs=1e-9)
    assert r["n_facilities"] == r["n_designated"] == 1 and r["n_minor"] == 1
    statue = gpd.GeoSeries([Point(*grid_at(6.5, 6.5))], crs=4326).to_crs(crs).iloc[0]
    ds = acc.geometry.to_crs(crs).distance(statue).to_numpy()
    assert r["share_pop_undesignated_300"] == pytest.approx(w[ds <= 300].sum() / w.sum(), abs=1e-9)
    cols = [f"n_{c}" for c in HERITAGE_CLASSES]
    dist = result.summary[result.summary["level"] == "district"]
    assert dist[cols].to_numpy().sum() == r[cols].sum() == 2


# --------------------------------------------------------------------------- d: duplicates


def _frame(rows):
    return gpd.GeoDataFrame({"name": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=4326)


def test_duplicates_by_name_distance_or_polygon():
    listed = _frame([("大钟寺", Point(*grid_at(2, 2))), ("可园", Point(*grid_at(5, 5)))])
    mapped = _frame(
        [
            ("大 钟 寺", Point(*grid_at(4, 2))),  # same name 234 m away
            (None, Point(*grid_at(5.3, 5))),  # unnamed 35 m away
            (
                "Keyuan Garden",
                box(*grid_at(4.5, 4.5), *grid_at(5.5, 5.5)),
            ),  # holds it, other script
            ("帽儿胡同", Point(*grid_at(5, 5.3))),  # 27 m away, another Chinese name
            ("大钟寺", Point(*grid_at(2, 14))),  # same name 1,080 m away
            (None, Point(*grid_at(5.6, 5))),  # unnamed 70 m away
        ]
    )
    assert normalise_name("大 钟 寺") == normalise_name("大钟寺")
    assert list(duplicates_of(listed, mapped)) == [True, True, True, False, False, False]


def test_listed_and_mapped_site_counts_once(tmp_path):
    region = _region(
        tmp_path,
        {
            50_001: (*grid_at(3.0, 3.2), {"historic": "building", "name": "可园"}),
            50_002: (*grid_at(6.0, 1.0), {"historic": "memorial", "name": "纪念碑"}),
        },
    )
    g = to_gcj02(Point(*grid_at(3.0, 3.0)))  # the list's 可园, 18 m south of the mapped one
    path = tmp_path / "list.csv"
    path.write_text(f"名称,级别,经度,纬度\n可园,全国重点文物保护单位,{g.x!r},{g.y!r}\n")
    merged = add_facility_tables(region, [(path, "heritage", "gcj02")])
    assert "node/50001" not in set(merged.features["osm_id"])
    assert {"node/50002", "table/2"} <= set(merged.features["osm_id"])
    (note,) = [w for w in merged.meta["warnings"] if "also in this list" in w]
    assert note.startswith("list.csv: 1 Heritage feature")
    fac = select_features(merged.features, HERITAGE).set_index("facility_id")
    assert fac.loc["table/2", "heritage_class"] == "national"  # the list's class wins
    assert merged.meta["facility_tables"][-1]["merged"] == 1


# --------------------------------------------------------------------------- b: outside


def test_rows_outside_the_extract_are_said_so(tmp_path):
    """A list 6-12 km east of the extract, inside the city's districts."""
    region = _region(tmp_path, {})
    city = gpd.GeoDataFrame(
        {"district": ["东城区"], "district_code": ["110101"], "zone_type": ["core"],
         "zone_fine": [""]},
        geometry=[box(116.30, 39.95, 116.50, 40.05)],
        crs=4326,
    )  # fmt: skip
    region = region.with_(boundaries=city)
    lines = ["name,class,lon,lat"]
    for k, km in enumerate((6, 9, 12)):
        x, y = grid_at(7 + km * 10, 3)  # 7 is the grid's east edge; 10 steps per km
        gx, gy = wgs84_to_gcj02(np.array([x]), np.array([y]))
        lines.append(f"site{k},全国重点文物保护单位,{float(gx[0])!r},{float(gy[0])!r}")
    path = tmp_path / "dongcheng.csv"
    path.write_text("\n".join(lines) + "\n")
    out = add_facility_tables(region, [(path, "heritage", "gcj02")])
    text = " ".join(out.meta["warnings"])
    assert "3 of 3 rows lie 6.0–12.0 km outside the extract" in text
    assert "gcj02" in text and "walkable street" not in text
    result = workflow.analyse(out, "heritage", mode="euclidean")
    assert result.status == "no_data"
    (w,) = [w for w in result.warnings if w.startswith("No Heritage facilities")]
    assert "dongcheng.csv (0 of 3 rows kept)" in w
    assert not any("Import" in w for w in result.warnings)  # the list was just imported


def test_outside_data_measures_the_distance():
    extent = box(*grid_at(0, 0), *grid_at(7, 7))
    rows = _frame([("in", Point(*grid_at(3, 3))), ("near", Point(*grid_at(9, 3))),
                   ("far", Point(*grid_at(27, 3)))])  # fmt: skip
    rows["osm_id"] = ["table/2", "table/3", "table/4"]
    mask, note = outside_data(rows, extent, margin_m=500, source="t.csv", coords="wgs84")
    assert list(mask) == [False, False, True]
    # 20 steps of 0.00117° at 39.99° N: 20 x 99.7 m
    assert "1 of 3 rows lie 2.0 km outside" in note and "table/4 (far)" in note
    none, empty = outside_data(rows.iloc[:2], extent, margin_m=500, source="t", coords="wgs84")
    assert not none.any() and empty == ""


def test_the_real_dongcheng_class_column_reads_as_designated():
    """Class counts of a list shaped like the real 东城区 one (360 rows)."""
    texts = pd.Series(
        ["全国重点文物保护单位"] * 47 + ["市级文物保护单位"] * 75 + ["区级文物保护单位"] * 36
        + ["尚未核定为保护单位"] * 202
    )  # fmt: skip
    got = texts.map(title_class).value_counts().to_dict()
    assert got == {"historic": 202, "provincial": 75, "national": 47, "local": 36}


def test_other_layers_keep_both_and_name_the_possible_twins(tmp_path):
    """Only an official heritage list is the reference: an elderly-care twin is named, kept."""
    region = _region(
        tmp_path, {40_001: (*grid_at(3.0, 3.2), {"amenity": "social_facility",
                                              "social_facility": "nursing_home"})},
    )  # fmt: skip
    path = tmp_path / "homes.csv"
    path.write_text(f"name,lon,lat\n某养老院,{grid_at(3.0, 3.0)[0]!r},{grid_at(3.0, 3.0)[1]!r}\n")
    out = add_facility_tables(region, [(path, "elderly_care", "wgs84")])
    assert {"node/40001", "table/2"} <= set(out.features["osm_id"])
    (note,) = [w for w in out.meta["warnings"] if "may be the same" in w]
    assert "node/40001" in note and "both count now" in note
    assert out.meta["facility_tables"][-1]["merged"] == 0
