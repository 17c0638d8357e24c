"""The zone chart: settlement classes, and layers without facilities in the data."""

import json

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from geoapp.charts import zone_comparison_chart
from geoapp.styles import zone_color, zone_name


def _rows(group: str, status: str, share: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "layer": "x",
                group: z,
                "share_demand_300": share,
                "share_demand_1000": share,
                "target_radius_m": 1000.0,
                "target_share": 0.85,
                "status": status,
                "layer_label": "Clinics",
                "layer_label_zh": "诊所",
            }
            for z in ("core", "new_town", "rural")
        ]
    )


def test_chart_by_settlement():
    fig = zone_comparison_chart(_rows("settlement", "ok", 0.5))
    ax = fig.axes[0]
    assert len(ax.patches) == 6  # 3 classes x 2 radii
    assert mcolors.to_hex(ax.patches[0].get_facecolor()) == zone_color("core")
    assert [p.get_height() for p in ax.patches] == [0.5] * 6


def test_chart_says_no_facilities_instead_of_zero_coverage():
    for lang, words in (("en", "No facilities in the data"), ("zh", "数据中没有此类设施")):
        fig = zone_comparison_chart(_rows("zone_type", "no_data", np.nan), lang=lang)
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert any(words in t for t in texts)
        assert all(p.get_height() == 0 for p in fig.axes[0].patches)


# --------------------------------------------------------------------------- Altair


def _spec(chart):
    return chart.to_dict()


def _layers(spec):
    return spec["layer"]


def _demo_rows(status="ok", shares=(0.9, 0.5, 0.2)):
    rows = []
    for z, s in zip(("rural", "core", "new_town"), shares, strict=True):  # scrambled order
        rows.append(
            {
                "grouping": "zone_type",
                "layer": "elderly_care",
                "zone_type": z,
                "demand": "pop_60plus",
                "share_demand_300": s / 2,
                "share_demand_500": s / 1.5,
                "share_demand_1000": s,
                "target_radius_m": 1000.0,
                "target_share": 0.85,
                "status": status,
                "access_mode": "network",
                "layer_label": "Elderly care",
                "layer_label_zh": "养老服务",
            }
        )
    return pd.DataFrame(rows)


def test_zone_chart_axes_scale_target_and_zone_order():
    from geoapp import charts
    from geoapp.catalog import load_catalog
    from geoapp.styles import zone_name

    layer = load_catalog()["elderly_care"]
    spec = _spec(charts.zone_chart(_demo_rows(), layer, lang="en"))
    bars, _nodata, rule, _label = _layers(spec)
    enc = bars["encoding"]
    assert enc["y"]["title"] == "Residents aged 60+ within reach (%)"
    assert enc["x"]["title"] == "Walking distance to the nearest facility"
    assert enc["y"]["scale"]["domain"] == [0.0, 1.0]  # fixed 0-100 %, whatever the data
    assert enc["y"]["axis"]["format"] == "%"
    order = [zone_name(z, "en") for z in ("core", "new_town", "rural")]
    assert enc["color"]["scale"]["domain"] == order
    assert enc["color"]["scale"]["range"] == [zone_color(z) for z in ("core", "new_town", "rural")]
    assert enc["xOffset"]["sort"] == order
    assert enc["x"]["sort"] == ["300 m", "500 m", "1,000 m"]
    # the target: a rule at 0.85 on the same 0-1 scale
    assert rule["mark"]["type"] == "rule"
    data = spec["datasets"][rule["data"]["name"]]
    assert data[0]["target"] == 0.85 and "85% within 1,000 m" in data[0]["label"]
    values = spec["datasets"][bars["data"]["name"]]
    assert {v["zone"] for v in values} == set(order)
    assert all(v["share_text"] != "0.000000" for v in values)


def test_zone_chart_says_no_data_instead_of_zero():
    from geoapp import charts

    rows = _demo_rows(status="no_data", shares=(np.nan, np.nan, np.nan))
    for lang, word, why in (
        ("en", "no data", "coverage cannot be assessed"),
        ("zh", "无数据", "无法评估覆盖率"),
    ):
        spec = _spec(charts.zone_chart(rows, "elderly_care", lang=lang))
        values = next(v for k, v in spec["datasets"].items() if v and "share" in v[0])
        assert all(v["share"] is None and v["nodata"] == word for v in values)
        texts = json.dumps(spec, ensure_ascii=False)
        assert "0.000000" not in texts and why in texts
    # one group without residents: only its bars say "no data"
    rows = _demo_rows()
    rows.loc[
        rows["zone_type"] == "rural", ["share_demand_300", "share_demand_500", "share_demand_1000"]
    ] = np.nan
    spec = _spec(charts.zone_chart(rows, "elderly_care"))
    values = next(v for k, v in spec["datasets"].items() if v and "share" in v[0])
    assert {v["zone"] for v in values if v["nodata"]} == {zone_name("rural")}


def test_zone_chart_minute_layer_and_settlement_grouping():
    from dataclasses import replace

    from geoapp import charts
    from geoapp.catalog import load_catalog

    base = load_catalog()["community_services"]
    layer = replace(base, minutes=(5.0, 15.0), radii_m=(375.0, 1125.0), target_m=1125.0)
    rows = pd.DataFrame(
        [
            {
                "grouping": g,
                "layer": layer.id,
                "zone_type": z if g == "zone_type" else None,
                "settlement": z if g == "settlement" else None,
                "share_demand_5min": 0.4,
                "share_demand_15min": 0.8,
                "target_radius_m": 1125.0,
                "target_share": 0.85,
                "status": "ok",
            }
            for g in ("zone_type", "settlement")
            for z in ("core", "new_town", "rural")
        ]
    )
    spec = _spec(charts.zone_chart(rows, layer, grouping="settlement", lang="en"))
    enc = spec["layer"][0]["encoding"]
    assert enc["x"]["sort"] == ["5 min (375 m)", "15 min (1,125 m)"]
    assert enc["color"]["legend"]["title"] == "Settlement"
    assert enc["y"]["title"] == "Residents within reach (%)"


@pytest.mark.slow
def test_zone_chart_exports_offline(tmp_path):
    from geoapp import charts

    chart = charts.zone_chart(_demo_rows(), "elderly_care", lang="zh")
    svg = charts.to_svg(chart)
    assert svg.startswith("<svg") and "养老服务" in svg and "中心城区" in svg
    assert "http://" not in svg.replace("http://www.w3.org", "")
    png = charts.to_png(chart, tmp_path / "zones.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "zones.png").read_bytes() == png


def test_zone_chart_without_rows_says_so_and_renders():
    from geoapp import charts

    for table, layer in ((_demo_rows(), "heritage"), (pd.DataFrame(columns=["layer"]), None)):
        svg = charts.to_svg(charts.zone_chart(table, layer))
        assert "No zone comparison to show" in svg


# --------------------------------------------------------------- the reach axis's unit


def _minute_rows() -> pd.DataFrame:
    rows = _rows("zone_type", "ok", 0.5).drop(columns=["share_demand_300", "share_demand_1000"])
    return rows.assign(share_demand_5min=0.3, share_demand_15min=0.7)


@pytest.mark.parametrize(
    ("rows", "lang", "ticks", "label"),
    [
        (_rows("zone_type", "ok", 0.5), "en", ["300", "1,000"], "Walking distance (m)"),
        (_minute_rows(), "en", ["5", "15"], "Walking time (min)"),
        (_minute_rows(), "zh", ["5", "15"], "步行时间（分钟）"),
    ],
)
def test_the_reach_axis_is_in_the_unit_of_its_ticks(rows, lang, ticks, label):
    """Minute columns: minutes under "Walking time (min)", never metres under minutes."""
    ax = zone_comparison_chart(rows, lang=lang).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ticks
    assert ax.get_xlabel() == label
    # the bars stand at the shares of their column, in the columns' order
    first_zone = [p.get_height() for p in ax.patches[: len(ticks)]]
    assert first_zone == ([0.5, 0.5] if ticks[0] == "300" else [0.3, 0.7])


def test_the_chart_by_settlement_is_titled_so():
    fig = zone_comparison_chart(_rows("settlement", "ok", 0.5))
    assert fig.texts[0].get_text() == "Coverage by settlement"
    fig = zone_comparison_chart(_rows("zone_type", "ok", 0.5))
    assert fig.texts[0].get_text() == "Coverage by zone type"
