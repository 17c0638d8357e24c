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
    distinct = _distinct_cleaned(values)
    if distinct is None:
        return values.astype("string").str.strip().str.lower().fillna(default).astype(object)
    codes, clean = distinct
    table = np.append(clean.to_numpy(dtype=object), np.array([default], dtype=object))
    return pd.Series(table[codes], index=gdf.index, name=values.name, dtype=object)


def tag_in(gdf: gpd.GeoDataFrame, col: str, values: Iterable[str]) -> np.ndarray:
    """Return ``tag_values(gdf, col).isin(values)`` as a boolean array.

    Each distinct value of the column is cleaned and looked up once.
    """
    wanted = set(values)
    distinct = _distinct_cleaned(gdf[col]) if col in gdf.columns else None
    if distinct is None:
        return tag_values(gdf, col).isin(wanted).to_numpy()
    codes, clean = distinct
    hit = np.append(clean.isin(wanted).to_numpy(dtype=bool), "" in wanted)
    return hit[codes]


def _distinct_cleaned(values: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """Return ``(codes, each distinct value stripped and lower-cased)`` of a string column.

    Codes as :func:`pandas.factorize` gives them (-1: missing); None when the column
    holds anything but strings (it is then cleaned value by value).
    """
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return None
    codes, uniq = pd.factorize(values)
    return codes, pd.Series(uniq, dtype=object).astype("string").str.strip().str.lower()


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
