"""Read back a region saved by ``geoapp fetch`` (a GeoPackage of Region layers)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geoapp.errors import InputError
from geoapp.region import (
    BOUNDARY_COLUMNS,
    BUILDING_COLUMNS,
    EDGE_COLUMNS,
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
            gdf = pyogrio.read_dataframe(path, layer=name)
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
