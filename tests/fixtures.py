"""Hand-built streets shared by the tests: one place for the frames worked out on paper.

Coordinates are metres in UTM 50N (EPSG:32650), offset by (X0, Y0), so every distance
can be checked with a ruler. Each test module keeps its own worked answers in its
docstring; this module only builds the streets, graphs and demand points they start from.

The line street (``LINE_XY``, ``LINE_PAIRS``; used by coverage, minutes and scenarios)::

    A(0,0) ---100--- B(100,0) ---100--- C(200,0) ---100--- D(300,0)      E(1000,0) -- F(1100,0)
                                                                          (separate component)

with its four demand points (``line_demand``) and the facility at (100, 10), on the street
at B with an access leg of 10 m (``LINE_FACILITY``)::

    demand  at         pop  60+  district zone    network distance to the facility
    d1      (10,5)     100   20  North    core    5 + 90 + 10  = 105
    d2      (150,-5)    50   10  North    core    5 + 50 + 10  = 65
    d3      (290,5)     30   30  South    rural   5 + 190 + 10 = 205
    d4      (1050,0)    20    5  South    rural   other component: unreachable

The A..D multigraph head (``AB_EDGES``; used by the network engine and its public API)::

          (detour A..B: (0,0)-(0,60)-(100,60)-(100,0), length 220, parallel to A-B)

    A(0,0) ---100--- B(100,0) ---100--- C(200,0)
                      |
                      50
                      |
                     D(100,-50)

listed as: the detour first, then the straight A-B of 100 m (the shorter parallel edge),
B-C, and D-B stored v->u on purpose.

The small map region (``map_region``; used by the map tests) is in WGS84 near Beijing and
carries hostile strings (``HOSTILE``) in names and reasons.

Small OpenStreetMap extracts (written with osmium by tests/osm_extract_builder.py), in
WGS84 degrees:

* ``homes_grid``: residential streets every 0.004° over a box and a home (flats of a
  given number of storeys) in every block. Over ``WEST_EAST`` (lon 116.30-116.34, lat
  39.98-40.00) with ``two_districts`` (West lon < 116.32, East) and ``two_district_census``
  (West 10,000 and East 20,000 residents), used by the study-area and report-input tests;
  over ``XUEYUAN`` (Xueyuan Road, Haidian) by the tests of Beijing's 街道.
* ``flats_grid``: streets 100 m apart from Wudaokou (``grid_at(i, j)``, about
  0.00117° x 0.0009° a step) and a block of flats in every block, used by the heritage
  tests (with ``to_gcj02`` for lists in GCJ-02).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point, box

from geoapp import network
from geoapp.crs import wgs84_to_gcj02

CRS = "EPSG:32650"
X0, Y0 = 440_000.0, 4_420_000.0

EdgeRow = tuple[int, int, float, LineString]


def P(x: float, y: float = 0.0) -> Point:  # noqa: N802
    """A point at (x, y) metres from the origin (X0, Y0), in ``CRS``."""
    return Point(X0 + x, Y0 + y)


def L(*pts: tuple[float, float]) -> LineString:  # noqa: N802
    """A line through points given in metres from the origin (X0, Y0), in ``CRS``."""
    return LineString([(X0 + x, Y0 + y) for x, y in pts])


def node_frame(nodes_xy: Mapping[int, tuple[float, float]]) -> gpd.GeoDataFrame:
    """Nodes ``node_id`` (int64) at the given local coordinates, in ``CRS``."""
    return gpd.GeoDataFrame(
        {"node_id": np.array(list(nodes_xy), dtype=np.int64)},
        geometry=[P(*xy) for xy in nodes_xy.values()],
        crs=CRS,
    )


def edge_frame(rows: Iterable[EdgeRow], **extra: object) -> gpd.GeoDataFrame:
    """Edges from ``(u, v, length_m, geometry)`` rows, in ``CRS``.

    Parameters
    ----------
    rows
        One ``(u, v, length_m, geometry)`` tuple per edge.
    **extra
        More columns (a scalar or one value per edge), placed after ``length_m``.
    """
    listed = list(rows)
    return gpd.GeoDataFrame(
        {
            "u": np.array([r[0] for r in listed], dtype=np.int64),
            "v": np.array([r[1] for r in listed], dtype=np.int64),
            "length_m": [r[2] for r in listed],
            **extra,
        },
        geometry=[r[3] for r in listed],
        crs=CRS,
    )


def straight_edges(
    nodes_xy: Mapping[int, tuple[float, float]], pairs: Sequence[tuple[int, int]]
) -> list[EdgeRow]:
    """Straight edges between node pairs, each as long as its geometry."""
    geoms = [LineString([P(*nodes_xy[a]), P(*nodes_xy[b])]) for a, b in pairs]
    return [(a, b, g.length, g) for (a, b), g in zip(pairs, geoms, strict=True)]


def street(
    nodes_xy: Mapping[int, tuple[float, float]], pairs: Sequence[tuple[int, int]]
) -> network.WalkGraph:
    """The walking graph of straight streets between the given node pairs."""
    nodes = node_frame(nodes_xy)
    edges = edge_frame(straight_edges(nodes_xy, pairs))
    return network.build_graph(nodes, edges, crs=CRS)


# --------------------------------------------------------------------------- the line street

LINE_XY: dict[int, tuple[float, float]] = {
    1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0), 5: (1000, 0), 6: (1100, 0),
}  # fmt: skip
LINE_PAIRS: list[tuple[int, int]] = [(1, 2), (2, 3), (3, 4), (5, 6)]
LINE_DEMAND_XY: list[tuple[float, float]] = [(10, 5), (150, -5), (290, 5), (1050, 0)]
LINE_FACILITY: tuple[float, float] = (100, 10)


def line_street() -> network.WalkGraph:
    """A-B-C-D plus the separate E-F (see the module docstring)."""
    return street(LINE_XY, LINE_PAIRS)


def straight_km() -> network.WalkGraph:
    """One straight street 1 km long, east from the origin, with a node every 100 m."""
    xy = {i: (i * 100.0, 0.0) for i in range(11)}
    return street(xy, [(i, i + 1) for i in range(10)])


def facility_points(xy: Sequence[tuple[float, float]]) -> gpd.GeoDataFrame:
    """Facilities ``f0``, ``f1``, ... at points given in metres from the origin, in ``CRS``."""
    return gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(len(xy))]},
        geometry=[P(x, y) for x, y in xy],
        crs=CRS,
    )


def line_demand(**extra: Sequence[object]) -> gpd.GeoDataFrame:
    """The four demand points of the line street, in ``CRS``.

    Parameters
    ----------
    **extra
        More columns (four values each), appended after the common ones.
    """
    return gpd.GeoDataFrame(
        {
            "demand_id": ["d1", "d2", "d3", "d4"],
            "pop": [100.0, 50.0, 30.0, 20.0],
            "pop_60plus": [20.0, 10.0, 30.0, 5.0],
            "district": ["North", "North", "South", "South"],
            "zone_type": ["core", "core", "rural", "rural"],
            **extra,
        },
        geometry=[P(*xy) for xy in LINE_DEMAND_XY],
        crs=CRS,
    )


# --------------------------------------------------------------------------- the multigraph head

AB_NODES: dict[int, tuple[float, float]] = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (100, -50)}
AB_EDGES: list[EdgeRow] = [
    (1, 2, 220.0, L((0, 0), (0, 60), (100, 60), (100, 0))),  # the detour
    (1, 2, 100.0, L((0, 0), (100, 0))),  # the straight A-B, shorter parallel
    (2, 3, 100.0, L((100, 0), (200, 0))),
    (4, 2, 50.0, L((100, -50), (100, 0))),  # stored v->u on purpose: D to B
]


# --------------------------------------------------------------------------- the map region

HOSTILE = "<img src=x onerror=alert(1)>"


def map_region() -> dict[str, gpd.GeoDataFrame]:
    """The small hand-made region of the map tests (hostile strings in names and reasons).

    Two districts (one with markup in its name), three facilities (one a polygon, one
    unnamed), two long streets, four hexes with distances 100 / 700 / none / 400 m, and one
    gap beyond reach whose reason tries to close the script tag. WGS84 throughout.
    """
    bnd = gpd.GeoDataFrame(
        {
            "district": ["Old <b>Town</b>", "Hills"],
            "district_code": ["D01", ""],
            "zone_type": ["core", "rural"],
            "zone_fine": ["capital_core", "ecological"],
        },
        geometry=[box(116.30, 39.90, 116.35, 39.95), box(116.35, 39.90, 116.40, 39.95)],
        crs="EPSG:4326",
    )
    fac = gpd.GeoDataFrame(
        {
            "facility_id": ["demo/1", "demo/2", "demo/3"],
            "name": [HOSTILE, "Home `${alert(2)}`", None],
            "kind": ["day_care", "nursing_home", "nursing_home"],
        },
        geometry=[Point(116.31, 39.91), Point(116.37, 39.93), box(116.38, 39.94, 116.381, 39.941)],
        crs="EPSG:4326",
    )
    edges = gpd.GeoDataFrame(
        {
            "u": [1, 2],
            "v": [2, 3],
            "length_m": [8500.0, 8500.0],
            "highway": ["primary", "residential"],
        },
        geometry=[
            LineString([(116.3, 39.92), (116.4, 39.92)]),
            LineString([(116.3, 39.93), (116.4, 39.93)]),
        ],
        crs="EPSG:4326",
    )
    hexes = gpd.GeoDataFrame(
        {
            "h3": ["a", "b", "c", "d"],
            "pop": [10.0, 20.0, 30.0, 40.0],
            "pop_60plus": [1.0, 2.0, 3.0, 4.0],
            "dist_m_mean": [100.0, 700.0, np.nan, 400.0],
            "share_beyond": [0.0, 0.2, 1.0, 0.6],
        },
        geometry=[box(116.31 + i * 0.01, 39.91, 116.32 + i * 0.01, 39.92) for i in range(4)],
        crs="EPSG:4326",
    )
    gaps = gpd.GeoDataFrame(
        {
            "gap_id": ["g/1"],
            "rank": [1],
            "uncovered_pop": [1234.0],
            "uncovered_pop_60plus": [200.0],
            "nearest_m": [math.inf],
            "district": ["Hills"],
            "zone_type": ["rural"],
            "reason": ["</script><script>alert(3)</script> live far"],
        },
        geometry=[box(116.36, 39.91, 116.38, 39.92)],
        crs="EPSG:4326",
    )
    return {"bnd": bnd, "fac": fac, "edges": edges, "hexes": hexes, "gaps": gaps}


# --------------------------------------------------------------------------- OSM extracts

Place = tuple[float, float, Mapping[str, str]]
STREET_TAGS = {"highway": "residential"}
#: (west, south, east, north) of the two-district grid: West lon < 116.32, East beyond.
WEST_EAST = (116.30, 39.98, 116.34, 40.00)
WEST, EAST = box(116.30, 39.98, 116.32, 40.00), box(116.32, 39.98, 116.34, 40.00)
#: Xueyuan Road, Haidian (lon 116.340-116.356, lat 39.994-40.006): 5 x 4 street crossings.
XUEYUAN = (116.340, 39.994, 116.356, 40.006)


def homes_grid(
    path: Path,
    bounds: tuple[float, float, float, float],
    *,
    step: float = 0.004,
    levels: int = 6,
    places: Iterable[Place] = (),
) -> Path:
    """Write an extract: residential streets every ``step``° and a home in every block.

    Streets run through the crossings of ``bounds`` (west, south, east, north) every
    ``step`` degrees. In every block stands a 0.001° square of flats
    (``building=apartments``, ``building:levels=levels``) whose south-west corner lies
    0.3 ``step`` into the block. ``places``: more nodes ``(lon, lat, tags)``. Node ids
    from 1 (crossings, homes' corners, places), way ids from 1000 (north-south streets,
    east-west streets, homes).
    """
    from osm_extract_builder import write_extract

    west, south, east, north = bounds
    nx, ny = round((east - west) / step) + 1, round((north - south) / step) + 1
    nodes: dict = {}
    grid = {}
    for i in range(nx):
        for j in range(ny):
            grid[i, j] = len(nodes) + 1
            nodes[grid[i, j]] = (west + i * step, south + j * step)
    ways = [(1000 + i, [grid[i, j] for j in range(ny)], STREET_TAGS) for i in range(nx)]
    ways += [(1000 + nx + j, [grid[i, j] for i in range(nx)], STREET_TAGS) for j in range(ny)]
    home = {"building": "apartments", "building:levels": str(levels)}
    for i in range(nx - 1):
        for j in range(ny - 1):
            x, y = west + (i + 0.3) * step, south + (j + 0.3) * step
            ring = [len(nodes) + 1 + k for k in range(4)]
            for nid, (dx, dy) in zip(ring, ((0, 0), (0.001, 0), (0.001, 0.001), (0, 0.001)),
                                     strict=True):  # fmt: skip
                nodes[nid] = (x + dx, y + dy)
            ways.append((1000 + len(ways), [*ring, ring[0]], home))
    for lon, lat, tags in places:
        nodes[len(nodes) + 1] = (lon, lat, tags)
    return write_extract(path, nodes, ways)


def two_districts(path: Path, west=WEST, east=EAST) -> Path:
    """Write the districts West (``D1``) and East (``D2``) as GeoJSON."""
    gpd.GeoDataFrame(
        {"district": ["West", "East"], "district_code": ["D1", "D2"]},
        geometry=[west, east],
        crs="EPSG:4326",
    ).to_file(path, driver="GeoJSON")
    return path


def two_district_census(path: Path) -> Path:
    """Write the census of West (10,000 residents, 2,000 aged 60+) and East (20,000, 3,000)."""
    path.write_text(
        "district_code,district,pop,pop_60plus\nD1,West,10000,2000\nD2,East,20000,3000\n",
        encoding="utf-8",
    )
    return path


#: The flats grid's origin (Wudaokou, Haidian) and step: about 99.8 m east-west and
#: 100.1 m north-south.
GRID_X0, GRID_Y0 = 116.3300, 39.9900
GRID_DX, GRID_DY = 0.00117, 0.0009


def grid_at(i: float, j: float) -> tuple[float, float]:
    """(lon, lat) of the flats grid's point ``i`` steps east and ``j`` north of its origin."""
    return (GRID_X0 + i * GRID_DX, GRID_Y0 + j * GRID_DY)


def to_gcj02(geom):
    """The geometry ``geom`` (WGS84) in GCJ-02, as Chinese official lists give it."""
    return shapely.transform(
        geom, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0].copy(), xy[:, 1].copy()))
    )


def flats_grid(path: Path, extra_nodes: Mapping[int, object], n: int = 8) -> Path:
    """Write an extract: streets 100 m apart (n x n nodes), flats in every block, more nodes.

    Node ids: crossings ``1 + i * n + j``, flats' corners from 5000, then ``extra_nodes``
    (``{id: (lon, lat[, tags])}``). Way ids: east-west streets from 1, north-south next,
    flats from 1000 + the next.
    """
    from osm_extract_builder import write_extract

    nodes: dict = {1 + i * n + j: grid_at(i, j) for i in range(n) for j in range(n)}
    ways: list = [(1 + j, [1 + i * n + j for i in range(n)], STREET_TAGS) for j in range(n)]
    ways += [(1 + n + i, [1 + i * n + j for j in range(n)], STREET_TAGS) for i in range(n)]
    k = 5000
    for i in range(n - 1):
        for j in range(n - 1):
            ring = []
            for dx, dy in ((0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7)):
                nodes[k] = grid_at(i + dx, j + dy)
                ring.append(k)
                k += 1
            ways.append((1001 + len(ways), [*ring, ring[0]], {"building": "apartments"}))
    nodes.update(extra_nodes)
    return write_extract(path, nodes, ways)
