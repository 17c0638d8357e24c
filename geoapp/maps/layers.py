"""The map layers: one ``add_*`` function per kind of data drawn on a map.

Each adder prepares its frame for display (:mod:`geoapp.maps.display`), builds the
escaped tooltip and popup of every feature and adds one :class:`GeoJsonLayer` in its
pane (:data:`geoapp.maps.leaflet.PANES`): districts, main streets, demand cells coloured
by walking distance (CSS class ``geoapp-demand``), facilities as zoom-sized dots
(clustered when many), catchments, ranked gap areas (``geoapp-gap``, labelled
``geoapp-gap-label``) and heritage sites and zones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp.catalog import Layer
from geoapp.i18n import t
from geoapp.maps.display import (
    CLUSTER_OVER,
    COVERED_OPACITY,
    DEFAULT_SPEED_KMH,
    GAP_COLOR,
    LABEL_TOP,
    NO_DATA_COLOR,
    TOLERANCE_M,
    UNCOVERED_OPACITY,
    class_palette,
    column_or,
    display_tolerance_m,
    dissolve_catchments,
    dist_text,
    distance_bins,
    distance_class,
    esc,
    extent_km,
    facility_kinds,
    feature_collection,
    fmt_int,
    fmt_minutes,
    hex_distance,
    kind_name,
    localized,
    prepare,
    safe_color,
    text_col,
)
from geoapp.maps.leaflet import (
    GeoJsonLayer,
    MapLike,
    add_legend,
    distance_legend,
    no_data_legend,
    use_clusters,
    zone_legend,
)
from geoapp.styles import zone_color, zone_fine_name, zone_name

#: OSM highway values drawn as "main streets".
MAIN_HIGHWAYS = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
)


def add_boundaries(
    m: folium.Map,
    boundaries: gpd.GeoDataFrame,
    *,
    lang: str = "en",
    fill_by_zone: bool = False,
    name: str | None = None,
    stats: pd.DataFrame | None = None,
    legend: bool = True,
    tolerance_m: float | None = None,
) -> folium.Map:
    """Draw district boundaries, optionally filled by zone type.

    Parameters
    ----------
    m
        The map.
    boundaries
        ``district``, ``district_code``, ``zone_type``, ``zone_fine``, geometry.
    lang
        Language of tooltips and legend.
    fill_by_zone
        Fill districts with their zone-type colour (and, with ``legend``, add a zone
        legend).
    name
        Layer name in the layer control (default "Districts").
    stats
        Optional per-district figures joined on ``district``: ``pop``,
        ``pop_60plus``, ``facilities`` are shown in the tooltip when present.
    legend
        Add the zone legend when filling by zone.
    tolerance_m
        Simplification tolerance (default 12 m, more for large regions).

    Returns
    -------
    folium.Map
        ``m``; each feature carries ``district``, ``district_code`` and
        ``zone_type`` so a click can drill into it. Drawn in the
        ``geoapp-districts`` pane, below the demand cells.
    """
    tol = tolerance_m if tolerance_m is not None else 2 * display_tolerance_m(extent_km(boundaries))
    g = prepare(boundaries, tolerance_m=tol)
    if len(g) == 0:
        return m
    district = (
        column_or(g, "district", "").astype(object).where(lambda s: s.notna(), "").astype(str)
    )
    shown = localized(g, "district", lang)
    zone = column_or(g, "zone_type", "unknown").astype(object).fillna("unknown").astype(str)
    fine = column_or(g, "zone_fine", "").astype(object).fillna("").astype(str)
    extra: dict[str, list[str]] = {}
    if stats is not None and "district" in stats.columns:
        s = stats.drop_duplicates("district").set_index("district")
        for col, key in (
            ("pop", "population"),
            ("pop_60plus", "population_60plus"),
            ("facilities", "facilities"),
        ):
            if col in s.columns:
                vals = district.map(s[col]).tolist()
                extra[t(key, lang)] = [fmt_int(v) for v in vals]
    tips = []
    for i, (d, z, f) in enumerate(zip(shown.tolist(), zone.tolist(), fine.tolist(), strict=True)):
        rows = [f"<b>{esc(d)}</b>", f"{esc(t('zone_type', lang))}: {esc(zone_name(z, lang))}"]
        if f:
            rows.append(esc(zone_fine_name(f, lang)))
        rows += [f"{esc(k)}: {v[i]}" for k, v in extra.items() if v[i]]
        tips.append("<br>".join(rows))
    colors = [zone_color(z) for z in zone.tolist()]
    if fill_by_zone:
        styles: list[dict[str, str] | None] = [{"fillColor": c} for c in colors]
        style = {"color": "#333333", "weight": 1.5, "fillOpacity": 0.3}
    else:
        styles = [None] * len(g)
        style = {
            "color": "#34495e",
            "weight": 2,
            "fill": True,
            "fillOpacity": 0.0,
            "dashArray": "6 4",
        }
    style["className"] = "geoapp-district"
    props: dict[str, list[Any]] = {
        "district": district.tolist(),
        "district_code": column_or(g, "district_code", "")
        .astype(object)
        .fillna("")
        .astype(str)
        .tolist(),
        "zone_type": zone.tolist(),
        "_t": tips,
        "_s": styles,
    }
    GeoJsonLayer(
        feature_collection(g, props),
        name=name or t("districts", lang),
        style=style,
        pane="geoapp-districts",
        highlight=3.5,
    ).add_to(m)
    if fill_by_zone and legend:
        add_legend(m, zone_legend(zone.tolist(), lang), position="bottomright")
    return m


def add_streets(
    m: folium.Map,
    edges: gpd.GeoDataFrame,
    *,
    main_only: bool = True,
    lang: str = "en",
    name: str | None = None,
    tolerance_m: float | None = None,
) -> folium.Map:
    """Draw the streets of the walking network, merged per highway class.

    With ``main_only`` only motorway..tertiary (and their links) are drawn; when the
    data has none of those, every edge is drawn so the map still shows streets.
    Lines are merged per class and simplified (more for large regions), so the map
    stays small.
    """
    if edges is None or len(edges) == 0:
        return m
    raw = column_or(edges, "highway", "")
    sel = edges
    if main_only:  # picked on the raw column: no text conversion of every footway
        mask = raw.isin(MAIN_HIGHWAYS).to_numpy()
        if mask.any():
            sel, raw = edges.loc[mask], raw[mask]
    hw = raw.astype(object).fillna("").astype(str)
    cls = np.where(
        hw.isin(("motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link")),
        "major",
        "minor",
    )
    # one MultiLineString per class (no noding union: line_merge joins touching ends)
    geoms = np.asarray(sel.geometry.array)
    parts = []
    for c in ("major", "minor"):
        pick = geoms[(cls == c) & ~shapely.is_missing(geoms)]
        lines = shapely.get_parts(pick)
        if len(lines):
            parts.append((c, shapely.line_merge(shapely.multilinestrings(lines))))
    merged = gpd.GeoDataFrame(
        {"cls": [c for c, _ in parts]}, geometry=[g for _, g in parts], crs=sel.crs
    )
    tol = tolerance_m if tolerance_m is not None else display_tolerance_m(extent_km(merged))
    g = prepare(merged, tolerance_m=tol, preserve_topology=False)
    widths = {"major": 3.0, "minor": 1.6}
    props = {"_s": [{"weight": widths.get(c, 1.6)} for c in g["cls"].tolist()]}
    GeoJsonLayer(
        feature_collection(g, props),
        name=name or t("streets", lang),
        style={"color": "#9a9a9a", "weight": 1.6, "opacity": 0.9, "interactive": False},
        pane="geoapp-streets",
    ).add_to(m)
    return m


def add_hex_layer(
    m: folium.Map,
    hex_gdf: gpd.GeoDataFrame,
    column: str = "dist_m",
    *,
    radii_m: Sequence[float] = (300.0, 500.0, 1000.0),
    pop_column: str = "pop",
    lang: str = "en",
    mode: str = "network",
    name: str | None = None,
    legend: bool = True,
    speed_kmh: float | None = None,
    target_m: float | None = None,
    search_limit_m: float | None = None,
    layer: Layer | None = None,
    no_data: bool = False,
) -> folium.Map:
    """Draw demand on H3 cells coloured by walking distance, with a legend.

    Parameters
    ----------
    m
        The map.
    hex_gdf
        One row per H3 cell: ``column`` (distance in metres, ``inf`` when beyond
        reach) or ``dist_m_mean``/``share_beyond``, optionally
        ``pop``/``pop_60plus``/``h3``/``settlement``, geometry.
    column
        Distance column to colour by.
    radii_m
        Class edges (the layer's radii); cells beyond the largest are dark purple.
    pop_column
        Population column shown in the tooltip.
    lang, mode
        Language; ``"network"`` or ``"euclidean"`` (legend title).
    name
        Layer name.
    legend
        Add the distance legend.
    speed_kmh
        Walking speed for the minutes in the tooltip and legend (default the layer's,
        else :data:`DEFAULT_SPEED_KMH`).
    target_m
        Cells whose distance class lies within it are pale, the others strong
        (default the largest radius).
    search_limit_m
        The search bound, for "not reachable within X m" (else "within the search
        limit").
    layer
        The layer (minute-based radii are labelled in minutes).
    no_data
        The layer has no facility in the data: cells are drawn in neutral grey with
        their residents only (missing data is not missing service).

    Returns
    -------
    folium.Map
        ``m``; the cells are paths of CSS class ``geoapp-demand`` in the
        ``geoapp-demand`` pane.
    """
    if hex_gdf is None or len(hex_gdf) == 0:
        return m
    g = prepare(hex_gdf, tolerance_m=0.0)
    dist = hex_distance(g, column)
    palette = class_palette(radii_m)
    cls = distance_class(dist, radii_m)
    bins = distance_bins(radii_m)
    target = float(target_m) if target_m is not None else bins[-2]
    strong = np.array([hi > target + 1e-9 for hi in bins[1:]], dtype=bool)
    pop = pd.to_numeric(column_or(g, pop_column, np.nan), errors="coerce").to_numpy(float)
    pop60 = pd.to_numeric(column_or(g, "pop_60plus", np.nan), errors="coerce").to_numpy(float)
    beyond = pd.to_numeric(column_or(g, "share_beyond", np.nan), errors="coerce").to_numpy(float)
    mean_d = (
        pd.to_numeric(g[column], errors="coerce").to_numpy(float)
        if column in g.columns
        else pd.to_numeric(column_or(g, "dist_m_mean", np.nan), errors="coerce").to_numpy(float)
    )
    speed = speed_kmh or (layer.speed_kmh if layer is not None else None) or DEFAULT_SPEED_KMH
    dlabel = esc(t("mean_straight" if mode == "euclidean" else "mean_walk", lang))
    # the cell's people of the layer's population ("aged 60+" for elderly care)
    only_60 = pop_column == "pop_60plus"
    plabel = esc(t("cell_residents_60plus" if only_60 else "cell_residents", lang))
    olabel = esc(t("population_60plus", lang))
    slabel = esc(t("settlement", lang))
    settle = column_or(g, "settlement", "").astype(object).fillna("").astype(str).tolist()
    limit = f"{search_limit_m:,.0f}" if search_limit_m and math.isfinite(search_limit_m) else None
    tips = []
    for d, p, p6, sb, s_type in zip(mean_d, pop, pop60, beyond, settle, strict=True):
        if no_data:
            tip = esc(t("cannot_assess", lang))
        elif math.isfinite(d):
            tip = f"{dlabel}: {esc(dist_text(d, lang))}"
            tip += f" · {esc(t('minutes', lang, m=fmt_minutes(d, speed)))}"
            if math.isfinite(sb) and sb >= 0.005:
                key = "share_not_reachable" if limit else "share_not_reachable_any"
                tip += "<br>" + esc(t(key, lang, share=f"{sb:.0%}", limit=limit))
        else:
            tip = esc(dist_text(np.inf, lang, limit_m=search_limit_m)).capitalize()
        if math.isfinite(p):
            tip += f"<br>{plabel}: {fmt_int(p)}"
        if math.isfinite(p6) and not only_60:
            tip += f"<br>{olabel}: {fmt_int(p6)}"
        if s_type:
            tip += f"<br>{slabel}: {esc(zone_name(s_type, lang))}"
        tips.append(tip)
    styles = [
        {
            "fillColor": palette[c],
            "fillOpacity": UNCOVERED_OPACITY if strong[c] else COVERED_OPACITY,
        }
        for c in cls.tolist()
    ]
    if no_data:
        styles = [{"fillColor": NO_DATA_COLOR, "fillOpacity": 0.45}] * len(g)
    GeoJsonLayer(
        feature_collection(g, {"_s": styles, "_t": tips}),
        name=name or t("demand_cells", lang),
        style={"stroke": False, "fillOpacity": COVERED_OPACITY, "className": "geoapp-demand"},
        pane="geoapp-demand",
    ).add_to(m)
    if legend and no_data:
        add_legend(m, no_data_legend(layer, lang))
    elif legend:
        add_legend(
            m,
            distance_legend(
                radii_m, lang, mode, layer=layer, target_m=target_m, speed_kmh=speed_kmh
            ),
        )
    return m


def add_facilities(
    m: folium.Map,
    facilities: gpd.GeoDataFrame,
    layer: Layer | None = None,
    *,
    lang: str = "en",
    name: str | None = None,
    color: str | None = None,
    show: bool = True,
    cluster: bool | None = None,
    slot: int = 1,
    emphasis: bool = False,
) -> folium.Map:
    """Draw facilities as small dots (sized by zoom) with an escaped tooltip and popup.

    Polygons (e.g. a nursing home mapped as a building) are drawn at a point inside
    them. Tooltip: the name (or the kind when unnamed) and the readable kind
    ("Nursing home", not ``social_facility``); popup: name, kind, layer, district,
    capacity (when known) and id.

    Parameters
    ----------
    cluster
        Cluster the dots (Leaflet.markercluster; clusters show counts in the layer's
        colour). Default: when there are more than :data:`CLUSTER_OVER`.
    slot
        Pane ``geoapp-fac-<slot>`` (1..6): slot 1 is drawn above slot 2 and so on, so
        the overview map keeps the first layer (elderly care) on top.
    emphasis
        Draw larger dots (the layer on top of a multi-layer map).
    """
    if facilities is None or len(facilities) == 0:
        return m
    g = facilities
    if not bool((g.geometry.geom_type == "Point").all()):
        g = g.set_geometry(g.geometry.representative_point())
    g = prepare(g, tolerance_m=0.0, decimals=6)
    names = text_col(g, "name")
    kinds = facility_kinds(g, lang)
    ids = text_col(g, "facility_id")
    districts = [esc(v) for v in localized(g, "district", lang).tolist()]
    caps = pd.to_numeric(column_or(g, "capacity", np.nan), errors="coerce").to_numpy(float)
    lname = esc(layer.name(lang)) if layer is not None else ""
    cap_label = esc(t("capacity", lang))
    tips, pops = [], []
    for nm, kd, fid, dist, cap in zip(names, kinds, ids, districts, caps, strict=True):
        title = nm or kd or fid
        tips.append(f"<b>{title}</b>" + (f"<br>{kd}" if nm and kd else ""))
        rows = [f"<b>{title}</b>"]
        if kd:
            rows.append(f"{esc(t('kind', lang))}: {kd}")
        if lname:
            rows.append(f"{esc(t('layer', lang))}: {lname}")
        if dist:
            rows.append(f"{esc(t('district', lang))}: {dist}")
        if math.isfinite(cap):
            rows.append(f"{cap_label}: {fmt_int(cap)}")
        if fid:
            rows.append(f'<span style="color:#777">{fid}</span>')
        pops.append("<br>".join(rows))
    c = safe_color(color or (layer.color if layer is not None else "#3366cc"))
    slot = min(max(int(slot), 1), 6)
    do_cluster = len(g) > CLUSTER_OVER if cluster is None else bool(cluster)
    if do_cluster:
        use_clusters(m)
    props = {
        "facility_id": column_or(g, "facility_id", "").astype(str).tolist(),
        "_t": tips,
        "_p": pops,
    }
    GeoJsonLayer(
        feature_collection(g, props),
        name=name or (layer.name(lang) if layer is not None else t("facilities", lang)),
        style={"fillColor": c, "className": "geoapp-facility"},
        pane=f"geoapp-fac-{slot}",
        sticky=False,
        show=show,
        dots="geoapp-fac" + (" geoapp-fac-first" if emphasis else ""),
        cluster=do_cluster,
    ).add_to(m)
    return m


def merged_catchments(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One (multi)polygon: the ground covered by the catchments ``g`` of one radius.

    Nearest-facility catchments (:func:`geoapp.network.catchments`) tile the covered
    ground and share their borders vertex for vertex, so they are merged as a coverage
    (:func:`shapely.coverage_union_all`: shared edges cancel, no overlay; 0.6 s CPU for
    the 3,456 catchments of the 72x benchmark tile, where an overlay union took 2.7 s).
    Catchments that do not form a coverage (``overlapping=True``, or polygons edited
    since) are merged by an overlay union (:func:`geoapp.maps.display.dissolve_catchments`):
    the coverage merge is kept only when valid and holding the catchments' summed area.
    """
    if len(g) == 0:
        return g
    geoms = np.asarray(g.geometry.array)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    try:
        merged = shapely.coverage_union_all(geoms) if len(geoms) else shapely.Polygon()
    except shapely.errors.GEOSException:
        merged = None
    total = float(shapely.area(geoms).sum())
    if (
        merged is None
        or not shapely.is_valid(merged)
        or abs(float(shapely.area(merged)) - total) > 1e-6 * max(total, 1e-300)
    ):
        return dissolve_catchments(g)
    keep = {"radius_m": [float(pd.to_numeric(g["radius_m"]).iloc[0])]} if "radius_m" in g else {}
    return gpd.GeoDataFrame(keep, geometry=[merged], crs=g.crs)


def add_catchments(
    m: MapLike,
    catchments: gpd.GeoDataFrame,
    *,
    radius_m: float | None = None,
    color: str = "#3366cc",
    lang: str = "en",
    name: str | None = None,
    show: bool = True,
    dissolve: bool | None = None,
    tolerance_m: float | None = None,
) -> MapLike:
    """Draw facility catchments (network service areas) for one radius.

    ``radius_m`` selects rows of the ``radius_m`` column (default the largest).
    ``dissolve`` merges them into one area (:func:`merged_catchments`; default: when
    there are more than 500, so a city map stays small; the per-facility polygons stay
    in the bundle).
    """
    if catchments is None or len(catchments) == 0:
        return m
    g = catchments
    if "radius_m" in g.columns:
        r = pd.to_numeric(g["radius_m"], errors="coerce")
        pick = float(radius_m) if radius_m is not None else float(r.max())
        g = g.loc[np.isclose(r.to_numpy(float), pick)]
    if dissolve is None:
        dissolve = len(g) > 500
    if dissolve:
        g = merged_catchments(g)
    tol = tolerance_m if tolerance_m is not None else display_tolerance_m(extent_km(g))
    g = prepare(g, tolerance_m=tol, preserve_topology=False)
    served = pd.to_numeric(column_or(g, "pop_served", np.nan), errors="coerce").tolist()
    ids = text_col(g, "facility_id")
    label = esc(t("pop_served", lang))
    tips = [
        f"{fid}<br>{label}: {fmt_int(s)}" if math.isfinite(s) else fid
        for fid, s in zip(ids, served, strict=True)
    ]
    c = safe_color(color)
    GeoJsonLayer(
        feature_collection(g, {"_t": tips}),
        name=name or t("catchments", lang),
        style={
            "color": c,
            "weight": 1,
            "opacity": 0.7,
            "fillColor": c,
            "fillOpacity": 0.12,
            "className": "geoapp-catchment",
        },
        pane="geoapp-catchments",
        show=show,
    ).add_to(m)
    return m


def add_gaps(
    m: folium.Map,
    gaps: gpd.GeoDataFrame,
    *,
    lang: str = "en",
    name: str | None = None,
    show: bool = True,
    layer: Layer | None = None,
    label_top: int = LABEL_TOP,
    max_gaps: int | None = None,
    tolerance_m: float | None = None,
) -> folium.Map:
    """Draw ranked gap areas on top, with strong outlines, rank labels and reasons.

    Parameters
    ----------
    gaps
        :func:`geoapp.gaps.find_gaps` output.
    layer
        The layer (its population names the uncovered count: aged 60+ for elderly
        care).
    label_top
        The ``label_top`` best-ranked gaps get a numbered label ("1", "2" ...) that
        stays readable at region zoom.
    max_gaps
        Draw at most this many (the best-ranked); default all.

    Returns
    -------
    folium.Map
        ``m``; gap outlines are paths of CSS class ``geoapp-gap`` in the
        ``geoapp-gaps`` pane (above the demand cells), labels ``geoapp-gap-label``.
        Distances in a popup are rounded to 10 m like the gap's reason, so the popup
        states one figure per distance.
    """
    if gaps is None or len(gaps) == 0:
        return m
    g = gaps
    if "rank" in g.columns:
        g = g.sort_values("rank", kind="stable")
    if max_gaps is not None:
        g = g.iloc[: max(int(max_gaps), 0)]
    tol = tolerance_m if tolerance_m is not None else display_tolerance_m(extent_km(g))
    g = prepare(g, tolerance_m=tol)
    if len(g) == 0:
        return m
    ranks = column_or(g, "rank", "").tolist()
    reasons = [esc(v) for v in localized(g, "reason", lang).tolist()]
    districts = [esc(v) for v in localized(g, "district", lang).tolist()]
    sixty = (layer is not None and layer.demand_column == "pop_60plus") or (
        "demand" in g.columns and (g["demand"].astype(str) == "pop_60plus").all()
    )
    unc = column_or(g, "uncovered_pop", np.nan).tolist()
    unc60 = column_or(g, "uncovered_pop_60plus", np.nan).tolist()
    near = column_or(g, "nearest_m", np.nan).tolist()
    far = column_or(g, "max_nearest_m", np.nan).tolist()
    pure = column_or(g, "share_uncovered", np.nan).tolist()
    limits = pd.to_numeric(column_or(g, "search_limit_m", np.nan), errors="coerce").tolist()
    gl = esc(t("gap", lang))
    u_all = esc(t("uncovered_pop", lang))
    u_60 = esc(t("uncovered_60plus", lang))
    nl, xl = esc(t("gap_median_m", lang)), esc(t("gap_max_m", lang))
    sl = esc(t("gap_share_uncovered", lang))
    points = shapely.point_on_surface(np.asarray(g.geometry.array))
    tips, pops, labels = [], [], []
    rows_in = zip(
        ranks, reasons, districts, unc, unc60, near, far, pure, limits, points, strict=True
    )
    for i, (rk, why, dist, u, u6, nm, fm, pu, lim, pt) in enumerate(rows_in):
        head = f"<b>{gl} #{esc(rk)}</b>" + (f" · {dist}" if dist else "")
        first = (u_60, u6) if sixty else (u_all, u)
        line = f"{first[0]}: {fmt_int(first[1])}" if fmt_int(first[1]) else ""
        tips.append(head + (f"<br>{line}" if line else ""))
        rows = [head]
        if line:
            rows.append(line)
        if sixty and fmt_int(u):
            rows.append(f"{u_all}: {fmt_int(u)}")
        lim_f = lim if isinstance(lim, float) and math.isfinite(lim) else None
        if not why:  # the reason states the median and maximum itself
            if dist_text(nm, lang):
                rows.append(f"{nl}: {esc(dist_text(nm, lang, limit_m=lim_f))}")
            if dist_text(fm, lang):
                rows.append(f"{xl}: {esc(dist_text(fm, lang, limit_m=lim_f))}")
        if pd.notna(pu):
            rows.append(f"{sl}: {float(pu):.0%}")
        if why:
            rows.append(f"<i>{why}</i>")
        pops.append("<br>".join(rows))
        labels.append([round(pt.y, 6), round(pt.x, 6), esc(rk)] if i < label_top else None)
    props = {
        "gap_id": column_or(g, "gap_id", "").astype(str).tolist(),
        "rank": ranks,
        "_t": tips,
        "_p": pops,
        "_lbl": labels,
    }
    GeoJsonLayer(
        feature_collection(g, props),
        name=name or t("gaps", lang),
        style={
            "color": GAP_COLOR,
            "weight": 2.5,
            "opacity": 1.0,
            "fillColor": GAP_COLOR,
            "fillOpacity": 0.16,
            "className": "geoapp-gap",
        },
        pane="geoapp-gaps",
        show=show,
        highlight=4.5,
        labels="geoapp-gap-label",
    ).add_to(m)
    return m


def add_heritage(
    m: folium.Map,
    sites: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
    *,
    lang: str = "en",
    legend: bool = True,
) -> folium.Map:
    """Draw protected heritage zones (polygons) and heritage sites, with a legend.

    Sites with a false ``protected`` column are drawn in red as "unprotected" (outside
    every protected zone in the data).
    """
    has_zones = zones is not None and len(zones) > 0
    has_sites = sites is not None and len(sites) > 0
    if has_zones:
        g = prepare(zones, tolerance_m=TOLERANCE_M)
        names = text_col(g, "name")
        lbl = esc(t("heritage_zones", lang))
        tips = [f"<b>{n}</b><br>{lbl}" if n else lbl for n in names]
        GeoJsonLayer(
            feature_collection(g, {"_t": tips}),
            name=t("heritage_zones", lang),
            style={
                "color": "#8c564b",
                "weight": 1.5,
                "fillColor": "#c49c94",
                "fillOpacity": 0.35,
                "className": "geoapp-heritage-zone",
            },
            pane="geoapp-heritage-zones",
        ).add_to(m)
    n_prot = n_unprot = 0
    if has_sites:
        assert sites is not None  # has_sites
        g = sites
        if not bool((g.geometry.geom_type == "Point").all()):
            g = g.set_geometry(g.geometry.representative_point())
        g = prepare(g, tolerance_m=0.0, decimals=6)
        prot = column_or(g, "protected", True).astype(object).fillna(True).astype(bool).to_numpy()
        n_prot, n_unprot = int(prot.sum()), int((~prot).sum())
        names = text_col(g, "name")
        raw = [
            k if k else h
            for k, h in zip(
                column_or(g, "historic", "").astype(object).fillna("").astype(str),
                column_or(g, "kind", "").astype(object).fillna("").astype(str),
                strict=True,
            )
        ]
        kinds = [esc(kind_name(k, lang)) for k in raw]
        pl, ul = esc(t("protected", lang)), esc(t("unprotected", lang))
        classes = [
            f"<br>{esc(t(f'heritage_class_{c}', lang))}" if c else ""
            for c in column_or(g, "heritage_class", "").astype(object).fillna("").astype(str)
        ]
        tips = [
            f"<b>{n or k or esc(t('heritage_sites', lang))}</b>"
            + (f"<br>{k}" if n and k else "")
            + c
            + f"<br>{pl if p else ul}"
            for n, k, c, p in zip(names, kinds, classes, prot, strict=True)
        ]
        styles = [{"fillColor": "#8c564b" if p else "#d62728"} for p in prot]
        GeoJsonLayer(
            feature_collection(
                g, {"_t": tips, "_p": tips, "_s": styles, "protected": prot.tolist()}
            ),
            name=t("heritage_sites", lang),
            style={"fillColor": "#8c564b", "className": "geoapp-heritage-site"},
            pane="geoapp-fac-1",
            sticky=False,
            dots="geoapp-fac geoapp-fac-first",
        ).add_to(m)
    if legend and (has_sites or has_zones):
        rows = [f'<div class="ttl">{esc(t("legend_heritage", lang))}</div>']
        if has_sites:
            rows.append(
                f'<div><span class="dot" style="background:#8c564b"></span>'
                f"{esc(t('site_protected', lang))} ({n_prot:,})</div>"
            )
            rows.append(
                f'<div><span class="dot" style="background:#d62728"></span>'
                f"{esc(t('site_unprotected', lang))} ({n_unprot:,})</div>"
            )
        if has_zones:
            assert zones is not None  # has_zones
            rows.append(
                f'<div><span class="sw" style="background:#c49c94;border-color:#8c564b"></span>'
                f"{esc(t('protected_zone', lang))} ({len(zones):,})</div>"
            )
        add_legend(m, "".join(rows), css_class="geoapp-heritage-legend")
    return m
