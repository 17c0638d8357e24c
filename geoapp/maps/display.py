"""Display preparation for the maps: geometry, colour classes, tooltip text, caps.

Nothing here draws or knows folium. :func:`prepare` turns a frame into what a map
layer sends to the browser (EPSG:4326, simplified in the local metric CRS, rounded to
5 decimals), :func:`feature_collection` into GeoJSON; the city-scale helpers
(:func:`display_resolution`, :func:`demand_cells`, :func:`hexes_for_display`,
:func:`aggregate_points`, :data:`MAX_FEATURES`) keep a map small; the distance classes
(:func:`distance_bins`, :func:`distance_colormap`) and the colour constants are shared
by the layers and their legends; the text helpers (:func:`esc`, :func:`fmt_int`,
:func:`dist_text`, :func:`kind_name` ...) build escaped tooltip and popup fields.
"""

from __future__ import annotations

import functools
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import branca.colormap
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoapp.crs import local_crs
from geoapp.errors import InputError
from geoapp.i18n import STRINGS, t

WGS84 = "EPSG:4326"

#: Colours of the walking-distance classes, nearest first; the last is "beyond".
DISTANCE_COLORS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
BEYOND_COLOR = "#6a1b4d"

#: Fill opacity of demand cells within the layer's target (pale) and beyond it (strong).
COVERED_OPACITY = 0.28
UNCOVERED_OPACITY = 0.78

#: Fill of demand cells when the layer has no facility in the data (not "unreachable").
NO_DATA_COLOR = "#b9b9b9"

#: Outline colour of gap areas (also their rank labels).
GAP_COLOR = "#b00020"

#: Walking speed (km/h) used for the minutes of the legend when none is given
#: (``geoapp.coverage.SPEED_PRESETS["adult"]``).
DEFAULT_SPEED_KMH = 4.5

#: Features a coverage map holds at most by default (all layers together); keeps a
#: city-sized map.html well under 10 MB.
MAX_FEATURES = 15_000

#: Facility layers with more points than this are clustered.
CLUSTER_OVER = 300

#: Gap areas labelled with their rank by default.
LABEL_TOP = 10

#: Decimals of map coordinates (about 1 m) and the default simplification tolerance
#: (m; more for larger regions, :func:`display_tolerance_m`).
_DECIMALS = 5
TOLERANCE_M = 6.0


# ---------------------------------------------------------------------- text

_SENIOR = {"senior", "seniors", "elderly"}


def kind_name(kind: object, lang: str = "en", *, detail: object = None) -> str:
    """Return the readable name of a facility or heritage ``kind`` (an OSM tag value).

    Parameters
    ----------
    kind
        The ``kind`` column value (e.g. ``"social_facility"``, ``"nursing_home"``).
    lang
        ``"en"`` or ``"zh"``.
    detail
        A more specific tag value to prefer when ``kind`` is a generic key (the
        ``social_facility`` value of an ``amenity=social_facility``).

    Returns
    -------
    str
        e.g. "Nursing home" / "养老院"; a numeric ``heritage=*`` value gives "Listed
        heritage (level 4)"; an unknown value is shown with underscores as spaces.
        The names are the ``kind_<value>`` entries of :data:`geoapp.i18n.STRINGS`.
    """

    def clean(value: object) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return str(value).split(";")[0].strip()

    d, k = clean(detail), clean(kind)
    for v in (d, k):
        if v and f"kind_{v}" in STRINGS:
            return t(f"kind_{v}", lang)
    if k.isdigit():
        return t("listed_level", lang, level=k)
    v = d or k
    return v.replace("_", " ").capitalize() if v else ""


def facility_kinds(g: pd.DataFrame, lang: str) -> list[str]:
    """Return the escaped readable kind of each facility row (:func:`kind_name`).

    A ``social_facility`` is named by its ``social_facility`` value, a community centre
    for seniors ("community_centre:for") is a senior centre.
    """
    kinds = column_or(g, "kind", None).tolist()
    details = column_or(g, "social_facility", None).tolist()
    cfor = column_or(g, "community_centre:for", None).astype(object).tolist()
    out = []
    for k, d, f in zip(kinds, details, cfor, strict=True):
        if str(k) == "community_centre" and str(f or "").split(";")[0] in _SENIOR:
            k = "senior_centre"
        out.append(esc(kind_name(k, lang, detail=d if str(k) == "social_facility" else None)))
    return out


def fmt_minutes(metres: float, speed_kmh: float) -> str:
    """Return the walking minutes of ``metres`` at ``speed_kmh``, rounded, as text."""
    return f"{metres / (speed_kmh * 1000.0 / 60.0):.0f}"


def dist_text(value: object, lang: str, *, limit_m: float | None = None) -> str:
    """Distance in metres (rounded to 10 m like the gap reasons) or "not reachable"."""
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if math.isnan(f):
        return ""
    if not math.isfinite(f):
        if limit_m is not None and math.isfinite(limit_m):
            return t("map_not_reachable", lang, limit=f"{limit_m:,.0f}")
        return t("not_reachable_any", lang)
    return f"{round(f / 10.0) * 10:,.0f} m" if lang != "zh" else f"{round(f / 10.0) * 10:,.0f} 米"


def esc(value: object) -> str:
    """Return ``value`` as text safe to place inside HTML (and a JS template string)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).replace("`", "&#96;").replace("$", "&#36;")


def fmt_int(value: object) -> str:
    """Return ``value`` rounded with thousands separators ("–" infinite, "" not a number)."""
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(f):
        return "–"
    return f"{round(f):,}"


def column_or(gdf: pd.DataFrame, name: str, default: object = "") -> pd.Series:
    """Return the column ``name``, or a column of ``default`` when ``gdf`` has none."""
    if name in gdf.columns:
        return gdf[name]
    return pd.Series([default] * len(gdf), index=gdf.index, dtype=object)


def text_col(gdf: pd.DataFrame, name: str) -> list[str]:
    """Return a column as a list of escaped strings ('' for missing)."""
    return [esc(v) for v in column_or(gdf, name, None).tolist()]


def localized(g: pd.DataFrame, column: str, lang: str) -> pd.Series:
    """Return ``column`` in ``lang`` (``<column>_<lang>`` where present and non-empty)."""
    base = column_or(g, column, "").astype(object).where(lambda s: s.notna(), "").astype(str)
    alt_name = f"{column}_{lang}"
    if alt_name in g.columns:
        alt = g[alt_name].astype(object).where(lambda s: s.notna(), "").astype(str)
        return alt.where(alt != "", base)
    return base


# ------------------------------------------------------------------ geometry


@functools.lru_cache(maxsize=128)
def _utm_epsg(zone: int, north: bool) -> CRS:
    return CRS.from_epsg((32600 if north else 32700) + zone)


def _map_crs(geoms: gpd.GeoSeries) -> CRS:
    """Return the UTM zone at the centre of ``geoms`` (a metric CRS to simplify in).

    Arithmetic on the bounds instead of :func:`geoapp.crs.local_crs`'s PROJ database
    lookup (about 0.1 s per new extent, and every map layer has its own): simplifying
    for display only needs a metric CRS close to the data.
    """
    geo = geoms if geoms.crs is not None and geoms.crs.is_geographic else geoms.to_crs(WGS84)
    minx, miny, maxx, maxy = geo.total_bounds
    lon, lat = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 84:
        return local_crs(geo)
    zone = min(max(int((lon + 180.0) // 6.0) + 1, 1), 60)
    return _utm_epsg(zone, lat >= 0)


def prepare(
    gdf: gpd.GeoDataFrame,
    *,
    tolerance_m: float = TOLERANCE_M,
    decimals: int = _DECIMALS,
    preserve_topology: bool = True,
) -> gpd.GeoDataFrame:
    """Return a copy in EPSG:4326, simplified in the local CRS and rounded.

    Rows with missing or empty geometry are dropped. ``preserve_topology=False`` is
    several times faster (plain Douglas-Peucker) and is used for lines and for
    catchments, whose exact validity does not matter for drawing.
    """
    if gdf is None or len(gdf) == 0:
        return gpd.GeoDataFrame(geometry=[], crs=WGS84)
    if gdf.crs is None:
        raise InputError("A map layer has no coordinate reference system; set one first.")
    raw = gdf.geometry.to_numpy()
    keep = ~(shapely.is_missing(raw) | shapely.is_empty(raw))  # no geopandas notna warning
    out = gdf.loc[keep]
    if len(out) == 0:
        return gpd.GeoDataFrame(geometry=[], crs=WGS84)
    geoms = out.geometry
    all_points = bool((geoms.geom_type == "Point").all())
    if tolerance_m > 0 and not all_points:
        crs = _map_crs(geoms)
        geoms = (
            geoms.to_crs(crs)
            .simplify(tolerance_m, preserve_topology=preserve_topology)
            .to_crs(WGS84)
        )
    elif str(geoms.crs) != WGS84 and geoms.crs != WGS84:
        geoms = geoms.to_crs(WGS84)
    arr = shapely.transform(np.asarray(geoms.array), lambda c: np.round(c, decimals))
    result = gpd.GeoDataFrame(
        out.drop(columns=out.geometry.name), geometry=list(arr), crs=WGS84, index=out.index
    )
    return result[~result.geometry.is_empty]


def feature_collection(gdf: gpd.GeoDataFrame, props: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection of ``gdf``'s geometry with ``props``."""
    keys = list(props)
    columns = [list(props[k]) for k in keys]
    features = []
    # GeoJSON geometry written by GEOS in one vectorised call (much faster than
    # ``__geo_interface__`` per feature), then parsed back to embed it
    geo_json = shapely.to_geojson(np.asarray(gdf.geometry.array)) if len(gdf) else []
    for i, gj in enumerate(geo_json):
        p = {k: _json_value(col[i]) for k, col in zip(keys, columns, strict=True)}
        p = {k: v for k, v in p.items() if v is not None and v != ""}
        features.append({"type": "Feature", "geometry": json.loads(gj), "properties": p})
    return {"type": "FeatureCollection", "features": features}


def _json_value(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, dict):
        return v
    if pd.isna(v) if not isinstance(v, (list, tuple)) else False:
        return None
    return v


def bounds_of(*frames: gpd.GeoDataFrame | None) -> list[list[float]] | None:
    """Return ``[[south, west], [north, east]]`` of all ``frames`` (None when all empty)."""
    boxes = []
    for f in frames:
        if f is None or len(f) == 0:
            continue
        g = f.geometry if f.crs is None or f.crs == WGS84 else f.geometry.to_crs(WGS84)
        b = g.total_bounds
        if np.all(np.isfinite(b)):
            boxes.append(b)
    if not boxes:
        return None
    a = np.vstack(boxes)
    return [
        [float(a[:, 1].min()), float(a[:, 0].min())],
        [float(a[:, 3].max()), float(a[:, 2].max())],
    ]


def data_extent_frame(
    boundaries: gpd.GeoDataFrame | None, *data: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame | None:
    """Return the box a map opens on: the data's extent, within the boundaries' extent.

    ``data`` are the frames holding the analysis (demand points or cells, streets,
    facilities); their bounding box is cut to the boundaries' bounding box (the study
    area, or the districts), so a small extract inside a city's districts opens on the
    extract, and streets kept whole past a study area's edge do not widen the view.
    Falls back to the boundaries when no data frame holds a feature, or when the two
    boxes do not meet. One-row frame (EPSG:4326), or None when everything is empty.
    """
    data_box = bounds_of(*data)
    bnd_box = bounds_of(boundaries)
    if data_box is None:
        if bnd_box is None:
            return None
        return boundaries if boundaries is not None else None
    (s, w), (n, e) = data_box
    if bnd_box is not None:
        (bs, bw), (bn, be) = bnd_box
        cut = (max(s, bs), max(w, bw), min(n, bn), min(e, be))
        if cut[0] <= cut[2] and cut[1] <= cut[3]:
            s, w, n, e = cut
    return gpd.GeoDataFrame(geometry=[shapely.box(w, s, e, n)], crs=WGS84)


def extent_area_km2(frame: gpd.GeoDataFrame | None) -> float:
    """Return the area (km²) of the bounding box of ``frame`` (0 when empty)."""
    b = bounds_of(frame)
    if b is None:
        return 0.0
    (s, w), (n, e) = b
    lat = math.radians((s + n) / 2.0)
    return float((e - w) * 111.32 * math.cos(lat) * (n - s) * 110.57)


# ---------------------------------------------------------------- city scale


def extent_km(*frames: gpd.GeoDataFrame | None) -> float:
    """Return the diagonal (km) of the bounding box of ``frames`` (0 when empty)."""
    b = bounds_of(*frames)
    if b is None:
        return 0.0
    (s, w), (n, e) = b
    lat = math.radians((s + n) / 2.0)
    dx = (e - w) * 111.32 * math.cos(lat)
    dy = (n - s) * 110.57
    return float(math.hypot(dx, dy))


def display_tolerance_m(diagonal_km: float) -> float:
    """Simplification tolerance (m) for a map of this size: 6 m, more beyond ~25 km.

    About a pixel at the zoom that shows the whole region on a 1,440-pixel screen.
    """
    return float(max(TOLERANCE_M, min(60.0, diagonal_km * 1000.0 / 4000.0)))


def _weighted_pick(keys: np.ndarray, values: pd.Series, weight: np.ndarray) -> pd.Series:
    """For each key the value holding the largest weight (first on ties)."""
    df = pd.DataFrame({"k": keys, "v": values.astype(object).to_numpy(), "w": weight})
    df = df.sort_values("w", ascending=False, kind="stable").drop_duplicates("k")
    return df.set_index("k")["v"]


def coarsen_hexes(hexes: gpd.GeoDataFrame, res: int) -> gpd.GeoDataFrame:
    """Re-aggregate H3 demand cells (``hexes.aggregate_h3`` output) to ``res``.

    Sums (``pop``, ``pop_60plus``, ``n_points``) add up; ``share_beyond`` is averaged
    weighted by ``pop``, ``dist_m_mean`` (and ``dist_m``) weighted by the residents
    within reach (``pop x (1 - share_beyond)``); ``district``, ``zone_type`` and
    ``settlement`` take the value of the child holding most residents. Cells of a
    resolution at or below ``res`` are kept as they are. The input is not changed.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 hexagons of resolution ``res`` with the same columns.
    """
    if len(hexes) == 0 or "h3" not in hexes.columns:
        return hexes
    cells = hexes["h3"].astype(str).to_numpy()
    uniq, inv = np.unique(cells, return_inverse=True)
    parents_u = np.array(
        [c if h3.get_resolution(c) <= res else h3.cell_to_parent(c, res) for c in uniq],
        dtype=object,
    )
    parent = parents_u[inv]
    pop = pd.to_numeric(column_or(hexes, "pop", 0.0), errors="coerce").fillna(0.0).to_numpy(float)
    w = np.where(pop > 0, pop, 1e-9)
    df = pd.DataFrame({"h3": parent, "_w": w})
    sums = [c for c in ("n_points", "pop", "pop_60plus") if c in hexes.columns]
    for c in sums:
        df[c] = pd.to_numeric(hexes[c], errors="coerce").fillna(0.0).to_numpy(float)
    beyond = (
        pd.to_numeric(hexes["share_beyond"], errors="coerce").fillna(0.0).to_numpy(float)
        if "share_beyond" in hexes.columns
        else np.zeros(len(hexes))
    )
    df["_b"] = beyond * w
    reach_w = w * (1.0 - beyond)
    means = [c for c in ("dist_m_mean", "dist_m") if c in hexes.columns]
    for c in means:
        v = pd.to_numeric(hexes[c], errors="coerce").to_numpy(float)
        fin = np.isfinite(v)
        df[f"_{c}_wv"] = np.where(fin, np.where(fin, v, 0.0) * reach_w, 0.0)
        df[f"_{c}_wf"] = np.where(fin, reach_w, 0.0)
    g = df.groupby("h3", sort=True)
    summed = g.sum(numeric_only=True)
    out = pd.DataFrame(index=summed.index)
    for c in sums:
        out[c] = summed[c]
    if "n_points" in out.columns:
        out["n_points"] = out["n_points"].round().astype("int64")
    for c in means:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = summed[f"_{c}_wv"] / summed[f"_{c}_wf"]
        out[c] = mean.where(summed[f"_{c}_wf"] > 0)
        if c == "dist_m":
            out[c] = out[c].fillna(np.inf)
    if "share_beyond" in hexes.columns:
        out["share_beyond"] = summed["_b"] / summed["_w"]
    for c in ("district", "zone_type", "settlement"):
        if c in hexes.columns:
            out[c] = _weighted_pick(parent, hexes[c], w).reindex(out.index)
    out = out.reset_index()
    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in out["h3"]]
    rings = [r + [r[0]] * (6 - len(r)) for r in rings]
    geoms = shapely.polygons(np.asarray(rings, dtype=float)) if rings else []
    return gpd.GeoDataFrame(out, geometry=list(geoms), crs=WGS84)


def display_resolution(diagonal_km: float, *, max_res: int = 10, min_res: int = 4) -> int:
    """Return the H3 resolution for demand cells on a map of this size.

    The finest resolution whose cells are still a few pixels wide when the whole
    region fills a 1,440-pixel screen (edge at least 1/400 of the diagonal): res 10
    (66 m edge) for a neighbourhood, res 9 (174 m) for a 40-60 km region, res 8 (460 m)
    or 7 (1.2 km) for a city the size of Beijing.
    """
    need_km = max(float(diagonal_km), 0.0) / 400.0
    for r in range(int(max_res), int(min_res) - 1, -1):
        if h3.average_hexagon_edge_length(r, unit="km") >= need_km:
            return r
    return int(min_res)


def demand_cells(
    access: gpd.GeoDataFrame, *, res: int, max_cells: int
) -> tuple[gpd.GeoDataFrame, int]:
    """Aggregate demand (access) points to H3 cells for a map.

    ``res`` is the wanted resolution (:func:`display_resolution`); it is lowered until
    at most ``max_cells`` cells remain. Resolutions up to 9 reuse the points' ``h3``
    column (res 9) through parent cells; res 10 indexes the points. Output as
    :func:`geoapp.hexes.aggregate_h3` (``dist_m_mean``, ``share_beyond`` ...).
    """
    from geoapp.hexes import aggregate_h3, h3_cells

    have9 = "h3" in access.columns and len(access) and _h3_res(access["h3"].iloc[0]) == 9
    if res > 9 or not have9:
        base_res = max(res, 0)
        cells = np.asarray(h3_cells(access.geometry, base_res), dtype=object)
    else:
        base_res, cells = 9, access["h3"].astype(str).to_numpy(dtype=object)
    uniq, inv = np.unique(cells, return_inverse=True)
    r = min(res, base_res)
    cur = _parents(uniq, r)
    while len(np.unique(cur)) > max(int(max_cells), 1) and r > 0:
        r -= 1
        cur = _parents(uniq, r)
    table = access.assign(h3=cur[inv])
    return aggregate_h3(table, res=r), r


def _h3_res(cell: object) -> int | None:
    try:
        return int(h3.get_resolution(str(cell)))
    except (ValueError, TypeError, h3.H3BaseException):
        return None


def _parents(cells: np.ndarray, res: int) -> np.ndarray:
    return np.array(
        [c if not c or h3.get_resolution(c) <= res else h3.cell_to_parent(c, res) for c in cells],
        dtype=object,
    )


def hexes_for_display(
    hexes: gpd.GeoDataFrame | None, max_cells: int, *, res: int | None = None
) -> tuple[gpd.GeoDataFrame | None, int | None]:
    """Return demand cells coarse enough that at most ``max_cells`` are drawn.

    The H3 resolution is the finest (at most the input's, and at most ``res`` when
    given, see :func:`display_resolution`) whose cell count fits: a district-sized
    region keeps res 9 (about 0.1 km² cells), a city-sized one gets res 8 or 7 (0.7 or
    5 km²). Returns the cells and their resolution (None when the cells carry no
    ``h3`` id; they are then returned unchanged).
    """
    if hexes is None or len(hexes) == 0 or "h3" not in hexes.columns:
        return hexes, None
    in_res = _h3_res(hexes["h3"].iloc[0])
    if in_res is None:
        return hexes, None
    out = hexes
    if res is not None and res < in_res:
        out = coarsen_hexes(hexes, res)
    res = min(in_res, res) if res is not None else in_res
    cap = max(int(max_cells), 1)
    while len(out) > cap and res > 0:
        res -= 1
        out = coarsen_hexes(hexes, res)
    if len(out) > cap:  # a huge extent even at res 0: keep the most populous cells
        pop = pd.to_numeric(column_or(out, "pop", 0.0), errors="coerce").fillna(0.0)
        out = out.loc[pop.sort_values(ascending=False, kind="stable").index[:cap]]
    return out, res


def cell_km2(res: int) -> str:
    """Return the average area (km²) of an H3 cell of resolution ``res``, as text."""
    a = h3.average_hexagon_area(res, unit="km^2")
    return f"{a:.2g}" if a < 10 else f"{a:,.0f}"


def dissolve_catchments(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One (multi)polygon per radius: the union of every facility's catchment."""
    if len(g) == 0:
        return g
    geoms = shapely.union_all(shapely.make_valid(np.asarray(g.geometry.array)))
    keep = {"radius_m": [float(pd.to_numeric(g["radius_m"]).iloc[0])]} if "radius_m" in g else {}
    return gpd.GeoDataFrame(keep, geometry=[geoms], crs=g.crs)


def aggregate_points(g: gpd.GeoDataFrame, cap: int, lang: str) -> gpd.GeoDataFrame:
    """Merge points into H3 cells (coarsest first fit) until at most ``cap`` remain.

    Each merged point stands at the mean position of its members; its ``name`` says
    how many facilities it holds. Used only when a layer has more facilities than a
    map can carry; the full table stays in the bundle.
    """
    pts = g.geometry if bool((g.geometry.geom_type == "Point").all()) else g.representative_point()
    pts = pts.to_crs(WGS84) if g.crs is not None and str(g.crs) != WGS84 else pts
    lat, lng = pts.y.to_numpy(), pts.x.to_numpy()
    for res in range(10, -1, -1):
        cells = np.array([h3.latlng_to_cell(a, b, res) for a, b in zip(lat, lng, strict=True)])
        n_cells = len(np.unique(cells))
        if n_cells <= cap:
            break
    df = pd.DataFrame({"c": cells, "lat": lat, "lng": lng})
    agg = df.groupby("c", sort=True).agg(lat=("lat", "mean"), lng=("lng", "mean"), n=("c", "size"))
    word = "设施" if lang == "zh" else "facilities"
    names = [f"{n:,} {word}" if n > 1 else "" for n in agg["n"].tolist()]
    return gpd.GeoDataFrame(
        {"name": names, "n_facilities": agg["n"].to_numpy()},
        geometry=gpd.points_from_xy(agg["lng"], agg["lat"]),
        crs=WGS84,
    )


# ------------------------------------------------------------------- colours

_HEX_COLOR_RE = re.compile(r"#[0-9A-Fa-f]{3}(?:[0-9A-Fa-f]{3})?")


def safe_color(color: object, default: str = "#3366cc") -> str:
    """Return ``color`` when it is a plain ``#rgb``/``#rrggbb`` colour, else ``default``."""
    c = str(color or "")
    return c if _HEX_COLOR_RE.fullmatch(c) else default


def distance_bins(radii_m: Sequence[float]) -> list[float]:
    """Return the class edges used to colour walking distances: 0, radii..., inf."""
    radii = sorted({float(r) for r in radii_m if float(r) > 0})
    return [0.0, *radii, math.inf]


def distance_colormap(radii_m: Sequence[float]) -> branca.colormap.StepColormap:
    """Return a branca step colormap over the distance classes of ``radii_m``.

    The last class (beyond the largest radius, or unreachable) is :data:`BEYOND_COLOR`.
    """
    bins = distance_bins(radii_m)
    n = len(bins) - 1
    palette = list(DISTANCE_COLORS[: max(n - 1, 1)]) if n - 1 <= len(DISTANCE_COLORS) else None
    if palette is None:
        ramp = branca.colormap.LinearColormap(list(DISTANCE_COLORS), vmin=0, vmax=n - 2)
        palette = [ramp(i) for i in range(n - 1)]
    colors = [*palette[: n - 1], BEYOND_COLOR]
    top = bins[-2] * 2 if len(bins) > 2 else 1.0
    index = [*bins[:-1], top]
    return branca.colormap.StepColormap(colors, index=index, vmin=0.0, vmax=top)


def class_palette(radii_m: Sequence[float]) -> list[str]:
    """Return the colour of each distance class of ``radii_m``; the last is "beyond"."""
    bins = distance_bins(radii_m)
    cmap = distance_colormap(radii_m)
    return [cmap((lo + hi) / 2) for lo, hi in zip(bins[:-2], bins[1:-1], strict=True)] + [
        BEYOND_COLOR
    ]


def distance_class(values: np.ndarray, radii_m: Sequence[float]) -> np.ndarray:
    """Return the class index of each distance (a distance equal to a radius is within it)."""
    bins = distance_bins(radii_m)
    v = np.asarray(values, dtype=float)
    return np.searchsorted(np.asarray(bins[1:-1]), np.where(np.isfinite(v), v, np.inf), side="left")


def _distance_color(values: np.ndarray, radii_m: Sequence[float]) -> list[str]:
    """Return the class colour of each distance (a distance equal to a radius is within it)."""
    palette = np.array(class_palette(radii_m), dtype=object)
    return palette[distance_class(values, radii_m)].tolist()


def hex_distance(g: pd.DataFrame, column: str) -> np.ndarray:
    """Return the distance that colours each cell (``inf`` = beyond reach).

    Uses ``column`` when present; otherwise the output of
    :func:`geoapp.hexes.aggregate_h3`: ``dist_m_mean`` (mean of the finite
    distances), with cells where most residents are beyond reach
    (``share_beyond`` >= 0.5) counted as beyond.
    """
    if column in g.columns:
        return pd.to_numeric(g[column], errors="coerce").fillna(np.inf).to_numpy(float)
    if "dist_m_mean" in g.columns:
        dist = pd.to_numeric(g["dist_m_mean"], errors="coerce").fillna(np.inf).to_numpy(float)
        if "share_beyond" in g.columns:
            beyond = pd.to_numeric(g["share_beyond"], errors="coerce").fillna(0.0).to_numpy(float)
            dist = np.where(beyond >= 0.5, np.inf, dist)
        return dist
    return np.full(len(g), np.inf)
