"""The geoapp command line, end to end on the demo region and pyrosm's bundled extract."""

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pyogrio
import pyrosm
import pytest
import shapely

from geoapp.cli import main
from geoapp.region import SYNTHETIC_LABEL


def _max_decimals(coords) -> int:
    flat = np.asarray(list(shapely.get_coordinates(coords).ravel()))
    worst = 0
    for v in flat[:500]:
        s = repr(float(v))
        worst = max(worst, len(s.split(".")[1]) if "." in s and "e" not in s else 0)
    return worst


def assert_rfc7946(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    gdf = pyogrio.read_dataframe(path)
    assert gdf.crs == "EPSG:4326"
    assert len(gdf) == len(doc["features"])
    if len(gdf):
        geoms = gdf.geometry.to_numpy()
        assert shapely.is_valid(geoms).all(), path
        x, y = shapely.get_coordinates(geoms).T
        assert (np.abs(x) <= 180).all() and (np.abs(y) <= 90).all()
        assert _max_decimals(geoms) <= 7
        polys = [g for g in geoms if g.geom_type == "Polygon"]
        for p in polys[:50]:
            assert p.exterior.is_ccw
    return doc, gdf


def test_layers_lists_catalog(capsys):
    assert main(["layers"]) == 0
    out = capsys.readouterr().out
    for text in (
        "elderly_care",
        "community_services",
        "heritage",
        "养老服务",
        "社区服务",
        "历史文化遗产",
        "Elderly care",
        "300 m, 500 m, 1,000 m",  # heritage, in metres
        "5 min (300 m)",  # elderly care, in minutes at 3.6 km/h
    ):
        assert text in out


@pytest.mark.slow
def test_help_has_examples():
    for cmd in ("layers", "fetch", "export", "coverage", "compare"):
        proc = subprocess.run(
            [sys.executable, "-m", "geoapp.cli", cmd, "--help"], capture_output=True, text=True
        )
        assert proc.returncode == 0
        assert "Example" in proc.stdout and "geoapp " + cmd in proc.stdout


@pytest.fixture(scope="module")
def coverage_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("cov")
    assert (
        main(["coverage", "--region", "demo", "--layer", "elderly_care", "--out", str(out), "-q"])
        == 0
    )
    return out


@pytest.mark.slow
def test_coverage_bundle_complete(coverage_bundle):
    names = {p.name for p in coverage_bundle.iterdir()}
    assert {
        "facilities.geojson",
        "demand.geojson",
        "catchments.geojson",
        "summary.csv",
        "metadata.json",
    } <= names
    assert {"gaps.geojson", "map.html", "bundle.gpkg"} <= names
    assert not [n for n in names if ".tmp" in n]


@pytest.mark.slow
def test_coverage_geojson_rfc7946_and_columns(coverage_bundle):
    for name in ("facilities", "demand", "catchments", "gaps"):
        doc, gdf = assert_rfc7946(coverage_bundle / f"{name}.geojson")
        assert doc["geoapp"]["synthetic"] is True
        assert doc["geoapp"]["data_label"] == SYNTHETIC_LABEL
        assert len(gdf) > 0, name
    _, demand = assert_rfc7946(coverage_bundle / "demand.geojson")
    for col in ("dist_m", "facility_id", "pop", "pop_60plus", "zone_type", "district"):
        assert col in demand.columns
    assert (demand["dist_m"].dropna() >= 0).all()


@pytest.mark.slow
def test_summary_rows_add_up(coverage_bundle):
    s = pd.read_csv(coverage_bundle / "summary.csv", encoding="utf-8-sig")
    region = s[s["level"] == "region"].iloc[0]
    districts = s[s["level"] == "district"]
    zones = s[s["level"] == "zone_type"]
    for col in [c for c in s.columns if c.startswith("covered_pop") or c in ("pop", "pop_60plus")]:
        # counts are written as whole numbers: each row may be off by half a resident
        assert math.isclose(districts[col].sum(), region[col], abs_tol=0.5 * (len(districts) + 1))
        assert math.isclose(zones[col].sum(), region[col], abs_tol=0.5 * (len(zones) + 1)), col
    # elderly care is minute-based: its columns are named by minutes
    for lab in ("5min", "10min", "15min"):
        assert 0 <= region[f"share_pop_60plus_{lab}"] <= 1
    # shares never fall as the reach grows
    assert (
        region["share_pop_60plus_5min"]
        <= region["share_pop_60plus_10min"]
        <= region["share_pop_60plus_15min"]
    )


@pytest.mark.slow
def test_metadata(coverage_bundle):
    meta = json.loads((coverage_bundle / "metadata.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True and meta["data_label"] == SYNTHETIC_LABEL
    assert meta["mode"] == "network" and meta["layer"] == "elderly_care"
    assert "geopandas" in meta["versions"] and meta["timings_s"]["total_s"] > 0
    assert "summary.csv" in meta["files"]
    # one bundle, one run: every file is listed and carries the same run_id
    assert sorted(meta["files"]) == sorted(p.name for p in coverage_bundle.iterdir())
    for name in ("facilities", "demand", "catchments", "gaps"):
        doc = json.loads((coverage_bundle / f"{name}.geojson").read_text(encoding="utf-8"))
        assert doc["geoapp"]["run_id"] == meta["run_id"]


@pytest.mark.slow
def test_coverage_euclidean_mode(tmp_path):
    assert (
        main(
            [
                "coverage",
                "--region",
                "demo",
                "--layer",
                "heritage",
                "--mode",
                "euclidean",
                "--no-map",
                "--out",
                str(tmp_path),
                "-q",
            ]
        )
        == 0
    )
    meta = json.loads((tmp_path / "metadata.json").read_text(encoding="utf-8"))
    assert meta["mode"] == "euclidean"
    _, demand = assert_rfc7946(tmp_path / "demand.geojson")
    assert set(demand["access_mode"]) == {"euclidean"}


def _counts(gpkg):
    return {
        name: pyogrio.read_info(gpkg, layer=name)["features"]
        for name, _ in pyogrio.list_layers(gpkg)
    }


@pytest.mark.slow
@pytest.mark.parametrize("source", ["demo", "test_pbf"])
def test_fetch_then_export_roundtrip(tmp_path, source):
    args = ["--region", "demo"] if source == "demo" else ["--osm", pyrosm.get_data("test_pbf")]
    gpkg = tmp_path / "region.gpkg"
    assert main(["fetch", *args, "--out", str(gpkg), "-q"]) == 0
    counts = _counts(gpkg)
    assert counts["edges"] > 0 and counts["boundaries"] >= 1
    outdir = tmp_path / "geojson"
    assert (
        main(["export", "--gpkg", str(gpkg), "--format", "geojson", "--out", str(outdir), "-q"])
        == 0
    )
    for name, n in counts.items():
        if name in ("geoapp_metadata", "census", "layer_styles"):  # tables, QGIS styles
            continue
        if name.endswith("_footprints"):  # the features' shapes, joined again on reading
            continue
        _, gdf = assert_rfc7946(outdir / f"{name}.geojson")
        assert len(gdf) == n, name
    assert (
        main(
            ["export", "--gpkg", str(gpkg), "--format", "csv", "--out", str(tmp_path / "csv"), "-q"]
        )
        == 0
    )
    assert len(pd.read_csv(tmp_path / "csv" / "edges.csv", encoding="utf-8-sig")) == counts["edges"]


def test_user_boundary_file_replaces_districts(tmp_path):
    from geoapp.sources.demo import demo_region

    b = (
        demo_region()
        .boundaries[["district", "district_code", "geometry"]]
        .rename(columns={"district": "name", "district_code": "code"})
    )
    path = tmp_path / "districts.geojson"
    b.to_file(path, driver="GeoJSON")
    gpkg = tmp_path / "r.gpkg"
    assert (
        main(["fetch", "--region", "demo", "--boundaries", str(path), "--out", str(gpkg), "-q"])
        == 0
    )
    back = pyogrio.read_dataframe(gpkg, layer="boundaries")
    assert len(back) == len(b) and back.is_valid.all()
    assert set(back["district"]) == set(b["name"])


def test_bad_inputs_give_clear_errors_and_keep_files(tmp_path, capsys):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 10)
    keep = tmp_path / "out.gpkg"
    keep.write_bytes(b"previous result")
    assert main(["fetch", "--osm", str(bad), "--out", str(keep), "-q"]) == 2
    err = capsys.readouterr().err
    assert "broken.osm.pbf" in err and "Traceback" not in err
    assert keep.read_bytes() == b"previous result"

    assert main(["coverage", "--region", "demo", "--layer", "nope", "--out", str(tmp_path)]) == 2
    assert "elderly_care" in capsys.readouterr().err


def test_no_network_is_a_clear_error(monkeypatch, tmp_path, capsys):
    from geoapp.errors import NetworkUnavailableError
    from geoapp.sources import osm_online

    def offline(*a, **k):
        raise NetworkUnavailableError(
            "Cannot reach OpenStreetMap (no network). Use --osm FILE or --region demo."
        )

    monkeypatch.setattr(osm_online, "fetch_place", offline)
    assert main(["fetch", "--place", "Nowhere", "--out", str(tmp_path / "x.gpkg"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "no network" in err and "Traceback" not in err
    assert not (tmp_path / "x.gpkg").exists()
