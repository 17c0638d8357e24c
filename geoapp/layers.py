"""Layers: which features of a region belong to each catalog layer.

The match rules come from the layer catalog (:mod:`geoapp.catalog`): a feature belongs
to a layer when it matches ANY of its ``[[match]]`` tables, and matches a table when
EVERY key of it matches (a string: that value; a list: any of its values; ``true``: the
key is present). OSM's multi-valued tags (``amenity=school;kindergarten``) match on any
of their values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp.catalog import Layer
from geoapp.sources.capacity import capacity_columns

log = logging.getLogger(__name__)


def _value_mask(col: pd.Series, value: object) -> np.ndarray:
    if value is True:
        return (col.notna() & (col.astype(str) != "") & (col.astype(str) != "no")).to_numpy()
    values = [value] if isinstance(value, str) else list(cast(Iterable[object], value))
    # OSM allows several values separated by ';'
    s = col.astype("string")
    mask = s.isin(values).fillna(False).to_numpy(dtype=bool).copy()
    multi = s.str.contains(";", regex=False).fillna(False).to_numpy(dtype=bool)
    if multi.any():
        split = s[multi].str.split(";")
        vals = set(values)
        mask[multi] = [any(p.strip() in vals for p in parts) for parts in split]
    return mask


def match_mask(features: pd.DataFrame, layer: Layer) -> np.ndarray:
    """Return a boolean array: which rows of ``features`` belong to ``layer``.

    Tag keys are read from columns of the same name; a missing column never matches.
    """
    n = len(features)
    out = np.zeros(n, dtype=bool)
    for table in layer.match:
        m = np.ones(n, dtype=bool)
        for key, value in table.items():
            if key not in features.columns:
                m[:] = False
                break
            m &= _value_mask(features[key], value)
        out |= m
    return out


def select_features(features: gpd.GeoDataFrame, layer: Layer) -> gpd.GeoDataFrame:
    """Return the features of one layer as a facility table.

    Parameters
    ----------
    features
        Feature table with one column per OSM tag key, ``geometry`` and optionally
        ``osm_id`` and ``name`` (the output of any geoapp source).
    layer
        The layer whose match rules to apply.

    Returns
    -------
    geopandas.GeoDataFrame
        In the CRS of ``features``, columns: ``facility_id`` (str, unique: the
        ``osm_id`` when present), ``name`` (str, may be empty), ``layer`` (layer id),
        ``kind`` (the value of the first matching table's first key, e.g.
        ``nursing_home``), every tag column the match rules read, ``capacity``
        (float, NaN = unknown), ``capacity_source`` (``"table"`` | ``"osm"`` |
        ``"layer_default"`` | ``""``) and ``capacity_raw`` (the capacity tag text read)
        from the ``capacity:beds`` / ``beds`` / ``capacity`` / ``capacity:persons`` tags
        or the layer's ``[capacity] default``, and ``geometry`` (the original point or
        polygon).
    """
    mask = match_mask(features, layer)
    sub = features.loc[mask]
    kind = pd.Series("", index=sub.index, dtype=object)
    for table in reversed(layer.match):
        m = match_mask(sub, Layer(**{**layer.__dict__, "match": (table,)}))
        key = next(iter(table))
        if key in sub.columns:
            kind[m] = sub.loc[m, key].astype(str)
    if "osm_id" in sub.columns:
        fid = sub["osm_id"].astype(str)
    else:
        fid = pd.Series([f"{layer.id}/{i}" for i in range(len(sub))], index=sub.index)
    name = sub["name"].fillna("").astype(str) if "name" in sub.columns else ""
    cols = {
        "facility_id": fid.to_numpy(),
        "name": np.asarray(name),
        "layer": layer.id,
        "kind": kind.to_numpy(),
    }
    for k in layer.tag_keys():
        if k in sub.columns and k not in cols:
            cols[k] = sub[k].to_numpy()
    cols.update(capacity_columns(sub, layer))
    out = gpd.GeoDataFrame(cols, geometry=sub.geometry.to_numpy(), crs=features.crs)
    if out["facility_id"].duplicated().any():
        out["facility_id"] = (
            out["facility_id"] + "#" + out.groupby("facility_id").cumcount().astype(str)
        )
    log.info("layer %s: %d features", layer.id, len(out))
    return out.reset_index(drop=True)
