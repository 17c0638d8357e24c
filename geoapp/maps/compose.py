"""The composed maps: coverage (whole, or as base and overlays), overview, heritage.

Each builds a :func:`geoapp.maps.leaflet.base_map`, adds the layers of
:mod:`geoapp.maps.layers` in their panes, one legend for every layer drawn and the
title and synthetic-data notes, and finishes with the layer control. The coverage map
keeps at most ``max_features`` features (:data:`geoapp.maps.display.MAX_FEATURES`):
demand cells are re-aggregated to coarser H3 cells, gaps limited to the best-ranked,
catchments dissolved and facilities merged per H3 cell as needed.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp.artefacts import DQ_ARTEFACTS, DQ_OK, dq_labels
from geoapp.catalog import Layer
from geoapp.hexes import resolution_for_area
from geoapp.i18n import t
from geoapp.maps.display import (
    CLUSTER_OVER,
    DEFAULT_SPEED_KMH,
    LABEL_TOP,
    MAX_FEATURES,
    aggregate_points,
    column_or,
    data_extent_frame,
    demand_cells,
    display_tolerance_m,
    esc,
    extent_area_km2,
    extent_km,
    feature_collection,
    fmt_int,
    hexes_for_display,
    safe_color,
)
from geoapp.maps.layers import (
    add_boundaries,
    add_catchments,
    add_facilities,
    add_gaps,
    add_heritage,
    add_hex_layer,
    add_streets,
)
from geoapp.maps.leaflet import (
    GeoJsonLayer,
    HideOnAdd,
    MapSetup,
    add_legend,
    add_note,
    base_map,
    distance_legend,
    facility_legend,
    finish_map,
    gap_legend,
    js_json,
    layer_minutes,
    no_data_legend,
    radius_text,
    use_clusters,
    zone_legend,
)


def _finish(m: folium.Map, *, synthetic: bool, lang: str, title: str | None) -> folium.Map:
    # bottom-left corner, bottom up: scale bar (added by base_map), note, title
    if synthetic:
        add_note(m, t("synthetic_note", lang), position="bottomleft")
    if title:
        add_note(m, title, position="bottomleft", title=True)
    return finish_map(m)


def coverage_map(
    *,
    region_boundaries: gpd.GeoDataFrame,
    hexes: gpd.GeoDataFrame | None,
    facilities: gpd.GeoDataFrame | None,
    catchments: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    edges: gpd.GeoDataFrame | None = None,
    layer: Layer | None = None,
    lang: str = "en",
    basemap: str | None = None,
    tianditu_key: str | None = None,
    synthetic: bool = False,
    radius_m: float | None = None,
    mode: str = "network",
    speed_kmh: float | None = None,
    title: str | None = None,
    hex_column: str = "dist_m",
    height: str | int = "100%",
    target_m: float | None = None,
    search_limit_m: float | None = None,
    max_features: int = MAX_FEATURES,
    label_top: int = LABEL_TOP,
    access: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Return the coverage map of one layer, gaps first.

    Bottom to top: main streets, district outlines, demand on H3 cells coloured by
    distance to the nearest facility (pale within the target, strong beyond it),
    catchments at ``radius_m`` (hidden by default when there are many), gap areas
    with strong outlines and their rank labels, and the facilities as small dots
    (clustered when many). One legend lists every layer drawn (facility colour and
    count, gap outline, distance classes in metres and minutes); a metric scale bar,
    a layer control, and compact title and synthetic-data notes at the bottom left.

    Parameters
    ----------
    speed_kmh
        Walking speed for the minutes shown (default the layer's speed, else
        :data:`DEFAULT_SPEED_KMH`).
    target_m
        Distance within which demand cells are pale (default ``layer.target_m``).
    search_limit_m
        The run's search bound, for "not reachable within X m".
    max_features
        Most GeoJSON features the map holds (all layers together). Demand cells are
        re-aggregated to coarser H3 cells (:func:`hexes_for_display`), gaps limited to
        the best-ranked, catchments dissolved and facilities merged per H3 cell as
        needed, so a city-sized map.html stays small; the bundle keeps full detail.
    label_top
        How many of the best-ranked gaps carry a rank label.
    access
        The access table (demand points with ``dist_m``). When given, the demand cells
        are aggregated from it at the resolution the region's size calls for
        (:func:`display_resolution`: res 10 for a neighbourhood, 9 for a 50 km region,
        8 or 7 for a city) instead of using ``hexes`` (res 9). Points of a data-quality
        class (``dq_class``: network gap, edge of data) are drawn apart, as their class.
    """
    m, tol = _coverage_base(
        region_boundaries,
        edges,
        extent_of=(region_boundaries, hexes, facilities),
        fit=(access if access is not None and len(access) else hexes, gaps, facilities),
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
        height=height,
    )
    _add_coverage_overlays(
        m,
        tol=tol,
        region_boundaries=region_boundaries,
        hexes=hexes,
        facilities=facilities,
        catchments=catchments,
        gaps=gaps,
        layer=layer,
        lang=lang,
        radius_m=radius_m,
        mode=mode,
        speed_kmh=speed_kmh,
        hex_column=hex_column,
        target_m=target_m,
        search_limit_m=search_limit_m,
        max_features=max_features,
        label_top=label_top,
        access=access,
    )
    if title is None and layer is not None:
        title = layer.name(lang)
    return _finish(m, synthetic=synthetic, lang=lang, title=title)


@dataclasses.dataclass(frozen=True)
class MapParts:
    """A coverage map as a base drawn once and overlays redrawn per setting.

    ``base`` (Leaflet, panes, scale bar, the extent, the basemap tiles, the streets)
    depends only on the region and the basemap, so the app keeps one map in the
    browser and replaces only ``overlays`` -- one :class:`folium.FeatureGroup` per
    layer drawn (districts, demand cells, catchments, gaps, facilities) and per box
    (legend, notes, title) -- when the planner changes the layer, radius, mode, speed
    or language. ``layer_control`` lists the streets and the overlays' layers.
    """

    base: folium.Map
    overlays: tuple[folium.FeatureGroup, ...]

    def layer_control(self) -> folium.LayerControl:
        """Return a new layer control for the base map and its overlays."""
        return folium.LayerControl(collapsed=False)

    def combined(self) -> folium.Map:
        """Return one map holding the base and the overlays (a copy; for tests, export)."""
        m = copy.deepcopy(self.base)
        for fg in self.overlays:
            copy.deepcopy(fg).add_to(m)
        return finish_map(m)


def coverage_map_parts(
    *,
    region_boundaries: gpd.GeoDataFrame,
    hexes: gpd.GeoDataFrame | None,
    facilities: gpd.GeoDataFrame | None,
    catchments: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    edges: gpd.GeoDataFrame | None = None,
    layer: Layer | None = None,
    lang: str = "en",
    basemap: str | None = None,
    tianditu_key: str | None = None,
    synthetic: bool = False,
    radius_m: float | None = None,
    mode: str = "network",
    speed_kmh: float | None = None,
    title: str | None = None,
    hex_column: str = "dist_m",
    height: str | int = "100%",
    target_m: float | None = None,
    search_limit_m: float | None = None,
    max_features: int = MAX_FEATURES,
    label_top: int = LABEL_TOP,
    access: gpd.GeoDataFrame | None = None,
) -> MapParts:
    """Return :func:`coverage_map` split into a base and overlays (:class:`MapParts`).

    Same parameters and the same layers, legend and notes as :func:`coverage_map`;
    the base's extent and simplification follow ``region_boundaries`` only, so every
    layer of a region shares one base.
    """
    demand = access if access is not None and len(access) else hexes
    m = base_map(
        data_extent_frame(region_boundaries, demand, edges),
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
        height=height,
    )
    for child in m._children.values():
        if isinstance(child, MapSetup):  # the one text of the base: in both languages
            child.offline_json = js_json(f"{t('tiles_failed', 'en')} / {t('tiles_failed', 'zh')}")
    use_clusters(m)  # scripts load once per map: the overlays may cluster
    tol = display_tolerance_m(extent_km(region_boundaries))
    if edges is not None:
        # the streets' script holds no text (their name is the layer control's): in the base
        add_streets(m, edges, lang=lang, tolerance_m=tol)
    before = set(m._children)
    add_boundaries(m, region_boundaries, lang=lang, tolerance_m=2 * tol)
    if synthetic:
        add_note(m, t("synthetic_note", lang), position="bottomleft")
    _add_coverage_overlays(
        m,
        tol=tol,
        region_boundaries=region_boundaries,
        hexes=hexes,
        facilities=facilities,
        catchments=catchments,
        gaps=gaps,
        layer=layer,
        lang=lang,
        radius_m=radius_m,
        mode=mode,
        speed_kmh=speed_kmh,
        hex_column=hex_column,
        target_m=target_m,
        search_limit_m=search_limit_m,
        max_features=max_features,
        label_top=label_top,
        access=access,
    )
    if title is None and layer is not None:
        title = layer.name(lang)
    if title:
        add_note(m, title, position="bottomleft", title=True)
    overlays = []
    for key in [k for k in m._children if k not in before]:
        child = m._children.pop(key)
        if isinstance(child, GeoJsonLayer):
            fg = folium.FeatureGroup(
                name=child.layer_name, overlay=True, control=child.control, show=True
            )
            if not child.show:
                HideOnAdd().add_to(fg)
            child.control, child.show = False, True
        else:
            fg = folium.FeatureGroup(name=key, overlay=True, control=False, show=True)
        child._parent = None
        fg.add_child(child, name=key)
        overlays.append(fg)
    return MapParts(base=m, overlays=tuple(overlays))


def _coverage_base(
    region_boundaries: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame | None,
    *,
    extent_of: tuple[gpd.GeoDataFrame | None, ...],
    fit: tuple[gpd.GeoDataFrame | None, ...] = (),
    basemap: str | None,
    tianditu_key: str | None,
    lang: str,
    height: str | int,
) -> tuple[folium.Map, float]:
    """Return the coverage map's base (streets, districts) and its tolerance in metres.

    The map opens on the data (:func:`data_extent_frame`: the ``fit`` frames -- demand,
    gaps, facilities -- and the streets, within the districts), not on every district: a
    campus extract inside a city's districts fills the view.
    """
    m = base_map(
        data_extent_frame(region_boundaries, *fit, edges),
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
        height=height,
    )
    tol = display_tolerance_m(extent_km(*extent_of))
    if edges is not None:
        add_streets(m, edges, lang=lang, tolerance_m=tol)
    add_boundaries(m, region_boundaries, lang=lang, tolerance_m=2 * tol)
    return m, tol


def _add_coverage_overlays(
    m: folium.Map,
    *,
    tol: float,
    region_boundaries: gpd.GeoDataFrame,
    hexes: gpd.GeoDataFrame | None,
    facilities: gpd.GeoDataFrame | None,
    catchments: gpd.GeoDataFrame | None,
    gaps: gpd.GeoDataFrame | None,
    layer: Layer | None,
    lang: str,
    radius_m: float | None,
    mode: str,
    speed_kmh: float | None,
    hex_column: str,
    target_m: float | None,
    search_limit_m: float | None,
    max_features: int,
    label_top: int,
    access: gpd.GeoDataFrame | None,
) -> None:
    """Add the demand cells, catchments, gaps, facilities and the legend to ``m``."""
    radii = tuple(layer.radii_m) if layer is not None else (300.0, 500.0, 1000.0)
    color = safe_color(layer.color if layer is not None else "#3366cc")
    target = target_m if target_m is not None else (layer.target_m if layer is not None else None)
    speed = speed_kmh or (layer.speed_kmh if layer is not None else None) or DEFAULT_SPEED_KMH
    budget = max(int(max_features), 100)
    n_fixed = (len(region_boundaries) if region_boundaries is not None else 0) + 2

    fac = facilities
    fac_cap = max(budget // 4, 50)
    n_fac = len(fac) if fac is not None else 0
    if fac is not None and n_fac > fac_cap:
        fac = aggregate_points(fac, fac_cap, lang)
    n_gaps = len(gaps) if gaps is not None else 0
    gap_cap = max(budget // 10, 20)
    n_gaps_drawn = min(n_gaps, gap_cap)
    catch_n = 0
    if catchments is not None and len(catchments):
        r = pd.to_numeric(catchments.get("radius_m", pd.Series(dtype=float)), errors="coerce")
        pick = float(radius_m) if radius_m is not None else float(r.max()) if len(r) else 0.0
        catch_n = int(np.isclose(r.to_numpy(float), pick).sum()) if len(r) else len(catchments)
    catch_cap = max(budget // 10, 20)
    catch_dissolve = catch_n > catch_cap
    used = n_fixed + (len(fac) if fac is not None else 0) + n_gaps_drawn
    used += 1 if catch_dissolve else catch_n
    hex_budget = max(budget - used, budget // 4)

    no_data = n_fac == 0
    # the residents layer's resolution follows the size of the study area (the data)
    demand = access if access is not None and len(access) else hexes
    want = resolution_for_area(extent_area_km2(data_extent_frame(region_boundaries, demand)))
    res: int | None
    # artefacts of the data: drawn as their own class, not as residents beyond reach
    access, dq_parts = _add_dq_points(m, access, layer, lang, max(budget // 10, 50))
    if access is not None and len(access):
        shown_hexes, res = demand_cells(access, res=want, max_cells=hex_budget)
        merged = res < 9
    else:
        shown_hexes, res = hexes_for_display(hexes, hex_budget, res=want)
        merged = hexes is not None and shown_hexes is not None and len(shown_hexes) < len(hexes)
    if shown_hexes is not None and len(shown_hexes):
        pop_col = layer.demand_column if layer is not None else "pop"
        add_hex_layer(
            m,
            shown_hexes,
            hex_column,
            radii_m=radii,
            pop_column=pop_col if pop_col in shown_hexes.columns else "pop",
            lang=lang,
            mode=mode,
            speed_kmh=speed,
            target_m=target,
            search_limit_m=search_limit_m,
            layer=layer,
            legend=False,
            no_data=no_data,
        )
    if catchments is not None and len(catchments):
        add_catchments(
            m,
            catchments,
            radius_m=radius_m,
            color=color,
            lang=lang,
            show=catch_n <= 25,
            dissolve=catch_dissolve,
            tolerance_m=tol,
        )
    if gaps is not None and n_gaps:
        add_gaps(
            m,
            gaps,
            lang=lang,
            layer=layer,
            label_top=label_top,
            max_gaps=n_gaps_drawn,
            tolerance_m=tol,
        )
    clustered = False
    if fac is not None and len(fac):
        clustered = len(fac) > CLUSTER_OVER
        add_facilities(m, fac, layer, lang=lang, cluster=clustered)

    # one legend for every layer drawn
    parts = []
    if n_fac:
        fname = layer.name(lang) if layer is not None else t("facilities", lang)
        parts.append(facility_legend([(fname, color, n_fac, clustered)], lang))
    if n_gaps:
        parts.append(gap_legend(n_gaps_drawn, n_gaps, lang))
    parts.append(dq_parts)  # "" without artefacts
    if no_data:
        parts.append(no_data_legend(layer, lang))
    elif shown_hexes is not None and len(shown_hexes):
        parts.append(
            distance_legend(
                radii,
                lang,
                mode,
                layer=layer,
                target_m=target,
                speed_kmh=speed,
                res=res,
                merged=merged,
            )
        )
    if catch_n:
        pick = radius_m if radius_m is not None else max(radii)
        rtxt = radius_text(
            float(pick), lang, minutes=layer_minutes(layer, [float(pick)])[0], speed_kmh=speed
        )
        parts.append(
            f'<div><span class="sw" style="background:{color};opacity:0.5;border-color:{color}">'
            f"</span>{esc(t('catchments', lang))}: {esc(t('catchment_of', lang, radius=rtxt))}"
            "</div>"
        )
    if region_boundaries is not None and len(region_boundaries):
        parts.append(
            '<div><span class="sw" style="background:none;border:2px dashed #34495e"></span>'
            f"{esc(t('district_outline', lang))}</div>"
        )
    if any(parts):
        add_legend(m, "".join(parts), css_class="geoapp-coverage-legend")


#: Colour of each data-quality class on the map (grey: the network; violet: the edge).
DQ_COLORS = {"network_gap": "#7f8c8d", "edge_of_data": "#8e44ad"}


def _add_dq_points(
    m: folium.Map, access: gpd.GeoDataFrame | None, layer: Layer | None, lang: str, cap: int
) -> tuple[gpd.GeoDataFrame | None, str]:
    """Draw the demand points of a data-quality class (:mod:`geoapp.artefacts`).

    Circle markers coloured by class (the most populous ``cap`` when there are more),
    in a layer of their own. Returns the other demand points (``ok``) and the legend
    HTML (each class with its residents; "" when there is none).
    """
    if access is None or not len(access):
        return access, ""
    dq = dq_labels(access)
    if not (dq != DQ_OK).any():
        return access, ""
    points = access.loc[dq != DQ_OK]
    col = layer.demand_column if layer is not None else "pop"
    col = col if col in points.columns else "pop"
    w = pd.to_numeric(column_or(points, col, 0.0), errors="coerce").fillna(0.0)
    cls = dq_labels(points)
    shown = points.assign(_w=w.to_numpy(float), _c=cls)
    if len(shown) > cap:
        shown = shown.sort_values("_w", ascending=False, kind="stable").iloc[:cap]
    shown = shown.to_crs("EPSG:4326") if shown.crs is not None else shown
    shown = shown.set_geometry(shown.geometry.representative_point())
    names = {c: t(f"dq_{c}", lang) for c in DQ_ARTEFACTS}
    tips = [
        f"<b>{esc(names[c])}</b><br>{esc(t('dq_count', lang, name=str(i), n=fmt_int(v)))}"
        for c, i, v in zip(shown["_c"], column_or(shown, "demand_id", ""), shown["_w"], strict=True)
    ]
    styles = [{"fillColor": DQ_COLORS[c], "color": DQ_COLORS[c]} for c in shown["_c"]]
    props: dict[str, list[Any]] = {"_s": styles, "_t": tips}
    GeoJsonLayer(
        feature_collection(shown, props),
        name=t("dq_layer", lang),
        style={"radius": 5, "weight": 1, "fillOpacity": 0.8, "opacity": 0.9},
        pane="geoapp-gaps",
        sticky=False,
    ).add_to(m)
    rows = [f'<div class="ttl">{esc(t("dq_layer", lang))}</div>']
    for c in DQ_ARTEFACTS:
        n = float(w[cls == c].sum())
        if (cls == c).any():
            rows.append(
                f'<div><span class="sw" style="background:{DQ_COLORS[c]};border-radius:50%">'
                f"</span>{esc(t('dq_count', lang, name=names[c], n=fmt_int(n)))}</div>"
            )
    return access.loc[dq == DQ_OK], "".join(rows)


def overview_map(
    boundaries: gpd.GeoDataFrame,
    facilities_by_layer: Mapping[str, gpd.GeoDataFrame],
    lang: str = "en",
    *,
    catalog: Mapping[str, Layer] | None = None,
    edges: gpd.GeoDataFrame | None = None,
    stats: pd.DataFrame | None = None,
    basemap: str | None = None,
    tianditu_key: str | None = None,
    synthetic: bool = False,
    title: str | None = None,
    height: str | int = "100%",
    max_features: int = MAX_FEATURES,
) -> folium.Map:
    """Return the overview map: districts filled by zone type, streets, facilities.

    ``facilities_by_layer`` maps a layer id to its facility table; names and colours
    come from ``catalog`` when given. Layers are stacked by the catalog's ``order``
    (elderly care, order 1, on top, with larger dots), each in its own pane and
    clustered on its own when large, so no layer hides another; the legend lists
    the zone types and every layer's colour and count. The map opens on the data (the
    streets and facilities within the districts' extent).
    """
    fit = data_extent_frame(boundaries, edges, *facilities_by_layer.values())
    m = base_map(fit, basemap=basemap, tianditu_key=tianditu_key, lang=lang, height=height)
    tol = display_tolerance_m(extent_km(boundaries))
    add_boundaries(m, boundaries, lang=lang, fill_by_zone=True, stats=stats, legend=False)
    if edges is not None:
        add_streets(m, edges, lang=lang, tolerance_m=tol)

    def order(item: tuple[int, str]) -> tuple[int, int]:
        lay = catalog.get(item[1]) if catalog is not None else None
        return (lay.order if lay is not None else 100, item[0])

    ids = [lid for _, lid in sorted(enumerate(facilities_by_layer), key=order)]
    items = []
    cap = max(int(max_features) // max(len(ids), 1), 50)
    for slot, lid in enumerate(ids, start=1):
        fac = facilities_by_layer[lid]
        if fac is None or len(fac) == 0:
            continue
        layer = catalog.get(lid) if catalog is not None else None
        name = layer.name(lang) if layer is not None else str(lid)
        color = safe_color(layer.color if layer is not None else "#3366cc")
        shown = aggregate_points(fac, cap, lang) if len(fac) > cap else fac
        clustered = len(shown) > CLUSTER_OVER
        add_facilities(
            m,
            shown,
            layer,
            lang=lang,
            name=name,
            color=color,
            cluster=clustered,
            slot=min(slot, 6),
            emphasis=slot == 1 and len(ids) > 1,
        )
        items.append((name, color, len(fac), clustered))
    legend = ""
    if items:
        legend += facility_legend(items, lang)
    if boundaries is not None and len(boundaries):
        legend += zone_legend(column_or(boundaries, "zone_type", "unknown").fillna("unknown"), lang)
    if legend:
        add_legend(m, legend, css_class="geoapp-overview-legend")
    return _finish(m, synthetic=synthetic, lang=lang, title=title)


def heritage_map(
    boundaries: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
    *,
    lang: str = "en",
    edges: gpd.GeoDataFrame | None = None,
    hexes: gpd.GeoDataFrame | None = None,
    radii_m: Sequence[float] = (300.0, 500.0, 1000.0),
    basemap: str | None = None,
    tianditu_key: str | None = None,
    synthetic: bool = False,
    title: str | None = None,
    height: str | int = "100%",
    max_features: int = MAX_FEATURES,
) -> folium.Map:
    """Return the heritage map: protected zones, sites (unprotected in red), access.

    With a legend of sites (protected / unprotected, with counts) and zones. The map
    opens on the data (demand, sites, zones and streets within the districts' extent).
    """
    fit = data_extent_frame(boundaries, hexes, sites, zones, edges)
    m = base_map(fit, basemap=basemap, tianditu_key=tianditu_key, lang=lang, height=height)
    if edges is not None:
        add_streets(m, edges, lang=lang)
    if hexes is not None:
        shown, res = hexes_for_display(hexes, max(int(max_features) - 500, 100))
        add_hex_layer(m, shown, radii_m=radii_m, lang=lang)
    add_boundaries(m, boundaries, lang=lang)
    add_heritage(m, sites, zones, lang=lang)
    return _finish(m, synthetic=synthetic, lang=lang, title=title)
