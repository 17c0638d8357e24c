"""The region row of the heritage summary and of lookback's changes.csv carries the
region's name (as summary.csv does), not the word "region"."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geoapp import lookback
from geoapp.heritage import heritage_report


def test_the_heritage_summary_names_its_region_row():
    feats = gpd.GeoDataFrame(
        {
            "osm_id": ["node/1", "node/2", "node/3"],
            "name": ["塔", "寺", "碑"],
            "historic": ["monument", "temple", "memorial"],
            "heritage": ["2", "2", ""],
        },
        geometry=[Point(116.30, 40.00), Point(116.31, 40.00), Point(116.35, 40.00)],
        crs=4326,
    )
    districts = gpd.GeoDataFrame(
        {"district": ["西区", "东区"], "district_code": ["1", "2"], "zone_type": ["core", "rural"]},
        geometry=[box(116.29, 39.99, 116.33, 40.01), box(116.33, 39.99, 116.37, 40.01)],
        crs=4326,
    )
    rep = heritage_report(feats, districts, region_name="测试市")
    s = rep.summary
    reg = s[s["level"] == "region"]
    assert list(reg["group"]) == ["测试市"]
    assert "region" not in set(s["group"])
    # the region row still sums its districts: 2 designated sites, both in 西区; the
    # memorial (东区) is counted apart
    assert int(reg["n_sites"].iloc[0]) == 2 and int(reg["n_undesignated"].iloc[0]) == 1
    by_d = s[s["level"] == "district"].set_index("group")[["n_sites", "n_undesignated"]]
    assert by_d.to_dict("index") == {
        "东区": {"n_sites": 0, "n_undesignated": 1},
        "西区": {"n_sites": 2, "n_undesignated": 0},
    }
    assert (
        heritage_report(feats, districts).summary.query("level == 'region'")["group"].iloc[0]
        == "region"
    )  # the default, for a caller without a region


@pytest.mark.slow
def test_the_workflow_heritage_summary_is_named_after_the_loaded_region():
    from geoapp.workflow import heritage, load_region

    region = load_region("demo")
    s = heritage(region).summary
    assert list(s.loc[s["level"] == "region", "group"]) == [region.name]


def _bundle(folder, region: str, dist: list[float]) -> None:
    folder.mkdir()
    meta = {"layer": "elderly_care", "target_m": 900, "region": region}
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    gpd.GeoDataFrame(
        {
            "demand_id": ["a", "b", "c"],
            "dist_m": dist,
            "pop": [100.0, 100.0, 100.0],
            "pop_60plus": [10.0, 20.0, 30.0],
            "district": ["西区", "西区", "东区"],
            "zone_type": ["core", "core", "rural"],
        },
        geometry=[Point(116.30, 40.0), Point(116.31, 40.0), Point(116.35, 40.0)],
        crs=4326,
    ).to_file(folder / "demand.geojson", driver="GeoJSON")


def test_lookback_changes_name_the_region_row(tmp_path):
    _bundle(tmp_path / "old", "测试市", [500.0, 1200.0, 2000.0])
    _bundle(tmp_path / "new", "测试市", [500.0, 800.0, 2000.0])
    d = lookback.diff_bundles(tmp_path / "old", tmp_path / "new")
    ch = d.changes.set_index(["level", "group"])
    # b (20 aged 60+) gained: 10 of 60 covered before, 30 of 60 after
    reg = ch.loc[("region", "测试市")]
    assert reg["gained"] == pytest.approx(20.0)
    assert reg["share_before"] == pytest.approx(10 / 60)
    assert reg["share_after"] == pytest.approx(30 / 60)
    assert ch.loc[("district", "西区"), "gained"] == pytest.approx(20.0)
    assert "region" not in set(d.changes["group"])
    assert isinstance(d.changes, pd.DataFrame)
