"""Small frame helpers shared by the demand modules (tag values, polygon masks, joins)."""

from __future__ import annotations

from collections.abc import Iterable

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
    values = gdf[col]
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return values.astype("string").str.strip().str.lower().fillna(default).astype(object)
    # strings only: each distinct value worked out once (a column repeats a few values)
    codes, uniq = pd.factorize(values)
    clean = pd.Series(uniq, dtype=object).astype("string").str.strip().str.lower()
    table = np.append(clean.to_numpy(dtype=object), np.array([default], dtype=object))
    return pd.Series(table[codes], index=gdf.index, name=values.name, dtype=object)


def tag_in(gdf: gpd.GeoDataFrame, col: str, values: Iterable[str]) -> np.ndarray:
    """Return ``tag_values(gdf, col).isin(values)`` as a boolean array.

    Each distinct value of the column is cleaned and looked up once.
    """
    wanted = set(values)
    if col not in gdf.columns or pd.api.types.infer_dtype(gdf[col], skipna=True) != "string":
        return tag_values(gdf, col).isin(wanted).to_numpy()
    codes, uniq = pd.factorize(gdf[col])
    clean = pd.Series(uniq, dtype=object).astype("string").str.strip().str.lower()
    hit = np.append(clean.isin(wanted).to_numpy(dtype=bool), "" in wanted)
    return hit[codes]


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


__all__ = ["WGS84", "first_containing", "polygonal_mask", "tag_in", "tag_values"]
