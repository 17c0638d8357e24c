"""Facility tables: official lists (CSV or Excel) with longitude/latitude columns.

Chinese sources usually give GCJ-02 (Amap/Gaode, Tencent) or BD-09 (Baidu)
coordinates, a few hundred metres off WGS84, so the coordinate system must be named
explicitly (``coords="wgs84" | "gcj02" | "bd09"``); nothing is guessed. Rows are
converted to WGS84 and returned as a ``features`` table (docs/architecture.md) whose
tag columns let :func:`geoapp.layers.select_features` pick them up.

Bad rows (missing, non-numeric or out-of-range coordinates) are reported by their
line number in the file (the header is line 1) in :attr:`FacilityTable.problems` and in
the log; the good rows still load.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp._validate import Problems, did_you_mean
from geoapp.catalog import Layer, get_layer
from geoapp.crs import (
    COORD_SYSTEMS,
    convert_to_wgs84,
    geometries_to_wgs84,
    normalise_coords_name,
)
from geoapp.errors import CRSError, InputError
from geoapp.messages import group_warnings
from geoapp.region import FEATURE_TAG_KEYS, WGS84
from geoapp.sources.capacity import parse_capacity

log = logging.getLogger(__name__)

#: Longitude column names, tried in order; a header matches when it equals one ignoring
#: case, spaces and a bracketed unit or note (``经度（E）``, ``Longitude (WGS84)``).
LON_CANDIDATES = (
    "lon", "lng", "long", "longitude", "x", "经度", "东经", "lon_wgs84", "lng_wgs84",
    "x_coord", "xcoord", "coord_x", "point_x",
)  # fmt: skip
#: Latitude column names, matched like :data:`LON_CANDIDATES`.
LAT_CANDIDATES = (
    "lat", "latitude", "y", "纬度", "北纬", "lat_wgs84", "y_coord", "ycoord", "coord_y", "point_y",
)  # fmt: skip
LOCATION_CANDIDATES = ("location", "lnglat", "lonlat", "经纬度", "坐标")
#: Capacity columns (beds or places), first found wins; stored as the ``capacity`` tag.
CAPACITY_CANDIDATES = ("capacity", "beds", "床位数", "床位", "核定床位数", "床位数(张)", "容量")
NAME_CANDIDATES = ("name", "名称", "机构名称", "单位名称", "设施名称", "title", "name_zh", "名字")
_ENCODINGS = ("utf-8-sig", "gb18030")
_EXCEL = (".xlsx", ".xlsm")
_TEXT = (".csv", ".txt", ".tsv")
#: GeoJSON lists (points or polygons, e.g. 历史文化街区), coordinates in the declared datum.
_GEOJSON = (".geojson", ".json")
#: A column of WKT shapes (``POLYGON ((lon lat, ...))``, in the declared datum) used
#: instead of longitude/latitude columns; a GeoJSON file's geometry is read into it.
GEOMETRY_CANDIDATES = ("wkt", "geometry", "geom", "shape", "边界", "范围", "几何")
#: A heritage list's protection-class column (全国重点文物保护单位, 市级, national ...),
#: stored as the ``protection_title`` tag (``geoapp.layers.heritage_classes`` reads it).
CLASS_CANDIDATES = (
    "heritage_class", "protection_class", "protection_title", "class", "级别", "保护级别",
    "文保级别", "文物级别", "保护等级", "等级",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class FacilityTable:
    """A facility table read by :func:`read_facility_table`.

    Attributes
    ----------
    frame
        EPSG:4326 features of the kept rows (see :func:`read_facility_table`).
    problems
        The rejected rows, by line number (the header is line 1), and a note when
        longitude and latitude look swapped.
    capacity_problems
        The kept rows whose capacity cell could not be read, by line number.
    coords
        The table's coordinate system as read (``wgs84`` | ``gcj02`` | ``bd09``).
    source_file
        The file read (without a ``#sheet`` part).
    """

    frame: gpd.GeoDataFrame
    problems: tuple[str, ...]
    capacity_problems: tuple[str, ...]
    coords: str
    source_file: str


def split_sheet(path: str | os.PathLike[str]) -> tuple[Path, str | None]:
    """Split ``FILE.xlsx#Sheet2`` into the file and the sheet name.

    A path that exists as given, or whose part before the last ``#`` is not an Excel
    file, is returned whole with no sheet.
    """
    text = os.fspath(path)
    if not isinstance(text, str) or Path(text).exists() or "#" not in text:
        return Path(text), None
    base, _, sheet = text.rpartition("#")
    if base.lower().endswith(_EXCEL) and sheet:
        return Path(base), sheet
    return Path(text), None


def _excel_error(path: Path, exc: Exception) -> InputError:
    return InputError(
        f"{path}: cannot read this Excel file ({type(exc).__name__}: {exc}); save it "
        "again as .xlsx or export it as CSV (UTF-8)."
    )


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    try:
        sheets = pd.ExcelFile(path, engine="openpyxl").sheet_names
    except Exception as exc:
        raise _excel_error(path, exc) from None
    if isinstance(sheet, str) and sheet not in sheets and sheet.isdigit():
        sheet = int(sheet)
    known = sheet is None or sheet in sheets or (isinstance(sheet, int) and sheet < len(sheets))
    if not known:
        raise InputError(
            f"{path}: no sheet {sheet!r}{did_you_mean(sheet, sheets)}; the workbook's sheets are "
            f"{', '.join(map(str, sheets))}. Choose one as {path.name}#<sheet> "
            f"(e.g. {path.name}#{sheets[0]})."
        )
    if sheet is None and len(sheets) > 1:
        log.info(
            "%s: %d sheets (%s); reading the first (choose one as FILE.xlsx#sheet)",
            path,
            len(sheets),
            ", ".join(map(str, sheets)),
        )
    try:
        return pd.read_excel(
            path, sheet_name=0 if sheet is None else sheet, dtype=str, engine="openpyxl"
        )
    except Exception as exc:
        raise _excel_error(path, exc) from None


def _read_text(path: Path) -> pd.DataFrame:
    last: Exception | None = None
    for enc in _ENCODINGS:
        try:
            df = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding=enc,
                sep=None,
                engine="python",
                skip_blank_lines=False,
            )
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except pd.errors.EmptyDataError:
            raise InputError(f"{path}: the file has no header or rows.") from None
        except Exception as exc:
            raise InputError(
                f"{path}: cannot read this CSV file ({type(exc).__name__}: {exc}); check that "
                "it is comma-separated text with one header line."
            ) from None
        if enc != "utf-8-sig":
            log.info("%s: read as %s", path, enc)
        return df
    raise InputError(
        f"{path}: the text encoding is neither UTF-8 nor GBK ({last}); save the file as CSV UTF-8."
    )


def _read_geojson(path: Path) -> pd.DataFrame:
    """Read a GeoJSON list as text columns plus its shapes as WKT in column ``wkt``."""
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise InputError(
            f"{path}: cannot read this GeoJSON file ({type(exc).__name__}: {exc}); check that "
            "it is a FeatureCollection."
        ) from None
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
    df = df.where(df.notna(), "").astype(str)
    df["wkt"] = [g.wkt if g is not None and not g.is_empty else "" for g in gdf.geometry]
    return df


def _shapes(df: pd.DataFrame, lines: np.ndarray, path: Path) -> tuple[np.ndarray, list[str]] | None:
    """Shapes of a WKT column (None when the table has none) and the rows that fail.

    A row with an empty WKT cell takes its point from the longitude/latitude columns
    when the table has them (a list of points and 历史文化街区 polygons in one file).
    """
    col = _find_column(df, None, GEOMETRY_CANDIDATES)
    if col is None:
        return None
    import shapely

    text = df[col].astype("string").fillna("").str.strip().to_numpy(dtype=object)
    wkt = np.array([t if t else None for t in text], dtype=object)
    geoms = np.asarray(shapely.from_wkt(wkt, on_invalid="ignore"), dtype=object)
    blank = np.array([not t for t in text], dtype=bool)
    has_xy = all(_find_column(df, None, c) is not None for c in (LON_CANDIDATES, LAT_CANDIDATES))
    problems = [
        f"line {ln}: {col} {str(t)[:40]!r} is not a WKT shape (e.g. POINT (116.39 39.91))"
        for ln, t, g, b in zip(lines, text, geoms, blank, strict=True)
        if not b and (g is None or g.is_empty)
    ]
    if blank.any() and has_xy:  # these rows are points given by lon/lat
        xy = _coordinates(df.loc[blank], path, None, None, "")
        neither = xy.x_missing & xy.y_missing
        xy_problems, bad = _coordinate_problems(xy, lines[blank], skip=neither)
        pts = shapely.points(xy.x, xy.y)
        pts[bad | neither] = None
        geoms[blank] = pts
        problems += xy_problems + [
            f"line {ln}: no {col} and no longitude/latitude (give a shape or a point)"
            for ln in lines[blank][neither]
        ]
        log.info("%s: %d rows without %s placed by longitude/latitude", path, int(blank.sum()),
                 col)  # fmt: skip
    elif blank.any():
        problems += [f"line {ln}: missing {col}" for ln in lines[blank]]
    return geoms, problems


def _read_table(path: Path, sheet: str | int | None) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"{path}: facility table not found; check the path.")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a CSV or Excel (.xlsx) file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty; export the facility list again.")
    suffix = path.suffix.lower()
    if suffix in _EXCEL:
        return _read_excel(path, sheet)
    if suffix in _GEOJSON:
        return _read_geojson(path)
    if suffix not in _TEXT:
        raise InputError(
            f"{path}: unsupported facility table type {suffix!r}; use CSV (.csv, UTF-8 or "
            "GBK), Excel (.xlsx) or GeoJSON (.geojson, for shapes such as 历史文化街区)."
        )
    return _read_text(path)


#: A bracketed unit or note in a header: ``（E）``, ``(°)``, ``[WGS84]``, ``【度】``.
_BRACKETED = re.compile(r"\s*[(（\[【][^)）\]】]*[)）\]】]\s*")


def _header_key(name: object) -> str:
    """Return a header as compared with the candidates: lower case, no note, no spaces."""
    text = _BRACKETED.sub("", str(name)).strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def _find_column(df: pd.DataFrame, given: str | None, candidates: tuple[str, ...]) -> str | None:
    if given is not None:
        return given if given in df.columns else None
    keyed: dict[str, Any] = {}
    for c in df.columns:
        keyed.setdefault(_header_key(c), c)
    for cand in candidates:
        if _header_key(cand) in keyed:
            return keyed[_header_key(cand)]
    return None


def _layer_tags(layer: str | Layer, catalog: Mapping[str, Layer] | None) -> dict[str, str]:
    """Tags that make a row match ``layer``: its first [[match]] table, first values."""
    lay = layer if isinstance(layer, Layer) else get_layer(str(layer), catalog)
    out: dict[str, str] = {}
    for key, value in lay.match[0].items():
        if value is False or key in ("osm_id", "name"):
            continue  # a key that must be absent, or a feature column
        if value is True:
            out[key] = "yes"
        elif isinstance(value, str):
            out[key] = value
        else:
            out[key] = str(next(iter(cast(Iterable[str], value))))
    return out


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return (float values, is-missing mask) of text cells; non-numbers become NaN."""
    text = values.astype("string").fillna("").str.strip().str.replace("，", ",", regex=False)
    missing = (text == "").to_numpy(dtype=bool)
    num = pd.to_numeric(text.mask(text == ""), errors="coerce").to_numpy(dtype=float)
    return num, missing


def read_facility_table(
    path: str | os.PathLike[str],
    *,
    coords: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    name: str | None = None,
    layer: str | Layer | None = None,
    tags: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    catalog: Mapping[str, Layer] | None = None,
) -> FacilityTable:
    """Read a facility list (CSV or Excel) with longitude/latitude columns.

    Parameters
    ----------
    path
        ``.csv`` (UTF-8, UTF-8 with BOM, or GBK/GB18030; comma, semicolon or tab
        separated) or ``.xlsx``; ``FILE.xlsx#Sheet2`` reads the sheet named after ``#``.
        A ``.geojson`` list, or a WKT column (:data:`GEOMETRY_CANDIDATES`), gives
        shapes (points or polygons, e.g. 历史文化街区) instead of lon/lat columns; a
        row whose WKT cell is empty is a point read from the lon/lat columns when the
        table has them; every vertex is converted from ``coords``. A class column (:data:`CLASS_CANDIDATES`,
        e.g. ``级别``) becomes the ``protection_title`` tag (heritage classes).
    coords
        Coordinate system of the table, REQUIRED: ``"wgs84"`` (GPS, OpenStreetMap),
        ``"gcj02"`` (Amap/Gaode, Tencent) or ``"bd09"`` (Baidu).
    lon, lat
        Column names; guessed from common names (``lon``/``lng``/``longitude``/``x``/
        ``经度`` and ``lat``/``latitude``/``y``/``纬度``) when not given. A single
        ``location`` column holding ``"lon,lat"`` (as Amap exports) also works.
    name
        Column with the facility names; guessed (``name``, ``名称`` ...) when not given.
    layer
        Layer id (or :class:`~geoapp.catalog.Layer`) the rows belong to: sets the tags
        of the layer's first ``[[match]]`` table (each key to its first value), e.g.
        ``elderly_care`` -> ``amenity=social_facility``, ``social_facility=nursing_home``,
        ``social_facility:for=senior``.
    tags
        Tags to set on every row, e.g. ``{"amenity": "pharmacy"}`` (applied after
        ``layer``). Tag columns already in the table are kept where these do not set them.
    sheet
        Excel sheet name or index (default the ``#`` part of ``path``, else the first).
    catalog
        Catalog in which to look up a ``layer`` id; default the shipped catalog.

    Returns
    -------
    FacilityTable
        ``frame``: EPSG:4326 features: ``osm_id`` (``"table/<line>"``), ``name``, one
        column per tag key (at least :data:`geoapp.region.FEATURE_TAG_KEYS`),
        ``capacity`` (the ``capacity`` tag, text: the number read from a ``capacity``,
        ``beds`` or ``床位数`` column, None when empty or unreadable; unreadable cells
        are named by line in ``capacity_problems`` and the row is kept) and Point
        geometry converted to WGS84. ``problems`` lists the rejected rows by line
        number, ``capacity_problems`` the kept rows whose capacity cell could not be
        read, ``coords`` the input coordinate system, ``source_file`` the file read.

    Raises
    ------
    InputError
        Missing/unknown ``coords`` (listing the choices), unreadable file, missing
        coordinate columns, or no usable row (listing every problem).
    """
    path, named_sheet = split_sheet(path)
    system = _coords_system(path, coords)
    df, lines = _rows(path, named_sheet if sheet is None else sheet)
    shapes = _shapes(df, lines, path) if lon is None and lat is None else None
    if shapes is None:
        xy = _coordinates(df, path, lon, lat, system, named_sheet if sheet is None else sheet)
        # rows whose latitude is a longitude and the other way round: one problem for all
        swapped = (np.abs(xy.x) <= 90) & (np.abs(xy.y) > 90) & (np.abs(xy.y) <= 180)
        problems, bad = _coordinate_problems(xy, lines, skip=swapped)
        bad |= swapped
        if swapped.any():
            problems.insert(0, _swapped_problem(xy, lines[swapped], len(lines)))
    else:
        problems = shapes[1]
        bad = np.array([g is None or g.is_empty for g in shapes[0]], dtype=bool)
    capacity, cap_problems = _capacity(df, lines, bad, path)
    for p in group_warnings([*problems, *cap_problems]):  # alike lines once, with a count
        log.warning("%s: %s", path, p)
    good = ~bad
    if not good.any():
        raise InputError(f"{path}: no row has usable coordinates.", problems)
    name_col = _find_column(df, name, NAME_CANDIDATES)
    if name is not None and name_col is None:
        raise InputError(
            f"{path}: name column {name!r} not found{did_you_mean(name, df.columns)}; the "
            f"columns are {', '.join(map(str, df.columns))}."
        )
    set_tags: dict[str, str] = {}
    if layer is not None:
        set_tags.update(_layer_tags(layer, catalog))
    if tags:
        set_tags.update({str(k): str(v) for k, v in tags.items()})
    if shapes is None:
        wx, wy = convert_to_wgs84(xy.x[good], xy.y[good], system)
        points = gpd.points_from_xy(wx, wy)
    else:  # every vertex converted from the declared datum (polygons: 历史文化街区)
        points = geometries_to_wgs84(shapes[0][good], system)
    cap = None if capacity is None else capacity[good]
    out = _frame(df.loc[good], lines[good], points, name_col, set_tags, cap)
    class_col = _find_column(df, None, CLASS_CANDIDATES)
    if class_col is not None and "protection_title" not in set_tags:
        out["protection_title"] = _text_or_none(df.loc[good, class_col]).to_numpy()
    log.info("%s: %d facilities loaded, %d rows rejected", path, int(good.sum()), int(bad.sum()))
    return FacilityTable(
        frame=out,
        problems=tuple(problems),
        capacity_problems=tuple(cap_problems),
        coords=system,
        source_file=str(path),
    )


def _coords_system(path: Path, coords: str | None) -> str:
    if coords is None or str(coords).strip() == "":
        raise InputError(
            f"{path}: say which coordinate system the table uses: coords= one of "
            f"{', '.join(COORD_SYSTEMS)} (wgs84 = GPS/OpenStreetMap, gcj02 = Amap/Gaode or "
            "Tencent, bd09 = Baidu). geoapp does not guess: the systems differ by ~500 m."
        )
    try:
        return normalise_coords_name(coords)
    except CRSError as exc:
        raise CRSError(f"{path}: {exc}") from None


def _rows(path: Path, sheet: str | int | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Read the table; return its non-blank rows and their line numbers (header = 1)."""
    df = _read_table(path, sheet)
    df.columns = [str(c).strip() for c in df.columns]
    lines = np.arange(len(df)) + 2  # header is line 1
    blank = df.apply(lambda c: c.astype("string").fillna("").str.strip() == "").all(axis=1)
    df = df.loc[~blank.to_numpy()]
    lines = lines[~blank.to_numpy()]
    if len(df) == 0:
        raise InputError(f"{path}: the table has a header but no rows.")
    return df, lines


@dataclass(frozen=True)
class _XY:
    """Coordinates read from a table: values, missing cells, raw text and their columns."""

    x: np.ndarray
    y: np.ndarray
    x_missing: np.ndarray
    y_missing: np.ndarray
    raw_x: np.ndarray
    raw_y: np.ndarray
    lon_col: str
    lat_col: str


def _missing_columns(df: pd.DataFrame, lon: str | None, lat: str | None, found: tuple) -> str:
    missing = []
    for given, col, what in ((lon, found[0], "longitude"), (lat, found[1], "latitude")):
        if col is None and given:
            missing.append(f"{what} column {given!r}{did_you_mean(given, df.columns)}")
        elif col is None:
            missing.append(f"a {what} column")
    return " and ".join(missing)


def _sheet_hint(path: Path, sheet: str | int | None) -> str:
    """Name the other sheets of a workbook read at its first sheet (those with lon/lat first)."""
    if sheet is not None or path.suffix.lower() not in _EXCEL:
        return ""
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
        names = [str(n) for n in book.sheet_names]
        fits = [
            n
            for n in names[1:]
            if all(
                _find_column(pd.read_excel(book, sheet_name=n, nrows=0), None, c) is not None
                for c in (LON_CANDIDATES, LAT_CANDIDATES)
            )
        ]
    except Exception:
        return ""
    if len(names) < 2:
        return ""
    pick = fits[0] if fits else names[1]
    where = f"; sheet {pick!r} has them" if fits else ""
    return (
        f" geoapp read the first sheet, {names[0]!r}, of {len(names)} ({', '.join(names)})"
        f"{where}: choose a sheet as {path.name}#<sheet>, e.g. {path.name}#{pick}."
    )


def _coordinates(
    df: pd.DataFrame,
    path: Path,
    lon: str | None,
    lat: str | None,
    system: str,
    sheet: str | int | None = None,
) -> _XY:
    """Find the coordinate columns (lon and lat, or one 'lon,lat' column) and read them."""
    lon_col = _find_column(df, lon, LON_CANDIDATES)
    lat_col = _find_column(df, lat, LAT_CANDIDATES)
    if lon_col is not None and lat_col is not None:
        log.info("%s: coordinates from columns %r, %r (%s)", path, lon_col, lat_col, system)
        parts = df[[lon_col, lat_col]].set_axis([0, 1], axis=1)
        return _read_xy(parts, lon_col, lat_col)
    loc_col = None
    if lon is None and lat is None:
        loc_col = _find_column(df, None, LOCATION_CANDIDATES)
    if loc_col is None:
        raise InputError(
            f"{path}: cannot find {_missing_columns(df, lon, lat, (lon_col, lat_col))}; the "
            f"columns are {', '.join(map(str, df.columns))}.{_sheet_hint(path, sheet)} "
            "Rename the coordinate columns to lon and lat in the file (recognised: "
            f"{', '.join(LON_CANDIDATES)} / {', '.join(LAT_CANDIDATES)}, any case, with or "
            "without a unit in brackets such as 经度（E）), or use one location column "
            "holding 'lon,lat'."
        )
    parts = df[loc_col].astype("string").fillna("").str.split(",", n=1, expand=True)
    log.info("%s: coordinates from 'lon,lat' column %r (%s)", path, loc_col, system)
    return _read_xy(parts.reindex(columns=[0, 1]), loc_col, loc_col)


def _read_xy(parts: pd.DataFrame, lon_col: str, lat_col: str) -> _XY:
    x, x_missing = _numbers(parts[0])
    y, y_missing = _numbers(parts[1])
    return _XY(
        x=x,
        y=y,
        x_missing=x_missing,
        y_missing=y_missing,
        raw_x=parts[0].astype("string").fillna("").to_numpy(dtype=object),
        raw_y=parts[1].astype("string").fillna("").to_numpy(dtype=object),
        lon_col=lon_col,
        lat_col=lat_col,
    )


def _swapped_problem(xy: _XY, lines: np.ndarray, total: int) -> str:
    """One sentence for every row whose longitude and latitude look swapped."""
    shown = ", ".join(str(int(x)) for x in lines[:5]) + (", ..." if len(lines) > 5 else "")
    return (
        f"{len(lines)} of {total} rows have a latitude above 90 that would be a valid "
        f"longitude (lines {shown}): columns swapped? Check that column {xy.lon_col!r} "
        f"holds longitudes (east-west, -180..180) and {xy.lat_col!r} latitudes "
        "(north-south, -90..90); swap the two column names in the file if not. These rows "
        "were not loaded"
    )


def _coordinate_problems(
    xy: _XY, lines: np.ndarray, *, skip: np.ndarray | None = None
) -> tuple[list[str], np.ndarray]:
    """Name every row with a missing, non-numeric or out-of-range coordinate, by line.

    Rows in ``skip`` (reported otherwise) are neither named nor marked bad.
    """
    checks: list[tuple[Any, Callable[..., str]]] = []  # (rows hit, their message)
    bad = np.zeros(len(lines), dtype=bool)
    keep = np.ones(len(lines), dtype=bool) if skip is None else ~np.asarray(skip, dtype=bool)
    for what, vals, miss, raw, lo, hi in (
        ("longitude", xy.x, xy.x_missing, xy.raw_x, -180.0, 180.0),
        ("latitude", xy.y, xy.y_missing, xy.raw_y, -90.0, 90.0),
    ):
        miss = miss & keep
        nonnum = ~miss & np.isnan(vals) & keep
        out_of_range = ~np.isnan(vals) & ((vals < lo) | (vals > hi)) & keep
        checks += [
            (miss, lambda i, what=what: f"missing {what}"),
            (nonnum, lambda i, what=what, raw=raw: f"{what} {raw[i]!r} is not a number"),
            (
                out_of_range,
                lambda i, what=what, vals=vals, lo=lo, hi=hi: (
                    f"{what} {vals[i]:g} is outside {lo:g}..{hi:g}"
                ),
            ),
        ]
        bad |= miss | nonnum | out_of_range
    problems = Problems()
    problems.rows(lines.tolist(), checks, label="line")
    return problems.lines, bad


def _capacity(
    df: pd.DataFrame, lines: np.ndarray, bad: np.ndarray, path: Path
) -> tuple[np.ndarray | None, list[str]]:
    """Read the capacity column, if any; name the kept rows whose cell is unreadable."""
    cap_col = _find_column(df, None, CAPACITY_CANDIDATES)
    if cap_col is None:
        return None, []
    raw_cap = df[cap_col].astype("string").fillna("").str.strip().to_numpy(dtype=object)
    capacity, cap_bad = parse_capacity(raw_cap)
    problems = Problems()
    problems.rows(
        lines.tolist(),
        [
            (
                cap_bad & ~bad,
                lambda i: (
                    f"{cap_col} {raw_cap[i]!r} is not a number of beds or places; the "
                    "facility is kept with unknown capacity (write a whole number, e.g. 120, or "
                    "leave the cell empty)"
                ),
            )
        ],
        label="line",
    )
    log.info("%s: capacity from column %r", path, cap_col)
    return capacity, problems.lines


def _frame(
    sub: pd.DataFrame,
    lines: np.ndarray,
    points: Any,
    name_col: str | None,
    set_tags: Mapping[str, str],
    capacity: np.ndarray | None,
) -> gpd.GeoDataFrame:
    """Return the kept rows as features: osm_id, name, tag columns, capacity, WGS84 points."""
    n = len(sub)
    keys = list(FEATURE_TAG_KEYS) + [k for k in set_tags if k not in FEATURE_TAG_KEYS]
    data: dict[str, Any] = {
        "osm_id": pd.Series([f"table/{ln}" for ln in lines], dtype=object),
        "name": _text_or_none(sub[name_col]) if name_col else pd.Series([None] * n, dtype=object),
    }
    for k in keys:
        if k in set_tags:
            data[k] = pd.Series([set_tags[k]] * n, dtype=object)
        elif k in sub.columns:
            data[k] = _text_or_none(sub[k])
        else:
            data[k] = pd.Series([None] * n, dtype=object)
    cap = np.full(n, np.nan) if capacity is None else capacity
    data["capacity"] = pd.Series(
        [None if np.isnan(c) else f"{c:g}" for c in cap], dtype=object
    )  # the ``capacity`` tag: select_features makes it the facilities' float capacity
    return gpd.GeoDataFrame(data, geometry=points, crs=WGS84)


def _text_or_none(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.strip()
    s = s.mask(s == "")
    # pandas-stubs reject na_value=None (valid: missing values become None)
    return pd.Series(s.to_numpy(dtype=object, na_value=None), dtype=object)  # type: ignore[call-overload, arg-type]


#: Largest distance (m) at which an imported row and a mapped feature of the same layer
#: are one facility (names allowing: :func:`duplicates_of`).
DUPLICATE_M = 50.0
#: Largest distance (m) at which the same name makes them one facility.
SAME_NAME_M = 1000.0
_CJK = re.compile(r"[\u3400-\u9fff]")
_NOT_WORD = re.compile(r"[\W_]+")
_BRACKETS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")


def normalise_name(name: object) -> str:
    """Return a name as compared for duplicates: NFKC, lower case, no spaces or punctuation."""
    import unicodedata

    if not isinstance(name, str):
        return ""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", name).lower())


def _names_agree(a: str, b: str, raw_a: object, raw_b: object) -> bool:
    """Whether two names may name one facility.

    One missing, one inside the other, or written in different scripts (a Chinese list
    against an English OSM name).
    """
    if not a or not b or a in b or b in a:
        return True
    return bool(_CJK.search(str(raw_a))) != bool(_CJK.search(str(raw_b)))


def duplicates_of(
    table: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    *,
    max_m: float = DUPLICATE_M,
    same_name_m: float = SAME_NAME_M,
) -> np.ndarray:
    """Return which ``existing`` features (mapped in OSM) an imported table duplicates.

    A mapped feature and an imported row are one facility when their names are the
    same after :func:`normalise_name` (brackets dropped too) and they lie within
    ``same_name_m``, or when they lie within ``max_m`` of each other (0 when a mapped
    polygon holds the row) and their names agree (one missing, one containing the
    other, or written in different scripts). The imported row is kept (an official
    list's class and position win); the caller drops the mapped features marked.

    Parameters
    ----------
    table
        The imported rows (EPSG:4326, ``name``).
    existing
        The mapped features of the same layer (EPSG:4326, ``name`` optional).
    max_m, same_name_m
        Distances in metres.

    Returns
    -------
    numpy.ndarray
        Boolean, aligned with ``existing``.
    """
    import shapely

    from geoapp.crs import local_crs

    hit = np.zeros(len(existing), dtype=bool)
    if not len(table) or not len(existing):
        return hit
    crs = local_crs(table)
    tg = np.asarray(table.geometry.to_crs(crs).to_numpy(), dtype=object)
    eg = np.asarray(existing.geometry.to_crs(crs).to_numpy(), dtype=object)

    def names(frame: pd.DataFrame) -> tuple[list[object], list[str], list[str]]:
        raw = list(frame["name"]) if "name" in frame.columns else [None] * len(frame)
        return (
            raw,
            [normalise_name(n) for n in raw],
            [normalise_name(_BRACKETS.sub("", n)) if isinstance(n, str) else "" for n in raw],
        )

    t_raw, t_key, t_bare = names(table)
    e_raw, e_key, e_bare = names(existing)
    tree = shapely.STRtree(eg)
    ti, ei = tree.query(tg, predicate="dwithin", distance=max(max_m, same_name_m))
    d = shapely.distance(tg[ti], eg[ei])
    for i, j, dist in zip(ti, ei, d, strict=True):
        same = bool(t_key[i]) and (t_key[i] == e_key[j] or (t_bare[i] and t_bare[i] == e_bare[j]))
        if (same and dist <= same_name_m) or (
            dist <= max_m and _names_agree(t_key[i], e_key[j], t_raw[i], e_raw[j])
        ):
            hit[j] = True
    return hit


#: Largest distance (m) from a point row to an outline (polygon) of the same name in one
#: list at which the two rows are one site (:func:`merge_outlines`).
OUTLINE_POINT_M = 200.0

_AREAL = ("Polygon", "MultiPolygon")


def merge_outlines(
    table: gpd.GeoDataFrame, *, max_m: float = OUTLINE_POINT_M, source: str = "table"
) -> tuple[gpd.GeoDataFrame, int, str]:
    """Merge the sites one list holds twice: a point row and an outline of the same name.

    An official list may give a site as a classed point row and again as its outline
    (polygon, often without a class). The two rows are one site when their names are
    equal after :func:`normalise_name` and the point lies inside the outline or within
    ``max_m`` of it; each point pairs with at most one outline (the nearest) and the
    other way round. The merged site keeps the point row (its id, name and class; empty
    cells filled from the outline) with the outline's geometry, so that access is
    measured from the outline, as for any polygon.

    Parameters
    ----------
    table
        The list's rows (EPSG:4326, ``name``; the ``frame`` of
        :func:`read_facility_table`).
    max_m
        Largest distance (m) from the point to the outline.
    source
        The file's name, for the note.

    Returns
    -------
    tuple
        (a new frame without the merged outline rows, in the table's row order; the
        number of sites merged; the run's note, "" when none). The input is not changed.
    """
    import shapely

    from geoapp.crs import local_crs

    geom_type = table.geometry.geom_type.to_numpy(dtype=object) if len(table) else np.array([])
    areal = np.isin(geom_type, _AREAL)
    point = geom_type == "Point"
    if not areal.any() or not point.any() or "name" not in table.columns:
        return table, 0, ""
    keys = np.array([normalise_name(n) for n in table["name"]], dtype=object)
    geoms = np.asarray(table.geometry.to_crs(local_crs(table)).to_numpy(), dtype=object)
    pairs: list[tuple[float, int, int]] = []  # (distance, point row, outline row)
    for ro in np.flatnonzero(areal & (keys != "")):
        for rq in np.flatnonzero(point & (keys == keys[ro])):
            d = float(shapely.distance(geoms[rq], geoms[ro]))
            if d <= max_m:
                pairs.append((d, int(rq), int(ro)))
    match: dict[int, int] = {}  # point row -> its outline row, nearest pairs first
    for _, q, o in sorted(pairs):
        if q not in match and o not in match.values():
            match[q] = o
    if not match:
        return table, 0, ""
    out = table.copy()
    gcol = out.geometry.name
    for q, o in match.items():
        for c in out.columns:
            j = out.columns.get_loc(c)
            if c != gcol and pd.isna(out.iat[q, j]):
                out.iat[q, j] = table.iat[o, j]
        out.iat[q, out.columns.get_loc(gcol)] = table.geometry.iloc[o]
    out = out.drop(index=table.index[sorted(match.values())])
    k = len(match)
    shown = [
        f"{table['osm_id'].iloc[q]} ({table['name'].iloc[q]})"
        if "osm_id" in table.columns
        else str(table["name"].iloc[q])
        for q in sorted(match)[:5]
    ]
    more = f" and {k - 5} more" if k > 5 else ""
    note = (
        f"{source}: {k} site{' is' if k == 1 else 's are'} listed twice, as a point row and as "
        f"an outline of the same name within {max_m:.0f} m, and counted once: the outline's "
        f"shape with the point row's class ({'; '.join(shown)}{more})."
    )
    log.info("%s", note)
    return out, k, note


def outside_data(
    table: gpd.GeoDataFrame,
    extent: Any,
    *,
    margin_m: float,
    source: str,
    coords: str,
    within: Any = None,
) -> tuple[np.ndarray, str]:
    """Which imported rows lie outside the data's extent, and one sentence about them.

    A row farther than ``margin_m`` outside ``extent`` (the box the extract's streets,
    buildings and land use cover, EPSG:4326) cannot be reached on the extract's
    streets: the sentence says how many of the table's rows lie outside and how far
    (a whole table 6-12 km away is a wrong coordinate system or an extract of another
    place), and never to import a table (that was just done).

    Parameters
    ----------
    table
        The imported rows (EPSG:4326).
    extent
        The data's extent (shapely geometry, EPSG:4326) or None (nothing is outside).
    margin_m
        Distance (m) outside the extent still accepted (the street guard judges those).
    source
        The file's name, for the sentence.
    coords
        The coordinate system the table was declared in.
    within
        The region's area (districts and data box, EPSG:4326); only rows inside it are
        judged (the others are the coordinate guards' rows "outside the region"). None:
        every row.

    Returns
    -------
    tuple
        (boolean mask aligned with ``table``, the sentence or "").
    """
    import shapely

    from geoapp.crs import local_crs

    n = len(table)
    out = np.zeros(n, dtype=bool)
    if not n or extent is None or shapely.is_empty(extent):
        return out, ""
    crs = local_crs(table)
    geoms = gpd.GeoSeries(table.geometry.to_numpy(), crs=WGS84).to_crs(crs).to_numpy()
    ext = gpd.GeoSeries([extent], crs=WGS84).to_crs(crs).iloc[0]
    dist = shapely.distance(np.asarray(geoms, dtype=object), ext)
    out = np.asarray(dist > margin_m, dtype=bool)
    if within is not None and not shapely.is_empty(within):
        pts = shapely.point_on_surface(np.asarray(table.geometry.to_numpy(), dtype=object))
        out &= np.asarray(shapely.covers(within, pts), dtype=bool)
    if not out.any():
        return out, ""
    lo, hi = float(np.min(dist[out])), float(np.max(dist[out]))

    def fmt(m: float) -> str:
        return f"{m / 1000:.1f} km" if m >= 1000 else f"{m:.0f} m"

    span = fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)}–{fmt(hi)}"
    if lo >= 1000 and fmt(lo) != fmt(hi):
        span = f"{lo / 1000:.1f}–{hi / 1000:.1f} km"
    k = int(out.sum())
    ids = table["osm_id"].astype(str).to_numpy() if "osm_id" in table else np.arange(n)
    names = table["name"].to_numpy(dtype=object) if "name" in table else [None] * n
    shown = [
        f"{ids[i]} ({names[i]})" if isinstance(names[i], str) and names[i] else str(ids[i])
        for i in np.flatnonzero(out)[:10]
    ]
    more = f" and {k - 10} more" if k > 10 else ""
    return out, (
        f"{source}: {k} of {n} rows lie {span} outside the extract's data and were left out "
        f"({'; '.join(shown)}{more}). "
        f"Check the coordinate system declared ({coords}; gcj02 = Amap/Tencent, bd09 = "
        "Baidu, wgs84 = GPS/OpenStreetMap) or use an extract that covers them."
    )
