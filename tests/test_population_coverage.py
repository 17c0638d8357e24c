"""Census and boundary totals respect coverage; complete admin areas and places scale their
demand; place checks say one line per settlement (issue 23, extracts built here).

Every extract has a street around the data box lon 10.000..10.010, lat 50.000..50.010
(so the data's extent, the bbox of its streets, buildings and landuse, is that box) and
houses inside it. The rule under test (geoapp.demand.scaling):

* a district covered 95 % or more by the data is scaled to its census total (or tag);
* a partly covered district is scaled to **total × the share of its area inside the
  data**, never the whole total, and a warning names it and that share;
* an admin boundary complete in the data and tagging ``population``, and a place whose
  own admin area is complete, scale the demand inside them (the finest level wins).

Shares are worked out here in an equal-area projection (EPSG:3035), independently of
the code's local UTM.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from osm_extract_builder import write_extract
from shapely.geometry import box

from geoapp.sources.osm_file import read_osm_file
from geoapp.workflow import prepare_demand

LON, LAT = 10.0, 50.0
DATA_BOX = (10.000, 50.000, 10.010, 50.010)
#: a district of which the data box covers its south-west 1 %: 10 × 10 boxes of its size
HUGE = (10.000, 50.000, 10.100, 50.100)
ADMIN8 = {"type": "boundary", "boundary": "administrative", "admin_level": "8"}


def _share_inside(district, extent) -> float:
    d = gpd.GeoSeries([box(*district)], crs=4326).to_crs(3035).iloc[0]
    e = gpd.GeoSeries([box(*extent)], crs=4326).to_crs(3035).iloc[0]
    return d.intersection(e).area / d.area


class _Builder:
    """Nodes, ways and relations of a test extract (lon/lat in degrees)."""

    def __init__(self) -> None:
        self.nodes: dict[int, tuple] = {}
        self.ways: list[tuple] = []
        self.relations: list[tuple] = []
        self._nid, self._wid = 1, 1000

    def node(self, lon: float, lat: float, tags: dict | None = None) -> int:
        self._nid += 1
        self.nodes[self._nid] = (lon, lat, tags or {})
        return self._nid

    def way(self, coords, tags) -> int:
        ids = [self.node(x, y) for x, y in coords]
        self._wid += 1
        self.ways.append((self._wid, ids, tags))
        return self._wid

    def ring(self, b, tags) -> int:
        """A closed way around the box ``b`` (west, south, east, north)."""
        w, s, e, n = b
        ids = [self.node(x, y) for x, y in ((w, s), (e, s), (e, n), (w, n))]
        self._wid += 1
        self.ways.append((self._wid, [*ids, ids[0]], tags))
        return self._wid

    def houses(self, b, step: float, tags: dict | None = None) -> int:
        """A house of 0.0002° × 0.0002° every ``step`` degrees inside ``b``; return the count."""
        w, s, e, n = b
        count = 0
        for x in np.arange(w + step / 2, e, step):
            for y in np.arange(s + step / 2, n, step):
                self.ring((x, y, x + 0.0002, y + 0.0002), tags or {"building": "house"})
                count += 1
        return count

    def write(self, path: Path) -> Path:
        return write_extract(path, self.nodes, self.ways, self.relations)


def _base(data_box: tuple = DATA_BOX) -> _Builder:
    b = _Builder()
    w, s, e, n = data_box
    b.way([(w, s), (e, s), (e, n), (w, n), (w, s)], {"highway": "residential", "name": "Ring"})
    return b


def _pops(demand, boxes: dict[str, tuple]) -> dict[str, float]:
    pts = demand.points
    return {k: float(pts.loc[pts.within(box(*b)), "pop"].sum()) for k, b in boxes.items()}


# ------------------------------------------------------------------- census coverage


@pytest.fixture(scope="module")
def census_run(tmp_path_factory):
    """Two districts: 'Whole' (lon 10.000..10.005, inside the data) and 'Huge' (the
    data covers 1 % of it: its part lon 10.005..10.010 is inside the data box)."""
    b = _base()
    b.houses((10.000, 50.000, 10.010, 50.010), 0.001)
    path = b.write(tmp_path_factory.mktemp("census") / "x.osm.pbf")
    region = read_osm_file(path)
    districts = gpd.GeoDataFrame(
        {
            "district": ["Whole", "Huge"],
            "district_code": ["W1", "H1"],
            "zone_type": ["core", "rural"],
            "zone_fine": "",
        },
        geometry=[box(10.000, 50.000, 10.005, 50.010), box(10.005, 49.91, 10.055, 50.010)],
        crs=4326,
    )
    census = pd.DataFrame(
        {
            "district_code": ["W1", "H1"],
            "district": ["Whole", "Huge"],
            "pop": [5_000, 1_000_000],
            "pop_60plus": [1_000, 300_000],
        }
    )
    region = region.with_(boundaries=districts, census=census)
    share = _share_inside((10.005, 49.91, 10.055, 50.010), DATA_BOX)
    return prepare_demand(region, cache=False), share


def test_a_district_covered_one_percent_gets_one_percent_of_its_census_total(census_run):
    # rule: census total × the share of the district's area inside the data
    demand, share = census_run
    assert share == pytest.approx(0.01, rel=0.02)  # the layout is what the test says
    by = demand.points.groupby("district")[["pop", "pop_60plus"]].sum()
    assert by.loc["Huge", "pop"] == pytest.approx(1_000_000 * share, rel=1e-3)
    assert by.loc["Huge", "pop"] < 20_000  # never the whole 1,000,000
    # the census's own 60+ share still applies (30 %)
    assert by.loc["Huge", "pop_60plus"] == pytest.approx(0.3 * by.loc["Huge", "pop"])
    assert demand.census_scaled and demand.control_totals == "census"


def test_a_fully_covered_district_gets_all_of_its_census_total(census_run):
    demand, _ = census_run
    by = demand.points.groupby("district")["pop"].sum()
    assert by["Whole"] == pytest.approx(5_000)


def test_the_warning_names_the_district_and_its_covered_share(census_run):
    demand, _ = census_run
    lines = [w for w in demand.warnings if "'Huge'" in w]
    assert len(lines) == 1
    assert "1.0%" in lines[0] and "1,000,000" in lines[0] and "not applied whole" in lines[0]
    assert not any("'Whole'" in w for w in demand.warnings)


def test_the_same_rule_serves_a_boundary_population_tag(tmp_path):
    """--admin-level 8: relation 'Huge' is complete in the file (its far corners are
    nodes of the file) and tags 1,000,000; the data (streets, houses) covers 1 % of it."""
    b = _base()
    b.houses(DATA_BOX, 0.001)
    w, s, e, n = HUGE
    ways = [b.way(seg, ADMIN8) for seg in (
        [(w, s), (e, s)], [(e, s), (e, n)], [(e, n), (w, n)], [(w, n), (w, s)])]  # fmt: skip
    for k in range(3):  # join the ring: consecutive ways share their end nodes
        b.ways[-3 + k][1][0] = b.ways[-4 + k][1][-1]
    b.ways[-4][1][0] = b.ways[-1][1][-1]
    b.relations.append(
        (1, [("w", x, "outer") for x in ways], {**ADMIN8, "name": "Huge", "population": "1000000"})
    )
    path = b.write(tmp_path / "huge.osm.pbf")
    share = _share_inside(HUGE, DATA_BOX)
    with_level = read_osm_file(path, admin_level=8)
    assert with_level.boundaries["district"].tolist() == ["Huge"]
    demand = prepare_demand(with_level, cache=False)
    assert demand.total == pytest.approx(1_000_000 * share, rel=1e-3)
    assert any("'Huge'" in x and f"{share:.1%}" in x for x in demand.warnings)
    # without --admin-level the relation is an admin area, but not covered: not used
    plain = prepare_demand(read_osm_file(path), cache=False)
    assert plain.control_totals == "" and plain.total < 0.5 * demand.total


# ------------------------------------------------------- complete areas, places


def _nested(path: Path) -> tuple[Path, dict[str, tuple]]:
    """'Town' (relation 10, admin_level 8, population 2,000) covers the west half of the
    data box; inside it 'Dorf' (relation 11, admin_level 9, no tag) is the admin area of
    the village node 'Dorf' (population 800, its admin_centre). Houses everywhere."""
    b = _base()
    b.houses(DATA_BOX, 0.001)
    town, dorf = (10.0, 50.0, 10.005, 50.010), (10.0, 50.0, 10.0025, 50.005)
    rt = b.ring(town, {"boundary": "administrative", "admin_level": "8"})
    rd = b.ring(dorf, {"boundary": "administrative", "admin_level": "9"})
    village = b.node(10.001, 50.002, {"place": "village", "name": "Dorf", "population": "800"})
    b.relations += [
        (10, [("w", rt, "outer")], {**ADMIN8, "name": "Town", "population": "2000"}),
        (11, [("w", rd, "outer"), ("n", village, "admin_centre")],
         {**ADMIN8, "admin_level": "9", "name": "Dorf"}),
    ]  # fmt: skip
    boxes = {"town": town, "dorf": dorf, "east": (10.005, 50.0, 10.010, 50.010)}
    return b.write(path), boxes


def test_complete_tagged_boundary_and_place_area_scale_their_demand(tmp_path):
    path, boxes = _nested(tmp_path / "nested.osm.pbf")
    region = read_osm_file(path)  # no --admin-level
    assert set(region.admin_areas["osm_id"]) == {"relation/10", "relation/11"}
    raw = prepare_demand(region.with_(admin_areas=region.admin_areas.iloc[:0]), cache=False)
    demand = prepare_demand(region, cache=False)
    got, before = _pops(demand, boxes), _pops(raw, boxes)
    assert got["dorf"] == pytest.approx(800.0)  # the place's own area, to its tag
    assert got["town"] == pytest.approx(2_000.0)  # its tag; Dorf's 800 inside it kept
    assert got["east"] == pytest.approx(before["east"])  # outside both: as estimated
    assert demand.control_totals == "admin areas"
    line = next(a for a in demand.assumptions if "complete admin area" in a)
    assert "'Town'" in line and "'Dorf'" in line
    # the village was scaled to its tag: no warning about it
    assert not any("'Dorf'" in w for w in demand.warnings)


def test_a_place_scaled_through_its_district_stops_warning(tmp_path):
    """--admin-level 8: district 'Town' tags 2,000 and the town node 'Town' says 2,000.
    Its 2,500 m circle would hold the whole data box (twice the district's demand);
    measured in its district it holds exactly its tag."""
    b = _base()
    b.houses(DATA_BOX, 0.001)
    town = (10.0, 50.0, 10.005, 50.010)
    rt = b.ring(town, {"boundary": "administrative", "admin_level": "8"})
    b.node(10.002, 50.005, {"place": "town", "name": "Town", "population": "2000"})
    b.relations.append((10, [("w", rt, "outer")], {**ADMIN8, "name": "Town", "population": "2000"}))
    region = read_osm_file(b.write(tmp_path / "t.osm.pbf"), admin_level=8)
    demand = prepare_demand(region, cache=False)
    assert _pops(demand, {"t": town})["t"] == pytest.approx(2_000.0)
    assert not any("Place 'Town'" in w for w in demand.warnings)


def test_two_places_named_the_same_are_one_settlement_and_one_line(tmp_path):
    """A city node and a town node, both 'Twin' and 300 m apart, tag 1,000,000: far above
    the estimate. One warning, never two that split the demand."""
    b = _base()
    b.houses(DATA_BOX, 0.001)
    tags = {"name": "Twin", "population": "1000000"}
    b.node(10.004, 50.005, {"place": "city", **tags})
    b.node(10.008, 50.005, {"place": "town", **tags})
    demand = prepare_demand(read_osm_file(b.write(tmp_path / "twin.osm.pbf")), cache=False)
    lines = [w for w in demand.warnings if "'Twin'" in w]
    assert len(lines) == 1
    assert "(city," in lines[0] and "2 places of this name counted as one" in lines[0]
    assert f"estimate {demand.total:,.0f} residents" in lines[0]  # all of it, not a split


def test_a_city_wholly_inside_the_extract_is_not_blamed_on_a_clip(tmp_path):
    """The city's houses fill lon 10.013..10.017, lat 50.013..50.017, in the middle of a
    data box of lon 10.00..10.03, lat 50.00..50.03 (900 m and more from its edge); its
    5 km circle reaches far beyond the data, but the city does not."""
    b = _base((10.0, 50.0, 10.03, 50.03))
    b.houses((10.013, 50.013, 10.017, 50.017), 0.0005)
    b.node(10.015, 50.015, {"place": "city", "name": "Mitte", "population": "500000"})
    demand = prepare_demand(read_osm_file(b.write(tmp_path / "mitte.osm.pbf")), cache=False)
    (line,) = [w for w in demand.warnings if "'Mitte'" in w]
    assert "clipped" not in line and "likely cause" in line
    # the same houses reaching the data's edge: the clip is named
    b2 = _base()
    b2.houses(DATA_BOX, 0.0005)
    b2.node(10.005, 50.005, {"place": "city", "name": "Mitte", "population": "500000"})
    cut = prepare_demand(read_osm_file(b2.write(tmp_path / "cut.osm.pbf")), cache=False)
    (line2,) = [w for w in cut.warnings if "'Mitte'" in w]
    assert "a clipped extract" in line2
