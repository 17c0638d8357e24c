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

from app_pages.compute import catalog, demo_region
from app_pages.state import DEMO_KEY, current_region, keep, lang, loaded_files
from app_pages.uploads import FACILITY_CRS, Upload, keep_extract, load_uploads
from app_pages.warm import WARMER
from app_pages.widgets import formatter, layer_formatter
from geoapp import workflow
from geoapp.errors import GeoappError, NetworkUnavailableError
from geoapp.i18n import LANGUAGE_NAMES, t
from geoapp.region import Region
from geoapp.spec import RegionSpec

log = logging.getLogger(__name__)


def set_region(region: Region, key: str) -> None:
    """Make ``region`` the loaded region and forget the district drill-down."""
    previous = st.session_state.get("region_key")
    if previous and previous != key:
        WARMER.forget(f"{previous}:")  # nothing more to warm for the region replaced
    st.session_state["region"] = region
    st.session_state["region_key"] = key
    st.session_state.pop("district", None)
    st.session_state.pop("district_pick", None)


def _on_place(place: str) -> None:
    lg = lang()
    with st.status(t("fetching", lg, place=place), expanded=True) as status:
        try:
            region = workflow.load_region(
                RegionSpec(place=place),
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
    set_region(region, f"place:{place}")


def _on_beijing(osm_path: Path, label: str) -> None:
    """Load Beijing: the extract ``osm_path`` with the 16 districts, 2020 census, zones."""
    lg = lang()
    with st.status(t("beijing_loading", lg), expanded=True) as status:
        try:
            region = workflow.load_region(
                RegionSpec(osm=osm_path, boundaries="beijing", census="beijing", zones="beijing"),
                catalog=catalog(),
                progress=lambda msg, frac: status.write(msg),
            )
        except GeoappError as exc:
            status.update(label=t("fetch_failed", lg), state="error")
            st.session_state["beijing_error"] = str(exc).replace(str(osm_path.parent) + "/", "")
            return
        status.update(label=t("fetch_done", lg, place=region.label), state="complete")
    st.session_state.pop("beijing_error", None)
    set_region(region, f"beijing:{label}")


def _beijing_form() -> None:
    lg = lang()
    st.caption(t("beijing_intro", lg))
    up = st.file_uploader(t("upload_osm", lg), type=["pbf", "osm", "bz2"], key="bj_osm")
    path_text = st.text_input(t("beijing_osm_path", lg), **keep("bj_osm_path", ""))
    if st.button(t("beijing_load", lg), key="bj_go", type="primary"):
        loaded_files(up)
        if up is not None:
            path, digest = keep_extract(up.name, up.getvalue())
            _on_beijing(path, f"upload:{digest}")
        elif path_text.strip():
            path = Path(path_text.strip()).expanduser()
            if not path.is_file():
                st.session_state["beijing_error"] = t("beijing_no_file", lg, path=path.name)
            else:
                st.session_state.pop("beijing_error", None)
                _on_beijing(path, f"path:{path.resolve()}:{path.stat().st_mtime_ns}")
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
    # a city-sized extract takes a while: say what is being read
    with st.status(t("working", lg), expanded=False) as status:
        outcome = load_uploads(
            uploads,
            previous=prev,
            lang=lg,
            catalog=catalog(),
            progress=lambda msg, frac: status.update(label=f"{msg} ({frac:.0%})"),
            **opts,
        )
        status.update(state="error" if outcome.error else "complete")
    if outcome.error:
        st.session_state["upload_error"] = outcome.error
        return
    st.session_state.pop("upload_error", None)
    assert outcome.region is not None and outcome.key is not None
    set_region(outcome.region, outcome.key)
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
    region = region.with_(meta=meta)
    set_region(region, key if share is None else f"{key}|60+={share:g}")
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
                set_region(demo_region(), DEMO_KEY)
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
