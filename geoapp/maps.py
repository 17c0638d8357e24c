"""Folium maps of regions, coverage, gaps and heritage that work offline.

Every function returns (or adds to) a :class:`folium.Map` and needs no Streamlit, so
the app, the analysis scripts and the tests share one implementation.

Offline by design
-----------------
folium's defaults load Leaflet, jQuery, Bootstrap and Font Awesome from public CDNs.
:func:`base_map` replaces them by Leaflet and jQuery read from the ``xstatic-leaflet``
and ``xstatic-jquery`` packages and inlined as ``data:`` URIs (Leaflet's CSS images are
inlined too); Bootstrap, awesome-markers and icon fonts are dropped (facilities are
drawn as circle markers). Tile basemaps are optional; without them the map stays
readable because district outlines and main streets are drawn from the loaded data.
:func:`save_html` writes a standalone HTML file that fetches nothing from the network.

Safety and size
---------------
Every string that comes from data (names, reasons, district names) is HTML-escaped
before it reaches the browser (Leaflet renders tooltip and popup strings as HTML), and
all data is embedded as JSON with ``<``, ``>`` and ``&`` escaped. Geometry is
simplified in the local metric CRS and rounded to 5 decimals (about 1 m) before it is
embedded.
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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import branca.colormap
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from folium.elements import ElementAddToElement
from folium.map import Layer as _FoliumLayer
from folium.template import Template
from pyproj import CRS

from geoapp._atomic import write_text
from geoapp.catalog import Layer
from geoapp.crs import local_crs
from geoapp.errors import InputError
from geoapp.i18n import t
from geoapp.styles import ZONE_ORDER, zone_color, zone_fine_name, zone_name

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: Colours of the walking-distance classes, nearest first; the last is "beyond".
DISTANCE_COLORS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
BEYOND_COLOR = "#6a1b4d"

#: Basemaps offered; "tianditu" needs a key.
BASEMAPS = ("osm", "positron", "tianditu")

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

#: Background of a map without tiles.
BACKGROUND = "#f4f2ec"

_OSM_ATTR = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
_DECIMALS = 5
_TOLERANCE_M = 6.0
_EXTERNAL_RE = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*["']?(https?:)?//""",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- escaping


def _esc(value: object) -> str:
    """Return ``value`` as text safe to place inside HTML (and a JS template string)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).replace("`", "&#96;").replace("$", "&#36;")


# A "{" followed by "{", "%" or "#" can only occur inside a JSON string (compact JSON
# puts '"' or '}' after a structural "{"), so escaping it there keeps the JSON valid.
_JINJA_OPEN_RE = re.compile(r"\{(?=[{%#])")


def _js_json(obj: object) -> str:
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


def _fmt_int(value: object) -> str:
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(f):
        return "–"
    return f"{round(f):,}"


def _fmt_m(value: object) -> str:
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(f):
        return "∞"
    return f"{round(f):,} m"


def _col(gdf: pd.DataFrame, name: str, default: object = "") -> pd.Series:
    if name in gdf.columns:
        return gdf[name]
    return pd.Series([default] * len(gdf), index=gdf.index, dtype=object)


def _text_col(gdf: pd.DataFrame, name: str) -> list[str]:
    """Return a column as a list of escaped strings ('' for missing)."""
    return [_esc(v) for v in _col(gdf, name, None).tolist()]


# --------------------------------------------------------------------------- assets


@functools.lru_cache(maxsize=1)
def _offline_assets() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Return (js, css) lists of ``(name, data URI)`` for Leaflet and jQuery."""
    import xstatic.pkg.jquery as xjquery
    import xstatic.pkg.leaflet as xleaflet

    leaflet_dir = Path(xleaflet.BASE_DIR)
    jquery_dir = Path(xjquery.BASE_DIR)

    def data_uri(mime: str, payload: bytes) -> str:
        return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"

    css = (leaflet_dir / "leaflet.css").read_text(encoding="utf-8")

    def inline_image(match: re.Match[str]) -> str:
        image = leaflet_dir / match.group(1)
        if not image.is_file():
            return "none"
        return f"url({data_uri('image/png', image.read_bytes())})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", inline_image, css)
    css = css.replace("behavior: url(#default#VML);", "")
    js = (
        ("leaflet", data_uri("text/javascript", (leaflet_dir / "leaflet.js").read_bytes())),
        ("jquery", data_uri("text/javascript", (jquery_dir / "jquery.min.js").read_bytes())),
    )
    return js, (("leaflet_css", data_uri("text/css", css.encode("utf-8"))),)


def external_urls(page: str) -> list[str]:
    """Return the script/link/img/iframe tags of ``page`` that load from the network.

    Tile URL templates (inside JavaScript) and attribution links are not tags with a
    ``src``/``href`` attribute of their own and are not reported.
    """
    return [m.group(0) for m in _EXTERNAL_RE.finditer(page)]


# --------------------------------------------------------------------------- elements


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
    figure = element.get_root()
    script = element._template.module.__dict__["script"](element, kwargs)
    figure.script.add_child(_RawScript(script), name=element.get_name())
    for child in list(element._children.values()):
        child.render(**kwargs)


class _GeoJsonLayer(_FoliumLayer):
    """A GeoJSON overlay whose style, tooltip and popup come from feature properties.

    Properties read by the browser: ``_s`` (style overrides), ``_t`` (tooltip HTML,
    already escaped), ``_p`` (popup HTML, already escaped). Points are drawn as circle
    markers (no icon images or fonts).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON({{ this.data_json }}, {
            style: function (f) {
                return Object.assign({}, {{ this.style_json }}, (f.properties || {})._s || {});
            },
            pointToLayer: function (f, latlng) {
                return L.circleMarker(latlng,
                    Object.assign({}, {{ this.style_json }}, (f.properties || {})._s || {}));
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
                    if (layer.setStyle) { {{ this.get_name() }}.resetStyle(layer); }
                });
                {%- endif %}
            }
        });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        collection: dict[str, Any],
        *,
        name: str,
        style: Mapping[str, Any],
        show: bool = True,
        control: bool = True,
        sticky: bool = True,
        highlight: float | None = None,
    ) -> None:
        # the layer control's script is compiled as a Jinja2 template: no braces in names
        label = _esc(name).replace("{", "&#123;").replace("}", "&#125;")
        super().__init__(name=label, overlay=True, control=control, show=show)
        self._name = "GeoJsonLayer"
        self.data_json = _js_json(collection)
        self.style_json = _js_json(dict(style))
        self.sticky_json = _js_json(bool(sticky))
        self.highlight = highlight
        self.n_features = len(collection.get("features", []))

    def render(self, **kwargs: Any) -> None:
        if self.show:
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
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str = "bottomright", css_class: str) -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.html_json = _js_json(html_text)
        self.position_json = _js_json(position)
        self.css_class_json = _js_json(css_class)

    def render(self, **kwargs: Any) -> None:
        _render_raw(self, kwargs)


class _Background(folium.MacroElement):
    """Set the map container's background (the app's iframe renames the map div)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.getContainer().style.background = {{ this.color_json }};
        {% endmacro %}
        """
    )

    def __init__(self, color: str) -> None:
        super().__init__()
        self._name = "Background"
        self.color_json = _js_json(color)


_MAP_CSS = f"""
<style>
.folium-map.leaflet-container {{ background: {BACKGROUND}; }}
.geoapp-box {{
    background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
    box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 12px/1.35 sans-serif; color: #222;
    max-width: 260px;
}}
.geoapp-box .sw {{
    display: inline-block; width: 14px; height: 10px; margin-right: 5px;
    border: 1px solid #555; vertical-align: middle;
}}
.geoapp-box .ttl {{ font-weight: bold; margin-bottom: 3px; }}
.geoapp-note {{ background: #fff3cd; border: 1px solid #d4a106; font-weight: bold; }}
.geoapp-title {{ font-size: 13px; font-weight: bold; }}
.leaflet-control-layers {{ font: 13px/1.4 sans-serif; }}
path.leaflet-interactive:focus {{ outline: none; }}
.leaflet-tooltip, .leaflet-popup-content {{ font: 12px/1.4 sans-serif; }}
</style>
"""


# --------------------------------------------------------------------------- geometry


@functools.lru_cache(maxsize=128)
def _utm_epsg(zone: int, north: bool) -> CRS:
    return CRS.from_epsg((32600 if north else 32700) + zone)


def _map_crs(geoms: gpd.GeoSeries) -> CRS:
    """Return the UTM zone at the centre of ``geoms`` (a metric CRS to simplify in).

    Arithmetic on the bounds instead of :func:`geoapp.crs.local_crs`'s PROJ database
    lookup (about 0.1 s per new extent, and every map layer has its own): simplifying
    for display only needs a metric CRS close to the data.
    """
    geo = geoms if geoms.crs is not None and geoms.crs.is_geographic else geoms.to_crs(WGS84)
    minx, miny, maxx, maxy = geo.total_bounds
    lon, lat = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 84:
        return local_crs(geo)
    zone = min(max(int((lon + 180.0) // 6.0) + 1, 1), 60)
    return _utm_epsg(zone, lat >= 0)


def _prepare(
    gdf: gpd.GeoDataFrame,
    *,
    tolerance_m: float = _TOLERANCE_M,
    decimals: int = _DECIMALS,
) -> gpd.GeoDataFrame:
    """Return a copy in EPSG:4326, simplified in the local CRS and rounded.

    Rows with missing or empty geometry are dropped.
    """
    if gdf is None or len(gdf) == 0:
        return gpd.GeoDataFrame(geometry=[], crs=WGS84)
    if gdf.crs is None:
        raise InputError("A map layer has no coordinate reference system; set one first.")
    keep = gdf.geometry.notna().to_numpy() & ~gdf.geometry.is_empty.to_numpy()
    out = gdf.loc[keep]
    if len(out) == 0:
        return gpd.GeoDataFrame(geometry=[], crs=WGS84)
    geoms = out.geometry
    all_points = bool((geoms.geom_type == "Point").all())
    if tolerance_m > 0 and not all_points:
        crs = _map_crs(geoms)
        geoms = geoms.to_crs(crs).simplify(tolerance_m, preserve_topology=True).to_crs(WGS84)
    elif str(geoms.crs) != WGS84 and geoms.crs != WGS84:
        geoms = geoms.to_crs(WGS84)
    arr = shapely.transform(np.asarray(geoms.array), lambda c: np.round(c, decimals))
    result = gpd.GeoDataFrame(
        out.drop(columns=out.geometry.name), geometry=list(arr), crs=WGS84, index=out.index
    )
    return result[~result.geometry.is_empty]


def _collection(gdf: gpd.GeoDataFrame, props: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection of ``gdf``'s geometry with ``props``."""
    keys = list(props)
    columns = [list(props[k]) for k in keys]
    features = []
    for i, geom in enumerate(gdf.geometry.array):
        p = {k: _json_value(col[i]) for k, col in zip(keys, columns, strict=True)}
        p = {k: v for k, v in p.items() if v is not None and v != ""}
        features.append(
            {"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": p}
        )
    return {"type": "FeatureCollection", "features": features}


def _json_value(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, dict):
        return v
    if pd.isna(v) if not isinstance(v, (list, tuple)) else False:
        return None
    return v


def _bounds_of(*frames: gpd.GeoDataFrame | None) -> list[list[float]] | None:
    boxes = []
    for f in frames:
        if f is None or len(f) == 0:
            continue
        g = f.geometry if f.crs is None or f.crs == WGS84 else f.geometry.to_crs(WGS84)
        b = g.total_bounds
        if np.all(np.isfinite(b)):
            boxes.append(b)
    if not boxes:
        return None
    a = np.vstack(boxes)
    return [
        [float(a[:, 1].min()), float(a[:, 0].min())],
        [float(a[:, 3].max()), float(a[:, 2].max())],
    ]


# --------------------------------------------------------------------------- the map


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
        ``"positron"`` or ``"tianditu"`` (needs ``tianditu_key``).
    tianditu_key
        A Tianditu (天地图) browser key.
    lang
        ``"en"`` or ``"zh"``; the Tianditu annotation layer is Chinese either way.
    height
        CSS height of the map element.

    Returns
    -------
    folium.Map
        With Leaflet and jQuery inlined, a scale bar and nothing else yet; add layers
        and finish with :func:`finish_map` (adds the layer control).

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
        control_scale=True,
        prefer_canvas=False,
        height=height,
    )
    js, css = _offline_assets()
    m.default_js = list(js)
    m.default_css = list(css)
    m.get_root().header.add_child(folium.Element(_MAP_CSS), name="geoapp_css")
    _Background(BACKGROUND).add_to(m)

    if basemap == "osm":
        folium.TileLayer(
            "OpenStreetMap",
            name=t("basemap_osm", lang),
            attr=_OSM_ATTR,
            overlay=False,
            control=True,
        ).add_to(m)
    elif basemap == "positron":
        folium.TileLayer(
            "CartoDB positron",
            name=t("basemap_positron", lang),
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
            name=t("basemap_tianditu", lang),
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

    bounds = _bounds_of(bounds_gdf)
    if bounds is not None:
        m.fit_bounds(bounds)
        m.location = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    return m


def finish_map(m: folium.Map, *, collapsed: bool = False) -> folium.Map:
    """Add the layer control (once) and return ``m``."""
    if not any(isinstance(c, folium.LayerControl) for c in m._children.values()):
        folium.LayerControl(collapsed=collapsed).add_to(m)
    return m


def add_boundaries(
    m: folium.Map,
    boundaries: gpd.GeoDataFrame,
    *,
    lang: str = "en",
    fill_by_zone: bool = False,
    name: str | None = None,
    stats: pd.DataFrame | None = None,
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
        Fill districts with their zone-type colour and add a zone legend.
    name
        Layer name in the layer control (default "Districts").
    stats
        Optional per-district figures joined on ``district``: ``pop``,
        ``pop_60plus``, ``facilities`` are shown in the tooltip when present.

    Returns
    -------
    folium.Map
        ``m``; each feature carries ``district``, ``district_code`` and
        ``zone_type`` so a click can drill into it.
    """
    g = _prepare(boundaries, tolerance_m=_TOLERANCE_M * 2)
    if len(g) == 0:
        return m
    district = _col(g, "district", "").astype(object).where(lambda s: s.notna(), "").astype(str)
    shown = _localized(g, "district", lang)
    zone = _col(g, "zone_type", "unknown").astype(object).fillna("unknown").astype(str)
    fine = _col(g, "zone_fine", "").astype(object).fillna("").astype(str)
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
                extra[t(key, lang)] = [_fmt_int(v) for v in vals]
    tips = []
    for i, (d, z, f) in enumerate(zip(shown.tolist(), zone.tolist(), fine.tolist(), strict=True)):
        rows = [f"<b>{_esc(d)}</b>", f"{_esc(t('zone_type', lang))}: {_esc(zone_name(z, lang))}"]
        if f:
            rows.append(_esc(zone_fine_name(f, lang)))
        rows += [f"{_esc(k)}: {v[i]}" for k, v in extra.items() if v[i]]
        tips.append("<br>".join(rows))
    colors = [zone_color(z) for z in zone.tolist()]
    if fill_by_zone:
        styles = [{"fillColor": c} for c in colors]
        style = {"color": "#333333", "weight": 1.5, "fillOpacity": 0.35}
    else:
        styles = [None] * len(g)
        style = {
            "color": "#34495e",
            "weight": 2,
            "fill": True,
            "fillOpacity": 0.0,
            "dashArray": "6 4",
        }
    props = {
        "district": district.tolist(),
        "district_code": _col(g, "district_code", "")
        .astype(object)
        .fillna("")
        .astype(str)
        .tolist(),
        "zone_type": zone.tolist(),
        "_t": tips,
        "_s": styles,
    }
    _GeoJsonLayer(
        _collection(g, props),
        name=name or t("districts", lang),
        style=style,
        highlight=3.5,
    ).add_to(m)
    if fill_by_zone:
        seen = set(zone.tolist())
        present = [z for z in ZONE_ORDER if z in seen] + sorted(seen - set(ZONE_ORDER))
        items = "".join(
            f'<div><span class="sw" style="background:{zone_color(z)}"></span>'
            f"{_esc(zone_name(z, lang))}</div>"
            for z in present
        )
        add_legend(
            m,
            f'<div class="ttl">{_esc(t("legend_zone", lang))}</div>{items}',
            position="bottomleft",
        )
    return m


def add_streets(
    m: folium.Map,
    edges: gpd.GeoDataFrame,
    *,
    main_only: bool = True,
    lang: str = "en",
    name: str | None = None,
) -> folium.Map:
    """Draw the streets of the walking network, merged per highway class.

    With ``main_only`` only motorway..tertiary (and their links) are drawn; when the
    data has none of those, every edge is drawn so the map still shows streets.
    Lines are merged per class and simplified, so the map stays small.
    """
    if edges is None or len(edges) == 0:
        return m
    hw = _col(edges, "highway", "").astype(object).fillna("").astype(str)
    sel = edges
    if main_only:
        mask = hw.isin(MAIN_HIGHWAYS).to_numpy()
        if mask.any():
            sel, hw = edges.loc[mask], hw[mask]
    cls = np.where(
        hw.isin(("motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link")),
        "major",
        "minor",
    )
    merged = gpd.GeoDataFrame({"cls": cls}, geometry=sel.geometry.to_numpy(), crs=sel.crs).dissolve(
        by="cls", as_index=False
    )
    merged["geometry"] = shapely.line_merge(merged.geometry.to_numpy())
    g = _prepare(merged, tolerance_m=_TOLERANCE_M)
    widths = {"major": 3.0, "minor": 1.6}
    props = {"_s": [{"weight": widths.get(c, 1.6)} for c in g["cls"].tolist()]}
    _GeoJsonLayer(
        _collection(g, props),
        name=name or t("streets", lang),
        style={"color": "#9a9a9a", "weight": 1.6, "opacity": 0.9},
    ).add_to(m)
    return m


def distance_bins(radii_m: Sequence[float]) -> list[float]:
    """Return the class edges used to colour walking distances: 0, radii..., inf."""
    radii = sorted({float(r) for r in radii_m if float(r) > 0})
    return [0.0, *radii, math.inf]


def distance_colormap(radii_m: Sequence[float]) -> branca.colormap.StepColormap:
    """Return a branca step colormap over the distance classes of ``radii_m``.

    The last class (beyond the largest radius, or unreachable) is :data:`BEYOND_COLOR`.
    """
    bins = distance_bins(radii_m)
    n = len(bins) - 1
    palette = list(DISTANCE_COLORS[: max(n - 1, 1)]) if n - 1 <= len(DISTANCE_COLORS) else None
    if palette is None:
        ramp = branca.colormap.LinearColormap(list(DISTANCE_COLORS), vmin=0, vmax=n - 2)
        palette = [ramp(i) for i in range(n - 1)]
    colors = [*palette[: n - 1], BEYOND_COLOR]
    top = bins[-2] * 2 if len(bins) > 2 else 1.0
    index = [*bins[:-1], top]
    return branca.colormap.StepColormap(colors, index=index, vmin=0.0, vmax=top)


def _distance_color(values: np.ndarray, radii_m: Sequence[float]) -> list[str]:
    """Return the class colour of each distance (a distance equal to a radius is within it)."""
    bins = distance_bins(radii_m)
    cmap = distance_colormap(radii_m)
    palette = np.array(
        [cmap((lo + hi) / 2) for lo, hi in zip(bins[:-2], bins[1:-1], strict=True)]
        + [BEYOND_COLOR],
        dtype=object,
    )
    v = np.asarray(values, dtype=float)
    idx = np.searchsorted(np.asarray(bins[1:-1]), np.where(np.isfinite(v), v, np.inf), side="left")
    return palette[idx].tolist()


def add_legend(m: folium.Map, html_text: str, *, position: str = "bottomright") -> folium.Map:
    """Add a legend box holding ``html_text`` (which must already be escaped)."""
    _HtmlControl(html_text, position=position, css_class="geoapp-box").add_to(m)
    return m


def _distance_legend(radii_m: Sequence[float], lang: str, mode: str) -> str:
    bins = distance_bins(radii_m)
    cmap = distance_colormap(radii_m)
    rows = []
    for lo, hi in zip(bins[:-2], bins[1:-1], strict=True):
        rows.append(
            f'<div><span class="sw" style="background:{cmap((lo + hi) / 2)}"></span>'
            f"{lo:,.0f}–{hi:,.0f} m</div>"
        )
    rows.append(
        f'<div><span class="sw" style="background:{BEYOND_COLOR}"></span>'
        f"{_esc(t('dist_unreachable', lang, radius=f'{bins[-2]:,.0f}'))}</div>"
    )
    title = t("legend_distance_euclid" if mode == "euclidean" else "legend_distance", lang)
    return f'<div class="ttl">{_esc(title)}</div>' + "".join(rows)


def _hex_distance(g: pd.DataFrame, column: str) -> np.ndarray:
    """Return the distance that colours each cell (``inf`` = beyond reach).

    Uses ``column`` when present; otherwise the output of
    :func:`geoapp.population.aggregate_h3`: ``dist_m_mean`` (mean of the finite
    distances), with cells where most residents are beyond reach
    (``share_beyond`` >= 0.5) counted as beyond.
    """
    if column in g.columns:
        return pd.to_numeric(g[column], errors="coerce").fillna(np.inf).to_numpy(float)
    if "dist_m_mean" in g.columns:
        dist = pd.to_numeric(g["dist_m_mean"], errors="coerce").fillna(np.inf).to_numpy(float)
        if "share_beyond" in g.columns:
            beyond = pd.to_numeric(g["share_beyond"], errors="coerce").fillna(0.0).to_numpy(float)
            dist = np.where(beyond >= 0.5, np.inf, dist)
        return dist
    return np.full(len(g), np.inf)


def _localized(g: pd.DataFrame, column: str, lang: str) -> pd.Series:
    """Return ``column`` in ``lang`` (``<column>_<lang>`` where present and non-empty)."""
    base = _col(g, column, "").astype(object).where(lambda s: s.notna(), "").astype(str)
    alt_name = f"{column}_{lang}"
    if alt_name in g.columns:
        alt = g[alt_name].astype(object).where(lambda s: s.notna(), "").astype(str)
        return alt.where(alt != "", base)
    return base


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
) -> folium.Map:
    """Draw demand on H3 cells coloured by walking distance, with a legend.

    Parameters
    ----------
    m
        The map.
    hex_gdf
        One row per H3 cell: ``column`` (distance in metres, ``inf`` when beyond
        reach), optionally ``pop``/``pop_60plus``/``h3``, geometry.
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
        When given, the tooltip also shows walking minutes.
    """
    if hex_gdf is None or len(hex_gdf) == 0:
        return m
    g = _prepare(hex_gdf, tolerance_m=0.0)
    dist = _hex_distance(g, column)
    colors = _distance_color(dist, radii_m)
    pop = pd.to_numeric(_col(g, pop_column, np.nan), errors="coerce").to_numpy(float)
    pop60 = pd.to_numeric(_col(g, "pop_60plus", np.nan), errors="coerce").to_numpy(float)
    dlabel = _esc(t("straight_distance" if mode == "euclidean" else "walk_distance", lang))
    plabel = _esc(t("cell_residents", lang))
    olabel = _esc(t("population_60plus", lang))
    slabel = _esc(t("settlement", lang))
    settle = _col(g, "settlement", "").astype(object).fillna("").astype(str).tolist()
    tips = []
    for d, p, p6, s_type in zip(dist, pop, pop60, settle, strict=True):
        tip = f"{dlabel}: {_fmt_m(d)}"
        if speed_kmh and math.isfinite(d):
            tip += f" ({_esc(t('walk_minutes', lang, minutes=d / (speed_kmh * 1000 / 60)))})"
        if math.isfinite(p):
            tip += f"<br>{plabel}: {_fmt_int(p)}"
        if math.isfinite(p6):
            tip += f"<br>{olabel}: {_fmt_int(p6)}"
        if s_type:
            tip += f"<br>{slabel}: {_esc(zone_name(s_type, lang))}"
        tips.append(tip)
    props = {"_s": [{"fillColor": c} for c in colors], "_t": tips}
    _GeoJsonLayer(
        _collection(g, props),
        name=name or t("demand_cells", lang),
        style={"stroke": False, "fillOpacity": 0.6},
    ).add_to(m)
    if legend:
        add_legend(m, _distance_legend(radii_m, lang, mode))
    return m


def add_facilities(
    m: folium.Map,
    facilities: gpd.GeoDataFrame,
    layer: Layer | None = None,
    *,
    lang: str = "en",
    name: str | None = None,
    color: str | None = None,
    radius_px: float = 5.0,
    show: bool = True,
) -> folium.Map:
    """Draw facilities as circle markers with an escaped tooltip and popup.

    Polygons (e.g. a nursing home mapped as a building) are drawn at a point inside
    them. Tooltip: the name (or the kind when unnamed); popup: name, kind, layer,
    district and id.
    """
    if facilities is None or len(facilities) == 0:
        return m
    g = facilities
    if not bool((g.geometry.geom_type == "Point").all()):
        g = g.set_geometry(g.geometry.representative_point())
    g = _prepare(g, tolerance_m=0.0, decimals=6)
    names = _text_col(g, "name")
    kinds = _text_col(g, "kind")
    ids = _text_col(g, "facility_id")
    districts = _text_col(g, "district")
    lname = _esc(layer.name(lang)) if layer is not None else ""
    tips, pops = [], []
    for nm, kd, fid, dist in zip(names, kinds, ids, districts, strict=True):
        title = nm or kd or fid
        tips.append(f"<b>{title}</b>" + (f"<br>{kd}" if nm and kd else ""))
        rows = [f"<b>{title}</b>"]
        if kd:
            rows.append(f"{_esc(t('kind', lang))}: {kd}")
        if lname:
            rows.append(f"{_esc(t('layer', lang))}: {lname}")
        if dist:
            rows.append(f"{_esc(t('district', lang))}: {dist}")
        if fid:
            rows.append(f'<span style="color:#777">{fid}</span>')
        pops.append("<br>".join(rows))
    c = color or (layer.color if layer is not None else "#3366cc")
    props = {"facility_id": _col(g, "facility_id", "").astype(str).tolist(), "_t": tips, "_p": pops}
    _GeoJsonLayer(
        _collection(g, props),
        name=name or (layer.name(lang) if layer is not None else t("facilities", lang)),
        style={
            "radius": radius_px,
            "color": "#ffffff",
            "weight": 1.5,
            "fillColor": c,
            "fillOpacity": 0.95,
        },
        sticky=False,
        show=show,
    ).add_to(m)
    return m


def add_catchments(
    m: folium.Map,
    catchments: gpd.GeoDataFrame,
    *,
    radius_m: float | None = None,
    color: str = "#3366cc",
    lang: str = "en",
    name: str | None = None,
    show: bool = True,
) -> folium.Map:
    """Draw facility catchments (network service areas) for one radius.

    ``radius_m`` selects rows of the ``radius_m`` column (default the largest).
    """
    if catchments is None or len(catchments) == 0:
        return m
    g = catchments
    if "radius_m" in g.columns:
        r = pd.to_numeric(g["radius_m"], errors="coerce")
        pick = float(radius_m) if radius_m is not None else float(r.max())
        g = g.loc[np.isclose(r.to_numpy(float), pick)]
    g = _prepare(g, tolerance_m=_TOLERANCE_M)
    served = pd.to_numeric(_col(g, "pop_served", np.nan), errors="coerce").tolist()
    ids = _text_col(g, "facility_id")
    label = _esc(t("pop_served", lang))
    tips = [
        f"{fid}<br>{label}: {_fmt_int(s)}" if math.isfinite(s) else fid
        for fid, s in zip(ids, served, strict=True)
    ]
    _GeoJsonLayer(
        _collection(g, {"_t": tips}),
        name=name or t("catchments", lang),
        style={
            "color": color,
            "weight": 1,
            "opacity": 0.7,
            "fillColor": color,
            "fillOpacity": 0.12,
        },
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
) -> folium.Map:
    """Draw ranked gap areas with their plain-language reason (escaped)."""
    if gaps is None or len(gaps) == 0:
        return m
    g = _prepare(gaps, tolerance_m=_TOLERANCE_M)
    ranks = _col(g, "rank", "").tolist()
    reasons = [_esc(v) for v in _localized(g, "reason", lang).tolist()]
    districts = [_esc(v) for v in _localized(g, "district", lang).tolist()]
    unc = _col(g, "uncovered_pop", np.nan).tolist()
    unc60 = _col(g, "uncovered_pop_60plus", np.nan).tolist()
    near = _col(g, "nearest_m", np.nan).tolist()
    far = _col(g, "max_nearest_m", np.nan).tolist()
    pure = _col(g, "share_uncovered", np.nan).tolist()
    gl, ul = _esc(t("gap", lang)), _esc(t("uncovered_pop", lang))
    nl, xl = _esc(t("gap_median_m", lang)), _esc(t("gap_max_m", lang))
    ol, sl = _esc(t("population_60plus", lang)), _esc(t("gap_share_uncovered", lang))
    beyond = _esc(t("beyond_limit", lang))

    def _dist(x: object) -> str:
        v = pd.to_numeric(x, errors="coerce")
        return "" if pd.isna(v) else beyond if v == np.inf else _fmt_m(v)

    tips, pops = [], []
    rows_in = zip(ranks, reasons, districts, unc, unc60, near, far, pure, strict=True)
    for rk, why, dist, u, u6, nm, fm, pu in rows_in:
        head = f"<b>{gl} #{_esc(rk)}</b>" + (f" · {dist}" if dist else "")
        tips.append(head + (f"<br>{ul}: {_fmt_int(u)}" if _fmt_int(u) else ""))
        rows = [head]
        if _fmt_int(u):
            rows.append(f"{ul}: {_fmt_int(u)}")
        if _fmt_int(u6):
            rows.append(f"{ol}: {_fmt_int(u6)}")
        if _dist(nm):
            rows.append(f"{nl}: {_dist(nm)}")
        if _dist(fm):
            rows.append(f"{xl}: {_dist(fm)}")
        if pd.notna(pu):
            rows.append(f"{sl}: {float(pu):.0%}")
        if why:
            rows.append(f"<i>{why}</i>")
        pops.append("<br>".join(rows))
    props = {
        "gap_id": _col(g, "gap_id", "").astype(str).tolist(),
        "rank": ranks,
        "_t": tips,
        "_p": pops,
    }
    _GeoJsonLayer(
        _collection(g, props),
        name=name or t("gaps", lang),
        style={
            "color": "#b00020",
            "weight": 2,
            "fillColor": "#b00020",
            "fillOpacity": 0.06,
            "dashArray": "4 3",
        },
        show=show,
        highlight=4,
    ).add_to(m)
    return m


def add_heritage(
    m: folium.Map,
    sites: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
    *,
    lang: str = "en",
) -> folium.Map:
    """Draw protected heritage zones (polygons) and heritage sites.

    Sites with a false ``protected`` column are drawn in red as "unprotected".
    """
    if zones is not None and len(zones):
        g = _prepare(zones, tolerance_m=_TOLERANCE_M)
        names = _text_col(g, "name")
        lbl = _esc(t("heritage_zones", lang))
        tips = [f"<b>{n}</b><br>{lbl}" if n else lbl for n in names]
        _GeoJsonLayer(
            _collection(g, {"_t": tips}),
            name=t("heritage_zones", lang),
            style={"color": "#8c564b", "weight": 1.5, "fillColor": "#c49c94", "fillOpacity": 0.35},
        ).add_to(m)
    if sites is not None and len(sites):
        g = sites
        if not bool((g.geometry.geom_type == "Point").all()):
            g = g.set_geometry(g.geometry.representative_point())
        g = _prepare(g, tolerance_m=0.0, decimals=6)
        prot = _col(g, "protected", True).astype(object).fillna(True).astype(bool).to_numpy()
        names = _text_col(g, "name")
        kinds = [
            k or h for k, h in zip(_text_col(g, "historic"), _text_col(g, "kind"), strict=True)
        ]
        pl, ul = _esc(t("protected", lang)), _esc(t("unprotected", lang))
        tips = [
            f"<b>{n or k or _esc(t('heritage_sites', lang))}</b>"
            + (f"<br>{k}" if n and k else "")
            + f"<br>{pl if p else ul}"
            for n, k, p in zip(names, kinds, prot, strict=True)
        ]
        styles = [{"fillColor": "#8c564b" if p else "#d62728"} for p in prot]
        _GeoJsonLayer(
            _collection(g, {"_t": tips, "_p": tips, "_s": styles, "protected": prot.tolist()}),
            name=t("heritage_sites", lang),
            style={"radius": 5.5, "color": "#ffffff", "weight": 1.2, "fillOpacity": 0.95},
            sticky=False,
        ).add_to(m)
    return m


def add_note(
    m: folium.Map, text: str, *, position: str = "topleft", title: bool = False
) -> folium.Map:
    """Add a visible note box (plain text, escaped here)."""
    css = "geoapp-box geoapp-title" if title else "geoapp-box geoapp-note"
    _HtmlControl(_esc(text), position=position, css_class=css).add_to(m)
    return m


def _finish(m: folium.Map, *, synthetic: bool, lang: str, title: str | None) -> folium.Map:
    if title:
        add_note(m, title, position="topleft", title=True)
    if synthetic:
        add_note(m, t("synthetic_note", lang), position="topleft")
    return finish_map(m)


# --------------------------------------------------------------------------- whole maps


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
) -> folium.Map:
    """Return the coverage map of one layer.

    Districts (outlines), main streets, demand on H3 cells coloured by distance to
    the nearest facility, catchments at ``radius_m`` (hidden by default in the layer
    control to keep the view clear when there are many), gaps and facilities, a
    distance legend, a scale bar and a layer control; a visible note when the data is
    synthetic.
    """
    radii = tuple(layer.radii_m) if layer is not None else (300.0, 500.0, 1000.0)
    color = layer.color if layer is not None else "#3366cc"
    m = base_map(
        region_boundaries, basemap=basemap, tianditu_key=tianditu_key, lang=lang, height=height
    )
    if edges is not None:
        add_streets(m, edges, lang=lang)
    if hexes is not None:
        pop_col = layer.demand_column if layer is not None else "pop"
        add_hex_layer(
            m,
            hexes,
            hex_column,
            radii_m=radii,
            pop_column=pop_col if pop_col in hexes.columns else "pop",
            lang=lang,
            mode=mode,
            speed_kmh=speed_kmh,
        )
    add_boundaries(m, region_boundaries, lang=lang)
    if catchments is not None:
        add_catchments(
            m, catchments, radius_m=radius_m, color=color, lang=lang, show=len(catchments) <= 200
        )
    if gaps is not None:
        add_gaps(m, gaps, lang=lang)
    if facilities is not None:
        add_facilities(m, facilities, layer, lang=lang)
    if title is None and layer is not None:
        title = layer.name(lang)
    return _finish(m, synthetic=synthetic, lang=lang, title=title)


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
) -> folium.Map:
    """Return the overview map: districts filled by zone type, streets, facilities.

    ``facilities_by_layer`` maps a layer id to its facility table; names and colours
    come from ``catalog`` when given.
    """
    m = base_map(boundaries, basemap=basemap, tianditu_key=tianditu_key, lang=lang, height=height)
    add_boundaries(m, boundaries, lang=lang, fill_by_zone=True, stats=stats)
    if edges is not None:
        add_streets(m, edges, lang=lang)
    for lid, fac in facilities_by_layer.items():
        layer = catalog.get(lid) if catalog is not None else None
        add_facilities(m, fac, layer, lang=lang, name=None if layer else str(lid), radius_px=5)
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
) -> folium.Map:
    """Return the heritage map: protected zones, sites (unprotected in red), access."""
    m = base_map(boundaries, basemap=basemap, tianditu_key=tianditu_key, lang=lang, height=height)
    if edges is not None:
        add_streets(m, edges, lang=lang)
    if hexes is not None:
        add_hex_layer(m, hexes, radii_m=radii_m, lang=lang)
    add_boundaries(m, boundaries, lang=lang)
    add_heritage(m, sites, zones, lang=lang)
    return _finish(m, synthetic=synthetic, lang=lang, title=title)


# --------------------------------------------------------------------------- output


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
