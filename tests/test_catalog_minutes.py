"""Life circles in minutes: reach = minutes x walking speed, so the speed changes coverage.

The street and demand are those of tests/test_coverage.py (built in tests/fixtures.py):
one facility at B, network distances d1 105 m, d2 65 m, d3 205 m, d4 unreachable;
pop 100 / 50 / 30 / 20 (200 in all), aged 60+ 20 / 10 / 30 / 5 (65).

A layer of 1, 2 and 4 minutes:

* at 3.6 km/h (60 m a minute) the reach is 60 / 120 / 240 m: nobody within 1 minute,
  d1 + d2 (150 residents) within 2, d1 + d2 + d3 (180) within 4;
* at 6 km/h (100 m a minute) the reach is 100 / 200 / 400 m: d2 (50) within 1 minute,
  d1 + d2 (150) within 2, d1 + d2 + d3 (180) within 4.
"""

from __future__ import annotations

import json
import textwrap

import geopandas as gpd
import numpy as np
import pytest
from fixtures import CRS, P, line_demand, line_street
from hypothesis import given, settings
from hypothesis import strategies as st

from geoapp import catalog, coverage
from geoapp.errors import InputError, LayerFileError


@pytest.fixture(scope="module")
def graph():
    return line_street()


@pytest.fixture()
def demand():
    return line_demand()


@pytest.fixture()
def facilities():
    return gpd.GeoDataFrame({"facility_id": ["f1"]}, geometry=[P(100, 10)], crs=CRS)


def write_layer(tmp_path, body: str, name: str = "walk.toml"):
    path = tmp_path / name
    head = """
        id = "walk"
        label = { en = "Walk", zh = "步行" }
        population = "total"
        [[match]]
        amenity = "x"
    """
    # keys must come before the [[match]] table
    path.write_text(textwrap.dedent(body) + textwrap.dedent(head), encoding="utf-8")
    return path


def region_shares(access, layer) -> dict[str, float]:
    s = coverage.coverage_summary(access, layer)
    row = s[s["level"] == "region"].iloc[0]
    return {lab: float(row[f"covered_pop_{lab}"]) for lab in layer.labels}


def test_minute_layer_parses_and_names_columns_by_minutes(tmp_path):
    layer = catalog.parse_layer_file(
        write_layer(tmp_path, "minutes = [1, 2, 4]\ntarget_min = 4\nspeed_kmh = 3.6\n")
    )
    assert layer.minute_based and layer.minutes == (1.0, 2.0, 4.0)
    assert layer.labels == ("1min", "2min", "4min")
    assert layer.radii_m == pytest.approx((60.0, 120.0, 240.0))
    assert layer.target_m == pytest.approx(240.0)
    fast = layer.at_speed(6.0)
    assert fast.radii_m == pytest.approx((100.0, 200.0, 400.0))
    assert fast.target_m == pytest.approx(400.0) and fast.speed_kmh == 6.0
    assert fast.labels == layer.labels  # the columns keep their names
    assert layer.at_speed(None) == layer


def test_speed_changes_coverage_of_a_minute_layer(tmp_path, graph, demand, facilities):
    layer = catalog.parse_layer_file(
        write_layer(tmp_path, "minutes = [1, 2, 4]\ntarget_min = 4\nspeed_kmh = 3.6\n")
    )
    covered = {}
    for speed in (3.6, 6.0):
        lay = layer.at_speed(speed)
        access = coverage.compute_access(
            demand, facilities, graph=graph, max_dist_m=lay.max_radius_m * 3, speed_kmh=speed
        )
        covered[speed] = region_shares(access, lay)
    assert covered[3.6] == pytest.approx({"1min": 0.0, "2min": 150.0, "4min": 180.0})
    assert covered[6.0] == pytest.approx({"1min": 50.0, "2min": 150.0, "4min": 180.0})


def test_speed_does_not_change_a_metre_layer(tmp_path, graph, demand, facilities):
    layer = catalog.parse_layer_file(
        write_layer(tmp_path, "radii_m = [100, 300]\ntarget_m = 300\n")
    )
    assert not layer.minute_based and layer.labels == ("100", "300")
    slow, fast = layer.at_speed(3.6), layer.at_speed(6.0)
    assert slow.radii_m == fast.radii_m == (100.0, 300.0)
    access = coverage.compute_access(demand, facilities, graph=graph, max_dist_m=900.0)
    assert region_shares(access, slow) == region_shares(access, fast) == {"100": 50, "300": 180}


@settings(max_examples=40, deadline=None)
@given(
    minutes=st.lists(st.integers(1, 30), min_size=1, max_size=4, unique=True).map(sorted),
    s1=st.floats(0.5, 30.0),
    s2=st.floats(0.5, 30.0),
)
def test_reach_is_minutes_times_speed_and_grows_with_speed(minutes, s1, s2):
    layer = catalog.Layer(
        id="x",
        label={"en": "x"},
        population="total",
        radii_m=(),
        target_m=0.0,
        match=(),
        minutes=tuple(float(m) for m in minutes),
        target_min=float(minutes[-1]),
    )
    a, b = layer.at_speed(s1), layer.at_speed(s2)
    assert a.radii_m == pytest.approx(tuple(m * s1 * 1000 / 60 for m in minutes))
    if s1 <= s2:
        assert all(x <= y for x, y in zip(a.radii_m, b.radii_m, strict=True))


@pytest.mark.parametrize(
    ("body", "key", "what"),
    [
        ("minutes = [5, 10]\ntarget_min = 10\nradii_m = [300]\n", "minutes", "not both"),
        ("minutes = [5, 10]\n", "target_min", "missing"),
        ("minutes = [10, 5]\ntarget_min = 10\n", "minutes", "ascending"),
        ("minutes = [5, -1]\ntarget_min = 10\n", "minutes", "positive"),
        ("minutes = [5]\ntarget_min = 5\nspeed_kmh = 90\n", "speed_kmh", "0.5 to 30"),
        ("minutes = [5]\ntarget_min = 5\nspeed_kmh = true\n", "speed_kmh", "number"),
        ("minutes = [5, 6000]\ntarget_min = 5\n", "minutes", "50 km"),
        ("target_m = 300\n", "radii_m", "minutes and target_min"),
    ],
)
def test_bad_minute_layers_name_the_key(tmp_path, body, key, what):
    with pytest.raises(LayerFileError) as exc:
        catalog.parse_layer_file(write_layer(tmp_path, body))
    text = str(exc.value)
    assert f"key '{key}'" in text and what in text and "walk.toml" in text


@pytest.mark.parametrize("speed", [0.0, -3.0, float("nan"), 100.0])
def test_implausible_run_speed_is_refused(speed):
    layer = catalog.get_layer("elderly_care")
    with pytest.raises(InputError, match="km/h"):
        layer.at_speed(speed)


def test_shipped_layers_choose_minutes_or_metres():
    cat = catalog.load_catalog()
    ec, cs, her = cat["elderly_care"], cat["community_services"], cat["heritage"]
    # elderly care: 5/10/15 minutes at the elderly pace (60 m a minute)
    assert ec.minutes == (5.0, 10.0, 15.0) and ec.walk_speed_kmh == catalog.ELDERLY_SPEED_KMH
    assert ec.radii_m == pytest.approx((300.0, 600.0, 900.0)) and ec.labels[-1] == "15min"
    # community services: 15 minutes is GB 50180's upper 1,000 m at 4 km/h
    assert cs.minutes == (5.0, 10.0, 15.0) and cs.target_m == pytest.approx(1000.0)
    # heritage stays in metres
    assert not her.minute_based and her.radii_m == (300.0, 500.0, 1000.0)


@pytest.fixture(scope="module")
def demo():
    from geoapp import workflow

    region = workflow.load_region("demo")
    demand, graph = workflow.prepare(region)
    return region, demand, graph


@pytest.mark.slow
def test_workflow_speed_changes_elderly_coverage_on_the_demo(demo):
    from geoapp import workflow

    region, demand, graph = demo
    layer = catalog.get_layer("elderly_care")
    runs = {
        s: workflow.analyse_layer(
            region, layer, demand=demand, graph=graph, speed_kmh=s, with_catchments=False
        )
        for s in (3.6, 4.5)
    }
    for s, res in runs.items():
        assert res.meta["speed_kmh"] == s and res.meta["minutes"] == [5.0, 10.0, 15.0]
        assert res.meta["reach_m"]["15min"] == pytest.approx(15 * s * 1000 / 60)
        # the summary's covered 60+ equals a hand-written filter of the access table
        reach = 15 * s * 1000 / 60
        acc = res.access
        expect = acc.loc[acc["dist_m"] <= reach, "pop_60plus"].sum()
        row = res.summary[res.summary["level"] == "region"].iloc[0]
        assert row["covered_pop_60plus_15min"] == pytest.approx(expect)
        assert "share_pop_60plus_15min" in res.summary.columns
    slow = runs[3.6].summary.set_index(["level", "group"])["covered_pop_60plus_15min"]
    fast = runs[4.5].summary.set_index(["level", "group"])["covered_pop_60plus_15min"]
    assert (fast >= slow - 1e-9).all() and fast.sum() > slow.sum()
    # distances do not depend on the speed, only the reach (and the search bound) do
    d1, d2 = runs[3.6].access["dist_m"].to_numpy(), runs[4.5].access["dist_m"].to_numpy()
    both = np.isfinite(d1)
    assert both.any() and np.allclose(d1[both], d2[both])
    # default: the layer's own pace
    default = workflow.analyse_layer(
        region, layer, demand=demand, graph=graph, with_catchments=False
    )
    assert default.meta["speed_kmh"] == catalog.ELDERLY_SPEED_KMH


@pytest.mark.slow
def test_cli_speed_sets_the_reach_in_metadata(tmp_path, demo, capsys):
    from geoapp import cli

    out = tmp_path / "fast"
    rc = cli.main(
        [
            "coverage",
            "--region",
            "demo",
            "--layer",
            "elderly_care",
            "--speed",
            "adult",
            "--no-map",
            "--no-catchments",
            "-q",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["speed_kmh"] == 4.5
    assert meta["reach_m"] == {"5min": 375.0, "10min": 750.0, "15min": 1125.0}
    header = (out / "summary.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "share_pop_60plus_15min" in header and "share_pop_60plus_900" not in header
    printed = capsys.readouterr().out
    assert "15 min (1,125 m)" in printed


@pytest.mark.parametrize("bad", ["fast", "0", "99"])
def test_cli_bad_speed_exits_2(bad, capsys):
    from geoapp import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["coverage", "--region", "demo", "--layer", "elderly_care", "--speed", bad,
                  "--out", "x"])  # fmt: skip
    assert exc.value.code == 2
    assert "--speed" in capsys.readouterr().err
