"""``geoapp batch``: many regions on a dask LocalCluster, failures, spec validation, split.

The cluster tests start a real ``LocalCluster`` of two worker PROCESSES (scratch space
in ``tmp_path``, dashboard on a free port, scheduler on 127.0.0.1), so they work inside
a pytest-xdist worker and touch no network. Their bundles are compared with
``geoapp coverage`` run in this process on the same inputs, with a separate cache
folder, so nothing computed by one side is reused by the other.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
from osm_extract_builder import write_extract
from shapely.geometry import box

from geoapp import batch, batch_split, catalog, workflow
from geoapp.cli import main
from geoapp.errors import InputError
from geoapp.spec import RegionSpec

TEST_PBF = pyrosm.get_data("test_pbf")
X0, Y0 = 24.90, 60.20
DX, DY = 0.0018, 0.0009  # about 100 m east-west and north-south


# --------------------------------------------------------------------------- fixtures


def _town(path: Path, n: int = 7) -> Path:
    """A grid town of n x n street nodes, housing blocks and a few facilities."""
    nodes: dict = {}
    ways = []
    nid = lambda i, j: 1 + i * n + j  # noqa: E731
    for i in range(n):
        for j in range(n):
            nodes[nid(i, j)] = (X0 + i * DX, Y0 + j * DY)
    wid = 1
    for j in range(n):
        ways.append((wid, [nid(i, j) for i in range(n)], {"highway": "residential"}))
        wid += 1
    for i in range(n):
        ways.append((wid, [nid(i, j) for j in range(n)], {"highway": "footway"}))
        wid += 1
    k = 10_000
    for i in range(n - 1):
        for j in range(n - 1):
            x, y = X0 + (i + 0.3) * DX, Y0 + (j + 0.3) * DY
            ring = []
            for dx, dy in ((0, 0), (0.4, 0), (0.4, 0.4), (0, 0.4)):
                nodes[k] = (x + dx * DX, y + dy * DY)
                ring.append(k)
                k += 1
            levels = str(2 + (i + j) % 4)
            ways.append(
                (wid, [*ring, ring[0]], {"building": "apartments", "building:levels": levels})
            )
            wid += 1
    nodes[90_001] = (X0 + 0.5 * DX, Y0 + 0.5 * DY, {"amenity": "pharmacy", "name": "West"})
    nodes[90_002] = (X0 + 4.5 * DX, Y0 + 3.5 * DY, {"amenity": "clinic", "name": "East"})
    nodes[90_003] = (X0 + 2.5 * DX, Y0 + 5.5 * DY, {"amenity": "nursing_home"})
    return write_extract(path, nodes, ways)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The town extract, quadrant districts for test_pbf, a corrupt extract, a small layer."""
    d = tmp_path_factory.mktemp("batch_inputs")
    town = _town(d / "town.osm.pbf")
    region = workflow.load_region(osm=TEST_PBF)
    w, s, e, n = region.edges.total_bounds
    mx, my = (w + e) / 2, (s + n) / 2
    quads = gpd.GeoDataFrame(
        {
            "district": ["SW", "SE", "NW", "NE"],
            "zone_type": ["core", "core", "new_town", "rural"],
        },
        geometry=[box(w, s, mx, my), box(mx, s, e, my), box(w, my, mx, n), box(mx, my, e, n)],
        crs="EPSG:4326",
    )
    quads.to_file(d / "quadrants.geojson", driver="GeoJSON")
    (d / "new_homes.csv").write_text(  # two planned care homes on the town's streets
        f"name,lon,lat\nNorth home,{X0 + 5 * DX:.6f},{Y0 + 1 * DY:.6f}\n"
        f"South home,{X0 + 1 * DX:.6f},{Y0 + 3.5 * DY:.6f}\n",
        encoding="utf-8",
    )
    corrupt = d / "corrupt.osm.pbf"
    corrupt.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 64)
    small = d / "near_services.toml"
    small.write_text(  # every amenity and shop within 100 / 200 m: a 600 m search
        'id = "near_services"\nlabel = { en = "Near services", zh = "近邻服务" }\n'
        'population = "total"\nradii_m = [100, 200]\ntarget_m = 200\n'
        "[[match]]\namenity = true\n[[match]]\nshop = true\n",
        encoding="utf-8",
    )
    return {"dir": d, "town": town, "quadrants": d / "quadrants.geojson", "corrupt": corrupt,
            "small_layer": small}  # fmt: skip


def _spec(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _props(path: Path) -> pd.DataFrame:
    doc = json.loads(path.read_text(encoding="utf-8"))
    rows = [{**f["properties"], "_geometry": json.dumps(f["geometry"])} for f in doc["features"]]
    return pd.DataFrame(rows)


def _single(tmp_path: Path, out: Path, args: list[str]) -> Path:
    assert main(["coverage", *args, "--out", str(out), "--no-map", "-q"]) == 0
    return out


def _assert_same_bundle(got: Path, want: Path, *, catchments: bool = True) -> None:
    assert (got / "summary.csv").read_bytes() == (want / "summary.csv").read_bytes()
    for name in ("demand", "facilities", "gaps", *(("catchments",) if catchments else ())):
        a, b = _props(got / f"{name}.geojson"), _props(want / f"{name}.geojson")
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0, atol=1e-6, obj=name)
    meta = json.loads((got / "metadata.json").read_text(encoding="utf-8"))
    ref = json.loads((want / "metadata.json").read_text(encoding="utf-8"))
    for key in ("region", "layer", "mode", "search_limit_m", "n_facilities", "n_demand_points"):
        assert meta[key] == ref[key], key


# --------------------------------------------------------------------------- the cluster


@pytest.mark.slow
def test_batch_on_local_cluster_equals_single_runs(tmp_path, monkeypatch, inputs):
    spec = _spec(
        inputs["dir"] / "cluster_spec.toml",
        f"""
[defaults]
map = false
catchments = false

[[run]]
name = "demo"
region = "demo"
layers = ["elderly_care"]

[[run]]
name = "test quadrants"
osm = "{TEST_PBF}"
boundaries = "quadrants.geojson"
layers = ["community_services"]

[[run]]
name = "town"
osm = "town.osm.pbf"
layers = ["community_services", "elderly_care"]
catchments = true

[[run.scenario]]
name = "two new homes"
facilities = ["new_homes.csv:elderly_care:wgs84"]

[[run]]
name = "test-split"
osm = "{TEST_PBF}"
boundaries = "quadrants.geojson"
layer_files = ["near_services.toml"]
layers = ["near_services", "community_services"]
split = true
""",
    )
    out = tmp_path / "out"
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache_batch"))
    code = main(
        ["batch", str(spec), "--out", str(out), "--workers", "2",
         "--local-directory", str(tmp_path / "dask"), "-q"]
    )  # fmt: skip
    assert code == 0
    summary = pd.read_csv(out / "batch.csv", encoding="utf-8-sig", keep_default_na=False)
    assert list(summary["status"]) == ["ok"] * 8
    assert list(zip(summary["run"], summary["scenario"], summary["layer"], strict=True)) == [
        ("demo", "", "elderly_care"),
        ("test quadrants", "", "community_services"),
        ("town", "", "community_services"),
        ("town", "", "elderly_care"),
        ("town", "two new homes", "community_services"),
        ("town", "two new homes", "elderly_care"),
        ("test-split", "", "near_services"),
        ("test-split", "", "community_services"),
    ]
    doc = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert doc["n_ok"] == 8 and doc["n_failed"] == 0

    # the same inputs, one `geoapp coverage` at a time, with a cache of their own
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache_single"))
    ref = tmp_path / "single"
    quads = ["--osm", TEST_PBF, "--boundaries", str(inputs["quadrants"])]
    small = ["--layer-file", str(inputs["small_layer"])]
    homes = inputs["dir"] / "new_homes.csv"
    cases = [
        ("demo/elderly_care", ["--region", "demo", "--layer", "elderly_care", "--no-catchments"], False),
        ("test quadrants/community_services", [*quads, "--layer", "community_services", "--no-catchments"], False),
        ("town/community_services", ["--osm", str(inputs["town"]), "--layer", "community_services"], True),
        ("town/elderly_care", ["--osm", str(inputs["town"]), "--layer", "elderly_care"], True),
        ("town/two new homes/elderly_care", ["--osm", str(inputs["town"]), "--layer", "elderly_care",
                                             "--facilities", f"{homes}:elderly_care:wgs84"], True),
        ("test-split/near_services", [*quads, *small, "--layer", "near_services", "--no-catchments"], False),
    ]  # fmt: skip
    for folder, args, with_catchments in cases:
        want = _single(tmp_path, ref / folder.replace("/", "__"), args)
        _assert_same_bundle(out / folder, want, catchments=with_catchments)
    # split by district, community services: the same bundle as the whole region's
    want = ref / "test quadrants__community_services"
    _assert_same_bundle(out / "test-split/community_services", want, catchments=False)
    # the split runs say so and name their parts; the whole ones do not
    meta = json.loads((out / "test-split/near_services/metadata.json").read_text())
    districts = [p["district"] for p in meta["split"]["parts"]]
    assert districts == ["(outside districts)", "NE", "NW", "SE", "SW"]
    assert "split" not in json.loads((out / "town/elderly_care/metadata.json").read_text())
    town = _props(out / "town/community_services/demand.geojson")
    assert len(town) == 36 and town["dist_m"].notna().all()
    # the scenario adds two elderly-care homes and brings the residents 60+ closer
    base = _props(out / "town/elderly_care/facilities.geojson")
    more = _props(out / "town/two new homes/elderly_care/facilities.geojson")
    assert len(more) == len(base) + 2
    d_base = _props(out / "town/elderly_care/demand.geojson")["dist_m"]
    d_more = _props(out / "town/two new homes/elderly_care/demand.geojson")["dist_m"]
    assert (d_more <= d_base + 1e-9).all() and (d_more < d_base - 1).any()


@pytest.mark.slow
def test_failing_region_is_reported_and_the_others_finish(tmp_path, monkeypatch, inputs, capsys):
    spec = _spec(
        inputs["dir"] / "failing_spec.toml",
        """
[defaults]
map = false
gpkg_bundle = false

[[run]]
name = "town"
osm = "town.osm.pbf"
layers = ["community_services"]

[[run]]
name = "broken"
osm = "corrupt.osm.pbf"
layers = ["community_services", "elderly_care"]

[[run]]
name = "town again"
osm = "town.osm.pbf"
layers = ["elderly_care"]
""",
    )
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    code = main(
        ["batch", str(spec), "--out", str(out), "--workers", "2",
         "--local-directory", str(tmp_path / "dask"), "-q"]
    )  # fmt: skip
    assert code == 1
    captured = capsys.readouterr()
    assert "broken/community_services" in captured.out and "corrupt.osm.pbf" in captured.out
    summary = pd.read_csv(out / "batch.csv", encoding="utf-8-sig", keep_default_na=False)
    rows = summary.set_index(["run", "layer"])
    assert rows.loc[("town", "community_services"), "status"] == "ok"
    assert rows.loc[("town again", "elderly_care"), "status"] == "ok"
    for lid in ("community_services", "elderly_care"):
        row = rows.loc[("broken", lid)]
        assert row["status"] == "failed" and row["output"] == ""
        assert "corrupt.osm.pbf" in row["error"]
    assert not (out / "broken").exists()
    # the finished runs are complete bundles
    for folder in ("town/community_services", "town again/elderly_care"):
        demand = _props(out / folder / "demand.geojson")
        assert len(demand) == 36
        assert (out / folder / "summary.csv").is_file()
    doc = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert doc["n_ok"] == 2 and doc["n_failed"] == 2


# --------------------------------------------------------------------------- the spec


def test_spec_problems_are_collected_and_named(tmp_path, capsys):
    (tmp_path / "town.osm.pbf").write_bytes(b"")  # exists: only its content is unread here
    spec = _spec(
        tmp_path / "bad.toml",
        """
colour = "red"

[[run]]
name = "a"
region = "demo"
layers = ["elderly_care", "no_such_layer"]
speed_kmh = -3

[[run.scenario]]
name = "elderly_care"

[[run]]
name = "a"
osm = "missing.osm.pbf"
place = "Somewhere"
layers = ["elderly_care"]

[[run]]
osm = "town.osm.pbf"
layers = []
mode = "flying"
split = "yes"

[[run]]
name = "../escape"
region = "demo"
layers = ["elderly_care"]
facilities = ["homes.csv:elderly_care:gcj02", "nonsense"]
""",
    )
    with pytest.raises(InputError) as info:
        batch.read_spec(spec)
    msg = str(info.value)
    expected = [
        f"{spec}: key 'colour': unknown top-level key",
        f"{spec}: run 1 ('a'): key 'layers': unknown layer 'no_such_layer'",
        f"{spec}: run 1 ('a'): key 'speed_kmh': -3 must be a positive number",
        f"{spec}: run 1 ('a'): scenario 1 ('elderly_care'): key 'name': 'elderly_care' is already",
        f"{spec}: run 1 ('a'): scenario 1 ('elderly_care'): key 'facilities': missing",
        f"{spec}: run 2 ('a'): key 'name': 'a' is also the name of run 1",
        f"{spec}: run 2 ('a'): key 'place': a run takes one region source",
        f"{spec}: run 3: key 'name': missing",
        f"{spec}: run 3: key 'layers': [] must be a non-empty list",
        f"{spec}: run 3: key 'mode': 'flying' must be one of network, euclidean",
        f"{spec}: run 3: key 'split': 'yes' must be true or false",
        f"{spec}: run 4 ('../escape'): key 'name': '../escape' must be a folder name",
        f"{spec}: run 4 ('../escape'): key 'facilities': file 'homes.csv' not found",
        f"{spec}: run 4 ('../escape'): key 'facilities': entry 2 'nonsense': use FILE:LAYER:COORDS",
    ]
    for line in expected:
        assert line in msg, line
    assert len(info.value.problems) == len(expected)
    # the CLI: one message, exit code 2, no traceback, no output folder
    assert main(["batch", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_spec_paths_resolve_against_its_folder(tmp_path, monkeypatch, inputs):
    sub = tmp_path / "specs"
    sub.mkdir()
    (sub / "data").mkdir()
    (sub / "data" / "town.osm.pbf").write_bytes(inputs["town"].read_bytes())
    _spec(
        sub / "s.toml",
        '[defaults]\nlayers = ["elderly_care"]\nspeed_kmh = 3.6\n\n'
        '[[run]]\nname = "t"\nosm = "data/town.osm.pbf"\n\n'
        '[[run]]\nname = "d"\nregion = "demo"\nlayers = ["heritage"]\n',
    )
    monkeypatch.chdir(tmp_path)  # not the spec's folder
    got = batch.read_spec(Path("specs/s.toml"))
    assert got.runs[0].load == RegionSpec(osm=str((sub / "data" / "town.osm.pbf").resolve()))
    assert got.runs[0].layers == ("elderly_care",) and got.runs[0].speed_kmh == 3.6
    assert got.runs[1].load == RegionSpec(region="demo") and got.runs[1].layers == ("heritage",)
    for text, problem in (
        ("[[run]\nname=1", "not valid TOML"),
        ("title = 'x'", "no runs"),
    ):
        with pytest.raises(InputError, match=problem):
            batch.read_spec(_spec(tmp_path / "x.toml", text))
    with pytest.raises(InputError, match="batch spec not found"):
        batch.read_spec(tmp_path / "nope.toml")


def test_existing_foreign_folder_is_refused_before_any_work(tmp_path):
    spec = _spec(
        tmp_path / "s.toml", '[[run]]\nname = "d"\nregion = "demo"\nlayers = ["heritage"]\n'
    )
    target = tmp_path / "out" / "d" / "heritage"
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("mine")
    assert main(["batch", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert (target / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "out" / "batch.csv").exists()


# --------------------------------------------------------------------------- split and merge


def _assert_split_equals_whole(region, layer, demand, graph):
    whole = workflow.analyse_layer(region, layer, demand=demand, graph=graph, with_catchments=False)
    split = batch_split.analyse_split(region, layer, demand=demand, with_catchments=False)
    a, b = whole.access, split.access
    assert list(a.index) == list(b.index)
    da, db = a["dist_m"].to_numpy(float), b["dist_m"].to_numpy(float)
    assert (np.isfinite(da) == np.isfinite(db)).all()
    fin = np.isfinite(da)
    assert fin.any()
    np.testing.assert_allclose(db[fin], da[fin], rtol=0, atol=1e-6)
    assert (a["facility_id"].to_numpy() == b["facility_id"].to_numpy()).all()
    pd.testing.assert_frame_equal(split.summary, whole.summary)
    pd.testing.assert_frame_equal(
        pd.DataFrame(split.gaps.drop(columns="geometry")),
        pd.DataFrame(whole.gaps.drop(columns="geometry")),
    )
    # the street-fragment flags (gap reasons, the run's warning) come from the parts too
    np.testing.assert_array_equal(split.on_fragment, whole.on_fragment)
    frag = [w for w in whole.warnings if "fragment" in w]
    assert frag == [w for w in split.warnings if "fragment" in w]
    return whole, split


@pytest.mark.slow
def test_split_and_merge_equals_the_whole_on_the_demo(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    region = workflow.load_region("demo")
    demand, graph = workflow.prepare(region)
    layer = catalog.get_layer("elderly_care")
    whole, split = _assert_split_equals_whole(region, layer, demand, graph)
    # some residents of the demo live by streets cut off from the rest: both runs class
    # them as a network gap (data quality, issue 24), not as a gap
    assert (split.access["dq_class"] == "network_gap").any()
    np.testing.assert_array_equal(split.access["dq_class"], whole.access["dq_class"])
    parts = split.meta["split"]["parts"]
    assert sorted(p["district"] for p in parts) == sorted(region.boundaries["district"])
    # every part is a real subset of the network (the halo of 3 km is smaller than the city)
    assert all(p["n_edges"] < len(region.edges) for p in parts)
    assert sum(p["n_demand_points"] for p in parts) == len(demand.points)


@pytest.mark.slow
def test_split_heritage_has_the_whole_runs_columns(tmp_path, monkeypatch):
    # the demo's heritage: 21 designated sites (11 national, 10 provincial) judged, and
    # 7 memorials, statues and unlisted historic features apart; the split run's
    # summary.csv has the same columns and figures as the whole run's, the share of
    # residents near an undesignated feature (share_pop_undesignated_R) included
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    region = workflow.load_region("demo")
    demand, graph = workflow.prepare(region)
    layer = catalog.get_layer("heritage")
    whole, split = _assert_split_equals_whole(region, layer, demand, graph)
    reg = split.summary[split.summary["level"] == "region"].iloc[0]
    assert (reg["n_designated"], reg["n_undesignated"], reg["n_facilities"]) == (21, 7, 21)
    radii = [str(int(r)) for r in layer.radii_m]
    assert [f"share_pop_undesignated_{r}" for r in radii] == [
        c for c in split.summary.columns if c.startswith("share_pop_undesignated_")
    ]
    for group in ("national", "designated", "undesignated"):
        np.testing.assert_array_equal(
            np.isfinite(split.access[f"dist_m_{group}"].to_numpy(float)),
            np.isfinite(whole.access[f"dist_m_{group}"].to_numpy(float)),
        )


@pytest.mark.slow
def test_split_and_merge_equals_the_whole_on_a_real_extract(tmp_path, monkeypatch, inputs):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    layers = catalog.load_catalog(extra_files=[inputs["small_layer"]])
    region = workflow.load_region(osm=TEST_PBF, boundaries=inputs["quadrants"], catalog=layers)
    demand, graph = workflow.prepare(region)
    layer = layers["near_services"]  # 600 m search on a 2.2 km extract: parts are partial
    whole, split = _assert_split_equals_whole(region, layer, demand, graph)
    assert len(whole.facilities) > 10
    assert (
        np.isfinite(whole.access["dist_m"]).sum() > 100 and np.isinf(whole.access["dist_m"]).any()
    )
    parts = batch_split.split_by_district(region, demand, batch_split.search_limit_m(layer))
    # the buildings beyond the streets' bounding box form the outside-districts part
    assert [p.district for p in parts] == ["(outside districts)", "NE", "NW", "SE", "SW"]
    assert all(len(p.region.edges) < len(region.edges) for p in parts)
    # and the halo matters: a halo a quarter as wide misses paths the whole one holds
    limit = batch_split.search_limit_m(layer)
    narrow = batch_split.split_by_district(region, demand, limit / 4)
    accesses = [batch_split.analyse_part(batch_split.PartJob(p, layer, None)) for p in narrow]
    merged = batch_split.merge_parts(region, layer, demand, accesses, with_catchments=False)
    d_whole = whole.access["dist_m"].to_numpy(float)
    d_narrow = merged.access["dist_m"].to_numpy(float)
    assert (d_narrow >= d_whole - 1e-9).all()  # a subgraph never finds a shorter path
    assert (d_narrow > d_whole + 1e-6).any()
    for a in accesses:  # the parts leave the inputs as they were
        assert len(a) < len(demand.points)


def test_split_rejects_a_bad_halo_and_a_region_without_streets():
    region = workflow.load_region("demo")
    demand = workflow.prepare_demand(region)
    for halo in (0, -5, float("nan")):
        with pytest.raises(InputError, match="halo_m"):
            batch_split.split_by_district(region, demand, halo)
    with pytest.raises(InputError, match="no walking network"):
        batch_split.split_by_district(region.with_(edges=region.edges.iloc[0:0]), demand, 100.0)


@pytest.mark.slow
def test_a_failing_scenario_fails_alone(tmp_path, monkeypatch, inputs):
    """run_one in this process: the run's own bundle is written, the bad scenario reported."""
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    (inputs["dir"] / "no_coords.csv").write_text("name,address\nA home,Main street 1\n")
    spec = _spec(
        inputs["dir"] / "scenario_spec.toml",
        '[[run]]\nname = "town"\nosm = "town.osm.pbf"\nlayers = ["elderly_care"]\n'
        "map = false\ngpkg_bundle = false\n\n"
        '[[run.scenario]]\nname = "bad table"\nfacilities = ["no_coords.csv:elderly_care:wgs84"]\n'
        '\n[[run.scenario]]\nname = "good table"\nfacilities = ["new_homes.csv:elderly_care:wgs84"]\n',
    )
    (run,) = batch.read_spec(spec).runs
    got = batch.run_one(run, tmp_path / "out")
    assert [(o.scenario, o.layer, o.status) for o in got] == [
        ("", "elderly_care", "ok"),
        ("bad table", "elderly_care", "failed"),
        ("good table", "elderly_care", "ok"),
    ]
    assert "no_coords.csv" in got[1].error
    assert (tmp_path / "out/town/elderly_care/summary.csv").is_file()
    assert (tmp_path / "out/town/good table/elderly_care/summary.csv").is_file()
    assert not (tmp_path / "out/town/bad table").exists()
    assert got[2].n_facilities == got[0].n_facilities + 2


@pytest.mark.slow
def test_batch_on_an_existing_scheduler_leaves_it_running(tmp_path, monkeypatch, inputs):
    from distributed import Client, LocalCluster

    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    spec = _spec(
        inputs["dir"] / "scheduler_spec.toml",
        '[[run]]\nname = "town"\nosm = "town.osm.pbf"\nlayers = ["community_services"]\n'
        "map = false\ngpkg_bundle = false\n",
    )
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        local_directory=str(tmp_path / "dask"),
    ) as cluster:
        address = cluster.scheduler_address
        out = tmp_path / "out"
        assert main(["batch", str(spec), "--out", str(out), "--scheduler", address, "-q"]) == 0
        doc = json.loads((out / "batch.json").read_text(encoding="utf-8"))
        assert doc["scheduler"] == address and doc["n_ok"] == 1
        assert len(_props(out / "town/community_services/demand.geojson")) == 36
        with Client(address) as client:  # the batch did not close someone else's cluster
            assert client.submit(sum, [1, 2]).result() == 3


def test_batch_csv_is_true_to_the_disk(tmp_path):
    """An interrupted batch marked a run "cancelled" whose bundle was complete, and once
    recorded a run_id that was not the one on disk: the summary now reads the disk."""
    out = tmp_path / "batch"
    folder = out / "city" / "elderly_care"
    assert (
        main(
            ["coverage", "--region", "demo", "--layer", "elderly_care", "--out", str(folder), "-q"]
        )
        == 0
    )
    disk_id = json.loads((folder / "metadata.json").read_text())["run_id"]
    rows = [
        batch.Outcome("city", "elderly_care", "cancelled", "the batch was interrupted"),
        batch.Outcome("other", "elderly_care", "cancelled", "the batch was interrupted"),
    ]
    fixed = batch.reconcile_outcomes(rows, out)
    assert fixed[0].status == "ok" and fixed[0].run_id == disk_id and "on disk" in fixed[0].error
    assert fixed[1].status == "cancelled"  # nothing on disk
    # an ok row records the run_id of the bundle on disk (the last writer's)
    (ok,) = batch.reconcile_outcomes([batch.Outcome("city", "elderly_care", "ok", run_id="x")], out)
    assert ok.run_id == disk_id
    # a bundle changed after it was written is not taken as complete
    (folder / "summary.csv").write_text("edited\n")
    assert batch.reconcile_outcomes(rows[:1], out)[0].status == "cancelled"
    assert rows[0].status == "cancelled"  # the inputs are not changed
