"""Folium maps of regions, coverage, gaps and heritage that work offline.

Every function returns (or adds to) a :class:`folium.Map` and needs no Streamlit, so
the app, the analysis scripts and the tests share one implementation.

Gaps first
----------
A coverage map is read at region zoom, so the drawing order is fixed by Leaflet panes
(:data:`PANES`), not by the order layers happen to be added or toggled: streets and
districts at the bottom, demand cells (CSS class ``geoapp-demand``) above them,
catchments, then the gap areas (class ``geoapp-gap``, strong outlines) and their rank
labels (``geoapp-gap-label``) on top of everything but the facilities' small dots.
Demand cells within the layer's target are pale and those beyond it strong, so the
uncovered areas stand out. Facility dots grow with the zoom; a layer with many
facilities is clustered (Leaflet.markercluster, inlined from ``xstatic``). Every layer
drawn has a legend entry, distances in metres and in walking minutes.

Offline by design
-----------------
folium's defaults load Leaflet, jQuery, Bootstrap and Font Awesome from public CDNs.
:func:`base_map` replaces them by Leaflet and jQuery read from the ``xstatic-leaflet``
and ``xstatic-jquery`` packages and inlined as ``data:`` URIs (Leaflet's CSS images are
inlined too); Bootstrap, awesome-markers and icon fonts are dropped. Tile basemaps are
optional and marked "needs internet"; without them (or when they are blocked) the map
stays readable because district outlines and main streets are drawn from the loaded
data. :func:`save_html` writes a standalone HTML file that fetches nothing.

Safety and size
---------------
Every string that comes from data (names, reasons, district names) is HTML-escaped
before it reaches the browser (Leaflet renders tooltip and popup strings as HTML), and
all data is embedded as JSON with ``<``, ``>`` and ``&`` escaped. Geometry is
simplified in the local metric CRS (more for larger regions) and rounded to 5 decimals
(about 1 m). At city scale the demand cells are re-aggregated to coarser H3 cells and
the other layers capped so that a map holds at most ``max_features`` features
(:func:`coverage_map`); the full detail stays in the bundle's GeoPackage.

Modules
-------
:mod:`geoapp.maps.leaflet`
    Leaflet/folium plumbing: inlined ``xstatic`` assets, the map and its panes, the
    GeoJSON element (features read with ``JSON.parse``), basemaps, the layer control,
    legend and note boxes and their HTML, :func:`map_html` and :func:`save_html`.
:mod:`geoapp.maps.display`
    Display preparation without folium: simplification and rounding, GeoJSON, H3
    re-aggregation and feature caps (:data:`MAX_FEATURES`), distance classes and
    colours, escaped tooltip and popup text, readable facility kinds.
:mod:`geoapp.maps.layers`
    The layer adders (``add_boundaries``, ``add_streets``, ``add_hex_layer``,
    ``add_facilities``, ``add_catchments``, ``add_gaps``, ``add_heritage``).
:mod:`geoapp.maps.compose`
    The composed maps: :func:`coverage_map`, :func:`coverage_map_parts`
    (:class:`MapParts`), :func:`overview_map` and :func:`heritage_map`.
:mod:`geoapp.maps.scenario`
    The what-if map's layers (imported by name, not re-exported):
    ``scenario_layers`` (distance cells and gaps under the edits, the catchment of
    each added site, gained / lost cells, suggested sites as rank badges) and
    ``scenario_base``.

Every label comes from :mod:`geoapp.i18n`. This package re-exports the public names of
the former single module ``geoapp/maps.py`` (all its callers use); helpers shared between
its modules live, public, in the module that owns them and are not re-exported.
"""

from __future__ import annotations

from geoapp.maps.compose import (
    MapParts,
    coverage_map,
    coverage_map_parts,
    heritage_map,
    overview_map,
)
from geoapp.maps.display import (
    BEYOND_COLOR,
    CLUSTER_OVER,
    COVERED_OPACITY,
    DEFAULT_SPEED_KMH,
    DISTANCE_COLORS,
    GAP_COLOR,
    LABEL_TOP,
    MAX_FEATURES,
    NO_DATA_COLOR,
    UNCOVERED_OPACITY,
    WGS84,
    coarsen_hexes,
    demand_cells,
    display_resolution,
    display_tolerance_m,
    distance_bins,
    distance_colormap,
    extent_km,
    hexes_for_display,
    kind_name,
)
from geoapp.maps.layers import (
    MAIN_HIGHWAYS,
    add_boundaries,
    add_catchments,
    add_facilities,
    add_gaps,
    add_heritage,
    add_hex_layer,
    add_streets,
)
from geoapp.maps.leaflet import (
    BACKGROUND,
    BASEMAPS,
    PANES,
    add_legend,
    add_note,
    base_map,
    distance_legend,
    external_urls,
    facility_legend,
    feature_count,
    finish_map,
    gap_legend,
    map_html,
    map_layers,
    no_data_legend,
    save_html,
    zone_legend,
)

__all__ = [
    "BACKGROUND",
    "BASEMAPS",
    "BEYOND_COLOR",
    "CLUSTER_OVER",
    "COVERED_OPACITY",
    "DEFAULT_SPEED_KMH",
    "DISTANCE_COLORS",
    "GAP_COLOR",
    "LABEL_TOP",
    "MAIN_HIGHWAYS",
    "MAX_FEATURES",
    "MapParts",
    "NO_DATA_COLOR",
    "PANES",
    "UNCOVERED_OPACITY",
    "WGS84",
    "add_boundaries",
    "add_catchments",
    "add_facilities",
    "add_gaps",
    "add_heritage",
    "add_hex_layer",
    "add_legend",
    "add_note",
    "add_streets",
    "base_map",
    "coarsen_hexes",
    "coverage_map",
    "coverage_map_parts",
    "demand_cells",
    "display_resolution",
    "display_tolerance_m",
    "distance_bins",
    "distance_colormap",
    "distance_legend",
    "extent_km",
    "external_urls",
    "facility_legend",
    "feature_count",
    "finish_map",
    "gap_legend",
    "heritage_map",
    "hexes_for_display",
    "kind_name",
    "map_html",
    "map_layers",
    "no_data_legend",
    "overview_map",
    "save_html",
    "zone_legend",
]
