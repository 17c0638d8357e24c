"""The app's shared sidebar: language, region (demo, Beijing, a place, uploads), basemap.

Loading a region replaces the session's region (:func:`set_region`) and drops the
warm-up queued for the region replaced. Uploaded files are checked and read by
:mod:`app_pages.uploads` (free of Streamlit).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import streamlit as st

from app_pages import session_files
from app_pages.compute import catalog, demo_region
from app_pages.state import (
    DEMO_KEY,
    current_region,
    keep,
    lang,
    loaded_files,
    region_spec,
    session_folder,
)
from app_pages.uploads import FACILITY_CRS, Upload, keep_extract, load_uploads
from app_pages.warm import WARMER
from app_pages.widgets import formatter, layer_formatter
from geoapp import settings, workflow
from geoapp.errors import GeoappError, NetworkUnavailableError
from geoapp.i18n import LANGUAGE_NAMES, t
from geoapp.region import Region
from geoapp.spec import RegionSpec

log = logging.getLogger(__name__)


def set_region(region: Region, key: str, spec: RegionSpec | None) -> None:
    """Make ``region`` (loaded from recipe ``spec``) the region; forget the drill-down.

    ``spec`` is what the report loads again (None: unknown, no report).
    """
    previous = st.session_state.get("region_key")
    if previous and previous != key:
        WARMER.forget(f"{previous}:")  # nothing more to warm for the region replaced
    st.session_state["region"] = region
    st.session_state["region_key"] = key
    st.session_state["region_spec"] = spec
    folder = st.session_state.get("_session_folder")
    if isinstance(folder, session_files.SessionFolder):  # the replaced region's uploads go
        used = [] if spec is None else [spec.osm, spec.boundaries, spec.census, spec.zones]
        used += [table.path for table in spec.facilities] if spec is not None else []
        session_files.drop_unused(folder, [u for u in used if u])
    st.session_state.pop("district", None)
    st.session_state.pop("district_pick", None)


def _on_place(place: str) -> None:
    lg = lang()
    spec = RegionSpec(place=place)
    with st.status(t("fetching", lg, place=place), expanded=True) as status:
        try:
            region = workflow.load_region(
                spec,
                catalog=catalog(),
                progress=lambda msg, frac: status.write(msg),
            )
        except NetworkUnavailableError:
            log.info("place fetch %r: no network", place, exc_info=True)
            status.update(label=t("fetch_failed", lg), state="error")
            st.session_state["place_error"] = t("offline_place", lg)
            return
        except GeoappError as exc:
            status.update(label=t("fetch_failed", lg), state="error")
            st.session_state["place_error"] = str(exc)
            return
        status.update(label=t("fetch_done", lg, place=place), state="complete")
    st.session_state.pop("place_error", None)
    set_region(region, f"place:{place}", spec)


def _on_beijing(osm_path: Path, label: str) -> None:
    """Load Beijing: the extract ``osm_path`` with the 16 districts, 2020 census, zones."""
    lg = lang()
    units = str(st.session_state.get("bj_units", "beijing"))  # districts or 街道/乡镇
    spec = RegionSpec(osm=osm_path, boundaries=units, census="beijing", zones="beijing")
    with st.status(t("beijing_loading", lg), expanded=True) as status:
        try:
            region = workflow.load_region(
                spec,
                catalog=catalog(),
                progress=lambda msg, frac: status.write(msg),
            )
        except GeoappError as exc:
            status.update(label=t("fetch_failed", lg), state="error")
            message = str(exc).replace(str(osm_path.parent) + "/", "")
            st.session_state["beijing_error"] = message.replace(str(osm_path.parent), "")
            return
        status.update(label=t("fetch_done", lg, place=region.label), state="complete")
    st.session_state.pop("beijing_error", None)
    set_region(region, f"beijing:{units}:{label}", spec)


def allowed_path(text: str) -> Path | None:
    """Return the extract at ``text`` when it lies in a folder the operator allowed.

    ``GEOAPP_ALLOWED_DIRS`` names the folders (:func:`geoapp.settings.allowed_dirs`);
    a path outside them is None whether or not the file exists, so the field tells a
    visitor nothing about the server's other files.
    """
    allowed = settings.allowed_dirs()
    if not allowed or not text.strip():
        return None
    path = Path(text.strip()).expanduser().resolve()
    if not any(path.is_relative_to(folder) for folder in allowed):
        return None
    return path


def _beijing_form() -> None:
    lg = lang()
    st.caption(t("beijing_intro", lg))
    units = ("beijing", "beijing-subdistricts")
    st.radio(t("beijing_units", lg), units, format_func=formatter("beijing_units_"),
             **keep("bj_units", units[0], units))  # fmt: skip
    up = st.file_uploader(t("upload_osm", lg), type=["pbf", "osm", "bz2"], key="bj_osm")
    # a field reading files on the server only where the operator allowed it
    path_text = ""
    if settings.allowed_dirs():
        path_text = st.text_input(t("beijing_osm_path", lg), **keep("bj_osm_path", ""))
    if st.button(t("beijing_load", lg), key="bj_go", type="primary"):
        loaded_files(up)
        if up is not None:
            try:
                folder = session_folder()
                session_files.reserve(folder, up.size, lg)
            except GeoappError as exc:
                st.session_state["beijing_error"] = str(exc)
            else:
                path, digest = keep_extract(up.name, up.getvalue(), folder.path)
                _on_beijing(path, f"upload:{digest}")
        elif path_text.strip():
            path = allowed_path(path_text)
            name = Path(path_text.strip()).name
            if path is None:
                st.session_state["beijing_error"] = t("path_not_allowed", lg, name=name)
            elif not path.is_file():
                st.session_state["beijing_error"] = t("beijing_no_file", lg, path=name)
            else:
                st.session_state.pop("beijing_error", None)
                _on_beijing(path, f"path:{path}:{path.stat().st_mtime_ns}")
        else:
            st.session_state["beijing_error"] = t("beijing_need_osm", lg)
    if st.session_state.get("beijing_error"):
        st.error(st.session_state["beijing_error"])


def process_pending_uploads() -> None:
    """Load the files queued in ``st.session_state['pending_uploads']``, if any.

    The queue holds ``{kind: (file name, bytes)}`` plus optional ``facility_crs`` and
    ``facility_layer`` entries; the sidebar's upload button fills it (tests may too).
    A bad file shows a message and leaves the loaded region untouched.
    """
    pending = st.session_state.pop("pending_uploads", None)
    if not pending:
        return
    opts = {k: pending.pop(k) for k in ("facility_crs", "facility_layer") if k in pending}
    uploads = {k: Upload(name=v[0], data=bytes(v[1])) for k, v in pending.items() if v}
    prev, _ = current_region()
    lg = lang()
    try:
        session = session_folder()
        session_files.reserve(session, sum(len(u.data) for u in uploads.values()), lg)
    except GeoappError as exc:
        st.session_state["upload_error"] = str(exc)
        return
    # kept for the region's lifetime (the report reads them again), gone with the session
    folder = session.subfolder("upload")
    # a city-sized extract takes a while: say what is being read
    with st.status(t("working", lg), expanded=False) as status:
        outcome = load_uploads(
            uploads,
            previous=prev,
            lang=lg,
            catalog=catalog(),
            progress=lambda msg, frac: status.update(label=f"{msg} ({frac:.0%})"),
            folder=folder,
            previous_spec=region_spec(),
            **opts,
        )
        status.update(state="error" if outcome.error else "complete")
    if outcome.error:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        st.session_state["upload_error"] = outcome.error
        return
    st.session_state.pop("upload_error", None)
    assert outcome.region is not None and outcome.key is not None
    set_region(outcome.region, outcome.key, outcome.spec)
    st.session_state["upload_ok"] = outcome.region.label


def _upload_form() -> None:
    lg = lang()
    files: dict[str, Any] = {}
    files["osm"] = st.file_uploader(t("upload_osm", lg), type=["pbf", "osm", "bz2"], key="up_osm")
    files["boundaries"] = st.file_uploader(
        t("upload_boundaries", lg), type=["geojson", "json", "gpkg", "zip"], key="up_bnd"
    )
    files["facilities"] = st.file_uploader(
        t("upload_facilities", lg), type=["csv", "xlsx"], key="up_fac"
    )
    crs = st.selectbox(
        t("upload_facilities_crs", lg),
        FACILITY_CRS,
        format_func=formatter("crs_"),
        help=t("facility_crs_help", lg),
        **keep("up_fac_crs", FACILITY_CRS[0], FACILITY_CRS),
    )
    layer_ids = list(catalog())
    layer = st.selectbox(
        t("layer", lg),
        layer_ids,
        format_func=layer_formatter(),
        **keep("up_fac_layer", layer_ids[0], layer_ids),
    )
    files["census"] = st.file_uploader(t("upload_census", lg), type=["csv"], key="up_census")
    files["zones"] = st.file_uploader(t("upload_zones", lg), type=["toml"], key="up_zones")
    if st.button(t("load_uploads", lg), key="up_go", type="primary"):
        loaded_files(files["osm"])
        pending: dict[str, Any] = {
            k: (f.name, f.getvalue()) for k, f in files.items() if f is not None
        }
        if pending:
            pending.update(facility_crs=crs, facility_layer=layer)
            st.session_state["pending_uploads"] = pending
        else:
            st.session_state["upload_error"] = t("upload_need_data", lg)


def _share_60plus(region: Region) -> Region:
    """Draw the share aged 60+ input and apply it to the loaded region.

    The share goes into ``region.meta["share_60plus"]`` (read by
    :func:`geoapp.workflow.prepare_demand`) and the region's cache key, so every
    cached result of another share stays apart. Empty: each country's share.
    """
    lg = lang()
    share = st.number_input(
        t("share_60plus", lg),
        min_value=0.0,
        max_value=1.0,
        step=0.01,
        format="%.2f",
        help=t("share_60plus_help", lg),
        **keep("share_60plus", None),
    )
    share = None if share is None else float(share)
    if region.meta.get("share_60plus") == share:
        return region
    meta = {k: v for k, v in region.meta.items() if k != "share_60plus"}
    if share is not None:
        meta["share_60plus"] = share
    key = str(st.session_state.get("region_key", DEMO_KEY)).split("|60+=")[0]
    spec = region_spec()
    if spec is not None:
        spec = spec.replace(share_60plus=share)
    region = region.with_(meta=meta)
    set_region(region, key if share is None else f"{key}|60+={share:g}", spec)
    return region


REGION_SOURCES = ("demo", "beijing", "place", "upload")
BASEMAPS = ("none", "osm", "positron", "tianditu")


def sidebar() -> Region:
    """Draw the shared sidebar (language, region, basemap) and return the region.

    Every choice is kept across pages and languages (:func:`keep`).
    """
    with st.sidebar:
        st.radio(
            "Language / 语言",
            list(LANGUAGE_NAMES),
            format_func=lambda c: LANGUAGE_NAMES[c],
            horizontal=True,
            **keep("lang", "en", list(LANGUAGE_NAMES)),
        )
        lg = lang()
        st.subheader(t("region", lg))
        source = st.radio(
            t("region_source", lg),
            list(REGION_SOURCES),
            format_func=formatter("source_"),
            **keep("region_source", "demo", REGION_SOURCES),
        )
        if source == "demo":
            if st.session_state.get("region_key") not in (None, DEMO_KEY) and st.button(
                t("source_demo", lg), key="back_to_demo"
            ):
                set_region(demo_region(), DEMO_KEY, RegionSpec(region="demo"))
        elif source == "beijing":
            _beijing_form()
        elif source == "place":
            place = st.text_input(
                t("place_name", lg), help=t("place_help", lg), **keep("place", "")
            )
            if st.button(t("fetch", lg), key="fetch_place", disabled=not place.strip()):
                _on_place(place.strip())
            if st.session_state.get("place_error"):
                st.error(st.session_state["place_error"])
        else:
            _upload_form()

        process_pending_uploads()
        if st.session_state.get("upload_error"):
            st.error(t("upload_error", lg) + "\n\n" + st.session_state["upload_error"])
        elif st.session_state.get("upload_ok"):
            st.success(t("upload_ok", lg, name=st.session_state.pop("upload_ok")))

        region, _ = current_region()
        region = _share_60plus(region)
        st.caption(t("region_loaded", lg, name=region.label))
        if region.synthetic:
            st.caption(f"⚠️ {t('synthetic_short', lg)}")

        st.subheader(t("basemap", lg))
        st.selectbox(
            t("basemap", lg),
            list(BASEMAPS),
            format_func=formatter("basemap_"),
            label_visibility="collapsed",
            **keep("basemap", "none", BASEMAPS),
        )
        if st.session_state.get("basemap") == "tianditu":
            st.text_input(t("tianditu_key", lg), type="password", **keep("tianditu_key", ""))
            if not st.session_state.get("tianditu_key"):
                st.info(t("tianditu_needs_key", lg))
    return region
