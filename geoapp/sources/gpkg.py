"""Read back a region saved by ``geoapp fetch`` (a GeoPackage of Region layers)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geoapp.errors import InputError
from geoapp.region import (
    BOUNDARY_COLUMNS,
    BUILDING_COLUMNS,
    EDGE_COLUMNS,
    GPKG_ROW,
    GPKG_SHAPE_LAYERS,
    LANDUSE_COLUMNS,
    NODE_COLUMNS,
    WGS84,
    Region,
    empty_gdf,
)

_FRAMES = {
    "boundaries": BOUNDARY_COLUMNS,
    "features": ("osm_id", "name"),
    "nodes": NODE_COLUMNS,
    "edges": EDGE_COLUMNS,
    "buildings": BUILDING_COLUMNS,
    "landuse": LANDUSE_COLUMNS,
}


def _with_shapes(path: Path, name: str, gdf: gpd.GeoDataFrame, names: set[str]) -> gpd.GeoDataFrame:
    """Give the rows of a split layer their shapes back (``geoapp.export.split_geometry_types``)."""
    if GPKG_ROW not in gdf.columns:
        return gdf
    geoms = gdf.geometry.to_numpy().copy()
    pos = pd.Series(np.arange(len(gdf)), index=gdf[GPKG_ROW].astype("int64").to_numpy())
    for suffix in GPKG_SHAPE_LAYERS.values():
        if f"{name}_{suffix}" in names:
            shapes = pyogrio.read_dataframe(path, layer=f"{name}_{suffix}", columns=[GPKG_ROW])
            rows = pos.reindex(shapes[GPKG_ROW].astype("int64").to_numpy()).to_numpy()
            ok = ~np.isnan(rows)
            geoms[rows[ok].astype(int)] = shapes.geometry.to_crs(gdf.crs).to_numpy()[ok]
    return gdf.drop(columns=GPKG_ROW).set_geometry(geoms, crs=gdf.crs)


def read_region_gpkg(path: str | os.PathLike[str]) -> Region:
    """Read a GeoPackage written by ``geoapp fetch`` back into a :class:`Region`.

    Raises
    ------
    InputError
        If the file is missing, unreadable or lacks the ``boundaries`` layer.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        names = {row[0] for row in pyogrio.list_layers(path)}
    except Exception as exc:
        raise InputError(
            f"{path}: not a readable GeoPackage ({exc}). Write it with 'geoapp fetch'."
        ) from None
    if "boundaries" not in names:
        raise InputError(
            f"{path}: no 'boundaries' layer; this is not a region saved by 'geoapp fetch'."
        )
    frames: dict[str, gpd.GeoDataFrame] = {}
    for name, cols in _FRAMES.items():
        if name in names:
            gdf = _with_shapes(path, name, pyogrio.read_dataframe(path, layer=name), names)
            frames[name] = gdf.to_crs(WGS84) if gdf.crs is not None else gdf.set_crs(WGS84)
        else:
            frames[name] = empty_gdf(cols)
    for key in ("node_id", "u", "v"):
        for name in ("nodes", "edges"):
            if key in frames[name].columns and len(frames[name]):
                frames[name][key] = frames[name][key].astype("int64")
    if "levels" in frames["buildings"].columns:
        frames["buildings"]["levels"] = pd.to_numeric(
            frames["buildings"]["levels"], errors="coerce"
        )
    meta: dict = {}
    census = None
    if "geoapp_metadata" in names:
        table = pyogrio.read_dataframe(path, layer="geoapp_metadata", read_geometry=False)
        meta = {k: json.loads(v) for k, v in zip(table["key"], table["value"], strict=True)}
    if "census" in names:
        census = pd.DataFrame(pyogrio.read_dataframe(path, layer="census", read_geometry=False))
        census["district_code"] = census["district_code"].astype(str)
    return Region(
        name=str(meta.get("name", path.stem)),
        source=f"gpkg:{path}",
        synthetic=bool(meta.get("synthetic", False)),
        census=census,
        meta=meta,
        **frames,
    )
