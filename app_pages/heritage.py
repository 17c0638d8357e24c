"""Heritage page: heritage sites and protected zones, unprotected sites, access."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from geoapp.errors import GeoappError
from geoapp.i18n import zone_name

region, key, lg = common.page_header("heritage")

try:
    with st.spinner(common.tr("working")):
        report = common.heritage_report(key, region)
except GeoappError as exc:
    common.error_box(exc)
    st.stop()

sites, zones = report.sites, report.zones
if len(sites) == 0 and len(zones) == 0:
    st.info(common.tr("no_heritage"))

region_row = report.summary[report.summary["level"] == "region"]
c1, c2, c3, c4 = st.columns(4)
c1.metric(common.tr("heritage_sites"), f"{len(sites):,}")
c2.metric(common.tr("heritage_zones"), f"{len(zones):,}")
n_unprot = int(sites["unprotected"].sum()) if "unprotected" in sites.columns else 0
c3.metric(common.tr("unprotected"), f"{n_unprot:,}")
if len(region_row) and "protected_area_km2" in region_row.columns:
    c4.metric(
        common.tr("heritage_zones") + " km²",
        f"{float(region_row['protected_area_km2'].iloc[0]):,.2f}",
    )

basemap, tkey = common.basemap_choice()
try:
    m = common.heritage_map(key, region, lg, basemap, tkey)
except GeoappError as exc:
    common.error_box(exc)
    st.stop()
common.drill(common.show_map(m, key="heritage_map"))

for level, title in (("district", "heritage_by_district"), ("zone_type", "heritage_by_zone")):
    part = report.summary[report.summary["level"] == level].drop(columns=["level"])
    if level == "zone_type":
        part = part.assign(group=part["group"].map(lambda z: zone_name(str(z), lg)))
    if "zone_type" in part.columns:
        part = part.assign(
            zone_type=part["zone_type"].map(lambda z: zone_name(str(z), lg) if z else "")
        )
    st.subheader(common.tr(title))
    st.dataframe(part, hide_index=True, width="stretch")

if n_unprot:
    st.subheader(common.tr("unprotected"))
    cols = [c for c in ("name", "kind", "district", "zone_type") if c in sites.columns]
    st.dataframe(
        sites.loc[sites["unprotected"].astype(bool), cols],
        hide_index=True,
        width="stretch",
    )
