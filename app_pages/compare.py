"""Compare zones page: coverage of the urban core, new towns and rural areas."""

from __future__ import annotations

import streamlit as st

from app_pages import compute, state, widgets
from app_pages.tables import readable
from geoapp.errors import GeoappError

region, key, lg = widgets.page_header("compare")
cat = compute.catalog()

all_ids = list(cat)
default = [lid for lid in cat if lid != "heritage"] or all_ids
layer_ids = st.multiselect(
    state.tr("layers_to_compare"),
    all_ids,
    format_func=widgets.layer_formatter(),
    **state.keep("cmp_layers", default, all_ids),
)
mode = "network" if len(region.edges) else "euclidean"
if not layer_ids:
    st.stop()
by = st.radio(
    state.tr("group_by"),
    ["zone_type", "settlement"],
    format_func=widgets.formatter(""),
    horizontal=True,
    help=state.tr("group_by_help"),
    **state.keep("cmp_group_by", "zone_type", ["zone_type", "settlement"]),
)
# minute-based layers reach as far as the speed chosen on the Coverage page
speed = state.coverage_speed()

try:
    with st.spinner(state.tr("working")):
        table = compute.zones_table(key, region, tuple(layer_ids), mode, by, speed)
except GeoappError as exc:
    widgets.error_box(exc)
    st.stop()

st.subheader(state.tr("zones_table"))
st.caption(state.tr("compare_columns_note"))
share_cols = [c for c in table.columns if c.startswith("share_demand_")]
ratio_cols = [c for c in table.columns if c.startswith("ratio_to_core_")]
shown_cols = [
    "layer",
    by,
    "pop",
    "pop_60plus",
    *share_cols,
    *ratio_cols,
    "median_dist_m",
    "p90_dist_m",
    "facilities",
    "facilities_per_10k",
    "area_km2",
    "share_at_target",
    "verdict",
]
# the one status of each zone (zones.csv's): met, not met, or no data (never a 0%)
table = table.assign(verdict=table["status"].map(lambda s: state.tr(f"status_{s}")))
shown = readable(
    table,
    lg,
    columns=shown_cols,
    layer_name=widgets.layer_formatter(),
    headers={"verdict": state.tr("status_header")},
)
widgets.show_table(shown)

if share_cols:
    # drawn once per settings (matplotlib takes ~0.5 s a figure)
    st.image(compute.zone_chart_png(key, region, tuple(layer_ids), mode, by, speed, lg))
