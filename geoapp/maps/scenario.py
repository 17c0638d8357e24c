"""The scenario map's layers: the effect of each what-if edit where it happens.

A :class:`geoapp.scenario.Scenario` is drawn as the Coverage page's map recomputed for
the scenario (:func:`geoapp.maps.compose.coverage_map_parts` on the scenario's access
table: residents on H3 cells by walking distance, the gaps under the edits, the
districts, the legend) plus the scenario's own layers, each one
:class:`folium.FeatureGroup` so the app redraws only them after an edit:

* the **catchment of each added site**: the walking area within the reach shown
  (network mode: :func:`geoapp.coverage.catchments` with ``overlapping=True``, the
  site's own service area; straight-line mode: a circle);
* **gained / lost** cells (CSS class ``geoapp-change``): H3 cells holding residents
  whose status changed against the starting facilities, newly within the reach
  (gained, blue) or no longer (lost, red) (:func:`status_changes`,
  :func:`change_cells`);
* the current facilities, the added / moved ones (green) and the closed ones (grey),
  every marker carrying its ``facility_id`` so a click can close or move it;
* **suggested sites** as rank badges ("1", "2" ...: :class:`folium.DivIcon` markers of
  CSS class ``geoapp-site-rank``, the same size at every zoom).

One legend box (``geoapp-scenario-legend``) lists the scenario layers drawn, beside the
coverage legend. Every label comes from :mod:`geoapp.i18n`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from typing import cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.template import Template

from geoapp import coverage
from geoapp.crs import local_crs
from geoapp.gaps import find_gaps
from geoapp.hexes import h3_cells, h3_polygons, resolution_for_area
from geoapp.i18n import t
from geoapp.maps.compose import coverage_map_parts
from geoapp.maps.display import (
    MAX_FEATURES,
    data_extent_frame,
    display_tolerance_m,
    esc,
    extent_area_km2,
    extent_km,
    feature_collection,
    fmt_int,
    prepare,
)
from geoapp.maps.layers import add_catchments, add_facilities, add_streets
from geoapp.maps.leaflet import (
    GeoJsonLayer,
    add_legend,
    base_map,
    js_json,
    layer_minutes,
    radius_text,
    use_clusters,
)
from geoapp.scenario import Scenario

#: Colours of the scenario layers.
GAINED_COLOR = "#2166ac"
LOST_COLOR = "#d73027"
ADDED_COLOR = "#1a9850"
CLOSED_COLOR = "#7f7f7f"
SUGGESTED_COLOR = "#ff7f00"
SITE_CATCHMENT_COLOR = "#252525"
#: Most gained / lost cells drawn (the largest changes first).
MAX_CHANGE_CELLS = 3000

_CHANGE_COLUMNS = (
    "h3",
    "gained_pop",
    "lost_pop",
    "gained_pop_60plus",
    "lost_pop_60plus",
    "n_points",
    "status",
)


@dataclasses.dataclass(frozen=True)
class ScenarioLayers:
    """The overlays of a scenario map and what they hold.

    Attributes
    ----------
    overlays
        One :class:`folium.FeatureGroup` per layer and box, bottom to top.
    names
        The layer-control names of the overlays, in order.
    n_cells
        Distance cells drawn (H3 cells of residents by walking distance).
    n_gaps
        Gap areas under the edits at the reach shown.
    n_gained, n_lost
        Gained and lost cells drawn.
    gained, lost
        Residents of the layer's population (``pop_60plus`` for elderly care) newly
        within the reach, and no longer within it, against the starting facilities.
    n_site_catchments
        Catchments of added sites drawn.
    n_suggested
        Suggested sites drawn.
    """

    overlays: tuple[folium.FeatureGroup, ...]
    names: tuple[str, ...]
    n_cells: int
    n_gaps: int
    n_gained: int
    n_lost: int
    gained: float
    lost: float
    n_site_catchments: int
    n_suggested: int


def status_changes(
    before: pd.DataFrame, after: gpd.GeoDataFrame, radius_m: float
) -> gpd.GeoDataFrame:
    """Return the demand points whose status at ``radius_m`` differs between two states.

    Parameters
    ----------
    before, after
        Access tables of the SAME demand points in the same order (``dist_m``, metres;
        ``inf`` or NaN: nothing within the search bound), e.g.
        ``start.access()`` and ``scenario.access()``.
    radius_m
        The reach: a point is within it when ``dist_m <= radius_m``.

    Returns
    -------
    geopandas.GeoDataFrame
        The changed rows of ``after`` (a copy) with ``change`` (``"gained"``: newly
        within the reach; ``"lost"``: no longer within it), ``dist_before_m`` and
        ``dist_after_m``.

    Raises
    ------
    ValueError
        If the two tables do not have the same number of rows.
    """
    if len(before) != len(after):
        raise ValueError(
            f"status_changes: {len(before):,} rows before and {len(after):,} after; pass "
            "the access tables of the same demand points"
        )
    d0 = pd.to_numeric(before["dist_m"], errors="coerce").to_numpy(float)
    d1 = pd.to_numeric(after["dist_m"], errors="coerce").to_numpy(float)
    r = float(radius_m)
    in0 = np.nan_to_num(d0, nan=np.inf) <= r
    in1 = np.nan_to_num(d1, nan=np.inf) <= r
    pos = np.flatnonzero(in0 != in1)
    out = after.iloc[pos].copy()
    out["change"] = np.where(in1[pos], "gained", "lost")
    out["dist_before_m"] = d0[pos]
    out["dist_after_m"] = d1[pos]
    return out.reset_index(drop=True)


def change_cells(
    changes: gpd.GeoDataFrame, *, res: int, demand_column: str = "pop"
) -> gpd.GeoDataFrame:
    """Aggregate changed points (:func:`status_changes`) to H3 cells of resolution ``res``.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 hexagons: ``h3``, ``gained_pop``, ``lost_pop``, ``gained_pop_60plus``,
        ``lost_pop_60plus`` (residents), ``n_points`` and ``status``: ``"gained"`` when
        more of the layer's population (``demand_column``; all residents on a tie) is
        newly within reach than no longer, else ``"lost"``. Cells whose changed points
        hold no resident are left out. Largest change first.
    """
    if changes is None or len(changes) == 0:
        return gpd.GeoDataFrame(
            {
                c: pd.Series(dtype=object if c in ("h3", "status") else float)
                for c in _CHANGE_COLUMNS
            },
            geometry=gpd.GeoSeries([], crs="EPSG:4326"),
            crs="EPSG:4326",
        )
    gained = (changes["change"].astype(str) == "gained").to_numpy()
    table = pd.DataFrame({"h3": np.asarray(h3_cells(changes.geometry, res), dtype=object)})
    for col in ("pop", "pop_60plus"):
        v = (
            pd.to_numeric(changes[col], errors="coerce").fillna(0.0).to_numpy(float)
            if col in changes.columns
            else np.zeros(len(changes))
        )
        table[f"gained_{col}"] = np.where(gained, v, 0.0)
        table[f"lost_{col}"] = np.where(gained, 0.0, v)
    table["n_points"] = 1
    agg = table.groupby("h3", sort=True).sum().reset_index()
    dcol = demand_column if demand_column in ("pop", "pop_60plus") else "pop"
    net = (agg[f"gained_{dcol}"] - agg[f"lost_{dcol}"]).to_numpy(float)
    net_all = (agg["gained_pop"] - agg["lost_pop"]).to_numpy(float)
    score = np.where(np.abs(net) > 1e-9, net, net_all)
    agg["status"] = np.where(score >= 0, "gained", "lost")
    size = (agg[["gained_pop", "lost_pop"]].sum(axis=1)).to_numpy(float)
    agg = agg.loc[size > 0].assign(_size=size[size > 0])
    agg = agg.sort_values(["_size", "h3"], ascending=[False, True], kind="stable")
    agg = agg.drop(columns="_size").reset_index(drop=True)
    return gpd.GeoDataFrame(agg, geometry=h3_polygons(agg["h3"]).to_numpy(), crs="EPSG:4326")


def site_catchments(scn: Scenario, radius_m: float) -> gpd.GeoDataFrame | None:
    """Return the walking area within ``radius_m`` of each added or moved site.

    Network mode: each site's own service area on the walking network
    (:func:`geoapp.coverage.catchments`, ``overlapping=True``); straight-line mode: a
    circle of ``radius_m``. Columns ``facility_id``, ``name``, ``radius_m``, geometry
    (EPSG:4326); None when nothing was added.
    """
    added = scn.added()
    if len(added) == 0:
        return None
    sites = gpd.GeoDataFrame(
        {"facility_id": added["facility_id"].astype(str).to_numpy()},
        geometry=added.geometry.representative_point().to_numpy(),
        crs="EPSG:4326",
    )
    names = added["name"].astype(object).fillna("").astype(str).to_numpy()
    if scn.mode == "network" and scn.graph is not None:
        out = coverage.catchments(scn.graph, sites, [float(radius_m)], overlapping=True)
        out = out.to_crs("EPSG:4326")
        name_of = dict(zip(sites["facility_id"], names, strict=True))
        out["name"] = out["facility_id"].astype(str).map(name_of).fillna("")
        return out[["facility_id", "name", "radius_m", "geometry"]].reset_index(drop=True)
    crs = local_crs(sites)
    circles = sites.to_crs(crs).buffer(float(radius_m), quad_segs=16).to_crs("EPSG:4326")
    return gpd.GeoDataFrame(
        {"facility_id": sites["facility_id"], "name": names, "radius_m": float(radius_m)},
        geometry=circles.to_numpy(),
        crs="EPSG:4326",
    )


def add_change_cells(
    m: folium.Map | folium.FeatureGroup,
    cells: gpd.GeoDataFrame,
    *,
    reach: str,
    lang: str = "en",
    demand_column: str = "pop",
    name: str | None = None,
) -> int:
    """Draw gained (blue) and lost (red) cells; return the number drawn.

    ``reach`` is the reach as text ("900 m · 15 min"). Paths of CSS class
    ``geoapp-change`` in the ``geoapp-catchments`` pane (above the distance cells,
    below the gaps). The tooltip states the residents gained and lost in the cell.
    """
    if cells is None or len(cells) == 0:
        return 0
    g = prepare(cells.head(MAX_CHANGE_CELLS), tolerance_m=0.0)
    sixty = demand_column == "pop_60plus"
    tips, styles = [], []
    for _, row in g.iterrows():
        gained = row["status"] == "gained"
        head = esc(t("scn_gained" if gained else "scn_lost", lang, reach=reach))
        lines = [f"<b>{head}</b>"]
        for what, key in (("gained", "scn_tip_gained"), ("lost", "scn_tip_lost")):
            n_all = float(row[f"{what}_pop"])
            if n_all <= 0:
                continue
            text = esc(t(key, lang, n=fmt_int(n_all)))
            n60 = float(row[f"{what}_pop_60plus"])
            if math.isfinite(n60) and (sixty or n60 > 0):
                text += f" ({esc(t('population_60plus', lang))}: {fmt_int(n60)})"
            lines.append(text)
        tips.append("<br>".join(lines))
        color = GAINED_COLOR if gained else LOST_COLOR
        styles.append({"fillColor": color, "color": color})
    GeoJsonLayer(
        feature_collection(g, {"status": g["status"].tolist(), "_t": tips, "_s": styles}),
        name=name or t("scn_change", lang),
        style={
            "weight": 1.5,
            "opacity": 0.9,
            "fillOpacity": 0.5,
            "className": "geoapp-change",
        },
        pane="geoapp-catchments",
    ).add_to(m)
    return len(g)


def add_edit_markers(
    m: folium.Map | folium.FeatureGroup,
    frame: gpd.GeoDataFrame | None,
    *,
    color: str,
    name: str,
) -> int:
    """Draw the added / moved or closed facilities as large dots; return how many.

    Each marker carries ``facility_id`` (a click can close or move it) and a tooltip
    "name (what)".
    """
    if frame is None or len(frame) == 0:
        return 0
    pts = frame.set_geometry(frame.geometry.representative_point())
    g = prepare(pts, tolerance_m=0.0, decimals=6)
    ids = g["facility_id"].astype(str).tolist() if "facility_id" in g else [""] * len(g)
    names = (
        g["name"].astype(object).fillna("").astype(str).tolist() if "name" in g else [""] * len(g)
    )
    tips = [f"{esc(n or fid)} ({esc(name)})" for n, fid in zip(names, ids, strict=True)]
    GeoJsonLayer(
        feature_collection(g, {"facility_id": ids, "_t": tips}),
        name=name,
        style={
            "radius": 8,
            "color": "#ffffff",
            "weight": 2,
            "fillColor": color,
            "fillOpacity": 1.0,
            "className": "geoapp-edit",
        },
        pane="geoapp-fac-1",
        sticky=False,
    ).add_to(m)
    return len(g)


class RankBadges(folium.MacroElement):
    """Numbered badges (``L.divIcon``, CSS class ``geoapp-site-rank``) added to the parent.

    ``badges``: ``[lat, lon, badge HTML, tooltip HTML]`` per site, HTML already
    escaped; the data reaches the page as script-safe JSON (:func:`js_json`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (group) {
            {{ this.data_json }}.forEach(function (s) {
                var mk = L.marker([s[0], s[1]], {pane: "geoapp-gap-labels", keyboard: false,
                    icon: L.divIcon({className: "geoapp-site-rank", iconSize: [26, 26],
                                     iconAnchor: [13, 13], html: s[2]})});
                mk.bindTooltip(s[3]);
                mk.addTo(group);
            });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, badges: Sequence[Sequence[object]]) -> None:
        super().__init__()
        self._name = "RankBadges"
        self.data_json = js_json([list(b) for b in badges])
        self.n_badges = len(badges)


def add_suggested_sites(
    m: folium.Map | folium.FeatureGroup,
    sites: gpd.GeoDataFrame | None,
    *,
    lang: str = "en",
    demand_column: str = "pop",
) -> int:
    """Draw suggested sites as numbered badges, the same size at every zoom.

    ``sites`` is :attr:`geoapp.siting.SitingResult.sites` (``rank``, ``added_pop``,
    ``added_pop_60plus``, ``district``, geometry). Each site is a Leaflet marker with a
    ``L.divIcon`` (CSS class ``geoapp-site-rank``) showing its rank
    (:class:`RankBadges`), in the ``geoapp-gap-labels`` pane (above every other
    layer); the tooltip gives the residents it brings within reach.
    Returns the number drawn.
    """
    if sites is None or len(sites) == 0:
        return 0
    pts = sites.to_crs("EPSG:4326").geometry.representative_point()
    gained_all = pd.to_numeric(sites.get("added_pop"), errors="coerce")
    gained_60 = pd.to_numeric(sites.get("added_pop_60plus"), errors="coerce")
    col_all, col_60 = esc(t("scn_col_gained", lang)), esc(t("scn_col_gained_60", lang))
    dist_label = esc(t("district", lang))
    ranks = sites["rank"].tolist() if "rank" in sites else list(range(1, len(sites) + 1))
    districts = (
        sites["district"].astype(object).fillna("").astype(str).tolist()
        if "district" in sites
        else [""] * len(sites)
    )
    badges: list[list[object]] = []
    for i, (rank, pt, dist) in enumerate(zip(ranks, pts, districts, strict=True)):
        rows = [f"<b>{esc(t('scn_site', lang, rank=rank))}</b>"]
        first = [(col_60, gained_60), (col_all, gained_all)]
        if demand_column != "pop_60plus":
            first.reverse()
        for label, values in first:
            if values is not None and i < len(values) and pd.notna(values.iloc[i]):
                rows.append(f"{label}: {fmt_int(values.iloc[i])}")
        if dist:
            rows.append(f"{dist_label}: {esc(dist)}")
        rows.append(f"{pt.y:.5f}, {pt.x:.5f}")
        badge = (
            f'<div style="width:26px;height:26px;line-height:22px;border-radius:13px;'
            f"background:{SUGGESTED_COLOR};color:#fff;border:2px solid #fff;"
            "box-shadow:0 0 3px rgba(0,0,0,.6);font:bold 13px sans-serif;"
            f'text-align:center">{esc(rank)}</div>'
        )
        badges.append([round(float(pt.y), 6), round(float(pt.x), 6), badge, "<br>".join(rows)])
    RankBadges(badges).add_to(m)
    return len(ranks)


def scenario_legend(items: Sequence[tuple[str, str, str]], lang: str = "en") -> str:
    """Return the scenario legend's HTML: ``(kind, colour, label)`` per row.

    ``kind`` is ``"dot"`` (markers), ``"badge"`` (suggested sites) or ``"swatch"``
    (areas).
    """
    rows = [f'<div class="ttl">{esc(t("scn_legend", lang))}</div>']
    for kind, color, label in items:
        if kind == "dot":
            mark = f'<span class="dot" style="background:{color}"></span>'
        elif kind == "badge":
            mark = (
                f'<span class="dot" style="background:{color};color:#fff;font-size:9px;'
                'text-align:center;line-height:12px">1</span>'
            )
        else:
            mark = f'<span class="sw" style="background:{color};opacity:0.6;border-color:{color}">'
            mark += "</span>"
        rows.append(f"<div>{mark}{esc(label)}</div>")
    return "".join(rows)


def _group(name: str, *, control: bool = True) -> folium.FeatureGroup:
    return folium.FeatureGroup(name=esc(name), overlay=True, control=control, show=True)


def _tooltips_only(layer: GeoJsonLayer) -> None:
    """Drop the popups of ``layer``'s features (Leaflet stops a click that opens one).

    On the scenario map a click on the map adds or moves a site; a popup bound to a
    gap area would swallow that click. The tooltips stay.
    """
    data = json.loads(layer.data_json)
    for f in data.get("features", []):
        (f.get("properties") or {}).pop("_p", None)
    layer.data_str = js_json(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def _coverage_overlays(
    groups: Sequence[folium.FeatureGroup],
) -> tuple[list[folium.FeatureGroup], int]:
    """Return the coverage map's overlays to keep and the number of distance cells.

    The facilities are left out (:func:`scenario_layers` draws every current one,
    clickable); the gaps keep their tooltips but lose their popups.
    """
    out: list[folium.FeatureGroup] = []
    n_cells = 0
    for fg in groups:
        kids = list(fg._children.values())
        if any(str(getattr(c, "pane", "")).startswith("geoapp-fac") for c in kids):
            continue
        for c in kids:
            if getattr(c, "pane", "") == "geoapp-demand":
                n_cells += int(getattr(c, "n_features", 0))
            if getattr(c, "pane", "") == "geoapp-gaps":
                _tooltips_only(
                    cast(GeoJsonLayer, c)
                )  # a click on a gap places a site, it opens no popup
        out.append(fg)
    return out, n_cells


def _facility_group(facilities: gpd.GeoDataFrame, scn: Scenario, lang: str) -> folium.FeatureGroup:
    """Return the current facilities as one group (clustered when many: see the base)."""
    scratch = folium.Map(tiles=None)
    add_facilities(scratch, facilities, scn.layer, lang=lang)
    fg = _group(scn.layer.name(lang))
    for key, child in list(scratch._children.items()):
        if isinstance(child, GeoJsonLayer):
            scratch._children.pop(key)
            child._parent = None
            child.control = False
            fg.add_child(child, name=key)
    return fg


def scenario_base(
    boundaries: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame | None,
    *,
    lang: str = "en",
    basemap: str | None = None,
    tianditu_key: str | None = None,
    demand: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Return the scenario map's base: the map, its panes, the streets (drawn once).

    Opens on the data (``demand`` and the streets within the districts); holds the
    marker-cluster script the facility overlay of :func:`scenario_layers` may use.
    Everything that changes with an edit is an overlay of :func:`scenario_layers`.
    """
    m = base_map(
        data_extent_frame(boundaries, demand, edges),
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
    )
    use_clusters(m)
    if edges is not None and len(edges):
        add_streets(m, edges, lang=lang, tolerance_m=display_tolerance_m(extent_km(boundaries)))
    return m


def scenario_layers(
    scn: Scenario,
    start: Scenario,
    *,
    radius_m: float | None = None,
    lang: str = "en",
    suggestions: gpd.GeoDataFrame | None = None,
    dq_class: np.ndarray | None = None,
    on_fragment: np.ndarray | None = None,
    max_features: int = MAX_FEATURES,
) -> ScenarioLayers:
    """Return the overlays of the scenario map (see the module docstring).

    Parameters
    ----------
    scn, start
        The scenario and its starting state (today's facilities; the same build).
    radius_m
        The reach shown (default the layer's target): distance cells are pale within
        it, gaps, catchments and gained / lost cells are judged at it.
    lang
        ``"en"`` or ``"zh"``.
    suggestions
        Suggested sites (:attr:`geoapp.siting.SitingResult.sites`) or None.
    dq_class, on_fragment
        The data-quality class of each demand point and whether it lies on a street
        fragment (the Coverage page's analysis, same demand points), so the distance
        cells and gaps are those of the Coverage page; None: every point is ``ok``.
    max_features
        Most features of the coverage part (:func:`coverage_map_parts`).
    """
    layer = scn.layer
    radius = float(radius_m) if radius_m is not None else float(layer.target_m)
    after = scn.access()
    if dq_class is not None and len(dq_class) == len(after):
        after["dq_class"] = np.asarray(dq_class, dtype=object)
    else:
        on_fragment = None
    frag = on_fragment if on_fragment is not None and len(on_fragment) == len(after) else None
    n_fac = len(scn.facility_ids)
    gaps = (
        find_gaps(after, layer, search_limit_m=scn.limit_m, target_m=radius, on_fragment=frag)
        if n_fac
        else None
    )
    facilities = scn.facilities
    parts = coverage_map_parts(
        region_boundaries=scn.region.boundaries,
        hexes=None,
        facilities=facilities,
        gaps=gaps,
        edges=None,
        layer=layer,
        lang=lang,
        radius_m=radius,
        mode=scn.mode,
        speed_kmh=scn.speed_kmh,
        search_limit_m=scn.limit_m,
        access=after,
        max_features=max_features,
    )
    overlays, n_cells = _coverage_overlays(parts.overlays)
    reach = radius_text(
        radius,
        lang,
        minutes=layer_minutes(layer, [radius])[0],
        speed_kmh=scn.speed_kmh,
    )
    legend: list[tuple[str, str, str]] = []

    # the catchment of each added site
    catch = site_catchments(scn, radius)
    n_catch = 0
    if catch is not None and len(catch):
        fg = _group(t("scn_site_catchments", lang))
        add_catchments(
            fg,
            catch,
            radius_m=radius,
            color=SITE_CATCHMENT_COLOR,
            lang=lang,
            name=t("scn_site_catchments", lang),
            dissolve=False,
        )
        n_catch = len(catch)
        overlays.append(fg)
        legend.append(
            (
                "swatch",
                SITE_CATCHMENT_COLOR,
                f"{t('scn_site_catchments', lang)}: {t('catchment_of', lang, radius=reach)}",
            )
        )

    # gained / lost against the starting facilities
    changes = status_changes(start.access(), after, radius)
    area = extent_area_km2(data_extent_frame(scn.region.boundaries, after))
    cells = change_cells(changes, res=resolution_for_area(area), demand_column=layer.demand_column)
    dcol = layer.demand_column if layer.demand_column in ("pop", "pop_60plus") else "pop"
    gained = float(cells[f"gained_{dcol}"].sum()) if len(cells) else 0.0
    lost = float(cells[f"lost_{dcol}"].sum()) if len(cells) else 0.0
    n_gained = n_lost = 0
    if len(cells):
        fg = _group(t("scn_change", lang))
        drawn = cells.head(MAX_CHANGE_CELLS)
        add_change_cells(fg, drawn, reach=reach, lang=lang, demand_column=dcol)
        n_gained = int((drawn["status"] == "gained").sum())
        n_lost = int((drawn["status"] == "lost").sum())
        overlays.append(fg)
    if n_gained:
        legend.append(("swatch", GAINED_COLOR, t("scn_gained", lang, reach=reach)))
    if n_lost:
        legend.append(("swatch", LOST_COLOR, t("scn_lost", lang, reach=reach)))

    # the facilities now (clickable), the edits, the suggestions
    if len(facilities):
        overlays.append(_facility_group(facilities, scn, lang))
    added, closed = scn.added(), scn.removed
    for frame, color, key in (
        (added, ADDED_COLOR, "scn_added"),
        (closed, CLOSED_COLOR, "scn_closed"),
    ):
        if len(frame):
            fg = _group(t(key, lang))
            add_edit_markers(fg, frame, color=color, name=t(key, lang))
            overlays.append(fg)
            legend.append(("dot", color, f"{t(key, lang)} ({len(frame):,})"))
    n_sug = 0
    if suggestions is not None and len(suggestions):
        fg = _group(t("scn_suggested", lang))
        n_sug = add_suggested_sites(fg, suggestions, lang=lang, demand_column=dcol)
        overlays.append(fg)
        legend.append(("badge", SUGGESTED_COLOR, f"{t('scn_suggested', lang)} ({n_sug:,})"))
    if legend:
        box = _group("scenario-legend", control=False)
        add_legend(box, scenario_legend(legend, lang), css_class="geoapp-scenario-legend")
        overlays.append(box)
    names = tuple(fg.layer_name for fg in overlays if fg.control)
    return ScenarioLayers(
        overlays=tuple(overlays),
        names=names,
        n_cells=n_cells,
        n_gaps=len(gaps) if gaps is not None else 0,
        n_gained=n_gained,
        n_lost=n_lost,
        gained=gained,
        lost=lost,
        n_site_catchments=n_catch,
        n_suggested=n_sug,
    )


__all__ = [
    "ADDED_COLOR",
    "CLOSED_COLOR",
    "GAINED_COLOR",
    "LOST_COLOR",
    "MAX_CHANGE_CELLS",
    "SITE_CATCHMENT_COLOR",
    "SUGGESTED_COLOR",
    "RankBadges",
    "ScenarioLayers",
    "add_change_cells",
    "add_edit_markers",
    "add_suggested_sites",
    "change_cells",
    "scenario_base",
    "scenario_layers",
    "scenario_legend",
    "site_catchments",
    "status_changes",
]
