"""The front door (``import geoapp``) and the one region recipe (``geoapp.RegionSpec``).

- ``import geoapp`` imports nothing heavy; the face's names and every submodule are
  attributes on first use (PEP 562), and a face name never hides a submodule.
- The doctests of the face's functions run here, on the demo: they check computed
  figures (the share of residents 60+ within 900 m, the sites' added residents, the
  supply ratio), each against a second count made from the result's own rows.
- ``RegionSpec`` round-trips through JSON, names every bad key, reads the older
  ``region_args`` of reports, and is what the CLI options become.
"""

from __future__ import annotations

import argparse
import doctest
import inspect
import json
import subprocess
import sys

import pytest

import geoapp
from geoapp import assess, cli_args, inputs, spec, workflow
from geoapp.errors import InputError
from geoapp.spec import FacilityTable, RegionSpec, parse_facility_spec


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter and return its stdout."""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return res.stdout.strip()


# ------------------------------------------------------------------ import geoapp


def test_import_geoapp_is_cheap_and_lazy():
    out = _python(
        "import sys, geoapp\n"
        "heavy = ('geopandas', 'shapely', 'pandas', 'numpy', 'geoapp.workflow')\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "geoapp.RegionSpec\n"  # the recipe is light too
        "print([m for m in heavy if m in sys.modules])\n"
    )
    assert out.splitlines() == ["[]", "[]"]


@pytest.mark.slow
def test_submodules_and_face_names_are_attributes_after_import_geoapp():
    out = _python(
        "import geoapp\n"
        "print(type(geoapp.workflow).__name__, geoapp.workflow.__name__)\n"
        "print(geoapp.analyse is geoapp.workflow.analyse)\n"
        "print(geoapp.load_region is geoapp.workflow.load_region)\n"
        "print(geoapp.report is geoapp.assess.report, geoapp.supply is geoapp.workflow.supply)\n"
        "print(issubclass(geoapp.InputError, geoapp.GeoappError))\n"
    )
    assert out.splitlines() == [
        "module geoapp.workflow",
        "True",
        "True",
        "True True",
        "True",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("first", ["face", "module"])
def test_a_face_function_never_hides_a_submodule(first):
    """``geoapp.supply``/``geoapp.report`` are functions; the modules are sfca/reporting."""
    face = "s = geoapp.supply; r = geoapp.report\n"
    modules = "from geoapp import sfca, reporting\n"
    out = _python(
        "import geoapp\n"
        + (face + modules if first == "face" else modules + face)
        + "print(callable(s), callable(r), sfca.compute_supply.__name__,"
        " reporting.write_report.__name__)\n"
        "print(callable(geoapp.supply), callable(geoapp.report))\n"
    )
    assert out.splitlines() == ["True True compute_supply write_report", "True True"]


def test_all_and_dir_list_the_face():
    face = {
        "load_region", "RegionSpec", "analyse", "compare", "site", "supply", "Scenario",
        "report", "write_bundle", "get_layer", "Region", "Demand", "LayerAnalysis",
        "SitingResult", "SupplyAnalysis", "GeoappError", "InputError", "OutputError",
    }  # fmt: skip
    assert face <= set(geoapp.__all__)
    listed = dir(geoapp)
    assert face <= set(listed) and {"workflow", "network", "spec"} <= set(listed)
    for name in geoapp.__all__:
        assert getattr(geoapp, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        geoapp.nothing_here  # noqa: B018


# ------------------------------------------------------------------ the doctests


def _doctest(obj) -> None:
    """Run the docstring examples of ``obj``; fail with the report of every failure."""
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(obj, module=inspect.getmodule(obj)) if t.examples]
    assert tests, f"{obj.__qualname__} has no doctest"
    lines: list[str] = []
    for test in tests:
        runner.run(test, out=lines.append)
    assert runner.failures == 0, "".join(lines)


@pytest.mark.parametrize(
    "obj", [spec, spec.RegionSpec, spec.parse_facility_spec], ids=lambda o: o.__name__
)
def test_region_recipe_doctests(obj):
    _doctest(obj)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["load_region", "analyse", "site", "supply", "report"], ids=str)
def test_face_doctests_run_on_the_demo(name):
    _doctest(getattr(geoapp, name))


# ------------------------------------------------------------------ RegionSpec


def test_spec_json_round_trip_and_defaults():
    s = RegionSpec(
        osm="city.osm.pbf",
        boundaries="districts.geojson",
        admin_level=8,
        census="census.csv",
        zones="density",
        population="pop.tif",
        facilities=["homes.csv:elderly_care:gcj02", ("c.csv", "community_services", "wgs84")],
        layer_files=["extra.toml"],
        timeout=60,
    )
    assert s.source == "osm" and s.region is None
    assert s.facilities == (
        FacilityTable("homes.csv", "elderly_care", "gcj02"),
        FacilityTable("c.csv", "community_services", "wgs84"),
    )
    assert s.timeout == 60.0 and isinstance(s.timeout, float)
    d = s.to_dict()
    assert d["facilities"] == [
        ["homes.csv", "elderly_care", "gcj02"],
        ["c.csv", "community_services", "wgs84"],
    ]
    assert "facility_max_street_m" not in d  # defaults are left out
    assert RegionSpec.from_json(s.to_json()) == s and RegionSpec.from_dict(d) == s
    assert json.loads(s.to_json()) == d
    # no source: the demo, written out
    assert RegionSpec() == RegionSpec(region="demo") and RegionSpec().to_dict() == {
        "region": "demo"
    }
    assert hash(s) == hash(RegionSpec.from_dict(d))  # frozen and hashable
    with pytest.raises(AttributeError):
        s.osm = "other.pbf"  # type: ignore[misc]
    # another source replaces the current one
    assert RegionSpec().replace(osm="x.pbf").to_dict() == {"osm": "x.pbf"}


def test_spec_validation_names_every_bad_key_in_one_error():
    with pytest.raises(InputError) as info:
        RegionSpec(
            region="atlantis",
            admin_level=0,
            timeout=float("nan"),
            facilities=["no-colons"],
            layer_files="one.toml",
        )
    problems = info.value.problems
    assert len(problems) == 5
    for key in ("region", "admin_level", "timeout", "facilities", "layer_files"):
        assert any(p.startswith(f"key '{key}'") for p in problems), key
    assert "--timeout SECONDS" in str(info.value)  # the CLI option is named too
    with pytest.raises(InputError, match="one source; this one sets region, osm"):
        RegionSpec(region="demo", osm="x.pbf")
    with pytest.raises(InputError, match="key 'flavour': unknown"):
        RegionSpec.from_dict({"osm": "x.pbf", "flavour": "salty"})
    with pytest.raises(InputError, match="JSON"):
        RegionSpec.from_json("{not json")


def test_facility_spec_parser_keeps_colons_in_the_path():
    assert parse_facility_spec(r"C:\data\homes.csv:elderly_care:bd09") == FacilityTable(
        r"C:\data\homes.csv", "elderly_care", "bd09"
    )
    assert str(FacilityTable("a.csv", "x", "wgs84")) == "a.csv:x:wgs84"
    with pytest.raises(InputError, match=r"--facilities 'homes.csv:x': use FILE:LAYER:COORDS"):
        parse_facility_spec("homes.csv:x")


def test_older_report_region_args_become_the_same_spec():
    old = {
        "region_args": {
            "osm": "/data/town.osm.pbf",
            "census": "beijing",
            "timeout": 180.0,
            "facility_tables": [["/data/homes.csv", "elderly_care", "wgs84"]],
        },
        "layer_files": ["/data/extra.toml"],
    }
    new = {
        "region": {
            "osm": "/data/town.osm.pbf",
            "census": "beijing",
            "facilities": [["/data/homes.csv", "elderly_care", "wgs84"]],
            "layer_files": ["/data/extra.toml"],
        }
    }
    assert assess.recorded_spec(old) == assess.recorded_spec(new)
    assert assess.recorded_spec({"region_args": {}}) == RegionSpec(region="demo")
    # the command that re-creates a report reads either form the same way
    assert (
        assess.report_command(old)
        == assess.report_command(new)
        == (
            "geoapp report --osm /data/town.osm.pbf --census beijing "
            "--facilities /data/homes.csv:elderly_care:wgs84 --layer-file /data/extra.toml "
            "--lang en --out DIR"
        )
    )


def _cli(argv: list[str]) -> argparse.Namespace:
    return cli_args.build_parser().parse_args(argv)


def test_cli_options_become_the_spec():
    args = _cli(
        ["coverage", "--osm", "t.osm.pbf", "--boundaries", "b.geojson", "--census", "c.csv",
         "--facilities", "h.csv:elderly_care:gcj02", "--facilities", "k.csv:kindergarten:wgs84",
         "--layer-file", "x.toml", "--admin-level", "8", "--layer", "elderly_care", "--out", "o"]
    )  # fmt: skip
    assert cli_args.region_spec_from_args(args) == RegionSpec(
        osm="t.osm.pbf",
        boundaries="b.geojson",
        census="c.csv",
        admin_level=8,
        facilities=[("h.csv", "elderly_care", "gcj02"), ("k.csv", "kindergarten", "wgs84")],
        layer_files=["x.toml"],
    )
    demo = cli_args.region_spec_from_args(_cli(["compare", "--out", "o"]))
    assert demo == RegionSpec(region="demo")
    with pytest.raises(InputError, match="--facilities 'bad': use FILE:LAYER:COORDS"):
        cli_args.region_spec_from_args(_cli(["compare", "--facilities", "bad", "--out", "o"]))


# ------------------------------------------------------------------ load_region(spec)


def test_load_region_takes_a_spec_and_remembers_it(tmp_path):
    s = RegionSpec(zones="density")
    region = workflow.load_region(s)
    assert region.synthetic and region.zone_method == "density"
    assert inputs.spec_of(region) == s
    assert inputs.spec_of(region.with_(name="changed")) is None  # only the loaded object
    # the older keywords of names and paths make the same recipe; frames make none
    assert inputs.spec_of(workflow.load_region("demo", zones="density")) == s
    assert inputs.spec_of(workflow.load_region("demo", census=region.census)) is None
    with pytest.raises(InputError, match=r"as a RegionSpec and as keywords \(census, timeout\)"):
        workflow.load_region(s, census="beijing", timeout=5)
    # base=: the spec's files on top of a region loaded already (the app's uploads)
    again = workflow.load_region(RegionSpec(zones="density"), base=region.with_(zone_method=None))
    assert again.zone_method == "density" and inputs.spec_of(again) is None


def test_front_door_resolves_region_and_layer_heads():
    region = workflow.load_region("demo")
    assert inputs.as_region(region) is region
    assert inputs.as_region("demo").name == region.name
    layer = inputs.as_layer("elderly_care", "demo")
    assert inputs.as_layer(layer) is layer and layer.target_m == 900.0
    with pytest.raises(InputError, match="'atlantis' is not a named region"):
        inputs.as_region("atlantis")
    with pytest.raises(InputError, match="Unknown layer 'nope'"):
        inputs.as_layer("nope", region)
    assert workflow.speed_kmh_of("elderly") == 3.6 and workflow.speed_kmh_of(" 4.5 ") == 4.5
    assert workflow.speed_kmh_of(None) is None
    with pytest.raises(InputError, match="speed 'brisk'"):
        workflow.speed_kmh_of("brisk")


@pytest.mark.slow
def test_a_report_of_the_older_form_still_verifies(tmp_path):
    """Reports written before RegionSpec record ``region_args`` + ``layer_files``."""
    from geoapp import reporting, verify

    out = tmp_path / "report"
    assess.build_report(out, RegionSpec(region="demo"), layers=["elderly_care"], pdf=False)
    record = json.loads((out / reporting.REPORT_JSON).read_text(encoding="utf-8"))
    assert record["params"]["region"] == {"region": "demo"}
    assert "region_args" not in record["params"] and "layer_files" not in record["params"]
    # rewrite it as an older report had it: other params, and no manifest of its files
    params = dict(record["params"])
    del params["region"]
    record["params"] = {"region_args": {}, "layer_files": [], **params}
    record["files"] = [f for f in record.get("files", []) if f != "manifest.json"]
    (out / reporting.REPORT_JSON).write_text(json.dumps(record), encoding="utf-8")
    (out / "manifest.json").unlink()
    result = verify.verify(out)
    assert result.ok, result.lines()
    assert any("older geoapp" in line for line in result.lines())
    assert result.checked > 0 and result.inputs_checked > 0
