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
:mod:`geoapp.sources.demo_city` draws the streets, buildings, landuse and features in
local metres; this module assembles them into the ``Region`` and caches it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import logging
import pickle
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geoapp._atomic import atomic_path
from geoapp.cache import cache_root
from geoapp.region import FEATURE_TAG_KEYS, SYNTHETIC_LABEL, WGS84, Region
from geoapp.sources.capacity import CAPACITY_TAG_KEYS
from geoapp.sources.demo_city import DISTRICTS, build_city, points

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
        # (pandas-stubs: a numpy integer row and get_loc's int are valid .iat keys)
        if n % 12 == 7:
            out.iat[i, out.columns.get_loc("capacity")] = f"approx. {beds}"  # type: ignore[index]
        elif n % 5 == 2:
            out.iat[i, out.columns.get_loc("capacity:beds")] = str(beds)  # type: ignore[index]
        else:
            out.iat[i, out.columns.get_loc("beds")] = str(beds)  # type: ignore[index]
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
    city = build_city(rng)
    acc, district_geoms, hamlet_nodes = city.acc, city.district_geoms, city.hamlet_nodes

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
        geometry=to_wgs(points(nx_[node_idx], ny_[node_idx])),
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
            "district": [d[1] for d in DISTRICTS],
            "district_code": [d[0] for d in DISTRICTS],
            "zone_type": [d[3] for d in DISTRICTS],
            "zone_fine": [d[4] for d in DISTRICTS],
            "district_zh": [d[2] for d in DISTRICTS],
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

    The disk copy is keyed by the seed and a hash of this module's source, of
    :mod:`geoapp.sources.demo_city` (the generator) and of ``geoapp/region.py`` (the
    Region class and its column contracts), so any change to them makes a new one. A
    missing, unreadable or stale file is rebuilt.
    """
    from geoapp import region as _region_module
    from geoapp.sources import demo_city

    sources = (
        Path(__file__).read_bytes()
        + Path(demo_city.__file__).read_bytes()
        + Path(_region_module.__file__).read_bytes()
    )
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
