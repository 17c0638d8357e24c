"""Export page: download the current analysis for QGIS or a report."""

from __future__ import annotations

import streamlit as st

from app_pages import compute, state, widgets
from app_pages.report import report_files
from app_pages.tables import reach_text
from geoapp.errors import GeoappError

region, key, lg = widgets.page_header("export")
cat = compute.catalog()

layer_ids = list(cat)
current = st.session_state.get("_keep_cov_layer", layer_ids[0])
layer_id = st.selectbox(
    state.tr("layer"),
    layer_ids,
    format_func=widgets.layer_formatter(),
    **state.keep("exp_layer", current if current in layer_ids else layer_ids[0], layer_ids),
)
# the distance mode, speed and catchments chosen on the Coverage page
mode = state.coverage_mode(region)
speed = state.coverage_speed(layer_id)
speed_k = compute.speed_key(layer_id, speed)
with_catch = bool(st.session_state.get("_keep_cov_catch", False)) and mode == "network"

try:
    with st.spinner(state.tr("working")):
        res = compute.analysis(key, region, layer_id, mode, speed_k)
except GeoappError as exc:
    widgets.error_box(exc)
    st.stop()

# The files are built when a download is first clicked (then cached per settings), so
# the page draws at once and every button keeps the same link across reruns.
names = compute.bundle_names(with_catch and len(res.facilities) > 0)
settings = (key, region, layer_id, mode, speed_k, with_catch, lg)


def _file(name: str):
    return lambda: compute.bundle_files(*settings).get(name, b"")


layer = res.layer
reach_m = {lab: float(r) for lab, r in zip(layer.labels, layer.radii_m, strict=True)}
reaches = ", ".join(reach_text(lab, lg, reach_m) for lab in layer.labels)
speed_text = (
    f"{state.tr('speed')} {speed:g} km/h" if lg != "zh" else f"步行速度 {speed:g} 公里/小时"
)
st.info(
    state.tr(
        "export_settings",
        layer=layer.name(lg),
        mode=state.tr(f"mode_{mode}"),
        speed=speed_text,
        reach=f"{state.tr('radius_reach')} {reaches}",
        catch=state.tr("catch_on" if with_catch else "catch_off"),
    )
)
st.caption(state.tr("export_settings_hint"))
st.caption(state.tr("export_first_click"))

MIME = {
    ".geojson": "application/geo+json",
    ".csv": "text/csv",
    ".gpkg": "application/geopackage+sqlite3",
    ".html": "text/html",
    ".json": "application/json",
}
#: The report's files in the order shown (:data:`app_pages.report.REPORT_KINDS`).
REPORT_MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
}
prefix = f"{layer_id}_"
col_a, col_b = st.columns(2)
for i, name in enumerate(names):
    ext = name[name.rfind(".") :]
    if ext == ".geojson":
        label = state.tr("download_geojson", name=name)
    elif ext == ".csv":
        label = state.tr("download_csv", name=name)
    elif ext == ".gpkg":
        label = state.tr("download_gpkg")
    elif ext == ".html":
        label = state.tr("download_html")
    else:
        label = name
    (col_a if i % 2 == 0 else col_b).download_button(
        label,
        data=_file(name),
        file_name=prefix + name,
        mime=MIME.get(ext, "application/octet-stream"),
        key=f"dl_{name}",
        width="stretch",
        on_click="ignore",
    )

st.download_button(
    state.tr("download_zip"),
    data=lambda: compute.bundle_zip(*settings),
    file_name=f"geoapp_{layer_id}.zip",
    mime="application/zip",
    key="dl_zip",
    type="primary",
    on_click="ignore",
)

# ---- assessment report: report.html + report.pdf of exactly the region loaded ----
st.divider()
st.subheader(state.tr("report_title"))
spec = state.region_spec()
if spec is None:
    st.info(state.tr("report_unknown_region"))
else:
    st.caption(state.tr("report_of", name=region.label, n=len(region.boundaries)))
    if st.button(state.tr("report_build"), key="rep_build"):
        bar = st.progress(0.0, text="…")
        try:
            built = report_files(
                spec,
                state.session_folder(),
                lang=lg,
                mode=mode,
                speed_kmh=state.coverage_speed(),
                progress=lambda m, f: bar.progress(min(max(float(f), 0.0), 1.0), text=m),
            )
        except GeoappError as exc:
            widgets.error_box(exc)
        else:
            bar.progress(1.0, text="✓")
            st.session_state["report_built"] = (key, lg, built)
    kept = st.session_state.get("report_built")
    if kept is not None and kept[0] == key:
        st.success(state.tr("report_ready", name=region.label))
        # the PDF to file, the DOCX beside it to edit (same content), the HTML page
        kinds = [k for k in REPORT_MIME if k in kept[2]]
        for col, kind in zip(st.columns(max(len(kinds), 1)), kinds, strict=False):
            col.download_button(
                f"report.{kind}" + (f" ({state.tr('report_docx_note')})" if kind == "docx" else ""),
                data=kept[2][kind],
                file_name=f"geoapp_report_{kept[1]}.{kind}",
                mime=REPORT_MIME[kind],
                key=f"rep_dl_{kind}",
                type="primary" if kind == "pdf" else "secondary",
                width="stretch",
                on_click="ignore",
            )
