"""Elderly care and heritage as Beijing maps them (issue 25, parts 1 and 2).

Small OpenStreetMap extracts built here with osmium (tests/osm_extract_builder.py) in
Haidian, Beijing: every tagging variant of elderly care is matched, features only named
like elderly care (敬老院) are named by id in one warning and never counted, heritage
sites get a protection class (a national site and a statue apart), and an official
heritage list in GCJ-02 with a class column and a 历史文化街区 polygon is converted and
counted per class. Expected answers are written out by hand from the tags.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from osm_extract_builder import write_extract
from shapely.geometry import Point, box

from geoapp import workflow
from geoapp.catalog import load_catalog, parse_layer_file
from geoapp.crs import local_crs, wgs84_to_gcj02
from geoapp.heritage import heritage_report
from geoapp.inputs import add_facility_tables
from geoapp.layers import (
    heritage_class_warnings,
    heritage_classes,
    near_miss_warning,
    near_misses,
    select_features,
    title_class,
)
from geoapp.sources.facilities_table import read_facility_table
from geoapp.sources.osm_file import read_osm_file

CAT = load_catalog()
ELDERLY, HERITAGE = CAT["elderly_care"], CAT["heritage"]

X0, Y0 = 116.3300, 39.9900  # Haidian, near Wudaokou
DX, DY = 0.00117, 0.0009  # about 100 m east-west and north-south


def _grid(nodes: dict, ways: list, n: int = 8) -> None:
    """A grid of n x n street nodes, 100 m apart, with a house in every block."""
    for i in range(n):
        for j in range(n):
            nodes[1 + i * n + j] = (X0 + i * DX, Y0 + j * DY)
    wid = 1
    for j in range(n):
        ways.append((wid, [1 + i * n + j for i in range(n)], {"highway": "residential"}))
        wid += 1
    for i in range(n):
        ways.append((wid, [1 + i * n + j for j in range(n)], {"highway": "residential"}))
        wid += 1
    k = 5000
    for i in range(n - 1):
        for j in range(n - 1):
            x, y = X0 + (i + 0.3) * DX, Y0 + (j + 0.3) * DY
            ring = []
            for dx, dy in ((0, 0), (0.4, 0), (0.4, 0.4), (0, 0.4)):
                nodes[k] = (x + dx * DX, y + dy * DY)
                ring.append(k)
                k += 1
            ways.append((1000 + wid, [*ring, ring[0]], {"building": "apartments"}))
            wid += 1


def _at(i: float, j: float) -> tuple[float, float]:
    return (X0 + i * DX, Y0 + j * DY)


# node id -> (tags, matched as elderly care?)
ELDERLY_NODES: dict[int, tuple[dict[str, str], bool]] = {
    # the residential care forms without social_facility:for, as Beijing maps them
    90_001: ({"amenity": "social_facility", "social_facility": "nursing_home"}, True),
    90_002: ({"amenity": "social_facility", "social_facility": "assisted_living"}, True),
    90_003: ({"amenity": "social_facility", "social_facility": "group_home"}, True),
    90_004: ({"healthcare": "nursing_home", "name": "护理院"}, True),
    # senior day care and senior centres
    90_005: (
        {"amenity": "social_facility", "social_facility": "day_care",
         "social_facility:for": "senior", "name": "日间照料中心"},
        True,
    ),
    90_006: ({"amenity": "social_centre", "social_centre:for": "senior"}, True),
    90_007: ({"amenity": "community_centre", "community_centre:for": "senior"}, True),
    90_008: (
        {"amenity": "social_facility", "social_facility": "nursing_home",
         "social_facility:for": "senior"},
        True,
    ),
    90_009: (
        {"amenity": "social_facility", "social_facility": "outreach",
         "social_facility:for": "senior", "name": "养老驿站"},
        True,
    ),
    90_010: (
        {"amenity": "social_facility", "social_facility": "nursing_home",
         "social_facility:for": "senior;disabled"},
        True,
    ),
    90_011: ({"amenity": "nursing_home", "name": "颐养院"}, True),
    90_012: ({"social_facility": "nursing_home"}, True),  # without amenity
    # not elderly care
    90_020: (
        {"amenity": "social_facility", "social_facility": "group_home",
         "social_facility:for": "disabled"},
        False,
    ),
    90_021: ({"amenity": "social_facility", "social_facility": "day_care"}, False),
    90_022: (
        {"amenity": "social_facility", "social_facility": "nursing_home",
         "social_facility:for": "child"},
        False,
    ),
    90_023: ({"amenity": "social_facility", "name": "敬老院"}, False),  # near-miss
    90_024: ({"amenity": "community_centre", "name": "老年活动中心"}, False),  # near-miss
    90_025: ({"amenity": "school", "name": "Beijing No. 4 Senior High School"}, False),
    90_026: ({"amenity": "clinic", "name": "Sunshine Nursing Home"}, False),  # near-miss
}  # fmt: skip
NEAR_MISS_NODES = ("node/90023", "node/90024", "node/90026")
CARE_BUILDING = 7001  # a building named 养老照料中心 with no care tag: a near-miss too


@pytest.fixture(scope="module")
def elderly_region(tmp_path_factory):
    nodes: dict = {}
    ways: list = []
    _grid(nodes, ways)
    for k, (nid, (tags, _)) in enumerate(ELDERLY_NODES.items()):
        nodes[nid] = (*_at(0.5 + (k % 7), 0.5 + (k // 7)), tags)
    ring = [95_001, 95_002, 95_003, 95_004]
    for q, (dx, dy) in enumerate(((0, 0), (0.2, 0), (0.2, 0.2), (0, 0.2))):
        nodes[ring[q]] = _at(6.1 + dx, 6.1 + dy)
    ways.append(
        (CARE_BUILDING, [*ring, ring[0]], {"building": "yes", "name": "花园路养老照料中心"})
    )
    path = write_extract(tmp_path_factory.mktemp("ec") / "haidian.osm.pbf", nodes, ways)
    return read_osm_file(path)


def test_every_elderly_tagging_variant_is_matched_and_the_others_are_not(elderly_region):
    got = set(select_features(elderly_region.features, ELDERLY)["facility_id"])
    want = {f"node/{nid}" for nid, (_, ok) in ELDERLY_NODES.items() if ok}
    assert got == want


def test_names_like_elderly_care_are_near_misses_named_by_id_never_counted(elderly_region):
    misses = near_misses(elderly_region.features, ELDERLY, elderly_region.buildings)
    assert set(misses["osm_id"]) == {*NEAR_MISS_NODES, f"way/{CARE_BUILDING}"}
    # matched features named like elderly care (颐养院, 护理院, 养老驿站) are no near-misses,
    # nor is a senior high school
    assert not set(misses["osm_id"]) & {"node/90011", "node/90004", "node/90009", "node/90025"}
    text = near_miss_warning(misses, ELDERLY)
    assert "node/90023 (敬老院)" in text and f"way/{CARE_BUILDING} (花园路养老照料中心)" in text
    assert "NOT counted" in text and "--facilities FILE:elderly_care:COORDS" in text
    assert 'osm_id = ["node/90023", "node/90024", "node/90026"]' in text
    assert near_miss_warning(misses.iloc[:0], ELDERLY) is None


def test_the_osm_id_table_the_warning_suggests_counts_them(elderly_region, tmp_path):
    text = open(ELDERLY.source_file, encoding="utf-8").read()
    f = tmp_path / "elderly_care.toml"
    f.write_text(text + '\n[[match]]\nosm_id = ["node/90023", "node/90024"]\n', encoding="utf-8")
    layer = parse_layer_file(f)
    assert "osm_id" not in layer.tag_keys() and "osm_id" not in layer.osm_tags()
    got = set(select_features(elderly_region.features, layer)["facility_id"])
    assert {"node/90023", "node/90024"} <= got
    left = set(near_misses(elderly_region.features, layer)["osm_id"])
    assert left == {"node/90026"}


def test_the_warning_reaches_the_analysis(elderly_region):
    result = workflow.analyse(elderly_region, "elderly_care", mode="euclidean")
    (line,) = [w for w in result.warnings if "NOT counted" in w]
    assert "node/90023 (敬老院)" in line
    assert result.status == "ok" and len(result.facilities) == 12


def test_false_means_absent_and_an_all_false_table_is_refused(tmp_path):
    f = tmp_path / "x.toml"
    f.write_text(
        'id = "x"\nlabel = { en = "X" }\npopulation = "total"\nradii_m = [300]\n'
        'target_m = 300\n[[match]]\n"social_facility:for" = false\n',
        encoding="utf-8",
    )
    with pytest.raises(Exception, match="every key is false"):
        parse_layer_file(f)
    f.write_text(
        f.read_text(encoding="utf-8").replace("[[match]]\n", "name_hints = ['(']\n[[match]]\n"),
        encoding="utf-8",
    )
    with pytest.raises(Exception, match="name_hints"):
        parse_layer_file(f)


# --------------------------------------------------------------------------- heritage

# node id -> (tags, class)
HERITAGE_NODES: dict[int, tuple[dict[str, str], str]] = {
    80_001: ({"historic": "memorial", "memorial": "statue", "name": "Statue"}, "minor"),
    80_002: ({"historic": "monument", "name": "Monument"}, "minor"),
    80_003: ({"historic": "memorial", "memorial": "plaque"}, "minor"),
    80_004: (
        {"historic": "building", "heritage": "2", "heritage:operator": "sach", "name": "大钟寺"},
        "national",
    ),
    80_005: ({"historic": "temple", "protection_title": "北京市文物保护单位"}, "provincial"),
    80_006: ({"historic": "building", "protection_title": "海淀区文物保护单位"}, "local"),
    80_007: ({"historic": "memorial", "memorial": "plaque", "heritage": "4"}, "provincial"),
    80_008: ({"historic": "castle"}, "historic"),
    80_009: ({"heritage": "1", "name": "颐和园"}, "world"),
    80_010: ({"historic": "building", "protection_title": "Kulturdenkmal"}, "listed"),
    80_011: ({"historic": "building", "protection_title": "全国重点文物保护单位"}, "national"),
}  # fmt: skip


@pytest.fixture(scope="module")
def heritage_region(tmp_path_factory):
    nodes: dict = {}
    ways: list = []
    _grid(nodes, ways)
    for k, (nid, (tags, _)) in enumerate(HERITAGE_NODES.items()):
        nodes[nid] = (*_at(0.5 + (k % 7), 0.5 + (k // 7)), tags)
    path = write_extract(tmp_path_factory.mktemp("her") / "haidian.osm.pbf", nodes, ways)
    return read_osm_file(path)


def test_protection_class_per_site_and_statues_apart(heritage_region):
    fac = select_features(heritage_region.features, HERITAGE)
    got = dict(zip(fac["facility_id"], fac["heritage_class"], strict=True))
    assert got == {f"node/{nid}": cls for nid, (_, cls) in HERITAGE_NODES.items()}
    rep = heritage_report(fac, None)
    r = rep.summary.set_index("level").loc["region"]
    assert (r["n_world"], r["n_national"], r["n_provincial"], r["n_local"]) == (1, 2, 2, 1)
    assert (r["n_listed"], r["n_historic"], r["n_minor"], r["n_designated"]) == (1, 1, 3, 7)
    assert rep.meta["warnings"] == []


def test_a_campus_with_two_statues_is_not_ok_but_warned(heritage_region):
    feats = heritage_region.features
    statues = feats[feats["osm_id"].isin(["node/80001", "node/80002"])]
    fac = select_features(statues, HERITAGE)
    assert list(fac["heritage_class"]) == ["minor", "minor"]
    (w,) = heritage_class_warnings(fac, HERITAGE)
    assert "0 officially protected" in w and "2 minor" in w
    assert "--facilities FILE:heritage:COORDS" in w


@pytest.mark.parametrize(
    "text, cls",
    [
        ("全国重点文物保护单位", "national"),
        ("北京市文物保护单位", "provincial"),
        ("北京市级", "provincial"),
        ("北京市海淀区文物保护单位", "local"),
        ("区级", "local"),
        ("内蒙古自治区级文物保护单位", "provincial"),
        ("杭州市文物保护单位", "local"),
        # Beijing's 市级 is the provincial level (a province-level municipality)
        ("市级", "provincial"),
        ("市级文物保护单位", "provincial"),
        ("市保", "provincial"),
        ("杭州市级", "local"),
        ("县级", "local"),
        ("历史文化街区", "conservation_area"),
        ("北京市历史文化街区", "conservation_area"),
        ("世界文化遗产", "world"),
        ("Kulturdenkmal", "listed"),
        ("历史建筑", "listed"),
        ("national", "national"),
        ("", ""),
    ],
)
def test_title_class(text, cls):
    assert title_class(text) == cls


def test_heritage_numbers_take_the_highest_level():
    frame = pd.DataFrame({"heritage": ["2;4", "7", "yes", "no"], "historic": ["", "", "", "ruins"]})
    assert list(heritage_classes(frame)) == ["national", "local", "listed", "historic"]


# --------------------------------------------------------------------------- an official list


def _gcj(lon: float, lat: float) -> tuple[float, float]:
    x, y = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    return float(x[0]), float(y[0])


#: The list in WGS-84 (the truth): two points and a 历史文化街区 polygon holding one.
SITES = [
    ("大钟寺", "全国重点文物保护单位", Point(*_at(2.5, 2.5))),
    ("觉生寺碑", "区级", Point(*_at(5.5, 5.5))),
    ("西郊古街历史文化街区", "北京市级", box(*_at(4.9, 4.9), *_at(6.1, 6.1))),
]


def _to_gcj(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(_gcj_arrays(xy[:, 0], xy[:, 1])))


def _gcj_arrays(lon, lat):
    return wgs84_to_gcj02(np.asarray(lon), np.asarray(lat))


def _geojson_list(path: Path) -> Path:
    feats = [
        {
            "type": "Feature",
            "properties": {"名称": name, "级别": cls},
            "geometry": shapely.geometry.mapping(_to_gcj(geom)),
        }
        for name, cls, geom in SITES
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def test_gcj02_list_with_polygons_is_converted_and_classed(tmp_path):
    table = read_facility_table(_geojson_list(tmp_path / "文保单位.geojson"), coords="gcj02",
                                layer="heritage")  # fmt: skip
    got = table.frame
    assert list(got["name"]) == [s[0] for s in SITES]
    assert list(got.geom_type) == ["Point", "Point", "Polygon"]
    truth = gpd.GeoSeries([s[2] for s in SITES], crs=4326)
    crs = local_crs(truth)
    # every vertex back on its WGS-84 position (GCJ-02 is ~500 m off before conversion)
    off = got.geometry.to_crs(crs).hausdorff_distance(truth.to_crs(crs), align=False)
    assert (off < 0.5).all()
    raw = gpd.GeoSeries([_to_gcj(s[2]) for s in SITES], crs=4326).to_crs(crs)
    assert (raw.hausdorff_distance(truth.to_crs(crs), align=False) > 100).all()
    fac = select_features(got, HERITAGE)
    assert list(fac["heritage_class"]) == ["national", "local", "provincial"]
    rep = heritage_report(fac, None)
    assert list(rep.zones["name"]) == ["西郊古街历史文化街区"]
    assert rep.zones["heritage_class"].tolist() == ["provincial"]
    site = rep.sites.set_index("name")
    assert site.loc["觉生寺碑", "protected"] and not site.loc["大钟寺", "protected"]
    r = rep.summary.set_index("level").loc["region"]
    assert (r["n_national"], r["n_provincial"], r["n_local"], r["n_designated"]) == (1, 1, 1, 3)
    assert rep.zones["area_km2"].iloc[0] == pytest.approx(
        truth.iloc[[2]].to_crs(crs).area.iloc[0] / 1e6, rel=1e-3
    )


def test_csv_list_with_wkt_and_a_bare_city_level_warns(tmp_path):
    rows = ["name,class,wkt"]
    for name, cls, geom in [*SITES[:2], ("某寺", "市级", Point(*_at(1.5, 1.5)))]:
        rows.append(f'{name},{cls},"{_to_gcj(geom).wkt}"')
    path = tmp_path / "list.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    fac = select_features(read_facility_table(path, coords="gcj02", layer="heritage").frame,
                          HERITAGE)  # fmt: skip
    assert list(fac["heritage_class"]) == ["national", "local", "provincial"]
    warns = heritage_report(fac, None).meta["warnings"]
    assert any("市级" in w and "read as provincial" in w and "杭州市级" in w for w in warns)


def test_official_list_end_to_end_per_class_coverage(heritage_region, tmp_path):
    path = _geojson_list(tmp_path / "list.geojson")
    region = add_facility_tables(heritage_region, [(path, "heritage", "gcj02")])
    assert {"table/2", "table/3", "table/4"} <= set(region.features["osm_id"])
    result = workflow.analyse(region, "heritage", mode="euclidean")
    fac = result.facilities.set_index("facility_id")
    assert fac.loc["table/4", "heritage_class"] == "provincial"
    acc = result.access
    # nested groups: a site of a class is also one of every lower group
    d = {g: acc[f"dist_m_{g}"].to_numpy() for g in ("national", "provincial", "local")}
    dd = acc["dist_m_designated"].to_numpy()
    assert (d["provincial"] <= d["national"]).all() and (d["local"] <= d["provincial"]).all()
    assert (dd <= d["local"]).all() and (acc["dist_m"].to_numpy() <= dd).all()
    rep = workflow.heritage(region, result.access, layer=result.layer)
    r = rep.summary.set_index("level").loc["region"]
    # 大钟寺 is mapped (node/80004, 224 m away) and listed: counted once, as the list's row
    assert "node/80004" not in set(region.features["osm_id"])
    assert any("1 Heritage feature mapped in the data is also in this list" in w
               for w in region.meta["warnings"])  # fmt: skip
    assert r["n_national"] == 2 + 1 - 1 and r["n_designated"] == 7 + 3 - 1
    shares = [r[f"share_pop_{g}_1000"] for g in ("national", "provincial", "local", "designated")]
    assert all(0 <= s <= 1 for s in shares) and shares == sorted(shares)
    assert shares[-1] <= r["share_pop_1000"]
    # by hand: the straight-line distance of every resident to the nearest national site
    nat = fac[fac["heritage_class"].isin(["world", "national"])]
    crs = local_crs(acc)
    pts = acc.geometry.to_crs(crs)
    near = np.min(
        [pts.distance(g) for g in nat.geometry.to_crs(crs).representative_point()], axis=0
    )
    w = acc["pop"].to_numpy()
    assert r["share_pop_national_1000"] == pytest.approx(w[near <= 1000].sum() / w.sum(), abs=1e-9)
    assert not math.isnan(r["share_pop_designated_1000"])


@pytest.mark.parametrize(
    ("name", "hinted"),
    [
        ("Altenpflegezentrum Hoyerswerda", True),  # found untagged on a real German extract
        ("Seniorenheim am Park", True),
        ("EHPAD Les Tilleuls", True),
        ("Casa di Riposo San Giuseppe", True),
        ("Residencia de Mayores Sol", True),
        ("Senior High School", False),
        ("Parkhaus Altstadt", False),
    ],
)
def test_names_in_other_languages_are_hinted(name, hinted):
    """The layer's name hints (which make near-misses) read other languages' usual names."""
    import re

    rx = re.compile("|".join(f"(?:{h})" for h in ELDERLY.name_hints), re.IGNORECASE)
    assert bool(rx.search(name)) is hinted


@pytest.mark.parametrize(
    ("text", "cls"),
    [
        # the class column of a real 东城区 list: 202 of its 360 rows are not designated
        ("尚未核定为保护单位", "historic"),
        ("普查登记文物", "historic"),
        ("未定级不可移动文物", "historic"),
        ("不可移动文物", "historic"),
        ("区保", "local"),
        ("全国重点文物保护单位", "national"),
        ("北京市文物保护单位", "provincial"),
        ("区级文物保护单位", "local"),
    ],
)
def test_official_class_texts(text, cls):
    from geoapp.layers import title_class

    assert title_class(text) == cls
