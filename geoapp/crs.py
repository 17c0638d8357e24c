"""Coordinate reference systems: local metric CRS, and China's GCJ-02 / BD-09.

Distances and areas are always measured in :func:`local_crs` (a UTM zone estimated
from the data), never in a geographic CRS.
"""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS

from geoapp.errors import CRSError

WGS84 = "EPSG:4326"


def local_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """Return the UTM CRS that best fits ``gdf`` (which must carry a CRS).

    Raises
    ------
    CRSError
        If ``gdf`` has no CRS or is empty.
    """
    if gdf.crs is None:
        raise CRSError("Data has no coordinate reference system; set one (e.g. EPSG:4326).")
    if len(gdf) == 0 or gdf.geometry.is_empty.all():
        raise CRSError("Cannot estimate a local CRS for empty data.")
    return gdf.estimate_utm_crs()


def to_local(gdf: gpd.GeoDataFrame, crs: CRS | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` projected to ``crs`` or to its :func:`local_crs`."""
    return gdf.to_crs(crs or local_crs(gdf))
