"""Coverage page: who is within walking reach of one layer, where the gaps are."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from app_pages import common
from geoapp.errors import GeoappError
from geoapp.i18n import zone_name

region, key, lg = common.page_header("coverage")
cat = common.catalog()

has_network = len(region.edges) > 0
c1, c2, c3, c4 = st.columns([1.3, 1.2, 1.1, 1.4])
layer_id = c1.selectbox(
    common.tr("layer"), list(cat), key="cov_layer", format_func=common.layer_formatter()
)
layer = cat[layer_id]
labels = list(layer.labels)
target_label = layer.label_of(layer.target_m)
radius_label = c2.select_slider(
    common.tr("radius"),
    options=labels,
    value=target_label if target_label in labels else labels[-1],
    format_func=lambda lab: f"{lab.removesuffix('min')} min" if lab.endswith("min") else f"{lab} m",
    key=f"cov_radius_{layer_id}",
)
radius = layer.reach_m[radius_label]
mode = c3.radio(
    common.tr("mode"),
    ["network", "euclidean"] if has_network else ["euclidean"],
    key="cov_mode",
    format_func=common.formatter("mode_"),
)
speed_choice = c4.radio(
    common.tr("speed"),
    ["adult", "elderly", "custom"],
    key="cov_speed",
    format_func=common.formatter("speed_"),
    horizontal=True,
)
if speed_choice == "custom":
    speed = c4.slider(common.tr("speed_kmh"), 2.0, 6.0, 4.0, 0.1, key="cov_speed_kmh")
else:
    speed = common.SPEEDS[speed_choice]
with_catch = False
if mode == "network":
    with_catch = st.toggle(common.tr("catchments"), key="cov_catch", value=False)

try:
    with st.spinner(common.tr("working")):
        res = common.analysis(key, region, layer_id, mode)
        basemap, tkey = common.basemap_choice()
        # only catchments depend on the radius: without them every radius shares a map
        m = common.coverage_map(
            key,
            region,
            layer_id,
            mode,
            float(radius) if with_catch else None,
            with_catch,
            lg,
            basemap,
            tkey,
        )
except GeoappError as exc:
    common.error_box(exc)
    st.stop()

if len(res.facilities) == 0:
    st.warning(common.tr("no_facilities"))

district = common.district_picker(region, key="cov_district_pick")
summary = res.summary
level_rows = summary[summary["level"] == ("district" if district else "region")]
if district:
    level_rows = level_rows[level_rows["group"].astype(str) == district]
row = level_rows.iloc[0] if len(level_rows) else None
r = radius_label  # column suffix of the chosen reach
res_layer = res.layer  # the layer at the analysis's speed (reach in metres)
metres = res_layer.reach_m.get(r, radius)
dcol = layer.demand_column
minutes = metres / (speed * 1000 / 60)
m1, m2, m3, m4 = st.columns(4)
if row is not None:
    share = row.get(f"share_{dcol}_{r}", float("nan"))
    covered = row.get(f"covered_{dcol}_{r}", float("nan"))
    m1.metric(
        common.tr("covered_share", radius=f"{metres:,.0f}"),
        "–" if pd.isna(share) else f"{share:.0%}",
    )
    label = "covered_pop_60plus" if dcol == "pop_60plus" else "covered_pop"
    m2.metric(
        common.tr(label, radius=f"{metres:,.0f}"), "–" if pd.isna(covered) else f"{covered:,.0f}"
    )
m3.metric(
    common.tr("speed"),
    common.tr("walk_minutes", minutes=minutes),
    help=f"{metres:,.0f} m @ {speed} km/h",
)
m4.metric(common.tr("facilities"), f"{len(res.facilities):,}")

clicked = common.show_map(m, key="coverage_map", bounds=common.district_bounds(region, district))
common.drill(clicked)

left, right = st.columns(2)
with left:
    st.subheader(common.tr("coverage_by_district"))
    dist_rows = summary[summary["level"] == "district"]
    col = f"share_{dcol}_{r}"
    if col in dist_rows.columns and len(dist_rows):
        chart = dist_rows.set_index(dist_rows["group"].astype(str))[[col]].rename(
            columns={col: common.tr("covered_share", radius=f"{metres:,.0f}")}
        )
        st.bar_chart(chart, horizontal=True)
with right:
    st.subheader(common.tr("coverage_by_zone"))
    zone_rows = summary[summary["level"] == "zone_type"]
    if col in zone_rows.columns and len(zone_rows):
        chart = zone_rows.set_index(zone_rows["group"].map(lambda z: zone_name(str(z), lg)))[
            [col]
        ].rename(columns={col: common.tr("covered_share", radius=f"{metres:,.0f}")})
        st.bar_chart(chart)

st.subheader(common.tr("top_gaps"))
gaps = res.gaps
if district and len(gaps):
    gaps = gaps[gaps["district"].astype(str) == district]
if len(gaps) == 0:
    st.info(common.tr("no_gaps"))
else:
    reason_col = "reason_zh" if lg == "zh" and "reason_zh" in gaps.columns else "reason"
    show = pd.DataFrame(
        {
            common.tr("gap_rank"): gaps["rank"].to_numpy(),
            common.tr("district"): gaps["district"].astype(str).to_numpy(),
            common.tr("zone_type"): [zone_name(str(z), lg) for z in gaps["zone_type"]],
            common.tr("uncovered_pop"): gaps["uncovered_pop"].round(0).to_numpy(),
            common.tr("nearest_m"): [
                None if not math.isfinite(v) else round(v) for v in gaps["nearest_m"]
            ],
            common.tr("reason"): gaps[reason_col].astype(str).to_numpy(),
        }
    ).head(10)
    st.dataframe(show, hide_index=True, width="stretch")

if with_catch:
    # the other radii's catchments, so moving the radius slider is quick too
    common.warm_catchments(region, key, layer_id)
