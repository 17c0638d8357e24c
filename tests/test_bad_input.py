"""The bad-input battery: every case is one clear message, exit code 2, no traceback, nothing lost.

Each case builds its bad input in the test's folder, runs the command line
(:func:`geoapp.cli.main`, as ``geoapp`` does) against an ``--out`` that already holds a
finished bundle, and checks:

* the exit code is 2 (argparse's own errors included: they exit 2 too);
* stderr names the file, the option or key, and the value at fault, and says what
  to give instead (the words each case lists);
* no ``Traceback`` anywhere;
* nothing lost: the bundle in ``--out`` is byte for byte as before and no other file
  appeared beside it.

The cases are issue 28's unclear messages (#6 unclosed ring, #7 a datum that is not
one, #8 the wrong GeoPackage layer or Excel sheet, #11 out-of-range values) and the
neighbouring numeric options; the other bad inputs (a file as ``--out``, read-only and
full disks, bad radii, markup in names) are in tests/test_cli_errors.py.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geoapp.cli import main
from geoapp.errors import GeoappError, InputError
from geoapp.sources.demo import demo_region

FAST = ["-q", "--no-map", "--no-catchments", "--mode", "euclidean"]


def run(capsys, argv: list[str]) -> tuple[int, str]:
    """Run the CLI; return its exit code and stderr (argparse's exits included)."""
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refuses a value before any command runs
        code = int(exc.code or 0)
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err and "Traceback" not in cap.out
    return code, cap.err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def finished_bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("done") / "bundle"
    argv = ["coverage", "--region", "demo", "--layer", "elderly_care", *FAST, "--out", str(out)]
    assert main(argv) == 0
    return out


# ------------------------------------------------------------------ the bad inputs
# Each maker writes its files into ``d`` and returns the command's arguments before
# ``--out``.


def _districts(d: Path) -> gpd.GeoDataFrame:
    return demo_region().boundaries[["district", "district_code", "geometry"]]


def unclosed_ring(d: Path) -> list[str]:
    (d / "unclosed.geojson").write_text(
        json.dumps({
            "type": "FeatureCollection",
            "features": [{
                "type": "Feature",
                "properties": {"district": "A"},
                "geometry": {"type": "Polygon", "coordinates": [
                    [[116.0, 39.9], [116.1, 39.9], [116.1, 40.0], [116.0, 40.0]]
                ]},  # four corners, the first not repeated: the ring is open
            }],
        }),
        encoding="utf-8",
    )  # fmt: skip
    return ["coverage", "--region", "demo", "--boundaries", str(d / "unclosed.geojson"),
            "--layer", "elderly_care", *FAST]  # fmt: skip


def datum_suffix(d: Path) -> list[str]:
    _districts(d).to_file(d / "d.geojson", driver="GeoJSON")
    return ["coverage", "--region", "demo", "--boundaries", f"{d / 'd.geojson'}:foo",
            "--layer", "elderly_care", *FAST]  # fmt: skip


def gpkg_points_first(d: Path) -> list[str]:
    path = d / "admin.gpkg"
    pois = gpd.GeoDataFrame({"name": ["kiosk"]}, geometry=[Point(116.0, 39.95)], crs=4326)
    pois.to_file(path, layer="pois", driver="GPKG")
    _districts(d).to_file(path, layer="districts", driver="GPKG")
    return ["coverage", "--region", "demo", "--boundaries", str(path), "--layer",
            "elderly_care", *FAST]  # fmt: skip


def excel_data_on_sheet2(d: Path) -> list[str]:
    path = d / "homes.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame({"note": ["read me first"]}).to_excel(xw, sheet_name="readme", index=False)
        pd.DataFrame({"name": ["A"], "lon": [116.0], "lat": [39.95]}).to_excel(
            xw, sheet_name="Sheet2", index=False
        )
    return ["coverage", "--region", "demo", "--facilities", f"{path}:elderly_care:wgs84",
            "--layer", "elderly_care", *FAST]  # fmt: skip


def facilities_datum(d: Path) -> list[str]:
    pd.DataFrame({"name": ["A"], "lon": [116.0], "lat": [39.95]}).to_csv(d / "h.csv", index=False)
    return ["coverage", "--region", "demo", "--facilities", f"{d / 'h.csv'}:elderly_care:foo",
            "--layer", "elderly_care", *FAST]  # fmt: skip


def unknown_headers(d: Path) -> list[str]:
    pd.DataFrame({"name": ["A"], "east": [116.0], "north": [39.95]}).to_csv(
        d / "t.csv", index=False
    )
    return ["coverage", "--region", "demo", "--facilities", f"{d / 't.csv'}:elderly_care:wgs84",
            "--layer", "elderly_care", *FAST]  # fmt: skip


def all_rows_swapped(d: Path) -> list[str]:
    pd.DataFrame({"name": ["A", "B"], "lon": [39.95, 39.96], "lat": [116.0, 116.1]}).to_csv(
        d / "sw.csv", index=False
    )
    return ["coverage", "--region", "demo", "--facilities", f"{d / 'sw.csv'}:elderly_care:wgs84",
            "--layer", "elderly_care", *FAST]  # fmt: skip


def site_option(option: str, value: str) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        argv = ["site", "--region", "demo", "--layer", "elderly_care", "--new", "2", "-q"]
        if option == "--new":
            argv[argv.index("--new") + 1] = value
        else:
            argv += [option, value]
        return argv

    return make


def coverage_option(option: str, value: str) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        return ["coverage", "--region", "demo", "--layer", "elderly_care", option, value, *FAST]

    return make


def year_without_projection(d: Path) -> list[str]:
    return ["report", "--region", "demo", "--year", "2035", "--no-pdf", "-q"]


def projection_overflow(d: Path) -> list[str]:
    (d / "p.csv").write_text("district,year,factor_60plus\n*,2035,1e308\n", encoding="utf-8")
    return ["report", "--region", "demo", "--projection", str(d / "p.csv"), "--layer",
            "elderly_care", "--no-pdf", "-q", "--mode", "euclidean"]  # fmt: skip


def layer_minutes(d: Path) -> list[str]:
    (d / "m.toml").write_text(
        'id = "pharm"\nlabel = { en = "Pharmacies", zh = "药店" }\npopulation = "total"\n'
        'minutes = [0, 10]\ntarget_min = 10\n[[match]]\namenity = "pharmacy"\n',
        encoding="utf-8",
    )
    return ["coverage", "--region", "demo", "--layer", "pharm", "--layer-file", str(d / "m.toml"),
            *FAST]  # fmt: skip


def supply_reach(value: str) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        return ["supply", "--region", "demo", "--layer", "elderly_care", "--reach", value, "-q"]

    return make


#: (id, maker, words stderr must hold: the file/option/value and the remedy)
CASES = [
    ("unclosed-ring", unclosed_ring, ["unclosed.geojson", "not closed", "Fix Geometries"]),
    ("datum-suffix", datum_suffix, ["'foo' is not a datum", "wgs84, gcj02, bd09", "d.geojson:gcj02"]),
    ("gpkg-points-first", gpkg_points_first, ["admin.gpkg", "Point", "admin.gpkg#districts", "pois, districts"]),
    ("excel-sheet2", excel_data_on_sheet2, ["homes.xlsx", "readme, Sheet2", "homes.xlsx#Sheet2"]),
    ("facilities-datum", facilities_datum, ["h.csv", "'foo'", "wgs84, gcj02, bd09"]),
    ("unknown-headers", unknown_headers, ["t.csv", "east, north", "Rename the coordinate columns"]),
    ("all-rows-swapped", all_rows_swapped, ["sw.csv", "columns swapped?", "no row has usable"]),
    ("time-limit--1", site_option("--time-limit", "-1"), ["--time-limit", "-1", "> 0"]),
    ("time-limit-0", site_option("--time-limit", "0"), ["--time-limit", "0 must", "> 0"]),
    ("time-limit-nan", site_option("--time-limit", "nan"), ["--time-limit", "nan", "> 0"]),
    ("time-limit-text", site_option("--time-limit", "soon"), ["--time-limit", "'soon' is not a number"]),
    ("new-0", site_option("--new", "0"), ["--new", "0 must be a whole number >= 1"]),
    ("speed-0", coverage_option("--speed", "0"), ["--speed", "0.0 km/h", "0.5 to 30"]),
    ("speed-nan", coverage_option("--speed", "nan"), ["--speed", "nan km/h", "0.5 to 30"]),
    ("share-60plus", coverage_option("--share-60plus", "1.5"), ["--share-60plus", "1.5", "0 to 1"]),
    ("admin-level", coverage_option("--admin-level", "0"), ["--admin-level", "0", "1 to 12"]),
    ("timeout-nan", coverage_option("--timeout", "nan"), ["--timeout SECONDS", "nan", "positive"]),
    ("reach--5", supply_reach("-5"), ["--reach", "-5", "> 0"]),
    ("reach-huge", supply_reach("1e9"), ["--reach", "50,000 m"]),
    ("year-no-projection", year_without_projection, ["--year 2035", "--projection"]),
    ("projection-1e308", projection_overflow, ["p.csv", "row 2", "factor_60plus", "0 to 100"]),
    ("layer-minutes-0", layer_minutes, ["m.toml", "key 'minutes'", "[0, 10]", "positive"]),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("maker", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_message_and_nothing_lost(
    tmp_path, capsys, finished_bundle, maker, words
):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    out = tmp_path / "out"
    shutil.copytree(finished_bundle, out)
    if maker is year_without_projection or maker is projection_overflow:
        out = tmp_path / "report"  # a report folder: new, and still absent afterwards
    before = snapshot(tmp_path / "out")
    code, err = run(capsys, [*maker(inputs), "--out", str(out)])
    assert code == 2, err
    for word in words:
        assert word in err, (word, err)
    assert snapshot(tmp_path / "out") == before  # the finished bundle is as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs", "out"]  # nothing new


# ------------------------------------------------------------------ the same in Python


def test_scenario_add_refuses_a_negative_capacity():
    from geoapp.scenario import Scenario

    region = demo_region()
    sc = Scenario.build(region, "elderly_care", mode="euclidean")
    for bad in (-5, float("nan"), float("inf"), "many", True):
        with pytest.raises(InputError) as err:
            sc.add(116.0, 39.95, capacity=bad)
        assert isinstance(err.value, ValueError) and isinstance(err.value, GeoappError)
        assert "capacity=" in str(err.value) and ">= 0" in str(err.value)
    assert sc.add(116.0, 39.95, capacity=0).facilities["capacity"].iloc[-1] == 0
    assert len(sc.add(116.0, 39.95).facilities) == len(sc.facilities) + 1  # unknown: None


@pytest.mark.parametrize("value", [-1, 0, float("nan"), float("inf"), "soon"])
def test_siting_time_limit_is_checked(value):
    import numpy as np
    from scipy.sparse import csr_array

    from geoapp.siting import maximise_coverage

    cover = csr_array(np.eye(3))
    with pytest.raises(InputError, match="--time-limit"):
        maximise_coverage(cover, np.ones(3), 1, time_limit_s=value)
    assert maximise_coverage(cover, np.array([1.0, 5.0, 2.0]), 1, time_limit_s=5).objective == 5


def test_site_checks_the_time_limit_before_the_work():
    from geoapp.siting import site

    with pytest.raises(InputError, match="--time-limit"):
        site(None, None, 1, demand=None, graph=None, time_limit_s=float("nan"))  # type: ignore[arg-type]


def test_year_check_needs_no_region(tmp_path, monkeypatch, capsys):
    """--year without --projection is refused before anything is loaded or written."""
    from geoapp import workflow

    def boom(*a, **k):  # pragma: no cover - reached only if the check came too late
        raise AssertionError("the region was loaded")

    monkeypatch.setattr(workflow, "load_region", boom)
    out = tmp_path / "r"
    code, err = run(capsys, ["report", "--region", "demo", "--year", "2035", "--out", str(out)])
    assert code == 2 and "--projection" in err
    assert not out.exists()


def test_bbox_fixture_is_where_the_demo_is():
    """The makers' coordinates (116.0, 39.95) lie inside the demo (else cases test nothing)."""
    w, s, e, n = demo_region().edges.total_bounds
    assert box(w, s, e, n).contains(Point(116.0, 39.95))
