"""The Scenario page of the app on the demo region, through streamlit.testing.v1.AppTest.

A facility added at the page's coordinates (by default the most populous spot beyond
the layer's target reach) raises the covered population; undo brings back today's
figures; closing a facility lowers them; the page speaks Chinese too.
"""

from __future__ import annotations

from pathlib import Path

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
    (label,) = [k for k in _metrics(at) if k.startswith("Residents covered within")]
    return _number(_metrics(at)[label])


def test_scenario_page_shows_todays_figures(app):
    assert app.title[0].value == "What-if scenario"
    labels = list(_metrics(app))
    assert any(k.startswith("Covered within 1,000 m") for k in labels), labels
    assert any(k.startswith("Aged 60+ covered within") for k in labels), labels
    assert _metrics(app)["Facilities"] == "111"
    assert len(app.dataframe) >= 1  # the before/after table


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
    # the district table shows a positive change somewhere
    table = app.dataframe[0].value
    assert (table["Change"] > 0).any()
    # the scenario is kept in the session, and undo restores today's figures
    app.run()
    assert _covered(app) == after
    app.button(key="scn_undo").click().run()
    _ok(app)
    assert _covered(app) == before and _metrics(app)["Facilities"] == "111"


def test_closing_a_facility_lowers_coverage(app):
    before = _covered(app)
    app.selectbox(key="scn_close_pick").set_value("demo/1").run()
    app.button(key="scn_close_btn").click().run()
    _ok(app)
    assert _metrics(app)["Facilities"] == "110"
    assert _covered(app) <= before
    app.button(key="scn_reset").click().run()
    assert _metrics(app)["Facilities"] == "111"


def test_chinese_page():
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("app_pages/scenario.py")
    at.run()
    _ok(at)
    assert at.title[0].value == "情景推演"
    assert "设施数" in _metrics(at)
