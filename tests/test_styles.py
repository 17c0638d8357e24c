"""Zone order, names and colours have one source, geoapp.styles, used everywhere."""

import matplotlib.colors as mcolors
import pandas as pd
import pytest

from geoapp import charts, i18n, styles
from geoapp.region import SETTLEMENT_TYPES, ZONE_TYPES
from geoapp.zones import BROAD_TYPES


def test_one_zone_order():
    assert styles.ZONE_ORDER == ("core", "new_town", "rural", "unknown")
    assert ZONE_TYPES == styles.ZONE_ORDER
    assert BROAD_TYPES == SETTLEMENT_TYPES == styles.BROAD_ZONE_TYPES == styles.ZONE_ORDER[:3]
    assert sorted(["unknown", "x", "rural", "core"], key=styles.zone_sort_key) == [
        "core",
        "rural",
        "unknown",
        "x",
    ]


def test_names_are_true_for_the_broad_classes():
    assert styles.zone_name("core", "en") == "Urban core"
    assert styles.zone_name("core", "zh") == "中心城区"
    # the capital core functional area is only Dongcheng and Xicheng: a fine type
    assert styles.zone_fine_name("capital_core", "zh") == "首都功能核心区"
    assert "首都功能核心区" not in {s.zh for s in styles.ZONE_STYLES.values()}
    assert styles.zone_name("new_town", "en") == "New towns"
    assert styles.zone_name("rural", "en") == "Rural areas"
    assert styles.zone_name("rural", "zh") == "乡村地区"
    assert styles.zone_name("elsewhere", "zh") == "elsewhere"
    # i18n re-exports the same functions: one source
    assert i18n.zone_name is styles.zone_name and i18n.zone_fine_name is styles.zone_fine_name


def test_chart_bars_use_the_map_colours():
    rows = [
        {"layer": "x", "zone_type": z, "share_demand_500": 0.5, "status": "ok"}
        for z in ("core", "new_town", "rural")
    ]
    fig = charts.zone_comparison_chart(pd.DataFrame(rows), lang="zh")
    ax = fig.axes[0]
    got = [mcolors.to_hex(p.get_facecolor()) for p in ax.patches]
    assert got == [styles.zone_color(z) for z in ("core", "new_town", "rural")]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["中心城区", "新城", "乡村地区"]


@pytest.mark.parametrize("z", styles.ZONE_ORDER)
def test_every_zone_has_a_distinct_colour(z):
    others = {styles.zone_color(o) for o in styles.ZONE_ORDER if o != z}
    assert styles.zone_color(z) not in others


def test_speed_presets_have_one_source():
    from geoapp import coverage

    assert coverage.SPEED_PRESETS == {"adult": 4.5, "elderly": 3.6}
    # the UI labels carry no copy of the numbers
    for key in ("speed_adult", "speed_elderly"):
        assert not any(ch.isdigit() for ch in i18n.t(key, "en") + i18n.t(key, "zh"))
