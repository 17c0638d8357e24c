"""Coordinate reference systems: local metric CRS, and China's GCJ-02 / BD-09.

Distances and areas are always measured in :func:`local_crs` (a UTM zone estimated
from the data), never in a geographic CRS.
"""

from __future__ import annotations

import functools
import math
import weakref
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from pyproj import CRS, Transformer

from geoapp.errors import CRSError

WGS84 = "EPSG:4326"


def local_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """Return the UTM CRS that best fits ``gdf`` (which must carry a CRS).

    The lookup in the PROJ database is slow (~0.1 s), so results are cached by the
    data's bounds rounded to 0.01 degree; nearby data share one zone.

    Raises
    ------
    CRSError
        If ``gdf`` has no CRS or is empty.
    """
    if gdf.crs is None:
        raise CRSError("Data has no coordinate reference system; set one (e.g. EPSG:4326).")
    if len(gdf) == 0 or gdf.geometry.is_empty.all():
        raise CRSError("Cannot estimate a local CRS for empty data.")
    geo = gdf.geometry if gdf.crs.is_geographic else gdf.geometry.to_crs(WGS84)
    minx, miny, maxx, maxy = geo.total_bounds
    key = tuple(round(float(v), 2) for v in (minx, miny, maxx, maxy))
    if not all(map(math.isfinite, key)):
        raise CRSError("Cannot estimate a local CRS: the data has no finite coordinates.")
    return _utm_for_bounds(geo.crs.to_string(), key)


@functools.lru_cache(maxsize=256)
def _utm_for_bounds(crs: str, bounds: tuple[float, float, float, float]) -> CRS:
    """Return the WGS 84 UTM zone of the bounds' centre (EPSG 326zz north, 327zz south).

    Worked out arithmetically: querying the PROJ database costs ~0.1 s per call.
    """
    minx, miny, maxx, maxy = bounds
    lon = (minx + maxx) / 2.0
    lat = (miny + maxy) / 2.0
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise CRSError(
            f"Coordinates around ({lon:.3f}, {lat:.3f}) are not longitude/latitude; "
            "the data's CRS is probably wrong."
        )
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def to_local(gdf: gpd.GeoDataFrame, crs: CRS | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` projected to ``crs`` or to its :func:`local_crs`."""
    return gdf.to_crs(crs or local_crs(gdf))


#: The transformer ``GeoSeries.to_crs`` uses (geopandas caches ``Transformer.from_crs``
#: the same way), so :func:`project_geometries` gives its coordinates bit for bit.
_transformer = functools.lru_cache(maxsize=64)(Transformer.from_crs)

#: Fewest coordinates for which :func:`project_geometries` looks for repeated ones.
_DEDUP_MIN = 100_000


def project_geometries(geoms: ArrayLike, src: Any, dst: Any, *, valid: bool = False) -> np.ndarray:
    """Return ``geoms`` (an array of 2-D shapely geometries) projected from ``src`` to ``dst``.

    The coordinates ``GeoSeries(geoms, crs=src).to_crs(dst)`` gives, bit for bit, but
    each distinct coordinate pair is projected once: the catchments of one radius
    share their borders and those of several radii nest, so three in four of their
    vertices are repeats (PROJ's transverse Mercator costs about 0.14 µs a point).
    Geometries with Z, and a CRS equal to ``src``, go through geopandas as before.

    ``valid=True`` (the caller made ``geoms`` valid) records the projections as valid
    too, for as long as they live (:func:`known_valid`): an export need not check
    them again.
    """
    arr = np.asarray(geoms, dtype=object)
    out = _project(arr, src, dst)
    if valid:
        _remember_valid(out)
    return out


def _project(arr: np.ndarray, src: Any, dst: Any) -> np.ndarray:
    """:func:`project_geometries` without recording validity."""
    src_crs, dst_crs = CRS.from_user_input(src), CRS.from_user_input(dst)
    if len(arr) == 0 or src_crs.is_exact_same(dst_crs) or shapely.has_z(arr).any():
        return np.asarray(gpd.GeoSeries(arr, crs=src_crs).to_crs(dst_crs).array, dtype=object)
    xy = shapely.get_coordinates(arr)
    n = len(xy)
    transform = _transformer(src_crs, dst_crs, always_xy=True).transform
    if n >= _DEDUP_MIN:
        bits = xy.view(np.uint64)
        key = bits[:, 0] * np.uint64(0x9E3779B97F4A7C15) ^ bits[:, 1]
        codes, uniq = pd.factorize(key)
        if len(uniq) < 0.8 * n:
            first = np.empty(len(uniq), dtype=np.int64)
            first[codes[::-1]] = np.arange(n - 1, -1, -1)
            # no two distinct points share a key: equal keys and equal x bits mean equal
            # y bits (the key is x * C ^ y)
            if (bits[first, 0][codes] == bits[:, 0]).all():
                x, y = transform(xy[first, 0], xy[first, 1])
                return shapely.set_coordinates(arr.copy(), np.column_stack((x, y))[codes])
    x, y = transform(xy[:, 0], xy[:, 1])
    return shapely.set_coordinates(arr.copy(), np.column_stack((x, y)))


#: The geometries :func:`project_geometries` made from valid ones (``valid=True``), by
#: ``id``: a weak reference to each. An entry goes when its geometry is freed (before
#: the id can name another object).
_VALID: dict[int, weakref.ref[Any]] = {}


def _remember_valid(geoms: np.ndarray) -> None:
    for g in geoms:
        if g is not None:
            key = id(g)
            _VALID[key] = weakref.ref(g, functools.partial(_VALID.pop, key))


def _is_known(g: Any) -> bool:
    ref = _VALID.get(id(g))
    return ref is not None and ref() is g


def known_valid(geoms: ArrayLike) -> np.ndarray:
    """Return, per geometry, whether it is known valid without checking it again.

    True for the very geometry objects :func:`project_geometries` made with
    ``valid=True`` (projections of geometries the caller made valid, such as
    :func:`geoapp.network.catchments`'s) while they live; False for any other, such
    as a copy with changed coordinates (check those).
    """
    arr = np.asarray(geoms, dtype=object)
    none = np.zeros(len(arr), dtype=bool)
    if not _VALID or not len(arr):
        return none
    present = np.flatnonzero(~shapely.is_missing(arr))
    if not len(present) or not _is_known(arr[present[0]]):  # a cheap first test
        return none
    return np.fromiter((_is_known(g) for g in arr), dtype=bool, count=len(arr))


# ---------------------------------------------------------------------------
# China's GCJ-02 ("Mars coordinates": Amap/Gaode, Tencent, Google China) and BD-09
# (Baidu). GCJ-02 is WGS84 plus a deterministic, non-linear offset of a few hundred
# metres (about 500-600 m in Beijing); BD-09 is a further rotation/shift of GCJ-02.
# The forward formulas below are the widely published public algorithm (Krasovsky
# 1940 ellipsoid constants); the inverses are solved iteratively to better than
# 1e-9 degrees. Outside China (the usual bounding-box rule) GCJ-02 equals WGS84.
# ---------------------------------------------------------------------------

_GCJ_A = 6378245.0  # Krasovsky 1940 semi-major axis (m)
_GCJ_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_BD_X_PI = np.pi * 3000.0 / 180.0
#: Coordinate systems accepted by :func:`convert_to_wgs84`.
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
_INVERSE_TOL_DEG = 1e-10
_INVERSE_MAX_ITER = 30


def _as_float_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon_a.astype(float, copy=True), lat_a.astype(float, copy=True)


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return True where the GCJ-02 offset does not apply (the standard bbox rule)."""
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 ``lon``/``lat``."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)) * 2.0 / 3.0
    t_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
    t_lat += (20.0 * np.sin(np.pi * y) + 40.0 * np.sin(np.pi * y / 3.0)) * 2.0 / 3.0
    t_lat += (160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * 2.0 / 3.0
    t_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
    t_lon += (20.0 * np.sin(np.pi * x) + 40.0 * np.sin(np.pi * x / 3.0)) * 2.0 / 3.0
    t_lon += (150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = t_lat * 180.0 / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = t_lon * 180.0 / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _result(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if lon.ndim == 0:
        return lon[()], lat[()]
    return lon, lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude (degrees) to GCJ-02.

    Parameters
    ----------
    lon, lat
        Scalars or array-likes of the same shape (broadcast), in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in GCJ-02; unchanged outside China.
    """
    lon_a, lat_a = _as_float_arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon_a, lat_a)
    return _result(lon_a + dlon, lat_a + dlat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude (degrees) to WGS84.

    The forward offset has no closed-form inverse; it is inverted by fixed-point
    iteration until the forward transform of the result reproduces the input to
    better than 1e-9 degrees (a few tenths of a millimetre).

    Parameters
    ----------
    lon, lat
        GCJ-02 coordinates in degrees (scalars or array-likes).

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in WGS84.
    """
    g_lon, g_lat = _as_float_arrays(lon, lat)
    dlon, dlat = _gcj_delta(g_lon, g_lat)
    w_lon, w_lat = g_lon - dlon, g_lat - dlat
    for _ in range(_INVERSE_MAX_ITER):
        dlon, dlat = _gcj_delta(w_lon, w_lat)
        err_lon = g_lon - (w_lon + dlon)
        err_lat = g_lat - (w_lat + dlat)
        w_lon = w_lon + err_lon
        w_lat = w_lat + err_lat
        err = np.maximum(np.abs(err_lon), np.abs(err_lat))
        if not np.any(err > _INVERSE_TOL_DEG):  # also stops on NaN input
            break
    return _result(w_lon, w_lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude (degrees) to Baidu BD-09.

    Parameters
    ----------
    lon, lat
        GCJ-02 coordinates in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in BD-09.
    """
    x, y = _as_float_arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return _result(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert Baidu BD-09 longitude/latitude (degrees) to GCJ-02.

    Starts from the usual closed-form approximation and refines it by fixed-point
    iteration so that :func:`gcj02_to_bd09` of the result reproduces the input to
    better than 1e-9 degrees.

    Parameters
    ----------
    lon, lat
        BD-09 coordinates in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in GCJ-02.
    """
    b_lon, b_lat = _as_float_arrays(lon, lat)
    x = b_lon - 0.0065
    y = b_lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    g_lon, g_lat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_INVERSE_MAX_ITER):
        f_lon, f_lat = gcj02_to_bd09(g_lon, g_lat)
        err_lon = b_lon - f_lon
        err_lat = b_lat - f_lat
        g_lon = g_lon + err_lon
        g_lat = g_lat + err_lat
        if not np.any(np.maximum(np.abs(err_lon), np.abs(err_lat)) > _INVERSE_TOL_DEG):
            break
    return _result(np.asarray(g_lon, dtype=float), np.asarray(g_lat, dtype=float))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert Baidu BD-09 longitude/latitude (degrees) to WGS84 (via GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude (degrees) to Baidu BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def convert_to_wgs84(lon: ArrayLike, lat: ArrayLike, coords: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert longitude/latitude given in ``coords`` to WGS84.

    Parameters
    ----------
    lon, lat
        Coordinates in degrees.
    coords
        ``"wgs84"``, ``"gcj02"`` (Amap/Gaode, Tencent) or ``"bd09"`` (Baidu);
        case-insensitive, ``-``/``_`` ignored (``"GCJ-02"`` works).

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in WGS84.

    Raises
    ------
    CRSError
        If ``coords`` is not one of the known systems.
    """
    key = normalise_coords_name(coords)
    if key == "wgs84":
        return _result(*_as_float_arrays(lon, lat))
    if key == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    return bd09_to_wgs84(lon, lat)


def normalise_coords_name(coords: object) -> str:
    """Return the canonical name (``wgs84``/``gcj02``/``bd09``) of a coordinate system.

    Raises
    ------
    CRSError
        If ``coords`` is missing or unknown; the message lists the choices.
    """
    key = str(coords).strip().lower().replace("-", "").replace("_", "") if coords else ""
    aliases = {
        "wgs84": "wgs84",
        "epsg4326": "wgs84",
        "gcj02": "gcj02",
        "bd09": "bd09",
        "bd09ll": "bd09",
    }
    if key not in aliases:
        raise CRSError(
            f"Unknown coordinate system {coords!r}; choose one of {', '.join(COORD_SYSTEMS)} "
            "(wgs84 = GPS/OpenStreetMap, gcj02 = Amap/Gaode or Tencent, bd09 = Baidu)."
        )
    return aliases[key]


def geometries_to_wgs84(geoms: ArrayLike, coords: str) -> np.ndarray:
    """Convert every vertex of shapely geometries given in ``coords`` to WGS84.

    Parameters
    ----------
    geoms
        Array of shapely geometries with lon/lat coordinates in ``coords``.
    coords
        ``"wgs84"`` (returned as is), ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    numpy.ndarray
        New geometries (object array); the input is not changed.
    """
    import shapely

    key = normalise_coords_name(coords)
    arr = np.asarray(geoms, dtype=object)
    if key == "wgs84":
        return arr.copy()

    def _xy(xy: np.ndarray) -> np.ndarray:
        lon, lat = convert_to_wgs84(xy[:, 0], xy[:, 1], key)
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(arr, _xy), dtype=object)
