from __future__ import annotations

import math

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from shapely.geometry import Point

from geoapp.catalog import load_catalog
from geoapp.charts import zone_comparison_chart
from geoapp.gaps import compare_zones, find_gaps, flag_uncovered, gini, weighted_percentile

CAT = load_catalog()
ELDERLY = CAT["elderly_care"]
COMMUNITY = CAT["community_services"]

# --------------------------------------------------------------------------- statistics


def test_gini_hand_computed():
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)  # Σ|xi-xj| = 20; 20 / (2·16·2.5)
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)  # (n-1)/n
    assert gini([5, 5, 5]) == pytest.approx(0.0)
    assert gini([1, 2], weights=[2, 1]) == pytest.approx(1 / 6)  # same as [1, 1, 2]
    assert gini([1, 1, 2]) == pytest.approx(1 / 6)
    assert gini([1, 9, np.nan], weights=[1, 1, 5]) == pytest.approx(gini([1, 9]))


def test_gini_empty_and_zero_are_nan():
    assert math.isnan(gini([]))
    assert math.isnan(gini([0, 0, 0]))
    assert math.isnan(gini([1, 2], weights=[0, 0]))


def test_gini_rejects_inf_and_negative():
    with pytest.raises(ValueError):
        gini([1, np.inf])
    with pytest.raises(ValueError):
        gini([-1, 2])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1e4), min_size=1, max_size=30),
    st.floats(0.01, 100),
)
def test_gini_properties(values, scale):
    g = gini(values)
    if math.isnan(g):
        assert sum(values) == 0
        return
    assert 0 <= g <= 1 - 1 / len(values) + 1e-9
    assert gini([v * scale for v in values]) == pytest.approx(g, abs=1e-9)
    # integer weights equal repetition
    assert gini(values, weights=[2] * len(values)) == pytest.approx(g, abs=1e-9)
    assert gini(values + values) == pytest.approx(g, abs=1e-9)


def test_weighted_percentile_hand_computed():
    assert weighted_percentile([1, 2, 3, 4], [1, 1, 1, 1], 50) == 2
    assert weighted_percentile([1, 2, 3, 4], [1, 1, 1, 1], 90) == 4
    assert weighted_percentile([4, 1, 3, 2], [7, 1, 1, 1], 50) == 4
    assert weighted_percentile([100, np.inf], [80, 20], 50) == 100
    assert weighted_percentile([100, np.inf], [80, 20], 90) == np.inf
    assert list(weighted_percentile([1, 2, 3], [1, 1, 2], [0, 25, 50, 100])) == [1, 1, 2, 3]
    assert math.isnan(weighted_percentile([1, 2], [0, 0], 50))


# --------------------------------------------------------------------------- find_gaps

BASE = h3.latlng_to_cell(39.90, 116.40, 9)


def _cell_point(cell: str) -> Point:
    lat, lng = h3.cell_to_latlng(cell)
    return Point(lng, lat)


def _access(rows, layer="elderly_care", mode="network") -> gpd.GeoDataFrame:
    """rows: (cell, pop, pop_60plus, dist_m, district, zone_type)."""
    return gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(len(rows))],
            "pop": [r[1] for r in rows],
            "pop_60plus": [r[2] for r in rows],
            "dist_m": [r[3] for r in rows],
            "facility_id": ["f" if np.isfinite(r[3]) else "" for r in rows],
            "district": [r[4] for r in rows],
            "zone_type": [r[5] for r in rows],
            "access_mode": mode,
            "layer": layer,
        },
        geometry=[_cell_point(r[0]) for r in rows],
        crs=4326,
    )


def _far_cells():
    a1 = BASE
    a2 = sorted(h3.grid_ring(a1, 1))[0]
    b1 = sorted(h3.grid_ring(a1, 5))[0]
    c1 = sorted(h3.grid_ring(a1, 10))[0]
    return a1, a2, b1, c1


def test_find_gaps_two_clusters_ranked_with_reasons():
    a1, a2, b1, c1 = _far_cells()
    acc = _access(
        [
            (a1, 100, 30, 1500.0, "East", "core"),
            (a1, 50, 20, 200.0, "East", "core"),  # covered
            (a2, 80, 25, np.inf, "East", "core"),
            (b1, 40, 12, 1200.0, "West", "rural"),
            (c1, 20, 5, 3000.0, "West", "rural"),  # below the threshold of 10
        ]
    )
    gaps = find_gaps(acc, ELDERLY)
    assert list(gaps["rank"]) == [1, 2]
    a, b = gaps.iloc[0], gaps.iloc[1]
    assert a["uncovered_pop_60plus"] == 55 and a["uncovered_pop"] == 180
    assert b["uncovered_pop_60plus"] == 12 and b["uncovered_pop"] == 40
    assert (a["n_cells"], b["n_cells"]) == (2, 1)
    assert a["nearest_m"] == 1500.0  # weighted median of 1500 (30) and inf (25)
    assert a["max_nearest_m"] == np.inf
    assert (a["district"], a["zone_type"], b["zone_type"]) == ("East", "core", "rural")
    assert a["reason"] == (
        "55 residents aged 60+ live more than 1,000 m walk from the nearest elderly care; "
        "nearest is 1,500 m"
    )
    assert b["reason"].startswith("12 residents aged 60+ live more than 1,000 m walk")
    assert b["reason"].endswith("nearest is 1,200 m")
    assert "60岁及以上居民" in a["reason_zh"] and "1,500米" in a["reason_zh"]
    assert gaps.crs.to_epsg() == 4326
    assert a.geometry.area == pytest.approx(2 * b.geometry.area, rel=0.05)
    assert a.geometry.contains(_cell_point(a2))
    assert gaps["gap_id"].is_unique


def test_find_gaps_beyond_limit_and_straight_line():
    a1, _, b1, _ = _far_cells()
    acc = _access([(a1, 1000, 2340, np.inf, "E", "rural")], mode="euclidean")
    (g,) = find_gaps(acc, ELDERLY).itertuples()
    assert g.reason == (
        "2,340 residents aged 60+ live more than 1,000 m straight-line from the nearest "
        "elderly care; nearest is beyond the 1,000 m search limit"
    )
    assert g.access_mode == "euclidean" and g.nearest_m == np.inf
    assert "直线距离" in g.reason_zh and "搜索范围内没有" in g.reason_zh


def test_find_gaps_total_population_layer_and_target_override():
    a1, _, b1, _ = _far_cells()
    acc = _access(
        [(a1, 500, 1, 600.0, "E", "core"), (b1, 30, 30, 400.0, "E", "core")],
        layer="community_services",
    )
    gaps = find_gaps(acc, COMMUNITY, target_m=500)
    assert len(gaps) == 1
    assert gaps["reason"].iloc[0] == (
        "500 residents live more than 500 m walk from the nearest community services; "
        "nearest is 600 m"
    )
    assert len(find_gaps(acc, COMMUNITY)) == 0  # default target 1000 m: none


def test_find_gaps_ignores_other_layers_and_threshold():
    a1, _, _, _ = _far_cells()
    acc = _access([(a1, 50, 8, 5000.0, "E", "core")])
    assert len(find_gaps(acc, ELDERLY)) == 0  # 8 < 10
    assert len(find_gaps(acc, ELDERLY, min_uncovered=5)) == 1
    other = _access([(a1, 50, 80, 5000.0, "E", "core")], layer="heritage")
    mixed = gpd.GeoDataFrame(pd.concat([acc, other], ignore_index=True), crs=4326)
    assert len(find_gaps(mixed, ELDERLY)) == 0


def test_flag_uncovered():
    a1, a2, _, _ = _far_cells()
    acc = _access(
        [
            (a1, 1, 1, 999.0, "E", "core"),
            (a2, 1, 1, 1001.0, "E", "core"),
            (a2, 1, 1, np.inf, "E", "core"),
        ]
    )
    out = flag_uncovered(acc, ELDERLY)
    assert out["uncovered"].tolist() == [False, True, True]
    assert "uncovered" not in acc.columns
    assert flag_uncovered(acc, ELDERLY, target_m=2000)["uncovered"].tolist() == [False, False, True]


# --------------------------------------------------------------------------- compare_zones


def _zone_access():
    a1, a2, b1, _ = _far_cells()
    return _access(
        [
            (a1, 100, 10, 200.0, "A", "core"),
            (a1, 100, 10, 800.0, "A", "core"),
            (b1, 300, 30, 400.0, "B", "new_town"),
            (b1, 100, 10, np.inf, "B", "new_town"),
        ],
        layer="community_services",
    )


def _facilities(zones):
    return gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(len(zones))], "zone_type": zones},
        geometry=[Point(116.4, 39.9)] * len(zones),
        crs=4326,
    )


def test_compare_zones_hand_computed():
    z = compare_zones(
        {"community_services": _zone_access()},
        {"community_services": _facilities(["core", "core", "new_town"])},
        CAT,
    )
    z = z.set_index("zone_type")
    assert list(z.index) == ["core", "new_town", "rural"]
    core, nt, rural = z.loc["core"], z.loc["new_town"], z.loc["rural"]
    assert (core["share_pop_300"], core["share_pop_500"], core["share_pop_1000"]) == (0.5, 0.5, 1.0)
    assert (nt["share_pop_300"], nt["share_pop_500"], nt["share_pop_1000"]) == (0.0, 0.75, 0.75)
    assert nt["ratio_to_core_500"] == pytest.approx(1.5)
    assert nt["ratio_to_core_1000"] == pytest.approx(0.75)
    assert core["ratio_to_core_1000"] == 1.0
    assert nt["ratio_to_core_300"] == 0.0
    assert (core["median_dist_m"], core["p90_dist_m"]) == (200.0, 800.0)
    assert (nt["median_dist_m"], nt["p90_dist_m"]) == (400.0, np.inf)
    assert core["gini_dist"] == pytest.approx(0.3)
    # inf capped at the 1000 m search limit: values 400 (w300), 1000 (w100)
    assert nt["gini_dist"] == pytest.approx(2 * 300 * 100 * 600 / (2 * 400**2 * 550))
    assert (core["facilities"], nt["facilities"]) == (2, 1)
    assert core["facilities_per_10k"] == pytest.approx(100.0)
    assert nt["facilities_per_10k"] == pytest.approx(25.0)
    assert (core["target_share"], core["target_radius_m"]) == (0.85, 1000.0)
    assert not core["below_target"] and nt["below_target"]
    assert core["status"] == "ok"
    # zone type with no residents: "no data", no division error
    assert rural["status"] == "no data" and rural["pop"] == 0
    assert math.isnan(rural["share_pop_1000"]) and math.isnan(rural["gini_dist"])
    assert math.isnan(rural["facilities_per_10k"]) and math.isnan(rural["ratio_to_core_1000"])
    assert not rural["below_target"]


def test_compare_zones_elderly_per_10k_aged_60plus_and_targets_override():
    acc = _zone_access()
    acc["layer"] = "elderly_care"
    z = compare_zones(
        {"elderly_care": acc},
        {"elderly_care": _facilities(["new_town"])},
        CAT,
        targets={"elderly_care": (500.0, 0.6)},
    ).set_index("zone_type")
    assert z.loc["new_town", "demand"] == "pop_60plus"
    assert z.loc["new_town", "facilities_per_10k"] == pytest.approx(1 / 40 * 1e4)
    assert z.loc["core", "share_at_target"] == 0.5 and z.loc["core", "below_target"]
    assert z.loc["new_town", "share_at_target"] == 0.75 and not z.loc["new_town", "below_target"]


def test_compare_zones_facilities_by_boundaries_and_nearest():
    from shapely.geometry import box

    acc = _zone_access()
    a1, _, b1, _ = _far_cells()
    fac = gpd.GeoDataFrame(
        {"facility_id": ["x", "y"]},
        geometry=[_cell_point(a1), _cell_point(b1)],
        crs=4326,
    )
    z = compare_zones({"community_services": acc}, {"community_services": fac}, CAT)
    assert z.set_index("zone_type")["facilities"].to_dict() == {
        "core": 1,
        "new_town": 1,
        "rural": 0,
    }
    p = _cell_point(a1)
    bounds = gpd.GeoDataFrame(
        {"zone_type": ["rural"]}, geometry=[box(p.x - 1, p.y - 1, p.x + 1, p.y + 1)], crs=4326
    )
    z = compare_zones(
        {"community_services": acc}, {"community_services": fac}, CAT, boundaries=bounds
    )
    assert z.set_index("zone_type")["facilities"].to_dict() == {
        "core": 0,
        "new_town": 0,
        "rural": 2,
    }


def test_zone_chart_png(tmp_path):
    z = compare_zones(
        {"community_services": _zone_access()},
        {"community_services": _facilities(["core"])},
        CAT,
    )
    for lang in ("en", "zh"):
        path = tmp_path / f"zones_{lang}.png"
        fig = zone_comparison_chart(z, path, lang=lang)
        assert isinstance(fig, Figure)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(fig.axes) == 1
        assert len(fig.axes[0].patches) == 9  # 3 zone types x 3 radii
    assert not list(tmp_path.glob(".*tmp*"))
    assert isinstance(zone_comparison_chart(z.iloc[0:0]), Figure)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # ring around BASE
            st.integers(0, 17),  # position on the ring
            st.one_of(st.just(0.0), st.floats(0.01, 50)),  # residents aged 60+
            st.one_of(st.floats(0, 3000), st.just(np.inf)),
        ),
        min_size=1,
        max_size=25,
    ),
    st.floats(100, 2000),
)
def test_find_gaps_properties(points, target):
    rows = []
    for k, pos, p60, dist in points:
        ring = sorted(h3.grid_ring(BASE, k)) if k else [BASE]
        rows.append((ring[pos % len(ring)], p60 * 3, p60, dist, "E", "core"))
    acc = _access(rows)
    gaps = find_gaps(acc, ELDERLY, target_m=target, min_uncovered=1e-9)
    uncovered = sum(p60 for _, _, p60, d, _, _ in rows if d > target)
    # every uncovered resident falls in exactly one gap area
    assert gaps["uncovered_pop_60plus"].sum() == pytest.approx(uncovered)
    assert list(gaps["rank"]) == list(range(1, len(gaps) + 1))
    assert gaps["uncovered_pop_60plus"].is_monotonic_decreasing
    # a farther target never leaves more people uncovered
    farther = find_gaps(acc, ELDERLY, target_m=target + 500, min_uncovered=1e-9)
    assert farther["uncovered_pop_60plus"].sum() <= uncovered + 1e-9


def test_demo_pipeline_gaps_ranked_and_core_above_rural():
    """On the synthetic demo the pipeline sees what the demo is built to show."""
    from geoapp.coverage import compute_access
    from geoapp.network import cached_graph
    from geoapp.population import estimate_population
    from geoapp.sources.demo import demo_region

    region = demo_region()
    demand = estimate_population(
        region.buildings, region.boundaries, census=region.census, landuse=region.landuse
    ).points
    graph = cached_graph(region.nodes, region.edges, cache_dir=False)
    from geoapp.layers import select_features

    facilities = select_features(region.features, ELDERLY)
    access = compute_access(
        demand, facilities, graph=graph, max_dist_m=3000.0, layer_id="elderly_care"
    )
    gaps = find_gaps(access, ELDERLY)
    assert len(gaps) >= 2
    assert list(gaps["rank"]) == list(range(1, len(gaps) + 1))
    assert gaps["uncovered_pop_60plus"].is_monotonic_decreasing
    assert (
        gaps["reason"]
        .str.contains("residents aged 60+ live more than 1,000 m walk", regex=False)
        .all()
    )
    z = compare_zones({"elderly_care": access}, {"elderly_care": facilities}, CAT)
    share = z.set_index("zone_type")["share_pop_1000"]
    assert share["core"] > share["rural"]
    assert (z["status"] == "ok").all()
