"""The Scenario page of the app on the demo region, through streamlit.testing.v1.AppTest.

A facility added at the page's coordinates (by default the most populous spot beyond
the layer's target reach) raises the covered population; undo brings back today's
figures; closing a facility lowers them; the page speaks Chinese too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _number(value: str) -> float:
    return float(value.replace(",", "").rstrip("%"))


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    _ok(at)
    at.switch_page("app_pages/scenario.py")
    at.run()
    _ok(at)
    return at


def _covered(at: AppTest) -> float:
    (label,) = [k for k in _metrics(at) if k.startswith("Residents covered")]
    return _number(_metrics(at)[label])


@pytest.mark.slow
def test_scenario_page_shows_todays_figures(app):
    assert app.title[0].value == "What-if scenario"
    labels = list(_metrics(app))
    # elderly care: 15 minutes at the layer's own pace (3.6 km/h) = 900 m, the label the
    # Coverage page writes (issue 26)
    assert "Covered within 15 min (900 m)" in labels, labels
    assert any(k.startswith("Aged 60+ covered") for k in labels), labels
    assert _metrics(app)["Facilities"] == "111"
    assert len(app.dataframe) >= 1  # the before/after table


@pytest.mark.slow
def test_adding_a_facility_changes_the_figures(app):
    before = _covered(app)
    before_60 = [v for k, v in _metrics(app).items() if k.startswith("Aged 60+")][0]
    app.button(key="scn_add_btn").click().run()
    _ok(app)
    assert _metrics(app)["Facilities"] == "112"
    after = _covered(app)
    assert after > before
    after_60 = [v for k, v in _metrics(app).items() if k.startswith("Aged 60+")][0]
    assert _number(after_60) > _number(before_60)
    # the district table shows a positive change somewhere, read as the metrics read:
    # thousands separators, "–" for no value, never "None"
    table = app.dataframe[0].value

    def numbers(col: str) -> pd.Series:
        return pd.to_numeric(table[col].str.replace(",", ""), errors="coerce")

    assert (numbers("Change") > 0).any()
    assert not table.isin(["None", "nan"]).any().any()
    big = numbers("Covered before") >= 1000
    assert big.any() and table.loc[big, "Covered before"].str.contains(",").all()
    # one edit, said in the singular
    assert any(c.value.startswith("1 edit:") for c in app.caption), [c.value for c in app.caption]
    # the scenario is kept in the session, and undo restores today's figures
    app.run()
    assert _covered(app) == after
    app.button(key="scn_undo").click().run()
    _ok(app)
    assert _covered(app) == before and _metrics(app)["Facilities"] == "111"


@pytest.mark.slow
def test_closing_a_facility_lowers_coverage(app):
    before = _covered(app)
    app.selectbox(key="scn_close_pick").set_value("demo/1").run()
    app.button(key="scn_close_btn").click().run()
    _ok(app)
    assert _metrics(app)["Facilities"] == "110"
    assert _covered(app) <= before
    app.button(key="scn_reset").click().run()
    assert _metrics(app)["Facilities"] == "111"


@pytest.mark.slow
def test_chinese_page():
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/scenario.py")
    at.run()
    _ok(at)
    assert at.title[0].value == "情景推演"
    assert "设施数" in _metrics(at)
    # the Coverage page's words and units, none left in English (issue 26)
    assert "15 分钟（900 米）内覆盖率" in _metrics(at), list(_metrics(at))
    assert "15 分钟（900 米）" in at.select_slider(key="scn_radius_elderly_care").options
    profile = next(c.value for c in at.caption if "人口估算" in c.value)
    assert "china" not in profile and "world" not in profile, profile


@pytest.mark.slow
def test_suggested_sites_can_be_adopted():
    pytest.importorskip("geoapp.siting")
    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    at.switch_page("app_pages/scenario.py")
    at.run()
    _ok(at)
    before = _covered(at)
    at.number_input(key="scn_k").set_value(2).run()
    at.button(key="scn_suggest").click().run()
    _ok(at)
    at.button(key="scn_adopt").click().run()
    _ok(at)
    assert _metrics(at)["Facilities"] == "113"
    assert _covered(at) >= before


def test_suggestions_follow_the_siting_interface(monkeypatch):
    """The page passes the scenario's facilities to siting.site and adopts what it returns.

    A stand-in for geoapp.siting (its documented interface) returns two sites: the
    most populous spot beyond the target reach and the one next to it.
    """
    import types

    import geopandas as gpd
    from shapely.geometry import Point

    import geoapp

    calls = []

    def site(region, layer, k, *, demand, graph, facilities=None, speed_kmh=None, **kw):
        calls.append((layer.id, k, len(facilities), speed_kmh))
        pts = demand.points
        far = pts.iloc[(-pts["pop"]).argsort()[:k]]
        sites = gpd.GeoDataFrame(
            {
                "rank": list(range(1, k + 1)),
                "added_pop": [100.0] * k,
                "added_pop_60plus": [20.0] * k,
                "district": far["district"].to_numpy(),
                "zone_type": far["zone_type"].to_numpy(),
            },
            geometry=[Point(p.x, p.y) for p in far.geometry],
            crs=4326,
        )
        return types.SimpleNamespace(sites=sites)

    fake = types.ModuleType("geoapp.siting")
    fake.site = site
    monkeypatch.setitem(sys.modules, "geoapp.siting", fake)
    monkeypatch.setattr(geoapp, "siting", fake, raising=False)

    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.switch_page("app_pages/scenario.py")
    at.run()
    _ok(at)
    at.number_input(key="scn_k").set_value(2).run()
    at.button(key="scn_suggest").click().run()
    _ok(at)
    assert calls == [("elderly_care", 2, 111, 3.6)]  # the layer's own pace
    assert len(at.dataframe) == 2  # the before/after table and the suggestions
    at.button(key="scn_adopt").click().run()
    _ok(at)
    assert _metrics(at)["Facilities"] == "113"


@pytest.mark.slow
def test_the_scenario_page_follows_the_coverage_pages_layer():
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.switch_page("app_pages/coverage.py")
    at.run()
    _ok(at)
    assert at.selectbox(key="cov_layer").value == "elderly_care"  # the first layer
    at.selectbox(key="cov_layer").set_value("community_services").run()
    _ok(at)
    at.switch_page("app_pages/scenario.py")
    at.run()
    _ok(at)
    # one layer across the pages (issue 26): the scenario opens on the Coverage page's
    assert at.selectbox(key="cov_layer").value == "community_services"
