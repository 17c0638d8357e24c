"""Admin boundaries of clipped extracts, and place/population tags (extracts built here).

The extract's box is lon 9.995..10.040, lat 49.995..50.025 (in its header, as
``osmium extract`` writes it). Three admin_level=8 relations:

* ``Alpha`` (relation 1): a complete square, lon 10.000..10.020, lat 50.000..50.020,
  ``population=12,345``;
* ``Beta`` (relation 2): the square lon 10.020..10.060 east of it, cut by the box's
  east edge: its north and south ways end at lon 10.0398 (the nodes beyond are not in
  the file) and its east way is missing; ``population=ca. 5000``;
* ``Gamma`` (relation 3): a small square lon 10.005..10.015, lat 50.021..50.024 whose
  north way is missing, inside the box (not on its edge).
"""

from __future__ import annotations

import numpy as np
import pytest
from osm_extract_builder import write_extract

from geoapp.region import META_WARNINGS, OUTSIDE_DISTRICTS
from geoapp.sources.boundaries import osm_admin_boundaries, parse_population
from geoapp.sources.osm_file import read_osm_file

BBOX = (9.995, 49.995, 10.040, 50.025)
LON, LAT = 10.0, 50.0


def _extract():
    nodes = {}

    def n(i, x, y, tags=None):
        nodes[i] = (LON + x, LAT + y, tags or {})

    # Alpha corners 1..4; Beta's inside nodes 5, 6 (on x=0.0398)
    n(1, 0.000, 0.000), n(2, 0.020, 0.000), n(3, 0.020, 0.020), n(4, 0.000, 0.020)
    n(5, 0.0398, 0.020), n(6, 0.0398, 0.000)
    # Gamma corners 11..14 (north side 13-14 missing)
    n(11, 0.005, 0.021), n(12, 0.015, 0.021), n(13, 0.015, 0.024), n(14, 0.005, 0.024)
    # places
    n(50, 0.010, 0.010, {"place": "village", "name": "Vill", "population": "1200"})
    n(51, 0.030, 0.010, {"place": "suburb", "name": "Sub"})
    n(52, 0.012, 0.012, {"amenity": "bench"})  # matches no layer, no place: not kept
    ways = [
        (101, [1, 2], {"boundary": "administrative", "admin_level": "8"}),  # A south
        (102, [2, 3], {"boundary": "administrative", "admin_level": "8"}),  # A/B shared
        (103, [3, 4], {"boundary": "administrative", "admin_level": "8"}),  # A north
        (104, [4, 1], {"boundary": "administrative", "admin_level": "8"}),  # A west
        (105, [3, 5, 900], {"boundary": "administrative", "admin_level": "8"}),  # B north, cut
        (106, [2, 6, 901], {"boundary": "administrative", "admin_level": "8"}),  # B south, cut
        (111, [11, 12], {"boundary": "administrative", "admin_level": "8"}),
        (112, [12, 13], {"boundary": "administrative", "admin_level": "8"}),
        (114, [14, 11], {"boundary": "administrative", "admin_level": "8"}),
        (200, [1, 2, 6], {"highway": "residential", "name": "South Road"}),
    ]
    nid, wid = 1000, 3000
    for x, y in ((0.004, 0.004), (0.014, 0.006), (0.030, 0.004), (0.032, 0.015),
                 (0.007, 0.022), (0.011, 0.0225)):  # fmt: skip
        ids = []
        for dx, dy in ((0, 0), (0.0003, 0), (0.0003, 0.0003), (0, 0.0003)):
            n(nid, x + dx, y + dy)
            ids.append(nid)
            nid += 1
        ways.append((wid, [*ids, ids[0]], {"building": "house"}))
        wid += 1
    # a place area (closed way) with no layer tag either
    n(60, 0.001, 0.001), n(61, 0.003, 0.001), n(62, 0.003, 0.003)
    ways.append((400, [60, 61, 62, 60], {"place": "hamlet", "name": "Ham", "population": "12 345"}))
    admin = {"type": "boundary", "boundary": "administrative", "admin_level": "8"}
    relations = [
        (1, [("w", w, "outer") for w in (101, 102, 103, 104)] + [("n", 50, "admin_centre")],
         {**admin, "name": "Alpha", "population": "12,345", "ref": "A1"}),
        (2, [("w", w, "outer") for w in (102, 105, 902, 106)],
         {**admin, "name": "Beta", "population": "ca. 5000"}),
        (3, [("w", w, "outer") for w in (111, 112, 113, 114)], {**admin, "name": "Gamma"}),
    ]  # fmt: skip
    return nodes, ways, relations


@pytest.fixture(scope="module", params=["osm", "osm.pbf"])
def region(request, tmp_path_factory):
    nodes, ways, relations = _extract()
    path = tmp_path_factory.mktemp("admin") / f"x.{request.param}"
    write_extract(path, nodes, ways, relations, bbox=BBOX)
    return read_osm_file(path, admin_level=8)


def test_complete_and_edge_closed_relations_are_districts(region):
    b = region.boundaries.set_index("district")
    assert set(b.index) == {"Alpha", "Beta"}
    local = region.boundaries.to_crs(region.boundaries.estimate_utm_crs())
    area = dict(zip(region.boundaries["district"], local.area / 1e6, strict=True))
    # Alpha: 0.020 deg x 0.020 deg at lat 50 = 1.43 km x 2.22 km = 3.18 km2
    assert area["Alpha"] == pytest.approx(0.020 * 71.7 * 0.020 * 111.2, rel=0.02)
    # Beta closed along the box's east edge at lon 10.040: 0.020 deg x 0.020 deg too
    assert area["Beta"] == pytest.approx(0.020 * 71.7 * 0.020 * 111.2, rel=0.02)
    assert b.loc["Alpha", "district_code"] == "A1"


def test_population_tag_of_admin_boundaries(region):
    pop = region.boundaries.set_index("district")["population"]
    assert pop.dtype == np.float64
    assert pop["Alpha"] == 12345.0
    assert np.isnan(pop["Beta"])  # "ca. 5000" is not a number


def test_incomplete_and_closed_relations_are_named(region):
    warnings = region.meta[META_WARNINGS]
    gamma = [w for w in warnings if "Gamma" in w]
    assert len(gamma) == 1
    text = gamma[0]
    assert "relation 3" in text and "admin_level 8" in text
    assert "1 of its 4 member ways are missing" in text
    # the two buildings at lat 50.022..50.0228 lie inside Gamma's available ways' span
    assert "2 buildings" in text and OUTSIDE_DISTRICTS in text
    assert "--boundaries" in text
    beta = [w for w in warnings if "Beta" in w]
    assert len(beta) == 1 and "relation 2" in beta[0] and "closed along" in beta[0]
    assert not [w for w in warnings if "Alpha" in w]


def test_place_nodes_and_areas_are_kept_with_population_tags(region):
    f = region.features.set_index("name")
    assert {"place", "population"} <= set(region.features.columns)
    assert f.loc["Vill", "place"] == "village" and f.loc["Vill", "population"] == "1200"
    assert f.loc["Sub", "place"] == "suburb" and f.loc["Sub", "population"] is None
    assert f.loc["Ham", "place"] == "hamlet"
    assert f.loc["Ham"].geometry.geom_type == "Polygon"
    assert "node/52" not in set(region.features["osm_id"])


def test_parse_population():
    got = parse_population(["12345", "12,345", "12 345", "ca. 5000", None, "", "7;8", "1,23"])
    np.testing.assert_array_equal(
        got, [12345, 12345, 12345, np.nan, np.nan, np.nan, np.nan, np.nan]
    )


def test_online_admin_boundaries_carry_population():
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import box

    idx = pd.MultiIndex.from_tuples([("relation", 1), ("relation", 2)], names=["element", "id"])
    raw = gpd.GeoDataFrame(
        {
            "boundary": ["administrative"] * 2,
            "admin_level": ["8", "8"],
            "name": ["A", "B"],
            "population": ["12 345", "about 40"],
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        index=idx,
        crs="EPSG:4326",
    )
    out = osm_admin_boundaries(raw, 8)
    assert out["population"].iloc[0] == 12345.0 and np.isnan(out["population"].iloc[1])


def test_no_usable_relation_says_the_whole_extract_is_one_district(tmp_path):
    nodes, ways, relations = _extract()
    only_gamma = [r for r in relations if r[0] == 3]
    path = write_extract(tmp_path / "g.osm.pbf", nodes, ways, only_gamma, bbox=BBOX)
    region = read_osm_file(path, admin_level=8)
    assert len(region.boundaries) == 1 and region.boundaries["district"].iloc[0] == "g"
    text = " ".join(region.meta[META_WARNINGS])
    assert "Gamma (relation 3" in text and "the whole extract is one district" in text
    assert OUTSIDE_DISTRICTS not in text


def test_edge_closure_takes_the_side_without_other_boundaries(tmp_path):
    # only Beta (cut at the box's east edge) and Gamma: no complete neighbour, no admin
    # centre; Beta's chain splits the box, and Gamma's ways lie on the west side
    nodes, ways, relations = _extract()
    rels = [r for r in relations if r[0] in (2, 3)]
    path = write_extract(tmp_path / "b.osm", nodes, ways, rels, bbox=BBOX)
    region = read_osm_file(path, admin_level=8)
    beta = region.boundaries.set_index("district").loc["Beta"].geometry
    # lon 10.020..10.040, lat 50.000..50.020 (and not the west remainder of the box)
    np.testing.assert_allclose(beta.bounds, (10.02, 50.0, 10.04, 50.02), atol=1e-6)


def _square_extract(path, *, nid0=0, nstep=1, wid0=0, wstep=1, timestamps=None):
    """A square admin relation (``population=800``, 0.010 deg a side at lon 10, lat 50)
    and a second one whose east way has a node missing; ids ``id0 + k * step``."""
    node = [nid0 + k * nstep for k in range(6)]
    way = [wid0 + k * wstep for k in range(7)]
    nodes = {
        node[0]: (LON, LAT),
        node[1]: (LON + 0.010, LAT),
        node[2]: (LON + 0.010, LAT + 0.010),
        node[3]: (LON, LAT + 0.010),
        node[4]: (LON + 0.020, LAT),  # node[5] (the second square's corner) is missing
    }
    admin = {"boundary": "administrative", "admin_level": "9"}
    ways = [
        (way[0], [node[0], node[1]], admin),
        (way[1], [node[1], node[2]], admin),
        (way[2], [node[2], node[3], node[0]], admin),
        (way[3], [node[1], node[4]], admin),
        (way[4], [node[4], node[5]], admin),
        (way[5], [node[5], node[2]], admin),
        (way[6], [node[0], node[4]], {"highway": "footway"}),
    ]
    relations = [
        (7, [("w", w, "outer") for w in way[:3]], {**admin, "name": "Sq", "population": "800"}),
        (8, [("w", w, "outer") for w in (way[1], *way[3:6])], {**admin, "population": "90"}),
    ]
    return write_extract(path, nodes, ways, relations, timestamps=timestamps)


@pytest.mark.parametrize("suffix", ["osm", "osm.pbf"])
def test_admin_areas_of_an_extract_with_ids_spread_widely(tmp_path, suffix):
    from geoapp.sources.osm_admin import read_admin_areas

    # node and way ids 10^10 apart, as in a merged or tiled extract: same areas as with
    # ids 1, 2, 3 ...
    spread = read_admin_areas(
        _square_extract(
            tmp_path / f"s.{suffix}", nid0=10**11, nstep=10**10, wid0=5 * 10**10, wstep=3 * 10**10
        )  # fmt: skip
    )
    dense = read_admin_areas(_square_extract(tmp_path / f"d.{suffix}", nid0=1, wid0=1))
    # the second relation has a node missing: not complete, left out
    assert spread["osm_id"].tolist() == dense["osm_id"].tolist() == ["relation/7"]
    assert spread["population"].tolist() == [800.0]
    assert spread.geometry.iloc[0].equals_exact(dense.geometry.iloc[0], 0)
    km2 = spread.to_crs(spread.estimate_utm_crs()).area.iloc[0] / 1e6
    assert km2 == pytest.approx(0.010 * 71.7 * 0.010 * 111.2, rel=0.02)


def test_data_date_after_the_admin_read_is_the_newest_way_or_relation(tmp_path):
    from geoapp.sources._osm_common import osm_data_date
    from geoapp.sources.osm_admin import read_admin_areas

    # everything of 2019 but the footway (not a boundary member) of May 2021 and a node
    # of 2023 (nodes are not read for the date)
    stamps = {("w", 7): "2021-05-05T05:05:05Z", ("n", 2): "2023-01-01T00:00:00Z"}
    stamps.update({(k, i): "2019-01-01T00:00:00Z" for k in "nwr" for i in range(1, 9) if
                   (k, i) not in stamps})  # fmt: skip
    path = _square_extract(tmp_path / "t.osm.pbf", nid0=1, wid0=1, timestamps=stamps)
    assert len(read_admin_areas(path)) == 1
    newest = ("2021-05-05T05:05:05Z", "newest way or relation in the file")
    assert osm_data_date(path) == newest
    # the file rewritten with a newer relation: read again, not taken from the first read
    stamps[("r", 8)] = "2022-02-02T02:02:02Z"
    _square_extract(path, nid0=1, wid0=1, timestamps=stamps)
    assert osm_data_date(path) == ("2022-02-02T02:02:02Z", newest[1])
    assert len(read_admin_areas(path)) == 1
    assert osm_data_date(path) == ("2022-02-02T02:02:02Z", newest[1])


def test_the_readers_pass_gives_the_admin_areas_and_date_of_a_read_of_their_own(tmp_path):
    import shutil

    from geoapp.sources._osm_common import osm_data_date
    from geoapp.sources.osm_admin import read_admin_areas

    # the osmium reader keeps, from its own pass, the admin relations, their ways and the
    # newest way or relation; read_admin_areas and osm_data_date then read nothing. A
    # hiking route (no key the reader asks for) is the newest object: it must count
    path = _square_extract(tmp_path / "a.osm.pbf", nid0=1, wid0=1)
    route = (20, [("w", 7, "")], {"type": "route", "route": "hiking"})
    nodes = {1: (LON, LAT), 2: (LON + 0.010, LAT), 3: (LON + 0.010, LAT + 0.010)}
    nodes.update({4: (LON, LAT + 0.010), 5: (LON + 0.020, LAT)})
    admin = {"boundary": "administrative", "admin_level": "9"}
    ways = [
        (1, [1, 2], admin),
        (2, [2, 3], admin),
        (3, [3, 4, 1], admin),
        (7, [1, 5], {"highway": "footway"}),
    ]
    rels = [(7, [("w", w, "outer") for w in (1, 2, 3)], {**admin, "name": "Sq", "population": "800"}),
            route]  # fmt: skip
    # ways and relations of 2019 but the route; the nodes (of 2024) do not count
    stamps = {(k, i): "2019-01-01T00:00:00Z" for k, i in (("w", 1), ("w", 2), ("w", 3), ("w", 7))}
    stamps.update({("r", 7): "2019-01-01T00:00:00Z", ("r", 20): "2023-03-03T03:03:03Z"})
    write_extract(path, nodes, ways, rels, timestamps=stamps)
    region = read_osm_file(path, reader="osmium")
    assert region.meta["data_date"] == "2023-03-03T03:03:03Z"
    assert region.admin_areas["osm_id"].tolist() == ["relation/7"]
    # a copy (another file for the memo): read by read_admin_areas' own passes
    copy = tmp_path / "b.osm.pbf"
    shutil.copy(path, copy)
    own = read_admin_areas(copy)
    assert own.drop(columns="geometry").equals(region.admin_areas.drop(columns="geometry"))
    assert own.geometry.iloc[0].equals_exact(region.admin_areas.geometry.iloc[0], 0)
    assert osm_data_date(copy) == ("2023-03-03T03:03:03Z", "newest way or relation in the file")
    km2 = own.to_crs(own.estimate_utm_crs()).area.iloc[0] / 1e6
    assert km2 == pytest.approx(0.010 * 71.7 * 0.010 * 111.2, rel=0.02)


def test_a_file_dated_in_its_header_gives_the_admin_areas_of_a_read_of_their_own(tmp_path):
    import shutil

    from geoapp.sources.osm_admin import read_admin_areas

    # a header date: the reader collects no timestamps, only the admin relations
    path = _square_extract(tmp_path / "h.osm.pbf", nid0=1, wid0=1)
    nodes = {1: (LON, LAT), 2: (LON + 0.010, LAT), 3: (LON + 0.010, LAT + 0.010)}
    nodes[4] = (LON, LAT + 0.010)
    admin = {"boundary": "administrative", "admin_level": "9"}
    ways = [(1, [1, 2], admin), (2, [2, 3], admin), (3, [3, 4, 1], admin)]
    rels = [
        (7, [("w", w, "outer") for w in (1, 2, 3)], {**admin, "name": "Sq", "population": "800"})
    ]
    header = {"osmosis_replication_timestamp": "2020-02-02T02:02:02Z"}
    write_extract(path, nodes, ways, rels, header=header)
    region = read_osm_file(path, reader="osmium")
    assert (region.meta["data_date"], region.meta["data_date_source"]) == (
        "2020-02-02T02:02:02Z",
        "replication timestamp in the file header",
    )
    copy = tmp_path / "h2.osm.pbf"
    shutil.copy(path, copy)
    own = read_admin_areas(copy)
    assert own["osm_id"].tolist() == region.admin_areas["osm_id"].tolist() == ["relation/7"]
    assert own.geometry.iloc[0].equals_exact(region.admin_areas.geometry.iloc[0], 0)
