"""Heritage page: heritage sites and protected zones, unprotected sites, access."""

from __future__ import annotations

import streamlit as st

from app_pages import compute, state, widgets
from app_pages.tables import readable
from geoapp.errors import GeoappError
from geoapp.heritage import site_counts
from geoapp.layers import DESIGNATED_CLASSES

region, key, lg = widgets.page_header("heritage")

try:
    with st.spinner(state.tr("working")):
        report = compute.heritage_report(key, region)
except GeoappError as exc:
    widgets.error_box(exc)
    st.stop()

sites, zones = report.sites, report.zones
if len(sites) == 0 and len(zones) == 0:
    st.info(state.tr("no_heritage"))

region_row = report.summary[report.summary["level"] == "region"]
# sites counted as summary.csv counts them: designated sites; memorials, statues apart
counts = site_counts(report)
c1, c2, c3, c4 = st.columns(4)
c1.metric(
    state.tr("heritage_designated"),
    f"{counts['designated']:,}",
    help=state.tr("heritage_counts_line", des=counts["designated"], und=counts["undesignated"]),
)
c2.metric(state.tr("heritage_zones"), f"{len(zones):,}")
n_unprot = counts["designated_unprotected"]
c3.metric(state.tr("unprotected"), f"{n_unprot:,}", help=state.tr("unprotected_note"))
if len(region_row) and "protected_area_km2" in region_row.columns:
    c4.metric(
        state.tr("protected_area"),
        f"{float(region_row['protected_area_km2'].iloc[0]):,.2f}",
    )
# one line under the figures (a banner pushed the map below the fold)
count = state.tr("heritage_counts_line", des=counts["designated"], und=counts["undesignated"])
st.caption(f"{count} {state.tr('unprotected_note')}")
if counts["designated"] == 0 and (len(sites) or len(zones)):
    st.warning(state.tr("heritage_no_designated"))
if counts["classes"]:
    parts = [f"{state.tr(f'heritage_class_{c}')} {n:,}" for c, n in counts["classes"].items()]
    colon, sep = ("：", "；") if lg == "zh" else (": ", "; ")
    st.caption(state.tr("heritage_by_class") + colon + sep.join(parts))

basemap, tkey = state.basemap_choice()
try:
    with st.spinner(state.tr("working")):
        m = compute.heritage_map(key, region, lg, basemap, tkey)
except GeoappError as exc:
    widgets.error_box(exc)
    st.stop()
widgets.drill(widgets.show_map(m, key="heritage_map"))

for level, title in (("district", "heritage_by_district"), ("zone_type", "heritage_by_zone")):
    part = report.summary[report.summary["level"] == level]
    if level == "district":
        part = part.rename(columns={"group": "district"})
        cols = ["district", "zone_type"]
    else:
        part = part.drop(columns=["zone_type"], errors="ignore")
        part = part.rename(columns={"group": "zone_type"})
        cols = ["zone_type"]
    cols += [
        c
        for c in (
            "n_designated",
            "n_undesignated",
            "n_sites",
            "n_protected_sites",
            "n_unprotected_sites",
            "share_sites_protected",
            "n_zones",
            "protected_area_km2",
            "land_area_km2",
            "share_land_protected",
        )
        if c in part.columns
    ]
    cols += [c for c in part.columns if c.startswith("share_pop_")]
    st.subheader(state.tr(title))
    headers = {
        "n_designated": state.tr("heritage_designated"),
        "n_undesignated": state.tr("heritage_undesignated"),
    }
    kinds = {"n_designated": "int", "n_undesignated": "int"}
    table = readable(
        part, lg, columns=cols, sort_zones=level == "zone_type", headers=headers, kinds=kinds
    )
    widgets.show_table(table)

if n_unprot:
    st.subheader(state.tr("unprotected_sites"))
    cols = [c for c in ("name", "kind", "district", "zone_type") if c in sites.columns]
    shown = sites["unprotected"].astype(bool) & sites["heritage_class"].astype(str).isin(
        DESIGNATED_CLASSES
    )
    widgets.show_table(readable(sites.loc[shown], lg, columns=cols))
