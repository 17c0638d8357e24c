"""The GeoJSON writer converts properties a column at a time: the same document as
geojson_dict for every kind of column (float with NaN/inf, ints, bools, strings, objects,
timestamps, nullable ints)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from geoapp import export


def test_geojson_writer_equals_geojson_dict_for_every_column_kind(tmp_path):
    """The column-at-a-time GeoJSON writer gives the document geojson_dict gives."""
    n = 5
    frame = gpd.GeoDataFrame(
        {
            "f": [1.5, np.nan, np.inf, -np.inf, 1e-300],
            "i": np.arange(n, dtype="int64") - 2,
            "u": np.arange(n, dtype="uint8"),
            "b": [True, False, True, False, True],
            "s": ["a", None, "中文", "", 'x"y'],
            "o": [1, 2.5, None, [1, np.float64(2.0)], {"k": np.int64(3)}],
            "t": pd.to_datetime(["2024-01-01", None, "2024-02-03", "2024-03-04", "2024-05-06"]),
            "ni": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        },
        geometry=[Point(116.4 + i * 0.01, 39.9) for i in range(n)],
        crs="EPSG:4326",
    )
    path = export.write_geojson(frame, tmp_path / "x.geojson", meta={"run": "t"})
    got = json.loads(path.read_text(encoding="utf-8"))
    want = json.loads(json.dumps(export.geojson_dict(frame, meta={"run": "t"})))
    assert got == want
    assert got["features"][1]["properties"]["f"] is None  # NaN
    assert got["features"][2]["properties"]["f"] is None  # inf
    assert got["features"][0]["properties"]["i"] == -2
    bare = export.write_geojson(frame[["geometry"]], tmp_path / "g.geojson")
    assert len(json.loads(bare.read_text())["features"]) == n


def test_float_attributes_carry_nine_significant_digits(tmp_path):
    """No 17-digit floats in GeoJSON properties (found on real extracts: pop with 15-17
    decimals), while small ratios keep their precision (a beds-per-person ratio of
    0.000123456789 is not cut to 0.000123)."""
    import json

    import geopandas as gpd
    from shapely.geometry import Point

    from geoapp.export import write_geojson

    gdf = gpd.GeoDataFrame(
        {"pop": [0.1 + 0.2, 12.345678901234], "sfca": [0.000123456789123, 0.0]},
        geometry=[Point(116.4, 39.9), Point(116.41, 39.9)],
        crs="EPSG:4326",
    )
    doc = json.loads(write_geojson(gdf, tmp_path / "x.geojson").read_text())
    props = [f["properties"] for f in doc["features"]]
    assert props == [
        {"pop": 0.3, "sfca": 0.000123456789},
        {"pop": 12.3456789, "sfca": 0.0},
    ]
