"""The app's shared sidebar: language, region (demo, Beijing, a place, uploads), basemap.

Loading a region replaces the session's region (:func:`set_region`) and drops the
warm-up queued for the region replaced. Uploaded files are checked and read by
:mod:`app_pages.uploads` (free of Streamlit).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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

T = TypeVar("T")

#: Seconds over which the bar creeps most of the way to the next step's share.
CREEP_S = 12.0


def moving_fraction(said: float, since_s: float) -> float:
    """Return the share a progress bar shows ``since_s`` seconds after a step said ``said``.

    A long step (reading a city's extract) reports nothing for many seconds: the bar
    creeps from ``said`` towards the next step (a third of what is left, at most
    0.95) so that it keeps moving, and never passes that point until the step ends.

    Examples
    --------
    >>> moving_fraction(0.05, 0.0)
    0.05
    >>> round(moving_fraction(0.05, 1e6), 3)
    0.367
    >>> moving_fraction(0.9, 30.0) < 0.95
    True
    """
    head = min(0.95, said + (1.0 - said) / 3.0)
    if head <= said:
        return said
    return said + (head - said) * (1.0 - math.exp(-max(since_s, 0.0) / CREEP_S))


def with_progress(work: Callable[[Callable[[str, float], None]], T], lg: str) -> T:
    """Run ``work(progress)`` in a worker thread under a progress bar that moves.

    The bar shows the last step the library said (in English; "working" in Chinese),
    the seconds since the start, and a share that creeps between steps
    (:func:`moving_fraction`). ``work`` must not draw (it runs outside the script).
    Its exception is raised here.
    """
    said: dict[str, Any] = {"msg": t("working", lg), "frac": 0.0, "at": time.monotonic()}

    def progress(message: str, fraction: float) -> None:
        said.update(msg=str(message), frac=float(fraction), at=time.monotonic())

    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work(progress)
        except BaseException as exc:  # noqa: BLE001 - raised again in the script thread
            box["error"] = exc

    bar = st.progress(0.0, text=t("working", lg))
    start = time.monotonic()
    worker = threading.Thread(target=run, name="geoapp-load", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.4)
        now = time.monotonic()
        step = said["msg"] if lg == "en" else t("working", lg)
        unit = "秒" if lg == "zh" else "s"
        share = moving_fraction(min(max(said["frac"], 0.0), 1.0), now - said["at"])
        bar.progress(min(share, 0.99), text=f"{step} · {now - start:.0f} {unit}")
    bar.empty()
    if "error" in box:
        raise box["error"]
    return box["value"]


def set_region(
    region: Region, key: str, spec: RegionSpec | None, *, keep_study: bool = False
) -> None:
    """Make ``region`` (loaded from recipe ``spec``) the region; forget the drill-down.

    ``spec`` is what the report loads again (None: unknown, no report). Another
    region also forgets the whole region a study area was cut from, unless
    ``keep_study`` (the study area itself, or the share aged 60+ of the region shown).
    """
    if not keep_study:
        st.session_state.pop(STUDY_BASE, None)
    previous = st.session_state.get("region_key")
    if previous and previous != key:
        WARMER.forget(f"{previous}:")  # nothing more to warm for the region replaced
    st.session_state["region"] = region
    st.session_state["region_key"] = key
    st.session_state["region_spec"] = spec
    folder = st.session_state.get("_session_folder")
    if isinstance(folder, session_files.SessionFolder):  # the replaced region's uploads go
        used = [] if spec is None else [spec.osm, spec.boundaries, spec.census, spec.zones]
        used += [spec.study_area] if spec is not None else []
        base = st.session_state.get(STUDY_BASE)  # the whole region's files stay too
        for one in (spec, base[2] if base else None):
            if one is not None:
                used += [one.osm, one.boundaries, one.census, one.zones, one.study_area]
                used += [table.path for table in one.facilities]
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
    cat = catalog()
    with st.status(t("beijing_loading", lg), expanded=True) as status:
        try:
            region = with_progress(
                lambda progress: workflow.load_region(spec, catalog=cat, progress=progress), lg
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
    # live once the extract arrived on the server (the uploader's value is then set)
    ready = up is not None or bool(path_text.strip())
    if st.button(t("beijing_load", lg), key="bj_go", type="primary", disabled=not ready):
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
    if not ready:
        st.caption(t("beijing_need_osm", lg))
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
    # a city-sized extract takes a while: say what is being read, with a bar that moves
    cat, spec = catalog(), region_spec()
    with st.status(t("working", lg), expanded=True) as status:
        outcome = with_progress(
            lambda progress: load_uploads(
                uploads,
                previous=prev,
                lang=lg,
                catalog=cat,
                progress=progress,
                folder=folder,
                previous_spec=spec,
                **opts,
            ),
            lg,
        )
        status.update(state="error" if outcome.error else "complete", expanded=False)
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
    # live once a file arrived on the server (an uploader's value is set only then)
    ready = any(f is not None for f in files.values())
    if st.button(t("load_uploads", lg), key="up_go", type="primary", disabled=not ready):
        loaded_files(files["osm"])
        pending: dict[str, Any] = {
            k: (f.name, f.getvalue()) for k, f in files.items() if f is not None
        }
        if pending:
            pending.update(facility_crs=crs, facility_layer=layer)
            st.session_state["pending_uploads"] = pending
        else:
            st.session_state["upload_error"] = t("upload_need_data", lg)


#: Session key of ``(region, key, spec)`` of the whole region a study area was cut from.
STUDY_BASE = "study_base"
#: Session key of the study-area expander's open state (kept across reruns and pages).
STUDY_OPEN = "_study_open"
#: Polygon files a study area may be read from.
STUDY_FILE_TYPES = ["geojson", "json", "gpkg", "zip"]


def study_area_value(picked: list[str], names: str) -> str:
    """Return the ``--study-area`` names of the districts ``picked`` and the ``names`` typed.

    Examples
    --------
    >>> study_area_value(["海淀区"], " 学院路街道， 清华园街道 ")
    '海淀区,学院路街道,清华园街道'
    >>> study_area_value([], "")
    ''
    """
    typed = [n.strip() for n in re.split(r"[,，、;；]+", names) if n.strip()]
    return ",".join(dict.fromkeys([*picked, *typed]))


def _study_area_form(region: Region) -> None:
    """Draw the study-area control: district / 街道 names or a polygon file.

    The region shown (or, once cut, the whole region it was cut from) is cut as the
    command line's ``--study-area`` does (:func:`geoapp.study_area.resolve_study_area`
    and :func:`~geoapp.study_area.clip_region`, the last step of ``load_region``), and
    the recipe gets ``study_area``, so the report loads the same area.
    """
    lg = lang()
    base = st.session_state.get(STUDY_BASE)
    whole = base[0] if base else region
    names = [str(d) for d in whole.boundaries["district"]] if len(whole.boundaries) else []
    # the expander keeps its open/closed state across the reruns a pick or a cut makes
    # (a stateless one may be drawn anew, closed, hiding "Cut to the study area")
    opened = st.session_state.get(STUDY_OPEN, base is not None)

    def _remember_open() -> None:
        st.session_state[STUDY_OPEN] = bool(st.session_state.get("sa_open"))

    box = st.expander(
        t("study_area_title", lg), expanded=opened, key="sa_open", on_change=_remember_open
    )
    if not (opened if box.open is None else box.open):
        # closed: nothing inside is drawn (a file drop zone, a multiselect and buttons the
        # browser would lay out, hidden, on every page's first run); the names typed are
        # kept (:func:`keep`) for when it opens
        return
    with box:
        picked = st.multiselect(t("study_area_districts", lg), names, **keep("sa_names", [], names))
        typed = st.text_input(
            t("study_area_names", lg), help=t("study_area_names_help", lg), **keep("sa_text", "")
        )
        up = st.file_uploader(t("study_area_file", lg), type=STUDY_FILE_TYPES, key="sa_file")
        value = study_area_value(list(picked), typed)
        # stacked, full width: both labels read in full in a narrow sidebar (en and zh)
        if st.button(
            t("study_area_apply", lg),
            key="sa_go",
            disabled=not value and up is None,  # live once a name or the file arrived
            width="stretch",
        ):
            if _apply_study_area(value, up):
                st.session_state[STUDY_OPEN] = True
                st.rerun()  # the form shows the way back to the whole region
        if base is not None and st.button(
            t("study_area_clear", lg), key="sa_clear", width="stretch"
        ):
            set_region(*base)
            st.session_state.pop("study_error", None)
            st.rerun()
        if st.session_state.get("study_error"):
            st.error(st.session_state["study_error"])


def _apply_study_area(value: str, up: Any) -> bool:
    """Cut the whole region to the area ``value`` names or the polygon file ``up``.

    Returns True when the region shown was cut; False when the area could not be
    read (the reason is kept in ``study_error``).
    """
    from geoapp import study_area

    lg = lang()
    base = st.session_state.get(STUDY_BASE)
    if base is None:
        region, key = current_region()
        base = (region, key, region_spec())
    whole, whole_key, whole_spec = base
    folder = None
    if up is not None:
        data = up.getvalue()
        try:
            session = session_folder()
            session_files.reserve(session, len(data), lg)
        except GeoappError as exc:
            st.session_state["study_error"] = str(exc)
            return False
        folder = session.subfolder("upload-study")
        path = folder / "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(up.name).name)
        path.write_bytes(data)
        value = str(path)
        tag = "file:" + hashlib.sha256(data).hexdigest()[:16]
    else:
        tag = value
    try:
        area = study_area.resolve_study_area(value, whole.boundaries)
        region = study_area.clip_region(whole, area)
    except GeoappError as exc:
        message = str(exc).replace("--study-area ", "")  # no command-line option in the app
        if folder is not None:
            message = message.replace(str(folder) + "/", "").replace(str(folder), "")
            shutil.rmtree(folder, ignore_errors=True)
        st.session_state["study_error"] = message
        return False
    st.session_state.pop("study_error", None)
    spec = None if whole_spec is None else whole_spec.replace(study_area=value)
    set_region(region, f"{whole_key}|study={tag}", spec, keep_study=True)
    st.session_state[STUDY_BASE] = base
    return True


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
    key = re.sub(r"\|60\+=[^|]*", "", str(st.session_state.get("region_key", DEMO_KEY)))
    spec = region_spec()
    if spec is not None:
        spec = spec.replace(share_60plus=share)
    region = region.with_(meta=meta)
    set_region(region, key if share is None else f"{key}|60+={share:g}", spec, keep_study=True)
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
        _study_area_form(region)
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
