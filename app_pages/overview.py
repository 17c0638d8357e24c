"""Overview page: districts coloured by zone type, population and facilities."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from app_pages.tables import readable
from geoapp.errors import GeoappError

region, key, lg = common.page_header("overview")

try:
    with st.spinner(common.tr("working")):
        stats = common.district_stats(key, region)
        facilities = common.facilities_by_layer(key, region)
        heritage = common.heritage_basic(key, region) if "heritage" in facilities else None
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
    if lid == "heritage" and heritage is not None:
        # the Heritage page's count: sites (protected zones are counted apart)
        n_zones = len(heritage.zones)
        col.metric(
            common.tr("heritage_sites"),
            f"{int(shown[lid].sum()):,}",
            help=common.tr(
                "heritage_count_note",
                sites=len(heritage.sites),
                zones=n_zones,
                total=len(heritage.sites) + n_zones,
            ),
        )
    else:
        col.metric(common.layer_label(lid), f"{int(shown[lid].sum()):,}")

basemap, tkey = common.basemap_choice()
try:
    with st.spinner(common.tr("working")):
        m = common.overview_map(key, region, lg, basemap, tkey)
except GeoappError as exc:
    common.error_box(exc)
    st.stop()
bounds = common.district_bounds(region, district)
common.drill(common.show_map(m, key="overview_map", bounds=bounds))

layer_cols = list(facilities)
table = readable(
    shown,
    lg,
    columns=["district", "zone_type", "pop", "pop_60plus", *layer_cols, "facilities"],
    headers={
        **{lid: common.tr("count_header", name=common.layer_label(lid)) for lid in layer_cols},
        **(
            {"heritage": common.tr("count_header", name=common.tr("heritage_sites"))}
            if "heritage" in layer_cols
            else {}
        ),
        "facilities": common.tr("facilities_total"),
    },
    kinds={lid: "int" for lid in layer_cols},
)
common.show_table(table)
