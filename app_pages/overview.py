"""Overview page: districts coloured by zone type, population and facilities."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from geoapp.errors import GeoappError
from geoapp.i18n import zone_name

region, key, lg = common.page_header("overview")

try:
    with st.spinner(common.tr("working")):
        stats = common.district_stats(key, region)
        facilities = common.facilities_by_layer(key, region)
except GeoappError as exc:
    common.error_box(exc)
    st.stop()

district = common.district_picker(region)
shown = stats[stats["district"] == district] if district else stats

cols = st.columns(3 + len(facilities))
cols[0].metric(common.tr("districts"), f"{len(shown):,}")
cols[1].metric(common.tr("population"), f"{shown['pop'].sum():,.0f}")
cols[2].metric(common.tr("population_60plus"), f"{shown['pop_60plus'].sum():,.0f}")
for col, lid in zip(cols[3:], facilities, strict=False):
    col.metric(common.layer_label(lid), f"{int(shown[lid].sum()):,}")

basemap, tkey = common.basemap_choice()
try:
    m = common.overview_map(key, region, lg, basemap, tkey)
except GeoappError as exc:
    common.error_box(exc)
    st.stop()
bounds = common.district_bounds(region, district)
common.drill(common.show_map(m, key="overview_map", bounds=bounds))

table = shown.assign(zone_type=shown["zone_type"].map(lambda z: zone_name(z, lg)))
rename = {
    "district": common.tr("district"),
    "zone_type": common.tr("zone_type"),
    "pop": common.tr("population"),
    "pop_60plus": common.tr("population_60plus"),
    "facilities": common.tr("facilities"),
    **{lid: common.layer_label(lid) for lid in facilities},
}
st.dataframe(
    table.rename(columns=rename).round(0),
    hide_index=True,
    width="stretch",
)
