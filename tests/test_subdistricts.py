"""Beijing's 街道 / 乡镇 preset (``--boundaries beijing-subdistricts``), offline.

Checked against independent references: the 16 district names and codes of the Beijing
zone mapping (read here from its TOML file), the official area of Beijing (16,410.54 km²,
Beijing Municipal Bureau of Statistics) and the 2020 census file shipped with the package.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixtures import XUEYUAN, homes_grid  # noqa: E402

from geoapp import workflow  # noqa: E402
from geoapp.sources.boundaries import (  # noqa: E402
    BEIJING_SUBDISTRICTS,
    PARENT_COLUMNS,
    beijing_subdistricts,
)
from geoapp.spec import RegionSpec  # noqa: E402
from geoapp.study_area import census_by_parent, resolve_study_area  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ZONES = tomllib.loads((ROOT / "geoapp/data/zones/beijing.toml").read_text(encoding="utf-8"))
DISTRICTS = {d["name"]: d for d in ZONES["district"]}  # 东城区 -> {code, zone_fine}


pytestmark = pytest.mark.usefixtures("own_cache")


@pytest.fixture(scope="module")
def units() -> gpd.GeoDataFrame:
    return beijing_subdistricts().frame


def test_343_units_with_codes_and_parent_districts(units):
    assert len(units) == 343
    assert list(units.columns) == [
        "district", "district_code", "zone_type", "zone_fine", *PARENT_COLUMNS, "geometry"
    ]  # fmt: skip
    assert units.crs == "EPSG:4326"
    codes = units["district_code"]
    assert codes.str.fullmatch(r"11\d{10}").all() and codes.is_unique
    assert units["district"].is_unique
    # every parent is one of the 16 districts of the Beijing presets, by name and code
    assert set(units["parent_district"]) == set(DISTRICTS)
    for name, code, own in zip(units["parent_district"], units["parent_district_code"], codes,
                               strict=True):  # fmt: skip
        assert code == DISTRICTS[name]["code"] and own.startswith(code)
    assert units.geometry.is_valid.all()
    # Beijing's official area is 16,410.54 km²; the units cover it to 0.1 %
    km2 = units.to_crs(32650).area.sum() / 1e6
    assert km2 == pytest.approx(16_410.54, rel=2e-3)


def test_known_units_lie_where_they_are(units):
    # Xueyuan Road subdistrict: Haidian, 110108010000, around the Wudaokou universities
    row = units[units["district"] == "学院路街道"].iloc[0]
    assert row["district_code"] == "110108010000" and row["parent_district"] == "海淀区"
    assert row.geometry.contains(box(116.345, 39.995, 116.346, 39.996))
    # the two 八里庄街道 (Chaoyang and Haidian) are told apart
    both = units[units["district"].str.startswith("八里庄街道")]
    assert sorted(both["parent_district"]) == ["朝阳区", "海淀区"]
    assert sorted(both["district"]) == ["八里庄街道（朝阳区）", "八里庄街道（海淀区）"]


def test_the_source_and_licence_ship_with_the_data():
    text = (ROOT / "geoapp/data/subdistricts/SOURCE.md").read_text(encoding="utf-8")
    for needed in ("MIT License", "thebamboogrove/bj-subdistricts", "天地图",
                   "Not guaranteed to be up to date", "2023–2024"):  # fmt: skip
        assert needed in text


@pytest.fixture
def extract(tmp_path):
    """A street grid with homes on Xueyuan Road (lon 116.340-116.356, lat 39.994-40.006)."""
    home = {"amenity": "social_facility", "social_facility": "nursing_home", "name": "学院路养老院"}
    return homes_grid(
        tmp_path / "wudaokou.osm.pbf", XUEYUAN, levels=10, places=[(116.348, 40.000, home)]
    )


def test_boundaries_preset_loads_offline_with_beijing_zones(extract):
    spec = RegionSpec(osm=str(extract), boundaries=BEIJING_SUBDISTRICTS, zones="beijing")
    region = workflow.load_region(spec)
    bnd = region.boundaries
    assert len(bnd) == 343
    # every unit takes its parent district's zone, as the Master Plan zones districts
    for parent, fine in zip(bnd["parent_district"], bnd["zone_fine"], strict=True):
        assert fine == DISTRICTS[parent]["zone_fine"]
    xueyuan = bnd[bnd["district"] == "学院路街道"].iloc[0]
    assert (xueyuan["zone_type"], xueyuan["zone_fine"]) == ("core", "central")
    dongcheng = bnd[bnd["parent_district"] == "东城区"]
    assert set(dongcheng["zone_fine"]) == {"capital_core"}
    assert "bj-subdistricts" in region.meta["attribution"]
    assert "OpenStreetMap" in region.meta["attribution"]


def test_district_census_is_shared_among_units_by_area(units):
    # hand-made: district P (code 110199) split 1 : 3 into units a and b
    bnd = gpd.GeoDataFrame(
        {"district": ["a街道", "b镇"], "district_code": ["110199001000", "110199002000"],
         "zone_type": "unknown", "zone_fine": "", "parent_district": ["P区", "P区"],
         "parent_district_code": ["110199", "110199"]},
        geometry=[box(116.0, 39.9, 116.01, 39.91), box(116.01, 39.9, 116.04, 39.91)],
        crs="EPSG:4326",
    )  # fmt: skip
    census = gpd.pd.DataFrame(
        {"district_code": ["110199"], "district": ["P区"], "pop": [40_000.0],
         "pop_60plus": [8_000.0]}
    )  # fmt: skip
    out, note = census_by_parent(bnd, census)
    assert list(out["district"]) == ["a街道", "b镇"]
    assert out["pop"].tolist() == pytest.approx([10_000.0, 30_000.0], rel=1e-3)
    assert out["pop_60plus"].tolist() == pytest.approx([2_000.0, 6_000.0], rel=1e-3)
    assert note and "uniform density" in note
    # a census of the units themselves is left alone
    own = census.assign(district_code=["110199001000"], district=["a街道"])
    assert census_by_parent(bnd, own)[1] is None


def test_beijing_census_with_subdistricts_keeps_each_district_total(extract):
    from geoapp.sources.census import beijing_census

    spec = RegionSpec(osm=str(extract), boundaries=BEIJING_SUBDISTRICTS, census="beijing")
    region = workflow.load_region(spec)
    c = region.census.merge(
        region.boundaries[["district", "parent_district"]], on="district", how="left"
    )
    assert len(c) == 343 and c["parent_district"].notna().all()
    official = beijing_census().set_index("district")["pop"]
    for parent, total in c.groupby("parent_district")["pop"].sum().items():
        assert total == pytest.approx(float(official[parent]), rel=1e-9)
    assert any("uniform density" in w for w in region.meta["warnings"])


def test_study_area_by_subdistrict_name(extract):
    spec = RegionSpec(osm=str(extract), boundaries=BEIJING_SUBDISTRICTS, zones="beijing",
                      study_area="学院路街道")  # fmt: skip
    region = workflow.load_region(spec)
    assert region.name == "学院路街道"
    assert list(region.boundaries["district"]) == ["学院路街道"]
    assert region.boundaries["zone_fine"].tolist() == ["central"]


def test_study_area_names_resolve_through_the_preset_without_boundaries(units):
    haidian = resolve_study_area("海淀区")
    expected = units[units["parent_district"] == "海淀区"].to_crs(32650).area.sum() / 1e6
    assert haidian.name == "海淀区" and haidian.area_km2() == pytest.approx(expected, rel=1e-3)
    # a unit by name without its suffix, by code, and two at once
    assert resolve_study_area("学院路").area_km2() == pytest.approx(
        resolve_study_area("110108010000").area_km2()
    )
    two = resolve_study_area("学院路街道,清华园街道")
    assert two.name == "学院路街道、清华园街道"
    assert two.area_km2() == pytest.approx(
        resolve_study_area("学院路街道").area_km2() + resolve_study_area("清华园街道").area_km2(),
        rel=1e-3,
    )
