"""Leaflet plumbing of the maps: offline assets, elements, the base map, legends, output.

folium's defaults load Leaflet, jQuery, Bootstrap and Font Awesome from public CDNs.
:func:`base_map` replaces them by Leaflet and jQuery read from the ``xstatic-leaflet``
and ``xstatic-jquery`` packages and inlined as ``data:`` URIs (Leaflet's CSS images are
inlined too; Leaflet.markercluster is added by :func:`use_clusters`). Data reaches the
browser as JSON text read with ``JSON.parse`` (:class:`GeoJsonLayer`), escaped by
:func:`js_json` so that it can never close the ``<script>`` or open a Jinja2 template.
The drawing order is fixed by the Leaflet panes of :data:`PANES`. Legend and note boxes
(:func:`add_legend`, :func:`add_note` and the ``*_legend`` HTML builders) hold escaped
HTML; :func:`map_html` and :func:`save_html` refuse a page that would load anything
from the network.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import folium
import geopandas as gpd
from branca.element import Element, Figure
from folium.elements import ElementAddToElement
from folium.map import Layer as _FoliumLayer
from folium.template import Template

from geoapp._atomic import write_text
from geoapp.catalog import Layer
from geoapp.errors import InputError
from geoapp.i18n import t
from geoapp.maps.display import (
    BEYOND_COLOR,
    COVERED_OPACITY,
    DEFAULT_SPEED_KMH,
    GAP_COLOR,
    NO_DATA_COLOR,
    UNCOVERED_OPACITY,
    bounds_of,
    cell_km2,
    class_palette,
    distance_bins,
    esc,
    fmt_minutes,
    safe_color,
)
from geoapp.styles import ZONE_ORDER, zone_color, zone_name

log = logging.getLogger(__name__)

#: Basemaps offered (all need internet); "tianditu" needs a key.
BASEMAPS = ("osm", "positron", "tianditu")

#: Leaflet panes and their z-index: the drawing order of every map, whatever order the
#: layers are added or toggled in. Leaflet's own: overlays 400, markers 600, tooltips
#: 650, popups 700 (all inside the map pane; the controls sit above it, so an opening
#: popup is panned clear of the legend and notes instead).
PANES: dict[str, int] = {
    "geoapp-streets": 402,
    "geoapp-districts": 404,
    "geoapp-demand": 410,
    "geoapp-catchments": 420,
    "geoapp-heritage-zones": 425,
    "geoapp-gaps": 450,
    "geoapp-fac-6": 609,
    "geoapp-fac-5": 610,
    "geoapp-fac-4": 611,
    "geoapp-fac-3": 612,
    "geoapp-fac-2": 613,
    "geoapp-fac-1": 614,
    "geoapp-gap-labels": 630,
}

#: Background of a map without tiles (also shown when online tiles are blocked).
BACKGROUND = "#f4f2ec"

_OSM_ATTR = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)

_EXTERNAL_RE = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*["']?(https?:)?//""",
    re.IGNORECASE,
)


# ------------------------------------------------------------------ escaping


# A "{" followed by "{", "%" or "#" can only occur inside a JSON string (compact JSON
# puts '"' or '}' after a structural "{"), so escaping it there keeps the JSON valid.
_JINJA_OPEN_RE = re.compile(r"\{(?=[{%#])")


#: A folium map or a feature group on one (the layer helpers draw on either).
MapLike = TypeVar("MapLike", folium.Map, folium.FeatureGroup)


def js_json(obj: object) -> str:
    """Serialise ``obj`` compactly as JSON that is safe inside a ``<script>`` element.

    ``<``, ``>``, ``&`` and the JS line separators are escaped, and so is every "{" that
    would open a Jinja2 delimiter: branca compiles rendered scripts as templates, and a
    data string such as ``{{ ... }}`` must never be evaluated.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return _JINJA_OPEN_RE.sub(r"\\u007b", text)


# -------------------------------------------------------------------- assets


def _data_uri(mime: str, payload: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


@functools.lru_cache(maxsize=1)
def _offline_assets() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Return (js, css) lists of ``(name, data URI)`` for Leaflet and jQuery."""
    import xstatic.pkg.jquery as xjquery
    import xstatic.pkg.leaflet as xleaflet

    leaflet_dir = Path(xleaflet.BASE_DIR)
    jquery_dir = Path(xjquery.BASE_DIR)
    css = (leaflet_dir / "leaflet.css").read_text(encoding="utf-8")

    def inline_image(match: re.Match[str]) -> str:
        image = leaflet_dir / match.group(1)
        if not image.is_file():
            return "none"
        return f"url({_data_uri('image/png', image.read_bytes())})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", inline_image, css)
    css = css.replace("behavior: url(#default#VML);", "")
    js = (
        ("leaflet", _data_uri("text/javascript", (leaflet_dir / "leaflet.js").read_bytes())),
        ("jquery", _data_uri("text/javascript", (jquery_dir / "jquery.min.js").read_bytes())),
    )
    return js, (("leaflet_css", _data_uri("text/css", css.encode("utf-8"))),)


@functools.lru_cache(maxsize=1)
def _cluster_assets() -> tuple[tuple[str, str], tuple[str, str]]:
    """Return the ``(name, data URI)`` of Leaflet.markercluster's script and CSS."""
    import xstatic.pkg.leaflet_markercluster as xmc

    base = Path(xmc.BASE_DIR)
    js = (base / "leaflet.markercluster.js").read_bytes()
    css = (base / "MarkerCluster.css").read_bytes()
    return ("markercluster", _data_uri("text/javascript", js)), (
        "markercluster_css",
        _data_uri("text/css", css),
    )


def use_clusters(m: folium.Map) -> None:
    """Add Leaflet.markercluster's script and CSS (inlined) to ``m`` once."""
    js, css = _cluster_assets()
    if js not in m.default_js:
        m.default_js = [*m.default_js, js]
        m.default_css = [*m.default_css, css]


def external_urls(page: str) -> list[str]:
    """Return the script/link/img/iframe tags of ``page`` that load from the network.

    Tile URL templates (inside JavaScript) and attribution links are not tags with a
    ``src``/``href`` attribute of their own and are not reported.
    """
    return [m.group(0) for m in _EXTERNAL_RE.finditer(page)]


# ------------------------------------------------------------------ elements


class _RawScript(Element):
    """Script text added to the page as is.

    branca's ``MacroElement.render`` wraps each rendered script in an ``Element``,
    which compiles it as a Jinja2 template: for data-heavy layers that costs about
    0.2 s per render (the app renders on every rerun) and would evaluate any template
    syntax present in the data. This element's text is never compiled.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawScript"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


def _render_raw(element: folium.MacroElement, kwargs: dict[str, Any]) -> None:
    """Render ``element``'s ``script`` macro into the figure without recompiling it."""
    figure = cast(Figure, element.get_root())
    script = element._template.module.__dict__["script"](element, kwargs)
    figure.script.add_child(_RawScript(script), name=element.get_name())
    for child in list(element._children.values()):
        child.render(**kwargs)


class GeoJsonLayer(_FoliumLayer):
    """A GeoJSON overlay whose style, tooltip and popup come from feature properties.

    Properties read by the browser: ``_s`` (style overrides), ``_t`` (tooltip HTML,
    already escaped), ``_p`` (popup HTML, already escaped), ``_lbl`` (``[lat, lng,
    text]``: a label marker, e.g. a gap's rank). Points are circle markers, or with
    ``dots`` small HTML dots whose size follows the zoom (``dots_class``), clustered
    with ``cluster`` (Leaflet.markercluster). Everything is drawn in ``pane``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_base = {{ this.style_json }};
        var {{ this.get_name() }}_style = function (f) {
            return Object.assign({}, {{ this.get_name() }}_base, (f.properties || {})._s || {});
        };
        var {{ this.get_name() }}_geo = L.geoJSON(JSON.parse({{ this.data_str }}), {
            pane: {{ this.pane_json }},
            style: {{ this.get_name() }}_style,
            pointToLayer: function (f, latlng) {
                {%- if this.dots %}
                var c = ((f.properties || {})._s || {}).fillColor || {{ this.get_name() }}_base.fillColor;
                return L.marker(latlng, {pane: {{ this.pane_json }}, keyboard: false,
                    icon: L.divIcon({className: {{ this.dots_json }}, iconSize: null,
                        html: '<span style="background:' + c + '"></span>'})});
                {%- else %}
                return L.circleMarker(latlng, Object.assign({pane: {{ this.pane_json }}},
                    {{ this.get_name() }}_style(f)));
                {%- endif %}
            },
            onEachFeature: function (f, layer) {
                var p = f.properties || {};
                if (p._t) { layer.bindTooltip(p._t, {sticky: {{ this.sticky_json }}}); }
                if (p._p) { layer.bindPopup(p._p, {maxWidth: 340}); }
                {%- if this.highlight %}
                layer.on("mouseover", function () {
                    if (layer.setStyle) { layer.setStyle({weight: {{ this.highlight }}}); }
                });
                layer.on("mouseout", function () {
                    if (layer.setStyle) { {{ this.get_name() }}_geo.resetStyle(layer); }
                });
                {%- endif %}
            }
        });
        {%- if this.cluster %}
        var {{ this.get_name() }} = L.markerClusterGroup({
            clusterPane: {{ this.pane_json }}, maxClusterRadius: 40, disableClusteringAtZoom: 16,
            showCoverageOnHover: false, spiderfyOnMaxZoom: false, chunkedLoading: true,
            iconCreateFunction: function (cl) {
                var n = cl.getChildCount(), s = n < 10 ? 20 : n < 100 ? 26 : 32;
                return L.divIcon({className: "geoapp-cluster", iconSize: [s, s],
                    html: '<span style="background:' + {{ this.color_json }} + '">' + n + '</span>'});
            }
        });
        {{ this.get_name() }}.addLayer({{ this.get_name() }}_geo);
        {%- else %}
        var {{ this.get_name() }} = L.featureGroup([{{ this.get_name() }}_geo]);
        {%- endif %}
        {%- if this.labels %}
        {{ this.get_name() }}_geo.eachLayer(function (l) {
            var p = l.feature.properties || {};
            if (!p._lbl) { return; }
            var mk = L.marker([p._lbl[0], p._lbl[1]], {pane: "geoapp-gap-labels", keyboard: false,
                icon: L.divIcon({className: {{ this.labels_json }}, iconSize: null,
                    html: "<span>" + p._lbl[2] + "</span>"})});
            if (p._t) { mk.bindTooltip(p._t); }
            if (p._p) { mk.bindPopup(p._p, {maxWidth: 340}); }
            {{ this.get_name() }}.addLayer(mk);
        });
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        collection: dict[str, Any],
        *,
        name: str,
        style: Mapping[str, Any],
        pane: str,
        show: bool = True,
        control: bool = True,
        sticky: bool = True,
        highlight: float | None = None,
        dots: str | None = None,
        cluster: bool = False,
        labels: str | None = None,
    ) -> None:
        # the layer control's script is compiled as a Jinja2 template: no braces in names
        label = esc(name).replace("{", "&#123;").replace("}", "&#125;")
        super().__init__(name=label, overlay=True, control=control, show=show)
        self._name = "GeoJsonLayer"
        # the features as a JSON text in a JS string, read with JSON.parse: a browser
        # parses a large JSON text several times faster than the same data as a script
        # literal (2 MB of features: 30 ms against 180 ms in chromium)
        self.data_str = js_json(
            json.dumps(collection, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        )
        self.style_json = js_json(dict(style))
        self.sticky_json = js_json(bool(sticky))
        self.pane_json = js_json(pane)
        self.pane = pane
        self.highlight = highlight
        self.dots = dots is not None
        self.dots_json = js_json(dots or "")
        self.cluster = bool(cluster)
        self.color_json = js_json(str(style.get("fillColor", "#3366cc")))
        self.labels = labels is not None
        self.labels_json = js_json(labels or "")
        self.n_features = len(collection.get("features", []))

    @property
    def data_json(self) -> str:
        """The feature collection as JSON text (what the browser's ``JSON.parse`` reads)."""
        return json.loads(self.data_str)

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement's
        """Add the layer to its parent (when shown) and its script to the page as is."""
        if self.show:
            assert self._parent is not None  # rendered as a child of a map or group
            self.add_child(
                ElementAddToElement(
                    element_name=self.get_name(),
                    element_parent_name=self._parent.get_name(),
                ),
                name=self.get_name() + "_add",
            )
        _render_raw(self, kwargs)


class _HtmlControl(folium.MacroElement):
    """A fixed box on the map (legend, note) holding pre-escaped HTML."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position_json }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", {{ this.css_class_json }});
            div.innerHTML = {{ this.html_json }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {%- if this.in_group %}
        // inside a feature group (the app redraws only those): shown while it is
        {{ this._parent.get_name() }}.on("add", function (e) {
            {{ this.get_name() }}.addTo(e.target._map);
        });
        {{ this._parent.get_name() }}.on("remove", function () {
            {{ this.get_name() }}.remove();
        });
        {%- else %}
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {%- endif %}
        {% endmacro %}
        """
    )

    in_group = False

    def __init__(self, html_text: str, *, position: str = "bottomright", css_class: str) -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.html_json = js_json(html_text)
        self.position_json = js_json(position)
        self.css_class_json = js_json(css_class)

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement's
        self.in_group = not isinstance(self._parent, folium.Map)
        _render_raw(self, kwargs)


class MapSetup(folium.MacroElement):
    """Background, panes, zoom classes, a metric scale bar and the tile-error note.

    Also makes the click that focuses the map (for the keyboard) not scroll the page:
    inside the app's iframe Leaflet's ``focus()`` moved the page by the part of the
    map below the fold, so a drill-in click landed elsewhere.

    The map container's background is set here because the app's iframe renames the
    map div. The container carries ``geoapp-zlow`` / ``geoapp-zmid`` / ``geoapp-zhigh``
    (zoom below 12, 12-14, 15 and above): facility dots are sized by CSS from them.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            map.getContainer().style.background = {{ this.color_json }};
            if (map.options.maxZoom === undefined) { map.options.maxZoom = 19; }
            // a click focuses the map for the keyboard; inside the app's iframe a plain
            // focus() scrolls the page to the map, so focus without scrolling
            if (map.keyboard && map.keyboard.enabled()) {
                map.keyboard.disable();
                map.keyboard._onMouseDown = function () {
                    if (this._focused) { return; }
                    this._map._container.focus({preventScroll: true});
                };
                map.keyboard.enable();
            }
            var panes = {{ this.panes_json }};
            Object.keys(panes).forEach(function (p) {
                if (!map.getPane(p)) { map.createPane(p); }
                map.getPane(p).style.zIndex = panes[p];
            });
            var zc = function () {
                var z = map.getZoom(), c = map.getContainer();
                c.classList.toggle("geoapp-zlow", z < 12);
                c.classList.toggle("geoapp-zmid", z >= 12 && z < 15);
                c.classList.toggle("geoapp-zhigh", z >= 15);
            };
            map.on("zoomend", zc);
            zc();
            // popups open clear of the legend (bottom right) and the notes (bottom left):
            // Leaflet pans the map so the popup stays inside this padding
            map.on("popupopen", function (e) {
                var c = map.getContainer();
                var br = c.querySelector(".leaflet-bottom.leaflet-right");
                var bl = c.querySelector(".leaflet-bottom.leaflet-left");
                var tr = c.querySelector(".leaflet-top.leaflet-right");
                e.popup.options.autoPanPaddingTopLeft = L.point(50, 12);
                e.popup.options.autoPanPaddingBottomRight = L.point(
                    Math.max(br ? br.offsetWidth : 0, tr ? tr.offsetWidth : 0) + 12,
                    (bl ? bl.offsetHeight : 0) + 12);
                if (e.popup.options.autoPan !== false && e.popup._adjustPan) {
                    e.popup._adjustPan();
                }
            });
            L.control.scale({metric: true, imperial: false, maxWidth: 140,
                             position: "bottomleft"}).addTo(map);
            var warned = false;
            map.on("layeradd", function (e) {
                if (!(e.layer instanceof L.TileLayer) || e.layer._geoappWatched) { return; }
                e.layer._geoappWatched = true;
                e.layer.on("tileerror", function () {
                    if (warned) { return; }
                    warned = true;
                    var box = L.control({position: "bottomleft"});
                    box.onAdd = function () {
                        var d = L.DomUtil.create("div", "geoapp-box geoapp-offline");
                        d.textContent = {{ this.offline_json }};
                        return d;
                    };
                    box.addTo(map);
                });
            });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, color: str, lang: str) -> None:
        super().__init__()
        self._name = "MapSetup"
        self.color_json = js_json(color)
        self.panes_json = js_json(PANES)
        self.offline_json = js_json(t("tiles_failed", lang))


class HideOnAdd(folium.MacroElement):
    """Take a feature group off the map right after it is added (a hidden overlay).

    streamlit-folium adds every feature group it is given; a layer hidden by default
    (e.g. many catchments) is removed at once and stays ticked off in the layer
    control until the reader ticks it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.once("add", function (e) {
            var layer = e.target, map = layer._map;
            setTimeout(function () { map.removeLayer(layer); }, 0);
        });
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "HideOnAdd"


_MAP_CSS = f"""
<style>
.folium-map.leaflet-container {{ background: {BACKGROUND}; }}
.geoapp-box {{
    background: rgba(255,255,255,0.93); padding: 5px 8px; border-radius: 4px;
    box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 12px/1.35 sans-serif; color: #222;
    max-width: 280px;
}}
.geoapp-legend {{ max-height: 62vh; overflow-y: auto; }}
.geoapp-box .sw {{
    display: inline-block; width: 14px; height: 10px; margin-right: 5px;
    border: 1px solid #555; vertical-align: middle;
}}
.geoapp-box .dot {{
    display: inline-block; width: 10px; height: 10px; margin: 0 7px 0 2px;
    border: 1.5px solid #fff; border-radius: 50%; box-shadow: 0 0 0 1px #555;
    vertical-align: middle;
}}
.geoapp-box .ttl {{ font-weight: bold; margin: 4px 0 2px; }}
.geoapp-box .ttl:first-child {{ margin-top: 0; }}
.geoapp-box .sub {{ color: #555; font-size: 11px; }}
.geoapp-note {{
    background: #fff3cd; border: 1px solid #d4a106; font-size: 11px; max-width: 240px;
    pointer-events: none;
}}
.geoapp-offline {{ background: #f8d7da; border: 1px solid #c0392b; font-size: 11px; }}
.geoapp-title {{ font-size: 12px; font-weight: bold; pointer-events: none; }}
.leaflet-control-layers {{ font: 13px/1.4 sans-serif; }}
.leaflet-control-scale-line {{ font: 11px sans-serif; }}
path.leaflet-interactive:focus {{ outline: none; }}
.leaflet-container .leaflet-tooltip {{ font: 12px/1.4 sans-serif; }}
.leaflet-container .leaflet-popup-content {{ font: 13px/1.45 sans-serif; margin: 10px 14px; }}
.geoapp-fac {{ width: 0; height: 0; }}
.geoapp-fac span {{
    position: absolute; left: 0; top: 0; transform: translate(-50%, -50%);
    width: 6px; height: 6px; border: 1px solid #fff; border-radius: 50%;
    box-shadow: 0 0 0 0.5px rgba(0,0,0,0.6);
}}
.geoapp-zmid .geoapp-fac span {{ width: 8px; height: 8px; border-width: 1.5px; }}
.geoapp-zhigh .geoapp-fac span {{ width: 11px; height: 11px; border-width: 1.5px; }}
.geoapp-fac.geoapp-fac-first span {{ width: 8px; height: 8px; }}
.geoapp-zmid .geoapp-fac.geoapp-fac-first span {{ width: 10px; height: 10px; }}
.geoapp-zhigh .geoapp-fac.geoapp-fac-first span {{ width: 13px; height: 13px; }}
.geoapp-cluster span {{
    display: block; width: 100%; height: 100%; border-radius: 50%; color: #fff;
    font: bold 11px/1 sans-serif; text-align: center; opacity: 0.85;
    border: 2px solid #fff; box-sizing: border-box; box-shadow: 0 0 0 1px rgba(0,0,0,0.4);
    display: flex; align-items: center; justify-content: center;
}}
.geoapp-gap-label {{ width: 0; height: 0; }}
.geoapp-gap-label span {{
    position: absolute; left: 0; top: 0; transform: translate(-50%, -50%);
    min-width: 18px; height: 18px; padding: 0 3px; box-sizing: border-box;
    border-radius: 9px; background: {GAP_COLOR}; color: #fff; border: 2px solid #fff;
    font: bold 11px/14px sans-serif; text-align: center;
    box-shadow: 0 1px 3px rgba(0,0,0,0.5);
}}
.geoapp-box .gapsw {{
    display: inline-block; width: 14px; height: 10px; margin-right: 5px;
    border: 2.5px solid {GAP_COLOR}; background: rgba(176,0,32,0.18); vertical-align: middle;
}}
</style>
"""


# ------------------------------------------------------------------- the map


def base_map(
    bounds_gdf: gpd.GeoDataFrame | None,
    *,
    basemap: str | None = None,
    tianditu_key: str | None = None,
    lang: str = "en",
    height: str | int = "100%",
) -> folium.Map:
    """Return an empty offline map fitted to ``bounds_gdf``.

    Parameters
    ----------
    bounds_gdf
        Data whose extent the map shows (any CRS); ``None`` or empty for a world view.
    basemap
        ``None`` (default: no tiles, plain background, nothing fetched), ``"osm"``,
        ``"positron"`` or ``"tianditu"`` (needs ``tianditu_key``). Online basemaps are
        named "(needs internet)" in the layer control; when their tiles cannot be
        loaded the plain background stays and a note says so.
    tianditu_key
        A Tianditu (天地图) browser key.
    lang
        ``"en"`` or ``"zh"``; the Tianditu annotation layer is Chinese either way.
    height
        CSS height of the map element.

    Returns
    -------
    folium.Map
        With Leaflet and jQuery inlined, the panes of :data:`PANES`, a metric scale
        bar and nothing else yet; add layers and finish with :func:`finish_map`
        (adds the layer control).

    Raises
    ------
    InputError
        For an unknown basemap or Tianditu without a key.
    """
    if basemap not in (None, "", "none", *BASEMAPS):
        raise InputError(f"Unknown basemap {basemap!r}; choose one of none, {', '.join(BASEMAPS)}.")
    if basemap == "tianditu" and not tianditu_key:
        raise InputError(t("tianditu_needs_key", lang))
    m = folium.Map(
        location=[0.0, 0.0],
        zoom_start=2,
        tiles=None,
        control_scale=False,
        prefer_canvas=False,
        height=height,
    )
    js, css = _offline_assets()
    m.default_js = list(js)
    m.default_css = list(css)
    cast(Figure, m.get_root()).header.add_child(folium.Element(_MAP_CSS), name="geoapp_css")
    MapSetup(BACKGROUND, lang).add_to(m)
    online = f" ({t('needs_internet', lang)})"

    if basemap == "osm":
        folium.TileLayer(
            "OpenStreetMap",
            name=t("basemap_osm", lang) + online,
            attr=_OSM_ATTR,
            overlay=False,
            control=True,
        ).add_to(m)
    elif basemap == "positron":
        folium.TileLayer(
            "CartoDB positron",
            name=t("basemap_positron", lang) + online,
            overlay=False,
            control=True,
        ).add_to(m)
    elif basemap == "tianditu":
        key = str(tianditu_key).strip()
        if not re.fullmatch(r"[0-9A-Za-z]+", key):
            raise InputError("The Tianditu key may contain only letters and digits; check it.")
        tmpl = (
            "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" + key
        )
        attr = '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>'
        folium.TileLayer(
            tiles=tmpl.replace("{layer}", "vec"),
            name=t("basemap_tianditu", lang) + online,
            attr=attr,
            subdomains="01234567",
            overlay=False,
            max_zoom=18,
        ).add_to(m)
        folium.TileLayer(
            tiles=tmpl.replace("{layer}", "cva"),
            name="天地图注记",
            attr=attr,
            subdomains="01234567",
            overlay=True,
            control=False,
            max_zoom=18,
        ).add_to(m)

    bounds = bounds_of(bounds_gdf)
    if bounds is not None:
        m.fit_bounds(bounds)
        m.location = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    return m


def finish_map(m: folium.Map, *, collapsed: bool = False) -> folium.Map:
    """Add the layer control (once) and return ``m``."""
    if not any(isinstance(c, folium.LayerControl) for c in m._children.values()):
        folium.LayerControl(collapsed=collapsed).add_to(m)
    return m


def map_layers(m: folium.Map) -> list[dict[str, Any]]:
    """Return the geoapp layers of ``m`` in drawing order (bottom first).

    Each entry: ``name`` (as in the layer control), ``pane``, ``z`` (the pane's
    z-index), ``n_features``, ``css_class`` (``geoapp-demand``, ``geoapp-gap`` ... or
    ""), ``clustered``. Drawing order is the pane order, so a test (or a reader) can
    check that the gaps lie above the demand cells without a browser.
    """
    out = []
    children: list[Element] = []
    for child in m._children.values():
        # the app's overlays (:class:`MapParts`) hold their layer in a feature group
        if isinstance(child, folium.FeatureGroup):
            children.extend(child._children.values())
        else:
            children.append(child)
    for child in children:
        if isinstance(child, GeoJsonLayer):
            style = json.loads(child.style_json)
            out.append(
                {
                    "name": html.unescape(child.layer_name),
                    "pane": child.pane,
                    "z": PANES.get(child.pane, 400),
                    "n_features": child.n_features,
                    "css_class": style.get("className", ""),
                    "clustered": child.cluster,
                }
            )
    return sorted(out, key=lambda d: d["z"])


def feature_count(m: folium.Map) -> int:
    """Return the number of GeoJSON features ``m`` sends to the browser."""
    return sum(d["n_features"] for d in map_layers(m))


# --------------------------------------------------------- legends and notes


def add_legend(
    m: MapLike, html_text: str, *, position: str = "bottomright", css_class: str = ""
) -> MapLike:
    """Add a legend box holding ``html_text`` (which must already be escaped)."""
    cls = "geoapp-box geoapp-legend" + (f" {css_class}" if css_class else "")
    _HtmlControl(html_text, position=position, css_class=cls).add_to(m)
    return m


def add_note(
    m: folium.Map, text: str, *, position: str = "bottomleft", title: bool = False
) -> folium.Map:
    """Add a compact note box (plain text, escaped here).

    Notes sit bottom-left by default, under the popups (map controls are below the
    popup pane) and let clicks through, so they never hide a popup or a feature.
    """
    css = "geoapp-box geoapp-title" if title else "geoapp-box geoapp-note"
    _HtmlControl(esc(text), position=position, css_class=css).add_to(m)
    return m


def zone_legend(zones: Iterable[str], lang: str = "en") -> str:
    """Return the legend HTML of the zone types present in ``zones`` (styles' order)."""
    seen = {str(z) for z in zones}
    present = [z for z in ZONE_ORDER if z in seen] + sorted(seen - set(ZONE_ORDER))
    items = "".join(
        f'<div><span class="sw" style="background:{zone_color(z)}"></span>'
        f"{esc(zone_name(z, lang))}</div>"
        for z in present
    )
    return f'<div class="ttl">{esc(t("legend_zone", lang))}</div>{items}'


def radius_text(
    radius_m: float, lang: str, *, minutes: float | None, speed_kmh: float | None
) -> str:
    """Return e.g. "300 m · 4 min" (metre layer) or "5 min · 375 m" (minute layer)."""
    unit = "米" if lang == "zh" else "m"
    metres = f"{radius_m:,.0f} {unit}"
    if minutes is not None:
        return f"{t('minutes', lang, m=f'{minutes:g}')} · {metres}"
    if speed_kmh:
        return f"{metres} · {t('minutes', lang, m=fmt_minutes(radius_m, speed_kmh))}"
    return metres


def range_text(
    lo_m: float,
    hi_m: float,
    lang: str,
    *,
    minutes: tuple[float, float] | None,
    speed_kmh: float | None,
) -> str:
    """Return a distance class as ranges in both units.

    Examples
    --------
    >>> range_text(300, 600, "en", minutes=(5, 10), speed_kmh=3.6)
    '5–10 min · 300–600 m'
    >>> range_text(0, 300, "en", minutes=None, speed_kmh=4.5)
    '0–300 m · 0–4 min'
    """
    unit = "米" if lang == "zh" else "m"
    metres = f"{lo_m:,.0f}–{hi_m:,.0f} {unit}"
    if minutes is not None:
        return f"{t('minutes', lang, m=f'{minutes[0]:g}–{minutes[1]:g}')} · {metres}"
    if speed_kmh:
        lo, hi = fmt_minutes(lo_m, speed_kmh), fmt_minutes(hi_m, speed_kmh)
        return f"{metres} · {t('minutes', lang, m=f'{lo}–{hi}')}"
    return metres


def layer_minutes(layer: Layer | None, radii_m: Sequence[float]) -> list[float | None]:
    """Return a minute-based layer's own minutes for each of ``radii_m`` (else None)."""
    if layer is not None and layer.minutes and len(layer.minutes) == len(layer.radii_m):
        by_r = {
            round(float(r), 6): float(mn)
            for r, mn in zip(layer.radii_m, layer.minutes, strict=True)
        }
        return [by_r.get(round(float(r), 6)) for r in radii_m]
    return [None] * len(radii_m)


def distance_legend(
    radii_m: Sequence[float],
    lang: str = "en",
    mode: str = "network",
    *,
    layer: Layer | None = None,
    target_m: float | None = None,
    speed_kmh: float | None = None,
    res: int | None = None,
    merged: bool = False,
) -> str:
    """Return the legend HTML of the demand cells' distance classes.

    Each class is given in metres and walking minutes (a minute-based layer's own
    minutes, else at ``speed_kmh``, default :data:`DEFAULT_SPEED_KMH`); classes within
    ``target_m`` are drawn pale, the others strong, as on the map.
    """
    radii = distance_bins(radii_m)[1:-1]
    palette = class_palette(radii_m)
    mins = layer_minutes(layer, radii)
    speed = speed_kmh or (layer.speed_kmh if layer is not None else None) or DEFAULT_SPEED_KMH
    target = float(target_m) if target_m is not None else (radii[-1] if radii else math.inf)
    rows = []
    lo_m, lo_min = 0.0, 0.0
    for i, r in enumerate(radii):
        # both ends in both units: "5–10 min · 300–600 m" (or "300–600 m · 4–8 min")
        hi_min = mins[i]
        span = range_text(lo_m, r, lang, minutes=None if hi_min is None else (lo_min, hi_min),
                          speed_kmh=speed)  # fmt: skip
        op = COVERED_OPACITY if r <= target + 1e-9 else UNCOVERED_OPACITY
        rows.append(
            f'<div><span class="sw" style="background:{palette[i]};opacity:{0.35 + op * 0.65:.2f}">'
            f"</span>{esc(span)}</div>"
        )
        lo_m, lo_min = float(r), float(mins[i] or 0.0)
    last = radius_text(radii[-1], lang, minutes=mins[-1], speed_kmh=speed) if radii else ""
    rows.append(
        f'<div><span class="sw" style="background:{BEYOND_COLOR}"></span>'
        f"{esc(t('beyond_class', lang, radius=last))}</div>"
    )
    title = t("legend_distance_euclid" if mode == "euclidean" else "legend_distance", lang)
    if not any(x is not None for x in mins) and radii:
        title += f"; {t('minutes_at', lang, speed=f'{speed:g}')}"
    notes = []
    if math.isfinite(target) and radii:
        tgt = radius_text(target, lang, minutes=layer_minutes(layer, [target])[0], speed_kmh=speed)
        notes.append(t("covered_pale", lang, target=tgt))
    if merged and res is not None:
        notes.append(t("cells_at", lang, res=res, km2=cell_km2(res)))
        notes.append(t("cells_merged", lang))
    sub = "".join(f'<div class="sub">{esc(n)}</div>' for n in notes)
    return f'<div class="ttl">{esc(title)}</div>' + "".join(rows) + sub


def no_data_legend(layer: Layer | None, lang: str = "en") -> str:
    """Legend of a layer with no facility in the data: grey cells, no distance classes."""
    name = layer.name(lang) if layer is not None else t("facilities", lang)
    return (
        f'<div class="ttl">{esc(t("no_data_title", lang, layer=name))}</div>'
        f'<div><span class="sw" style="background:{NO_DATA_COLOR}"></span>'
        f"{esc(t('no_data_cells', lang))}</div>"
        f'<div class="sub">{esc(t("cannot_assess", lang))}</div>'
    )


def facility_legend(items: Sequence[tuple[str, str, int, bool]], lang: str = "en") -> str:
    """Return the legend HTML of facility layers: ``(name, colour, count, clustered)``."""
    rows = [f'<div class="ttl">{esc(t("legend_facilities", lang))}</div>']
    any_cluster = False
    for name, color, n, clustered in items:
        any_cluster |= clustered
        rows.append(
            f'<div><span class="dot" style="background:{safe_color(color)}"></span>'
            f"{esc(t('facilities_count', lang, name=name, n=int(n)))}</div>"
        )
    if any_cluster:
        rows.append(f'<div class="sub">{esc(t("cluster_note", lang))}</div>')
    return "".join(rows)


def gap_legend(n_shown: int, n_total: int, lang: str = "en") -> str:
    """Return the legend HTML of the gap layer."""
    rows = [
        f'<div class="ttl">{esc(t("legend_gaps", lang))}</div>',
        f'<div><span class="gapsw"></span>{esc(t("gap_area", lang))}</div>',
    ]
    if n_shown < n_total:
        rows.append(
            f'<div class="sub">{esc(t("gaps_shown", lang, shown=n_shown, total=n_total))}</div>'
        )
    return "".join(rows)


# -------------------------------------------------------------------- output


def map_html(m: folium.Map) -> str:
    """Return the standalone HTML of ``m`` (all assets inlined).

    Raises
    ------
    RuntimeError
        If an element slipped in that loads a script or stylesheet from the network.
    """
    page = m.get_root().render()
    bad = external_urls(page)
    if bad:
        raise RuntimeError(f"map HTML would load from the network: {bad[:3]}")
    return page


def save_html(m: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write ``m`` as a standalone HTML file that works with the network cut off.

    The file is written atomically (temporary file, then rename).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    out = write_text(path, map_html(m))
    log.info("wrote map %s (%.0f kB)", out, out.stat().st_size / 1024)
    return out
