"""Rules the faster demand steps keep: tag cleaning, small landuse, densities of some rows.

Fixtures are worked out by hand: a 300 m square of residential landuse in UTM 35N
(Helsinki) with one 10 m house at its centre, and a 60 m square one with a house.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geoapp.demand.frames import tag_in, tag_values
from geoapp.demand.landuse import (
    MIN_UNBUILT_M2,
    OPENING_M,
    PLOT_M,
    landuse_densities,
    unbuilt_landuse,
)

UTM35 = "EPSG:32635"
X0, Y0 = 385_000.0, 6_672_000.0  # Helsinki in UTM zone 35N


def _landuse(*squares: tuple[float, float, float], ids: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Residential squares ``(x, y, side)`` in UTM 35N, returned in EPSG:4326."""
    geoms = [box(X0 + x, Y0 + y, X0 + x + s, Y0 + y + s) for x, y, s in squares]
    frame = gpd.GeoDataFrame(
        {"landuse": ["residential"] * len(geoms), "landuse_id": list(ids)},
        geometry=geoms,
        crs=UTM35,
    )
    return frame.to_crs("EPSG:4326")


def _houses(*centres: tuple[float, float]) -> gpd.GeoSeries:
    """10 m square houses centred on ``centres`` (UTM 35N offsets), EPSG:4326."""
    return gpd.GeoSeries(
        [box(X0 + x - 5, Y0 + y - 5, X0 + x + 5, Y0 + y + 5) for x, y in centres], crs=UTM35
    ).to_crs("EPSG:4326")


def test_tag_values_clean_each_value_and_keep_missing_as_default() -> None:
    frame = pd.DataFrame(
        {"highway": [" Residential", None, "", "LIVING_STREET ", np.nan, "footway", "Residential"]}
    )
    got = tag_values(frame, "highway", "none")
    assert got.tolist() == [
        "residential",
        "none",
        "",
        "living_street",
        "none",
        "footway",
        "residential",
    ]
    assert got.dtype == object
    assert list(got.index) == list(frame.index)
    wanted = {"residential", "living_street"}
    assert tag_in(frame, "highway", wanted).tolist() == [
        True,
        False,
        False,
        True,
        False,
        False,
        True,
    ]
    # "" is a value a missing tag takes: asked for, the empty and missing ones match
    assert tag_in(frame, "highway", {""}).tolist() == [False, True, True, False, True, False, False]
    assert tag_in(frame, "no_such_column", wanted).tolist() == [False] * len(frame)


def test_tag_values_of_numbers_are_their_text() -> None:
    frame = pd.DataFrame({"levels": pd.Series([2, "3 ", None], dtype=object)})
    assert tag_values(frame, "levels").tolist() == ["2", "3", ""]


def test_small_landuse_with_a_house_keeps_no_unbuilt_part() -> None:
    # 60 m x 60 m = 3,600 m² < MIN_UNBUILT_M2: with a house, nothing unbuilt is big enough;
    # the same square without a house is unbuilt as a whole
    assert 60.0 * 60.0 < MIN_UNBUILT_M2
    lu = _landuse((0, 0, 60), (1_000, 0, 60), ids=("with_house", "empty"))
    got = unbuilt_landuse(lu, _houses((30, 30)))
    assert got["landuse_id"].tolist() == ["empty"]
    assert got["unbuilt_km2"].iloc[0] * 1e6 == pytest.approx(3_600.0, rel=1e-6)


def test_large_landuse_loses_the_plot_around_its_house() -> None:
    # 300 m square, 10 m house at its centre: the plot is the house grown by PLOT_M
    # (100 + 4 * 10 * 25 + pi * 25² m²); the opening by OPENING_M keeps everything
    # around a convex plot and rounds the square's four corners, each losing
    # (1 - pi / 4) * 25² m²
    lu = _landuse((0, 0, 300), ids=("big",))
    got = unbuilt_landuse(lu, _houses((150, 150)))
    plot = 100.0 + 4 * 10 * PLOT_M + math.pi * PLOT_M**2
    corners = 4 * (1 - math.pi / 4) * OPENING_M**2
    expected = 300.0 * 300.0 - plot - corners
    assert got["landuse_id"].tolist() == ["big"]
    assert got["landuse_km2"].iloc[0] * 1e6 == pytest.approx(90_000.0, rel=1e-6)
    # the buffers are polygons of 8 segments a quarter circle: a few m² off the circles
    assert abs(got["unbuilt_km2"].iloc[0] * 1e6 - expected) < 30.0


def test_densities_of_some_rows_are_those_of_all_rows() -> None:
    # five houses in the first square give it its own density, and the second (no
    # house, 500 m away) the density of the homes around it
    lu = _landuse((0, 0, 200), (700, 0, 200), (5_000, 0, 200), ids=("a", "b", "c"))
    res = gpd.GeoDataFrame({"_lu_id": ["a", "b", "c"]}, geometry=lu.geometry.to_numpy(), crs=4326)
    houses = _houses((20, 20), (60, 20), (100, 20), (140, 20), (180, 20))
    points = houses.representative_point().to_numpy()
    pop = np.full(5, 10.0)
    unbuilt = np.array([0.02, 0.04, 0.04])
    classes = {"city": 10_000.0, "town": 7_200.0, "village": 4_800.0}
    full = landuse_densities(res, unbuilt, points, pop, None, classes)
    part = landuse_densities(res, unbuilt, points, pop, None, classes, rows=np.array([1, 2]))
    # built part of "a": 0.04 - 0.02 km², 50 residents: 2,500 per km²
    assert full.density[0] == pytest.approx(2_500.0)
    assert full.source.tolist() == ["homes in it", "homes around", "town"]
    assert part.density[1:].tolist() == full.density[1:].tolist()
    assert part.source[1:].tolist() == full.source[1:].tolist()
    assert math.isnan(part.density[0]) and part.source[0] == ""
