"""The map's merged catchment layer (``merged_catchments``): the ground covered at one radius.

Metres in UTM 50N (EPSG:32650), offset by (X0, Y0). Hand-built streets (tests/fixtures.py),
buffer 40 m, answers to within the 5 m grid of the catchments (3 %):

* a straight street x = 0 .. 1000 with facilities at x = 0 and x = 300, radius 500 m: the
  streets x in [0, 800] are reached, so the covered ground is an 800 x 80 m band with a
  half disc of 40 m at each end: 64,000 + 1,600 pi = 69,026.5 m2, one polygon without holes
  (the two nearest-facility catchments meet at x = 150 and leave no seam);
* a ring of streets round one 400 m block with facilities at opposite corners, radius
  1000 m: the 480 m square with its four corners rounded (4 x (1,600 - 400 pi) =
  1,373.5 m2 less) minus the 320 m square hole: 230,400 - 1,373.5 - 102,400 =
  126,626.5 m2, one polygon with one hole.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fixtures import CRS, P, straight_km, street
from fixtures import facility_points as facilities

from geoapp import network
from geoapp.maps.layers import merged_catchments

BAND = 800 * 80 + np.pi * 1600
RING = 480**2 - 4 * (1600 - 400 * np.pi) - 320**2


@pytest.fixture(scope="module")
def line():
    return straight_km()


@pytest.fixture(scope="module")
def ring():
    xy = {1: (0, 0), 2: (400, 0), 3: (400, 400), 4: (0, 400)}
    return street(xy, [(1, 2), (2, 3), (3, 4), (4, 1)])


def merged_local(c: gpd.GeoDataFrame) -> shapely.Geometry:
    m = merged_catchments(c)
    assert len(m) == 1 and m["radius_m"].tolist() == [float(c["radius_m"].iloc[0])]
    return m.to_crs(CRS).geometry.iloc[0]


def test_nearest_facility_catchments_merge_without_a_seam(line):
    c = network.catchments(line, facilities([(0, 0), (300, 0)]), [500])
    m = merged_local(c)
    assert m.geom_type == "Polygon" and len(m.interiors) == 0
    assert m.area == pytest.approx(BAND, rel=0.03)
    # the two catchments tile it: the merge holds exactly their summed area
    assert m.area == pytest.approx(c.to_crs(CRS).area.sum(), rel=1e-9)
    assert m.contains(P(150, 0)) and m.contains(P(830, 0)) and not m.contains(P(850, 0))


def test_merged_ring_keeps_its_hole(ring):
    c = network.catchments(ring, facilities([(0, 0), (400, 400)]), [1000])
    m = merged_local(c)
    assert m.geom_type == "Polygon" and len(m.interiors) == 1
    assert not m.contains(P(200, 200)) and m.contains(P(200, 0)) and m.contains(P(400, 200))
    assert m.area == pytest.approx(RING, rel=0.03)


def test_overlapping_catchments_are_merged_by_an_overlay_union(line):
    # each facility's own service area: [0, 500] and [0, 800] overlap on [0, 500]
    c = network.catchments(line, facilities([(0, 0), (300, 0)]), [500], overlapping=True)
    assert c.to_crs(CRS).area.sum() > 1.5 * BAND
    m = merged_local(c)
    assert m.geom_type == "Polygon" and m.area == pytest.approx(BAND, rel=0.03)
    overlay = shapely.union_all(c.to_crs(CRS).geometry.to_numpy())
    assert m.symmetric_difference(overlay).area < 1e-6 * overlay.area


def test_empty_frame_and_empty_catchments():
    empty = gpd.GeoDataFrame({"radius_m": []}, geometry=[], crs="EPSG:4326")
    assert len(merged_catchments(empty)) == 0
    none_reached = gpd.GeoDataFrame(
        {"radius_m": [300.0, 300.0]}, geometry=[shapely.Polygon(), None], crs="EPSG:4326"
    )
    m = merged_catchments(none_reached)
    assert len(m) == 1 and m.geometry.iloc[0].is_empty
