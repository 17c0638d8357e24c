"""Compare zones page: coverage of the urban core, new towns and rural areas."""

from __future__ import annotations

import streamlit as st

from app_pages import compute, state, widgets
from app_pages.tables import readable
from geoapp.errors import GeoappError
from geoapp.region import Region


def default_grouping(region_key: str, region: Region) -> str:
    """Return the grouping the data supports: zone types when two of them hold residents.

    Uploaded districts without a zone mapping are all one (or no) zone type: three
    rows, two of them empty. Then the settlement classes (built-up density of the
    residents' cells), which every region has, say more. A region loaded anew starts
    from its own default; within one region the planner's choice is kept.
    """
    if st.session_state.get("_cmp_region") != region_key:
        st.session_state["_cmp_region"] = region_key
        st.session_state.pop("_keep_cmp_group_by", None)
        st.session_state.pop("cmp_group_by", None)
    try:
        stats = compute.district_stats(region_key, region)
    except GeoappError:
        return "settlement"
    from geoapp.styles import BROAD_ZONE_TYPES

    lived = stats[(stats["pop"] > 0) & stats["zone_type"].isin(BROAD_ZONE_TYPES)]
    return "zone_type" if lived["zone_type"].nunique() >= 2 else "settlement"


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
    **state.keep("cmp_group_by", default_grouping(key, region), ["zone_type", "settlement"]),
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
