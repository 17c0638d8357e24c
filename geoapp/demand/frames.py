"""Small frame helpers shared by the demand modules (tag values, polygon masks, joins)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

#: The CRS of every frame the demand modules return.
WGS84 = "EPSG:4326"


def polygonal_mask(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Return a boolean array: the row's geometry is a non-empty (Multi)Polygon."""
    return (
        gdf.geometry.notna()
        & ~gdf.geometry.is_empty
        & gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    ).to_numpy()


def tag_values(gdf: gpd.GeoDataFrame, col: str, default: str = "") -> pd.Series:
    """Return column ``col`` as stripped lower-case strings (``default`` when missing)."""
    if col not in gdf.columns:
        return pd.Series(default, index=gdf.index, dtype=object)
    return gdf[col].astype("string").str.strip().str.lower().fillna(default).astype(object)


def first_containing(pts: gpd.GeoSeries, polys: gpd.GeoSeries) -> np.ndarray:
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


__all__ = ["WGS84", "first_containing", "polygonal_mask", "tag_values"]
