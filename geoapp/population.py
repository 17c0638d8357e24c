"""Demand: residents per building, per unbuilt residential landuse, or per raster cell.

The result of :func:`estimate_population` is a :class:`Demand` (a frozen dataclass):
the demand points plus how they were made (method, profile, warnings, a data-quality
table per district, the zone method and its thresholds). Nothing travels in ``attrs``.

**Buildings.** Residents per building = floor area / floor area per person, where floor
area = footprint area (measured in the local projected CRS) × ``building:levels`` (a
default number of levels when missing). Which buildings house residents:

* ``building`` values of :data:`RESIDENTIAL_BUILDINGS` (house, apartments ...) always;
* values of :data:`NON_RESIDENTIAL` (sheds, garages, shops, churches ...) never;
* any other value (mostly untagged ``building=yes``) only with residential evidence:
  a footprint of at least :data:`MIN_HOME_FOOTPRINT_M2` (smaller ones are sheds and
  garages) **and** one of: its representative point inside residential landuse; at
  least :data:`MULTI_STOREY_LEVELS` tagged ``building:levels`` (multi-storey untagged
  buildings are mostly flats, often above shops); a footprint within
  :data:`NEAR_HOME_M` of a building that houses residents by these rules; or a
  house-sized footprint (up to :data:`MAX_UNTAGGED_HOME_M2`) with at least
  :data:`CLUSTER_NEIGHBOURS` house-sized or housing buildings within :data:`NEAR_HOME_M`
  (a village or neighbourhood whose homes are not tagged, far from any tagged home or
  residential landuse: its residents must not vanish). Large single-storey untagged
  halls away from homes (supermarkets, depots) do not count. When the extract carries no residential evidence at all (no residential
  building value, no residential landuse), untagged buildings of
  :data:`MIN_HOME_FOOTPRINT_M2`–:data:`MAX_UNTAGGED_HOME_M2` count, with a warning.

**Hybrid landuse.** Every residential landuse polygon contributes demand for its
*unbuilt part*, polygon by polygon: the polygon minus a plot of :data:`PLOT_M` around
each housing building (around its convex hull: a plot has no courtyards), opened by :data:`OPENING_M` (strips narrower than twice that,
such as streets and gardens between mapped houses, are dropped) and keeping pieces of
at least :data:`MIN_UNBUILT_M2`. That part × the profile's landuse density (residents
per km²) is spread over grid points. A polygon without buildings is wholly unbuilt.

**Population raster** (``raster=``, see :mod:`geoapp.sources.raster`): each cell's
residents are spread over the housing buildings inside it (by floor area), or put at
the cell centre when it holds none; buildings and landuse then only place residents.

**Control totals.** A census table scales each matched district to its total (and gives
its share aged 60+). With no census, district boundaries carrying ``population`` (a
float column from the OSM tag) act as control totals when they lie inside the data.

**Profiles.** Floor area per person, share aged 60+ and landuse density come from a
regional profile (``geoapp/data/profiles/*.toml``, :func:`load_profile`), chosen from
the region's location (:func:`profile_for`), overridable by parameters.

**Checks.** Place nodes tagged ``population`` (city, town, village, hamlet) and
boundaries carrying ``population`` are compared with the estimate; a factor above
:data:`CHECK_FACTOR` gives a warning naming the place, both figures and the likely
cause.

**Zones.** Every point is classified by the settlement it lies in
(:func:`geoapp.zones.classify_settlements`, over all points of the extract): column
``settlement``. With ``zones="density"`` the point's ``zone_type`` is its settlement;
otherwise ``zone_type`` stays its district's.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from shapely import box, points

from geoapp._presets import preset_path
from geoapp.crs import local_crs
from geoapp.errors import EmptyResultError, InputError
from geoapp.region import OUTSIDE_DISTRICTS
from geoapp.zones import classify_settlements, normalize_code, normalize_district_name

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
PROFILE_DIR = Path(__file__).resolve().parent / "data" / "profiles"

#: Housing floor area per person, m² (China profile). Beijing, Seventh National
#: Population Census 2020: 34.89 m² per person (rounded).
DEFAULT_M2_PER_PERSON = 35.0

#: Levels assumed for a building without ``building:levels``. Two is a deliberately low
#: choice: most untagged buildings in OSM are low-rise (houses, village buildings,
#: annexes); high-rise housing is usually tagged with its levels, and census scaling
#: corrects the district totals anyway.
DEFAULT_LEVELS = 2

#: Share of residents aged 60+ of the China profile: Seventh National Population
#: Census 2020: 18.70% of the population aged 60 and over.
DEFAULT_SHARE_60PLUS = 0.187

#: Residents per km² of unbuilt residential landuse (both shipped profiles): 100 per
#: hectare. GB 50180-2018's residential-area indicators imply roughly 10,000–30,000
#: residents per km² of residential land from low-rise to high-rise; the low end.
LANDUSE_DENSITY_PER_KM2 = 10_000.0

#: China's bounding box (lon min, lat min, lon max, lat max): inside it the ``china``
#: profile is chosen, elsewhere ``world``.
CHINA_BBOX = (73.5, 18.1, 135.1, 53.6)

#: Untagged buildings smaller than this footprint (m²) are sheds, garages, kiosks.
MIN_HOME_FOOTPRINT_M2 = 30.0
#: Untagged buildings within this distance (m, footprint to footprint) of a home count.
NEAR_HOME_M = 50.0
#: Untagged buildings with at least this many ``building:levels`` count (mostly flats).
MULTI_STOREY_LEVELS = 3
#: Largest untagged footprint (m²) counted without other evidence (no residential
#: evidence in the extract, or in a cluster of house-sized buildings).
MAX_UNTAGGED_HOME_M2 = 1_000.0
#: An untagged house-sized building with at least this many house-sized or housing
#: buildings within :data:`NEAR_HOME_M` is a home of a village or neighbourhood whose
#: homes are not tagged.
CLUSTER_NEIGHBOURS = 3
#: Plot around each housing building taken as built (m) when finding unbuilt landuse.
PLOT_M = 25.0
#: Opening radius (m): unbuilt strips narrower than twice this are dropped.
OPENING_M = 25.0
#: Smallest unbuilt piece of residential landuse that gets demand (m²).
MIN_UNBUILT_M2 = 5_000.0
#: Estimate and tag differing by more than this factor give a warning.
CHECK_FACTOR = 1.5
#: Radius (m) around a place node whose demand is compared with its ``population``.
PLACE_RADIUS_M = {"city": 5_000.0, "town": 2_500.0, "village": 1_000.0, "hamlet": 300.0}
#: Buildings per km² of residential land below which a warning blames sparse mapping.
FEW_BUILDINGS_PER_KM2 = 300.0

#: ``highway`` values of residential streets (for the sparse-mapping check).
RESIDENTIAL_STREETS = frozenset({"residential", "living_street"})
#: Fewer housing buildings per km of residential street than this gives a warning.
FEW_BUILDINGS_PER_STREET_KM = 10.0

#: ``building`` values that always house residents.
RESIDENTIAL_BUILDINGS = frozenset(
    {
        "house",
        "residential",
        "apartments",
        "detached",
        "semidetached_house",
        "terrace",
        "bungalow",
        "dormitory",
        "farm",
        "villa",
        "houseboat",
        "static_caravan",
        "ger",
        "stilt_house",
        "trullo",
    }
)

#: Sources of a demand point's residents (``pop_source`` column).
POP_SOURCES = ("building", "landuse", "raster")

#: Landuse values treated as residential (when the landuse table has a ``landuse`` column).
RESIDENTIAL_LANDUSE = frozenset({"residential"})

#: ``building`` tag values that house no residents.
NON_RESIDENTIAL = frozenset(
    {
        "retail",
        "commercial",
        "office",
        "industrial",
        "warehouse",
        "supermarket",
        "kiosk",
        "school",
        "kindergarten",
        "university",
        "college",
        "hospital",
        "clinic",
        "church",
        "chapel",
        "cathedral",
        "mosque",
        "temple",
        "shrine",
        "synagogue",
        "religious",
        "monastery",
        "garage",
        "garages",
        "carport",
        "parking",
        "shed",
        "hut",
        "cabin",
        "roof",
        "public",
        "civic",
        "government",
        "train_station",
        "transportation",
        "station",
        "hangar",
        "factory",
        "manufacture",
        "service",
        "transformer_tower",
        "water_tower",
        "storage_tank",
        "silo",
        "barn",
        "cowshed",
        "stable",
        "sty",
        "greenhouse",
        "farm_auxiliary",
        "stadium",
        "sports_hall",
        "sports_centre",
        "grandstand",
        "pavilion",
        "toilets",
        "bunker",
        "bridge",
        "tower",
        "gatehouse",
        "ruins",
        "construction",
        "digester",
        "fire_station",
        "police",
        "museum",
        "hotel",
        "no",
    }
)

DEMAND_COLUMNS = (
    "demand_id",
    "building_id",
    "floor_area_m2",
    "pop",
    "pop_60plus",
    "district",
    "district_code",
    "zone_type",
    "zone_fine",
    "settlement",
    "pop_source",
    "h3",
)

QUALITY_COLUMNS = (
    "district",
    "pop",
    "share_from_buildings",
    "share_from_landuse",
    "share_from_raster",
    "buildings_per_km2_residential",
    "residential_km2",
)


@dataclass(frozen=True)
class Demand:
    """The demand table and how it was made (the result of :func:`estimate_population`).

    Attributes
    ----------
    points
        EPSG:4326 demand points, columns :data:`DEMAND_COLUMNS` (docs/architecture.md).
    method
        ``"buildings"``, ``"buildings+landuse"``, ``"landuse"``, ``"raster"`` or
        ``"raster+buildings"``.
    profile
        ``name``, ``m2_per_person``, ``share_60plus``, ``landuse_density_per_km2``,
        ``source`` (the citations), ``chosen`` (how: location or given).
    warnings
        Plain sentences a planner should read (data checks, fallbacks, outside demand).
    quality
        One row per district: :data:`QUALITY_COLUMNS`.
    census_scaled
        True when district totals were scaled to a census table.
    zone_method
        ``"density"`` (``zone_type`` = settlement), ``"mapping:<name>"`` or
        ``"district attributes"``.
    zone_params
        Settlement thresholds and how the core was chosen.
    control_totals
        ``"census"``, ``"boundary population"`` or ``""`` (none applied).
    assumptions
        Plain sentences on what was assumed (levels, densities ...).
    outside_pop
        Residents outside every district (district :data:`~geoapp.region.OUTSIDE_DISTRICTS`).
    """

    points: gpd.GeoDataFrame
    method: str
    profile: dict[str, Any]
    warnings: tuple[str, ...] = ()
    quality: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=QUALITY_COLUMNS))
    census_scaled: bool = False
    zone_method: str = "district attributes"
    zone_params: dict[str, Any] = field(default_factory=dict)
    control_totals: str = ""
    assumptions: tuple[str, ...] = ()
    outside_pop: float = 0.0

    @property
    def total(self) -> float:
        """Total residents."""
        return float(self.points["pop"].sum())


# ---------------------------------------------------------------------------- profiles


def load_profile(name_or_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a demand profile: a shipped name (``"china"``, ``"world"``) or a TOML path.

    Returns
    -------
    dict
        ``name``, ``m2_per_person``, ``share_60plus``, ``landuse_density_per_km2`` and
        ``source`` (the citations joined).

    Raises
    ------
    InputError
        When the file is missing or a value is out of range, naming the key.
    """
    path = preset_path(
        PROFILE_DIR,
        name_or_path,
        "demand profile",
        "the path of a TOML file like geoapp/data/profiles/world.toml",
    )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not a valid UTF-8 TOML profile ({exc}); fix the file") from None
    problems = []
    for key, lo, hi in (
        ("m2_per_person", 1.0, 500.0),
        ("share_60plus", 0.0, 1.0),
        ("landuse_density_per_km2", 0.0, 200_000.0),
    ):
        v = data.get(key)
        if not isinstance(v, int | float) or not lo <= v <= hi:
            problems.append(f"{path}: key '{key}': {v!r} must be a number in {lo:g}..{hi:g}")
    if problems:
        raise InputError(f"Demand profile {path} is malformed:", problems)
    return {
        "name": str(data.get("name", path.stem)),
        "m2_per_person": float(data["m2_per_person"]),
        "share_60plus": float(data["share_60plus"]),
        "landuse_density_per_km2": float(data["landuse_density_per_km2"]),
        "source": "; ".join(
            str(data[k])
            for k in ("m2_source", "share_60plus_source", "landuse_density_source")
            if k in data
        ),
        "file": str(path),
    }


def profile_for(frames: list[gpd.GeoDataFrame | gpd.GeoSeries | None]) -> str:
    """Return the profile name for data at this location (``"china"`` or ``"world"``).

    The centre of the frames' joint bounds (in EPSG:4326) inside :data:`CHINA_BBOX`
    gives ``"china"``, anything else ``"world"`` (the bbox is coarse: it also holds
    parts of neighbouring countries; pass ``profile=`` there).
    """
    bounds = [
        (f.to_crs(WGS84) if f.crs is not None else f).total_bounds
        for f in frames
        if f is not None and len(f)
    ]
    bounds = [b for b in bounds if np.isfinite(b).all()]
    if not bounds:
        return "world"
    b = np.array(bounds)
    lon = (b[:, 0].min() + b[:, 2].max()) / 2
    lat = (b[:, 1].min() + b[:, 3].max()) / 2
    x0, y0, x1, y1 = CHINA_BBOX
    return "china" if x0 <= lon <= x1 and y0 <= lat <= y1 else "world"


# ---------------------------------------------------------------------------- helpers


def h3_cells(geometry: gpd.GeoSeries, res: int = 9) -> np.ndarray:
    """Return the H3 cell (str) of each point of ``geometry`` at ``res``.

    Non-point geometries use their representative point; the series is reprojected to
    EPSG:4326 first. Empty geometries give ``""``.
    """
    g = geometry if geometry.crs is None else geometry.to_crs(WGS84)
    g = g.where(g.geom_type == "Point", g.representative_point())
    lat, lng = g.y.to_numpy(), g.x.to_numpy()
    ok = np.isfinite(lat) & np.isfinite(lng)
    return np.array(
        [h3.latlng_to_cell(a, b, res) if k else "" for a, b, k in zip(lat, lng, ok, strict=True)],
        dtype=object,
    )


def h3_polygons(cells: pd.Series | np.ndarray | list[str]) -> gpd.GeoSeries:
    """Return the hexagon polygons of H3 cells (EPSG:4326)."""
    from shapely import polygons

    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in cells]
    if not rings:
        return gpd.GeoSeries([], crs=WGS84)
    # pentagons have 5 vertices; pad by repeating the first so every ring has 6
    rings = [r + [r[0]] * (6 - len(r)) for r in rings]
    return gpd.GeoSeries(polygons(np.asarray(rings, dtype=float)), crs=WGS84)


def _polygonal(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return (
        gdf.geometry.notna()
        & ~gdf.geometry.is_empty
        & gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    ).to_numpy()


def _match_census(
    boundaries: gpd.GeoDataFrame, census: pd.DataFrame, strict: bool
) -> tuple[dict[int, int], list[str]]:
    """Return {boundary position: census row position} and the problems found."""
    if "pop" not in census.columns:
        raise InputError("Census table has no 'pop' column; give residents per district in 'pop'.")
    c_codes = (
        census["district_code"].map(normalize_code)
        if "district_code" in census.columns
        else pd.Series("", index=census.index)
    ).to_numpy()
    c_names = (
        census["district"].astype(object).map(normalize_district_name)
        if "district" in census.columns
        else pd.Series("", index=census.index)
    ).to_numpy()
    by_code = {c: i for i, c in enumerate(c_codes) if c}
    by_name = {n: i for i, n in enumerate(c_names) if n}
    b_codes = (
        boundaries["district_code"].map(normalize_code).to_numpy()
        if "district_code" in boundaries.columns
        else np.full(len(boundaries), "")
    )
    b_names = (
        boundaries["district"].astype(object).map(normalize_district_name).to_numpy()
        if "district" in boundaries.columns
        else np.full(len(boundaries), "")
    )
    match: dict[int, int] = {}
    for bi, (bc, bn) in enumerate(zip(b_codes, b_names, strict=True)):
        ci = by_code.get(bc) if bc else None
        if ci is None and bn:
            ci = by_name.get(bn)
        if ci is not None:
            match[bi] = ci
    problems: list[str] = []
    used = set(match.values())
    label = census["district"] if "district" in census.columns else census["district_code"]
    unmatched_c = [
        f"{label.iloc[i]} ({c_codes[i]})" if c_codes[i] else str(label.iloc[i])
        for i in range(len(census))
        if i not in used
    ]
    b_label = boundaries["district"] if "district" in boundaries.columns else pd.Series(b_codes)
    unmatched_b = [str(b_label.iloc[i]) for i in range(len(boundaries)) if i not in match]
    if unmatched_c:
        problems.append("census districts matching no boundary: " + ", ".join(unmatched_c))
    if unmatched_b:
        problems.append("boundaries with no census row: " + ", ".join(unmatched_b))
    if problems:
        msg = (
            "The census table does not match the district boundaries (matched by "
            "district_code, else by name with or without 区/县). Fix the names or codes in the "
            "census CSV (--census), or, from Python, call estimate_population(..., "
            "strict=False) to scale only the matched districts."
        )
        if strict:
            raise InputError(msg, problems)
        log.warning("%s %s", msg, "; ".join(problems))
    return match, problems


def _landuse_points(
    landuse: gpd.GeoDataFrame, density_per_km2: float, spacing_m: float | None
) -> gpd.GeoDataFrame:
    """Spread residential landuse population over grid points inside each polygon."""
    lu = landuse.loc[_polygonal(landuse)]
    if "landuse" in lu.columns:
        lu = lu.loc[
            lu["landuse"].astype("string").str.lower().isin(RESIDENTIAL_LANDUSE).fillna(False)
        ]
    if not len(lu):
        return gpd.GeoDataFrame({"_lu": [], "pop": []}, geometry=[], crs=WGS84)
    crs = local_crs(lu)
    loc = lu.geometry.to_crs(crs).reset_index(drop=True)
    area_km2 = loc.area.to_numpy() / 1e6
    minx, miny, maxx, maxy = loc.total_bounds
    if spacing_m is None:
        # about 100 m, coarser when the extent would need more than ~2 million points
        spacing_m = max(100.0, float(np.sqrt((maxx - minx) * (maxy - miny) / 2e6)))
    xs = np.arange(minx + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(miny + spacing_m / 2, maxy, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    grid = gpd.GeoDataFrame(geometry=points(gx.ravel(), gy.ravel()), crs=crs)
    polys = gpd.GeoDataFrame({"_lu": np.arange(len(loc))}, geometry=loc.to_numpy(), crs=crs)
    j = gpd.sjoin(grid, polys, how="inner", predicate="within")
    j = j[~j.index.duplicated(keep="first")][["_lu", "geometry"]]
    # polygons too small to hold a grid point get their representative point
    missing = np.setdiff1d(np.arange(len(loc)), j["_lu"].unique())
    extra = gpd.GeoDataFrame(
        {"_lu": missing}, geometry=loc.iloc[missing].representative_point().to_numpy(), crs=crs
    )
    pts = pd.concat([j, extra], ignore_index=True)
    counts = pts["_lu"].map(pts["_lu"].value_counts()).to_numpy()
    pts["pop"] = area_km2[pts["_lu"].to_numpy()] * density_per_km2 / counts
    pts = gpd.GeoDataFrame(pts, geometry="geometry", crs=crs).to_crs(WGS84)
    ids = _landuse_ids(lu)
    pts["_source"] = ids[pts["_lu"].to_numpy()]
    return pts


def _landuse_ids(lu: pd.DataFrame) -> np.ndarray:
    """Ids of landuse polygons: ``landuse_id``, else ``osm_id``, else ``landuse/<n>``."""
    for col in ("landuse_id", "osm_id"):
        if col in lu.columns:
            return lu[col].astype(str).to_numpy()
    return np.array([f"landuse/{i}" for i in range(len(lu))], dtype=object)


def _tags(gdf: gpd.GeoDataFrame, col: str, default: str = "") -> pd.Series:
    if col not in gdf.columns:
        return pd.Series(default, index=gdf.index, dtype=object)
    return gdf[col].astype("string").str.strip().str.lower().fillna(default).astype(object)


def _residential_landuse(landuse: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if landuse is None or not len(landuse):
        return gpd.GeoDataFrame({"_lu_id": []}, geometry=[], crs=WGS84)
    lu = landuse.loc[_polygonal(landuse)]
    if "landuse" in lu.columns:
        lu = lu.loc[_tags(lu, "landuse").isin(RESIDENTIAL_LANDUSE).to_numpy()]
    ids = _landuse_ids(lu)
    return gpd.GeoDataFrame(
        {"_lu_id": ids}, geometry=lu.geometry.to_crs(WGS84).to_numpy(), crs=WGS84
    )


def _within_index(pts: gpd.GeoSeries, polys: gpd.GeoSeries) -> np.ndarray:
    """Position of the first polygon containing each point, -1 for none."""
    out = np.full(len(pts), -1, dtype=np.int64)
    if not len(pts) or not len(polys):
        return out
    pi, gi = polys.sindex.query(pts.to_numpy(), predicate="intersects")
    order = np.lexsort((gi, pi))
    pi, gi = pi[order], gi[order]
    first = np.unique(pi, return_index=True)[1]
    out[pi[first]] = gi[first]
    return out


def housing_mask(
    buildings: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None = None,
    *,
    non_residential: frozenset[str] | set[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Decide which buildings house residents (the rules in the module docstring).

    Parameters
    ----------
    buildings
        Footprints with a ``building`` column (EPSG:4326 or any CRS).
    landuse
        Landuse polygons (residential ones are evidence).
    non_residential
        ``building`` values that never house residents (default :data:`NON_RESIDENTIAL`).

    Returns
    -------
    tuple
        ``(housing, in_residential, warnings)``: boolean arrays per building (houses
        residents; representative point inside residential landuse) and warnings.
    """
    non_res = frozenset(
        str(v).lower() for v in (NON_RESIDENTIAL if non_residential is None else non_residential)
    )
    n = len(buildings)
    poly = _polygonal(buildings) if n else np.zeros(0, dtype=bool)
    if not n:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), []
    tag = _tags(buildings, "building", "yes").replace("", "yes")
    explicit = tag.isin(RESIDENTIAL_BUILDINGS).to_numpy() & poly
    never = tag.isin(non_res).to_numpy() | ~poly
    crs = local_crs(buildings.loc[poly]) if poly.any() else None
    geoms = buildings.geometry
    loc = geoms.where(poly).to_crs(crs) if crs is not None else geoms
    footprint = np.where(poly, loc.area.to_numpy(), 0.0) if crs is not None else np.zeros(n)
    reps = loc.representative_point() if crs is not None else loc
    untagged = ~explicit & ~never & (footprint >= MIN_HOME_FOOTPRINT_M2)
    res_lu = _residential_landuse(landuse)
    in_res = np.zeros(n, dtype=bool)
    if len(res_lu) and crs is not None:
        idx = _within_index(reps.where(poly), res_lu.geometry.to_crs(crs))
        in_res = (idx >= 0) & poly
    warnings: list[str] = []
    if not explicit.any() and not len(res_lu):
        housing = explicit | (untagged & (footprint <= MAX_UNTAGGED_HOME_M2))
        if untagged.any():
            warnings.append(
                f"The extract has no residential evidence (no building=house/apartments/... "
                f"and no landuse=residential): {int(housing.sum()):,} untagged buildings of "
                f"{MIN_HOME_FOOTPRINT_M2:g}–{MAX_UNTAGGED_HOME_M2:,.0f} m² were counted as "
                "housing. Give a census (--census) or a population raster (--population)."
            )
        return housing, in_res, warnings
    levels = (
        pd.to_numeric(buildings["levels"], errors="coerce").to_numpy(dtype=float)
        if "levels" in buildings.columns
        else np.full(n, np.nan)
    )
    tall = untagged & (np.nan_to_num(levels, nan=0.0) >= MULTI_STOREY_LEVELS)
    anchor = explicit | (untagged & (in_res | tall))
    near = np.zeros(n, dtype=bool)
    cand = np.flatnonzero(untagged & ~anchor)
    if len(cand) and anchor.any():
        a = gpd.GeoSeries(loc.to_numpy()[anchor], crs=crs)
        c = loc.to_numpy()[cand]
        hit = np.unique(a.sindex.query(c, predicate="dwithin", distance=NEAR_HOME_M)[0])
        near[cand[hit]] = True
    # clusters of house-sized untagged buildings (villages mapped without tags)
    cluster = np.zeros(n, dtype=bool)
    house_sized = untagged & ~anchor & ~near & (footprint <= MAX_UNTAGGED_HOME_M2)
    cand = np.flatnonzero(house_sized)
    if len(cand):
        peers = np.flatnonzero(house_sized | anchor | near)
        tree = shapely.STRtree(loc.to_numpy()[peers])
        ci, pj = tree.query(loc.to_numpy()[cand], predicate="dwithin", distance=NEAR_HOME_M)
        other = peers[pj] != cand[ci]
        counts = np.bincount(ci[other], minlength=len(cand))
        cluster[cand[counts >= CLUSTER_NEIGHBOURS]] = True
    housing = anchor | near | cluster
    skipped = untagged & ~housing
    if skipped.any():
        log.info(
            "%d untagged buildings without residential evidence not counted as housing",
            int(skipped.sum()),
        )
    if skipped.sum() >= max(50, 0.2 * untagged.sum()):
        warnings.append(
            f"{int(skipped.sum()):,} untagged buildings ({footprint[skipped].sum() / 1e6:.2f} "
            "km² of footprint) show no residential evidence (not in residential landuse, "
            f"fewer than {MULTI_STOREY_LEVELS} levels, not near a home, not in a cluster of "
            "house-sized buildings) and were not counted as housing. If many are homes, the "
            "population is too low there: give a census (--census) or a population raster "
            "(--population)."
        )
    return housing, in_res, warnings


def unbuilt_landuse(
    landuse: gpd.GeoDataFrame | None,
    housing: gpd.GeoDataFrame | gpd.GeoSeries | None,
) -> gpd.GeoDataFrame:
    """Return the unbuilt parts of residential landuse polygons.

    Each residential polygon minus a plot of :data:`PLOT_M` around every housing
    footprint's convex hull, opened by :data:`OPENING_M`, pieces below :data:`MIN_UNBUILT_M2` dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per landuse polygon with an unbuilt part: ``landuse_id``,
        ``landuse_km2`` (whole polygon), ``unbuilt_km2``, geometry (the unbuilt part).
    """
    res_lu = _residential_landuse(landuse)
    empty = gpd.GeoDataFrame(
        {"landuse_id": [], "landuse_km2": [], "unbuilt_km2": []}, geometry=[], crs=WGS84
    )
    if not len(res_lu):
        return empty
    crs = local_crs(res_lu)
    lu = res_lu.to_crs(crs).reset_index(drop=True)
    lu["_i"] = np.arange(len(lu))
    whole_km2 = lu.area.to_numpy() / 1e6
    part = lu[["_i", "geometry"]]
    if housing is not None and len(housing):
        hg = housing.geometry if isinstance(housing, gpd.GeoDataFrame) else housing
        # the hull's buffer: a quarter of the time of the footprint's (15 vertices on
        # average) and no holes for courtyards a plot would cover anyway
        plots = gpd.GeoSeries(
            shapely.buffer(shapely.convex_hull(hg.to_crs(crs).to_numpy()), PLOT_M), crs=crs
        )
        pj, li = lu.sindex.query(plots.to_numpy(), predicate="intersects")
        if len(pj):
            # union the plots touching each polygon (one GEOS union per polygon), then
            # subtract them from it, vectorised
            pairs = gpd.GeoDataFrame({"_i": li}, geometry=plots.to_numpy()[pj], crs=crs)
            cover = pairs.dissolve(by="_i")
            hit = cover.index.to_numpy()
            geoms = lu.geometry.to_numpy().copy()
            # only polygons with buildings are cut and opened; the others stay whole
            cut = shapely.difference(geoms[hit], cover.geometry.to_numpy())
            opened = shapely.intersection(
                shapely.buffer(shapely.buffer(cut, -OPENING_M), OPENING_M), geoms[hit]
            )
            pieces = gpd.GeoDataFrame({"_i": hit}, geometry=opened, crs=crs).explode(
                index_parts=False
            )
            pieces = pieces.loc[
                (pieces.geometry.geom_type == "Polygon").to_numpy()
                & (pieces.area.to_numpy() >= MIN_UNBUILT_M2)
            ]
            whole = np.setdiff1d(lu["_i"].to_numpy(), hit)
            part = pd.concat(
                [
                    pieces,
                    gpd.GeoDataFrame({"_i": whole}, geometry=geoms[whole], crs=crs),
                ],
                ignore_index=True,
            )
    part = gpd.GeoDataFrame(part, geometry="geometry", crs=crs)
    part = part.loc[~part.geometry.is_empty & part.geometry.notna()]
    if not len(part):
        return empty
    merged = part.dissolve(by="_i").reset_index()
    i = merged["_i"].to_numpy()
    return gpd.GeoDataFrame(
        {
            "landuse_id": lu["_lu_id"].to_numpy()[i],
            "landuse_km2": whole_km2[i],
            "unbuilt_km2": merged.area.to_numpy() / 1e6,
        },
        geometry=merged.geometry.to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )


def _district_frame(boundaries: gpd.GeoDataFrame) -> pd.DataFrame:
    cols = {}
    for c in ("district", "district_code", "zone_type", "zone_fine"):
        if c in boundaries.columns:
            cols[c] = boundaries[c].fillna("").astype(str).to_numpy()
        else:
            cols[c] = np.full(len(boundaries), "unknown" if c == "zone_type" else "", dtype=object)
    df = pd.DataFrame(cols)
    df["district_code"] = df["district_code"].map(normalize_code)
    df["zone_type"] = df["zone_type"].replace("", "unknown")
    return df


def _place_population(value: object) -> float:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return np.nan
    s = re.sub(r"[\s,'\u00a0]", "", str(value))
    s = re.sub(r"^~|^ca\.?|^approx\.?", "", s, flags=re.IGNORECASE)
    try:
        v = float(s)
    except ValueError:
        return np.nan
    return v if v > 0 and np.isfinite(v) else np.nan


def _cause_low(cover: float, radius: float, bpk: float, res_km2: float, m2: float) -> str:
    if cover < 0.9:
        return (
            f"the extract covers only {cover:.0%} of the {radius:,.0f} m circle around it "
            "(a clipped extract)"
        )
    if res_km2 <= 0:
        return f"no residential landuse mapped within {radius:,.0f} m, and few buildings"
    if bpk < FEW_BUILDINGS_PER_KM2:
        return f"few mapped buildings: {bpk:,.0f} per km² of residential land"
    return (
        "the tag may count a larger administrative area than the settlement, or buildings "
        f"lack building:levels (floor area per person {m2:g} m²)"
    )


def _cause_high(m2: float) -> str:
    return (
        "untagged buildings counted as housing, missing building:levels assumed, or too "
        f"little floor area per person for the area ({m2:g} m²; pass m2_per_person or a "
        "profile); the tag may also be out of date"
    )


def _within_radius(
    points: np.ndarray, centres: np.ndarray, radius: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(point, centre, distance)`` of the pairs closer than the centre's radius.

    Points and centres are projected geometries (anything not a point counts at its
    representative point); distances in the CRS unit.
    """

    def xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        geoms = np.asarray(geoms, dtype=object)
        other = ~shapely.is_missing(geoms) & (shapely.get_type_id(geoms) != 0)
        if other.any():
            geoms = geoms.copy()
            geoms[other] = shapely.point_on_surface(geoms[other])
        out = np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])
        ok = np.flatnonzero(np.isfinite(out).all(axis=1))  # empty or missing: no pair
        return out[ok], ok

    (p, p_ok), (c, c_ok) = xy(points), xy(centres)
    if not len(p) or not len(c):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    tree = shapely.STRtree(shapely.points(c))
    pi, ci = tree.query(shapely.points(p), predicate="dwithin", distance=float(radius.max()))
    dist = np.hypot(*(p[pi] - c[ci]).T)
    pi, ci = p_ok[pi], c_ok[ci]
    keep = dist <= radius[ci]
    return pi[keep], ci[keep], dist[keep]


def check_places(
    points: gpd.GeoDataFrame,
    features: gpd.GeoDataFrame | None,
    *,
    housing: gpd.GeoSeries | None = None,
    landuse: gpd.GeoDataFrame | None = None,
    extent: object = None,
    m2_per_person: float = DEFAULT_M2_PER_PERSON,
    factor: float = CHECK_FACTOR,
) -> tuple[pd.DataFrame, list[str]]:
    """Compare the demand around place nodes with their ``population`` tag.

    Each demand point counts for the nearest place node (city, town, village, hamlet
    carrying ``population``) within that place's radius (:data:`PLACE_RADIUS_M`). An
    estimate and tag differing by more than ``factor`` give a warning naming the place,
    both figures and the likely cause.

    Parameters
    ----------
    points
        Demand points (``pop``).
    features
        Feature table with ``place`` and ``population`` columns (others are ignored).
    housing
        Housing building footprints (to count buildings per km² of residential land).
    landuse
        Landuse polygons.
    extent
        Shapely geometry (EPSG:4326) of the data; the share of each circle inside it is
        reported when the extract cuts the place.
    m2_per_person
        Floor area per person used (named in the warning).
    factor
        Tolerance factor.

    Returns
    -------
    tuple
        ``(table, warnings)``: one row per checked place (``osm_id``, ``name``,
        ``place``, ``population_tag``, ``estimate``, ``radius_m``, ``ratio``) and the
        warnings.
    """
    cols = ["osm_id", "name", "place", "population_tag", "estimate", "radius_m", "ratio"]
    if (
        features is None
        or not len(features)
        or "place" not in features.columns
        or "population" not in features.columns
    ):
        return pd.DataFrame(columns=cols), []
    place = _tags(features, "place")
    tag = features["population"].map(_place_population).to_numpy(dtype=float)
    keep = place.isin(PLACE_RADIUS_M).to_numpy() & np.isfinite(tag)
    keep &= (features.geometry.notna() & ~features.geometry.is_empty).to_numpy()
    f = features.loc[keep]
    if not len(f) or not len(points):
        return pd.DataFrame(columns=cols), []
    tag = tag[keep]
    crs = local_crs(points)
    centres = f.geometry.to_crs(crs)
    centres = centres.where(centres.geom_type == "Point", centres.representative_point())
    radius = place.loc[f.index].map(PLACE_RADIUS_M).to_numpy(dtype=float)
    disks = gpd.GeoSeries(centres.buffer(radius).to_numpy(), crs=crs)
    centre_geoms = np.asarray(centres.to_numpy(), dtype=object)
    pts = points.geometry.to_crs(crs).to_numpy()
    # points within each place's radius (the circle, not its polygon), nearest first
    pi, di, dist = _within_radius(pts, centre_geoms, radius)
    order = np.lexsort((dist, pi))
    pi, di = pi[order], di[order]
    first = np.unique(pi, return_index=True)[1]
    est = np.bincount(
        di[first],
        weights=points["pop"].to_numpy(dtype=float)[pi[first]],
        minlength=len(f),
    )
    cover = np.ones(len(f))
    if extent is not None:
        ext = gpd.GeoSeries([extent], crs=WGS84).to_crs(crs).iloc[0]
        cover = disks.intersection(ext).area.to_numpy() / disks.area.to_numpy()
    res_lu = _residential_landuse(landuse).to_crs(crs)
    res_km2 = np.zeros(len(f))
    n_b = np.zeros(len(f))
    if len(res_lu):
        di2, li = res_lu.sindex.query(disks.to_numpy(), predicate="intersects")
        d_geoms = disks.to_numpy()
        l_geoms = res_lu.geometry.to_numpy()
        shapely.prepare(d_geoms)
        # a polygon inside the disk counts whole; only those crossing its edge are cut
        inside = shapely.contains_properly(d_geoms[di2], l_geoms[li])
        area = shapely.area(l_geoms[li])
        cross = ~inside
        area[cross] = shapely.area(shapely.intersection(d_geoms[di2[cross]], l_geoms[li[cross]]))
        res_km2 = np.bincount(di2, weights=area / 1e6, minlength=len(f))
        if housing is not None and len(housing):
            hr = gpd.GeoSeries(housing.to_crs(crs).representative_point().to_numpy(), crs=crs)
            in_res = _within_index(hr, res_lu.geometry) >= 0
            hr = hr[in_res]
            if len(hr):
                _, dj, _ = _within_radius(hr.to_numpy(), centre_geoms, radius)
                n_b = np.bincount(dj, minlength=len(f)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(est > 0, tag / est, np.inf)
        bpk = np.where(res_km2 > 0, n_b / res_km2, 0.0)
    names = (
        f["name"].astype(object).where(f["name"].notna(), None).to_numpy()
        if "name" in f.columns
        else np.full(len(f), None)
    )
    ids = f["osm_id"].astype(str).to_numpy() if "osm_id" in f.columns else np.full(len(f), "")
    warnings = []
    for k in np.flatnonzero((ratio > factor) | (ratio < 1 / factor)):
        label = names[k] or ids[k] or f"{place.loc[f.index[k]]} node"
        if ratio[k] > 1:
            cause = _cause_low(cover[k], radius[k], bpk[k], res_km2[k], m2_per_person)
            word = "below"
        else:
            cause = _cause_high(m2_per_person)
            word = "above"
        times = (
            "no residents" if not np.isfinite(ratio[k]) else f"{max(ratio[k], 1 / ratio[k]):.1f}×"
        )
        warnings.append(
            f"Place {label!r} ({place.loc[f.index[k]]}, {ids[k]}): population tag "
            f"{tag[k]:,.0f}, estimate {est[k]:,.0f} residents within {radius[k]:,.0f} m "
            f"({times} {word} the tag); likely cause: {cause}."
        )
    table = pd.DataFrame(
        {
            "osm_id": ids,
            "name": names,
            "place": place.loc[f.index].to_numpy(),
            "population_tag": tag,
            "estimate": est,
            "radius_m": radius,
            "ratio": ratio,
        }
    )
    return table, warnings


def _source_points(
    cells: gpd.GeoDataFrame, housing: gpd.GeoDataFrame, floor: np.ndarray, spread: bool
) -> tuple[gpd.GeoDataFrame, int]:
    """Raster cells to demand points (spread over housing, else cell centres)."""
    pop = cells["pop"].to_numpy(dtype=float)
    cell_of = np.full(len(housing), -1, dtype=np.int64)
    if spread and len(housing):
        cell_of = _within_index(housing.geometry, cells.geometry)
    has = cell_of >= 0
    floor_cell = np.bincount(cell_of[has], weights=floor[has], minlength=len(cells))
    spread_ok = floor_cell > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        b_pop = np.where(
            has, pop[np.maximum(cell_of, 0)] * floor / floor_cell[np.maximum(cell_of, 0)], 0.0
        )
    b_pop = np.where(has & spread_ok[np.maximum(cell_of, 0)], b_pop, 0.0)
    bsel = np.flatnonzero(b_pop > 0)
    csel = np.flatnonzero(~spread_ok)
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "building_id": housing["building_id"].to_numpy()[bsel],
                    "floor_area_m2": floor[bsel],
                    "pop": b_pop[bsel],
                    "pop_source": "raster",
                    "_src": housing["building_id"].to_numpy()[bsel],
                    "geometry": housing.geometry.to_numpy()[bsel],
                }
            ),
            pd.DataFrame(
                {
                    "building_id": "",
                    "floor_area_m2": np.nan,
                    "pop": pop[csel],
                    "pop_source": "raster",
                    "_src": "raster/" + cells["cell_id"].astype(str).to_numpy()[csel],
                    "geometry": gpd.GeoSeries(cells["centre"], crs=WGS84).to_numpy()[csel],
                }
            ),
        ],
        ignore_index=True,
    )
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=WGS84), len(bsel)


# ---------------------------------------------------------------------------- public


def estimate_population(
    buildings: gpd.GeoDataFrame | None,
    boundaries: gpd.GeoDataFrame | None,
    *,
    census: pd.DataFrame | None = None,
    landuse: gpd.GeoDataFrame | None = None,
    raster: gpd.GeoDataFrame | None = None,
    features: gpd.GeoDataFrame | None = None,
    profile: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    m2_per_person: float | None = None,
    share_60plus: float | None = None,
    landuse_density_per_km2: float | None = None,
    default_levels: float = DEFAULT_LEVELS,
    h3_res: int = 9,
    strict: bool = True,
    non_residential: frozenset[str] | set[str] = NON_RESIDENTIAL,
    landuse_spacing_m: float | None = None,
    hybrid_landuse: bool = True,
    raster_spread: bool = True,
    control_totals: bool = True,
    zones: str | None = None,
    zone_params: Mapping[str, Any] | None = None,
    data_extent: Any = None,
    edges: gpd.GeoDataFrame | None = None,
) -> Demand:
    """Estimate residents per demand point (the demand table) and how it was made.

    Parameters
    ----------
    buildings
        Building footprints (``building_id``, ``building``, ``levels``, geometry).
    boundaries
        Districts (``district``, ``district_code``, ``zone_type``, ``zone_fine``,
        optional ``population``). Points are joined to them by location; points outside
        every district are **kept** in district :data:`~geoapp.region.OUTSIDE_DISTRICTS`
        (zone type ``unknown``) with a warning. None or empty: one unnamed region.
    census
        District totals (``district_code`` and/or ``district``, ``pop``, optional
        ``pop_60plus``), matched by code, else name (with or without 区/县, any case).
        Each matched district is scaled to its ``pop``; ``pop_60plus`` = ``pop`` × the
        census 60+ share.
    landuse
        Landuse polygons (``landuse``; only ``residential`` is used): their unbuilt
        parts add demand (``hybrid_landuse``) and they are evidence for housing.
    raster
        Population cells (:func:`geoapp.sources.raster.read_population_raster`): the
        demand source when given.
    features
        Feature table; place nodes with ``place`` and ``population`` are checked.
    profile
        Profile name (``"china"``, ``"world"``), TOML path or dict; default chosen from
        the location (:func:`profile_for`).
    m2_per_person, share_60plus, landuse_density_per_km2
        Override the profile's floor area per resident (m²), share aged 60+ (where no
        census gives it) and residents per km² of unbuilt residential landuse.
    default_levels
        Levels of a building without a usable ``levels`` value.
    h3_res
        H3 resolution of the ``h3`` column.
    strict
        A census not matching the boundaries raises (True) or warns and scales only the
        matched districts (False).
    non_residential
        ``building`` values that house no residents.
    landuse_spacing_m
        Spacing of landuse demand points (default about 100 m).
    hybrid_landuse
        Add demand for the unbuilt part of residential landuse (default True).
    raster_spread
        Spread raster cells over the housing buildings inside them (default True).
    control_totals
        With no census, scale districts to their ``population`` (default True).
    zones
        ``"density"``: ``zone_type`` = the point's settlement; anything else (a mapping
        name, None): ``zone_type`` stays the district's.
    zone_params
        Settlement thresholds (:data:`geoapp.zones.SETTLEMENT_DEFAULTS`).
    data_extent
        Shapely geometry (EPSG:4326) the extract's data covers. A boundary's
        ``population`` is a control total only when 95% of the boundary lies inside it
        (a clipped district would be inflated); the place checks report circles the
        extract cuts. None: the districts are taken as fully covered.
    edges
        The walking network (``highway``, ``length_m``): when residential streets are
        mapped but homes are not (fewer than :data:`FEW_BUILDINGS_PER_STREET_KM`
        housing buildings per km of residential street), a warning says so.

    Returns
    -------
    Demand

    Raises
    ------
    EmptyResultError
        When no resident can be placed (no housing, no residential landuse, no raster).
    InputError
        Bad parameters; a census not matching the boundaries (``strict``).
    """
    if default_levels <= 0:
        raise InputError(f"default_levels must be positive, not {default_levels}")
    # ---- profile
    if isinstance(profile, Mapping):
        prof = {**load_profile("world"), **dict(profile)}
        chosen = "given"
    elif profile is not None:
        prof = load_profile(profile)
        chosen = "given"
    else:
        prof = load_profile(profile_for([buildings, landuse, raster, boundaries]))
        chosen = "from the region's location"
    if m2_per_person is not None:
        prof["m2_per_person"] = float(m2_per_person)
        prof["source"] = f"m2_per_person={m2_per_person:g} given; " + prof.get("source", "")
    if share_60plus is not None:
        if not 0 <= float(share_60plus) <= 1:
            raise InputError(f"share_60plus must be between 0 and 1, not {share_60plus}")
        prof["share_60plus"] = float(share_60plus)
        prof["source"] = f"share_60plus={share_60plus:g} given; " + prof.get("source", "")
    if landuse_density_per_km2 is not None:
        prof["landuse_density_per_km2"] = float(landuse_density_per_km2)
    m2 = float(prof["m2_per_person"])
    if m2 <= 0:
        raise InputError(f"m2_per_person must be positive, not {m2}")
    density = float(prof["landuse_density_per_km2"])
    default_share = float(prof["share_60plus"])
    prof["chosen"] = chosen
    warnings: list[str] = []
    assumptions: list[str] = [
        f"profile {prof['name']!r} ({chosen}): {m2:g} m² floor area per person, "
        f"{default_share:.1%} aged 60+ where no census gives it, {density:,.0f} residents/km² "
        "of unbuilt residential land"
    ]

    # ---- housing buildings
    if buildings is not None and len(buildings):
        if buildings.crs is None:
            raise InputError("buildings have no coordinate reference system; set one (EPSG:4326)")
        housing, in_res, w = housing_mask(buildings, landuse, non_residential=non_residential)
        warnings += w
        hb = buildings.loc[housing]
    else:
        hb = gpd.GeoDataFrame({"building_id": []}, geometry=[], crs=WGS84)
    if len(hb):
        crs = local_crs(hb)
        local = hb.geometry.to_crs(crs)
        footprint = local.area.to_numpy()
        levels = (
            pd.to_numeric(hb["levels"], errors="coerce").to_numpy(dtype=float)
            if "levels" in hb.columns
            else np.full(len(hb), np.nan)
        )
        missing = ~np.isfinite(levels) | (levels <= 0)
        levels = np.where(missing, float(default_levels), levels)
        if missing.any():
            assumptions.append(
                f"{int(missing.sum())} of {len(hb)} housing buildings have no levels; "
                f"assumed {default_levels:g}"
            )
        floor = footprint * levels
        bid = (
            hb["building_id"].astype(object).fillna("").astype(str).to_numpy()
            if "building_id" in hb.columns
            else np.array([f"building/{i}" for i in range(len(hb))], dtype=object)
        )
        reps = local.representative_point().to_crs(WGS84).to_numpy()
    else:
        floor = np.zeros(0)
        bid = np.zeros(0, dtype=object)
        reps = np.zeros(0, dtype=object)

    # ---- demand points by source
    frames: list[gpd.GeoDataFrame] = []
    if raster is not None and len(raster):
        housing_pts = gpd.GeoDataFrame({"building_id": bid}, geometry=reps, crs=WGS84)
        pts, n_spread = _source_points(raster, housing_pts, floor, raster_spread)
        frames.append(pts)
        method = "raster+buildings" if n_spread else "raster"
        assumptions.append(
            f"residents from the population raster ({raster['pop'].sum():,.0f} in "
            f"{len(raster):,} cells), "
            + (
                f"spread over {n_spread:,} housing buildings by floor area"
                if n_spread
                else "at the cell centres"
            )
        )
    else:
        if len(hb):
            frames.append(
                gpd.GeoDataFrame(
                    {
                        "building_id": bid,
                        "floor_area_m2": floor,
                        "pop": floor / m2,
                        "pop_source": "building",
                        "_src": bid,
                    },
                    geometry=reps,
                    crs=WGS84,
                )
            )
        n_lu = 0
        if hybrid_landuse or not len(hb):
            parts = unbuilt_landuse(landuse, hb if len(hb) else None)
            if len(parts):
                lpts = _landuse_points(parts, density, landuse_spacing_m)
                n_lu = len(lpts)
                frames.append(
                    gpd.GeoDataFrame(
                        {
                            "building_id": "",
                            "floor_area_m2": np.nan,
                            "pop": lpts["pop"].to_numpy(),
                            "pop_source": "landuse",
                            "_src": lpts["_source"].to_numpy(),
                        },
                        geometry=lpts.geometry.to_numpy(),
                        crs=WGS84,
                    )
                )
                assumptions.append(
                    f"{parts['unbuilt_km2'].sum():.2f} km² of residential landuse without "
                    f"mapped buildings ({len(parts)} polygons) × {density:,.0f} residents/km²"
                )
        if len(hb) and n_lu:
            method = "buildings+landuse"
        elif len(hb):
            method = "buildings"
        elif n_lu:
            method = "landuse"
            msg = (
                "No housing buildings: demand estimated from residential landuse area × "
                f"{density:,.0f} residents/km²."
            )
            warnings.append(msg)
        else:
            raise EmptyResultError(
                "No population can be estimated: the region has no residential buildings "
                "and no residential landuse (landuse=residential). Use an extract with "
                "buildings, or give a population raster (--population FILE.tif)."
            )
    pts = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WGS84)
    if not len(pts):
        raise EmptyResultError(
            "No population can be estimated: the population raster holds no residents "
            "inside the region."
        )

    # ---- districts (points outside every district are kept)
    has_b = boundaries is not None and len(boundaries) > 0
    if has_b:
        dist = _district_frame(boundaries)
        bgeo = boundaries.geometry.to_crs(WGS84).reset_index(drop=True)
        bpos = _within_index(pts.geometry, bgeo)
    else:
        dist = pd.DataFrame(
            {"district": [""], "district_code": [""], "zone_type": ["unknown"], "zone_fine": [""]}
        )
        bgeo = None
        bpos = np.zeros(len(pts), dtype=np.int64)
    nb = len(dist)
    outside = bpos < 0
    slot = np.where(outside, nb, bpos)

    # ---- control totals: census, else boundary population tags
    pop = pts["pop"].to_numpy(dtype=float)
    est = np.bincount(slot, weights=pop, minlength=nb + 1)
    factor = np.ones(nb + 1)
    b_share = np.full(nb + 1, np.nan)
    scaled = False
    control = ""
    if census is not None and len(census) and has_b:
        match, problems = _match_census(boundaries, census, strict)
        c_pop = pd.to_numeric(census["pop"], errors="coerce").to_numpy(dtype=float)
        c_60 = (
            pd.to_numeric(census["pop_60plus"], errors="coerce").to_numpy(dtype=float)
            if "pop_60plus" in census.columns
            else np.full(len(census), np.nan)
        )
        empty = []
        for bi, ci in match.items():
            if est[bi] > 0:
                factor[bi] = c_pop[ci] / est[bi]
            elif c_pop[ci] > 0:
                empty.append(dist["district"].iloc[bi] or str(bi))
            if c_pop[ci] > 0 and np.isfinite(c_60[ci]):
                b_share[bi] = c_60[ci] / c_pop[ci]
        if problems:
            warnings.append("Census: " + "; ".join(problems) + ".")
        if empty:
            warnings.append(
                "The census population of these districts could not be placed (no housing "
                f"buildings or residential landuse in them): {', '.join(empty)}."
            )
        scaled = bool(match)
        control = "census" if scaled else ""
        assumptions.append(f"population scaled to census totals in {len(match)} of {nb} districts")
    elif census is not None and len(census):
        warnings.append("The census table was ignored: there are no district boundaries.")
    elif control_totals and has_b and "population" in boundaries.columns:
        tags = pd.to_numeric(boundaries["population"], errors="coerce").to_numpy(dtype=float)
        if data_extent is not None:  # share of each district's area inside the data, in metres
            crs = local_crs(bgeo)
            bloc = bgeo.to_crs(crs)
            ext = gpd.GeoSeries([data_extent], crs=WGS84).to_crs(crs).iloc[0]
            inside = bloc.intersection(ext).area.to_numpy() / np.maximum(bloc.area.to_numpy(), 1e-9)
        else:
            inside = np.ones(nb)
        used = []
        for bi in np.flatnonzero(np.isfinite(tags) & (tags > 0)):
            name = dist["district"].iloc[bi] or f"boundary {bi}"
            if inside[bi] < 0.95:
                warnings.append(
                    f"District {name!r} carries population={tags[bi]:,.0f} but only "
                    f"{inside[bi]:.0%} of it lies inside the extract's data: not used as a "
                    "control total (use an extract covering the whole district)."
                )
                continue
            ratio = tags[bi] / est[bi] if est[bi] > 0 else np.inf
            if ratio > CHECK_FACTOR or ratio < 1 / CHECK_FACTOR:
                cause = (
                    "few mapped buildings or missing building:levels"
                    if ratio > 1
                    else _cause_high(m2)
                )
                warnings.append(
                    f"District {name!r}: population tag {tags[bi]:,.0f}, estimate "
                    f"{est[bi]:,.0f} from the data ({'no residents' if not np.isfinite(ratio) else f'{max(ratio, 1 / ratio):.1f}×'}"
                    f" {'below' if ratio > 1 else 'above'} the tag); likely cause: {cause}. "
                    "Scaled to the tag."
                    if est[bi] > 0
                    else f"District {name!r}: population tag {tags[bi]:,.0f} but no housing "
                    "buildings or residential landuse in the data: its residents cannot be placed."
                )
            if est[bi] > 0:
                factor[bi] = tags[bi] / est[bi]
                used.append(bi)
        if used:
            scaled = False
            control = "boundary population"
            assumptions.append(
                f"population scaled to the boundaries' population tags in {len(used)} of "
                f"{nb} districts (no census given)"
            )
    pop = pop * factor[slot]
    bs = b_share[slot]
    share = np.where(np.isfinite(bs), bs, default_share)

    # ---- outside districts
    outside_pop = float(pop[outside].sum())
    if outside.any():
        warnings.append(
            f"{outside_pop:,.0f} residents ({int(outside.sum()):,} demand points) lie outside "
            f"every district; they are kept as {OUTSIDE_DISTRICTS!r} (zone type unknown) and "
            "counted in the region total."
        )

    # ---- settlements (over the whole extract)
    probe = gpd.GeoDataFrame({"pop": pop}, geometry=pts.geometry.to_numpy(), crs=WGS84)
    sett = classify_settlements(probe, **dict(zone_params or {}))
    warnings += list(sett.warnings)
    d_name = np.append(dist["district"].to_numpy(dtype=object), OUTSIDE_DISTRICTS)
    d_code = np.append(dist["district_code"].to_numpy(dtype=object), "")
    d_zone = np.append(dist["zone_type"].to_numpy(dtype=object), "unknown")
    d_fine = np.append(dist["zone_fine"].to_numpy(dtype=object), "")
    density_zones = str(zones) == "density"
    zone_type = sett.settlement if density_zones else d_zone[slot]
    zone_fine = sett.dou_class if density_zones else d_fine[slot]
    zone_method = "density" if density_zones else (str(zones) if zones else "district attributes")

    # ---- ids
    src = pts["_src"].astype(str)
    is_b = (pts["pop_source"] != "landuse").to_numpy() & (src != "").to_numpy()
    demand_id = np.where(is_b, src, src + "/" + src.groupby(src).cumcount().astype(str))
    if pd.Series(demand_id).duplicated().any() or (pd.Series(demand_id) == "").any():
        demand_id = np.array([f"demand/{i}" for i in range(len(pts))], dtype=object)

    out = gpd.GeoDataFrame(
        {
            "demand_id": np.asarray(demand_id, dtype=object),
            "building_id": pts["building_id"].astype(object).to_numpy(),
            "floor_area_m2": pts["floor_area_m2"].to_numpy(dtype=float),
            "pop": pop,
            "pop_60plus": pop * share,
            "district": d_name[slot],
            "district_code": d_code[slot],
            "zone_type": np.asarray(zone_type, dtype=object),
            "zone_fine": np.asarray(zone_fine, dtype=object),
            "settlement": np.asarray(sett.settlement, dtype=object),
            "pop_source": pts["pop_source"].astype(object).to_numpy(),
            "h3": h3_cells(pts.geometry, h3_res),
        },
        geometry=pts.geometry.to_numpy(),
        crs=WGS84,
    )

    # ---- checks against the data's own population tags
    extent = data_extent if data_extent is not None else box(*out.total_bounds)
    _, place_warnings = check_places(
        out,
        features,
        housing=hb.geometry if len(hb) else None,
        landuse=landuse,
        extent=extent,
        m2_per_person=m2,
    )
    warnings += place_warnings

    w = _street_check(edges, len(hb), float(out["pop"].sum()), method)
    if w:
        warnings.append(w)
    quality = _quality(out, d_name, hb, landuse, bgeo)
    for w in warnings:
        log.warning("%s", w)
    log.info(
        "demand (%s): %d points, %.0f residents, %.0f aged 60+",
        method,
        len(out),
        out["pop"].sum(),
        out["pop_60plus"].sum(),
    )
    return Demand(
        points=out,
        method=method,
        profile=prof,
        warnings=tuple(warnings),
        quality=quality,
        census_scaled=scaled,
        zone_method=zone_method,
        zone_params=dict(sett.params),
        control_totals=control,
        assumptions=tuple(assumptions),
        outside_pop=outside_pop,
    )


def _street_check(
    edges: gpd.GeoDataFrame | None, n_housing: int, total: float, method: str
) -> str | None:
    """Warn when residential streets are mapped but the homes along them are not."""
    if edges is None or not len(edges) or "highway" not in edges.columns or method == "raster":
        return None
    res = _tags(edges, "highway").isin(RESIDENTIAL_STREETS).to_numpy()
    length = pd.to_numeric(edges.get("length_m"), errors="coerce").fillna(0.0).to_numpy()
    km = float(length[res].sum()) / 1000.0
    if km < 1.0:
        return None
    per_km = n_housing / km
    if per_km >= FEW_BUILDINGS_PER_STREET_KM:
        return None
    return (
        f"The extract has {km:,.0f} km of residential streets but only {n_housing:,} housing "
        f"buildings ({per_km:.1f} per km; a street lined with homes has about 100): most "
        f"homes are not mapped, so the {total:,.0f} residents estimated are far too few. "
        "Give a population raster (--population FILE.tif, e.g. WorldPop or GHS-POP) or a "
        "district census (--census)."
    )


def _quality(
    points: gpd.GeoDataFrame,
    districts: np.ndarray,
    housing: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None,
    bgeo: gpd.GeoSeries | None,
) -> pd.DataFrame:
    """Data-quality table per district (QUALITY_COLUMNS)."""
    df = pd.DataFrame({"district": points["district"].to_numpy(), "pop": points["pop"].to_numpy()})
    for s, col in zip(POP_SOURCES, QUALITY_COLUMNS[2:5], strict=True):
        df[col] = np.where(points["pop_source"].to_numpy() == s, df["pop"], 0.0)
    g = df.groupby("district", sort=False).sum()
    for col in QUALITY_COLUMNS[2:5]:
        g[col] = (g[col] / g["pop"]).where(g["pop"] > 0)
    res_lu = _residential_landuse(landuse)
    res_km2 = pd.Series(0.0, index=g.index)
    n_b = pd.Series(0.0, index=g.index)
    if len(res_lu):
        crs = local_crs(res_lu)
        lu_loc = res_lu.to_crs(crs)
        reps = lu_loc.representative_point().to_crs(WGS84)
        lu_d = (
            districts[np.where((k := _within_index(reps, bgeo)) < 0, len(districts) - 1, k)]
            if bgeo is not None
            else np.full(len(res_lu), districts[0])
        )
        res_km2 = pd.Series(lu_loc.area.to_numpy() / 1e6).groupby(lu_d).sum()
        if len(housing):
            hr = housing.geometry.to_crs(crs).representative_point()
            inside = _within_index(hr, lu_loc.geometry) >= 0
            hw = hr[inside].to_crs(WGS84)
            h_d = (
                districts[np.where((k := _within_index(hw, bgeo)) < 0, len(districts) - 1, k)]
                if bgeo is not None
                else np.full(len(hw), districts[0])
            )
            n_b = pd.Series(1.0, index=range(len(hw))).groupby(h_d).sum()
    g["residential_km2"] = res_km2.reindex(g.index).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g["buildings_per_km2_residential"] = (
            n_b.reindex(g.index).fillna(0.0) / g["residential_km2"]
        ).where(g["residential_km2"] > 0)
    return g.reset_index()[list(QUALITY_COLUMNS)]


def _weighted_mode(frame: pd.DataFrame, key: str, col: str, weight: str) -> pd.Series:
    w = frame.groupby([key, col], sort=False)[weight].sum().reset_index()
    w = w.sort_values(weight, ascending=False, kind="stable").drop_duplicates(key)
    return w.set_index(key)[col]


def aggregate_h3(
    table: gpd.GeoDataFrame,
    *,
    res: int = 9,
    sum_cols: tuple[str, ...] = ("pop", "pop_60plus"),
    mean_cols: tuple[str, ...] = (),
    mode_cols: tuple[str, ...] = ("district", "zone_type", "settlement"),
    weight_col: str = "pop",
) -> gpd.GeoDataFrame:
    """Aggregate a demand (or access) table to H3 hexagons, for maps.

    Parameters
    ----------
    table
        Points with the columns to aggregate (the ``h3`` column is reused when it has
        resolution ``res``, else cells are computed from the geometry).
    res
        H3 resolution.
    sum_cols
        Columns summed per cell (missing ones are skipped).
    mean_cols
        Columns averaged per cell, weighted by ``weight_col`` (non-finite values are
        left out of the mean).
    mode_cols
        Columns whose value holding most of ``weight_col`` in the cell is kept.
    weight_col
        Weight of the means and modes (``pop``, or ``pop_60plus`` for 60+ layers).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 hexagons: ``h3``, ``n_points``, the sums, the means and modes; when
        ``dist_m`` is present also ``dist_m_mean`` (weighted mean of the finite
        distances) and ``share_beyond`` (share of the weight with no facility within
        the search limit, i.e. ``dist_m`` = inf).
    """
    if len(table) and "h3" in table.columns and h3.get_resolution(str(table["h3"].iloc[0])) == res:
        cells = table["h3"].astype(str).to_numpy()
    else:
        cells = h3_cells(table.geometry, res) if len(table) else np.array([], dtype=object)
    df = pd.DataFrame({"h3": cells})
    w = (
        pd.to_numeric(table[weight_col], errors="coerce").fillna(0.0).to_numpy()
        if weight_col in table.columns
        else np.ones(len(table))
    )
    df["_w"] = w
    sums = [c for c in sum_cols if c in table.columns]
    for c in sums:
        df[c] = pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)
    g = df.groupby("h3", sort=True)
    out = pd.DataFrame({"n_points": g.size()})
    if sums:
        out = out.join(g[sums].sum())
    means = list(mean_cols)
    if "dist_m" in table.columns and "dist_m" not in means:
        means.append("dist_m")
    for c in means:
        v = pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)
        fin = np.isfinite(v)
        tmp = pd.DataFrame(
            {
                "h3": cells,
                "wv": np.where(fin, np.where(fin, v, 0.0) * w, 0.0),
                "wf": np.where(fin, w, 0.0),
            }
        )
        gg = tmp.groupby("h3", sort=True)[["wv", "wf"]].sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{c}_mean"] = (gg["wv"] / gg["wf"]).where(gg["wf"] > 0)
        if c == "dist_m":
            beyond = pd.DataFrame({"h3": cells, "b": np.where(np.isposinf(v), w, 0.0), "w": w})
            gb = beyond.groupby("h3", sort=True)[["b", "w"]].sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                out["share_beyond"] = (gb["b"] / gb["w"]).where(gb["w"] > 0)
    for c in mode_cols:
        if c in table.columns:
            tmp = pd.DataFrame({"h3": cells, c: table[c].astype(object).to_numpy(), "_w": w})
            out[c] = _weighted_mode(tmp, "h3", c, "_w")
    out = out.reset_index()
    return gpd.GeoDataFrame(out, geometry=h3_polygons(out["h3"]).to_numpy(), crs=WGS84)


__all__ = [
    "CHECK_FACTOR",
    "CHINA_BBOX",
    "DEFAULT_LEVELS",
    "DEFAULT_M2_PER_PERSON",
    "DEFAULT_SHARE_60PLUS",
    "DEMAND_COLUMNS",
    "LANDUSE_DENSITY_PER_KM2",
    "NON_RESIDENTIAL",
    "PLACE_RADIUS_M",
    "POP_SOURCES",
    "QUALITY_COLUMNS",
    "RESIDENTIAL_BUILDINGS",
    "Demand",
    "aggregate_h3",
    "check_places",
    "estimate_population",
    "h3_cells",
    "h3_polygons",
    "housing_mask",
    "load_profile",
    "profile_for",
    "unbuilt_landuse",
]
