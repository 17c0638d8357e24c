"""Offline Folium maps: assets inlined, data escaped, geometry small, layers present."""

from __future__ import annotations

import json
import math
import re

import folium
import geopandas as gpd
import numpy as np
import pytest
from fixtures import HOSTILE, map_region
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point, box

from geoapp import maps
from geoapp.catalog import load_catalog
from geoapp.errors import InputError
from geoapp.maps import display, leaflet


def _n_features(page: str) -> int:
    """Count the GeoJSON features a map page holds (data sits in JSON.parse strings)."""
    return page.count('\\"type\\":\\"Feature\\"') + page.count('"type":"Feature"')


def _decode_js(page: str) -> str:
    """Undo the JSON escapes used to embed data in <script> (what the browser sees)."""
    return (
        page.replace("\\u003c", "<")
        .replace("\\u003e", ">")
        .replace("\\u0026", "&")
        .replace('\\"', '"')
    )


@pytest.fixture(scope="module")
def layer():
    return load_catalog()["elderly_care"]


@pytest.fixture(scope="module")
def small():
    return map_region()


@pytest.fixture(scope="module")
def page(small, layer):
    m = maps.coverage_map(
        region_boundaries=small["bnd"],
        hexes=small["hexes"],
        facilities=small["fac"],
        gaps=small["gaps"],
        edges=small["edges"],
        layer=layer,
        synthetic=True,
    )
    return maps.map_html(m)


def test_no_external_assets(page):
    assert maps.external_urls(page) == []
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page)
    assert tags, "the page has script tags"
    for tag in tags:
        assert "http:" not in tag and "https:" not in tag and 'src="//' not in tag, tag[:120]
    # Leaflet and jQuery come inlined from the xstatic packages, nothing else is loaded
    srcs = re.findall(r'<script src="([^"]{0,40})', page)
    assert len(srcs) == 2 and all(s.startswith("data:text/javascript;base64,") for s in srcs)
    for dropped in ("bootstrap", "awesome-markers", "font-awesome", "fontawesome", "glyphicons"):
        assert dropped not in page
    assert re.findall(r"https?://", page) == []  # without a basemap, no URL at all


def test_hostile_strings_are_escaped(page):
    seen = _decode_js(page)
    assert "&lt;img src=x onerror=alert(1)&gt;" in seen
    assert HOSTILE not in seen and HOSTILE not in page
    assert "<script>alert(3)" not in seen and "&lt;/script&gt;&lt;script&gt;alert(3)" in seen
    assert "${alert(2)}" not in seen and "&#96;&#36;{alert(2)}&#96;" in seen
    assert "Old &lt;b&gt;Town&lt;/b&gt;" in seen
    # data never closes the inline script early
    assert page.count("</script>") == page.count("<script")


def test_layers_legend_scale_and_note(page, layer):
    for name in (
        "Main streets",
        "Residents by walking distance",
        "Districts",
        "Gaps",
        layer.name("en"),
    ):
        assert f'"{name}"' in page, name
    # a metric scale bar only (no miles / feet)
    assert "L.control.scale({metric: true, imperial: false" in page
    assert "L.control.scale()" not in page and "imperial: true" not in page
    assert "L.control.layers(" in page
    assert "Walking distance to nearest (m)" in page
    assert "Synthetic demo data" in page
    # four hexes, two districts, one gap, three facilities, and the primary street only
    # (main streets; the residential one is left out)
    assert _n_features(page) == 4 + 2 + 1 + 3 + 1


def test_hex_colours_follow_distance_classes(small, layer):
    m = maps.base_map(small["bnd"])
    maps.add_hex_layer(m, small["hexes"], radii_m=layer.radii_m)
    found = re.search(r'L\.geoJSON\(JSON\.parse\(("(?:[^"\\]|\\.)*")\)', m.get_root().render())
    collection = json.loads(json.loads(found.group(1)))  # the JS string, then its JSON
    fills = [f["properties"]["_s"]["fillColor"] for f in collection["features"]]
    cmap = maps.distance_colormap(layer.radii_m)
    # 100 m -> first class; 700 m -> third class (500-1000); all beyond -> beyond;
    # 400 m but 60% beyond reach -> beyond
    assert fills == [cmap(150), cmap(750), maps.BEYOND_COLOR, maps.BEYOND_COLOR]


def test_distance_class_edges_are_inclusive():
    colors = display._distance_color(
        np.array([0, 300, 300.5, 1000, 1000.1, np.inf]), (300, 500, 1000)
    )
    cmap = maps.distance_colormap((300, 500, 1000))
    c0, c1, c2 = cmap(150), cmap(400), cmap(750)
    assert colors == [c0, c0, c1, c2, maps.BEYOND_COLOR, maps.BEYOND_COLOR]
    assert len({c0, c1, c2, maps.BEYOND_COLOR}) == 4


def test_prepare_simplifies_rounds_and_keeps_input(small):
    circle = gpd.GeoDataFrame(
        {"a": [1]}, geometry=[Point(116.3, 39.9).buffer(0.01, quad_segs=256)], crs="EPSG:4326"
    )
    before = circle.geometry.iloc[0].wkb
    out = display.prepare(circle, tolerance_m=10.0, decimals=5)
    assert circle.geometry.iloc[0].wkb == before
    assert (
        len(out.geometry.iloc[0].exterior.coords) < len(circle.geometry.iloc[0].exterior.coords) / 4
    )
    coords = np.asarray(out.geometry.iloc[0].exterior.coords)
    assert np.allclose(coords, np.round(coords, 5), atol=0, rtol=0)
    assert out.crs == "EPSG:4326"
    # a projected input comes back in EPSG:4326 at the same place
    utm = small["bnd"].to_crs(32650)
    back = display.prepare(utm, tolerance_m=0)
    assert np.allclose(back.total_bounds, small["bnd"].total_bounds, atol=1e-5)


def test_basemaps(small):
    osm = maps.map_html(maps.base_map(small["bnd"], basemap="osm"))
    assert "tile.openstreetmap.org" in osm and maps.external_urls(osm) == []
    tdt = maps.map_html(maps.base_map(small["bnd"], basemap="tianditu", tianditu_key="abc123"))
    assert "tianditu.gov.cn" in tdt and "tk=abc123" in tdt
    none = maps.map_html(maps.base_map(small["bnd"]))
    assert "L.tileLayer" not in none
    with pytest.raises(InputError, match="key"):
        maps.base_map(small["bnd"], basemap="tianditu")
    with pytest.raises(InputError, match="key"):
        maps.base_map(small["bnd"], basemap="tianditu", tianditu_key='x"+alert(1)+"')
    with pytest.raises(InputError, match="Unknown basemap"):
        maps.base_map(small["bnd"], basemap="google")


def test_map_html_refuses_cdn_assets(small):
    m = maps.base_map(small["bnd"])
    m.get_root().header.add_child(folium.JavascriptLink("https://cdn.example.com/x.js"))
    with pytest.raises(RuntimeError, match="network"):
        maps.map_html(m)


def test_save_html_is_atomic_and_standalone(tmp_path, small, layer):
    m = maps.overview_map(
        small["bnd"], {"elderly_care": small["fac"]}, "zh", catalog={"elderly_care": layer}
    )
    out = maps.save_html(m, tmp_path / "sub" / "map.html")
    assert out == tmp_path / "sub" / "map.html"
    assert [p.name for p in out.parent.iterdir()] == ["map.html"]
    text = out.read_text(encoding="utf-8")
    assert "养老服务" in text and "中心城区" in text and "乡村地区" in text
    assert maps.external_urls(text) == []


def test_heritage_map_marks_unprotected(small):
    sites = small["fac"].assign(protected=[True, False, True], name=["Gate", HOSTILE, "Wall"])
    zones = gpd.GeoDataFrame(
        {"name": ["Old city"]}, geometry=[box(116.30, 39.90, 116.32, 39.92)], crs=4326
    )
    page = maps.map_html(maps.heritage_map(small["bnd"], sites, zones, lang="en"))
    seen = _decode_js(page)
    assert seen.count("Unprotected") == 2  # tooltip and popup of the one unprotected site
    assert HOSTILE not in seen


def test_empty_inputs_give_a_plain_map():
    empty = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    m = maps.coverage_map(
        region_boundaries=empty, hexes=empty, facilities=empty, gaps=empty, edges=empty
    )
    assert maps.external_urls(maps.map_html(m)) == []


@given(st.text())
def test_escape_leaves_no_markup(s):
    out = display.esc(s)
    for ch in "<>\"'`$":
        assert ch not in out


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(), kids, max_size=4),
        max_leaves=12,
    )
)
def test_js_json_is_script_safe_and_round_trips(obj):
    text = leaflet.js_json(obj)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == obj


@pytest.mark.slow
def test_demo_coverage_map_is_small_and_complete(tmp_path):
    from geoapp import workflow

    region = workflow.load_region("demo")
    demand = workflow.prepare_demand(region)
    layer = load_catalog()["elderly_care"]
    res = workflow.analyse_layer(
        region, layer, demand=demand, graph=workflow.get_graph(region), with_catchments=False
    )
    assert len(res.gaps) > 0
    m = workflow.coverage_map(region, res)
    path = maps.save_html(m, tmp_path / "map.html")
    size = path.stat().st_size
    assert size < 3_000_000, size
    page = path.read_text(encoding="utf-8")
    assert maps.external_urls(page) == []
    assert "&lt;img src=x onerror=alert(1)&gt;" in _decode_js(page)  # the demo's hostile name
    assert HOSTILE not in _decode_js(page)
    n = _n_features(page)
    assert n >= len(region.boundaries) + len(res.hexes) + len(res.facilities) + len(res.gaps)


def test_gap_popup_states_median_maximum_and_purity(small):
    gaps = small["gaps"].assign(
        nearest_m=[1500.0],
        max_nearest_m=[math.inf],
        share_uncovered=[0.97],
        reason=[""],
        search_limit_m=[3000.0],
    )
    m = maps.base_map(small["bnd"])
    seen = _decode_js(maps.map_html(maps.add_gaps(m, gaps, lang="en")))
    assert "Median distance: 1,500 m" in seen
    assert "Maximum distance: not reachable within 3,000 m" in seen
    assert "Uncovered share of the residents inside: 97%" in seen


def test_zone_colours_and_names_come_from_styles(small):
    from geoapp.styles import zone_color, zone_name

    for lang in ("en", "zh"):
        m = maps.overview_map(small["bnd"], {}, lang)
        seen = _decode_js(maps.map_html(m))
        for z in ("core", "rural"):  # the two zone types of the fixture
            assert zone_color(z) in seen and zone_name(z, lang) in seen
        assert zone_color("new_town") not in seen  # the legend lists only those present


def test_hex_tooltips_name_the_settlement_holding_most_residents():
    from geoapp.hexes import aggregate_h3

    # three points in one H3 cell: 30 residents in the core, 10 rural -> the cell is core
    pts = gpd.GeoDataFrame(
        {
            "pop": [20.0, 10.0, 10.0],
            "pop_60plus": [4.0, 2.0, 2.0],
            "dist_m": [100.0, 200.0, 300.0],
            "settlement": ["core", "core", "rural"],
        },
        geometry=[Point(116.4, 39.9), Point(116.40005, 39.90005), Point(116.4001, 39.9)],
        crs="EPSG:4326",
    )
    hexes = aggregate_h3(pts, res=9)
    assert hexes["settlement"].tolist() == ["core"]
    for lang, text in (("en", "Settlement: Urban core"), ("zh", "聚落类型: 中心城区")):
        m = maps.add_hex_layer(folium.Map(), hexes, radii_m=[300, 500, 1000], lang=lang)
        assert text in m.get_root().render()


# --------------------------------------------------------------------------- gaps first


def _layers(m):
    """The geoapp GeoJSON layers of a map, with their decoded feature collections."""
    out = {}
    for child in m._children.values():
        if isinstance(child, leaflet.GeoJsonLayer):
            out[child.layer_name] = (child, json.loads(child.data_json))
    return out


def test_gaps_are_drawn_above_the_demand_cells(small, layer):
    m = maps.coverage_map(
        region_boundaries=small["bnd"],
        hexes=small["hexes"],
        facilities=small["fac"],
        gaps=small["gaps"],
        edges=small["edges"],
        layer=layer,
    )
    order = maps.map_layers(m)
    classes = [d["css_class"] for d in order]
    assert classes.index("geoapp-demand") < classes.index("geoapp-gap")
    by_class = {d["css_class"]: d for d in order}
    assert by_class["geoapp-gap"]["z"] > by_class["geoapp-demand"]["z"]
    assert by_class["geoapp-district"]["z"] < by_class["geoapp-demand"]["z"]
    # facilities sit above the gap outlines, the gap rank labels above everything drawn
    assert by_class["geoapp-facility"]["z"] > by_class["geoapp-gap"]["z"]
    assert maps.PANES["geoapp-gap-labels"] > by_class["geoapp-facility"]["z"]
    # the panes really get those z-indexes in the page, and the paths those classes
    page = maps.map_html(m)
    panes = json.loads(re.search(r"var panes = (\{.*?\});", page).group(1))
    assert panes["geoapp-gaps"] > panes["geoapp-demand"]
    assert '"className":"geoapp-gap"' in page and '"className":"geoapp-demand"' in page
    # the best-ranked gap carries its rank label at a point inside it
    gap = _layers(m)["Gaps"][1]["features"][0]["properties"]
    lat, lng, text = gap["_lbl"]
    assert text == "1" and small["gaps"].geometry.iloc[0].contains(Point(lng, lat))


def test_covered_cells_pale_uncovered_strong(small, layer):
    m = maps.base_map(small["bnd"])
    maps.add_hex_layer(m, small["hexes"], radii_m=layer.radii_m, target_m=1000)
    (_, coll) = next(iter(_layers(m).values()))
    ops = [f["properties"]["_s"]["fillOpacity"] for f in coll["features"]]
    # 100 m and 700 m are within the 1,000 m target; the other two are beyond reach
    assert ops == [maps.COVERED_OPACITY] * 2 + [maps.UNCOVERED_OPACITY] * 2
    assert maps.UNCOVERED_OPACITY > 2 * maps.COVERED_OPACITY


def test_legend_lists_facility_colours_minutes_and_metres(small, layer):
    other = load_catalog()["community_services"]
    for lang, word in (("en", "min"), ("zh", "分钟")):
        m = maps.overview_map(
            small["bnd"],
            {"community_services": small["fac"], "elderly_care": small["fac"]},
            lang,
            catalog={"elderly_care": layer, "community_services": other},
        )
        page = _decode_js(maps.map_html(m))
        legend = re.search(r'"geoapp-box geoapp-legend geoapp-overview-legend"', page)
        assert legend
        for lay in (layer, other):
            assert f"background:{lay.color}" in page and lay.name(lang) in page
        cov = maps.coverage_map(
            region_boundaries=small["bnd"],
            hexes=small["hexes"],
            facilities=small["fac"],
            gaps=small["gaps"],
            layer=layer,
            lang=lang,
        )
        text = _decode_js(maps.map_html(cov))
        box = text[text.index("geoapp-coverage-legend") :]
        assert f"background:{layer.color}" in box
        unit = " 米" if lang == "zh" else " m"
        # elderly care is minute-based: 15 minutes at the elderly pace is 900 m
        assert f"900{unit}" in box and f"15 {word}" in box


def test_overview_keeps_elderly_care_on_top(small, layer):
    other = load_catalog()["community_services"]
    many = gpd.GeoDataFrame(
        {"facility_id": [f"c/{i}" for i in range(maps.CLUSTER_OVER + 1)], "kind": "pharmacy"},
        geometry=[Point(116.30 + i * 1e-4, 39.91) for i in range(maps.CLUSTER_OVER + 1)],
        crs="EPSG:4326",
    )
    # the community layer is passed first, but elderly care (order 1) is drawn on top
    m = maps.overview_map(
        small["bnd"],
        {"community_services": many, "elderly_care": small["fac"]},
        "en",
        catalog={"elderly_care": layer, "community_services": other},
    )
    lay = {d["name"]: d for d in maps.map_layers(m)}
    assert lay["Elderly care"]["z"] > lay["Community services"]["z"]
    assert lay["Community services"]["clustered"] and not lay["Elderly care"]["clustered"]
    page = maps.map_html(m)
    assert "L.markerClusterGroup(" in page and maps.external_urls(page) == []
    assert "geoapp-fac geoapp-fac-first" in page  # larger dots for the top layer


def test_tooltips_use_readable_kinds_and_never_infinity(small, layer):
    fac = small["fac"].assign(
        kind=["social_facility", "community_centre", "nursing_home"],
        social_facility=["day_care", None, None],
        **{"community_centre:for": [None, "senior", None]},
    )
    hexes = small["hexes"].assign(dist_m_mean=[100.0, 700.0, np.nan, np.nan])
    for lang, names in (
        ("en", ["Day-care centre", "Senior centre", "Nursing home"]),
        ("zh", ["日间照料中心", "老年活动中心", "养老院"]),
    ):
        m = maps.coverage_map(
            region_boundaries=small["bnd"],
            hexes=hexes,
            facilities=fac,
            gaps=small["gaps"],
            layer=layer,
            lang=lang,
            search_limit_m=3000,
        )
        layers = _layers(m)
        tips = [
            f["properties"].get("_t", "") + f["properties"].get("_p", "")
            for _, coll in layers.values()
            for f in coll["features"]
        ]
        fac_tips = [f["properties"]["_t"] for f in layers[layer.name(lang)][1]["features"]]
        for name, tip in zip(names, fac_tips, strict=True):
            assert name in tip
        joined = " ".join(tips)
        for raw in ("social_facility", "community_centre", "nursing_home", "day_care"):
            assert raw not in joined
        assert "∞" not in maps.map_html(m)
        unreach = "Not reachable within 3,000 m" if lang == "en" else "3,000 米内不可达"
        assert unreach in joined


def test_kind_names():
    assert maps.kind_name("social_facility", "en", detail="nursing_home") == "Nursing home"
    assert maps.kind_name("social_facility", "zh", detail="nursing_home") == "养老院"
    assert maps.kind_name("social_facility", "en") == "Social facility"
    assert maps.kind_name("4", "en") == "Listed heritage (level 4)"
    assert maps.kind_name("bus_stop", "en") == "Bus stop"
    assert maps.kind_name(None, "en") == ""


def test_gap_popup_states_each_distance_once(small):
    # the popup: 1,364 m from the table next to "1,360 m" in the reason
    reason = (
        "8,084 residents aged 60+ live more than 1,000 m walk from the nearest elderly care; "
        "median distance 1,360 m, maximum 2,420 m"
    )
    gaps = small["gaps"].assign(nearest_m=[1363.7], max_nearest_m=[2417.0], reason=[reason])
    m = maps.base_map(small["bnd"])
    seen = _decode_js(maps.map_html(maps.add_gaps(m, gaps, lang="en")))
    assert "1,364" not in seen and "2,417" not in seen
    assert seen.count("1,360 m") == 1  # the rank label's popup is the same string
    # without a reason the figures are rounded the same way
    m = maps.base_map(small["bnd"])
    seen = _decode_js(maps.map_html(maps.add_gaps(m, gaps.assign(reason=[""]), lang="en")))
    assert "Median distance: 1,360 m" in seen and "1,364" not in seen


def test_online_basemaps_say_they_need_internet(small):
    for lang, word in (("en", "(needs internet)"), ("zh", "(需联网)")):
        for bm in ("osm", "positron"):
            page = maps.map_html(
                maps.finish_map(maps.base_map(small["bnd"], basemap=bm, lang=lang))
            )
            word = word.strip("（）()")
            assert word in page or json.dumps(word)[1:-1] in page
            assert "tileerror" in page  # a note replaces the blank when tiles are blocked
    offline = maps.map_html(maps.base_map(small["bnd"]))
    assert "needs internet" not in offline and maps.BACKGROUND in offline


def test_notes_sit_bottom_left_and_let_clicks_through(small, layer):
    m = maps.coverage_map(
        region_boundaries=small["bnd"], hexes=None, facilities=None, layer=layer, synthetic=True
    )
    page = maps.map_html(m)
    notes = re.findall(
        r'L\.control\(\{position: "(\w+)"\}\);\s*\S+\.onAdd = function \(\) \{\s*'
        r'var div = L\.DomUtil\.create\("div", "geoapp-box geoapp-(note|title)"',
        page,
    )
    assert sorted(n[1] for n in notes) == ["note", "title"]
    assert {n[0] for n in notes} == {"bottomleft"}
    assert re.search(r"\.geoapp-note \{[^}]*pointer-events: none", page)


def test_heritage_map_has_a_legend(small):
    sites = small["fac"].assign(protected=[True, False, True], kind=["temple", "4", "ruins"])
    zones = gpd.GeoDataFrame(
        {"name": ["Old city"]}, geometry=[box(116.30, 39.90, 116.32, 39.92)], crs=4326
    )
    seen = _decode_js(maps.map_html(maps.heritage_map(small["bnd"], sites, zones, lang="en")))
    box_html = seen[seen.index("geoapp-heritage-legend") :]
    assert "site inside a protected zone (2)" in box_html
    assert "site outside every protected zone in the data (1)" in box_html
    assert "protected zone (1)" in box_html
    assert "Listed heritage (level 4)" in seen and "Temple" in seen


# --------------------------------------------------------------------------- city scale


def test_coarsen_hexes_keeps_totals_and_weights():
    import h3

    parent = h3.latlng_to_cell(39.9, 116.4, 7)
    kids = sorted(h3.cell_to_children(parent, 8))[:2]
    hexes = gpd.GeoDataFrame(
        {
            "h3": kids,
            "n_points": [3, 1],
            "pop": [300.0, 100.0],
            "pop_60plus": [30.0, 50.0],
            "dist_m_mean": [400.0, 1200.0],
            "share_beyond": [0.0, 0.5],
            "settlement": ["core", "rural"],
        },
        geometry=[box(0, 0, 1, 1)] * 2,
        crs="EPSG:4326",
    )
    before = hexes.copy()
    out = maps.coarsen_hexes(hexes, 7)
    assert out["h3"].tolist() == [parent]
    row = out.iloc[0]
    assert row["pop"] == 400 and row["pop_60plus"] == 80 and row["n_points"] == 4
    # share beyond weighted by residents: (0*300 + 0.5*100) / 400
    assert row["share_beyond"] == pytest.approx(0.125)
    # mean distance weighted by residents within reach: (400*300 + 1200*50) / 350
    assert row["dist_m_mean"] == pytest.approx((400 * 300 + 1200 * 50) / 350)
    assert row["settlement"] == "core"
    assert out.geometry.iloc[0].equals_exact(maps.coarsen_hexes(out, 7).geometry.iloc[0], 1e-12)
    assert hexes.equals(before)


@pytest.mark.slow
def test_city_scale_map_is_capped_and_small(tmp_path, layer):
    """300,000 demand points over a 100 x 100 km city: features capped, map.html small."""
    from geoapp.hexes import aggregate_h3

    rng = np.random.default_rng(7)
    n = 300_000
    lon = 116.1 + rng.random(n) * 1.2
    lat = 39.7 + rng.random(n) * 0.9
    dist = rng.gamma(2.0, 400.0, n)
    dist[rng.random(n) < 0.05] = np.inf
    pts = gpd.GeoDataFrame(
        {"pop": rng.random(n) * 20, "pop_60plus": rng.random(n) * 4, "dist_m": dist},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    hexes = aggregate_h3(pts, res=9)
    assert len(hexes) > 50_000  # far more cells than a browser should get
    fac = gpd.GeoDataFrame(
        {"facility_id": [f"f/{i}" for i in range(20_000)], "kind": "pharmacy"},
        geometry=gpd.points_from_xy(
            116.1 + rng.random(20_000) * 1.2, 39.7 + rng.random(20_000) * 0.9
        ),
        crs="EPSG:4326",
    )
    bnd = gpd.GeoDataFrame(
        {"district": ["City"], "zone_type": ["core"]},
        geometry=[box(116.1, 39.7, 117.3, 40.6)],
        crs="EPSG:4326",
    )
    gaps = gpd.GeoDataFrame(
        {"gap_id": [f"g/{i}" for i in range(5_000)], "rank": np.arange(1, 5_001)},
        geometry=[
            Point(116.1 + (i % 70) * 0.017, 39.7 + (i // 70) * 0.0125).buffer(0.002)
            for i in range(5_000)
        ],
        crs="EPSG:4326",
    )
    cap = 12_000
    m = maps.coverage_map(
        region_boundaries=bnd,
        hexes=hexes,
        facilities=fac,
        gaps=gaps,
        layer=layer,
        max_features=cap,
    )
    assert maps.feature_count(m) <= cap
    drawn = _layers(m)
    demand = next(c for c, _ in drawn.values() if c.pane == "geoapp-demand")
    assert 1_000 < demand.n_features <= cap
    # the cells were re-aggregated, not dropped: every resident is still on the map
    shown, res = maps.hexes_for_display(hexes, demand.n_features)
    assert res < 9 and shown["pop"].sum() == pytest.approx(hexes["pop"].sum())
    # the best-ranked gaps are drawn (rank 1 first), facilities merged per H3 cell
    gap_layer = drawn["Gaps"][1]["features"]
    assert gap_layer[0]["properties"]["rank"] == 1 and len(gap_layer) < 5_000
    path = maps.save_html(m, tmp_path / "map.html")
    assert path.stat().st_size < 10_000_000, path.stat().st_size
    assert maps.external_urls(path.read_text(encoding="utf-8")) == []


def test_resolution_follows_the_region_size():
    assert maps.display_resolution(2.0) == 10  # a neighbourhood
    assert maps.display_resolution(60.0) == 9  # the demo metropolis
    assert maps.display_resolution(150.0) in (7, 8)  # a city the size of Beijing
    assert maps.display_resolution(150.0) < maps.display_resolution(60.0)


def test_demand_cells_from_access_points_keep_every_resident():
    rng = np.random.default_rng(3)
    n = 2_000
    pts = gpd.GeoDataFrame(
        {
            "pop": rng.random(n) * 10,
            "pop_60plus": rng.random(n),
            "dist_m": np.where(rng.random(n) < 0.1, np.inf, rng.random(n) * 900),
        },
        geometry=gpd.points_from_xy(24.93 + rng.random(n) * 0.02, 60.16 + rng.random(n) * 0.01),
        crs="EPSG:4326",
    )
    fine, res = maps.demand_cells(pts, res=10, max_cells=10_000)
    assert res == 10 and fine["pop"].sum() == pytest.approx(pts["pop"].sum())
    capped, res_c = maps.demand_cells(pts, res=10, max_cells=20)
    assert len(capped) <= 20 and res_c < 10
    assert capped["pop"].sum() == pytest.approx(pts["pop"].sum())
    # share beyond reach is the residents' share, whatever the resolution
    beyond = pts.loc[np.isinf(pts["dist_m"]), "pop"].sum() / pts["pop"].sum()
    got = (capped["share_beyond"] * capped["pop"]).sum() / capped["pop"].sum()
    assert got == pytest.approx(beyond)


def test_layer_without_facilities_is_no_data_not_unreachable(small, layer):
    hexes = small["hexes"].assign(share_beyond=1.0, dist_m_mean=np.nan)
    for lang, words in (("en", "coverage cannot be assessed"), ("zh", "无法评估覆盖率")):
        m = maps.coverage_map(
            region_boundaries=small["bnd"], hexes=hexes, facilities=None, layer=layer, lang=lang
        )
        coll = next(c for ch, c in _layers(m).values() if ch.pane == "geoapp-demand")
        fills = {f["properties"]["_s"]["fillColor"] for f in coll["features"]}
        assert fills == {maps.NO_DATA_COLOR}
        seen = _decode_js(maps.map_html(m))
        assert words in seen and "Not reachable" not in seen and "不可达" not in seen


def test_minute_layer_legend_names_minutes_first(small, layer):
    from dataclasses import replace

    mins = replace(layer, minutes=(5.0, 10.0, 15.0), radii_m=(300.0, 600.0, 900.0), target_m=900.0)
    m = maps.coverage_map(
        region_boundaries=small["bnd"], hexes=small["hexes"], facilities=small["fac"], layer=mins
    )
    box_html = _decode_js(maps.map_html(m))
    box_html = box_html[box_html.index("geoapp-coverage-legend") :]
    # classes as ranges in both units (issue 26: not "300–10 min · 600 m")
    assert "0–5 min · 0–300 m" in box_html and "10–15 min · 600–900 m" in box_html


@pytest.mark.browser
def test_in_a_browser_gaps_lie_above_demand_and_a_click_does_not_scroll(tmp_path, small, layer):
    """Headless Chromium: gap outlines drawn in view above the demand cells; a click on a
    map in an iframe partly below the fold leaves the page where it was."""
    from pathlib import Path

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium not found")
    sync_api = pytest.importorskip("playwright.sync_api")
    m = maps.coverage_map(
        region_boundaries=small["bnd"],
        hexes=small["hexes"],
        facilities=small["fac"],
        gaps=small["gaps"],
        layer=layer,
        synthetic=True,
    )
    inner = maps.save_html(m, tmp_path / "map.html")
    outer = tmp_path / "outer.html"
    outer.write_text(
        '<html><body style="margin:0"><div style="height:700px"></div>'
        f'<iframe src="{inner.as_uri()}" width="1000" height="600"></iframe>'
        '<div style="height:900px"></div></body></html>',
        encoding="utf-8",
    )
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"], headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route(
                "**/*",
                lambda r: (
                    r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()
                ),
            )
            page.goto(outer.as_uri())
            frame = page.frames[1]
            frame.wait_for_selector("path.geoapp-gap", timeout=30_000)
            got = frame.evaluate(
                """() => {
                const z = el => +getComputedStyle(el.closest('.leaflet-pane')).zIndex;
                const gap = document.querySelector('path.geoapp-gap');
                const dem = document.querySelector('path.geoapp-demand');
                const r = gap.getBoundingClientRect();
                return {gapZ: z(gap), demZ: z(dem), w: r.width, h: r.height,
                        inView: r.left >= 0 && r.top >= 0 && r.right <= innerWidth
                                && r.bottom <= innerHeight,
                        labels: document.querySelectorAll('.geoapp-gap-label').length,
                        scale: document.querySelector('.leaflet-control-scale').innerText};
            }"""
            )
            assert got["gapZ"] > got["demZ"] and got["w"] > 3 and got["inView"], got
            assert got["labels"] == 1 and "mi" not in got["scale"] and "ft" not in got["scale"]
            page.mouse.click(500, 850)  # on the map, which starts 700 px down
            page.wait_for_timeout(300)
            assert page.evaluate("window.scrollY") == 0
            # a popup opened at the bottom right corner is panned clear of the legend
            overlap = frame.evaluate(
                """() => new Promise(done => {
                for (const k in window) { const m = window[k];
                  if (m && m instanceof L.Map) {
                    const s = m.getSize();
                    m.openPopup("<b>x</b><br>y<br>z", m.containerPointToLatLng([s.x - 20, s.y - 20]));
                  } }
                setTimeout(() => {
                  const a = document.querySelector('.leaflet-popup').getBoundingClientRect();
                  const b = document.querySelector('.geoapp-legend').getBoundingClientRect();
                  done(a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom);
                }, 800); })"""
            )
            assert overlap is False
        finally:
            browser.close()
