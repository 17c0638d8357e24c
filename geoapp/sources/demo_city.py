"""The demo city's geometry: streets, buildings, landuse and features in local metres.

:func:`build_city` draws the whole of "Demo Metropolis" (see :mod:`geoapp.sources.demo`)
from one ``numpy.random.Generator``, in a fixed order: the urban core, the four new
towns, the two township seats, the villages, the roads joining them and the features
(elderly care, community services, heritage, others). Everything is accumulated in
metres around the region's centre (an :class:`Accumulator`);
:func:`geoapp.sources.demo.demo_region` turns it into a ``Region`` in EPSG:4326.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.sparse.csgraph import minimum_spanning_tree

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

#: The districts: code, English name, Chinese name, zone_type, zone_fine.
DISTRICTS = (
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


class Accumulator:
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
        """Add nodes at ``x``, ``y``; return their ids (consecutive, from 0)."""
        x = np.asarray(x, dtype=float).ravel()
        y = np.asarray(y, dtype=float).ravel()
        ids = np.arange(self.n_nodes, self.n_nodes + len(x), dtype=np.int64)
        self.node_x.append(x)
        self.node_y.append(y)
        self.n_nodes += len(x)
        return ids

    def edges(self, u: npt.ArrayLike, v: npt.ArrayLike, highway: Any, name: Any = None) -> None:
        """Add edges between node ids ``u`` and ``v`` with their ``highway`` and ``name``."""
        u = np.asarray(u, dtype=np.int64).ravel()
        v = np.asarray(v, dtype=np.int64).ravel()
        n = len(u)
        self.edge_u.append(u)
        self.edge_v.append(v)
        self.edge_hw.append(_obj(highway, n))
        self.edge_name.append(_obj(name, n))

    def buildings(
        self,
        geoms: npt.ArrayLike,
        btype: Any,
        levels: npt.ArrayLike,
        name: Any = None,
        rural: bool = False,
    ) -> None:
        """Add building footprints with their ``building`` value and true levels."""
        geoms = np.asarray(geoms, dtype=object).ravel()
        n = len(geoms)
        self.b_geom.append(geoms)
        self.b_type.append(_obj(btype, n))
        self.b_levels.append(np.broadcast_to(np.asarray(levels, dtype=float), (n,)).copy())
        self.b_name.append(_obj(name, n))
        self.b_rural.append(np.full(n, rural))

    def feature_batch(self, geoms: npt.ArrayLike, names: Any, **tags: Any) -> None:
        """Add features with their names and tags (``a__b`` is the tag ``a:b``)."""
        geoms = np.asarray(geoms, dtype=object).ravel()
        n = len(geoms)
        data = {"name": _obj(names, n)}
        for key, value in tags.items():
            data[key.replace("__", ":")] = _obj(value, n)
        data["geometry"] = geoms
        self.features.append(pd.DataFrame(data))


def _obj(value: Any, n: int) -> np.ndarray:
    """Return ``value`` (scalar or sequence) as an object array of length ``n``."""
    out = np.empty(n, dtype=object)
    if value is None or isinstance(value, str):
        out[:] = value
    else:
        out[:] = list(value)
    return out


def _rotate(
    x: np.ndarray, y: np.ndarray, angle: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    c, s = np.cos(angle), np.sin(angle)
    return x * c - y * s, x * s + y * c


def _rects(
    cx: npt.ArrayLike,
    cy: npt.ArrayLike,
    w: npt.ArrayLike,
    h: npt.ArrayLike,
    angle: npt.ArrayLike = 0.0,
) -> np.ndarray:
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


def points(x: npt.ArrayLike, y: npt.ArrayLike) -> np.ndarray:
    """Return shapely Points at coordinates ``x``, ``y`` (floats)."""
    return shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float))


def _grid(
    acc: Accumulator,
    rng: np.random.Generator,
    cx: float,
    cy: float,
    nx: int,
    ny: int,
    spacing: float,
    angle: float = 0.0,
    jitter: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _choice(
    rng: np.random.Generator, values: Sequence[Any], n: int, p: Sequence[float] | None = None
) -> np.ndarray:
    idx = rng.choice(len(values), size=n, p=p)
    return np.asarray(values, dtype=object)[idx]


# --------------------------------------------------------------------------- parts


def _districts() -> list[shapely.Geometry]:
    """Return the nine district polygons (local metres), in ``DISTRICTS`` order."""
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


def _core(acc: Accumulator, rng: np.random.Generator, zone: shapely.Polygon) -> dict:
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
    names = np.where(kinds == "school", "Core School", None).astype(object)  # type: ignore[call-overload]
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


def _new_town(
    acc: Accumulator,
    rng: np.random.Generator,
    cx: float,
    cy: float,
    nsb: int,
    angle: float,
    code: str,
) -> dict:
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


def _township(acc: Accumulator, rng: np.random.Generator, cx: float, cy: float) -> dict:
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


def _village(
    acc: Accumulator, rng: np.random.Generator, cx: float, cy: float, hamlet: bool
) -> dict:
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
    rng: np.random.Generator,
    district_geoms: Sequence[Any],
    towns: list[dict],
    townships: list[tuple[float, float]],
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
    for (code, *_), geom in zip(DISTRICTS, district_geoms, strict=True):
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


def _roads(acc: Accumulator, rng: np.random.Generator, anchors: list[dict]) -> None:
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
    for i in np.flatnonzero(extra):  # type: ignore[assignment]  # numpy integers as keys
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
    acc: Accumulator,
    rng: np.random.Generator,
    core: dict,
    towns: list[dict],
    townships: list[dict],
    villages: list[dict],
    zone: Any,
) -> None:
    """Place elderly care, community services, heritage and other features."""

    def near(x: np.ndarray, y: np.ndarray, spread: float) -> tuple[np.ndarray, np.ndarray]:
        return x + rng.uniform(-spread, spread, len(x)), y + rng.uniform(-spread, spread, len(y))

    def elderly(x: np.ndarray, y: np.ndarray, zh_share: float = 0.4, first: int = 1) -> None:
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
            points(x, y),
            names,
            amenity="social_facility",
            social_facility=kinds,
            social_facility__for="senior",
        )

    def community(x: np.ndarray, y: np.ndarray, first: int = 1) -> None:
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
        acc.feature_batch(points(x, y), names, **tags)

    # --- elderly care: many in the core, few in new towns, almost none in villages.
    n_core = 96
    pick = rng.choice(len(core["resid_x"]), n_core, replace=False)
    x, y = near(core["resid_x"][pick], core["resid_y"][pick], 20)
    elderly(x[:-5], y[:-5])
    acc.feature_batch(
        points(x[-5:-3], y[-5:-3]), ["Heping Nursing Home", "和平敬老院"], amenity="nursing_home"
    )
    acc.feature_batch(
        points(x[-3:-1], y[-3:-1]),
        ["Golden Years Senior Centre", "夕阳红老年活动中心"],
        amenity="community_centre",
        community_centre="community_centre",
        community_centre__for="senior",
    )
    acc.feature_batch(
        points(x[-1:], y[-1:]),
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
        points(ts["bx"][:1] + 5, ts["by"][:1] + 5),
        ["清水镇敬老院"],
        amenity="social_facility",
        social_facility="nursing_home",
        social_facility__for="senior",
    )
    v = next(v for v in villages if not v["rural"])
    acc.feature_batch(
        points(v["bx"][:1], v["by"][:1]),
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
        points(vx, vy),
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
    tourism = np.where(rng.random(len(sites)) < 0.4, "attraction", None).astype(object)  # type: ignore[call-overload]
    acc.feature_batch(
        points(sites[:, 0], sites[:, 1]), names, historic=hist, heritage=her, tourism=tourism
    )
    # A listed building tagged only with heritage=*, and a rural protected area.
    acc.feature_batch(
        points([outside[0, 0] + 120], [outside[0, 1] - 80]),
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
        points(x, y), [f"{_OTHER_KINDS[i][2]} {j + 1}" for j, i in enumerate(k)], **tags
    )


# --------------------------------------------------------------------------- the city


@dataclass(frozen=True, eq=False)
class City:
    """The demo city in local metres, as :func:`build_city` draws it.

    Attributes
    ----------
    acc
        The streets, buildings, landuse and features, in drawing order.
    district_geoms
        The nine district polygons, in :data:`DISTRICTS` order.
    hamlet_nodes
        Node ids of each road-less hamlet (kept though cut off from the network).
    """

    acc: Accumulator
    district_geoms: list[shapely.Geometry]
    hamlet_nodes: list[np.ndarray]


def build_city(rng: np.random.Generator) -> City:
    """Draw the demo city from ``rng`` (core, towns, townships, villages, roads, features)."""
    acc = Accumulator()
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
    return City(acc, district_geoms, hamlet_nodes)
