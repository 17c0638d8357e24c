"""The Scenario page's map and site suggestions (helpers of ``app_pages/scenario.py``).

The map is a base drawn once per region, layer and language (tiles, panes, streets:
:func:`geoapp.maps.scenario.scenario_base`) and the overlays of the current scenario
(:func:`geoapp.maps.scenario.scenario_layers`: distance cells and gaps under the edits,
the catchment of each added site, gained / lost cells, facilities, edits, suggested
sites), kept per scenario state in the session so a rerun without an edit redraws
nothing. Suggestions are shown as a translated table (rank, residents gained, 60+
gained, district, zone, latitude and longitude) whose selected row centres the map.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from app_pages import compute, state
from geoapp.errors import GeoappError
from geoapp.i18n import t, zone_name
from geoapp.maps import scenario as scenario_maps
from geoapp.region import Region
from geoapp.scenario import Scenario

#: Scenario overlays kept per session (the newest states).
KEEP_LAYERS = 6
#: Seconds before the suggestion progress bar appears.
PROGRESS_AFTER_S = 2.0
#: Zoom level of the map centred on a suggested site.
ZOOM_TO = 16
#: The solver's time budget for a suggestion in the app (seconds; the greedy always
#: runs, the bound and exact steps stop at it): a planner waits seconds, not minutes.
SUGGEST_BUDGET_S = 6.0


@st.cache_resource(show_spinner=False, max_entries=16)
def base(
    region_key: str,
    _region: Region,
    _demand: gpd.GeoDataFrame,
    lang_code: str,
    basemap: str | None,
    tianditu_key: str | None,
) -> folium.Map:
    """Return the scenario map's base (tiles, panes, streets; shared, read-only)."""
    m = scenario_maps.scenario_base(
        _region.boundaries,
        _region.edges if len(_region.edges) else None,
        lang=lang_code,
        basemap=basemap,
        tianditu_key=tianditu_key,
        demand=_demand,
    )
    if _region.synthetic:
        from geoapp import maps

        maps.add_note(m, t("synthetic_note", lang_code), position="topleft")
    return m


def quality(
    region_key: str, region: Region, layer_id: str, mode: str, speed: float
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Return the Coverage page's data-quality class and fragment flag of each point.

    From the layer's analysis (shared with the Coverage page, kept on disk), so the
    scenario's distance cells and gaps leave out the same artefacts; (None, None) when
    it cannot be had.
    """
    try:
        res = compute.analysis(
            region_key, region, layer_id, mode, compute.speed_key(layer_id, speed)
        )
    except GeoappError:
        return None, None
    acc = res.access
    dq = acc["dq_class"].to_numpy(dtype=object) if "dq_class" in acc.columns else None
    return dq, res.on_fragment


def layers(
    scn: Scenario,
    start: Scenario,
    *,
    state_key: str,
    radius_m: float,
    lang: str,
    suggestions: gpd.GeoDataFrame | None,
    dq: tuple[np.ndarray | None, np.ndarray | None],
) -> scenario_maps.ScenarioLayers:
    """Return the scenario's map overlays, kept in the session per state and setting."""
    edits = repr([(e.action, e.facility_id, e.lon, e.lat) for e in scn.edits])
    sug = "" if suggestions is None else repr(suggestions[["rank"]].to_numpy().tolist())
    sug += "" if suggestions is None else str(suggestions.geometry.to_wkt().tolist())
    key = f"{state_key}|{edits}|{radius_m:.3f}|{lang}|{sug}"
    cache: dict[str, scenario_maps.ScenarioLayers] = st.session_state.setdefault("scn_layers", {})
    if key not in cache:
        cache[key] = scenario_maps.scenario_layers(
            scn,
            start,
            radius_m=radius_m,
            lang=lang,
            suggestions=suggestions,
            dq_class=dq[0],
            on_fragment=dq[1],
            max_features=compute.MAP_MAX_FEATURES,
        )
        for old in list(cache)[:-KEEP_LAYERS]:
            del cache[old]
    return cache[key]


def suggestions_table(
    sites: gpd.GeoDataFrame, lang: str, demand_column: str = "pop"
) -> pd.DataFrame:
    """Return the suggested sites as a table people read.

    Translated headers, residents rounded with thousands separators, zone names in
    ``lang``, latitude and longitude to 6 decimals (about 0.1 m), in rank order. The
    residents the ranking maximised (60+ for ``demand_column="pop_60plus"``) come first.
    """
    pts = sites.to_crs("EPSG:4326").geometry.representative_point()

    def count(col: str) -> list[str]:
        v = (
            pd.to_numeric(sites[col], errors="coerce")
            if col in sites
            else pd.Series(np.nan, index=sites.index)
        )
        return ["" if pd.isna(x) else f"{float(x):,.0f}" for x in v]

    district = (
        sites["district"].astype(object).fillna("").astype(str)
        if "district" in sites
        else pd.Series("", index=sites.index)
    )
    zone = (
        sites["zone_type"].astype(object).fillna("").astype(str)
        if "zone_type" in sites
        else pd.Series("", index=sites.index)
    )
    gained = [
        (t("scn_col_gained", lang), count("added_pop")),
        (t("scn_col_gained_60", lang), count("added_pop_60plus")),
    ]
    if demand_column == "pop_60plus":
        gained.reverse()
    return pd.DataFrame(
        {
            t("scn_col_rank", lang): pd.to_numeric(sites["rank"]).astype("int64").to_numpy(),
            **dict(gained),
            t("district", lang): [
                d if d.strip() else t("outside_districts", lang) for d in district
            ],
            t("zone_type", lang): [zone_name(z, lang) if z else "" for z in zone],
            t("scn_col_lat", lang): [f"{p.y:.6f}" for p in pts],
            t("scn_col_lon", lang): [f"{p.x:.6f}" for p in pts],
        }
    )


def zoom_target(sites: gpd.GeoDataFrame | None, rows: list[int]) -> tuple[float, float] | None:
    """Return ``(lat, lon)`` of the selected suggested site (first selected row), or None."""
    if sites is None or len(sites) == 0 or not rows:
        return None
    i = int(rows[0])
    if not 0 <= i < len(sites):
        return None
    p = sites.to_crs("EPSG:4326").geometry.representative_point().iloc[i]
    return round(float(p.y), 6), round(float(p.x), 6)


def selected_rows(key: str) -> list[int]:
    """Return the rows selected in the dataframe widget ``key`` (empty when none)."""
    value: Any = st.session_state.get(key)
    try:
        return [int(r) for r in value["selection"]["rows"]]
    except (KeyError, TypeError, ValueError):
        try:
            return [int(r) for r in value.selection.rows]
        except (AttributeError, TypeError, ValueError):
            return []


def progress_reporter(lang: str) -> tuple[Callable[[str, float], None], Callable[[], None]]:
    """Return a ``progress(message, fraction)`` callback for :func:`geoapp.siting.site`.

    A progress bar with the share done and an estimate of the seconds left (elapsed x
    remaining share / share done) appears once the work has taken
    :data:`PROGRESS_AFTER_S`; the second function removes it.
    """
    t0 = time.perf_counter()
    box: dict[str, Any] = {}

    def report(_message: str, fraction: float) -> None:
        f = min(max(float(fraction), 0.0), 1.0)
        elapsed = time.perf_counter() - t0
        if elapsed < PROGRESS_AFTER_S and "bar" not in box:
            return
        left = f"{elapsed * (1 - f) / f:,.0f}" if f >= 0.02 else "…"
        text = t("scn_suggesting", lang, pct=f"{f * 100:.0f}", left=left)
        if "bar" not in box:
            box["bar"] = st.progress(f, text=text)
        else:
            box["bar"].progress(f, text=text)

    def done() -> None:
        if "bar" in box:
            box["bar"].empty()

    return report, done


def suggest(
    siting: Any,
    region: Region,
    region_key: str,
    layer_id: str,
    mode: str,
    k: int,
    scn: Scenario,
) -> tuple[gpd.GeoDataFrame, float, float | None]:
    """Run :func:`geoapp.siting.site` with a progress bar.

    Returns the sites, the seconds taken and the solver's gap to its proven bound
    (None when not reported). The solver gets :data:`SUGGEST_BUDGET_S`.
    """
    lang = state.lang()
    report, done = progress_reporter(lang)
    t0 = time.perf_counter()
    try:
        res = siting.site(
            region,
            compute.catalog()[layer_id],
            k,
            demand=compute.demand(region_key, region),
            graph=compute.graph(region_key, region) if mode == "network" else None,
            facilities=scn.facilities,
            speed_kmh=scn.speed_kmh,
            time_limit_s=SUGGEST_BUDGET_S,
            progress=report,
        )
    finally:
        done()
    gap = getattr(res, "gap", None)
    return res.sites, time.perf_counter() - t0, float(gap) if gap is not None else None


__all__ = [
    "KEEP_LAYERS",
    "PROGRESS_AFTER_S",
    "SUGGEST_BUDGET_S",
    "ZOOM_TO",
    "base",
    "layers",
    "progress_reporter",
    "quality",
    "selected_rows",
    "suggest",
    "suggestions_table",
    "zoom_target",
]
