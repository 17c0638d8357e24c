"""Study areas: the part of a region an analysis is about, and Beijing's 街道 / 乡镇 units.

A study area (``--study-area``, ``RegionSpec.study_area``, ``load_region(...,
study_area=...)``) is one of:

* a polygon file, GeoJSON / GeoPackage / zipped Shapefile, with an optional layer and
  datum like ``--boundaries`` (``PATH[#LAYER][:DATUM]``, e.g. ``campus.geojson:gcj02``);
  the area is the union of its polygons and is named after the file's stem;
* district names or codes, comma separated (``海淀区`` or ``学院路街道,清华园街道``),
  matched against the loaded boundaries first, then against Beijing's 街道 / 乡镇
  preset (:func:`geoapp.sources.boundaries.beijing_subdistricts`: a unit's name, with or
  without 街道/镇/乡/地区, its 12-digit code, or a district's name for all its units).

:func:`clip_region` cuts the region to the area: streets crossing it, buildings and
features inside it, landuse clipped; district boundaries are clipped too, and each
clipped district's census counts (and ``population`` tags) are scaled to the share of
its area inside the study area. That is the census rule of "who lives where"
(:mod:`geoapp.demand.scaling`: a district partly covered gets total × its covered
share), applied once here, so that every summary, map and area figure is the study
area's. The region is named after the study area.

The module also maps zones and census tables given per district onto units that carry
their parent district (:func:`zones_by_parent`, :func:`census_by_parent`): Beijing's
街道 take the zone of their district, and a district census is shared among its units.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp.crs import geometries_to_wgs84, local_crs, normalise_coords_name
from geoapp.errors import CRSError, InputError
from geoapp.region import META_WARNINGS, WGS84, Region
from geoapp.sources import boundaries as _bnd
from geoapp.sources.census import CENSUS_COLUMNS, normalize_code, normalize_district_name

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from geoapp.zones import ZoneMapping

log = logging.getLogger(__name__)

#: Key of ``Region.meta`` describing the study area: ``name``, ``area_km2``, ``source``
#: and ``wkt`` (the polygon, EPSG:4326, simplified to about 1 m, 6 decimals).
META_STUDY_AREA = "study_area"
#: District pieces smaller than this share of the study area AND of their own district
#: are dropped when the boundaries are clipped (slivers where two boundary sources
#: disagree by metres); a small district wholly inside a large study area is kept.
SLIVER_SHARE = 0.005
#: Suffixes a 街道 / 乡镇 name may be given without.
_UNIT_SUFFIXES = ("街道办事处", "街道", "地区", "民族乡", "镇", "乡")
_SPLIT = re.compile(r"[,，、;；]+")
_FILE_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")


@dataclass(frozen=True)
class StudyArea:
    """A resolved study area.

    Attributes
    ----------
    name
        What the region is named after: the file's stem, or the names given
        (``海淀区``, ``学院路街道、清华园街道``).
    geometry
        The area, a (Multi)Polygon in EPSG:4326.
    source
        Where it comes from, in a phrase (for the log and the metadata).
    """

    name: str
    geometry: BaseGeometry
    source: str

    def area_km2(self) -> float:
        """Return the area in km² (measured in the local UTM zone)."""
        g = gpd.GeoSeries([self.geometry], crs=WGS84)
        return float(g.to_crs(local_crs(g)).area.iloc[0] / 1e6)

    def meta(self) -> dict[str, Any]:
        """Return the JSON-able description kept in ``Region.meta``."""
        simple = shapely.simplify(self.geometry, 1e-5, preserve_topology=True)
        return {
            "name": self.name,
            "area_km2": round(self.area_km2(), 4),
            "source": self.source,
            "wkt": shapely.to_wkt(simple, rounding_precision=6),
        }


def study_area_geometry(region: Region) -> BaseGeometry | None:
    """Return the study area a region was clipped to (EPSG:4326), or None."""
    info = region.meta.get(META_STUDY_AREA)
    if not isinstance(info, dict) or not info.get("wkt"):
        return None
    return shapely.from_wkt(info["wkt"])


# ---------------------------------------------------------------- resolving


def resolve_study_area(
    value: str | os.PathLike[str] | BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries,
    boundaries: gpd.GeoDataFrame | None = None,
) -> StudyArea:
    """Return the study area ``value`` names.

    Parameters
    ----------
    value
        A polygon file (``PATH[#LAYER][:DATUM]``), comma-separated district / 街道 names
        or codes, or a geometry / frame (EPSG:4326 unless the frame says otherwise).
    boundaries
        The region's districts, searched first for names.

    Raises
    ------
    InputError
        An unreadable file, a file without polygons, or names matching no district
        (the message lists the closest names) or several (say which district).
    """
    if isinstance(value, gpd.GeoDataFrame | gpd.GeoSeries):
        g = value.to_crs(WGS84) if value.crs is not None else value.set_crs(WGS84)
        return StudyArea(
            "study area", _polygonal(g.geometry.to_numpy(), "the given frame"), "frame"
        )
    if isinstance(value, shapely.Geometry):
        return StudyArea(
            "study area", _polygonal(np.array([value]), "the given geometry"), "geometry"
        )
    text = os.fspath(value).strip() if isinstance(value, os.PathLike | str) else str(value)
    if not text:
        raise InputError("--study-area: give a polygon file or district / 街道 names")
    spec = _bnd.parse_boundary_spec(text)
    if spec.path.exists() or spec.path.name.lower().endswith(_FILE_SUFFIXES):
        return _read_area_file(spec)
    return _area_of_names(text, boundaries)


def _read_area_file(spec: _bnd.BoundarySpec) -> StudyArea:
    path = spec.path
    if not path.is_file():
        raise InputError(
            f"--study-area {path.name}: file not found; give a GeoJSON, GeoPackage or zipped "
            "Shapefile of the study area, or district / 街道 names (e.g. 海淀区)."
        )
    try:
        raw = gpd.read_file(path, layer=spec.layer)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
        raise InputError(
            f"--study-area {path.name}: cannot read the file ({type(exc).__name__}: "
            f"{str(exc)[:160]}); give a valid GeoJSON, GeoPackage or zipped Shapefile."
        ) from None
    if raw.crs is None:
        raise CRSError(
            f"--study-area {path.name}: the file has no coordinate reference system; save it "
            "as GeoJSON (lon/lat WGS84) or as a GeoPackage with its CRS."
        )
    geoms = raw.to_crs(WGS84).geometry.to_numpy()
    coords = normalise_coords_name(spec.coords)
    if coords != "wgs84":
        geoms = geometries_to_wgs84(geoms, coords)
    geom = _polygonal(geoms, path.name)
    datum = f", converted from {coords}" if coords != "wgs84" else ""
    return StudyArea(path.stem, geom, f"file {path.name}{datum}")


def _polygonal(geoms: np.ndarray, where: str) -> BaseGeometry:
    """Return the union of the polygons in ``geoms`` (repaired), or raise naming ``where``."""
    g = np.asarray(geoms, dtype=object)
    g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
    g = shapely.make_valid(g) if len(g) else g
    parts = shapely.get_parts(g) if len(g) else g
    polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))] if len(parts) else parts
    if not len(polys):
        raise InputError(
            f"--study-area {where}: holds no polygon; draw the study area as a polygon "
            "(points and lines have no area)."
        )
    return shapely.union_all(polys)


def _unit_key(name: object) -> str:
    """Return a 街道 / 乡镇 name without spaces and without its suffix, for matching."""
    s = re.sub(r"\s+", "", str(name))
    s = re.sub(r"[（(].*?[）)]$", "", s)
    for suffix in _UNIT_SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix):
            return s[: -len(suffix)]
    return s


def _area_of_names(text: str, boundaries: gpd.GeoDataFrame | None) -> StudyArea:
    names = [n.strip() for n in _SPLIT.split(text) if n.strip()]
    pieces: list[BaseGeometry] = []
    problems: list[str] = []
    sources: set[str] = set()
    units: gpd.GeoDataFrame | None = None
    for name in names:
        found = _match_frame(name, boundaries) if boundaries is not None else None
        if found is not None:
            pieces.append(found)
            sources.add("the region's districts")
            continue
        if units is None:
            units = _bnd.beijing_subdistricts().frame
        hit, problem = _match_units(name, units)
        if hit is not None:
            pieces.append(hit)
            sources.add("Beijing 街道/乡镇 preset")
        else:
            problems.append(problem)
    if problems:
        raise InputError(
            f"--study-area {text!r}: {len(problems)} name(s) not found. Give district or "
            "街道 names of the loaded boundaries or of Beijing's 街道/乡镇 preset (e.g. "
            "海淀区, 学院路街道, 110108010000), comma separated, or a polygon file.",
            problems,
        )
    geom = shapely.union_all(np.asarray(pieces, dtype=object))
    return StudyArea("、".join(names), geom, " and ".join(sorted(sources)))


def _match_frame(name: str, frame: gpd.GeoDataFrame) -> BaseGeometry | None:
    """Return the union of ``frame``'s districts named or coded ``name``, or None."""
    if frame is None or not len(frame) or "district" not in frame.columns:
        return None
    codes = frame.get("district_code", pd.Series("", index=frame.index)).map(normalize_code)
    hit = codes == normalize_code(name)
    if not hit.any():
        key = normalize_district_name(name)
        hit = frame["district"].map(normalize_district_name) == key
    if not hit.any():
        hit = frame["district"].map(_unit_key) == _unit_key(name)
    if not hit.any():
        return None
    return shapely.union_all(frame.geometry[hit.to_numpy()].to_numpy())


def _match_units(name: str, units: gpd.GeoDataFrame) -> tuple[BaseGeometry | None, str]:
    """Return the geometry of a 街道/乡镇 (or of a district's units) and "" or a problem."""
    code = normalize_code(name)
    hit = (units["district_code"] == code) | (units["parent_district_code"] == code)
    if not hit.any():  # a district: all its units
        hit = units["parent_district"].map(normalize_district_name) == normalize_district_name(name)
    if not hit.any():
        exact = units["district"] == name.replace(" ", "")
        hit = exact if exact.any() else units["district"].map(_unit_key) == _unit_key(name)
        if int(hit.sum()) > 1:
            both = units.loc[hit, "district"].tolist()
            return None, f"{name!r} names {len(both)} units: {', '.join(both)}; give one of them"
    if not hit.any():
        close = difflib.get_close_matches(
            name, [*units["district"], *sorted(set(units["parent_district"]))], n=3, cutoff=0.4
        )
        also = f" (closest: {', '.join(close)})" if close else ""
        return None, f"{name!r}: no such district or 街道/乡镇{also}"
    return shapely.union_all(units.geometry[hit.to_numpy()].to_numpy()), ""


# ---------------------------------------------------------------- clipping


def clip_region(region: Region, area: StudyArea) -> Region:
    """Return ``region`` cut to the study area and named after it; pure.

    Streets (edges) crossing the area are kept whole (the network stays connected at
    the edge) with their nodes; buildings and features are kept when their
    representative point lies inside; landuse is clipped. Districts are clipped to the
    area (slivers dropped: :data:`SLIVER_SHARE`) and each clipped district's
    census counts and ``population`` tag are scaled to the share of its area inside.
    ``meta["study_area"]`` describes the area; a warning says when the data covers
    little of it.

    Raises
    ------
    InputError
        The study area and the region's data do not overlap (both extents named).
    """
    geom = area.geometry
    shapely.prepare(geom)
    data_frames = [f for f in (region.edges, region.buildings, region.features) if len(f)]
    if data_frames and not any(shapely.intersects(f.geometry.to_numpy(), geom).any()
                               for f in data_frames):  # fmt: skip
        b = np.vstack([f.total_bounds for f in data_frames])
        data = [b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()]
        raise InputError(
            f"--study-area {area.name}: the study area ({_box(shapely.bounds(geom))}) does not "
            f"overlap the region's data ({_box(data)}); give a study area inside the extract, "
            "or an extract of the study area."
        )
    edges = region.edges
    if len(edges):
        edges = edges[shapely.intersects(edges.geometry.to_numpy(), geom)]
    nodes = region.nodes
    if len(nodes) and {"u", "v"} <= set(edges.columns) and "node_id" in nodes.columns:
        used = pd.unique(pd.concat([edges["u"], edges["v"]], ignore_index=True))
        nodes = nodes[nodes["node_id"].isin(used)]
    buildings = _inside(region.buildings, geom)
    features = _inside(region.features, geom)
    landuse = region.landuse
    if len(landuse):
        keep = shapely.intersects(landuse.geometry.to_numpy(), geom)
        landuse = landuse[keep].copy()
        landuse["geometry"] = shapely.intersection(landuse.geometry.to_numpy(), geom)
        landuse = landuse[~landuse.geometry.is_empty]
    bnd, census, notes = clip_boundaries(region.boundaries, region.census, area)
    warnings = [*region.meta.get(META_WARNINGS, []), *notes]
    meta = {
        **region.meta,
        META_STUDY_AREA: area.meta(),
        "extract_name": region.meta.get("extract_name", region.name),
        META_WARNINGS: warnings,
    }
    log.info(
        "study area %s (%s, %.2f km²): %d of %d streets, %d of %d buildings, %d districts",
        area.name, area.source, meta[META_STUDY_AREA]["area_km2"], len(edges),
        len(region.edges), len(buildings), len(region.buildings), len(bnd),
    )  # fmt: skip
    return region.with_(
        name=area.name,
        boundaries=bnd,
        census=census,
        edges=edges.reset_index(drop=True),
        nodes=nodes.reset_index(drop=True),
        buildings=buildings,
        features=features,
        landuse=landuse.reset_index(drop=True),
        meta=meta,
    )


def _box(b: Any) -> str:
    return f"lon {b[0]:.4f}..{b[2]:.4f}, lat {b[1]:.4f}..{b[3]:.4f}"


def _inside(frame: gpd.GeoDataFrame, geom: BaseGeometry) -> gpd.GeoDataFrame:
    """Rows of ``frame`` whose representative point lies in ``geom``."""
    if not len(frame):
        return frame
    g = frame.geometry.to_numpy()
    pts = shapely.point_on_surface(g)
    return frame[shapely.intersects(geom, pts)].reset_index(drop=True)


def clip_boundaries(
    boundaries: gpd.GeoDataFrame, census: pd.DataFrame | None, area: StudyArea
) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None, list[str]]:
    """Clip districts to the study area and scale their census to the covered share.

    Returns
    -------
    tuple
        The clipped districts (slivers under :data:`SLIVER_SHARE` of both the area and
        their district dropped; the whole area as one district when none is left), the
        census with
        the rows of dropped districts removed and the others' counts × the share of the
        district's area inside the study area, and notes for ``meta["warnings"]``.
    """
    geom = area.geometry
    if not len(boundaries):
        from geoapp.region import whole_region_boundary

        return whole_region_boundary(area.name, geom), census, []
    crs = local_crs(boundaries)
    whole = boundaries.to_crs(crs).area.to_numpy()
    cut = shapely.intersection(boundaries.geometry.to_numpy(), geom)
    cut_area = gpd.GeoSeries(cut, crs=WGS84).to_crs(crs).area.to_numpy()
    total = gpd.GeoSeries([geom], crs=WGS84).to_crs(crs).area.iloc[0]
    share = np.divide(cut_area, whole, out=np.zeros(len(whole)), where=whole > 0)
    keep = (cut_area > 0) & (
        (cut_area >= SLIVER_SHARE * max(total, 1e-9)) | (share >= SLIVER_SHARE)
    )
    out = boundaries.copy()
    out["geometry"] = cut
    if "population" in out.columns:
        out["population"] = pd.to_numeric(out["population"], errors="coerce") * share
    notes: list[str] = []
    if census is not None and len(census):
        census = _scale_census(boundaries, census, keep, share)
    partial = [
        f"{d} ({s:.1%})"
        for d, s, k in zip(boundaries["district"], share, keep, strict=True)
        if k and s < 0.999
    ]
    if partial and census is not None:
        notes.append(
            f"Study area {area.name}: districts partly inside it count the share of their "
            f"area inside (census × that share): {', '.join(partial[:12])}"
            + (" ..." if len(partial) > 12 else "")
        )
    out = out[keep].reset_index(drop=True)
    if not len(out):
        from geoapp.region import whole_region_boundary

        out = whole_region_boundary(area.name, geom)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84), census, notes


def _scale_census(
    boundaries: gpd.GeoDataFrame, census: pd.DataFrame, keep: np.ndarray, share: np.ndarray
) -> pd.DataFrame:
    """Return ``census`` with kept districts' counts × share and dropped districts' rows out."""
    from geoapp.demand.scaling import match_census

    # the study area keeps some districts only: the others' rows are dropped, not warned about
    match, _ = match_census(boundaries, census, strict=False, log_problems=False)
    counts = [c for c in CENSUS_COLUMNS[2:] if c in census.columns]
    out = census.copy()
    factor = np.ones(len(census))
    drop = []
    for bi, ci in match.items():
        if not keep[bi]:
            drop.append(ci)
        elif share[bi] < 0.999:
            factor[ci] = share[bi]
    for c in counts:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float) * factor
    return out.drop(index=out.index[drop]).reset_index(drop=True)


# ---------------------------------------------------------------- units of a district


def has_parents(boundaries: gpd.GeoDataFrame) -> bool:
    """Return True when the districts carry their parent district (e.g. Beijing's 街道)."""
    return all(c in boundaries.columns for c in _bnd.PARENT_COLUMNS)


def _as_parents(boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the units renamed as their parent districts (names and codes)."""
    name, code = _bnd.PARENT_COLUMNS
    return boundaries.assign(district=boundaries[name], district_code=boundaries[code])


def zones_by_parent(
    boundaries: gpd.GeoDataFrame, mapping: ZoneMapping, strict: bool = True
) -> gpd.GeoDataFrame:
    """Apply a zone mapping of districts to units: each unit takes its parent's zone.

    Units keep their own names and codes; ``zone_type`` and ``zone_fine`` come from the
    mapping's entry of ``parent_district`` / ``parent_district_code``.
    """
    from geoapp.zones import apply_zone_mapping

    zoned = apply_zone_mapping(_as_parents(boundaries), mapping, strict=strict)
    return boundaries.assign(
        zone_type=zoned["zone_type"].to_numpy(), zone_fine=zoned["zone_fine"].to_numpy()
    )


def census_by_parent(
    boundaries: gpd.GeoDataFrame, census: pd.DataFrame
) -> tuple[pd.DataFrame, str | None]:
    """Share a census of parent districts among their units by area.

    When the census matches the units themselves, or no unit's parent, it is returned
    unchanged (None note). Otherwise every unit gets its parent's counts × the unit's
    share of the parent's area (uniform density within the district, the assumption of
    the census rule), and a note says so.
    """
    from geoapp.demand.scaling import match_census

    # probes: which matching fits; a census of districts never matches their 街道 (no warning)
    own, _ = match_census(boundaries, census, strict=False, log_problems=False)
    parents, _ = match_census(_as_parents(boundaries), census, strict=False, log_problems=False)
    if len(own) >= len(parents) or not parents:
        return census, None
    crs = local_crs(boundaries)
    area = boundaries.to_crs(crs).area.to_numpy()
    parent = boundaries[_bnd.PARENT_COLUMNS[0]].astype(str).to_numpy()
    parent_area = pd.Series(area).groupby(parent).transform("sum").to_numpy()
    counts = [c for c in CENSUS_COLUMNS[2:] if c in census.columns]
    rows = []
    for bi, ci in sorted(parents.items()):
        row: dict[str, str | float] = {
            "district_code": str(boundaries["district_code"].iloc[bi]),
            "district": str(boundaries["district"].iloc[bi]),
        }
        share = area[bi] / parent_area[bi] if parent_area[bi] > 0 else 0.0
        for c in counts:
            row[c] = float(pd.to_numeric(census.iloc[ci][c], errors="coerce")) * share
        rows.append(row)
    note = (
        f"The census gives {len(set(parents.values()))} districts, the boundaries "
        f"{len(boundaries)} 街道/乡镇: each 街道/乡镇 gets its district's residents × its "
        "share of the district's area (uniform density within a district); use "
        "--boundaries beijing for district totals the buildings share out."
    )
    log.warning("%s", note)
    return pd.DataFrame(rows), note


__all__ = [
    "META_STUDY_AREA",
    "SLIVER_SHARE",
    "StudyArea",
    "census_by_parent",
    "clip_boundaries",
    "clip_region",
    "has_parents",
    "resolve_study_area",
    "study_area_geometry",
    "zones_by_parent",
]
