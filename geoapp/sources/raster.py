"""Population rasters (GeoTIFF such as WorldPop or GHS-POP) as a demand source.

:func:`read_population_raster` reads the cells of band 1 that fall inside a region's
extent and returns them as arrays (:class:`RasterCells`): one entry per cell holding
people, never a geometry per cell. The raster is read in its own CRS, windowed to the
region's bounds and in blocks of rows (:data:`BLOCK_CELLS`), so memory grows with the
populated cells of the study area, not with the raster. More populated cells than
:data:`MAX_POINTS` are merged into k × k blocks (the smallest k that fits), with a note.

Values are checked, never silently dropped: a raster with no populated cell over the
study area (all nodata, all zero, no overlap), ``inf``, NaN not flagged as nodata,
negative values, or more than :data:`MAX_PER_KM2` residents per km² in a cell is an
:class:`~geoapp.errors.InputError` naming the file and the reason.

:func:`find_age_rasters` and :func:`age_shares` read WorldPop's age/sex rasters
(``chn_f_60_2020.tif`` ...): the share aged 60+ and 65+ of the cell each demand point
lies in.
"""

from __future__ import annotations

import glob
import logging
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely import box

from geoapp.errors import InputError

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: Largest window (cells over the region's bounds) a raster is read over: cut larger
#: rasters to the study area first.
MAX_CELLS = 50_000_000
#: Most demand points a raster gives: more populated cells are merged into k × k blocks
#: (about 0.5 GB of demand table at this size).
MAX_POINTS = 500_000
#: Cells read at once (one block of rows, about 8 MB as float64).
BLOCK_CELLS = 1 << 20
#: Most residents per km² a cell may hold (100,000 per hectare, over 50 times the
#: densest city districts): larger values are no head count (a density per km², a
#: scaled integer, an unflagged nodata value).
MAX_PER_KM2 = 1e7
#: Mean Earth radius (m), for cell areas of rasters in degrees.
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, eq=False)
class RasterCells:
    """The populated cells of a population raster over a study area, as arrays.

    Attributes
    ----------
    path
        The file, as given (for messages).
    crs
        The raster's CRS (WKT).
    transform
        The raster's affine transform ``(a, b, c, d, e, f)`` (x = a·col + b·row + c).
    row, col
        Raster row and column of each cell (of a block's first cell when ``block`` > 1).
    pop
        Residents per cell (float, > 0).
    lon, lat
        EPSG:4326 position of each cell's demand point: the cell centre (a block's
        residents-weighted centre).
    block
        Cells merged per block side (1: every cell is its own point).
    origin
        Raster row and column where the block grid starts (the window's corner).
    """

    path: str
    crs: str
    transform: tuple[float, float, float, float, float, float]
    row: np.ndarray
    col: np.ndarray
    pop: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    block: int = 1
    origin: tuple[int, int] = (0, 0)
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pop)

    @property
    def total(self) -> float:
        """Residents over all cells."""
        return float(self.pop.sum())

    def cell_ids(self, index: np.ndarray | None = None) -> np.ndarray:
        """Return ``"r<row>c<col>"`` (str) of the cells at ``index`` (None: all)."""
        rows = self.row if index is None else self.row[index]
        cols = self.col if index is None else self.col[index]
        return np.array([f"r{r}c{c}" for r, c in zip(rows.tolist(), cols.tolist(), strict=True)],
                        dtype=object)  # fmt: skip

    def centres(self, index: np.ndarray | None = None) -> np.ndarray:
        """Return the demand points (shapely Points, EPSG:4326) of the cells at ``index``."""
        if index is None:
            return shapely.points(self.lon, self.lat)
        return shapely.points(self.lon[index], self.lat[index])

    def outline(self) -> gpd.GeoSeries:
        """Return the bounding box of the cells' points (one EPSG:4326 polygon; empty: none)."""
        if not len(self):
            return gpd.GeoSeries([], crs=WGS84)
        bounds = (self.lon.min(), self.lat.min(), self.lon.max(), self.lat.max())
        return gpd.GeoSeries([box(*bounds)], crs=WGS84)

    def to_frame(self) -> gpd.GeoDataFrame:
        """Return the cells as a frame: ``cell_id``, ``pop``, geometry (the demand point)."""
        return gpd.GeoDataFrame(
            {"cell_id": self.cell_ids(), "pop": self.pop}, geometry=self.centres(), crs=WGS84
        )

    def locate(self, points: np.ndarray | gpd.GeoSeries) -> np.ndarray:
        """Return the position of the cell (or block) each point lies in, -1 for none.

        Index arithmetic on the raster grid (the points are transformed to the raster's
        CRS), no polygon per cell.
        """
        out = np.full(len(points), -1, dtype=np.int64)
        if not len(points) or not len(self):
            return out
        col_f, row_f = _grid_position(points, self.crs, self.transform)
        ok = np.isfinite(col_f) & np.isfinite(row_f)
        r0, c0 = self.origin
        br = np.floor(np.where(ok, row_f, -1.0) - r0) // self.block
        bc = np.floor(np.where(ok, col_f, -1.0) - c0) // self.block
        ok &= (br >= 0) & (bc >= 0)
        keys = _keys((self.row - r0) // self.block, (self.col - c0) // self.block)
        order = np.argsort(keys, kind="stable")
        want = _keys(br[ok].astype(np.int64), bc[ok].astype(np.int64))
        pos = np.searchsorted(keys, want, sorter=order)
        pos = np.minimum(pos, len(keys) - 1)
        hit = keys[order[pos]] == want
        idx = np.flatnonzero(ok)
        out[idx[hit]] = order[pos[hit]]
        return out


def _keys(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return rows.astype(np.int64) * (1 << 31) + cols.astype(np.int64)


def _grid_position(
    points: np.ndarray | gpd.GeoSeries, crs: Any, transform: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Return the fractional column and row of EPSG:4326 points on a raster grid."""
    from pyproj import Transformer

    geoms = np.asarray(points.to_numpy() if isinstance(points, gpd.GeoSeries) else points)
    if isinstance(points, gpd.GeoSeries) and points.crs is not None:
        geoms = np.asarray(points.to_crs(WGS84).to_numpy())
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    if ok.any():
        pts = geoms[ok]
        pts = np.where(shapely.get_type_id(pts) == 0, pts, shapely.point_on_surface(pts))
        x[ok], y[ok] = shapely.get_x(pts), shapely.get_y(pts)
    tx, ty = Transformer.from_crs(WGS84, crs, always_xy=True).transform(x, y)
    a, b, c, d, e, f = transform
    det = a * e - b * d
    dx, dy = np.asarray(tx) - c, np.asarray(ty) - f
    return (e * dx - b * dy) / det, (a * dy - d * dx) / det


@dataclass
class _Scan:
    """Counters and collected cells of one pass over a raster window."""

    cells: int = 0
    nodata: int = 0
    zero: int = 0
    populated: int = 0
    inside: int = 0
    parts: list[tuple[np.ndarray, ...]] = field(default_factory=list)


def read_population_raster(
    path: str | os.PathLike[str],
    extent: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    *,
    max_points: int = MAX_POINTS,
) -> RasterCells:
    """Read residents per cell from a population GeoTIFF, windowed and in blocks.

    Parameters
    ----------
    path
        A single-band GeoTIFF of residents per cell (WorldPop, GHS-POP ...), any CRS.
    extent
        Area to keep (any CRS): cells whose centre lies inside the union of its
        geometries are returned. None keeps every cell.
    max_points
        Most cells returned: more populated cells are merged into k × k blocks (the
        smallest k whose block grid over the window has at most ``max_points`` blocks;
        a block's point is its residents-weighted centre).

    Returns
    -------
    RasterCells
        One entry per populated cell (or block) inside the extent, ``pop`` > 0.

    Raises
    ------
    InputError
        The file is missing, cannot be read (not a raster, truncated, damaged) or has
        no CRS; it does not overlap the extent; no cell inside the extent holds people
        (all nodata, all zero); a cell holds ``inf``, NaN not flagged as nodata, a
        negative value or more than :data:`MAX_PER_KM2` residents per km². Each message
        names the file and the reason.
    """
    import rasterio
    from rasterio.errors import RasterioError

    label = str(path)
    if not Path(path).is_file():
        raise InputError(
            f"--population {label}: file not found; give a GeoTIFF of residents per cell"
        )
    try:
        src = rasterio.open(path)
    except RasterioError as exc:
        raise InputError(
            f"--population {label}: cannot be read as a raster ({exc}); give a GeoTIFF "
            "(WorldPop or GHS-POP residents per cell)"
        ) from None
    with src:
        if src.crs is None:
            raise InputError(
                f"--population {label}: the raster has no coordinate reference system; "
                "save it as a GeoTIFF with its CRS (e.g. gdal_translate -a_srs EPSG:4326)"
            )
        shape, window = _window(src, extent, label)
        n_window = int(window.width * window.height)
        if n_window > MAX_CELLS:
            raise InputError(
                f"--population {label}: the region covers {n_window:,} raster cells (more "
                f"than {MAX_CELLS:,}); cut the raster to the study area first (gdalwarp -te ...)"
            )
        block = 1
        if n_window > max_points and _scan(src, window, shape, label, 0).inside > max_points:
            block = _block_size(int(window.height), int(window.width), max_points)
        scan = _scan(src, window, shape, label, block)
        crs, transform = src.crs, src.transform
        nodata = src.nodata
    _check_usable(scan, label, nodata)
    row, col, pop, x, y = (np.concatenate(p) for p in zip(*scan.parts, strict=True))
    if not math.isfinite(float(pop.sum())):
        raise InputError(
            f"--population {label}: the cells' total overflows ({pop.sum()}); the values are "
            "no head counts"
        )
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(crs, WGS84, always_xy=True).transform(x, y)
    cells = RasterCells(
        path=label,
        crs=crs.to_wkt(),
        transform=tuple(transform)[:6],
        row=row,
        col=col,
        pop=pop,
        lon=np.asarray(lon, dtype=float),
        lat=np.asarray(lat, dtype=float),
        block=block,
        origin=(int(window.row_off), int(window.col_off)),
        stats={
            "cells": scan.cells,
            "nodata": scan.nodata,
            "zero": scan.zero,
            "populated": scan.populated,
            "inside": scan.inside,
        },  # fmt: skip
    )
    if block > 1:
        log.warning(
            "%s: %d populated cells merged into %d blocks of %dx%d cells (at most %d points)",
            label, scan.inside, len(cells), block, block, max_points,
        )  # fmt: skip
    log.info("%s: %d populated cells, %.0f residents", label, len(cells), cells.total)
    return cells


def _window(src: Any, extent: Any, label: str) -> tuple[Any, Any]:
    """Return the region's shape (raster CRS, prepared, or None) and the window over it."""
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    window = Window(0, 0, src.width, src.height)
    if extent is None or not len(extent):
        return None, window
    ext = extent.to_crs(src.crs) if extent.crs is not None else extent
    geoms = ext.geometry if isinstance(ext, gpd.GeoDataFrame) else ext
    shape = geoms.union_all()
    x0, b, r, t = shape.bounds
    rl, rb, rr, rt = src.bounds
    if r < rl or x0 > rr or t < rb or b > rt:
        ext_wgs = transform_bounds(src.crs, WGS84, x0, b, r, t)
        ras_wgs = transform_bounds(src.crs, WGS84, rl, rb, rr, rt)
        raise InputError(
            f"--population {label}: the raster does not overlap the region "
            f"(raster lon/lat {_fmt(ras_wgs)}, region {_fmt(ext_wgs)}); give a raster "
            "that covers the study area"
        )
    # every cell the bounds touch (rasterio's round_lengths can drop the last one)
    w = from_bounds(x0, b, r, t, transform=src.transform)
    c0, r0 = math.floor(w.col_off), math.floor(w.row_off)
    c1, r1 = math.ceil(w.col_off + w.width), math.ceil(w.row_off + w.height)
    window = Window(c0, r0, c1 - c0, r1 - r0).intersection(window)
    shapely.prepare(shape)
    return shape, window


def _block_size(height: int, width: int, max_points: int) -> int:
    """Return the smallest k whose k × k block grid over the window fits ``max_points``."""
    k = max(2, math.ceil(math.sqrt(height * width / max_points)))
    while math.ceil(height / k) * math.ceil(width / k) > max_points:
        k += 1
    return k


def _row_blocks(src: Any, window: Any, label: str) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(first row of the window, values as float, valid mask)`` per block of rows."""
    from rasterio.errors import RasterioError
    from rasterio.windows import Window

    height, width = int(window.height), int(window.width)
    step = max(1, BLOCK_CELLS // max(width, 1))
    for r0 in range(0, height, step):
        win = Window(int(window.col_off), int(window.row_off) + r0, width, min(step, height - r0))
        try:
            arr = src.read(1, window=win, masked=True)
        except RasterioError as exc:
            raise InputError(
                f"--population {label}: cannot read rows {int(win.row_off):,}.."
                f"{int(win.row_off + win.height) - 1:,} of the raster: the file is truncated "
                f"or damaged ({exc}); download it again or re-save it (gdal_translate)"
            ) from None
        yield r0, np.ma.getdata(arr).astype(np.float64), ~np.ma.getmaskarray(arr)


def _scan(src: Any, window: Any, shape: Any, label: str, block: int) -> _Scan:
    """Read the window once: check every value, count, and collect cells (``block`` > 0).

    ``block`` 0 only counts; 1 collects every populated cell inside the shape; k > 1
    sums them into k × k blocks (residents and residents-weighted centre).
    """
    scan = _Scan()
    a, b, c, d, e, f = tuple(src.transform)[:6]
    row_off, col_off = int(window.row_off), int(window.col_off)
    limit = _row_limits(src, window)
    grid = None
    if block > 1:
        shape_b = (math.ceil(int(window.height) / block), math.ceil(int(window.width) / block))
        grid = [np.zeros(shape_b) for _ in range(3)]
    for r0, vals, valid in _row_blocks(src, window, label):
        _check_values(vals, valid, limit[r0 : r0 + len(vals)], label, (row_off + r0, col_off))
        scan.cells += vals.size
        scan.nodata += int((~valid).sum())
        scan.zero += int((valid & (vals == 0)).sum())
        rr, cc = np.nonzero(valid & (vals > 0))
        scan.populated += len(rr)
        cx = a * (cc + col_off + 0.5) + b * (rr + r0 + row_off + 0.5) + c
        cy = d * (cc + col_off + 0.5) + e * (rr + r0 + row_off + 0.5) + f
        if shape is not None and len(rr):
            inside = shapely.contains_xy(shape, cx, cy)
            rr, cc, cx, cy = rr[inside], cc[inside], cx[inside], cy[inside]
        scan.inside += len(rr)
        if block == 1 and len(rr):
            scan.parts.append((rr + r0 + row_off, cc + col_off, vals[rr, cc], cx, cy))
        elif grid is not None and len(rr):
            p = vals[rr, cc]
            flat = ((rr + r0) // block) * grid[0].shape[1] + cc // block
            for g, w in zip(grid, (p, p * cx, p * cy), strict=True):
                g += np.bincount(flat, weights=w, minlength=g.size).reshape(g.shape)
    if grid is not None:
        br, bc = np.nonzero(grid[0] > 0)
        p = grid[0][br, bc]
        scan.parts.append(
            (
                br * block + row_off,
                bc * block + col_off,
                p,
                grid[1][br, bc] / p,
                grid[2][br, bc] / p,
            )
        )
    return scan


def _row_limits(src: Any, window: Any) -> np.ndarray:
    """Return the most residents a cell may hold, per row of the window."""
    a, b, _, d, e, f = tuple(src.transform)[:6]
    rows = np.arange(int(window.row_off), int(window.row_off + window.height)) + 0.5
    if src.crs.is_geographic:
        lat = np.clip(np.abs(e * rows + f), 0, 89.9)
        m_per_deg = EARTH_RADIUS_M * math.pi / 180
        area_m2 = abs(a * e - b * d) * m_per_deg**2 * np.cos(np.radians(lat))
    else:
        unit = src.crs.linear_units_factor[1] if src.crs.linear_units_factor else 1.0
        area_m2 = np.full(len(rows), abs(a * e - b * d) * unit**2)
    return MAX_PER_KM2 * area_m2 / 1e6


def _check_values(
    vals: np.ndarray, valid: np.ndarray, limit: np.ndarray, label: str, corner: tuple[int, int]
) -> None:
    """Raise InputError for inf, unflagged NaN, negative or absurd values among ``valid``."""
    with np.errstate(invalid="ignore"):
        checks = (
            (valid & np.isnan(vals), "NaN cells not flagged as nodata",
             "set the raster's nodata value (gdal_edit.py -a_nodata nan FILE)"),
            (valid & np.isinf(vals), "infinite values",
             "the raster is damaged or no head count; re-export it"),
            (valid & (vals < 0), "negative values",
             "a head count is never negative: if this is the nodata value, set it "
             "(gdal_edit.py -a_nodata VALUE FILE)"),
            (valid & (vals > limit[:, None]),
             f"more than {MAX_PER_KM2 / 100:,.0f} residents per hectare",
             "this is no head count per cell (a density per km², a scaled integer or an "
             "unflagged nodata value?); give residents per cell"),
        )  # fmt: skip
    for bad, what, hint in checks:
        if bad.any():
            r, k = (int(v[0]) for v in np.nonzero(bad))
            raise InputError(
                f"--population {label}: {int(bad.sum()):,} cells over the study area hold "
                f"{what} (first at row {r + corner[0]:,}, column {k + corner[1]:,}: "
                f"{vals[r, k]:g}); {hint}"
            )


def _check_usable(scan: _Scan, label: str, nodata: float | None) -> None:
    """Raise InputError when no cell inside the study area holds people, saying why."""
    if scan.inside:
        return
    nd = "" if nodata is None else f" (nodata value {nodata:g})"
    if scan.nodata == scan.cells:
        why = f"all {scan.cells:,} cells over the study area are nodata{nd}"
    elif scan.populated == 0:
        why = (
            f"no cell over the study area holds residents ({scan.zero:,} cells are 0 and "
            f"{scan.nodata:,} nodata){nd}"
        )
    else:
        why = (
            f"none of the {scan.populated:,} populated cells near the study area has its "
            "centre inside the study area's districts"
        )
    raise InputError(
        f"--population {label}: the raster gives no residents: {why}; give a raster of "
        "residents per cell that covers the study area"
    )


def _fmt(bounds: tuple[float, float, float, float]) -> str:
    return "{:.4f}, {:.4f} .. {:.4f}, {:.4f}".format(*bounds)


def raster_extent(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Return the raster's bounds as one EPSG:4326 polygon (for messages and checks)."""
    import rasterio

    with rasterio.open(path) as src:
        g = gpd.GeoSeries([box(*src.bounds)], crs=src.crs).to_crs(WGS84)
    return gpd.GeoDataFrame(geometry=g, crs=WGS84)


# ---------------------------------------------------------------- WorldPop ages

#: WorldPop's age/sex raster names: ``<iso3>_<f|m>_<age>_<year>[_suffix].tif``, e.g.
#: ``chn_f_60_2020.tif`` or ``deu_m_65_2020_constrained.tif``.
AGE_FILE = re.compile(
    r"^(?P<iso>[a-z]{3})_(?P<sex>[fm])_(?P<age>\d{1,2})_(?P<year>\d{4})(?P<rest>[_a-z0-9]*)"
    r"\.tiff?$",
    re.IGNORECASE,
)
#: Lower bounds of WorldPop's age bands (0, 1-4, 5-9, ..., 75-79, 80+).
AGE_BANDS = (0, 1, *range(5, 85, 5))
#: The ages whose shares are computed (60+ and 65+).
AGE_THRESHOLDS = (60, 65)


@dataclass(frozen=True)
class AgeRasters:
    """WorldPop age/sex rasters of one country and year (:func:`find_age_rasters`).

    Attributes
    ----------
    given
        The option's value (a folder or a glob), for messages.
    files
        ``(sex, lower age) -> path`` of every band found (sex ``"f"`` or ``"m"``).
    label
        The set's name, e.g. ``"chn_*_2020"``.
    """

    given: str
    files: dict[tuple[str, int], str]
    label: str

    def paths(self, min_age: int = 0) -> list[str]:
        """Return the files of both sexes whose band starts at ``min_age`` or above."""
        return [p for (_, age), p in sorted(self.files.items()) if age >= min_age]

    @property
    def complete(self) -> bool:
        """True when every band (0 to 80+, both sexes) is there."""
        return all((s, a) in self.files for s in "fm" for a in AGE_BANDS)


def find_age_rasters(given: str | os.PathLike[str]) -> AgeRasters:
    """Find WorldPop age/sex rasters in a folder or by a glob.

    Parameters
    ----------
    given
        A folder holding ``<iso3>_<f|m>_<age>_<year>.tif`` files, or a glob such as
        ``data/chn_*_2020.tif``. Other files are ignored.

    Raises
    ------
    InputError
        No WorldPop age file found, files of several countries or years (give a glob
        picking one), or a band aged 60+ missing for either sex (named).
    """
    text = os.fspath(given)
    where = f"--age-rasters {text}"
    names = (
        sorted(glob.glob(os.path.join(text, "*")))
        if os.path.isdir(text)
        else sorted(glob.glob(text))
    )
    groups: dict[tuple[str, str, str], dict[tuple[str, int], str]] = {}
    for name in names:
        m = AGE_FILE.match(os.path.basename(name))
        if m is None or int(m["age"]) not in AGE_BANDS:
            continue
        key = (m["iso"].lower(), m["year"], m["rest"].lower())
        groups.setdefault(key, {})[(m["sex"].lower(), int(m["age"]))] = name
    if not groups:
        raise InputError(
            f"{where}: no WorldPop age/sex raster found ({len(names)} files looked at); "
            "give the folder or a glob of files named like chn_f_60_2020.tif"
        )
    if len(groups) > 1:
        sets = ", ".join(f"{i}_*_{y}{r}" for i, y, r in sorted(groups))
        raise InputError(
            f"{where}: age rasters of {len(groups)} sets ({sets}); give a glob that picks "
            "one country and year, e.g. DIR/chn_*_2020.tif"
        )
    (iso, year, rest), files = next(iter(groups.items()))
    missing = [
        f"{iso}_{s}_{a}_{year}{rest}.tif"
        for a in AGE_BANDS
        if a >= min(AGE_THRESHOLDS)
        for s in "fm"
        if (s, a) not in files
    ]
    if missing:
        raise InputError(
            f"{where}: {len(missing)} age band(s) aged 60+ missing: {', '.join(missing)}; "
            "the 60+ share needs both sexes of the bands 60, 65, 70, 75 and 80"
        )
    return AgeRasters(given=text, files=files, label=f"{iso}_*_{year}{rest}")


@dataclass(frozen=True)
class AgeShares:
    """The share aged 60+ and 65+ at each point, from age rasters (:func:`age_shares`).

    Attributes
    ----------
    share_60plus, share_65plus
        Per point (NaN where the rasters give no figure: outside them, nodata, no
        residents in the cell).
    denominator
        What the band sums were divided by: ``"the total raster <name>"`` or ``"the sum
        of all age bands"``.
    warnings
        Sentences (cells whose 60+ count exceeds the total, capped at 100%).
    """

    share_60plus: np.ndarray
    share_65plus: np.ndarray
    denominator: str
    warnings: tuple[str, ...] = ()


def age_shares(
    ages: AgeRasters, points: np.ndarray | gpd.GeoSeries, total: str | None = None
) -> AgeShares:
    """Return the share aged 60+ and 65+ of the cell each point lies in.

    The bands of both sexes from 60 (65) up are summed per cell and divided by the
    total raster's cell (``total``, the ``--population`` raster) or, without one, by
    the sum of every band (then all 36 files are needed). Every raster must lie on the
    same grid (WorldPop's do).

    Raises
    ------
    InputError
        Rasters on different grids, a band that cannot be read or holds negative or
        infinite values, or no total and bands under 60 missing (each naming the file).
    """
    if total is None and not ages.complete:
        raise InputError(
            f"--age-rasters {ages.given}: without a total raster (--population FILE.tif) "
            "every band from 0 to 80 of both sexes is needed to divide by; give the "
            "WorldPop total of the same year with --population, or all 36 files"
        )
    grid: dict[str, Any] = {}
    s60 = np.zeros(len(points))
    s65 = np.zeros(len(points))
    for (_, age), path in sorted(ages.files.items()):
        if age < min(AGE_THRESHOLDS):
            continue
        v = _sample(path, points, grid, f"--age-rasters {Path(path).name}")
        s60 += v
        if age >= 65:
            s65 += v
    if total is not None:
        den = _sample(total, points, grid, f"--population {total}")
        what = f"the total raster {Path(total).name}"
    else:
        den = s60 + _sum_under(ages, points, grid)
        what = "the sum of all age bands"
    with np.errstate(divide="ignore", invalid="ignore"):
        r60 = np.where(den > 0, s60 / den, np.nan)
        r65 = np.where(den > 0, s65 / den, np.nan)
    over = np.isfinite(r60) & (r60 > 1 + 1e-6)
    warnings: tuple[str, ...] = ()
    if over.any():
        warnings = (
            f"{int(over.sum()):,} demand points lie in cells where the age rasters "
            f"({ages.label}) count more residents aged 60+ than {what}: their share was "
            "capped at 100%; use rasters of the same year and product",
        )
    return AgeShares(np.minimum(r60, 1.0), np.minimum(r65, 1.0), what, warnings)


def _sum_under(ages: AgeRasters, points: Any, grid: dict[str, Any]) -> np.ndarray:
    out = np.zeros(len(points))
    for (_, age), path in sorted(ages.files.items()):
        if age < min(AGE_THRESHOLDS):
            out += _sample(path, points, grid, f"--age-rasters {Path(path).name}")
    return out


def _sample(path: str, points: Any, grid: dict[str, Any], where: str) -> np.ndarray:
    """Return the value of the cell each point lies in (NaN: outside, nodata).

    ``grid`` holds the first raster's grid; a raster on another grid is an error.
    Reads only the rows holding points, in blocks.
    """
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.windows import Window

    out = np.full(len(points), np.nan)
    try:
        with rasterio.open(path) as src:
            t = tuple(src.transform)[:6]
            _same_grid(grid, src.crs, t, where)
            col_f, row_f = _grid_position(points, src.crs, t)
            ok = np.isfinite(col_f) & np.isfinite(row_f)
            row = np.floor(np.where(ok, row_f, -1)).astype(np.int64)
            col = np.floor(np.where(ok, col_f, -1)).astype(np.int64)
            ok &= (row >= 0) & (row < src.height) & (col >= 0) & (col < src.width)
            if not ok.any():
                return out
            c0, c1 = int(col[ok].min()), int(col[ok].max()) + 1
            step = max(1, BLOCK_CELLS // (c1 - c0))
            for r0 in range(int(row[ok].min()), int(row[ok].max()) + 1, step):
                sel = np.flatnonzero(ok & (row >= r0) & (row < r0 + step))
                if not len(sel):
                    continue
                n = min(step, src.height - r0)
                arr = src.read(1, window=Window(c0, r0, c1 - c0, n), masked=True)
                vals = np.ma.getdata(arr).astype(np.float64)[row[sel] - r0, col[sel] - c0]
                vals[np.ma.getmaskarray(arr)[row[sel] - r0, col[sel] - c0]] = np.nan
                out[sel] = vals
    except RasterioError as exc:
        raise InputError(
            f"{where}: cannot be read ({exc}); the file is not a GeoTIFF, truncated or damaged"
        ) from None
    if (np.isinf(out) | (out < 0)).any():
        raise InputError(
            f"{where}: negative or infinite values where the demand lies; the file is no "
            "head count per cell or its nodata value is not set (gdal_edit.py -a_nodata)"
        )
    return out


def _same_grid(grid: dict[str, Any], crs: Any, t: tuple[float, ...], where: str) -> None:
    """Record the first raster's grid in ``grid``; raise when ``t``/``crs`` is another."""
    if not grid:
        grid.update(crs=crs, t=t, where=where)
        return
    a0, _, c0, _, e0, f0 = grid["t"]
    a, _, c, _, e, f = t
    off_c, off_r = (c - c0) / a0, (f - f0) / e0
    same = (
        crs == grid["crs"]
        and math.isclose(a, a0, rel_tol=1e-6)
        and math.isclose(e, e0, rel_tol=1e-6)
        and abs(off_c - round(off_c)) < 1e-3
        and abs(off_r - round(off_r)) < 1e-3
    )
    if not same:
        raise InputError(
            f"{where}: not on the grid of {grid['where']} (another CRS, cell size or cell "
            "alignment); the age rasters and the total raster must share one grid "
            "(WorldPop's of one country and year do; else gdalwarp -tap -tr ...)"
        )


__all__ = [
    "AGE_BANDS",
    "AGE_FILE",
    "AGE_THRESHOLDS",
    "BLOCK_CELLS",
    "MAX_CELLS",
    "MAX_PER_KM2",
    "MAX_POINTS",
    "AgeRasters",
    "AgeShares",
    "RasterCells",
    "age_shares",
    "find_age_rasters",
    "raster_extent",
    "read_population_raster",
]
