"""geoapp diff / report --compare: a baseline against a scenario that adds one facility."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geoapp import assess, cli, lookback
from geoapp.catalog import get_layer
from geoapp.spec import RegionSpec

# elderly care: 15 minutes at the elderly pace (3.6 km/h), 900 m
TARGET_M = get_layer("elderly_care").target_m


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    base_dir = tmp_path_factory.mktemp("lookback")
    base = base_dir / "base"
    assess.build_report(base, "demo", layers=["elderly_care"], pdf=False)
    # one new elderly-care home on the home of an uncovered resident inside the largest gap
    gaps = gpd.read_file(base / "bundles" / "elderly_care" / "gaps.geojson")
    dem = gpd.read_file(base / "bundles" / "elderly_care" / "demand.geojson")
    gap = gaps.sort_values("rank").iloc[0].geometry
    inside = dem[dem.within(gap) & (dem["dist_m"].astype(float) > TARGET_M)]
    c = gap.centroid
    d2 = (inside.geometry.x - c.x) ** 2 + (inside.geometry.y - c.y) ** 2  # ranking only
    p = inside.geometry.iloc[int(np.argmin(d2.to_numpy()))]
    table = base_dir / "new_home.csv"
    table.write_text(
        f"name,lon,lat,amenity\nNew home,{p.x:.7f},{p.y:.7f},nursing_home\n", encoding="utf-8"
    )
    scen = base_dir / "scenario"
    assess.build_report(
        scen,
        RegionSpec(facilities=[(str(table), "elderly_care", "wgs84")]),
        layers=["elderly_care"],
        compare=base,
        pdf=False,
    )
    return base, scen, base_dir


def _new_facility_id(base, scen):
    a = gpd.read_file(base / "bundles" / "elderly_care" / "facilities.geojson")
    b = gpd.read_file(scen / "bundles" / "elderly_care" / "facilities.geojson")
    new = sorted(set(b["facility_id"]) - set(a["facility_id"]))
    assert len(new) == 1 and set(a["facility_id"]) <= set(b["facility_id"])
    return new[0]


@pytest.mark.slow
def test_diff_shows_the_new_facility_gain_and_nothing_else(pair):
    base, scen, _ = pair
    new_id = _new_facility_id(base, scen)
    diff = lookback.diff_reports(base, scen)
    d = diff.layers["elderly_care"]
    assert d.gained > 0 and d.lost == 0
    assert (d.points["change"] == "gained").all()
    assert (d.points["facility_after"] == new_id).all()
    assert (d.points["dist_after_m"] <= TARGET_M).all()
    assert (d.points["dist_before_m"] > TARGET_M).all()

    # every other demand point is exactly as before; the others only got closer to the new home
    a = gpd.read_file(base / "bundles" / "elderly_care" / "demand.geojson").set_index("demand_id")
    b = gpd.read_file(scen / "bundles" / "elderly_care" / "demand.geojson").set_index("demand_id")
    b = b.loc[a.index]
    da, db = a["dist_m"].astype(float).to_numpy(), b["dist_m"].astype(float).to_numpy()
    by_new = (b["facility_id"] == new_id).to_numpy()
    assert np.array_equal(da[~by_new], db[~by_new], equal_nan=True)  # NaN: beyond the search
    assert (db[by_new] <= da[by_new]).all()
    assert by_new.sum() >= len(d.points)

    ch = d.changes
    reg = ch[ch["level"] == "region"].iloc[0]
    assert reg["gained"] == pytest.approx(d.gained)
    assert reg["covered_after"] - reg["covered_before"] == pytest.approx(d.gained)
    touched = set(d.points["district"])
    for _, r in ch[ch["level"] == "district"].iterrows():
        if r["group"] in touched:
            assert r["change"] > 0
        else:
            assert r["change"] == 0 and r["gained"] == 0 and r["lost"] == 0


@pytest.mark.slow
def test_diff_cli_writes_changes_and_map(pair, tmp_path):
    base, scen, _ = pair
    out = tmp_path / "diff"
    assert cli.main(["diff", str(base), str(scen), "--out", str(out)]) == 0
    changes = pd.read_csv(out / "changes.csv", encoding="utf-8-sig")
    assert set(changes["level"]) == {"region", "district", "zone_type"}
    pts = gpd.read_file(out / "points_changed.geojson")
    assert len(pts) and set(pts["change"]) == {"gained"}
    assert (out / "map_elderly_care.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads((out / "diff.json").read_text(encoding="utf-8"))
    assert meta["layers"]["elderly_care"]["lost"] == 0


@pytest.mark.slow
def test_report_compare_adds_before_after(pair):
    base, scen, _ = pair
    html_text = (scen / "report.html").read_text(encoding="utf-8")
    section = html_text[html_text.index('id="compare"') : html_text.index('id="projection"')]
    assert "Not requested" not in section and "data:image/png;base64," in section
    assert str(base) in section


@pytest.mark.slow
def test_diff_of_a_report_with_itself_changes_nothing(pair):
    base, _, _ = pair
    d = lookback.diff_reports(base, base).layers["elderly_care"]
    assert d.gained == 0 and d.lost == 0 and (d.changes["change"].fillna(0) == 0).all()


def test_diff_refuses_a_folder_that_is_no_bundle(tmp_path):
    assert cli.main(["diff", str(tmp_path), str(tmp_path), "--out", str(tmp_path / "o")]) == 2
