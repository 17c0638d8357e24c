"""Export page: download the current analysis for QGIS or a report."""

from __future__ import annotations

import io
import zipfile

import streamlit as st

from app_pages import common
from geoapp.errors import GeoappError

region, key, lg = common.page_header("export")
cat = common.catalog()

layer_ids = list(cat)
current = st.session_state.get("cov_layer", layer_ids[0])
layer_id = st.selectbox(
    common.tr("layer"),
    layer_ids,
    index=layer_ids.index(current) if current in layer_ids else 0,
    key="exp_layer",
    format_func=common.layer_formatter(),
)
mode = st.session_state.get("cov_mode", "network") if len(region.edges) else "euclidean"
with_catch = bool(st.session_state.get("cov_catch", False)) and mode == "network"

try:
    with st.spinner(common.tr("working")):
        files = common.bundle_files(key, region, layer_id, mode, with_catch, lg)
except GeoappError as exc:
    common.error_box(exc)
    st.stop()

MIME = {
    ".geojson": "application/geo+json",
    ".csv": "text/csv",
    ".gpkg": "application/geopackage+sqlite3",
    ".html": "text/html",
    ".json": "application/json",
}
prefix = f"{layer_id}_"
col_a, col_b = st.columns(2)
for i, (name, data) in enumerate(sorted(files.items())):
    ext = name[name.rfind(".") :]
    if ext == ".geojson":
        label = common.tr("download_geojson", name=name)
    elif ext == ".csv":
        label = common.tr("download_csv", name=name)
    elif ext == ".gpkg":
        label = common.tr("download_gpkg")
    elif ext == ".html":
        label = common.tr("download_html")
    else:
        label = name
    (col_a if i % 2 == 0 else col_b).download_button(
        label,
        data=data,
        file_name=prefix + name,
        mime=MIME.get(ext, "application/octet-stream"),
        key=f"dl_{name}",
        width="stretch",
    )

buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
    for name, data in sorted(files.items()):
        zf.writestr(prefix + name, data)
st.download_button(
    common.tr("download_zip"),
    data=buf.getvalue(),
    file_name=f"geoapp_{layer_id}.zip",
    mime="application/zip",
    key="dl_zip",
    type="primary",
)
