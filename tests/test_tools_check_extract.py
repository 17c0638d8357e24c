"""tools/check_extract.py: geoapp's results agree with its independent references.

The script runs on a small extract built here with osmium (a street grid, blocks of
flats, a clinic, a nursing home, a monument and a clipped school) and on pyrosm's
test_pbf; every check passes. A deliberately wrong engine (distances shifted by 50 m, a
facility silently dropped) is caught: the script fails the right checks and exits 1.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyrosm
import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(TOOLS))
import check_reference  # noqa: E402  (tools/check_reference.py: the hand-written rules)
from osm_extract_builder import write_extract  # noqa: E402

from geoapp import coverage, layers, network, workflow  # noqa: E402
from geoapp.network import routing  # noqa: E402

SCRIPT = TOOLS / "check_extract.py"

# a 6 x 6 street grid, 0.001 degrees apart (about 111 m north-south, 106 m east-west at 17.5 N)
LON0, LAT0, STEP = 100.0, 17.5, 0.001


def _script():
    spec = importlib.util.spec_from_file_location("check_extract", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["check_extract"] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GEOAPP_REGION_CACHE", "0")
    network.clear_memo()
    yield
    network.clear_memo()


def _grid_extract(path: Path) -> Path:
    nodes: dict = {}
    ways = []
    nid = lambda i, j: 1 + i * 6 + j  # noqa: E731
    for i in range(6):
        for j in range(6):
            nodes[nid(i, j)] = (LON0 + j * STEP, LAT0 + i * STEP)
    wid = 1000
    for i in range(6):  # east-west streets
        ways.append((wid := wid + 1, [nid(i, j) for j in range(6)], {"highway": "residential"}))
    for j in range(6):  # north-south streets
        ways.append((wid := wid + 1, [nid(i, j) for i in range(6)], {"highway": "residential"}))
    # a motorway (not walkable) crossing the grid diagonally must not shorten anything
    nodes[900] = (LON0 - STEP, LAT0 - STEP)
    nodes[901] = (LON0 + 6 * STEP, LAT0 + 6 * STEP)
    ways.append((2000, [900, nid(0, 0), nid(5, 5), 901], {"highway": "motorway"}))
    # blocks of flats: a 30 m square in the middle of each block
    k = 5000
    for i in range(5):
        for j in range(5):
            cx, cy = LON0 + (j + 0.5) * STEP, LAT0 + (i + 0.5) * STEP
            h = 0.00015
            ids = []
            for dx, dy in ((-h, -h), (h, -h), (h, h), (-h, h)):
                k += 1
                nodes[k] = (cx + dx, cy + dy)
                ids.append(k)
            ways.append((k + 100_000, [*ids, ids[0]], {"building": "apartments",
                                                       "building:levels": "4"}))  # fmt: skip
    # facilities: a clinic and a monument at street corners, a nursing home mid-street
    nodes[801] = (LON0 + STEP, LAT0 + STEP, {"amenity": "clinic", "name": "Clinic"})
    nodes[802] = (LON0 + 4 * STEP, LAT0 + 4 * STEP, {"historic": "monument"})
    nodes[803] = (LON0 + 2.4 * STEP, LAT0 + 3 * STEP + 0.0001, {"amenity": "nursing_home"})
    # a school whose area is cut by the extract's edge: 2 of its 5 nodes are in the file
    nodes[810] = (LON0 + 5 * STEP + 0.0002, LAT0 + 0.0002)
    nodes[811] = (LON0 + 5 * STEP + 0.0004, LAT0 + 0.0002)
    ways.append((3000, [99_997, 810, 811, 99_998, 99_997], {"amenity": "school"}))
    return write_extract(path, nodes, ways)


def _run(tmp_path, extract, *extra):
    mod = _script()
    out = tmp_path / "out"
    code = mod.main([str(extract), "--out", str(out), "--sample", "60", *extra])
    return code, pd.read_csv(out / "checks.csv"), out


@pytest.mark.slow
def test_every_check_passes_on_a_built_extract(tmp_path, capsys):
    code, table, out = _run(tmp_path, _grid_extract(tmp_path / "grid.osm.pbf"))
    failed = table.loc[~table["pass"], ["layer", "check", "value", "reference", "note"]]
    assert code == 0, failed.to_string()
    checks = set(table["check"])
    for needed in (
        "facilities: count vs hand-written tag filter",
        "distances: sample, max |geoapp - networkx| (m)",
        "summary: shares per radius, region and districts, vs pandas",
    ):
        assert needed in checks
    assert any(c.startswith("catchments ") and "overlap" in c for c in checks)
    assert any(c.startswith("catchment ") and "buffered reached streets" in c for c in checks)
    # every layer has a facility here: clinic, nursing home, monument
    fac = table[table["check"] == "facilities: count vs hand-written tag filter"]
    assert dict(zip(fac["layer"], fac["value"], strict=True)) == {
        "elderly_care": 1,
        "community_services": 1,
        "heritage": 1,
    }
    # the clipped school is named as dropped, with the reason
    dropped = pd.read_csv(out / "facilities.csv")
    row = dropped[dropped["id"] == "way/3000"].iloc[0]
    assert row["geoapp"] == "dropped" and "clipped: 2 of its 5 nodes" in row["why"]
    # distances were compared on real numbers: the grid's points are reached
    dist = pd.read_csv(out / "distances.csv")
    assert np.isfinite(dist["networkx_m"]).sum() >= 20
    text = capsys.readouterr().out
    assert "What the data cannot tell" in text
    md = (out / "checks.md").read_text()
    assert "| FAIL |" not in md and md.count(" | pass | ") == len(table) + 1  # + the header


@pytest.mark.slow
def test_test_pbf_checks_pass(tmp_path):
    code, table, _ = _run(tmp_path, Path(pyrosm.get_data("test_pbf")))
    assert code == 0, table.loc[~table["pass"]].to_string()
    assert (table["check"] == "distances: sample, max |geoapp - networkx| (m)").any()


@pytest.mark.slow
def test_a_wrong_distance_is_caught(tmp_path, monkeypatch):
    real = coverage.compute_access

    def shifted(*args, **kwargs):
        out = real(*args, **kwargs)
        out["dist_m"] = out["dist_m"] + 50.0  # every distance 50 m too long
        return out

    monkeypatch.setattr(coverage, "compute_access", shifted)
    code, table, out = _run(tmp_path, _grid_extract(tmp_path / "grid.osm.pbf"))
    assert code == 1
    bad = table[~table["pass"]]
    assert (bad["check"] == "distances: sample, max |geoapp - networkx| (m)").any()
    d = table[table["check"] == "distances: sample, max |geoapp - networkx| (m)"]
    assert ((d["value"].astype(float) > 49) & (d["value"].astype(float) < 53)).all()
    # the summary is consistent with the (wrong) access table: it is not what failed
    s = table[table["check"].str.startswith("summary: shares")]
    assert s["pass"].all()


@pytest.mark.slow
def test_a_wrong_engine_is_caught_on_random_spots(tmp_path, monkeypatch):
    real = network.nearest

    def shorter(graph, dsnap, fsnap, limit_m):
        d, f = real(graph, dsnap, fsnap, limit_m)
        return np.where(np.isfinite(d), d * 0.9, d), f

    monkeypatch.setattr(network, "nearest", shorter)
    monkeypatch.setattr(routing, "nearest", shorter)  # what network.nearest_facility calls
    code, table, _ = _run(tmp_path, _grid_extract(tmp_path / "grid.osm.pbf"))
    assert code == 1
    spots = table[table["check"].str.startswith("distances: random spots")]
    assert len(spots) and not spots["pass"].any()


@pytest.mark.slow
def test_a_dropped_facility_is_caught(tmp_path, monkeypatch):
    real = layers.select_features

    def drop_first(features, layer):
        return real(features, layer).iloc[1:].reset_index(drop=True)

    monkeypatch.setattr(workflow, "select_features", drop_first)
    code, table, out = _run(tmp_path, _grid_extract(tmp_path / "grid.osm.pbf"))
    assert code == 1
    fac = table[table["check"] == "facilities: count vs hand-written tag filter"]
    assert not fac["pass"].any()
    named = pd.read_csv(out / "facilities.csv")
    assert {"node/801", "node/802", "node/803"} <= set(
        named.loc[named["why"] == "UNEXPLAINED", "id"]
    )


def test_walking_filter_and_tag_rules_by_hand():
    mod = check_reference
    assert mod.walkable({"highway": "footway"})
    assert not mod.walkable({"highway": "motorway"})
    assert not mod.walkable({"highway": "service", "service": "private"})
    assert not mod.walkable({"highway": "residential", "access": "private"})
    assert mod.walkable({"highway": "residential", "access": "no", "foot": "yes"})
    assert not mod.walkable({"highway": "primary", "sidewalk": "separate"})
    match = ({"amenity": ["school", "clinic"]}, {"healthcare": True})
    assert mod.layer_matches({"amenity": "school;kindergarten"}, match)
    assert mod.layer_matches({"healthcare": "doctor"}, match)
    assert not mod.layer_matches({"healthcare": "no"}, match)
    assert not mod.layer_matches({"amenity": "bank"}, match)


def test_bad_input_is_exit_2_with_one_line(tmp_path, capsys):
    mod = _script()
    missing = tmp_path / "nowhere.osm.pbf"
    assert mod.run(mod.main, [str(missing), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "nowhere.osm.pbf: file not found" in err and "Traceback" not in err
    assert mod.run(mod.main, [str(missing), "--sample", "0"]) == 2


def test_the_references_import_nothing_from_geoapp():
    import ast

    tree = ast.parse((TOOLS / "check_reference.py").read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "osmium" in imported and "networkx" in imported
    assert not {m for m in imported if m.split(".")[0] == "geoapp"}
