"""The Streamlit app on the demo region, through streamlit.testing.v1.AppTest.

Every page runs without an exception and shows its key elements; a bad upload shows
a message and keeps the demo loaded; an offline place fetch says so.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.uploads import MAX_MB, Upload, check_upload, load_uploads
from geoapp.errors import NetworkUnavailableError

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
PAGES = ("overview", "coverage", "compare", "heritage", "export")


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _switch(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    _ok(at)
    return at


@pytest.fixture(scope="module")
def app():
    at = _app()
    _ok(at)
    return at


def test_overview_is_the_default_page(app):
    assert app.title[0].value == "Overview"
    labels = [m.label for m in app.metric]
    assert labels[:3] == ["Districts", "Population", "Aged 60+"]
    assert "Elderly care" in labels
    assert app.metric[0].value == "9"
    assert any("synthetic" in w.value.lower() for w in app.warning)
    assert len(app.dataframe) == 1 and len(app.dataframe[0].value) == 9


def test_coverage_page_and_controls(app):
    _switch(app, "coverage")
    assert app.title[0].value == "Coverage"
    first = {m.label: m.value for m in app.metric}
    assert first["Covered within 1000 m"].endswith("%")
    assert first["Walking speed"] == "13 min walk"  # 1000 m at 4.5 km/h
    app.select_slider(key="cov_radius_elderly_care").set_value(300).run()
    _ok(app)
    second = {m.label: m.value for m in app.metric}
    assert "Covered within 300 m" in second
    assert int(second["Covered within 300 m"].rstrip("%")) <= int(
        first["Covered within 1000 m"].rstrip("%")
    )
    app.radio(key="cov_speed").set_value("elderly").run()
    assert {m.label: m.value for m in app.metric}["Walking speed"] == "5 min walk"  # 300 m at 3.6
    app.radio(key="cov_mode").set_value("euclidean").run()
    _ok(app)
    assert len(app.dataframe) == 1  # the gaps table
    # drill into a district through the picker (clicking the map sets the same state)
    app.selectbox(key="cov_district_pick").set_value("Old Town").run()
    _ok(app)
    assert app.session_state["district"] == "Old Town"
    app.selectbox(key="cov_district_pick").set_value("").run()
    app.radio(key="cov_mode").set_value("network").run()
    _ok(app)


def test_catchments_follow_the_radius(app):
    """Catchments are computed for the radius on the slider, lazily, per radius."""
    from app_pages import common

    _switch(app, "coverage")
    app.toggle(key="cov_catch").set_value(True).run()
    _ok(app)
    app.select_slider(key="cov_radius_elderly_care").set_value(300).run()
    _ok(app)
    assert "Covered within 300 m" in [m.label for m in app.metric]
    region, key = common.demo_region(), common.DEMO_KEY
    at_300 = common.catchments(key, region, "elderly_care", 300.0)
    assert set(at_300["radius_m"]) == {300.0}
    assert len(at_300) == len(common.analysis(key, region, "elderly_care", "network").facilities)
    app.toggle(key="cov_catch").set_value(False).run()
    _ok(app)


def test_district_bounds_zoom_inside_the_region():
    from app_pages import common
    from geoapp.sources.demo import demo_region

    region = demo_region()
    (s, w), (n, e) = common.district_bounds(region, "Old Town")
    minx, miny, maxx, maxy = region.boundaries.total_bounds
    assert minx <= w < e <= maxx and miny <= s < n <= maxy
    assert (e - w) < (maxx - minx) and (n - s) < (maxy - miny)
    assert common.district_bounds(region, "No Such District") is None
    assert common.district_bounds(region, None) is None


def test_map_data_is_never_evaluated_as_a_template():
    """Data strings reach the browser verbatim: folium/branca compile rendered scripts
    as Jinja2 templates, and a name like ``{{ 6*7 }}`` must not be evaluated."""
    import geopandas as gpd
    from shapely.geometry import Point

    from geoapp import maps

    names = ["{{ 6*7 }}", "{% if true %}IF{% endif %}", "{# c #}", "{{{x}}}"]
    fac = gpd.GeoDataFrame(
        {"name": names, "facility_id": [f"{{{{id{i}}}}}" for i in range(4)]},
        geometry=[Point(116.40 + i / 100, 39.90) for i in range(4)],
        crs="EPSG:4326",
    )
    m = maps.base_map(fac)
    maps.add_facilities(m, fac, name="{{ 5*5 }} layer")
    maps.add_note(m, "{{ 4*4 }} note")
    page = maps.map_html(maps.finish_map(m))
    # no Jinja2 delimiter survives in the page, and nothing was evaluated
    assert "{{" not in page and "{%" not in page and "{#" not in page
    seen = (
        page.replace("\\u007b", "{")
        .replace("\\u0026", "&")
        .replace("&#123;", "{")
        .replace("&#125;", "}")
    )
    for text in ("{{ 6*7 }}", "{% if true %}IF{% endif %}", "{# c #}", "{{{x}}}", "{{id3}}"):
        assert text in seen, text
    assert "{{ 5*5 }} layer" in seen and "{{ 4*4 }} note" in seen


@pytest.mark.parametrize("page", ["compare", "heritage", "export"])
def test_other_pages(app, page):
    _switch(app, page)
    title = {"compare": "Compare zones", "heritage": "Heritage", "export": "Export"}[page]
    assert app.title[0].value == title
    if page == "compare":
        assert len(app.dataframe) == 1
        table = app.dataframe[0].value
        assert set(table["zone_type"]) >= {"Urban core", "New town", "Rural"}
        app.radio(key="cmp_group_by").set_value("settlement").run()
        _ok(app)
        by_settlement = app.dataframe[0].value
        assert "zone_type" not in by_settlement.columns
        assert set(by_settlement["settlement"]) >= {"Urban core", "New town", "Rural"}
        # the same residents, grouped the other way
        assert by_settlement["pop"].sum() == pytest.approx(table["pop"].sum(), rel=1e-9)
    if page == "heritage":
        labels = [m.label for m in app.metric]
        assert labels[:3] == ["Heritage sites", "Protected zones", "Unprotected"]
        assert int(app.metric[0].value) > 0
    if page == "export":
        labels = [b.label for b in app.get("download_button")]
        assert any("GeoPackage" in label for label in labels)
        assert any("HTML" in label for label in labels)
        assert any("facilities.geojson" in label for label in labels)
        assert any("summary.csv" in label for label in labels)


def test_chinese_interface():
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["lang"] = "zh"  # as if 中文 had been picked in the sidebar
    at.run()
    _ok(at)
    assert at.radio(key="lang").value == "zh"
    assert at.title[0].value == "概览"
    assert "人口" in [m.label for m in at.metric]
    _switch(at, "coverage")
    assert at.title[0].value == "覆盖分析"


def test_bad_upload_keeps_the_demo():
    at = _app()
    at.session_state["pending_uploads"] = {
        "boundaries": ("districts.geojson", b"{ this is not json"),
        "facility_crs": "wgs84",
        "facility_layer": "elderly_care",
    }
    at.run()
    _ok(at)
    errors = [e.value for e in at.error]
    assert errors and "districts.geojson" in errors[0]
    assert "Traceback" not in errors[0]
    assert at.session_state["region_key"] == "demo"
    assert at.title[0].value == "Overview" and at.metric[0].value == "9"


def test_offline_place_fetch_says_so(monkeypatch):
    from geoapp import workflow

    def offline(*args, **kwargs):
        raise NetworkUnavailableError("Nominatim could not be reached (connection refused).")

    monkeypatch.setattr(workflow, "load_region", offline)
    at = _app()
    at.radio(key="region_source").set_value("place").run()
    at.text_input(key="place").set_value("Dongcheng, Beijing").run()
    at.button(key="fetch_place").click().run()
    _ok(at)
    assert any("offline" in e.value for e in at.error)
    assert at.session_state["region_key"] == "demo"


# ----------------------------------------------------------------- upload handling


class _Demo:
    """A stand-in previous region (the real demo is not needed to reject files)."""

    source = "demo"


def test_load_uploads_rejects_without_raising():
    prev = _Demo()
    bad_ext = load_uploads({"boundaries": Upload("districts.txt", b"x")}, previous=prev)
    assert (
        bad_ext.region is None and "districts.txt" in bad_ext.error and ".geojson" in bad_ext.error
    )
    big = Upload("big.csv", b"0" * (MAX_MB["census"] * 1_000_000 + 1))
    assert "MB" in check_upload("census", big)[0]
    nothing = load_uploads({}, previous=prev)
    assert nothing.region is None and "Upload" in nothing.error
    no_base = load_uploads({"census": Upload("c.csv", b"a,b\n")}, previous=None)
    assert no_base.region is None and no_base.error
    bad_crs = load_uploads({"census": Upload("c.csv", b"a\n")}, previous=prev, facility_crs="utm")
    assert "utm" in bad_crs.error


def test_load_uploads_reports_the_bad_file_by_name():
    from geoapp.sources.demo import demo_region

    prev = demo_region()
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("readme.txt", "no shapefile here")
    for name, data in (("districts.geojson", b"{ not json"), ("districts.zip", zipped.getvalue())):
        out = load_uploads({"boundaries": Upload(name, data)}, previous=prev)
        assert out.region is None, name
        assert name in out.error and "geoapp-upload-" not in out.error
    rows = zip(prev.boundaries["district_code"], prev.boundaries["district"], strict=True)
    csv = "district_code,district,pop,pop_60plus\n" + "".join(
        f"{code},{name},{1000 * (i + 1)},{100 * (i + 1)}\n" for i, (code, name) in enumerate(rows)
    )
    good = load_uploads({"census": Upload("census.csv", csv.encode())}, previous=prev)
    assert good.error is None
    assert good.region.census["pop"].sum() == 1000 * 45  # 1+2+...+9 thousand
    assert good.region.source == "demo+upload:census.csv" and good.key.startswith("upload:")
    assert prev.census is None or prev.census is not good.region.census  # previous untouched


def test_uploaded_facility_table_goes_through_the_coordinate_guards():
    """An upload gets the CLI's checks: a row at (0, 0) is excluded and named."""
    from geoapp.layers import select_features
    from geoapp.sources.demo import demo_region

    prev = demo_region()
    centre = prev.edges.geometry.union_all().centroid
    csv = f"name,lon,lat\nNear the streets,{centre.x:.6f},{centre.y:.6f}\nNull Island,0,0\n"
    out = load_uploads(
        {"facilities": Upload("homes.csv", csv.encode())},
        previous=prev,
        facility_crs="wgs84",
        facility_layer="elderly_care",
    )
    assert out.error is None
    warnings = out.region.meta.get("warnings", [])
    assert any("Null Island" in w or "line 3" in w or "table/3" in w for w in warnings), warnings
    ids = set(out.region.features["osm_id"])
    assert "table/2" in ids and "table/3" not in ids
    assert (
        len(select_features(out.region.features, CATALOG_ELDERLY()))
        == len(select_features(prev.features, CATALOG_ELDERLY())) + 1
    )
    assert len(prev.features) < len(out.region.features)  # previous region untouched


def CATALOG_ELDERLY():  # noqa: N802 - a tiny helper, named like the layer it returns
    from geoapp.catalog import get_layer

    return get_layer("elderly_care")
