"""No output names a folder of the machine that wrote it (issue 28, item 7).

:mod:`geoapp.paths` names shipped files by their place in the package and any other
file by its name; the end-to-end test runs ``coverage``, ``compare``, ``report``,
``site`` and ``supply`` on the demo and on a small OpenStreetMap extract, with every
input and ``--out`` given as an absolute path where the command records no recipe, and
searches every file written (metadata.json, report.json, summary.csv, GeoJSON members,
GeoPackage tables, HTML) for the test folder, the repository, site-packages and the
home folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyrosm
import pytest

from geoapp.cli import main
from geoapp.paths import PACKAGE, package_file, public_path, scrub_paths

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("path", "public"),
    [
        ("/srv/venv/lib/python3.11/site-packages/geoapp/data/layers/heritage.toml",
         "geoapp/data/layers/heritage.toml"),
        (str(PACKAGE / "data" / "profiles" / "china.toml"), "geoapp/data/profiles/china.toml"),
        (str(PACKAGE / "sources" / "demo.py"), "geoapp/sources/demo.py"),
        ("/home/ana/geoapp/notes.csv", "notes.csv"),  # a user's folder named geoapp
        ("/home/ana/data/homes.csv", "homes.csv"),
        ("data/homes.csv", "data/homes.csv"),  # relative: as given
        ("C:\\Users\\ana\\homes.xlsx", "homes.xlsx"),
        ("", ""),
        (None, ""),
    ],
)  # fmt: skip
def test_public_path(path, public):
    assert public_path(path) == public


def test_package_file_finds_the_shipped_file_again():
    shipped = PACKAGE / "data" / "layers" / "elderly_care.toml"
    assert package_file(public_path(shipped)) == shipped
    assert package_file("geoapp/data/layers/no_such.toml") is None
    assert package_file("homes.csv") is None


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("/tmp/x/homes.csv: 4 facilities lie outside", "homes.csv: 4 facilities lie outside"),
        ("osm-file:/data/city/city.osm.pbf", "osm-file:city.osm.pbf"),
        ("read (/root/.cache/geoapp/regions/ab12) twice", "read (ab12) twice"),
        ("© OpenStreetMap https://www.openstreetmap.org/copyright", None),  # a URL stays
        ("3.6 km/h, 60+/total, node/123", None),  # words with slashes stay
        ("lon 2.2000..2.5000", None),
    ],
)
def test_scrub_paths_in_text(text, scrubbed):
    assert scrub_paths(text) == (text if scrubbed is None else scrubbed)


def test_scrub_paths_walks_metadata_and_keeps_keys_and_numbers():
    meta = {
        "layer_file": "/opt/app/geoapp/data/layers/heritage.toml",
        "warnings": ["/home/u/a.csv: row rejected", "plain"],
        "radii_m": [300, 500],
        "nested": {"file": "/home/u/p.toml", "n": 3, "ok": True},
    }
    assert scrub_paths(meta) == {
        "layer_file": "geoapp/data/layers/heritage.toml",
        "warnings": ["a.csv: row rejected", "plain"],
        "radii_m": [300, 500],
        "nested": {"file": "p.toml", "n": 3, "ok": True},
    }


# ------------------------------------------------------------------ end to end


def _forbidden(tmp_path: Path) -> list[str]:
    return [str(tmp_path), str(ROOT), "site-packages", str(Path.home()) + "/"]


def _leaks(folder: Path, forbidden: list[str]) -> list[str]:
    found = []
    for f in sorted(folder.rglob("*")):
        if not f.is_file() or f.suffix in (".png", ".pdf"):  # pictures; the PDF: see HTML
            continue
        data = f.read_bytes()
        found += [f"{f.relative_to(folder)}: {s}" for s in forbidden if s.encode() in data]
    return found


@pytest.mark.slow
def test_no_output_holds_an_absolute_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    osm = tmp_path / "in" / "city.osm.pbf"
    osm.parent.mkdir()
    shutil.copy(pyrosm.get_data("test_pbf"), osm)
    homes = tmp_path / "in" / "homes.csv"
    pd.DataFrame({"name": ["A", "B"], "lon": [116.05, 130.0], "lat": [39.95, 39.95]}).to_csv(
        homes, index=False
    )  # B lies outside the demo: its warning names the file
    out = tmp_path / "out"
    fac = ["--facilities", f"{homes}:elderly_care:wgs84"]
    runs = {
        "demo-coverage": ["coverage", "--region", "demo", "--layer", "elderly_care", *fac],
        "demo-compare": ["compare", "--region", "demo", "--mode", "euclidean", *fac],
        "demo-report": ["report", "--region", "demo", "--layer", "elderly_care", "--mode",
                        "euclidean", "--no-pdf", *fac],
        "demo-site": ["site", "--region", "demo", "--layer", "elderly_care", "--new", "2",
                      "--time-limit", "5", *fac],
        "demo-supply": ["supply", "--region", "demo", "--layer", "elderly_care", "--mode",
                        "euclidean", *fac],
        "osm-coverage": ["coverage", "--osm", str(osm), "--layer", "community_services"],
        "osm-compare": ["compare", "--osm", str(osm), "--mode", "euclidean"],
        "osm-report": ["report", "--osm", str(osm), "--layer", "community_services",
                       "--no-pdf"],
        "osm-site": ["site", "--osm", str(osm), "--layer", "community_services", "--new", "1",
                     "--time-limit", "5"],
        "osm-supply": ["supply", "--osm", str(osm), "--layer", "elderly_care", "--mode",
                       "euclidean"],
    }  # fmt: skip
    for name, argv in runs.items():
        assert main([*argv, "-q", "--out", str(out / name)]) == 0, (name, capsys.readouterr().err)
    written = {p.parent.name for p in out.rglob("metadata.json")} | {
        p.parent.name for p in out.rglob("report.json")
    }
    assert {n for n in runs if "compare" not in n} <= written
    meta = json.loads((out / "demo-coverage" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["layer_file"] == "geoapp/data/layers/elderly_care.toml"
    assert any(w.startswith("homes.csv: ") for w in meta["warnings"]), meta["warnings"]
    assert _leaks(out, _forbidden(tmp_path)) == []
    record = json.loads((out / "osm-report" / "report.json").read_text(encoding="utf-8"))
    assert record["params"]["region"] == {"osm": "../in/city.osm.pbf"}  # from out/
    assert record["params"]["out"] == "osm-report"
    # the recorded files are found again from the report, whatever the working folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for name in ("demo-report", "osm-report"):
        assert main(["verify", str(out / name), "-q"]) == 0, capsys.readouterr()


def test_recorded_paths_are_found_again(tmp_path, monkeypatch):
    from geoapp.assess import recorded_params, recorded_path, resolve_params, resolve_recorded

    data = tmp_path / "data" / "homes.csv"
    data.parent.mkdir()
    data.write_text("x", encoding="utf-8")
    out = tmp_path / "reports" / "r1"
    out.mkdir(parents=True)
    assert recorded_path(data, out) == "../data/homes.csv"  # from reports/
    shipped = PACKAGE / "data" / "layers" / "heritage.toml"
    assert recorded_path(shipped, out) == "geoapp/data/layers/heritage.toml"
    monkeypatch.chdir(tmp_path / "data")  # another working folder
    assert resolve_recorded("../data/homes.csv", out).resolve() == data.resolve()
    assert resolve_recorded("geoapp/data/layers/heritage.toml", out) == shipped
    params = {
        "region": {"osm": str(data), "facilities": [[str(data), "elderly_care", "gcj02"]],
                   "boundaries": "beijing"},
        "standard": "cn-gb50180-2018",  # an id, not a file: as typed
        "projection": str(data),
    }  # fmt: skip
    rec = recorded_params(params, out)
    assert rec["region"] == {
        "osm": "../data/homes.csv",
        "facilities": [["../data/homes.csv", "elderly_care", "gcj02"]],
        "boundaries": "beijing",
    }
    assert rec["standard"] == "cn-gb50180-2018" and rec["projection"] == "../data/homes.csv"
    back = resolve_params(rec, out)
    assert Path(back["region"]["osm"]).resolve() == data.resolve()
    assert Path(back["projection"]).resolve() == data.resolve()
    assert back["region"]["boundaries"] == "beijing"
