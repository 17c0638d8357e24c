"""Session state of the Streamlit app: language, kept widget values, loaded region.

Reads and writes ``st.session_state`` only; draws nothing (:mod:`app_pages.widgets`
does) and computes nothing (:mod:`app_pages.compute` does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from app_pages import session_files
from app_pages.compute import SPEEDS, catalog, demo_region
from geoapp.i18n import t
from geoapp.region import Region
from geoapp.spec import RegionSpec

DEMO_KEY = "demo"


def lang() -> str:
    """Return the interface language chosen in the sidebar (``en`` or ``zh``)."""
    return st.session_state.get("lang", "en")


def tr(key: str, **fmt: object) -> str:
    """Return a UI string in the current language."""
    return t(key, lang(), **fmt)


def keep(key: str, default: Any, options: Sequence[Any] | None = None) -> dict[str, Any]:
    """Make widget ``key`` keep its value across pages, languages and reruns.

    Streamlit forgets a widget's value when the widget is not drawn in a run (another
    page) or when its label changes (another language). The value is kept in a shadow
    entry, restored into ``st.session_state[key]`` before the widget is drawn and
    updated by the widget's ``on_change``. Pass the returned ``key`` and ``on_change``
    to the widget, and no ``index``/``value``/``default``. A kept value no longer among
    ``options`` falls back to ``default`` (a list keeps its valid items).
    """
    shadow = f"_keep_{key}"
    state = st.session_state
    value = state[shadow] if shadow in state else state.get(key, default)
    if options is not None:
        opts = list(options)
        if isinstance(value, list):
            value = [v for v in value if v in opts]
        elif value not in opts:
            value = default
    state[key] = value
    state[shadow] = value

    def _save() -> None:
        st.session_state[shadow] = st.session_state[key]

    return {"key": key, "on_change": _save}


def current_region() -> tuple[Region, str]:
    """Return the loaded region and its cache key (the demo until another is loaded)."""
    if st.session_state.get("region") is None:
        st.session_state["region"] = demo_region()
        st.session_state["region_key"] = DEMO_KEY
        st.session_state["region_spec"] = RegionSpec(region="demo")
    return st.session_state["region"], st.session_state["region_key"]


def region_spec() -> RegionSpec | None:
    """Return the recipe of the loaded region (what the report loads), None when unknown."""
    current_region()
    return st.session_state.get("region_spec")


def session_folder() -> session_files.SessionFolder:
    """Return this session's temporary folder (uploads, report builds), removed with it.

    The first run of a session also removes the folders of sessions that ended
    (:func:`app_pages.session_files.sweep`); later runs mark the session alive.
    """
    holder = st.session_state.get("_session_folder")
    if isinstance(holder, session_files.SessionFolder):
        holder.touch()
        return holder
    sid = session_files.streamlit_session_id()
    ttl = float(st.get_option("server.disconnectedSessionTTL") or 0)
    session_files.sweep(session_files.streamlit_is_active, keep=[sid], grace_s=ttl + 5.0)
    holder = session_files.SessionFolder(sid)
    st.session_state["_session_folder"] = holder
    return holder


def basemap_choice() -> tuple[str | None, str | None]:
    """Return the basemap and Tianditu key chosen in the sidebar."""
    bm = st.session_state.get("basemap", "none")
    key = st.session_state.get("tianditu_key") or None
    if bm == "tianditu" and not key:
        return None, None
    return (None if bm == "none" else bm), key


#: The speed choices of the Coverage page: the layer's own pace (the default), the
#: presets, or a custom speed.
SPEED_CHOICES = ("layer", *SPEEDS, "custom")


def coverage_speed(layer_id: str | None = None) -> float | None:
    """Return the walking speed (km/h) chosen on the Coverage page (kept across pages).

    With "the layer's own pace" chosen: that layer's speed when ``layer_id`` is given,
    else None (each layer its own).
    """
    state = st.session_state
    choice = state.get("_keep_cov_speed", state.get("cov_speed", "layer"))
    if choice == "custom":
        return float(state.get("_keep_cov_speed_kmh", state.get("cov_speed_kmh", 4.0)))
    if choice == "layer" or choice not in SPEEDS:
        layer = catalog().get(layer_id) if layer_id else None
        return layer.walk_speed_kmh if layer is not None else None
    return float(SPEEDS[choice])


def coverage_mode(region: Region) -> str:
    """Return the distance mode chosen on the Coverage page (network when it has streets)."""
    if not len(region.edges):
        return "euclidean"
    state = st.session_state
    return str(state.get("_keep_cov_mode", state.get("cov_mode", "network")))


def kept(key: str, default: Any) -> Any:
    """Return the value :func:`keep` holds for widget ``key`` (``default`` when none)."""
    state = st.session_state
    return state.get(f"_keep_{key}", state.get(key, default))


#: Sidebar widgets that hold an extract to load instead of the region shown.
EXTRACT_UPLOADERS = ("up_osm", "bj_osm")


def about_to_switch(state: Mapping[str, Any]) -> bool:
    """Return True when an extract is picked in the sidebar but not loaded yet.

    The planner is about to replace the region: warming its other pages would only
    slow the load (a step cannot be stopped once begun).
    """
    loaded = set(state.get("_loaded_file_ids", ()))
    picked = (state.get(k) for k in EXTRACT_UPLOADERS)
    return any(f is not None and getattr(f, "file_id", None) not in loaded for f in picked)


def loaded_files(*files: Any) -> None:
    """Record the sidebar files a Load button took (see :func:`about_to_switch`)."""
    st.session_state["_loaded_file_ids"] = [f.file_id for f in files if f is not None]
