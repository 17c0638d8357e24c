from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from geoapp.errors import InputError
from geoapp.sources.census import beijing_census, normalize_district_name, read_census
from geoapp.zones import apply_zone_mapping, classify_settlements, load_zone_mapping

UTM = "EPSG:32650"  # metres, around Beijing
X0, Y0 = 440_000.0, 4_420_000.0

BEIJING = {
    "110101": ("东城区", "core", "capital_core"),
    "110102": ("西城区", "core", "capital_core"),
    "110105": ("朝阳区", "core", "central"),
    "110106": ("丰台区", "core", "central"),
    "110107": ("石景山区", "core", "central"),
    "110108": ("海淀区", "core", "central"),
    "110112": ("通州区", "new_town", "sub_centre"),
    "110111": ("房山区", "new_town", "plain_new_town"),
    "110113": ("顺义区", "new_town", "plain_new_town"),
    "110114": ("昌平区", "new_town", "plain_new_town"),
    "110115": ("大兴区", "new_town", "plain_new_town"),
    "110109": ("门头沟区", "rural", "ecological"),
    "110116": ("怀柔区", "rural", "ecological"),
    "110117": ("平谷区", "rural", "ecological"),
    "110118": ("密云区", "rural", "ecological"),
    "110119": ("延庆区", "rural", "ecological"),
}


def _districts(names, codes=None):
    n = len(names)
    codes = codes if codes is not None else [""] * n
    geoms = [box(116 + i * 0.01, 39.9, 116.009 + i * 0.01, 39.91) for i in range(n)]
    return gpd.GeoDataFrame(
        {"district": names, "district_code": codes, "zone_type": "unknown", "zone_fine": ""},
        geometry=geoms,
        crs="EPSG:4326",
    )


# --------------------------------------------------------------------------- preset


def test_beijing_preset_has_16_districts_and_fine_types():
    m = load_zone_mapping("beijing")
    assert len(m.districts) == 16
    assert {d.code for d in m.districts} == set(BEIJING)
    assert m.fine_label("capital_core", "zh") == "首都功能核心区"
    assert m.fine_label("central", "zh") == "中心城区"
    assert m.fine_label("sub_centre", "zh") == "城市副中心"
    assert m.fine_label("plain_new_town", "zh") == "平原新城"
    assert m.fine_label("ecological", "zh") == "生态涵养区"


@pytest.mark.parametrize("how", ["name", "short_name", "code"])
def test_beijing_preset_assigns_all_16(how):
    codes = list(BEIJING)
    if how == "name":
        b = _districts([BEIJING[c][0] for c in codes])
    elif how == "short_name":
        b = _districts([BEIJING[c][0].removesuffix("区") for c in codes])
    else:
        b = _districts([f"D{i}" for i in range(16)], codes)
    out = apply_zone_mapping(b, "beijing")
    assert list(out["zone_type"]) == [BEIJING[c][1] for c in codes]
    assert list(out["zone_fine"]) == [BEIJING[c][2] for c in codes]
    assert list(out["district_code"]) == codes
    assert (b["zone_type"] == "unknown").all()  # input untouched


def test_beijing_preset_english_alias_case_insensitive():
    out = apply_zone_mapping(_districts(["Dongcheng District", "YANQING"]), "beijing")
    assert list(out["zone_type"]) == ["core", "rural"]


def test_unknown_district_rejected_by_name():
    b = _districts(["东城区", "浦东新区", "Gotham"])
    with pytest.raises(InputError) as exc:
        apply_zone_mapping(b, "beijing")
    assert "浦东新区" in str(exc.value) and "Gotham" in str(exc.value)
    assert "东城区" not in str(exc.value).split("districts:")[1]


def test_unknown_district_non_strict_is_unknown():
    out = apply_zone_mapping(_districts(["东城", "Gotham"]), "beijing", strict=False)
    assert list(out["zone_type"]) == ["core", "unknown"]


def test_normalize_district_name():
    assert normalize_district_name("东城区") == normalize_district_name(" 东城 ") == "东城"
    assert normalize_district_name("Dongcheng District") == "dongcheng"
    assert normalize_district_name("延庆县") == "延庆"
    assert normalize_district_name(None) == ""


# --------------------------------------------------------------------------- user mapping


def test_user_mapping_file(tmp_path):
    p = tmp_path / "gotham.toml"
    p.write_text(
        'name = "gotham"\n'
        '[[district]]\nname = "Old Town"\nzone_type = "core"\n'
        '[[district]]\nname = "Hills"\ncode = "9"\nzone_type = "rural"\n',
        encoding="utf-8",
    )
    out = apply_zone_mapping(_districts(["old town", "X"], ["", "9"]), p)
    assert list(out["zone_type"]) == ["core", "rural"]


def test_malformed_mapping_names_file_and_keys(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(
        '[[district]]\nname = "A"\nzone_type = "downtown"\n'
        '[[district]]\nname = "B"\nzone_fine = "nope"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        load_zone_mapping(p)
    msg = str(exc.value)
    assert str(p) in msg
    assert "district[0].zone_type" in msg and "district[1].zone_fine" in msg


def test_mapping_bad_toml_and_missing(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("name = ", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        load_zone_mapping(p)
    with pytest.raises(InputError, match="not found"):
        load_zone_mapping(tmp_path / "missing.toml")


# --------------------------------------------------------------------------- census


def test_beijing_census_totals():
    c = beijing_census()
    assert list(c.columns) == [
        "district_code",
        "district",
        "pop",
        "pop_60plus",
        "pop_65plus",
        "pop_80plus",
        "pop_urban",
        "pop_rural",
    ]
    assert len(c) == 16
    assert int(c["pop"].sum()) == 21_893_095
    assert int(c["pop_60plus"].sum()) == 4_298_590
    assert (c["pop_urban"] + c["pop_rural"] == c["pop"]).all()
    assert c.loc[c["district_code"] == "110101", "pop"].item() == 708_829
    assert set(c["district_code"]) == set(BEIJING)


def test_read_census_chinese_headers_and_separators(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(
        '# my census\n区县,区划代码,常住人口,60岁及以上,备注\n东城区,110101,"708,829",187528,x\n'
        "西城,,1106214,,\n",
        encoding="utf-8",
    )
    c = read_census(p)
    assert list(c["district"]) == ["东城区", "西城"]
    assert list(c["district_code"]) == ["110101", ""]
    assert list(c["pop"]) == [708829, 1106214]
    assert c["pop_60plus"].iloc[0] == 187528 and np.isnan(c["pop_60plus"].iloc[1])


def test_read_census_gbk(tmp_path):
    p = tmp_path / "gbk.csv"
    p.write_bytes("district,population\n东城区,10\n".encode("gbk"))
    assert read_census(p)["district"].tolist() == ["东城区"]


def test_read_census_bad_rows_named_by_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text(
        "district,pop,pop_60plus\nA,100,10\nB,abc,1\nC,-5,0\nD,10,20\nA,1,0\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        read_census(p)
    msg = str(exc.value)
    for frag in ("line 3", "'abc'", "line 4", "line 5", "lines 2, 6"):
        assert frag in msg, frag


def test_read_census_missing_columns(tmp_path):
    p = tmp_path / "nocol.csv"
    p.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_census(p)
    assert "population column" in str(exc.value) and "district column" in str(exc.value)


# --------------------------------------------------------------------------- degree of urbanisation


def _grid_demand(pops: dict[tuple[int, int], float], cell=1000.0) -> gpd.GeoDataFrame:
    """One demand point at the centre of each given (row, col) cell."""
    rc = list(pops)
    pts = [Point(X0 + (c + 0.5) * cell, Y0 + (r + 0.5) * cell) for r, c in rc]
    return gpd.GeoDataFrame({"pop": [pops[k] for k in rc]}, geometry=pts, crs=UTM).to_crs(4326)


def _classes(grid: gpd.GeoDataFrame, pops, col="dou_class") -> dict[tuple[int, int], str]:
    """Class by the test's own (row, col); the grid starts at the lowest populated cell."""
    r0 = min(r for r, _ in pops)
    c0 = min(c for _, c in pops)
    rows, cols = grid["row"] + r0, grid["col"] + c0
    return {(r, c): k for r, c, k in zip(rows, cols, grid[col], strict=True)}


def test_dou_dense_blob_sparse_ring_isolated_cells():
    pops: dict[tuple[int, int], float] = {}
    # dense 3x3 blob at rows/cols 2..4: 9 x 6000 = 54,000 >= 50,000 -> urban centre
    for r in range(2, 5):
        for c in range(2, 5):
            pops[(r, c)] = 6000.0
    # sparse ring around it (rows/cols 1..5 border): 16 x 400 = 6,400 -> urban cluster
    for r in range(1, 6):
        for c in range(1, 6):
            if (r, c) not in pops:
                pops[(r, c)] = 400.0
    # isolated cells far away: dense but tiny totals -> rural
    pops[(0, 12)] = 2000.0
    pops[(9, 12)] = 350.0
    res = classify_settlements(_grid_demand(pops))
    cls = _classes(res.grid, pops)
    zone = _classes(res.grid, pops, "settlement")
    assert len(cls) == len(pops)
    blob = [(r, c) for r in range(2, 5) for c in range(2, 5)]
    ring = [(r, c) for r in range(1, 6) for c in range(1, 6) if (r, c) not in blob]
    assert len(ring) == 16
    assert all(cls[k] == "urban_centre" and zone[k] == "core" for k in blob)
    assert all(cls[k] == "urban_cluster" and zone[k] == "new_town" for k in ring)
    assert zone[(0, 12)] == "rural" and zone[(9, 12)] == "rural"
    assert res.params["core_rule"] == "urban_centre" and not res.warnings
    assert res.grid.crs.to_epsg() == 4326
    assert res.grid["density_per_km2"].max() == pytest.approx(6000.0)
    assert res.grid["pop"].sum() == pytest.approx(sum(pops.values()))
    # per point: one point per cell, in input order
    assert list(res.settlement) == [zone[k] for k in pops]


def test_dou_centre_needs_edge_contiguity_cluster_allows_corners():
    # two dense cells touching only at a corner: 30,000 each
    pops = {(0, 0): 30_000.0, (1, 1): 30_000.0}
    cls = _classes(classify_settlements(_grid_demand(pops)).grid, pops)
    # 4-connectivity: two centres of 30k each < 50k -> not centres; 8-connectivity
    # cluster of 60k -> urban cluster
    assert cls == {(0, 0): "urban_cluster", (1, 1): "urban_cluster"}
    # sharing an edge: one centre of 60k
    pops = {(0, 0): 3e4, (0, 1): 3e4}
    cls = _classes(classify_settlements(_grid_demand(pops)).grid, pops)
    assert set(cls.values()) == {"urban_centre"}


def test_dou_thresholds_are_parameters():
    pops = {(0, 0): 2000.0, (0, 1): 2000.0}
    res = classify_settlements(_grid_demand(pops), centre_min_pop=3000, cluster_min_pop=100)
    assert set(res.grid["dou_class"]) == {"urban_centre"}
    assert res.params["centre_min_pop"] == 3000
    with pytest.raises(InputError, match="unknown settlement parameters"):
        classify_settlements(_grid_demand(pops), centre_pop=1)


def test_two_towns_and_villages_without_an_urban_centre():
    # town A 3 x 3 cells of 1,000 (9,000), town B 2 cells of 3,000 (6,000), villages 200
    pops = {(r, c): 1000.0 for r in range(3) for c in range(3)}
    pops.update({(0, 10): 3000.0, (1, 10): 3000.0})
    pops.update({(8, 0): 200.0, (8, 5): 250.0, (8, 10): 900.0})
    res = classify_settlements(_grid_demand(pops))
    zone = _classes(res.grid, pops, "settlement")
    assert res.params["core_rule"] == "urban_cluster"  # the highest class present
    assert {zone[(r, c)] for r in range(3) for c in range(3)} == {"core"}
    assert zone[(0, 10)] == zone[(1, 10)] == "new_town"
    assert zone[(8, 0)] == zone[(8, 5)] == zone[(8, 10)] == "rural"


def test_small_extract_falls_back_and_says_so():
    # nothing reaches 5,000 residents: the largest dense group is the core
    pops = {(0, 0): 1200.0, (0, 1): 900.0, (0, 6): 600.0, (0, 12): 100.0, (5, 5): 350.0}
    res = classify_settlements(_grid_demand(pops))
    zone = _classes(res.grid, pops, "settlement")
    assert res.params["core_rule"] == "relative_fallback"
    assert zone[(0, 0)] == zone[(0, 1)] == "core"
    assert zone[(0, 6)] == "new_town" and zone[(5, 5)] == "new_town"  # >= 10% of 2,100
    assert zone[(0, 12)] == "rural"  # below 300/km²
    assert len(res.warnings) == 1 and "relative" in res.warnings[0]
    # nothing dense at all: all rural, with a warning
    res = classify_settlements(_grid_demand({(0, 0): 100.0, (3, 3): 50.0}))
    assert set(res.settlement) == {"rural"} and "one zone type" in res.warnings[0]


def test_thresholds_count_the_whole_extract_not_each_district():
    """A capital split over two districts is one urban centre (the 'rural capital' bug)."""
    from geoapp.demand import DemandOptions, estimate_population

    pops = {(r, c): 8000.0 for r in range(2) for c in range(4)}  # 64,000 in 8 cells
    pops[(0, 12)] = 2000.0  # a village
    demand = _grid_demand(pops)
    n = len(demand)
    # buildings standing in for the demand: 8000 residents = 280,000 m² floor at 35 m²
    local = demand.to_crs(UTM)
    side = 50.0
    levels = np.array([pops[k] for k in pops]) * 35.0 / side**2
    b = gpd.GeoDataFrame(
        {"building_id": [f"w{i}" for i in range(n)], "building": "apartments", "levels": levels},
        geometry=local.buffer(side / 2, cap_style="square").to_numpy(),
        crs=UTM,
    ).to_crs(4326)
    # two districts, each holding half the capital (32,000 < 50,000 each)
    west = box(X0 - 10, Y0 - 10, X0 + 2000, Y0 + 3000)
    east = box(X0 + 2000, Y0 - 10, X0 + 20000, Y0 + 3000)
    bnd = gpd.GeoDataFrame(
        {"district": ["W", "E"], "district_code": "", "zone_type": "unknown", "zone_fine": ""},
        geometry=[west, east],
        crs=UTM,
    ).to_crs(4326)
    dem = estimate_population(b, bnd, options=DemandOptions(zones="density"))
    by = dem.points.groupby(["district", "zone_type"])["pop"].sum()
    assert by[("W", "core")] == pytest.approx(32_000, rel=1e-3)
    assert by[("E", "core")] == pytest.approx(32_000, rel=1e-3)
    assert by[("E", "rural")] == pytest.approx(2_000, rel=1e-3)
    assert dem.zone_method == "density" and dem.zone_params["core_rule"] == "urban_centre"
    assert (bnd["zone_type"] == "unknown").all()  # input untouched


def test_settlements_empty_demand():
    empty = gpd.GeoDataFrame({"pop": pd.Series(dtype=float)}, geometry=[], crs=4326)
    res = classify_settlements(empty)
    assert len(res.grid) == 0 and len(res.settlement) == 0


@settings(max_examples=30, deadline=None)
@given(
    cells=st.dictionaries(
        st.tuples(st.integers(0, 8), st.integers(0, 8)),
        st.floats(0, 20_000),
        min_size=1,
        max_size=40,
    )
)
def test_settlement_invariants(cells):
    res = classify_settlements(_grid_demand(cells))
    assert set(res.settlement) <= {"core", "new_town", "rural"}
    assert res.grid["pop"].sum() == pytest.approx(sum(cells.values()), rel=1e-9, abs=1e-6)
    dense = any(v >= 300.0 for v in cells.values())
    # a core exists exactly when some cell reaches the cluster density
    assert ("core" in set(res.settlement)) == dense
    # core cells are at least as dense, on average, as rural ones
    z = np.asarray(res.settlement)
    pops = np.array(list(cells.values()))
    if (z == "core").any() and (z == "rural").any():
        assert pops[z == "core"].mean() >= pops[z == "rural"].mean()
