"""Compare zones page: coverage of the urban core, new towns and rural areas."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from app_pages.tables import readable
from geoapp.errors import GeoappError

region, key, lg = common.page_header("compare")
cat = common.catalog()

all_ids = list(cat)
default = [lid for lid in cat if lid != "heritage"] or all_ids
layer_ids = st.multiselect(
    common.tr("layers_to_compare"),
    all_ids,
    format_func=common.layer_formatter(),
    **common.keep("cmp_layers", default, all_ids),
)
mode = "network" if len(region.edges) else "euclidean"
if not layer_ids:
    st.stop()
by = st.radio(
    common.tr("group_by"),
    ["zone_type", "settlement"],
    format_func=common.formatter(""),
    horizontal=True,
    help=common.tr("group_by_help"),
    **common.keep("cmp_group_by", "zone_type", ["zone_type", "settlement"]),
)
# minute-based layers reach as far as the speed chosen on the Coverage page
speed = common.coverage_speed()

try:
    with st.spinner(common.tr("working")):
        table = common.zones_table(key, region, tuple(layer_ids), mode, by, speed)
except GeoappError as exc:
    common.error_box(exc)
    st.stop()

st.subheader(common.tr("zones_table"))
st.caption(common.tr("compare_columns_note"))
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
    "share_at_target",
    "below_target",
]
shown = readable(table, lg, columns=shown_cols, layer_name=common.layer_formatter())
common.show_table(shown)

if share_cols:
    # drawn once per settings (matplotlib takes ~0.5 s a figure)
    st.image(common.zone_chart_png(key, region, tuple(layer_ids), mode, by, speed, lg))
