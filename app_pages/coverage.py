"""Coverage page: who is within walking reach of one layer, where the gaps are."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import compute, state, warm, widgets
from app_pages.tables import as_text, reach_text, readable
from geoapp.errors import GeoappError
from geoapp.i18n import t

region, key, lg = widgets.page_header("coverage")
cat = compute.catalog()

has_network = len(region.edges) > 0
layer_ids = list(cat)
# every control in one row (the district picker too), so the map starts above the fold
c1, c2, c3, c4, c5 = st.columns([1.2, 1.2, 1.1, 1.4, 1.2])
layer_id = c1.selectbox(
    state.tr("layer"),
    layer_ids,
    format_func=widgets.layer_formatter(),
    **state.keep("cov_layer", layer_ids[0], layer_ids),
)
layer = cat[layer_id]
modes = ["network", "euclidean"] if has_network else ["euclidean"]
speed_choice = c4.radio(
    state.tr("speed"),
    list(state.SPEED_CHOICES),
    format_func=widgets.formatter("speed_"),
    horizontal=True,
    **state.keep("cov_speed", "layer", list(state.SPEED_CHOICES)),
)
if speed_choice == "custom":
    speed = c4.slider(state.tr("speed_kmh"), 2.0, 6.0, step=0.1, **state.keep("cov_speed_kmh", 4.0))
elif speed_choice == "layer":
    speed = layer.walk_speed_kmh  # the layer's own pace (elderly care: 3.6 km/h)
else:
    speed = compute.SPEEDS[speed_choice]
speed_k = compute.speed_key(layer_id, speed)
mode = c3.radio(
    state.tr("mode"),
    modes,
    format_func=widgets.formatter("mode_"),
    **state.keep("cov_mode", modes[0], modes),
)
with_catch = False
if mode == "network":
    with_catch = c3.toggle(state.tr("catchments"), **state.keep("cov_catch", False))

try:
    with st.spinner(state.tr("working")):
        res = compute.analysis(key, region, layer_id, mode, speed_k)
except GeoappError as exc:
    widgets.error_box(exc)
    st.stop()

# the layer as run: a minute-based layer's radii are minutes x the chosen speed
run_layer = res.layer
labels = list(run_layer.labels)
reach_m = {lab: float(r) for lab, r in zip(labels, run_layer.radii_m, strict=True)}
target_label = run_layer.label_of(run_layer.target_m)
radius_label = c2.select_slider(
    state.tr("radius_reach"),
    options=labels,
    format_func=lambda lab, lg=lg: reach_text(lab, lg, reach_m),
    **state.keep(
        f"cov_radius_{layer_id}", target_label if target_label in labels else labels[-1], labels
    ),
)
radius_m = reach_m[radius_label]
reach = reach_text(radius_label, lg, reach_m)

try:
    with st.spinner(state.tr("working")):
        basemap, tkey = state.basemap_choice()
        m = compute.coverage_map(
            key, region, layer_id, mode, speed_k, radius_m, with_catch, lg, basemap, tkey
        )
        gaps = compute.gaps_at(key, region, layer_id, mode, speed_k, radius_m)
except GeoappError as exc:
    widgets.error_box(exc)
    st.stop()

if len(res.facilities) == 0:
    st.warning(state.tr("no_facilities"))

with c5:
    district = widgets.district_picker(region, key="cov_district_pick")
summary = res.summary
level_rows = summary[summary["level"] == ("district" if district else "region")]
if district:
    level_rows = level_rows[level_rows["group"].astype(str) == district]
row = level_rows.iloc[0] if len(level_rows) else None
dcol = layer.demand_column
m1, m2, m3, m4 = st.columns(4)
if row is not None:
    share = row.get(f"share_{dcol}_{radius_label}", float("nan"))
    covered = row.get(f"covered_{dcol}_{radius_label}", float("nan"))
    # the one status of the unit (summary.csv's): no data is said, never "0%"
    status = str(row.get("status", ""))
    # a layer with no facility in the data: nothing to measure, not "covered 0%"
    no_data = status == "no_data" or len(res.facilities) == 0
    nd = state.tr("no_data_value")
    why = state.tr(f"status_{status}") if status in ("met", "not_met", "no_data") else None
    if why and lg == "en" and row.get("status_reason"):
        why = f"{why}: {row['status_reason']}"
    m1.metric(
        state.tr("covered_share", radius=reach),
        nd if no_data or pd.isna(share) else f"{share:.1%}",  # as summary.csv, Compare, PDF
        help=why,
    )
    label = "covered_pop_60plus" if dcol == "pop_60plus" else "covered_pop"
    m2.metric(
        state.tr(label, radius=reach), nd if no_data or pd.isna(covered) else f"{covered:,.0f}"
    )
if run_layer.minutes:
    minutes = float(run_layer.minutes[labels.index(radius_label)])
    walk = t("walk_minutes", lg, minutes=minutes)
    walk_help = t("speed_reach", lg, minutes=minutes, speed=speed, metres=radius_m)
else:
    minutes = radius_m / (speed * 1000 / 60)
    walk = t("walk_minutes", lg, minutes=minutes)
    walk_help = t("speed_walk", lg, minutes=minutes, speed=speed, metres=radius_m)
m3.metric(state.tr("speed"), walk, help=walk_help)
# the facility count of the area shown: the district's when drilled in
n_fac = len(res.facilities)
if row is not None and "n_facilities" in row.index and pd.notna(row["n_facilities"]):
    n_fac = int(row["n_facilities"])
m4.metric(state.tr("facilities"), f"{n_fac:,}")

# at region zoom the answer: each district outlined and labelled against the target
region_rows = summary[summary["level"] == "district"]
target_label_ = run_layer.label_of(run_layer.target_m)
share_col = f"share_{dcol}_{radius_label}"
district_shares = {
    str(r["group"]): (float(r.get(share_col, float("nan"))), str(r.get("status", "")))
    for _, r in region_rows.iterrows()
}
if radius_label != target_label_:  # the status is the target's; at another reach: the share's
    target_share_ = float(getattr(run_layer, "target_share", 0.85))
    district_shares = {
        d: (v, s if s == "no_data" or pd.isna(v) else ("met" if v >= target_share_ else "not_met"))
        for d, (v, s) in district_shares.items()
    }
m = widgets.with_overlay(m, widgets.district_status_overlay(key, region, district_shares))
clicked = widgets.show_map(
    m,
    key="coverage_map",
    bounds=widgets.district_bounds(region, district),
    # turned on: drawn and ticked, however many facilities (the map hides > 25)
    shown_layers=[t("catchments", lg)] if with_catch else [],
)
widgets.drill(clicked)

col = f"share_{dcol}_{radius_label}"
target_share = float(getattr(run_layer, "target_share", 0.85))
# the two charts side by side and the gaps' heading, caption and table: one element each
# (issue 29: the browser lays out every element of the first page before its map)
charts = []
dist_rows = summary[summary["level"] == "district"]
# official order (Beijing: the Master Plan's), never Unicode order
order = widgets.official_order(dist_rows["group"].astype(str).tolist(), region)
dist_rows = dist_rows.set_index(dist_rows["group"].astype(str)).loc[order]
zone_rows = summary[summary["level"] == "zone_type"]
for heading, rows, zones in (
    (state.tr("coverage_by_district_at", radius=reach), dist_rows, False),
    (state.tr("coverage_by_zone_at", radius=reach), zone_rows, True),
):
    bars = (
        widgets.share_bars_html(
            rows["group"].astype(str).tolist(),
            rows[col].tolist(),
            title=state.tr("share_covered"),  # the radius is in the heading: same spec
            target=target_share,
            zones=zones,
            lg=lg,
        )
        if col in rows.columns and len(rows)
        else ""
    )
    charts.append(widgets.section_html(heading, bars))
# the map's legend note (a caption under the map), then the charts
status_note = state.tr("district_status_note", reach=reach, share=target_share)
st.html(widgets.caption_html(status_note) + widgets.side_by_side_html(*charts))

if district and len(gaps):
    gaps = gaps[gaps["district"].astype(str) == district]
who = t("who_60plus" if dcol == "pop_60plus" else "who_all", lg)
gaps_note = t(
    "gaps_note",
    lg,
    reach=reach,
    who=who,
    layer=layer.name(lg),
    mode=state.tr(f"mode_{mode}"),
)
if len(gaps) == 0:
    st.html(widgets.section_html(state.tr("top_gaps"), "", caption=gaps_note))
    st.info(state.tr("no_gaps"))
else:
    # counts in the layer's population (60+ for elderly care), as the ranking and reason
    unc = "uncovered_pop_60plus" if dcol == "pop_60plus" else "uncovered_pop"
    shown = gaps.head(10).assign(
        reason=gaps.head(10)["reason_zh" if lg == "zh" and "reason_zh" in gaps else "reason"]
    )
    table = readable(
        shown,
        lg,
        columns=["rank", "district", "zone_type", unc, "share_uncovered", "nearest_m", "reason"],
        sort_zones=False,
    )
    # ten rows as a plain HTML table: the reasons wrap, and the browser loads no grid
    st.html(
        widgets.section_html(
            state.tr("top_gaps"), widgets.text_table_html(as_text(table, lg)), caption=gaps_note
        )
    )

# what one click can ask for next: other radii, layers, mode, speeds, language
warm.warm_coverage(region, key, layer_id, mode, radius_label, with_catch)
