"""The scenario map as a decision surface, and the Scenario page's suggestions.

Library (:mod:`geoapp.maps.scenario`): status changes and gained / lost cells on
hand-made points; on the demo region, the layers after adding a site (distance cells,
gaps, the added site's catchment, gained cells whose residents equal the scenario's own
before/after figures) and suggested sites drawn as rank badges. Page helpers
(:mod:`app_pages.scenario_map`): the translated suggestions table, the zoom-to target
and the progress bar with its estimate. The page (AppTest): zero change is neutral
before any edit; the suggestions table is translated in both languages.
"""

from __future__ import annotations

import math
import sys
import types
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from geoapp.maps import scenario as sm

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
WGS84 = "EPSG:4326"


# --------------------------------------------------------------------------- pure parts


def test_status_changes_by_hand():
    pts = [Point(10.0 + i * 0.01, 50.0) for i in range(5)]
    before = gpd.GeoDataFrame(
        {"dist_m": [100.0, 600.0, math.inf, np.nan, 500.0]}, geometry=pts, crs=WGS84
    )
    after = gpd.GeoDataFrame(
        {"dist_m": [600.0, 100.0, 400.0, 100.0, 500.0], "pop": [1.0, 2, 3, 4, 5]},
        geometry=pts,
        crs=WGS84,
    )
    out = sm.status_changes(before, after, 500.0)
    # 0 leaves the reach, 1-3 enter it (inf and NaN are beyond), 4 stays at exactly 500 m
    assert out["change"].tolist() == ["lost", "gained", "gained", "gained"]
    assert out["pop"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert out["dist_before_m"].iloc[0] == 100.0 and out["dist_after_m"].iloc[0] == 600.0
    with pytest.raises(ValueError, match="same demand points"):
        sm.status_changes(before.iloc[:2], after, 500.0)


def test_change_cells_by_hand():
    # A and B share one res-9 cell (1 m apart); C is 3.5 km east
    changes = gpd.GeoDataFrame(
        {
            "change": ["gained", "lost", "lost"],
            "pop": [100.0, 50.0, 20.0],
            "pop_60plus": [30.0, 10.0, 5.0],
        },
        geometry=[Point(10.0, 50.0), Point(10.00001, 50.0), Point(10.05, 50.0)],
        crs=WGS84,
    )
    cells = sm.change_cells(changes, res=9, demand_column="pop_60plus")
    assert len(cells) == 2 and cells.crs == WGS84
    first, second = cells.iloc[0], cells.iloc[1]  # the larger change first
    assert (first["gained_pop"], first["lost_pop"]) == (100.0, 50.0)
    assert (first["gained_pop_60plus"], first["lost_pop_60plus"]) == (30.0, 10.0)
    assert first["status"] == "gained" and first["n_points"] == 2
    assert second["status"] == "lost" and second["lost_pop"] == 20.0
    assert first.geometry.contains(Point(10.0, 50.0))
    assert sm.change_cells(changes.iloc[:0], res=9).empty


# --------------------------------------------------------------------------- demo region


@pytest.fixture(scope="module")
def demo():
    from geoapp import catalog, workflow
    from geoapp.scenario import Scenario
    from geoapp.sources.demo import demo_region

    region = demo_region()
    layer = catalog.get_layer("elderly_care")
    dem = workflow.prepare_demand(region)
    graph = workflow.get_graph(region)
    s0 = Scenario.build(
        region, layer, demand=dem, graph=graph, mode="network", speed_kmh=layer.walk_speed_kmh
    )
    acc = s0.access()
    far = acc[acc["dist_m"] > s0.layer.target_m]
    site = far.loc[far["pop_60plus"].idxmax()].geometry
    return s0, s0.add(float(site.x), float(site.y)), site


def test_layers_after_adding_a_site(demo):
    s0, s1, site = demo
    out = sm.scenario_layers(s1, s0, lang="en")
    names = out.names
    for name in (
        "Residents by walking distance",
        "Gaps",
        "Catchments of added sites",
        "Gained / lost",
        "Added / moved",
    ):
        assert name in names, names
    assert out.n_cells > 100 and out.n_gaps > 0
    assert out.n_site_catchments == 1 and out.n_gained > 0 and out.n_lost == 0
    # the gained residents (60+) are the scenario's own change at the target, region-wide
    ch = s1.changes()
    row = ch[(ch["level"] == "region") & ch["is_target"]].iloc[0]
    assert out.lost == 0.0
    assert out.gained == pytest.approx(row["covered_pop_60plus_change"], abs=1.0)
    assert out.gained > 0


def test_site_catchment_is_the_walk_within_the_reach(demo):
    s0, s1, site = demo
    radius = float(s1.layer.target_m)
    catch = sm.site_catchments(s1, radius)
    assert catch["facility_id"].tolist() == ["new-1"]
    poly = catch.geometry.iloc[0]
    local = gpd.GeoSeries([poly, site], crs=WGS84).to_crs(s1.region.boundaries.estimate_utm_crs())
    # a walk of 900 m cannot end farther than 900 m away (plus the 40 m street buffer)
    far = shapely.hausdorff_distance(local.iloc[0].exterior, local.iloc[1])
    assert local.iloc[0].buffer(1.0).contains(local.iloc[1])
    assert 0.3 * radius < far <= radius + 40.0 + 5.0
    # straight-line mode: a circle of the radius
    from geoapp.scenario import Scenario

    e0 = Scenario.build(
        s0.region, s0.layer, demand=s0.demand, mode="euclidean", speed_kmh=s0.speed_kmh
    )
    e1 = e0.add(float(site.x), float(site.y))
    circle = sm.site_catchments(e1, 500.0).to_crs(local.crs).geometry.iloc[0]
    assert circle.area == pytest.approx(math.pi * 500.0**2, rel=0.01)
    assert sm.site_catchments(e0, 500.0) is None


def test_zero_edits_draw_no_change_and_chinese_names(demo):
    s0, _, _ = demo
    out = sm.scenario_layers(s0, s0, lang="zh")
    assert out.gained == out.lost == 0.0 and out.n_gained == out.n_lost == 0
    assert "居民步行距离" in out.names and "服务缺口" in out.names
    assert "新增 / 失去覆盖" not in out.names  # nothing changed: no such layer


def test_suggested_sites_are_rank_badges(demo):
    import folium

    from geoapp import maps

    s0, _, site = demo
    sites = gpd.GeoDataFrame(
        {
            "rank": [1, 2],
            "added_pop": [17046.2812, 900.0],
            "added_pop_60plus": [3100.4, 120.0],
            "district": ["A", "B"],
            "zone_type": ["new_town", "core"],
        },
        geometry=[site, Point(site.x + 0.01, site.y)],
        crs=WGS84,
    )
    out = sm.scenario_layers(s0, s0, lang="en", suggestions=sites)
    assert out.n_suggested == 2 and "Suggested sites" in out.names
    m = sm.scenario_base(s0.region.boundaries, s0.region.edges, demand=s0.demand)
    for fg in out.overlays:
        fg.add_to(m)
    folium.LayerControl().add_to(m)
    page = maps.map_html(m)
    # one script draws both badges, numbered 1 and 2 (JSON-escaped HTML in the page)
    assert page.count('className: "geoapp-site-rank"') == 1
    assert "\\u003e1\\u003c/div" in page and "\\u003e2\\u003c/div" in page
    assert "17,046" in page and "17046.28" not in page  # rounded, thousands separators
    assert not maps.external_urls(page)


# --------------------------------------------------------------------------- page helpers


def test_suggestions_table_is_translated():
    from app_pages import scenario_map

    sites = gpd.GeoDataFrame(
        {
            "rank": [1, 2],
            "added_pop": [17046.2812, 12.4],
            "added_pop_60plus": [3100.6, np.nan],
            "district": ["朝阳区", ""],
            "zone_type": ["new_town", "core"],
        },
        geometry=[Point(116.4123456, 39.9123456), Point(116.5, 40.0)],
        crs=WGS84,
    )
    en = scenario_map.suggestions_table(sites, "en")
    assert list(en.columns) == [
        "Rank",
        "Residents gained",
        "Aged 60+ gained",
        "District",
        "Zone type",
        "Latitude",
        "Longitude",
    ]
    assert en["Residents gained"].tolist() == ["17,046", "12"]
    assert en["Aged 60+ gained"].tolist() == ["3,101", ""]
    assert en["Latitude"].tolist() == ["39.912346", "40.000000"]
    assert en["Longitude"].iloc[0] == "116.412346"
    assert "new_town" not in en.to_string() and "added_pop" not in en.to_string()
    # an elderly-care ranking maximised the 60+: their column comes first
    sixty = scenario_map.suggestions_table(sites, "en", "pop_60plus")
    assert list(sixty.columns)[1:3] == ["Aged 60+ gained", "Residents gained"]
    zh = scenario_map.suggestions_table(sites, "zh")
    assert list(zh.columns)[:3] == ["排名", "新增覆盖居民", "新增覆盖 60 岁及以上"]
    assert zh["区县"].tolist()[0] == "朝阳区"
    assert "new_town" not in zh.to_string() and not any(
        c.isascii() and c.isalpha() for c in "".join(zh.columns)
    )
    assert scenario_map.zoom_target(sites, [1]) == (40.0, 116.5)
    assert scenario_map.zoom_target(sites, []) is None
    assert scenario_map.zoom_target(sites, [5]) is None


def test_progress_bar_appears_after_two_seconds_with_an_estimate(monkeypatch):
    from app_pages import scenario_map

    clock = iter([0.0, 1.0, 3.0, 6.0, 8.0])
    monkeypatch.setattr(scenario_map.time, "perf_counter", lambda: next(clock))
    shown: list[tuple[float, str]] = []

    class Bar:
        def progress(self, f, text=""):
            shown.append((f, text))

        def empty(self):
            shown.append((-1.0, "gone"))

    def progress(f, text=""):
        shown.append((f, text))
        return Bar()

    monkeypatch.setattr(scenario_map.st, "progress", progress)
    report, done = scenario_map.progress_reporter("en")  # t0 = 0
    report("siting: candidates", 0.1)  # at 1 s: nothing yet
    assert shown == []
    report("siting: coverage", 0.25)  # at 3 s: 25% done, 3 x 0.75 / 0.25 = 9 s left
    report("siting: solve", 0.75)  # at 6 s: 6 x 0.25 / 0.75 = 2 s left
    done()
    assert shown[0] == (0.25, "Suggesting sites… 25% · about 9 s left")
    assert shown[1] == (0.75, "Suggesting sites… 75% · about 2 s left")
    assert shown[-1] == (-1.0, "gone")


# --------------------------------------------------------------------------- the page


def _fake_siting(monkeypatch):
    import geoapp

    def site(region, layer, k, *, demand, graph, facilities=None, speed_kmh=None, **kw):
        if kw.get("progress"):
            kw["progress"]("siting: done", 1.0)
        pts = demand.points
        top = pts.iloc[(-pts["pop"]).argsort()[:k]]
        sites = gpd.GeoDataFrame(
            {
                "rank": list(range(1, k + 1)),
                "candidate_id": [f"c{i}" for i in range(k)],
                "added_pop": [17046.2812] * k,
                "added_pop_60plus": [3100.4] * k,
                "district": top["district"].to_numpy(),
                "zone_type": ["new_town"] * k,
            },
            geometry=[Point(p.x, p.y) for p in top.geometry],
            crs=WGS84,
        )
        return types.SimpleNamespace(sites=sites)

    fake = types.ModuleType("geoapp.siting")
    fake.site = site
    monkeypatch.setitem(sys.modules, "geoapp.siting", fake)
    monkeypatch.setattr(geoapp, "siting", fake, raising=False)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_zero_change_neutral_and_translated_suggestions(monkeypatch, lang):
    from streamlit.testing.v1 import AppTest

    _fake_siting(monkeypatch)
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("app_pages/scenario.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    # before any edit every change is a neutral zero: grey, no arrow, never "-0.0 pp"
    from streamlit.proto.Metric_pb2 import Metric as MetricProto

    gray, no_arrow = MetricProto.MetricColor.GRAY, MetricProto.MetricDirection.NONE
    deltas = {m.label: (m.proto.delta, m.proto.color, m.proto.direction) for m in at.metric}
    changes = [d for d in deltas.values() if d[0]]
    assert len(changes) == 4, deltas
    for text, color, direction in changes:
        assert text in ("0.0 pp", "0", "0 pp"), deltas
        assert color == gray and direction == no_arrow, deltas
    at.number_input(key="scn_k").set_value(2).run()
    at.button(key="scn_suggest").click().run()
    assert not at.exception, [e.message for e in at.exception]
    table = at.dataframe[-1].value
    want = "新增覆盖居民" if lang == "zh" else "Residents gained"
    assert want in table.columns
    assert table[want].tolist() == ["17,046", "17,046"]
    sixty = "新增覆盖 60 岁及以上" if lang == "zh" else "Aged 60+ gained"
    assert list(table.columns).index(sixty) == 1  # elderly care: the 60+ first
    zone = "新城" if lang == "zh" else "New town"
    text = table.to_string()
    assert "new_town" not in text and "added_pop" not in text and "17046.28" not in text
    assert any(zone.lower() in str(v).lower() for v in table.iloc[:, 4]), table
    lat = table.iloc[0, 5]
    assert len(lat.split(".")[1]) == 6
