"""The embedded demo region: a deterministic synthetic metropolis.

:func:`demo_region` builds "Demo Metropolis", a made-up city of about 1.5 million
residents on a 50 x 40 km square centred on 116.0 E, 40.0 N, so that every part of
geoapp works on a fresh machine with no network and no data files. Everything is
drawn from ``numpy.random.default_rng(seed)``: the same seed gives the same region.

The region is built in metres in the local UTM zone (EPSG:32650) and returned in
EPSG:4326. It has three kinds of place, so that coverage gaps are real:

* an **urban core** (7 x 7 km, districts "Old Town", "Central West", "Central East"):
  a fine street grid of 75 m blocks, 4-7 storey apartment bars, an old-town
  heritage conservation area of courtyard houses with most of the historic sites,
  many facilities per head and an older population;
* a ring of four **new towns** 15 km out: 275 m superblocks of 12-30 storey towers
  with sparse internal paths, a younger population and few facilities, clustered
  near each town's civic centre so that outer superblocks are far from elderly care;
* two **rural** districts of villages (1-2 storey houses on lanes) and two small
  township seats, joined by county roads; only one township seat and one village
  have elderly care, and two hamlets have no road at all (unreachable demand).

The data are labelled "synthetic demo data" in the region's name and ``meta``.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import logging
import math
import pickle
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from geoapp._atomic import atomic_path
from geoapp._cache import cache_root
from geoapp.region import FEATURE_TAG_KEYS, SYNTHETIC_LABEL, WGS84, Region
from geoapp.sources._osm_common import CAPACITY_TAG_KEYS

log = logging.getLogger(__name__)

#: Default seed of the demo region.
DEMO_SEED = 42
#: Display name of the demo region.
DEMO_NAME = f"Demo Metropolis ({SYNTHETIC_LABEL})"
#: Centre of the demo region (lon, lat).
DEMO_CENTRE = (116.0, 40.0)
#: Metric CRS the demo is generated in (UTM zone 50N).
DEMO_LOCAL_CRS = "EPSG:32650"
#: Housing floor area per resident used to size the census (m², Beijing 2020).
FLOOR_AREA_PER_PERSON_M2 = 35.0
#: ``building`` values that house residents.
RESIDENTIAL_BUILDINGS = ("apartments", "residential", "house", "yes")

_HALF_W = 25_000.0  # half width of the region, m
_HALF_H = 20_000.0  # half height of the region, m
_CORE_HALF = 3_600.0  # half size of the core districts, m
_OLD_TOWN_HALF = 1_750.0
_ROAD_SEGMENT_M = 150.0

# Old-town heritage conservation area (local metres from the centre).
_HERITAGE_ZONE = (
    (-950.0, -650.0),
    (-300.0, -780.0),
    (400.0, -720.0),
    (980.0, -560.0),
    (1020.0, 300.0),
    (700.0, 760.0),
    (-200.0, 800.0),
    (-900.0, 620.0),
    (-1050.0, 0.0),
)

# code, English name, Chinese name, zone_type, zone_fine
_DISTRICTS = (
    ("D01", "Old Town", "老城区", "core", "capital_core"),
    ("D02", "Central West", "中心城西区", "core", "central"),
    ("D03", "Central East", "中心城东区", "core", "central"),
    ("D04", "East New Town", "东部新城", "new_town", "sub_centre"),
    ("D05", "North New Town", "北部新城", "new_town", "plain_new_town"),
    ("D06", "Southwest New Town", "西南新城", "new_town", "plain_new_town"),
    ("D07", "South New Town", "南部新城", "new_town", "plain_new_town"),
    ("D08", "West Hills", "西山生态区", "rural", "ecological"),
    ("D09", "Northeast Hills", "东北山区", "rural", "ecological"),
)
# Share of residents aged 60+ by district code (before a small random factor).
_SHARE_60 = {
    "D01": 0.31,
    "D02": 0.25,
    "D03": 0.25,
    "D04": 0.15,
    "D05": 0.14,
    "D06": 0.13,
    "D07": 0.14,
    "D08": 0.30,
    "D09": 0.31,
}
# New towns: district code, centre x, centre y, superblocks per side, rotation (rad).
_TOWNS = (
    ("D04", 15_000.0, -2_000.0, 10, 0.10),
    ("D05", 3_000.0, 15_000.0, 9, -0.20),
    ("D06", -10_000.0, -12_000.0, 8, 0.30),
    ("D07", 6_000.0, -14_000.0, 9, 0.05),
)
# Rural districts: code, Voronoi generator x, y; township name, x, y.
_RURAL = (
    ("D08", -19_000.0, 8_000.0, "Qingshui Town 清水镇", -17_000.0, 9_000.0),
    ("D09", 16_000.0, 14_000.0, "Shiling Town 石岭镇", 17_000.0, 13_000.0),
)
_VILLAGES_RURAL = 15  # villages in rural districts, the last 2 are road-less hamlets
_VILLAGES_OTHER = 9  # villages in new-town districts
_HAMLETS = 2

_ELDERLY_KINDS = (
    # social_facility, English label, Chinese label
    ("nursing_home", "Care Home", "养老院"),
    ("day_care", "Senior Day Care Centre", "老年日间照料中心"),
    ("assisted_living", "Senior Apartments", "老年公寓"),
)
_COMMUNITY_KINDS = (
    # tag key, value, weight, English label, Chinese label
    ("amenity", "clinic", 0.10, "Community Health Station", "社区卫生服务站"),
    ("amenity", "pharmacy", 0.14, "Pharmacy", "药店"),
    ("amenity", "school", 0.08, "Primary School", "小学"),
    ("amenity", "kindergarten", 0.09, "Kindergarten", "幼儿园"),
    ("amenity", "library", 0.03, "Library", "图书馆"),
    ("amenity", "post_office", 0.04, "Post Office", "邮局"),
    ("amenity", "community_centre", 0.07, "Community Service Centre", "社区服务中心"),
    ("amenity", "marketplace", 0.05, "Food Market", "菜市场"),
    ("shop", "supermarket", 0.12, "Supermarket", "超市"),
    ("shop", "convenience", 0.18, "Convenience Store", "便利店"),
    ("shop", "greengrocer", 0.05, "Greengrocer", "蔬菜店"),
    ("healthcare", "doctor", 0.05, "Family Doctor", "家庭医生"),
)
_OTHER_KINDS = (
    ("amenity", "restaurant", "Restaurant"),
    ("amenity", "bank", "Bank"),
    ("amenity", "cafe", "Cafe"),
    ("leisure", "park", "Park"),
    ("tourism", "hotel", "Hotel"),
    ("office", "government", "Sub-district Office"),
)
_HISTORIC_SITES = (
    # name, historic, heritage
    ("Drum Tower 鼓楼", "building", "2"),
    ("Bell Tower 钟楼", "building", "2"),
    ("Temple of Confucius 孔庙", "temple", "2"),
    ("Old Town Gate 古城门", "city_gate", "2"),
    ("Guild Hall of Shanxi Merchants", "building", "3"),
    ("Former Residence of a Qing Scholar", "building", "3"),
    ("Martyrs' Memorial 烈士纪念碑", "memorial", None),
    ("Stone Archway 石牌坊", "monument", "3"),
    ("Lama Temple 雍和宫", "temple", "2"),
    ("Old Post Road Milestone", "milestone", None),
    ("Courtyard of the Wang Family 王家大院", "building", "3"),
    ("Imperial Granary 皇家粮仓", "building", "2"),
    ("Ancient Well 古井", "monument", None),
    ("Memorial to the 1919 Students", "memorial", None),
    ("Temple of the City God 城隍庙", "temple", "3"),
    ("Old Opera Stage 老戏楼", "building", "3"),
    ("Fire God Temple 火神庙", "temple", "3"),
    # outside the conservation area (core)
    ("Former Railway Station", "building", "3"),
    ("Water Tower 水塔", "building", None),
    ("Ming Dynasty City Wall Relic 明城墙遗址", "ruins", "2"),
    ("War Memorial", "memorial", None),
    ("Old Pagoda 古塔", "monument", "3"),
    # rural
    ("Cloud Temple 云居寺", "temple", "2"),
    ("Great Wall Watchtower 长城敌楼", "ruins", "2"),
    ("Ancient Stone Bridge 古石桥", "monument", None),
)
_HISTORIC_IN_ZONE = 17
_HISTORIC_CORE_OUT = 5
_HOSTILE_NAME = "<img src=x onerror=alert(1)>"


# --------------------------------------------------------------------------- helpers


class _Acc:
    """Accumulates nodes, edges, buildings, features and landuse in local metres."""

    def __init__(self) -> None:
        self.node_x: list[np.ndarray] = []
        self.node_y: list[np.ndarray] = []
        self.n_nodes = 0
        self.edge_u: list[np.ndarray] = []
        self.edge_v: list[np.ndarray] = []
        self.edge_hw: list[np.ndarray] = []
        self.edge_name: list[np.ndarray] = []
        self.b_geom: list[np.ndarray] = []
        self.b_type: list[np.ndarray] = []
        self.b_levels: list[np.ndarray] = []
        self.b_name: list[np.ndarray] = []
        self.b_rural: list[np.ndarray] = []
        self.features: list[pd.DataFrame] = []
        self.landuse: list[np.ndarray] = []

    def nodes(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float).ravel()
        y = np.asarray(y, dtype=float).ravel()
        ids = np.arange(self.n_nodes, self.n_nodes + len(x), dtype=np.int64)
        self.node_x.append(x)
        self.node_y.append(y)
        self.n_nodes += len(x)
        return ids

    def edges(self, u, v, highway, name=None) -> None:
        u = np.asarray(u, dtype=np.int64).ravel()
        v = np.asarray(v, dtype=np.int64).ravel()
        n = len(u)
        self.edge_u.append(u)
        self.edge_v.append(v)
        self.edge_hw.append(_obj(highway, n))
        self.edge_name.append(_obj(name, n))

    def buildings(self, geoms, btype, levels, name=None, rural: bool = False) -> None:
        geoms = np.asarray(geoms, dtype=object).ravel()
        n = len(geoms)
        self.b_geom.append(geoms)
        self.b_type.append(_obj(btype, n))
        self.b_levels.append(np.broadcast_to(np.asarray(levels, dtype=float), (n,)).copy())
        self.b_name.append(_obj(name, n))
        self.b_rural.append(np.full(n, rural))

    def feature_batch(self, geoms, names, **tags) -> None:
        geoms = np.asarray(geoms, dtype=object).ravel()
        n = len(geoms)
        data = {"name": _obj(names, n)}
        for key, value in tags.items():
            data[key.replace("__", ":")] = _obj(value, n)
        data["geometry"] = geoms
        self.features.append(pd.DataFrame(data))


def _obj(value, n: int) -> np.ndarray:
    """Return ``value`` (scalar or sequence) as an object array of length ``n``."""
    out = np.empty(n, dtype=object)
    if value is None or isinstance(value, str):
        out[:] = value
    else:
        out[:] = list(value)
    return out


def _rotate(x: np.ndarray, y: np.ndarray, angle) -> tuple[np.ndarray, np.ndarray]:
    c, s = np.cos(angle), np.sin(angle)
    return x * c - y * s, x * s + y * c


def _rects(cx, cy, w, h, angle=0.0) -> np.ndarray:
    """Return rectangles (centre, width, height, rotation in rad) as shapely Polygons."""
    cx, cy, w, h, angle = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (cx, cy, w, h, angle))
    )
    dx = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])
    dy = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])
    lx, ly = w.ravel()[:, None] * dx, h.ravel()[:, None] * dy
    rx, ry = _rotate(lx, ly, angle.ravel()[:, None])
    coords = np.stack([rx + cx.ravel()[:, None], ry + cy.ravel()[:, None]], axis=-1)
    return shapely.polygons(coords)


def _points(x, y) -> np.ndarray:
    return shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float))


def _grid(acc: _Acc, rng: np.random.Generator, cx, cy, nx, ny, spacing, angle=0.0, jitter=0.0):
    """Add a jittered, rotated street grid; return node ids and coordinates (ny, nx)."""
    gx, gy = np.meshgrid(
        (np.arange(nx) - (nx - 1) / 2) * spacing, (np.arange(ny) - (ny - 1) / 2) * spacing
    )
    if jitter:
        gx = gx + rng.normal(0.0, jitter, gx.shape)
        gy = gy + rng.normal(0.0, jitter, gy.shape)
    x, y = _rotate(gx, gy, angle)
    x, y = x + cx, y + cy
    ids = acc.nodes(x, y).reshape(ny, nx)
    return ids, x, y


def _cell_centres(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (
        (x[:-1, :-1] + x[1:, :-1] + x[:-1, 1:] + x[1:, 1:]) / 4,
        (y[:-1, :-1] + y[1:, :-1] + y[:-1, 1:] + y[1:, 1:]) / 4,
    )


def _road_points(
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    rng: np.random.Generator,
    max_seg: float = _ROAD_SEGMENT_M,
) -> np.ndarray:
    """Return the vertices of a gently curving road from (x0, y0) to (x1, y1).

    The road is split into ``ceil(length / max_seg)`` pieces; the first and last
    vertices are exactly the end points. Shape ``(n + 1, 2)``.
    """
    length = math.hypot(x1 - x0, y1 - y0)
    n = max(1, math.ceil(length / max_seg))
    t = np.linspace(0.0, 1.0, n + 1)
    px, py = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    if length > 0:
        nx_, ny_ = -(y1 - y0) / length, (x1 - x0) / length
        bend = rng.uniform(-0.04, 0.04) * length * np.sin(np.pi * t)
        wobble = np.zeros(n + 1)
        wobble[1:-1] = rng.normal(0.0, min(5.0, length / n / 10), n - 1)
        px, py = px + (bend + wobble) * nx_, py + (bend + wobble) * ny_
    px[0], py[0], px[-1], py[-1] = x0, y0, x1, y1
    return np.column_stack([px, py])


def _choice(rng: np.random.Generator, values, n: int, p=None) -> np.ndarray:
    idx = rng.choice(len(values), size=n, p=p)
    return np.asarray(values, dtype=object)[idx]


# --------------------------------------------------------------------------- parts


def _districts() -> list[shapely.Geometry]:
    """Return the nine district polygons (local metres), in ``_DISTRICTS`` order."""
    extent = shapely.box(-_HALF_W, -_HALF_H, _HALF_W, _HALF_H)
    core = shapely.box(-_CORE_HALF, -_CORE_HALF, _CORE_HALF, _CORE_HALF)
    old = shapely.box(-_OLD_TOWN_HALF, -_OLD_TOWN_HALF, _OLD_TOWN_HALF, _OLD_TOWN_HALF)
    west = shapely.box(-_CORE_HALF, -_CORE_HALF, 0.0, _CORE_HALF).difference(old)
    east = shapely.box(0.0, -_CORE_HALF, _CORE_HALF, _CORE_HALF).difference(old)
    gens = [(t[1], t[2]) for t in _TOWNS] + [(r[1], r[2]) for r in _RURAL]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(gens), extend_to=extent))
    # Match each generator to its cell (no reliance on GEOS >= 3.12 ``ordered``).
    gx, gy = np.array(gens).T
    inside = shapely.contains_xy(cells[:, None], gx[None, :], gy[None, :])  # (cell, generator)
    cells = cells[np.argmax(inside, axis=0)]
    outer = [shapely.make_valid(c.intersection(extent).difference(core)) for c in cells]
    return [old, west, east, *outer]


def _core(acc: _Acc, rng: np.random.Generator, zone: shapely.Polygon) -> dict:
    n = 94
    spacing = 75.0
    ids, x, y = _grid(acc, rng, 0.0, 0.0, n, n, spacing, 0.0, 3.0)
    k = np.arange(n)
    line_hw = np.where(
        k % 24 == 5,
        "primary",
        np.where(k % 12 == 5, "secondary", np.where(k % 6 == 2, "tertiary", "residential")),
    ).astype(object)
    major = line_hw != "residential"
    ordinal = np.cumsum(major)
    # Horizontal streets run along rows (j), vertical along columns (i).
    h_name = np.array(
        [f"Wei {o} Road" if m else None for o, m in zip(ordinal, major, strict=True)], dtype=object
    )
    v_name = np.array(
        [f"Jing {o} Road" if m else None for o, m in zip(ordinal, major, strict=True)], dtype=object
    )
    hu, hv = ids[:, :-1].ravel(), ids[:, 1:].ravel()
    h_hw = np.repeat(line_hw, n - 1)
    h_nm = np.repeat(h_name, n - 1)
    vu, vv = ids[:-1, :].ravel(), ids[1:, :].ravel()
    v_hw = np.tile(line_hw, n - 1)
    v_nm = np.tile(v_name, n - 1)
    u = np.concatenate([hu, vu])
    v = np.concatenate([hv, vv])
    hw = np.concatenate([h_hw, v_hw])
    nm = np.concatenate([h_nm, v_nm])
    xs, ys, base = x.ravel(), y.ravel(), ids.min()
    mx = (xs[u - base] + xs[v - base]) / 2
    my = (ys[u - base] + ys[v - base]) / 2
    in_zone = shapely.contains_xy(zone, mx, my)
    minor = hw == "residential"
    hutong = in_zone & minor & (rng.random(len(u)) < 0.4)
    hw[hutong] = "footway"
    nm[in_zone & minor] = np.array(
        [f"Hutong {i % 97 + 1}" for i in range(int((in_zone & minor).sum()))], dtype=object
    )
    keep = ~(minor & (rng.random(len(u)) < 0.03))
    acc.edges(u[keep], v[keep], hw[keep], nm[keep])

    # Blocks.
    bx, by = _cell_centres(x, y)
    bx, by = bx.ravel(), by.ravel()
    nb = len(bx)
    cell_zone = shapely.contains_xy(zone, bx, by)
    r = rng.random(nb)
    park = ~cell_zone & (r < 0.015)
    nonres = ~cell_zone & (r >= 0.015) & (r < 0.13)
    resid = ~cell_zone & (r >= 0.13)
    # Diagonal footways through park blocks.
    pj, pi = np.divmod(np.flatnonzero(park), n - 1)
    acc.edges(ids[pj, pi], ids[pj + 1, pi + 1], "footway", "Park Path")

    # Courtyard houses in the conservation area: four slots a block.
    zc = np.flatnonzero(cell_zone)
    off = spacing / 4
    sx = np.repeat(bx[zc], 4) + np.tile([-off, off, -off, off], len(zc))
    sy = np.repeat(by[zc], 4) + np.tile([-off, -off, off, off], len(zc))
    keep = rng.random(len(sx)) < 0.85
    m = int(keep.sum())
    acc.buildings(
        _rects(sx[keep], sy[keep], rng.uniform(18, 24, m), rng.uniform(14, 18, m)),
        _choice(rng, ["house", "residential"], m, [0.7, 0.3]),
        rng.choice([1.0, 2.0], m, p=[0.6, 0.4]),
    )
    # Apartment bars: one or two a block.
    rc = np.flatnonzero(resid)
    second = rng.random(len(rc)) < 0.55
    sx = np.concatenate([bx[rc], bx[rc][second]])
    sy = np.concatenate([by[rc] - 16 * second, by[rc][second] + 16])
    m = len(sx)
    acc.buildings(
        _rects(sx, sy, rng.uniform(36, 48, m), rng.uniform(11, 14, m)),
        _choice(rng, ["apartments", "residential", "yes"], m, [0.55, 0.35, 0.10]),
        rng.integers(4, 8, m).astype(float),
    )
    # Non-residential blocks.
    nc = np.flatnonzero(nonres)
    m = len(nc)
    kinds = _choice(rng, ["retail", "office", "school", "industrial"], m, [0.35, 0.35, 0.15, 0.15])
    lo = np.select([kinds == "retail", kinds == "office", kinds == "school"], [2, 6, 3], 1)
    hi = np.select([kinds == "retail", kinds == "office", kinds == "school"], [5, 15, 4], 2)
    names = np.where(kinds == "school", "Core School", None).astype(object)
    acc.buildings(
        _rects(bx[nc], by[nc], rng.uniform(40, 50, m), rng.uniform(28, 36, m)),
        kinds,
        rng.integers(lo, hi + 1).astype(float),
        names,
    )
    # Landuse: 900 m sections between the main roads.
    edges = np.array([0, 5, 17, 29, 41, 53, 65, 77, 89, 93])
    pos = (edges - (n - 1) / 2) * spacing
    lx0, ly0 = np.meshgrid(pos[:-1], pos[:-1])
    lx1, ly1 = np.meshgrid(pos[1:], pos[1:])
    acc.landuse.append(
        shapely.box(lx0.ravel() + 8, ly0.ravel() + 8, lx1.ravel() - 8, ly1.ravel() - 8)
    )
    return {
        "ids": ids.ravel(),
        "x": x.ravel(),
        "y": y.ravel(),
        "resid_x": bx[rc],
        "resid_y": by[rc],
        "zone_x": bx[zc],
        "zone_y": by[zc],
    }


def _new_town(acc: _Acc, rng: np.random.Generator, cx, cy, nsb, angle, code) -> dict:
    spacing = 275.0
    n = nsb + 1
    ids, x, y = _grid(acc, rng, cx, cy, n, n, spacing, angle, 4.0)
    k = np.arange(n)
    line_hw = np.where(k % 3 == 0, "primary", "secondary").astype(object)
    town = code[1:]
    h_name = np.array([f"NT{town} Weft Road {i + 1}" for i in k], dtype=object)
    v_name = np.array([f"NT{town} Warp Road {i + 1}" for i in k], dtype=object)
    # Horizontal arterials (row j, from column i to i+1), split at their midpoints.
    hu, hv = ids[:, :-1], ids[:, 1:]
    hmid = acc.nodes((x[:, :-1] + x[:, 1:]) / 2, (y[:, :-1] + y[:, 1:]) / 2).reshape(n, nsb)
    h_hw = np.repeat(line_hw, nsb).reshape(n, nsb)
    h_nm = np.repeat(h_name, nsb).reshape(n, nsb)
    acc.edges(
        np.r_[hu.ravel(), hmid.ravel()],
        np.r_[hmid.ravel(), hv.ravel()],
        np.r_[h_hw.ravel(), h_hw.ravel()],
        np.r_[h_nm.ravel(), h_nm.ravel()],
    )
    vu, vv = ids[:-1, :], ids[1:, :]
    vmid = acc.nodes((x[:-1, :] + x[1:, :]) / 2, (y[:-1, :] + y[1:, :]) / 2).reshape(nsb, n)
    v_hw = np.tile(line_hw, nsb).reshape(nsb, n)
    v_nm = np.tile(v_name, nsb).reshape(nsb, n)
    acc.edges(
        np.r_[vu.ravel(), vmid.ravel()],
        np.r_[vmid.ravel(), vv.ravel()],
        np.r_[v_hw.ravel(), v_hw.ravel()],
        np.r_[v_nm.ravel(), v_nm.ravel()],
    )
    # Superblock centres and sparse internal paths (a cross, some arms missing).
    sx, sy = _cell_centres(x, y)
    centre = acc.nodes(sx, sy).reshape(nsb, nsb)
    arms = np.stack([hmid[:-1, :], hmid[1:, :], vmid[:, :-1], vmid[:, 1:]])  # (4, nsb, nsb)
    keep = rng.random(arms.shape) < 0.75
    keep[0] |= ~keep.any(axis=0)
    cu = np.broadcast_to(centre, arms.shape)[keep]
    acc.edges(cu, arms[keep], _choice(rng, ["footway", "service"], int(keep.sum()), [0.6, 0.4]))
    # Superblock uses.
    sbx, sby = sx.ravel(), sy.ravel()
    nb = len(sbx)
    r = rng.random(nb)
    nonres = r < 0.10
    resid = r >= 0.15  # the rest (0.10-0.15) are parks, without buildings
    # Towers: eight slots a superblock, two in each quadrant.
    rc = np.flatnonzero(resid)
    q = spacing / 4
    ox = np.array([-q - 32, -q + 32, q - 32, q + 32, -q - 32, -q + 32, q - 32, q + 32])
    oy = np.array([-q, -q, -q, -q, q, q, q, q])
    rox, roy = _rotate(ox, oy, angle)
    tx = (sbx[rc][:, None] + rox).ravel()
    ty = (sby[rc][:, None] + roy).ravel()
    keep = rng.random(len(tx)) < 0.7
    m = int(keep.sum())
    acc.buildings(
        _rects(tx[keep], ty[keep], rng.uniform(22, 26, m), rng.uniform(16, 20, m), angle),
        _choice(rng, ["apartments", "residential"], m, [0.8, 0.2]),
        rng.integers(12, 31, m).astype(float),
    )
    nc = np.flatnonzero(nonres)
    m = len(nc) * 2
    kinds = np.repeat(_choice(rng, ["retail", "office", "school", "industrial"], len(nc)), 2)
    dx, dy = _rotate(np.array([-q, q]), np.array([-q, q]), angle)  # diagonal quadrants
    acc.buildings(
        _rects(
            (sbx[nc][:, None] + dx).ravel(),
            (sby[nc][:, None] + dy).ravel(),
            rng.uniform(70, 90, m),
            rng.uniform(45, 60, m),
            angle,
        ),
        kinds,
        rng.integers(2, 9, m).astype(float),
    )
    acc.landuse.append(_rects(sbx[rc], sby[rc], spacing - 30, spacing - 30, angle))
    # Superblock grid positions, for placing facilities near a civic centre.
    gj, gi = np.divmod(np.arange(nb), nsb)
    return {
        "ids": np.r_[ids.ravel(), hmid.ravel(), vmid.ravel(), centre.ravel()],
        "x": np.r_[x.ravel(), acc.node_x[-3], acc.node_x[-2], acc.node_x[-1]],
        "y": np.r_[y.ravel(), acc.node_y[-3], acc.node_y[-2], acc.node_y[-1]],
        "sb_x": sbx,
        "sb_y": sby,
        "sb_i": gi,
        "sb_j": gj,
        "sb_resid": resid,
        "half": nsb * spacing / 2,
    }


def _township(acc: _Acc, rng: np.random.Generator, cx, cy) -> dict:
    n = 11
    spacing = 80.0
    angle = rng.uniform(-0.5, 0.5)
    ids, x, y = _grid(acc, rng, cx, cy, n, n, spacing, angle, 3.0)
    k = np.arange(n)
    line_hw = np.where(k % 5 == 0, "secondary", "residential").astype(object)
    acc.edges(ids[:, :-1], ids[:, 1:], np.repeat(line_hw, n - 1))
    acc.edges(ids[:-1, :], ids[1:, :], np.tile(line_hw, n - 1))
    bx, by = _cell_centres(x, y)
    bx, by = bx.ravel(), by.ravel()
    r = rng.random(len(bx))
    rc = np.flatnonzero(r >= 0.15)
    nc = np.flatnonzero(r < 0.15)
    second = rng.random(len(rc)) < 0.8
    ox, oy = _rotate(np.zeros(1), np.array([17.0]), angle)
    sx = np.r_[bx[rc] - ox[0], bx[rc][second] + ox[0]]
    sy = np.r_[by[rc] - oy[0], by[rc][second] + oy[0]]
    m = len(sx)
    acc.buildings(
        _rects(sx, sy, rng.uniform(34, 42, m), rng.uniform(10, 13, m), angle),
        _choice(rng, ["residential", "apartments", "yes"], m, [0.5, 0.3, 0.2]),
        rng.integers(3, 7, m).astype(float),
    )
    m = len(nc)
    acc.buildings(
        _rects(bx[nc], by[nc], rng.uniform(35, 45, m), rng.uniform(25, 35, m), angle),
        _choice(rng, ["retail", "school", "office"], m),
        rng.integers(2, 5, m).astype(float),
    )
    acc.landuse.append(
        _rects(np.array([cx]), np.array([cy]), (n - 1) * spacing, (n - 1) * spacing, angle)
    )
    return {"ids": ids.ravel(), "x": x.ravel(), "y": y.ravel(), "bx": bx, "by": by}


def _village(acc: _Acc, rng: np.random.Generator, cx, cy, hamlet: bool) -> dict:
    nx, ny = (3, 3) if hamlet else tuple(rng.integers(6, 10, 2))
    spacing = rng.uniform(55, 70)
    angle = rng.uniform(0, np.pi)
    ids, x, y = _grid(acc, rng, cx, cy, nx, ny, spacing, angle, 5.0)
    u = np.r_[ids[:, :-1].ravel(), ids[:-1, :].ravel()]
    v = np.r_[ids[:, 1:].ravel(), ids[1:, :].ravel()]
    keep = rng.random(len(u)) >= 0.10
    m = int(keep.sum())
    acc.edges(
        u[keep], v[keep], _choice(rng, ["residential", "track", "path"], m, [0.5, 0.25, 0.25])
    )
    bx, by = _cell_centres(x, y)
    q = spacing / 4
    ox, oy = _rotate(np.array([-q, q, -q, q]), np.array([-q, -q, q, q]), angle)
    hx = (bx.ravel()[:, None] + ox).ravel()
    hy = (by.ravel()[:, None] + oy).ravel()
    keep = rng.random(len(hx)) < 0.8
    m = int(keep.sum())
    houses = _rects(
        hx[keep],
        hy[keep],
        rng.uniform(10, 15, m),
        rng.uniform(8, 12, m),
        angle + rng.normal(0, 0.05, m),
    )
    acc.buildings(
        houses,
        _choice(rng, ["house", "yes", "residential"], m, [0.6, 0.3, 0.1]),
        rng.choice([1.0, 2.0], m, p=[0.55, 0.45]),
        rural=True,
    )
    acc.landuse.append(np.array([shapely.convex_hull(shapely.multipolygons(houses)).buffer(15.0)]))
    return {"ids": ids.ravel(), "x": x.ravel(), "y": y.ravel(), "bx": bx.ravel(), "by": by.ravel()}


def _place_villages(
    rng: np.random.Generator, district_geoms, towns, townships
) -> list[tuple[float, float, str]]:
    """Pick village sites: (x, y, district code), rural ones first."""
    cand = np.column_stack(
        [
            rng.uniform(-_HALF_W + 1500, _HALF_W - 1500, 3000),
            rng.uniform(-_HALF_H + 1500, _HALF_H - 1500, 3000),
        ]
    )
    ok = np.maximum(np.abs(cand[:, 0]), np.abs(cand[:, 1])) > _CORE_HALF + 2000
    for t in towns:
        ok &= (
            np.maximum(np.abs(cand[:, 0] - t["cx"]), np.abs(cand[:, 1] - t["cy"]))
            > t["half"] + 1500
        )
    for tx, ty in townships:
        ok &= np.hypot(cand[:, 0] - tx, cand[:, 1] - ty) > 1800
    cand = cand[ok]
    codes = np.full(len(cand), "", dtype=object)
    for (code, *_), geom in zip(_DISTRICTS, district_geoms, strict=True):
        shrunk = geom.buffer(-600.0)
        codes[shapely.contains_xy(shrunk, cand[:, 0], cand[:, 1])] = code
    rural_codes = {r[0] for r in _RURAL}
    is_rural = np.array([c in rural_codes for c in codes])
    chosen: list[tuple[float, float, str]] = []
    for want, pool in ((_VILLAGES_RURAL, is_rural), (_VILLAGES_OTHER, ~is_rural & (codes != ""))):
        taken = 0
        for (px, py), code in zip(cand[pool], codes[pool], strict=True):
            if taken == want:
                break
            if all(math.hypot(px - qx, py - qy) > 2500 for qx, qy, _ in chosen):
                chosen.append((float(px), float(py), str(code)))
                taken += 1
    return chosen


def _roads(acc: _Acc, rng: np.random.Generator, anchors: list[dict]) -> None:
    """Join anchors (core, towns, townships, villages) by subdivided roads."""
    cxy = np.array([[a["cx"], a["cy"]] for a in anchors])
    kind = [a["kind"] for a in anchors]
    d = np.hypot(cxy[:, None, 0] - cxy[None, :, 0], cxy[:, None, 1] - cxy[None, :, 1])
    mst = minimum_spanning_tree(d).tocoo()
    pairs: dict[tuple[int, int], str] = {}
    for a, b in zip(mst.row, mst.col, strict=True):
        pairs[(min(a, b), max(a, b))] = "mst"
    for i, k in enumerate(kind):
        if k == "town":
            pairs.setdefault((0, i), "radial")
    order = np.argsort(d, axis=1)
    extra = rng.random(len(anchors)) < 0.35
    for i in np.flatnonzero(extra):
        j = int(order[i, 2])
        pairs.setdefault((min(i, j), max(i, j)), "extra")
    count = {"primary": 0, "secondary": 0, "tertiary": 0, "track": 0}
    for (a, b), why in sorted(pairs.items()):
        ka, kb = kind[a], kind[b]
        if why == "radial" or {ka, kb} <= {"core", "town"}:
            hw, prefix = "primary", "National Road G"
        elif "village" not in (ka, kb):
            hw, prefix = "secondary", "Provincial Road S"
        elif why == "extra":
            hw, prefix = "track", None
        else:
            hw, prefix = "tertiary", "County Road X"
        count[hw] += 1
        name = f"{prefix}{100 * (hw == 'primary') + count[hw]:02d}" if prefix else None
        ends = []
        for p, q in ((a, b), (b, a)):
            xs, ys = anchors[p]["x"], anchors[p]["y"]
            j = int(np.argmin(np.hypot(xs - cxy[q, 0], ys - cxy[q, 1])))
            ends.append((anchors[p]["ids"][j], xs[j], ys[j]))
        (ua, xa, ya), (ub, xb, yb) = ends
        pts = _road_points(xa, ya, xb, yb, rng)
        mid = acc.nodes(pts[1:-1, 0], pts[1:-1, 1])
        chain = np.r_[ua, mid, ub]
        acc.edges(chain[:-1], chain[1:], hw, name)


def _facilities(
    acc: _Acc,
    rng: np.random.Generator,
    core: dict,
    towns: list[dict],
    townships: list[dict],
    villages: list[dict],
    zone,
) -> None:
    """Place elderly care, community services, heritage and other features."""

    def near(x, y, spread):
        return x + rng.uniform(-spread, spread, len(x)), y + rng.uniform(-spread, spread, len(y))

    def elderly(x, y, zh_share=0.4, first=1):
        n = len(x)
        k = rng.integers(0, len(_ELDERLY_KINDS), n)
        kinds = np.array([_ELDERLY_KINDS[i][0] for i in k], dtype=object)
        zh = rng.random(n) < zh_share
        names = np.array(
            [
                f"{_ELDERLY_KINDS[i][2]}{first + j}号"
                if z
                else f"{_ELDERLY_KINDS[i][1]} No. {first + j}"
                for j, (i, z) in enumerate(zip(k, zh, strict=True))
            ],
            dtype=object,
        )
        acc.feature_batch(
            _points(x, y),
            names,
            amenity="social_facility",
            social_facility=kinds,
            social_facility__for="senior",
        )

    def community(x, y, first=1):
        n = len(x)
        w = np.array([c[2] for c in _COMMUNITY_KINDS])
        k = rng.choice(len(_COMMUNITY_KINDS), n, p=w / w.sum())
        zh = rng.random(n) < 0.4
        names = np.array(
            [
                f"{_COMMUNITY_KINDS[i][4]}{first + j}号"
                if z
                else f"{_COMMUNITY_KINDS[i][3]} No. {first + j}"
                for j, (i, z) in enumerate(zip(k, zh, strict=True))
            ],
            dtype=object,
        )
        tags = {}
        for key in ("amenity", "shop", "healthcare"):
            tags[key] = np.array(
                [_COMMUNITY_KINDS[i][1] if _COMMUNITY_KINDS[i][0] == key else None for i in k],
                dtype=object,
            )
        acc.feature_batch(_points(x, y), names, **tags)

    # --- elderly care: many in the core, few in new towns, almost none in villages.
    n_core = 96
    pick = rng.choice(len(core["resid_x"]), n_core, replace=False)
    x, y = near(core["resid_x"][pick], core["resid_y"][pick], 20)
    elderly(x[:-5], y[:-5])
    acc.feature_batch(
        _points(x[-5:-3], y[-5:-3]), ["Heping Nursing Home", "和平敬老院"], amenity="nursing_home"
    )
    acc.feature_batch(
        _points(x[-3:-1], y[-3:-1]),
        ["Golden Years Senior Centre", "夕阳红老年活动中心"],
        amenity="community_centre",
        community_centre="community_centre",
        community_centre__for="senior",
    )
    acc.feature_batch(
        _points(x[-1:], y[-1:]),
        [_HOSTILE_NAME],
        amenity="social_facility",
        social_facility="day_care",
        social_facility__for="senior",
    )
    first = 200
    for t, (code, *_rest) in zip(towns, _TOWNS, strict=True):
        nsb = int(t["sb_i"].max()) + 1
        ci, cj = rng.integers(nsb // 2 - 1, nsb // 2 + 1, 2)
        civic = np.flatnonzero((np.abs(t["sb_i"] - ci) <= 1) & (np.abs(t["sb_j"] - cj) <= 1))
        n = 4 if code == "D04" else 3
        pick = rng.choice(civic, n, replace=False)
        x, y = near(t["sb_x"][pick], t["sb_y"][pick], 60)
        elderly(x, y, first=first)
        first += n
    # Rural: one township care home (West Hills) and one village day care in a
    # new-town district; every other village is far from elderly care.
    ts = townships[0]
    acc.feature_batch(
        _points(ts["bx"][:1] + 5, ts["by"][:1] + 5),
        ["清水镇敬老院"],
        amenity="social_facility",
        social_facility="nursing_home",
        social_facility__for="senior",
    )
    v = next(v for v in villages if not v["rural"])
    acc.feature_batch(
        _points(v["bx"][:1], v["by"][:1]),
        ["Village Day Care 村老年驿站"],
        amenity="social_facility",
        social_facility="day_care",
        social_facility__for="senior",
    )

    # --- community services.
    pick = rng.choice(len(core["resid_x"]), 330, replace=False)
    community(*near(core["resid_x"][pick], core["resid_y"][pick], 25))
    first = 1000
    for t in towns:
        resid = np.flatnonzero(t["sb_resid"])
        pick = rng.choice(resid, min(20, len(resid)), replace=False)
        community(*near(t["sb_x"][pick], t["sb_y"][pick], 80), first=first)
        first += len(pick)
    for ts in townships:
        pick = rng.choice(len(ts["bx"]), 6, replace=False)
        community(*near(ts["bx"][pick], ts["by"][pick], 15), first=first)
        first += 6
    shops = [v for v in villages if not v["hamlet"]][::2]
    vx = np.array([v["bx"][len(v["bx"]) // 2] for v in shops])
    vy = np.array([v["by"][len(v["by"]) // 2] for v in shops])
    acc.feature_batch(
        _points(vx, vy),
        [f"Village Shop 小卖部 {i + 1}" for i in range(len(vx))],
        shop="convenience",
    )
    # One marketplace mapped as an area.
    mx, my = core["resid_x"][0], core["resid_y"][0]
    acc.feature_batch(
        _rects(np.array([mx]), np.array([my]), 30, 20),
        ["Chaoyang Street Market 朝阳菜市场"],
        amenity="marketplace",
    )

    # --- heritage: the conservation area, sites mostly inside it, some outside.
    acc.feature_batch(
        np.array([zone]),
        ["Old Town Historic Conservation Area 老城历史文化街区"],
        boundary="protected_area",
        protect_class="22",
        heritage="2",
    )
    minx, miny, maxx, maxy = zone.bounds
    cand = np.column_stack([rng.uniform(minx, maxx, 400), rng.uniform(miny, maxy, 400)])
    inside = cand[shapely.contains_xy(zone, cand[:, 0], cand[:, 1])][:_HISTORIC_IN_ZONE]
    cand = np.column_stack([rng.uniform(-3300, 3300, 400), rng.uniform(-3300, 3300, 400)])
    outside = cand[~shapely.contains_xy(zone.buffer(300), cand[:, 0], cand[:, 1])][
        :_HISTORIC_CORE_OUT
    ]
    rural_v = [v for v in villages if v["rural"] and not v["hamlet"]]
    rural_pts = np.array([[v["bx"][0] + 40, v["by"][0] + 40] for v in rural_v[:3]])
    sites = np.r_[inside, outside, rural_pts]
    names = [s[0] for s in _HISTORIC_SITES]
    hist = [s[1] for s in _HISTORIC_SITES]
    her = [s[2] for s in _HISTORIC_SITES]
    tourism = np.where(rng.random(len(sites)) < 0.4, "attraction", None).astype(object)
    acc.feature_batch(
        _points(sites[:, 0], sites[:, 1]), names, historic=hist, heritage=her, tourism=tourism
    )
    # A listed building tagged only with heritage=*, and a rural protected area.
    acc.feature_batch(
        _points([outside[0, 0] + 120], [outside[0, 1] - 80]),
        ["Modernist Cinema 人民电影院"],
        heritage="4",
    )
    temple = rural_pts[0]
    acc.feature_batch(
        np.array([shapely.Point(temple).buffer(250.0, quad_segs=4)]),
        ["Cloud Temple Protected Area 云居寺文物保护区"],
        boundary="protected_area",
        protect_class="22",
        heritage="2",
    )

    # --- features in no layer (restaurants, parks, hotels ...).
    pick = rng.choice(len(core["resid_x"]), 40, replace=False)
    x, y = near(core["resid_x"][pick], core["resid_y"][pick], 25)
    k = rng.integers(0, len(_OTHER_KINDS), 40)
    tags = {
        key: np.array(
            [_OTHER_KINDS[i][1] if _OTHER_KINDS[i][0] == key else None for i in k], dtype=object
        )
        for key in ("amenity", "leisure", "tourism", "office")
    }
    acc.feature_batch(
        _points(x, y), [f"{_OTHER_KINDS[i][2]} {j + 1}" for j, i in enumerate(k)], **tags
    )


# --------------------------------------------------------------------------- assembly


#: Bed counts of the demo's elderly care, by kind: (low, high), drawn uniformly in
#: steps of 5 (community day-care stations / 养老驿站 10-30 beds, senior apartments
#: 60-200, nursing homes 100-400). Senior activity centres have ``beds=0``; one care
#: home (和平敬老院) has no capacity tag, as real OSM often has none.
_BEDS = {"day_care": (10, 30), "assisted_living": (60, 200), "nursing_home": (100, 400)}


def _with_beds(feats: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Tag the elderly-care features with bed counts (OSM ``beds`` / ``capacity:beds``).

    Drawn from a generator of its own (``seed + 1``), so the rest of the demo is the
    same as without beds. Every fifth home is tagged ``capacity:beds`` and one in
    twelve ``capacity = "approx. N"``, as real mappers do, so the tag parsing is used.
    """
    rng = np.random.default_rng(seed + 1)
    kind = feats.get("social_facility", pd.Series(None, index=feats.index)).astype(object)
    amenity = feats.get("amenity", pd.Series(None, index=feats.index)).astype(object)
    kind = kind.where(amenity != "nursing_home", "nursing_home")
    out = feats.copy()
    for col in ("beds", "capacity:beds", "capacity"):
        out[col] = pd.Series([None] * len(out), dtype=object, index=out.index)
    centre = feats.get("community_centre:for", pd.Series(None, index=feats.index)) == "senior"
    out.loc[centre.to_numpy(dtype=bool), "beds"] = "0"  # activity centres: no beds
    rows = np.flatnonzero(kind.isin(list(_BEDS)).to_numpy(dtype=bool))
    untagged = {int(i) for i in np.flatnonzero((feats["name"] == "和平敬老院").to_numpy())}
    for n, i in enumerate(rows):
        if i in untagged:  # one care home left untagged, as in real OSM data
            continue
        lo, hi = _BEDS[str(kind.iloc[i])]
        beds = int(rng.integers(lo // 5, hi // 5 + 1)) * 5
        if n % 12 == 7:
            out.iat[i, out.columns.get_loc("capacity")] = f"approx. {beds}"
        elif n % 5 == 2:
            out.iat[i, out.columns.get_loc("capacity:beds")] = str(beds)
        else:
            out.iat[i, out.columns.get_loc("beds")] = str(beds)
    return out


def _census(
    rng: np.random.Generator,
    boundaries_local: gpd.GeoDataFrame,
    buildings_local: gpd.GeoDataFrame,
    true_levels: np.ndarray,
    rural: np.ndarray,
) -> pd.DataFrame:
    """District population consistent with the buildings (35 m² a person x a factor)."""
    is_res = buildings_local["building"].isin(RESIDENTIAL_BUILDINGS).to_numpy()
    pop = np.where(
        is_res,
        buildings_local.geometry.area.to_numpy() * true_levels / FLOOR_AREA_PER_PERSON_M2,
        0.0,
    )
    pts = shapely.centroid(buildings_local.geometry.to_numpy())
    tree = shapely.STRtree(boundaries_local.geometry.to_numpy())
    bi, di = tree.query(pts, predicate="within")
    _, first = np.unique(bi, return_index=True)
    district = np.full(len(pts), -1)
    district[bi[first]] = di[first]
    nd = len(boundaries_local)
    valid = district >= 0
    tot = np.bincount(district[valid], weights=pop[valid], minlength=nd)
    rur = np.bincount(district[valid], weights=(pop * rural)[valid], minlength=nd)
    factor = rng.uniform(0.97, 1.06, nd)
    codes = boundaries_local["district_code"].to_numpy()
    share = np.array([_SHARE_60[c] for c in codes]) * rng.uniform(0.97, 1.03, nd)
    total = np.round(tot * factor).astype(np.int64)
    p60 = np.round(total * share).astype(np.int64)
    p_rural = np.minimum(np.round(rur * factor).astype(np.int64), total)
    return pd.DataFrame(
        {
            "district_code": codes.astype(str),
            "district": boundaries_local["district"].to_numpy().astype(str),
            "pop": total,
            "pop_60plus": p60,
            "pop_65plus": np.round(p60 * 0.68).astype(np.int64),
            "pop_80plus": np.round(p60 * 0.17).astype(np.int64),
            "pop_urban": total - p_rural,
            "pop_rural": p_rural,
        }
    )


def _generate(seed: int) -> Region:
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    acc = _Acc()
    zone = shapely.Polygon(_HERITAGE_ZONE)
    district_geoms = _districts()

    core = _core(acc, rng, zone)
    towns = []
    for code, cx, cy, nsb, angle in _TOWNS:
        t = _new_town(acc, rng, cx, cy, nsb, angle, code)
        t.update(cx=cx, cy=cy, kind="town")
        towns.append(t)
    townships = []
    for _code, _gx, _gy, _name, tx, ty in _RURAL:
        ts = _township(acc, rng, tx, ty)
        ts.update(cx=tx, cy=ty, kind="township")
        townships.append(ts)
    sites = _place_villages(rng, district_geoms, towns, [(r[4], r[5]) for r in _RURAL])
    rural_codes = {r[0] for r in _RURAL}
    villages = []
    hamlet_nodes = []
    n_rural = sum(code in rural_codes for *_xy, code in sites)
    rural_seen = 0
    for vx, vy, code in sites:
        is_rural = code in rural_codes
        rural_seen += is_rural
        hamlet = is_rural and rural_seen > n_rural - _HAMLETS
        v = _village(acc, rng, vx, vy, hamlet)
        v.update(cx=vx, cy=vy, kind="village", hamlet=hamlet, rural=is_rural, code=code)
        villages.append(v)
        if hamlet:
            hamlet_nodes.append(v["ids"])
    core.update(cx=0.0, cy=0.0, kind="core")
    anchors = [core, *towns, *townships, *[v for v in villages if not v["hamlet"]]]
    _roads(acc, rng, anchors)
    _facilities(acc, rng, core, towns, townships, villages, zone)

    # ---- network: keep the main component and the hamlets; drop stray bits.
    nx_ = np.concatenate(acc.node_x)
    ny_ = np.concatenate(acc.node_y)
    u = np.concatenate(acc.edge_u)
    v = np.concatenate(acc.edge_v)
    hw = np.concatenate(acc.edge_hw)
    ename = np.concatenate(acc.edge_name)
    nn = len(nx_)
    adj = coo_matrix((np.ones(len(u)), (u, v)), shape=(nn, nn))
    _, label = connected_components(adj, directed=False)
    deg = np.bincount(np.r_[u, v], minlength=nn)
    sizes = np.bincount(label)
    keep_labels = {int(np.argmax(sizes))} | {int(label[h[0]]) for h in hamlet_nodes}
    keep_node = np.isin(label, list(keep_labels)) & (deg > 0)
    keep_edge = keep_node[u] & keep_node[v]
    log.debug("demo: dropped %d stray nodes", int((~keep_node).sum()))

    ox, oy = Transformer.from_crs(WGS84, DEMO_LOCAL_CRS, always_xy=True).transform(*DEMO_CENTRE)

    def to_wgs(geoms: np.ndarray) -> np.ndarray:
        moved = shapely.transform(geoms, lambda c: c + np.array([ox, oy]))
        return gpd.GeoSeries(moved, crs=DEMO_LOCAL_CRS).to_crs(WGS84).to_numpy()

    node_idx = np.flatnonzero(keep_node)
    nodes = gpd.GeoDataFrame(
        {"node_id": (node_idx + 1).astype(np.int64)},
        geometry=to_wgs(_points(nx_[node_idx], ny_[node_idx])),
        crs=WGS84,
    )
    u, v, hw, ename = u[keep_edge], v[keep_edge], hw[keep_edge], ename[keep_edge]
    coords = np.stack(
        [np.column_stack([nx_[u], ny_[u]]), np.column_stack([nx_[v], ny_[v]])], axis=1
    )
    edges = gpd.GeoDataFrame(
        {
            "u": (u + 1).astype(np.int64),
            "v": (v + 1).astype(np.int64),
            "length_m": np.hypot(nx_[u] - nx_[v], ny_[u] - ny_[v]),
            "highway": pd.Series(hw, dtype=object),
            "name": pd.Series(ename, dtype=object),
        },
        geometry=to_wgs(shapely.linestrings(coords)),
        crs=WGS84,
    )

    # ---- districts.
    boundaries_local = gpd.GeoDataFrame(
        {
            "district": [d[1] for d in _DISTRICTS],
            "district_code": [d[0] for d in _DISTRICTS],
            "zone_type": [d[3] for d in _DISTRICTS],
            "zone_fine": [d[4] for d in _DISTRICTS],
            "district_zh": [d[2] for d in _DISTRICTS],
        },
        geometry=district_geoms,
    )
    boundaries = gpd.GeoDataFrame(
        boundaries_local.drop(columns="geometry"),
        geometry=to_wgs(np.asarray(district_geoms, dtype=object)),
        crs=WGS84,
    )

    # ---- buildings (10% lose their levels, like real OSM data).
    b_geom = np.concatenate(acc.b_geom)
    b_type = np.concatenate(acc.b_type)
    true_levels = np.concatenate(acc.b_levels)
    b_rural = np.concatenate(acc.b_rural)
    levels = np.where(rng.random(len(true_levels)) < 0.10, np.nan, true_levels)
    buildings_local = gpd.GeoDataFrame({"building": b_type}, geometry=b_geom)
    census = _census(rng, boundaries_local, buildings_local, true_levels, b_rural)
    buildings = gpd.GeoDataFrame(
        {
            "building_id": pd.Series([f"demo/b{i + 1}" for i in range(len(b_geom))], dtype=object),
            "building": pd.Series(b_type, dtype=object),
            "levels": levels.astype(float),
            "name": pd.Series(np.concatenate(acc.b_name), dtype=object),
        },
        geometry=to_wgs(b_geom),
        crs=WGS84,
    )

    # ---- landuse and features.
    lu = np.concatenate(acc.landuse)
    landuse = gpd.GeoDataFrame(
        {"landuse": pd.Series(["residential"] * len(lu), dtype=object)},
        geometry=to_wgs(lu),
        crs=WGS84,
    )
    feats = pd.concat(acc.features, ignore_index=True)
    feats = _with_beds(feats, seed)
    keys = [*FEATURE_TAG_KEYS, *(k for k in CAPACITY_TAG_KEYS if k not in FEATURE_TAG_KEYS)]
    for key in keys:
        if key not in feats.columns:
            feats[key] = pd.Series([None] * len(feats), dtype=object)
    cols = ["osm_id", "name", *keys]
    feats["osm_id"] = [f"demo/{i + 1}" for i in range(len(feats))]
    data = {c: pd.Series(feats[c].to_numpy(dtype=object), dtype=object) for c in cols}
    features = gpd.GeoDataFrame(data, geometry=to_wgs(feats["geometry"].to_numpy()), crs=WGS84)

    extent = boundaries.total_bounds
    region = Region(
        name=DEMO_NAME,
        source="demo",
        synthetic=True,
        boundaries=boundaries,
        features=features,
        nodes=nodes,
        edges=edges,
        buildings=buildings,
        landuse=landuse,
        census=census,
        meta={
            "data_label": SYNTHETIC_LABEL,
            "synthetic": True,
            "seed": int(seed),
            "attribution": "synthetic, generated by geoapp",
            "bbox": [round(float(b), 7) for b in extent],
            "centre": list(DEMO_CENTRE),
            "local_crs": DEMO_LOCAL_CRS,
            "floor_area_per_person_m2": FLOOR_AREA_PER_PERSON_M2,
        },
    )
    log.info(
        "demo region (seed %d): %d nodes, %d edges, %d buildings, %d features in %.2f s",
        seed,
        len(nodes),
        len(edges),
        len(buildings),
        len(features),
        time.perf_counter() - t0,
    )
    return region


@functools.lru_cache(maxsize=4)
def _cached(seed: int) -> Region:
    """Generate once per process; reuse a copy pickled on disk by an earlier run.

    The disk copy is keyed by the seed and a hash of this module's source and of
    ``geoapp/region.py`` (the Region class and its column contracts), so any change to
    either makes a new one. A missing, unreadable or stale file is rebuilt.
    """
    from geoapp import region as _region_module

    sources = Path(__file__).read_bytes() + Path(_region_module.__file__).read_bytes()
    digest = hashlib.sha1(sources).hexdigest()[:12]
    path = cache_root() / "demo" / f"demo-{seed}-{digest}.pkl"
    try:
        with open(path, "rb") as fh:
            region = pickle.load(fh)  # our own cache file, written below
        if isinstance(region, Region):
            return region
    except FileNotFoundError:
        pass
    except Exception as exc:  # corrupt or from another version: rebuild
        log.info("demo cache %s unreadable (%s); regenerating", path, exc)
    region = _generate(seed)
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(pickle.dumps(region, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError as exc:  # read-only home: the in-process cache still works
        log.info("could not cache the demo region at %s: %s", path, exc)
    return region


def _copy_region(region: Region) -> Region:
    return region.with_(
        boundaries=region.boundaries.copy(),
        features=region.features.copy(),
        nodes=region.nodes.copy(),
        edges=region.edges.copy(),
        buildings=region.buildings.copy(),
        landuse=region.landuse.copy(),
        census=None if region.census is None else region.census.copy(),
        meta=copy.deepcopy(region.meta),
    )


def demo_region(seed: int = DEMO_SEED) -> Region:
    """Return the embedded synthetic demo region "Demo Metropolis".

    Generated offline from ``numpy.random.default_rng(seed)``; the same seed always
    gives the same region. The result is cached per seed; each call returns a fresh
    copy, so callers may modify it freely.

    Parameters
    ----------
    seed
        Random seed (default 42).

    Returns
    -------
    geoapp.region.Region
        ``source="demo"``, ``synthetic=True``, every frame in EPSG:4326: nine
        districts (``core``, ``new_town``, ``rural``; extra column ``district_zh``),
        a walking network of more than 20,000 edges (one main component plus a
        road-less hamlet or two), about 20,000 buildings, residential landuse,
        tagged features of every shipped layer and a district ``census``.
        ``meta`` holds ``data_label`` ("synthetic demo data"), ``seed``,
        ``attribution`` and ``bbox``.

    Examples
    --------
    >>> region = demo_region()
    >>> region.synthetic, region.source
    (True, 'demo')
    """
    return _copy_region(_cached(int(seed)))


def demo_census(seed: int = DEMO_SEED) -> pd.DataFrame:
    """Return the demo region's district census table.

    Parameters
    ----------
    seed
        Random seed of the demo region (default 42).

    Returns
    -------
    pandas.DataFrame
        ``district_code``, ``district``, ``pop``, ``pop_60plus``, ``pop_65plus``,
        ``pop_80plus``, ``pop_urban``, ``pop_rural`` (int), one row per district.
        Totals match the buildings' floor area at 35 m² a person within a few percent.
    """
    census = _cached(int(seed)).census
    assert census is not None
    return census.copy()
