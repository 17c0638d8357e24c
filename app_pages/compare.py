"""Compare zones page: coverage of the urban core, new towns and rural areas."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common
from geoapp import charts
from geoapp.errors import GeoappError
from geoapp.i18n import zone_name

region, key, lg = common.page_header("compare")
cat = common.catalog()

default = [lid for lid in cat if lid != "heritage"] or list(cat)
layer_ids = st.multiselect(
    common.tr("layers_to_compare"),
    list(cat),
    default=default,
    key="cmp_layers",
    format_func=common.layer_formatter(),
)
mode = "network" if len(region.edges) else "euclidean"
if not layer_ids:
    st.stop()
by = st.radio(
    common.tr("group_by"),
    ["zone_type", "settlement"],
    format_func=common.tr,
    horizontal=True,
    key="cmp_group_by",
    help=common.tr("group_by_help"),
)

try:
    with st.spinner(common.tr("working")):
        table = common.zones_table(key, region, tuple(layer_ids), mode, by)
except GeoappError as exc:
    common.error_box(exc)
    st.stop()

st.subheader(common.tr("zones_table"))
shown = table.copy()
shown["layer"] = shown["layer"].map(common.layer_label)
shown = shown.drop(columns=[c for c in ("layer_label", "layer_label_zh") if c in shown.columns])
shown[by] = shown[by].map(lambda z: zone_name(str(z), lg))
st.dataframe(shown, hide_index=True, width="stretch")

share_cols = [c for c in table.columns if c.startswith("share_demand_")]
if share_cols:
    target_col = share_cols[-1]
    pivot = table.pivot_table(index=by, columns="layer", values=target_col, aggfunc="first")
    pivot.index = [zone_name(str(z), lg) for z in pivot.index]
    pivot.columns = [common.layer_label(c) for c in pivot.columns]
    st.bar_chart(pd.DataFrame(pivot), stack=False)

fig = charts.zone_comparison_chart(table, lang=lg)
st.pyplot(fig, clear_figure=False)
