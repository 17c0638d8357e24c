"""Outputs at scale: GeoParquet (full detail), simplified GeoJSON copies, the GeoPackage."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import Point, box

from geoapp import bundle, export, workflow
from geoapp.catalog import get_layer

CRS = "EPSG:32650"
X0, Y0 = 440_000.0, 4_420_000.0


def _wiggly_tiles() -> gpd.GeoDataFrame:
    """Two tiles sharing a border with 2,001 vertices (a zigzag, 0.5 m amplitude)."""
    ys = np.linspace(0, 1000, 2001)
    xs = 500 + 0.5 * (np.arange(len(ys)) % 2)
    border = list(zip(X0 + xs, Y0 + ys, strict=True))
    left = shapely.Polygon([(X0, Y0), *border, (X0, Y0 + 1000)])
    right = shapely.Polygon([(X0 + 1000, Y0), (X0 + 1000, Y0 + 1000), *border[::-1]])
    return gpd.GeoDataFrame(
        {"facility_id": ["a", "b"], "radius_m": [300.0, 300.0]},
        geometry=[left, right],
        crs=CRS,
    ).to_crs(4326)


def test_simplified_for_web_keeps_shared_borders():
    tiles = _wiggly_tiles()
    out = export.simplified_for_web(tiles, 5.0, coverage_by="radius_m")
    before = shapely.get_num_coordinates(tiles.geometry.to_numpy()).sum()
    after = shapely.get_num_coordinates(out.geometry.to_numpy()).sum()
    assert after < before / 100
    a, b = out.to_crs(CRS).geometry
    assert a.intersection(b).area < 1e-3  # still no overlap ...
    union = shapely.union_all([a, b])
    assert union.area == pytest.approx(1e6, rel=1e-3)  # ... and no gap
    assert tiles.geometry.iloc[0].equals(_wiggly_tiles().geometry.iloc[0])  # input unchanged


def test_simplified_for_web_leaves_small_frames_alone():
    tiles = _wiggly_tiles()
    assert export.simplified_for_web(tiles, 5.0, max_vertices=10_000) is tiles


def test_write_parquet_roundtrip_full_detail(tmp_path):
    g = gpd.GeoDataFrame(
        {"name": ["東城", None], "dist_m": [1.5, np.inf], "tags": [["a"], None]},
        geometry=[Point(X0 + 0.123456789, Y0), box(X0, Y0, X0 + 10, Y0 + 10)],
        crs=CRS,
    )
    p = export.write_parquet(g, tmp_path / "x.parquet")
    back = gpd.read_parquet(p)
    assert back.crs.to_epsg() == 4326
    assert back["name"].tolist()[0] == "東城" and pd.isna(back["name"].iloc[1])
    assert np.isinf(back["dist_m"].iloc[1])
    assert back["tags"].iloc[0] == '["a"]'
    # coordinates are not rounded as in GeoJSON
    exact = g.to_crs(4326).geometry.iloc[0]
    assert back.geometry.iloc[0].equals_exact(exact, tolerance=0)
    assert [q.name for q in tmp_path.iterdir()] == ["x.parquet"]


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory):
    region = workflow.load_region("demo")
    demand, graph = workflow.prepare(region)
    layer = get_layer("community_services")
    analysis = workflow.analyse_layer(region, layer, demand=demand, graph=graph)
    out = tmp_path_factory.mktemp("b") / "bundle"
    paths = bundle.write_bundle(analysis, region, out, html_map=False, parquet=True)
    return analysis, out, paths


@pytest.mark.slow
def test_bundle_with_parquet(demo_bundle):
    analysis, out, paths = demo_bundle
    names = {p.name for p in out.iterdir()}
    for stem in ("facilities", "demand", "catchments", "gaps", "hexes"):
        assert f"{stem}.parquet" in names
    meta = export.read_bundle_metadata(out)
    assert {"catchments.parquet", "hexes.parquet"} <= set(meta["files"])
    catch = gpd.read_parquet(out / "catchments.parquet")
    assert len(catch) == len(analysis.catchments)
    assert catch["facility_id"].tolist() == analysis.catchments["facility_id"].tolist()
    assert np.allclose(catch["pop_served"], analysis.catchments["pop_served"])
    ref = analysis.catchments.geometry.to_numpy()
    assert shapely.equals_exact(catch.geometry.to_numpy(), ref, tolerance=1e-12).all()
    demand = gpd.read_parquet(out / "demand.parquet")
    assert len(demand) == len(analysis.access)
    # the GeoPackage holds the same rows
    gpkg = pyogrio.read_dataframe(out / "bundle.gpkg", layer="catchments")
    assert len(gpkg) == len(catch)
    # the bundle can be replaced by the next run
    export.check_bundle_target(out)


def test_simplified_for_web_large_frames_geometry_by_geometry():
    tiles = _wiggly_tiles()
    out = export.simplified_for_web(tiles, 5.0, coverage_by="radius_m", max_coverage_vertices=10)
    after = shapely.get_num_coordinates(out.geometry.to_numpy()).sum()
    assert after < 100
    a, b = out.to_crs(CRS).geometry
    # each tile on its own: the shared border may part by up to the tolerance
    assert a.intersection(b).area < 5.0 * 1000
    assert shapely.union_all([a, b]).area == pytest.approx(1e6, rel=0.01)


def test_rounding_never_makes_an_exported_polygon_invalid(tmp_path):
    # a hole's edge 4 mm from the shell's: rounded to 1 cm it lies on it (invalid)
    import json

    import geopandas as gpd
    import shapely

    from geoapp import export

    x0, y0 = 24.9, 60.1
    outer = [(x0, y0), (x0 + 0.001, y0), (x0 + 0.001, y0 + 0.001), (x0, y0 + 0.001)]
    hole = [(x0 + 0.0002, y0 + 4e-8), (x0 + 0.0005, y0 + 4e-8), (x0 + 0.0004, y0 + 0.0004)]
    poly = shapely.Polygon(outer, [hole])
    assert poly.is_valid
    rounded = shapely.transform(poly, lambda c: c.round(7))
    assert not rounded.is_valid
    box = shapely.box(x0, y0, x0 + 1.23456789e-3, y0 + 1e-3)
    gdf = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[poly, box], crs=4326)
    path = export.write_geojson(gdf, tmp_path / "p.geojson")
    back = gpd.read_file(path)
    assert back.geometry.is_valid.all()
    # it was snapped to the 7-decimal grid (valid there), within a grid step of the input
    doc = json.loads(path.read_text())
    assert shapely.hausdorff_distance(back.geometry[0], poly) <= 1e-7 * 1.5
    for feature in doc["features"]:
        for ring in feature["geometry"]["coordinates"]:
            assert all(len(repr(c).split(".")[-1]) <= 7 for xy in ring for c in xy)
    # the GeoPackage keeps full coordinates
    gpkg = export.write_gpkg({"p": gdf}, tmp_path / "b.gpkg")
    kept = gpd.read_file(gpkg).geometry[0]
    assert shapely.equals_exact(shapely.normalize(kept), shapely.normalize(poly), 0)


def _shared_coverage(n: int = 60) -> np.ndarray:
    """An n x n grid of 10 m squares in EPSG:4326, each border vertex in 2-4 squares."""
    xs = X0 + 10.0 * np.arange(n)
    ys = Y0 + 10.0 * np.arange(n)
    squares = [box(x, y, x + 10.0, y + 10.0) for x in xs for y in ys]
    return np.asarray(gpd.GeoSeries(squares, crs=CRS).to_crs(4326).array, dtype=object)


def test_project_geometries_gives_to_crs_bit_for_bit(monkeypatch):
    """Projecting each shared vertex once gives GeoSeries.to_crs's very coordinates.

    3,600 squares hold 18,000 vertex slots but only 3,721 distinct corners: the
    repeated ones are projected once and copied, which must not change a bit.
    """
    from geoapp import crs as crs_mod

    monkeypatch.setattr(crs_mod, "_DEDUP_MIN", 1_000)
    geoms = _shared_coverage()
    xy = shapely.get_coordinates(geoms)
    assert len(np.unique(xy, axis=0)) == 61 * 61 < len(xy) / 4
    for src, dst, g in (("EPSG:4326", CRS, geoms), (CRS, "EPSG:4326", None)):
        g = geoms if g is not None else np.asarray(gpd.GeoSeries(geoms, crs=4326).to_crs(CRS).array)
        want = np.asarray(gpd.GeoSeries(g, crs=src).to_crs(dst).array)
        got = crs_mod.project_geometries(g, src, dst)
        assert list(shapely.to_wkb(got)) == list(shapely.to_wkb(want))
    # the input is not changed, and None / empty geometries pass through
    again = np.asarray(gpd.GeoSeries(_shared_coverage(), crs=4326).array)
    assert list(shapely.to_wkb(geoms)) == list(shapely.to_wkb(again))
    mixed = np.array([None, shapely.Polygon(), *geoms[:400]], dtype=object)
    got = crs_mod.project_geometries(mixed, "EPSG:4326", CRS)
    assert got[0] is None and got[1].is_empty
    assert shapely.equals_identical(
        got[2:], crs_mod.project_geometries(geoms[:400], 4326, CRS)
    ).all()


def test_project_geometries_never_merges_two_points_sharing_a_hash_key(monkeypatch):
    """Two different points whose 64-bit keys collide are each projected (no mix-up)."""
    from geoapp import crs as crs_mod

    monkeypatch.setattr(crs_mod, "_DEDUP_MIN", 10)
    mult = np.array([0x9E3779B97F4A7C15], dtype=np.uint64)  # arrays wrap silently

    def key(x: float, y: float) -> int:
        bits = np.array([[x, y]]).view(np.uint64)
        return int((bits[:, 0] * mult ^ bits[:, 1])[0])

    a = (116.4, 39.9)
    xs = 116.4 + np.arange(1, 200_000) * 1e-9  # a second point whose key equals a's
    ys = (np.uint64(key(*a)) ^ (xs.view(np.uint64) * mult)).view(float)
    ok = np.flatnonzero(np.isfinite(ys) & (ys > 20.0) & (ys < 60.0))
    assert len(ok)
    b = (float(xs[ok[0]]), float(ys[ok[0]]))
    assert b != a and key(*b) == key(*a)
    pts = shapely.points([tuple(a), b] * 10)  # repeated, so the shared-vertex path is taken
    got = crs_mod.project_geometries(pts, "EPSG:4326", CRS)
    want = np.asarray(gpd.GeoSeries(pts, crs=4326).to_crs(CRS).array)
    assert list(shapely.to_wkb(got)) == list(shapely.to_wkb(want))
    assert not shapely.equals(got[0], got[1])


def test_known_valid_names_only_projections_of_valid_geometries(tmp_path):
    """``project_geometries(valid=True)`` records its own outputs as valid while they live.

    The GeoPackage export does not check those again (the catchments are made valid
    before they are projected); a copy with new coordinates, or any other geometry, is
    not known, and an invalid one of those is still repaired.
    """
    import gc

    from geoapp import crs as crs_mod

    local = np.array([box(X0, Y0, X0 + 10, Y0 + 10), box(X0 + 20, Y0, X0 + 30, Y0 + 10)])
    made = crs_mod.project_geometries(local, CRS, 4326, valid=True)
    plain = crs_mod.project_geometries(local, CRS, 4326)
    assert crs_mod.known_valid(made).tolist() == [True, True]
    assert crs_mod.known_valid(plain).tolist() == [False, False]
    assert not crs_mod.known_valid(shapely.transform(made, lambda c: np.round(c, 7))).any()
    assert crs_mod.known_valid(np.array([None, made[1], plain[0]])).tolist() == [False, True, False]
    # an invalid bow-tie next to the known ones is repaired in the GeoPackage
    bow = shapely.Polygon([(116.0, 39.0), (116.001, 39.001), (116.001, 39.0), (116.0, 39.001)])
    frame = gpd.GeoDataFrame({"k": [0, 1, 2]}, geometry=[*made, bow], crs=4326)
    written = gpd.read_file(export.write_gpkg({"p": frame}, tmp_path / "v.gpkg"))
    assert shapely.is_valid(written.geometry.to_numpy()).all()
    assert shapely.equals(written.geometry[0], made[0])  # written as is (multi, ccw)
    # the record goes with the geometry
    before = len(crs_mod._VALID)
    del made, frame
    gc.collect()
    assert len(crs_mod._VALID) == before - 2
