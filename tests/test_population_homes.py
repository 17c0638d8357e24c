"""Who lives where (issue 23, homes): homes only, village density, ages by country.

Extracts are written in the test with pyosmium (``tests/osm_extract_builder.py``) and read
by the readers users run, so the building tags, the POIs inside footprints and the
landuse reach :mod:`geoapp.demand` the way they do on real data. Expected figures are
worked out by hand below each test.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from osm_extract_builder import write_extract
from pyproj import Transformer
from shapely.geometry import Point, box

from geoapp.demand import DemandOptions, estimate_population
from geoapp.demand.housing import (
    EXCLUSION_COLUMNS,
    VILLAGE_LEVELS,
    classify_buildings,
    use_kind,
)
from geoapp.demand.landuse import LANDUSE_DENSITY_BY_CLASS, place_class
from geoapp.demand.profile import age_table, country_ages
from geoapp.sources.osm_file import read_osm_file

# a local metric frame near Helsinki (UTM 35N): x, y in metres from (X0, Y0)
UTM35 = "EPSG:32635"
X0, Y0 = 385_000.0, 6_670_000.0  # about 24.94 E, 60.15 N
_TO_LL = Transformer.from_crs(UTM35, 4326, always_xy=True)
M2 = 40.0  # the world profile's floor area per person (Helsinki lies outside China)


class _Osm:
    """Collect nodes and ways given in local metres; write them with osmium."""

    def __init__(self) -> None:
        self.nodes: dict[int, tuple] = {}
        self.ways: list[tuple[int, list[int], dict[str, str]]] = []
        self._nid = 1
        self._wid = 1

    def node(self, x: float, y: float, tags: dict[str, str] | None = None) -> int:
        lon, lat = _TO_LL.transform(X0 + x, Y0 + y)
        nid = self._nid
        self._nid += 1
        self.nodes[nid] = (lon, lat, tags) if tags else (lon, lat)
        return nid

    def rect(self, x0: float, y0: float, x1: float, y1: float, tags: dict[str, str]) -> str:
        ids = [self.node(x0, y0), self.node(x1, y0), self.node(x1, y1), self.node(x0, y1)]
        wid = self._wid
        self._wid += 1
        self.ways.append((wid, [*ids, ids[0]], tags))
        return f"way/{wid}"

    def street(self, x0: float, y0: float, x1: float, y1: float) -> None:
        wid = self._wid
        self._wid += 1
        self.ways.append((wid, [self.node(x0, y0), self.node(x1, y1)], {"highway": "residential"}))

    def write(self, path):
        return write_extract(path, self.nodes, self.ways)


def _area(way_rect: tuple[float, float, float, float]) -> float:
    x0, y0, x1, y1 = way_rect
    return (x1 - x0) * (y1 - y0)


# ----------------------------------------------------------------------------- homes only


def _homes_extract(tmp_path, suffix: str):
    """Houses along a street, and next to them the buildings that hold nobody.

    Every building is 20 m x 20 m (400 m²) and lies within 50 m of a house, so an
    untagged one would count as a home by the evidence rules (near a home) if its use
    did not exclude it.
    """
    o = _Osm()
    o.street(-50, -30, 1000, -30)
    ids = {}
    for i in range(4):  # four tagged houses, 2 levels: 400 x 2 / 40 = 20 residents each
        ids[f"house{i}"] = o.rect(
            i * 30, 0, i * 30 + 20, 20, {"building": "house", "building:levels": "2"}
        )
    x = 120

    def b(name: str, tags: dict[str, str], poi: dict[str, str] | None = None) -> None:
        nonlocal x
        ids[name] = o.rect(x, 0, x + 20, 20, tags)
        if poi:
            o.node(x + 10, 10, poi)  # a node inside the footprint
        x += 30

    b("fort_value", {"building": "fort"})
    b("fort_tag", {"building": "yes", "historic": "fort"})
    b("church_value", {"building": "church"})
    b("church_tag", {"building": "yes", "amenity": "place_of_worship"})
    b("hotel_value", {"building": "hotel"})
    b("hotel_tag", {"building": "yes", "tourism": "hotel"})
    b("hotel_poi", {"building": "yes"}, {"tourism": "hotel", "name": "Hotel"})
    b("casino_tag", {"building": "yes", "amenity": "casino"})
    b("casino_poi", {"building": "yes", "building:levels": "2"}, {"amenity": "casino"})
    # shops below, flats above: 5 levels, the bakery takes one: 400 x 4 / 40 = 40
    b("flats_shop", {"building": "apartments", "building:levels": "5", "shop": "bakery"})
    # an untagged 4-level block with a shop node inside: 400 x 3 / 40 = 30
    b("block_shop_poi", {"building": "yes", "building:levels": "4"}, {"shop": "clothes"})
    # a care home keeps its residents: 400 x 2 / 40 = 20
    b("care_home", {"building": "yes", "building:levels": "2", "amenity": "social_facility",
                    "social_facility": "nursing_home"})  # fmt: skip
    # an ATM or a memorial plaque inside a house says nothing of its use: 20 residents
    b("house_atm", {"building": "house", "building:levels": "2"}, {"amenity": "atm"})
    b("yes_plaque", {"building": "yes", "building:levels": "2"}, {"historic": "memorial"})
    # an untagged building in industrial landuse, 20 m from a house
    o.rect(x - 5, -10, x + 60, 40, {"landuse": "industrial"})
    b("industrial", {"building": "yes", "building:levels": "2"})
    path = o.write(tmp_path / f"homes{suffix}")
    return path, ids


@pytest.fixture(scope="module", params=[".osm.pbf", ".osm"])
def homes_region(request, tmp_path_factory):
    path, ids = _homes_extract(tmp_path_factory.mktemp("homes"), request.param)
    return read_osm_file(path, cache=False), ids


NOBODY = ("fort_value", "fort_tag", "church_value", "church_tag", "hotel_value", "hotel_tag",
          "hotel_poi", "casino_tag", "casino_poi", "industrial")  # fmt: skip


def test_fort_church_hotel_casino_hold_nobody(homes_region):
    region, ids = homes_region
    dem = estimate_population(region.buildings, None, landuse=region.landuse,
                              features=region.features)  # fmt: skip
    pop = dem.points.set_index("building_id")["pop"]
    for name in NOBODY:
        assert ids[name] not in pop.index, name  # no demand point: 0 residents
    # the houses and the care home: 400 m² x 2 levels / 40 m² = 20 residents each
    for name in ("house0", "house1", "house2", "house3", "care_home", "house_atm", "yes_plaque"):
        assert pop[ids[name]] == pytest.approx(20.0, rel=2e-3), name
    # mixed use keeps its upper floors: (5 - 1) x 400 / 40 = 40 and (4 - 1) x 400 / 40 = 30
    assert pop[ids["flats_shop"]] == pytest.approx(40.0, rel=2e-3)
    assert pop[ids["block_shop_poi"]] == pytest.approx(30.0, rel=2e-3)
    assert dem.total == pytest.approx(7 * 20 + 40 + 30, rel=2e-3)
    # data_quality says how many were excluded and why (one district: the whole region)
    q = dem.quality.iloc[0]
    assert q["excluded_buildings"] == len(NOBODY)
    assert q["excluded_by_building_value"] == 3  # fort, church, hotel values
    assert q["excluded_by_tag"] == 4  # historic=fort, place_of_worship, tourism=hotel, casino
    assert q["excluded_by_poi"] == 2  # the hotel and casino nodes inside
    assert q["excluded_by_landuse"] == 1
    assert q["mixed_use_buildings"] == 2
    assert set(EXCLUSION_COLUMNS) <= set(dem.quality.columns)
    note = next(a for a in dem.assumptions if "non-residential buildings" in a)
    assert note.startswith("10 non-residential buildings hold no residents")
    assert "amenity=casino" in note and "landuse=industrial" in note


def test_readers_carry_the_use_tags_and_pois(homes_region):
    region, ids = homes_region
    b = region.buildings.set_index("building_id")
    assert b.loc[ids["fort_tag"], "historic"] == "fort"
    assert b.loc[ids["casino_poi"], "pois"] == "amenity=casino"
    assert b.loc[ids["hotel_poi"], "pois"] == "tourism=hotel"
    assert b.loc[ids["house0"], "pois"] is None
    assert set(region.landuse["landuse"]) == {"industrial"}


def test_pyrosm_reader_gives_the_same_buildings(tmp_path):
    path, _ = _homes_extract(tmp_path, ".osm.pbf")
    a = read_osm_file(path, reader="osmium", cache=False).buildings
    b = read_osm_file(path, reader="pyrosm", cache=False).buildings
    cols = [c for c in a.columns if c != "geometry"]
    assert list(a.columns) == list(b.columns)
    assert a[cols].astype(str).equals(b[cols].astype(str))


def test_use_kind_rules():
    assert use_kind({"amenity": "casino"}, own=False) == "whole"
    assert use_kind({"amenity": "atm"}, own=False) == ""  # an ATM in a house: nothing
    assert use_kind({"amenity": "atm"}, own=True) == "whole"  # a building tagged atm
    assert use_kind({"shop": "bakery"}, own=True) == "ground"
    assert use_kind({"shop": "supermarket"}, own=True) == "whole"
    assert use_kind({"shop": "supermarket"}, own=False) == "ground"  # under flats
    assert use_kind({"office": "company"}, own=True) == "whole"
    assert use_kind({"office": "company"}, own=False) == "ground"
    assert use_kind({"historic": "building"}, own=True) == ""  # a historic house
    assert use_kind({"historic": "memorial"}, own=False) == ""  # a plaque
    assert use_kind({"amenity": "social_facility", "social_facility": "nursing_home"}, True) == (
        "home"
    )
    assert use_kind({"amenity": "social_facility", "social_facility": "food_bank"}, True) == (
        "whole"
    )
    assert use_kind({"building:use": "residential;retail"}, own=True) == "home"


def test_explicit_home_in_industrial_landuse_stays_a_home():
    """A house (building=house) in industrial landuse is the caretaker's: kept."""
    sq = box(X0, Y0, X0 + 20, Y0 + 20)
    b = gpd.GeoDataFrame(
        {"building_id": ["a", "b"], "building": ["house", "yes"], "levels": [1.0, 1.0]},
        geometry=[sq, shapely.affinity.translate(sq, 30, 0)],
        crs=UTM35,
    ).to_crs(4326)
    area = box(X0 - 10, Y0 - 10, X0 + 60, Y0 + 30)
    lu = gpd.GeoDataFrame({"landuse": ["industrial"]}, geometry=[area], crs=UTM35).to_crs(4326)
    d = classify_buildings(b, lu)
    assert d.housing.tolist() == [True, False]
    assert d.reason.tolist() == ["", "landuse"] and d.detail[1] == "landuse=industrial"


def test_mixed_use_of_one_level_houses_nobody():
    """Shops below, flats above: a one-level shop has no floor above for anyone."""
    sq = box(X0, Y0, X0 + 20, Y0 + 20)
    b = gpd.GeoDataFrame(
        {"building_id": ["one", "two"], "building": ["house", "house"], "levels": [1.0, 2.0],
         "shop": ["bakery", "bakery"]},
        geometry=[sq, shapely.affinity.translate(sq, 30, 0)],
        crs=UTM35,
    ).to_crs(4326)  # fmt: skip
    d = classify_buildings(b)
    assert d.housing.tolist() == [False, True]
    assert d.upper_only.tolist() == [False, True]
    assert d.reason[0] == "tag" and d.detail[0] == "shop=bakery"
    dem = estimate_population(b, None)
    assert dem.points["building_id"].tolist() == ["two"]
    assert dem.total == pytest.approx(400 * 1 / M2, rel=5e-3)  # (2 - 1) levels x 400 m²


def test_buildings_with_the_same_tags_are_judged_alike_and_on_their_own():
    """Repeated tag sets (own use or POIs): each building gets its set's decision."""
    sq = box(X0, Y0, X0 + 20, Y0 + 20)
    own = ["school", "school", " School ", "school", None, None, None]
    pois = [None, None, None, None, "amenity=nursing_home", "amenity=nursing_home", "shop=dry"]
    b = gpd.GeoDataFrame(
        {"building_id": list("abcdefg"), "levels": [2.0] * 7, "amenity": own, "pois": pois,
         "building": ["yes", "yes", "yes", "house", "yes", "yes", "apartments"]},
        geometry=[shapely.affinity.translate(sq, 30 * i, 0) for i in range(7)],
        crs=UTM35,
    ).to_crs(4326)  # fmt: skip
    d = classify_buildings(b)
    # a school fills an untagged building (a-c, the third tagged " School "), not a house
    # (d: its upper floor is a home); a nursing home is a home (e, f); a shop POI in flats
    # takes the ground floor (g)
    assert d.reason.tolist() == ["tag", "tag", "tag", "", "", "", ""]
    assert d.detail.tolist()[:3] == ["amenity=school"] * 3
    assert d.housing.tolist() == [False, False, False, True, True, True, True]
    assert d.upper_only.tolist() == [False, False, False, True, False, False, True]


# ------------------------------------------------------------------- villages at village density


def _village_extract(tmp_path, place: str, homes: bool):
    """A residential landuse polygon 400 m x 200 m beside a ``place`` node.

    With ``homes``: 25 houses (10 m x 10 m, one level) fill its west half on a 40 m grid,
    so the plots around them (25 m) cover the west half entirely and its east half
    (200 m x 200 m) is the unbuilt part.
    """
    o = _Osm()
    o.node(200, 300, {"place": place, "name": "Testby"})
    o.street(-30, -30, 430, -30)
    o.rect(0, 0, 400, 200, {"landuse": "residential"})
    for i in range(5 if homes else 0):
        for j in range(5):
            x, y = 5 + 40 * i, 5 + 40 * j
            o.rect(x, y, x + 10, y + 10, {"building": "house", "building:levels": "1"})
    # an untagged house without levels, 2 km away from the landuse and the place
    o.rect(2000, 0, 2010, 10, {"building": "house"})
    return read_osm_file(o.write(tmp_path / f"{place}.osm.pbf"), cache=False)


@pytest.mark.parametrize(
    ("place", "density"), [("village", 4_800.0), ("town", 7_200.0), ("city", 10_000.0)]
)
def test_empty_residential_landuse_is_filled_at_its_settlement_class(tmp_path, place, density):
    """No homes anywhere near: the class density (Statistics Netherlands' residential area
    per resident: village 209 m², town 139 m², city 100 m²)."""
    region = _village_extract(tmp_path, place, homes=False)
    dem = estimate_population(region.buildings, None, landuse=region.landuse,
                              features=region.features)  # fmt: skip
    lu = dem.points[dem.points["pop_source"] == "landuse"]
    # 0.08 km² x the class density: village 384, town 576, city 800 residents
    assert lu["pop"].sum() == pytest.approx(0.08 * density, rel=5e-3)
    assert LANDUSE_DENSITY_BY_CLASS[place] == density
    note = next(a for a in dem.assumptions if "residential landuse" in a)
    assert f"at the {place} density" in note


def test_village_landuse_is_filled_at_the_density_of_its_homes(tmp_path):
    """The unbuilt east half at the density of the 25 homes mapped in the west half.

    Homes: 25 x 100 m² x 1 level / 40 m² = 62.5 residents. The unbuilt part is the east
    half opened by 25 m: 200 m x 200 m less its four rounded corners, (4 - pi) x 25² =
    536.5 m², so 39,463.5 m²; the built part is the rest of the 80,000 m² polygon,
    40,536.5 m². Density 62.5 / 0.0405365 km² = 1,542 residents per km² (below the
    village figure, 4,800, so not capped): the unbuilt part gets 0.0394635 x 1,542 =
    60.85 residents, where a flat 10,000 per km² gave 394.6.
    """
    region = _village_extract(tmp_path, "village", homes=True)
    dem = estimate_population(region.buildings, None, landuse=region.landuse,
                              features=region.features)  # fmt: skip
    pts = dem.points
    homes = pts[pts["pop_source"] == "building"]
    lu = pts[pts["pop_source"] == "landuse"]
    # the 25 homes and the lone house 2 km away (100 m² x 2 levels / 40 m² = 5)
    assert homes["pop"].sum() == pytest.approx(62.5 + 5.0, rel=5e-3)
    assert lu["pop"].sum() == pytest.approx(62.5 * 39_463.5 / 40_536.5, rel=1e-2)
    assert any("density of the homes mapped in it" in a for a in dem.assumptions)
    # a flat figure, given by the caller, still applies everywhere
    flat = estimate_population(region.buildings, None, landuse=region.landuse,
                               features=region.features,
                               options=DemandOptions(landuse_density_per_km2=10_000.0))  # fmt: skip
    flat_lu = flat.points[flat.points["pop_source"] == "landuse"]
    assert flat_lu["pop"].sum() == pytest.approx(0.0394635 * 10_000, rel=1e-2)


def test_untagged_homes_in_villages_default_to_village_heights(tmp_path):
    """A house without levels: 1.5 levels in a village, 2 elsewhere (100 m² footprint)."""
    o = _Osm()
    o.node(0, 0, {"place": "village", "name": "Near"})
    near = o.rect(10, 10, 20, 20, {"building": "house"})  # in the village
    far = o.rect(3000, 10, 3010, 20, {"building": "house"})  # 3 km out: no place
    o.node(6000, 0, {"place": "town", "name": "Town"})
    o.node(6100, 0, {"place": "village", "name": "Suburb"})  # inside the town's radius
    sub = o.rect(6110, 10, 6120, 20, {"building": "house"})
    region = read_osm_file(o.write(tmp_path / "heights.osm.pbf"), cache=False)
    dem = estimate_population(region.buildings, None, features=region.features)
    pop = dem.points.set_index("building_id")["pop"]
    assert pop[near] == pytest.approx(100 * VILLAGE_LEVELS / M2, rel=5e-3)  # 3.75
    assert pop[far] == pytest.approx(100 * 2 / M2, rel=5e-3)  # 5
    assert pop[sub] == pytest.approx(100 * 2 / M2, rel=5e-3)  # the town wins: 5
    assert any("in villages: 1.5" in a for a in dem.assumptions)


def test_place_class_prefers_the_larger_settlement():
    pts = gpd.GeoSeries([Point(0, 0), Point(0, 900), Point(0, 4000), Point(0, 12_000)], crs=UTM35)
    feats = gpd.GeoDataFrame(
        {"place": ["village", "city"], "name": ["V", "C"]},
        geometry=[Point(0, 0), Point(0, 4500)],
        crs=UTM35,
    ).to_crs(4326)
    got = place_class(pts.to_crs(4326).to_numpy(), feats)
    # (0, 0): the village and the city (4.5 km, radius 5 km) reach it: the city wins
    assert got.tolist() == ["city", "city", "city", ""]


# ------------------------------------------------------------------------- ages by country


HELSINKI, SAO_PAULO = Point(24.94, 60.17), Point(-46.63, -23.55)


def test_share_60plus_by_country_of_each_point():
    """UN WPP 2024, 1 July 2025: Finland 30.69 %, Brazil 16.62 % aged 60+."""
    ages = country_ages(np.array([HELSINKI, SAO_PAULO], dtype=object))
    assert ages.iso3.tolist() == ["FIN", "BRA"]
    assert ages.share_60plus.tolist() == pytest.approx([0.3069, 0.1662])
    assert ages.share_65plus.tolist() == pytest.approx([0.2420, 0.1148])
    assert not ages.warnings


@pytest.mark.slow
def test_estimate_applies_each_points_country_share():
    def house(pt: Point) -> gpd.GeoDataFrame:
        utm = gpd.GeoSeries([pt], crs=4326).estimate_utm_crs()
        c = gpd.GeoSeries([pt], crs=4326).to_crs(utm).iloc[0]
        sq = box(c.x - 10, c.y - 10, c.x + 10, c.y + 10)
        return gpd.GeoSeries([sq], crs=utm).to_crs(4326).iloc[0]

    b = gpd.GeoDataFrame(
        {"building_id": ["fi", "br"], "building": ["house", "house"], "levels": [1.0, 1.0]},
        geometry=[house(HELSINKI), house(SAO_PAULO)],
        crs=4326,
    )
    dem = estimate_population(b, None)
    p = dem.points.set_index("building_id")
    assert p.loc["fi", "pop_60plus"] == pytest.approx(0.3069 * p.loc["fi", "pop"])
    assert p.loc["br", "pop_60plus"] == pytest.approx(0.1662 * p.loc["br", "pop"])
    assert {c["iso3"] for c in dem.profile["countries"]} == {"FIN", "BRA"}
    assert "World Population Prospects 2024" in dem.profile["source"]
    json.dumps(dem.profile)  # goes into metadata.json as it is
    # the caller's share wins over the country's
    given = estimate_population(b, None, options=DemandOptions(share_60plus=0.3)).points
    assert given["pop_60plus"].sum() == pytest.approx(0.3 * given["pop"].sum())
    # a profile file or dict that sets a share keeps it
    own = estimate_population(b, None, options=DemandOptions(profile={"share_60plus": 0.25}))
    assert own.points["pop_60plus"].sum() == pytest.approx(0.25 * own.points["pop"].sum())


def test_a_point_in_no_country_takes_the_world_share_with_a_warning():
    world = float(age_table().loc["WLD", "share_60plus"])
    assert world == pytest.approx(0.1485)  # WPP 2024, 1 July 2025
    ages = country_ages(np.array([Point(-30.0, 0.0), Point(0.0, -85.0)], dtype=object))
    # mid-Atlantic: no country within 50 km; Antarctica: a polygon without WPP figures
    assert ages.iso3.tolist() == ["", "ATA"]
    assert ages.share_60plus.tolist() == pytest.approx([world, world])
    assert any("Antarctica" in w for w in ages.warnings)
    assert any("no country" in w for w in ages.warnings)


def test_a_coastal_point_off_the_coarse_coastline_takes_the_nearest_country():
    # Helsinki's Suomenlinna fortress islands lie off Natural Earth's 1:110m coast
    ages = country_ages(np.array([Point(24.985, 60.145)], dtype=object))
    assert ages.iso3.tolist() == ["FIN"]


def test_census_share_wins_over_the_country():
    """A census giving 400 of 1,000 aged 60+: 40 %, not Finland's 30.69 %."""
    b = gpd.GeoDataFrame(
        {"building_id": ["a"], "building": ["house"], "levels": [1.0]},
        geometry=[box(X0, Y0, X0 + 20, Y0 + 20)],
        crs=UTM35,
    ).to_crs(4326)
    districts = gpd.GeoDataFrame(
        {"district": ["Kamppi"], "district_code": ["101"], "zone_type": ["core"],
         "zone_fine": [""]},
        geometry=[box(X0 - 100, Y0 - 100, X0 + 100, Y0 + 100)],
        crs=UTM35,
    ).to_crs(4326)  # fmt: skip
    c = pd.DataFrame({"district_code": ["101"], "district": ["Kamppi"], "pop": [1000],
                      "pop_60plus": [400]})  # fmt: skip
    d = estimate_population(b, districts, census=c).points
    assert d["pop"].sum() == pytest.approx(1000.0)
    assert d["pop_60plus"].sum() == pytest.approx(400.0)


# ----------------------------------------------------------------------------------- CLI


@pytest.mark.slow
def test_cli_share_60plus_changes_pop_60plus(tmp_path):
    from geoapp.cli import main

    o = _Osm()
    o.street(-50, -30, 500, -30)
    for i in range(5):
        o.rect(i * 40, 0, i * 40 + 20, 20, {"building": "house", "building:levels": "2"})
    o.node(100, -60, {"amenity": "social_facility", "social_facility": "nursing_home",
                      "social_facility:for": "senior"})  # fmt: skip
    path = o.write(tmp_path / "cli.osm.pbf")
    runs = {}
    for name, extra in (("default", []), ("given", ["--share-60plus", "0.3"])):
        out = tmp_path / name
        args = ["coverage", "--osm", str(path), "--layer", "elderly_care", "--out", str(out)]
        assert main([*args, *extra, "-q"]) == 0
        runs[name] = gpd.read_file(out / "demand.geojson")
    d, g = runs["default"], runs["given"]
    assert d["pop"].sum() == pytest.approx(g["pop"].sum())
    assert d["pop_60plus"].sum() == pytest.approx(0.3069 * d["pop"].sum(), rel=1e-6)  # Finland
    assert g["pop_60plus"].sum() == pytest.approx(0.3 * g["pop"].sum(), rel=1e-6)
    meta = json.loads((tmp_path / "given" / "metadata.json").read_text())
    assert meta["population_profile"]["share_60plus"] == pytest.approx(0.3)


def test_cli_rejects_a_share_outside_0_1(tmp_path):
    from geoapp.cli import main

    args = ["coverage", "--region", "demo", "--layer", "elderly_care", "--out", str(tmp_path)]
    assert main([*args, "--share-60plus", "1.5", "-q"]) == 2
