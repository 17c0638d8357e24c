"""Population rasters (GeoTIFF such as WorldPop or GHS-POP) as a demand source.

:func:`read_population_raster` reads the cells of band 1 that fall inside a region's
extent and returns them as a table of residents per cell (cell centre and cell square,
in EPSG:4326). Any CRS is accepted (the raster is read in its own CRS, only the cell
geometries are transformed); nodata cells, NaN and negative values are left out.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely import box, points, polygons

from geoapp.errors import InputError

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: Largest number of cells read from a raster at once (about 400 MB of float64).
MAX_CELLS = 50_000_000


def read_population_raster(
    path: str | os.PathLike[str],
    extent: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> gpd.GeoDataFrame:
    """Read residents per cell from a population GeoTIFF.

    Parameters
    ----------
    path
        A single-band GeoTIFF of residents per cell (WorldPop, GHS-POP ...), any CRS.
    extent
        Area to keep (any CRS): cells whose centre lies inside the union of its
        geometries are returned. None keeps every cell.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per populated cell: ``cell_id`` (str, ``"r<row>c<col>"``),
        ``pop`` (float residents, > 0), ``centre`` (Point) and ``geometry`` (the cell as a
        Polygon). The raster's CRS is not kept: cells are exact squares only there.

    Raises
    ------
    InputError
        When the file cannot be read as a raster, has no CRS, or does not overlap the
        extent (both extents are given).
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"--population {path}: file not found; give a GeoTIFF of residents per cell"
        )
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise InputError(
            f"--population {path}: cannot be read as a raster ({exc}); give a GeoTIFF "
            "(WorldPop or GHS-POP residents per cell)"
        ) from None
    with src:
        if src.crs is None:
            raise InputError(
                f"--population {path}: the raster has no coordinate reference system; "
                "save it as a GeoTIFF with its CRS (e.g. gdal_translate -a_srs EPSG:4326)"
            )
        shape = None
        window = Window(0, 0, src.width, src.height)
        if extent is not None and len(extent):
            ext = extent.to_crs(src.crs) if extent.crs is not None else extent
            geoms = ext.geometry if isinstance(ext, gpd.GeoDataFrame) else ext
            shape = geoms.union_all()
            x0, b, r, t = shape.bounds
            rl, rb, rr, rt = src.bounds
            if r < rl or x0 > rr or t < rb or b > rt:
                ext_wgs = transform_bounds(src.crs, WGS84, x0, b, r, t)
                ras_wgs = transform_bounds(src.crs, WGS84, rl, rb, rr, rt)
                raise InputError(
                    f"--population {path}: the raster does not overlap the region "
                    f"(raster lon/lat {_fmt(ras_wgs)}, region {_fmt(ext_wgs)}); give a raster "
                    "that covers the study area"
                )
            window = (
                from_bounds(x0, b, r, t, transform=src.transform)
                .round_offsets(op="floor")
                .round_lengths(op="ceil")
                .intersection(window)
            )
        if window.width * window.height > MAX_CELLS:
            raise InputError(
                f"--population {path}: the region covers {int(window.width * window.height):,} "
                f"raster cells (more than {MAX_CELLS:,}); cut the raster to the study area "
                "first (gdalwarp -te ...)"
            )
        arr = src.read(1, window=window, masked=True).astype(float)
        transform = src.window_transform(window)
        crs = src.crs
        row_off, col_off = int(window.row_off), int(window.col_off)
    values = arr.filled(np.nan)
    neg = np.isfinite(values) & (values < 0)
    if neg.any():
        log.warning("%s: %d cells with negative values treated as nodata", path, int(neg.sum()))
    ok = np.isfinite(values) & (values > 0)
    rr, cc = np.nonzero(ok)
    pop = values[rr, cc]
    a, b_, c, d, e, f = transform.a, transform.b, transform.c, transform.d, transform.e, transform.f

    def xy(col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return a * col + b_ * row + c, d * col + e * row + f

    cx, cy = xy(cc + 0.5, rr + 0.5)
    centres = gpd.GeoSeries(points(cx, cy), crs=crs)
    if shape is not None and len(centres):
        inside = centres.within(shape).to_numpy()
        rr, cc, pop, centres = rr[inside], cc[inside], pop[inside], centres[inside]
        cx, cy = cx[inside], cy[inside]
    corners = [xy(cc + dx, rr + dy) for dx, dy in ((0, 0), (1, 0), (1, 1), (0, 1), (0, 0))]
    rings = np.stack([np.column_stack(p) for p in corners], axis=1)
    cells = gpd.GeoSeries(polygons(rings) if len(rings) else [], crs=crs)
    out = gpd.GeoDataFrame(
        {
            "cell_id": np.array(
                [f"r{r + row_off}c{k + col_off}" for r, k in zip(rr, cc, strict=True)],
                dtype=object,
            ),
            "pop": np.asarray(pop, dtype=float),
            "centre": centres.to_crs(WGS84).to_numpy(),
        },
        geometry=cells.to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )
    out["centre"] = gpd.GeoSeries(out["centre"], crs=WGS84)
    log.info("%s: %d populated cells, %.0f residents", path, len(out), out["pop"].sum())
    return out


def _fmt(bounds: tuple[float, float, float, float]) -> str:
    return "{:.4f}, {:.4f} .. {:.4f}, {:.4f}".format(*bounds)


def raster_extent(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Return the raster's bounds as one EPSG:4326 polygon (for messages and checks)."""
    import rasterio

    with rasterio.open(path) as src:
        g = gpd.GeoSeries([box(*src.bounds)], crs=src.crs).to_crs(WGS84)
    return gpd.GeoDataFrame(geometry=g, crs=WGS84)


__all__ = ["MAX_CELLS", "raster_extent", "read_population_raster"]
