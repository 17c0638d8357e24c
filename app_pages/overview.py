"""Overview page: districts coloured by zone type, population and facilities."""

from __future__ import annotations

import streamlit as st

from app_pages import compute, state, widgets
from app_pages.tables import readable
from geoapp.errors import GeoappError
from geoapp.heritage import site_counts

region, key, lg = widgets.page_header("overview")

try:
    with st.spinner(state.tr("working")):
        stats = compute.district_stats(key, region)
        facilities = compute.facilities_by_layer(key, region)
        heritage = compute.heritage_basic(key, region) if "heritage" in facilities else None
except GeoappError as exc:
    widgets.error_box(exc)
    st.stop()

# the district picker and the figures in one row, so the map starts above the fold
pick, *cols = st.columns([1.3] + [1.0] * (3 + len(facilities)), vertical_alignment="bottom")
with pick:
    district = widgets.district_picker(region)
shown = stats[stats["district"] == district] if district else stats
# districts in their official order (Beijing: the Master Plan's)
shown = (
    shown.set_index("district", drop=False)
    .loc[widgets.official_order(shown["district"].astype(str).tolist(), region)]
    .reset_index(drop=True)
)

cols[0].metric(state.tr("districts"), f"{len(shown):,}")
cols[1].metric(state.tr("population"), f"{shown['pop'].sum():,.0f}")
cols[2].metric(state.tr("population_60plus"), f"{shown['pop_60plus'].sum():,.0f}")
for col, lid in zip(cols[3:], facilities, strict=False):
    if lid == "heritage" and heritage is not None:
        # the Heritage page's and summary.csv's count: designated sites (memorials,
        # statues and unlisted historic features are counted apart)
        counts = (
            site_counts(heritage, level="district", group=district)
            if district
            else site_counts(heritage)
        )
        col.metric(
            state.tr("heritage_designated"),
            f"{counts['designated']:,}",
            help=state.tr(
                "heritage_counts_line", des=counts["designated"], und=counts["undesignated"]
            ),
        )
    else:
        # the whole region: every facility (those inside no district too), as summary.csv
        n = int(shown[lid].sum()) if district else len(facilities[lid])
        col.metric(widgets.layer_label(lid), f"{n:,}")

basemap, tkey = state.basemap_choice()
try:
    with st.spinner(state.tr("working")):
        m = compute.overview_map(key, region, lg, basemap, tkey)
except GeoappError as exc:
    widgets.error_box(exc)
    st.stop()
bounds = widgets.district_bounds(region, district)
widgets.drill(widgets.show_map(m, key="overview_map", bounds=bounds))

layer_cols = list(facilities)
if heritage is not None and "heritage" in shown.columns:
    # per district the designated sites, as the Heritage page and summary.csv count them
    hs = heritage.summary[heritage.summary["level"] == "district"]
    designated = dict(zip(hs["group"], hs["n_designated"], strict=True))
    shown = shown.assign(heritage=shown["district"].map(designated).fillna(0).astype(int))
table = readable(
    shown,
    lg,
    columns=["district", "zone_type", "pop", "pop_60plus", *layer_cols, "facilities"],
    headers={
        **{lid: state.tr("count_header", name=widgets.layer_label(lid)) for lid in layer_cols},
        **(
            {"heritage": state.tr("count_header", name=state.tr("heritage_designated"))}
            if "heritage" in layer_cols
            else {}
        ),
        "facilities": state.tr("facilities_total"),
    },
    kinds={lid: "int" for lid in layer_cols},
)
widgets.show_small_table(table)  # the demo's 9 districts: plain HTML
