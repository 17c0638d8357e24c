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
"""

from __future__ import annotations

import base64
import copy
import dataclasses
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
import h3
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

#: Fill opacity of demand cells within the layer's target (pale) and beyond it (strong).
COVERED_OPACITY = 0.28
UNCOVERED_OPACITY = 0.78

#: Fill of demand cells when the layer has no facility in the data (not "unreachable").
NO_DATA_COLOR = "#b9b9b9"

#: Outline colour of gap areas (also their rank labels).
GAP_COLOR = "#b00020"

#: Basemaps offered (all need internet); "tianditu" needs a key.
BASEMAPS = ("osm", "positron", "tianditu")

#: Walking speed (km/h) used for the minutes of the legend when none is given
#: (``geoapp.coverage.SPEED_PRESETS["adult"]``).
DEFAULT_SPEED_KMH = 4.5

#: Features a coverage map holds at most by default (all layers together); keeps a
#: city-sized map.html well under 10 MB.
MAX_FEATURES = 15_000

#: Facility layers with more points than this are clustered.
CLUSTER_OVER = 300

#: Gap areas labelled with their rank by default.
LABEL_TOP = 10

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

#: Background of a map without tiles (also shown when online tiles are blocked).
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

# --------------------------------------------------------------------------- strings

#: Strings of the map legends and tooltips not (yet) in :mod:`geoapp.i18n`.
MAP_TEXT: dict[str, dict[str, str]] = {
    "needs_internet": {"en": "needs internet", "zh": "需联网"},
    "no_basemap": {"en": "No basemap (offline)", "zh": "无底图（离线）"},
    "tiles_failed": {
        "en": "The online basemap could not be loaded (no internet?); the map works without it.",
        "zh": "在线底图无法加载（未联网？）；地图无需底图也可使用。",
    },
    "not_reachable": {"en": "not reachable within {limit} m", "zh": "{limit} 米内不可达"},
    "not_reachable_any": {
        "en": "not reachable within the search limit",
        "zh": "搜索范围内不可达",
    },
    "share_not_reachable": {
        "en": "{share} of residents not reachable within {limit} m",
        "zh": "{share} 的居民在 {limit} 米内不可达",
    },
    "share_not_reachable_any": {
        "en": "{share} of residents not reachable within the search limit",
        "zh": "{share} 的居民在搜索范围内不可达",
    },
    "mean_walk": {"en": "Mean walking distance", "zh": "平均步行距离"},
    "mean_straight": {"en": "Mean straight-line distance", "zh": "平均直线距离"},
    "minutes": {"en": "{m} min", "zh": "{m} 分钟"},
    "minutes_at": {"en": "minutes at {speed} km/h", "zh": "分钟按 {speed} 公里/小时计"},
    "covered_pale": {
        "en": "pale: within the target ({target}); strong: beyond it",
        "zh": "浅色：目标（{target}）以内；深色：超出目标",
    },
    "beyond_class": {"en": "beyond {radius} / not reachable", "zh": "超过 {radius} 或不可达"},
    "legend_facilities": {"en": "Facilities", "zh": "设施"},
    "legend_gaps": {"en": "Service gaps", "zh": "服务缺口"},
    "gap_area": {
        "en": "gap area, numbered by rank (1 = most uncovered)",
        "zh": "缺口区域，按排名编号（1 = 未覆盖最多）",
    },
    "gaps_shown": {
        "en": "{shown} of {total} gaps drawn",
        "zh": "显示 {total} 个缺口中的 {shown} 个",
    },
    "cluster_note": {"en": "numbers: facilities grouped", "zh": "数字：聚合的设施数"},
    "catchment_of": {"en": "area reached within {radius}", "zh": "{radius} 内可达范围"},
    "district_outline": {"en": "district boundary", "zh": "区县边界"},
    "cells_at": {
        "en": "residents on H3 cells (resolution {res}, about {km2} km² each)",
        "zh": "居民按 H3 网格汇总（分辨率 {res}，每格约 {km2} 平方公里）",
    },
    "cells_merged": {
        "en": "cells merged for display; full detail in the GeoPackage",
        "zh": "为显示已合并网格；完整数据见 GeoPackage",
    },
    "legend_heritage": {"en": "Heritage", "zh": "历史文化遗产"},
    "site_protected": {"en": "site inside a protected zone", "zh": "位于保护区内的遗产点"},
    "site_unprotected": {
        "en": "site outside every protected zone in the data",
        "zh": "数据中不在任何保护区内的遗产点",
    },
    "protected_zone": {"en": "protected zone", "zh": "保护区"},
    "listed_level": {"en": "Listed heritage (level {level})", "zh": "文物保护单位（{level}级）"},
    "facilities_count": {"en": "{name} ({n:,})", "zh": "{name}（{n:,}）"},
    "residents": {"en": "Residents", "zh": "居民"},
    "cannot_assess": {
        "en": "No facilities of this layer in the data: coverage cannot be assessed",
        "zh": "数据中没有此类设施：无法评估覆盖率",
    },
    "capacity": {"en": "Capacity (beds / places)", "zh": "容量（床位/名额）"},
    "uncovered_60plus": {"en": "Uncovered residents aged 60+", "zh": "未覆盖的60岁以上居民"},
    "no_data_title": {"en": "{layer}: no data", "zh": "{layer}：无数据"},
    "no_data_cells": {"en": "residents (coverage not assessed)", "zh": "居民（未评估覆盖率）"},
}


def _tr(key: str, lang: str, **fmt: object) -> str:
    entry = MAP_TEXT.get(key)
    if entry is None:
        return t(key, lang, **fmt)
    text = entry.get(lang) or entry["en"]
    return text.format(**fmt) if fmt else text


#: Readable names of facility and heritage kinds (OSM tag values).
KIND_NAMES: dict[str, tuple[str, str]] = {
    "nursing_home": ("Nursing home", "养老院"),
    "retirement_home": ("Retirement home", "养老院"),
    "assisted_living": ("Assisted living", "老年公寓"),
    "group_home": ("Group home", "养老公寓"),
    "day_care": ("Day-care centre", "日间照料中心"),
    "senior_centre": ("Senior centre", "老年活动中心"),
    "social_facility": ("Social facility", "社会福利设施"),
    "community_centre": ("Community centre", "社区中心"),
    "social_centre": ("Social centre", "社会活动中心"),
    "clinic": ("Clinic", "诊所"),
    "doctors": ("Doctor's practice", "诊所"),
    "doctor": ("Doctor's practice", "诊所"),
    "hospital": ("Hospital", "医院"),
    "pharmacy": ("Pharmacy", "药店"),
    "dentist": ("Dentist", "牙科诊所"),
    "library": ("Library", "图书馆"),
    "marketplace": ("Market", "菜市场"),
    "post_office": ("Post office", "邮局"),
    "kindergarten": ("Kindergarten", "幼儿园"),
    "childcare": ("Childcare", "托儿所"),
    "school": ("School", "学校"),
    "supermarket": ("Supermarket", "超市"),
    "convenience": ("Convenience store", "便利店"),
    "greengrocer": ("Greengrocer", "果蔬店"),
    "building": ("Historic building", "历史建筑"),
    "temple": ("Temple", "寺庙"),
    "memorial": ("Memorial", "纪念物"),
    "monument": ("Monument", "纪念碑"),
    "ruins": ("Ruins", "遗址"),
    "city_gate": ("City gate", "城门"),
    "milestone": ("Milestone", "里程碑"),
    "castle": ("Castle", "城堡"),
    "archaeological_site": ("Archaeological site", "考古遗址"),
    "wayside_shrine": ("Wayside shrine", "路边神龛"),
    "protected_area": ("Protected area", "保护区"),
}

_SENIOR = {"senior", "seniors", "elderly"}


def kind_name(kind: object, lang: str = "en", *, detail: object = None) -> str:
    """Return the readable name of a facility or heritage ``kind`` (an OSM tag value).

    Parameters
    ----------
    kind
        The ``kind`` column value (e.g. ``"social_facility"``, ``"nursing_home"``).
    lang
        ``"en"`` or ``"zh"``.
    detail
        A more specific tag value to prefer when ``kind`` is a generic key (the
        ``social_facility`` value of an ``amenity=social_facility``).

    Returns
    -------
    str
        e.g. "Nursing home" / "养老院"; a numeric ``heritage=*`` value gives "Listed
        heritage (level 4)"; an unknown value is shown with underscores as spaces.
    """
    zh = 1 if lang == "zh" else 0

    def clean(value: object) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return str(value).split(";")[0].strip()

    d, k = clean(detail), clean(kind)
    for v in (d, k):
        if v in KIND_NAMES:
            return KIND_NAMES[v][zh]
    if k.isdigit():
        return _tr("listed_level", lang, level=k)
    v = d or k
    return v.replace("_", " ").capitalize() if v else ""


def _facility_kinds(g: pd.DataFrame, lang: str) -> list[str]:
    kinds = _col(g, "kind", None).tolist()
    details = _col(g, "social_facility", None).tolist()
    cfor = _col(g, "community_centre:for", None).astype(object).tolist()
    out = []
    for k, d, f in zip(kinds, details, cfor, strict=True):
        if str(k) == "community_centre" and str(f or "").split(";")[0] in _SENIOR:
            k = "senior_centre"
        out.append(_esc(kind_name(k, lang, detail=d if str(k) == "social_facility" else None)))
    return out


def _fmt_minutes(metres: float, speed_kmh: float) -> str:
    return f"{metres / (speed_kmh * 1000.0 / 60.0):.0f}"


def _dist_text(value: object, lang: str, *, limit_m: float | None = None) -> str:
    """Distance in metres (rounded to 10 m like the gap reasons) or "not reachable"."""
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if math.isnan(f):
        return ""
    if not math.isfinite(f):
        if limit_m is not None and math.isfinite(limit_m):
            return _tr("not_reachable", lang, limit=f"{limit_m:,.0f}")
        return _tr("not_reachable_any", lang)
    return f"{round(f / 10.0) * 10:,.0f} m" if lang != "zh" else f"{round(f / 10.0) * 10:,.0f} 米"


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


def _col(gdf: pd.DataFrame, name: str, default: object = "") -> pd.Series:
    if name in gdf.columns:
        return gdf[name]
    return pd.Series([default] * len(gdf), index=gdf.index, dtype=object)


def _text_col(gdf: pd.DataFrame, name: str) -> list[str]:
    """Return a column as a list of escaped strings ('' for missing)."""
    return [_esc(v) for v in _col(gdf, name, None).tolist()]


# --------------------------------------------------------------------------- assets


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


def _use_clusters(m: folium.Map) -> None:
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
        label = _esc(name).replace("{", "&#123;").replace("}", "&#125;")
        super().__init__(name=label, overlay=True, control=control, show=show)
        self._name = "GeoJsonLayer"
        # the features as a JSON text in a JS string, read with JSON.parse: a browser
        # parses a large JSON text several times faster than the same data as a script
        # literal (2 MB of features: 30 ms against 180 ms in chromium)
        self.data_str = _js_json(
            json.dumps(collection, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        )
        self.style_json = _js_json(dict(style))
        self.sticky_json = _js_json(bool(sticky))
        self.pane_json = _js_json(pane)
        self.pane = pane
        self.highlight = highlight
        self.dots = dots is not None
        self.dots_json = _js_json(dots or "")
        self.cluster = bool(cluster)
        self.color_json = _js_json(str(style.get("fillColor", "#3366cc")))
        self.labels = labels is not None
        self.labels_json = _js_json(labels or "")
        self.n_features = len(collection.get("features", []))

    @property
    def data_json(self) -> str:
        """The feature collection as JSON text (what the browser's ``JSON.parse`` reads)."""
        return json.loads(self.data_str)

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
        self.html_json = _js_json(html_text)
        self.position_json = _js_json(position)
        self.css_class_json = _js_json(css_class)

    def render(self, **kwargs: Any) -> None:
        self.in_group = not isinstance(self._parent, folium.Map)
        _render_raw(self, kwargs)


class _MapSetup(folium.MacroElement):
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
        self.color_json = _js_json(color)
        self.panes_json = _js_json(PANES)
        self.offline_json = _js_json(_tr("tiles_failed", lang))


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
    preserve_topology: bool = True,
) -> gpd.GeoDataFrame:
    """Return a copy in EPSG:4326, simplified in the local CRS and rounded.

    Rows with missing or empty geometry are dropped. ``preserve_topology=False`` is
    several times faster (plain Douglas-Peucker) and is used for lines and for
    catchments, whose exact validity does not matter for drawing.
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
        geoms = (
            geoms.to_crs(crs)
            .simplify(tolerance_m, preserve_topology=preserve_topology)
            .to_crs(WGS84)
        )
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
    # GeoJSON geometry written by GEOS in one vectorised call (much faster than
    # ``__geo_interface__`` per feature), then parsed back to embed it
    geo_json = shapely.to_geojson(np.asarray(gdf.geometry.array)) if len(gdf) else []
    for i, gj in enumerate(geo_json):
        p = {k: _json_value(col[i]) for k, col in zip(keys, columns, strict=True)}
        p = {k: v for k, v in p.items() if v is not None and v != ""}
        features.append({"type": "Feature", "geometry": json.loads(gj), "properties": p})
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


# --------------------------------------------------------------------------- city scale


def extent_km(*frames: gpd.GeoDataFrame | None) -> float:
    """Return the diagonal (km) of the bounding box of ``frames`` (0 when empty)."""
    b = _bounds_of(*frames)
    if b is None:
        return 0.0
    (s, w), (n, e) = b
    lat = math.radians((s + n) / 2.0)
    dx = (e - w) * 111.32 * math.cos(lat)
    dy = (n - s) * 110.57
    return float(math.hypot(dx, dy))


def display_tolerance_m(diagonal_km: float) -> float:
    """Simplification tolerance (m) for a map of this size: 6 m, more beyond ~25 km.

    About a pixel at the zoom that shows the whole region on a 1,440-pixel screen.
    """
    return float(max(_TOLERANCE_M, min(60.0, diagonal_km * 1000.0 / 4000.0)))


def _weighted_pick(keys: np.ndarray, values: pd.Series, weight: np.ndarray) -> pd.Series:
    """For each key the value holding the largest weight (first on ties)."""
    df = pd.DataFrame({"k": keys, "v": values.astype(object).to_numpy(), "w": weight})
    df = df.sort_values("w", ascending=False, kind="stable").drop_duplicates("k")
    return df.set_index("k")["v"]


def coarsen_hexes(hexes: gpd.GeoDataFrame, res: int) -> gpd.GeoDataFrame:
    """Re-aggregate H3 demand cells (``population.aggregate_h3`` output) to ``res``.

    Sums (``pop``, ``pop_60plus``, ``n_points``) add up; ``share_beyond`` is averaged
    weighted by ``pop``, ``dist_m_mean`` (and ``dist_m``) weighted by the residents
    within reach (``pop x (1 - share_beyond)``); ``district``, ``zone_type`` and
    ``settlement`` take the value of the child holding most residents. Cells of a
    resolution at or below ``res`` are kept as they are. The input is not changed.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 hexagons of resolution ``res`` with the same columns.
    """
    if len(hexes) == 0 or "h3" not in hexes.columns:
        return hexes
    cells = hexes["h3"].astype(str).to_numpy()
    uniq, inv = np.unique(cells, return_inverse=True)
    parents_u = np.array(
        [c if h3.get_resolution(c) <= res else h3.cell_to_parent(c, res) for c in uniq],
        dtype=object,
    )
    parent = parents_u[inv]
    pop = pd.to_numeric(_col(hexes, "pop", 0.0), errors="coerce").fillna(0.0).to_numpy(float)
    w = np.where(pop > 0, pop, 1e-9)
    df = pd.DataFrame({"h3": parent, "_w": w})
    sums = [c for c in ("n_points", "pop", "pop_60plus") if c in hexes.columns]
    for c in sums:
        df[c] = pd.to_numeric(hexes[c], errors="coerce").fillna(0.0).to_numpy(float)
    beyond = (
        pd.to_numeric(hexes["share_beyond"], errors="coerce").fillna(0.0).to_numpy(float)
        if "share_beyond" in hexes.columns
        else np.zeros(len(hexes))
    )
    df["_b"] = beyond * w
    reach_w = w * (1.0 - beyond)
    means = [c for c in ("dist_m_mean", "dist_m") if c in hexes.columns]
    for c in means:
        v = pd.to_numeric(hexes[c], errors="coerce").to_numpy(float)
        fin = np.isfinite(v)
        df[f"_{c}_wv"] = np.where(fin, np.where(fin, v, 0.0) * reach_w, 0.0)
        df[f"_{c}_wf"] = np.where(fin, reach_w, 0.0)
    g = df.groupby("h3", sort=True)
    summed = g.sum(numeric_only=True)
    out = pd.DataFrame(index=summed.index)
    for c in sums:
        out[c] = summed[c]
    if "n_points" in out.columns:
        out["n_points"] = out["n_points"].round().astype("int64")
    for c in means:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = summed[f"_{c}_wv"] / summed[f"_{c}_wf"]
        out[c] = mean.where(summed[f"_{c}_wf"] > 0)
        if c == "dist_m":
            out[c] = out[c].fillna(np.inf)
    if "share_beyond" in hexes.columns:
        out["share_beyond"] = summed["_b"] / summed["_w"]
    for c in ("district", "zone_type", "settlement"):
        if c in hexes.columns:
            out[c] = _weighted_pick(parent, hexes[c], w).reindex(out.index)
    out = out.reset_index()
    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in out["h3"]]
    rings = [r + [r[0]] * (6 - len(r)) for r in rings]
    geoms = shapely.polygons(np.asarray(rings, dtype=float)) if rings else []
    return gpd.GeoDataFrame(out, geometry=list(geoms), crs=WGS84)


def display_resolution(diagonal_km: float, *, max_res: int = 10, min_res: int = 4) -> int:
    """Return the H3 resolution for demand cells on a map of this size.

    The finest resolution whose cells are still a few pixels wide when the whole
    region fills a 1,440-pixel screen (edge at least 1/400 of the diagonal): res 10
    (66 m edge) for a neighbourhood, res 9 (174 m) for a 40-60 km region, res 8 (460 m)
    or 7 (1.2 km) for a city the size of Beijing.
    """
    need_km = max(float(diagonal_km), 0.0) / 400.0
    for r in range(int(max_res), int(min_res) - 1, -1):
        if h3.average_hexagon_edge_length(r, unit="km") >= need_km:
            return r
    return int(min_res)


def demand_cells(
    access: gpd.GeoDataFrame, *, res: int, max_cells: int
) -> tuple[gpd.GeoDataFrame, int]:
    """Aggregate demand (access) points to H3 cells for a map.

    ``res`` is the wanted resolution (:func:`display_resolution`); it is lowered until
    at most ``max_cells`` cells remain. Resolutions up to 9 reuse the points' ``h3``
    column (res 9) through parent cells; res 10 indexes the points. Output as
    :func:`geoapp.population.aggregate_h3` (``dist_m_mean``, ``share_beyond`` ...).
    """
    from geoapp.population import aggregate_h3, h3_cells

    have9 = "h3" in access.columns and len(access) and _h3_res(access["h3"].iloc[0]) == 9
    if res > 9 or not have9:
        base_res = max(res, 0)
        cells = np.asarray(h3_cells(access.geometry, base_res), dtype=object)
    else:
        base_res, cells = 9, access["h3"].astype(str).to_numpy(dtype=object)
    uniq, inv = np.unique(cells, return_inverse=True)
    r = min(res, base_res)
    cur = _parents(uniq, r)
    while len(np.unique(cur)) > max(int(max_cells), 1) and r > 0:
        r -= 1
        cur = _parents(uniq, r)
    table = access.assign(h3=cur[inv])
    return aggregate_h3(table, res=r), r


def _h3_res(cell: object) -> int | None:
    try:
        return int(h3.get_resolution(str(cell)))
    except (ValueError, TypeError, h3.H3BaseException):
        return None


def _parents(cells: np.ndarray, res: int) -> np.ndarray:
    return np.array(
        [c if not c or h3.get_resolution(c) <= res else h3.cell_to_parent(c, res) for c in cells],
        dtype=object,
    )


def hexes_for_display(
    hexes: gpd.GeoDataFrame | None, max_cells: int, *, res: int | None = None
) -> tuple[gpd.GeoDataFrame | None, int | None]:
    """Return demand cells coarse enough that at most ``max_cells`` are drawn.

    The H3 resolution is the finest (at most the input's, and at most ``res`` when
    given, see :func:`display_resolution`) whose cell count fits: a district-sized
    region keeps res 9 (about 0.1 km² cells), a city-sized one gets res 8 or 7 (0.7 or
    5 km²). Returns the cells and their resolution (None when the cells carry no
    ``h3`` id; they are then returned unchanged).
    """
    if hexes is None or len(hexes) == 0 or "h3" not in hexes.columns:
        return hexes, None
    in_res = _h3_res(hexes["h3"].iloc[0])
    if in_res is None:
        return hexes, None
    out = hexes
    if res is not None and res < in_res:
        out = coarsen_hexes(hexes, res)
    res = min(in_res, res) if res is not None else in_res
    cap = max(int(max_cells), 1)
    while len(out) > cap and res > 0:
        res -= 1
        out = coarsen_hexes(hexes, res)
    if len(out) > cap:  # a huge extent even at res 0: keep the most populous cells
        pop = pd.to_numeric(_col(out, "pop", 0.0), errors="coerce").fillna(0.0)
        out = out.loc[pop.sort_values(ascending=False, kind="stable").index[:cap]]
    return out, res


def _cell_km2(res: int) -> str:
    a = h3.average_hexagon_area(res, unit="km^2")
    return f"{a:.2g}" if a < 10 else f"{a:,.0f}"


def _dissolve_catchments(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One (multi)polygon per radius: the union of every facility's catchment."""
    if len(g) == 0:
        return g
    geoms = shapely.union_all(shapely.make_valid(np.asarray(g.geometry.array)))
    keep = {"radius_m": [float(pd.to_numeric(g["radius_m"]).iloc[0])]} if "radius_m" in g else {}
    return gpd.GeoDataFrame(keep, geometry=[geoms], crs=g.crs)


# --------------------------------------------------------------------------- the map

_HEX_COLOR_RE = re.compile(r"#[0-9A-Fa-f]{3}(?:[0-9A-Fa-f]{3})?")


def _safe_color(color: object, default: str = "#3366cc") -> str:
    """Return ``color`` when it is a plain ``#rgb``/``#rrggbb`` colour, else ``default``."""
    c = str(color or "")
    return c if _HEX_COLOR_RE.fullmatch(c) else default


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
    m.get_root().header.add_child(folium.Element(_MAP_CSS), name="geoapp_css")
    _MapSetup(BACKGROUND, lang).add_to(m)
    online = f" ({_tr('needs_internet', lang)})"

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


def map_layers(m: folium.Map) -> list[dict[str, Any]]:
    """Return the geoapp layers of ``m`` in drawing order (bottom first).

    Each entry: ``name`` (as in the layer control), ``pane``, ``z`` (the pane's
    z-index), ``n_features``, ``css_class`` (``geoapp-demand``, ``geoapp-gap`` ... or
    ""), ``clustered``. Drawing order is the pane order, so a test (or a reader) can
    check that the gaps lie above the demand cells without a browser.
    """
    out = []
    children = []
    for child in m._children.values():
        # the app's overlays (:class:`MapParts`) hold their layer in a feature group
        if isinstance(child, folium.FeatureGroup):
            children.extend(child._children.values())
        else:
            children.append(child)
    for child in children:
        if isinstance(child, _GeoJsonLayer):
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
    g = _prepare(boundaries, tolerance_m=tol)
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
        pane="geoapp-districts",
        highlight=3.5,
    ).add_to(m)
    if fill_by_zone and legend:
        add_legend(m, zone_legend(zone.tolist(), lang), position="bottomright")
    return m


def zone_legend(zones: Sequence[str], lang: str = "en") -> str:
    """Return the legend HTML of the zone types present in ``zones`` (styles' order)."""
    seen = {str(z) for z in zones}
    present = [z for z in ZONE_ORDER if z in seen] + sorted(seen - set(ZONE_ORDER))
    items = "".join(
        f'<div><span class="sw" style="background:{zone_color(z)}"></span>'
        f"{_esc(zone_name(z, lang))}</div>"
        for z in present
    )
    return f'<div class="ttl">{_esc(t("legend_zone", lang))}</div>{items}'


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
    g = _prepare(merged, tolerance_m=tol, preserve_topology=False)
    widths = {"major": 3.0, "minor": 1.6}
    props = {"_s": [{"weight": widths.get(c, 1.6)} for c in g["cls"].tolist()]}
    _GeoJsonLayer(
        _collection(g, props),
        name=name or t("streets", lang),
        style={"color": "#9a9a9a", "weight": 1.6, "opacity": 0.9, "interactive": False},
        pane="geoapp-streets",
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


def _class_palette(radii_m: Sequence[float]) -> list[str]:
    bins = distance_bins(radii_m)
    cmap = distance_colormap(radii_m)
    return [cmap((lo + hi) / 2) for lo, hi in zip(bins[:-2], bins[1:-1], strict=True)] + [
        BEYOND_COLOR
    ]


def _distance_class(values: np.ndarray, radii_m: Sequence[float]) -> np.ndarray:
    """Return the class index of each distance (a distance equal to a radius is within it)."""
    bins = distance_bins(radii_m)
    v = np.asarray(values, dtype=float)
    return np.searchsorted(np.asarray(bins[1:-1]), np.where(np.isfinite(v), v, np.inf), side="left")


def _distance_color(values: np.ndarray, radii_m: Sequence[float]) -> list[str]:
    """Return the class colour of each distance (a distance equal to a radius is within it)."""
    palette = np.array(_class_palette(radii_m), dtype=object)
    return palette[_distance_class(values, radii_m)].tolist()


def add_legend(
    m: folium.Map, html_text: str, *, position: str = "bottomright", css_class: str = ""
) -> folium.Map:
    """Add a legend box holding ``html_text`` (which must already be escaped)."""
    cls = "geoapp-box geoapp-legend" + (f" {css_class}" if css_class else "")
    _HtmlControl(html_text, position=position, css_class=cls).add_to(m)
    return m


def _radius_text(
    radius_m: float, lang: str, *, minutes: float | None, speed_kmh: float | None
) -> str:
    """Return e.g. "300 m · 4 min" (metre layer) or "5 min · 375 m" (minute layer)."""
    unit = "米" if lang == "zh" else "m"
    metres = f"{radius_m:,.0f} {unit}"
    if minutes is not None:
        return f"{_tr('minutes', lang, m=f'{minutes:g}')} · {metres}"
    if speed_kmh:
        return f"{metres} · {_tr('minutes', lang, m=_fmt_minutes(radius_m, speed_kmh))}"
    return metres


def _layer_minutes(layer: Layer | None, radii_m: Sequence[float]) -> list[float | None]:
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
    palette = _class_palette(radii_m)
    mins = _layer_minutes(layer, radii)
    speed = speed_kmh or (layer.speed_kmh if layer is not None else None) or DEFAULT_SPEED_KMH
    target = float(target_m) if target_m is not None else (radii[-1] if radii else math.inf)
    rows = []
    lo_text = "0"
    for i, r in enumerate(radii):
        hi = _radius_text(r, lang, minutes=mins[i], speed_kmh=speed)
        op = COVERED_OPACITY if r <= target + 1e-9 else UNCOVERED_OPACITY
        rows.append(
            f'<div><span class="sw" style="background:{palette[i]};opacity:{0.35 + op * 0.65:.2f}">'
            f"</span>{_esc(lo_text)}–{_esc(hi)}</div>"
        )
        lo_text = f"{r:,.0f}"
    last = _radius_text(radii[-1], lang, minutes=mins[-1], speed_kmh=speed) if radii else ""
    rows.append(
        f'<div><span class="sw" style="background:{BEYOND_COLOR}"></span>'
        f"{_esc(_tr('beyond_class', lang, radius=last))}</div>"
    )
    title = t("legend_distance_euclid" if mode == "euclidean" else "legend_distance", lang)
    if not any(x is not None for x in mins) and radii:
        title += f"; {_tr('minutes_at', lang, speed=f'{speed:g}')}"
    notes = []
    if math.isfinite(target) and radii:
        tgt = _radius_text(
            target, lang, minutes=_layer_minutes(layer, [target])[0], speed_kmh=speed
        )
        notes.append(_tr("covered_pale", lang, target=tgt))
    if merged and res is not None:
        notes.append(_tr("cells_at", lang, res=res, km2=_cell_km2(res)))
        notes.append(_tr("cells_merged", lang))
    sub = "".join(f'<div class="sub">{_esc(n)}</div>' for n in notes)
    return f'<div class="ttl">{_esc(title)}</div>' + "".join(rows) + sub


def no_data_legend(layer: Layer | None, lang: str = "en") -> str:
    """Legend of a layer with no facility in the data: grey cells, no distance classes."""
    name = layer.name(lang) if layer is not None else t("facilities", lang)
    return (
        f'<div class="ttl">{_esc(_tr("no_data_title", lang, layer=name))}</div>'
        f'<div><span class="sw" style="background:{NO_DATA_COLOR}"></span>'
        f"{_esc(_tr('no_data_cells', lang))}</div>"
        f'<div class="sub">{_esc(_tr("cannot_assess", lang))}</div>'
    )


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
    g = _prepare(hex_gdf, tolerance_m=0.0)
    dist = _hex_distance(g, column)
    palette = _class_palette(radii_m)
    cls = _distance_class(dist, radii_m)
    bins = distance_bins(radii_m)
    target = float(target_m) if target_m is not None else bins[-2]
    strong = np.array([hi > target + 1e-9 for hi in bins[1:]], dtype=bool)
    pop = pd.to_numeric(_col(g, pop_column, np.nan), errors="coerce").to_numpy(float)
    pop60 = pd.to_numeric(_col(g, "pop_60plus", np.nan), errors="coerce").to_numpy(float)
    beyond = pd.to_numeric(_col(g, "share_beyond", np.nan), errors="coerce").to_numpy(float)
    mean_d = (
        pd.to_numeric(g[column], errors="coerce").to_numpy(float)
        if column in g.columns
        else pd.to_numeric(_col(g, "dist_m_mean", np.nan), errors="coerce").to_numpy(float)
    )
    speed = speed_kmh or (layer.speed_kmh if layer is not None else None) or DEFAULT_SPEED_KMH
    dlabel = _esc(_tr("mean_straight" if mode == "euclidean" else "mean_walk", lang))
    plabel = _esc(t("cell_residents", lang))
    olabel = _esc(t("population_60plus", lang))
    slabel = _esc(t("settlement", lang))
    settle = _col(g, "settlement", "").astype(object).fillna("").astype(str).tolist()
    limit = f"{search_limit_m:,.0f}" if search_limit_m and math.isfinite(search_limit_m) else None
    tips = []
    for d, p, p6, sb, s_type in zip(mean_d, pop, pop60, beyond, settle, strict=True):
        if no_data:
            tip = _esc(_tr("cannot_assess", lang))
        elif math.isfinite(d):
            tip = f"{dlabel}: {_esc(_dist_text(d, lang))}"
            tip += f" · {_esc(_tr('minutes', lang, m=_fmt_minutes(d, speed)))}"
            if math.isfinite(sb) and sb >= 0.005:
                key = "share_not_reachable" if limit else "share_not_reachable_any"
                tip += "<br>" + _esc(_tr(key, lang, share=f"{sb:.0%}", limit=limit))
        else:
            tip = _esc(_dist_text(np.inf, lang, limit_m=search_limit_m)).capitalize()
        if math.isfinite(p):
            tip += f"<br>{plabel}: {_fmt_int(p)}"
        if math.isfinite(p6):
            tip += f"<br>{olabel}: {_fmt_int(p6)}"
        if s_type:
            tip += f"<br>{slabel}: {_esc(zone_name(s_type, lang))}"
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
    _GeoJsonLayer(
        _collection(g, {"_s": styles, "_t": tips}),
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
    g = _prepare(g, tolerance_m=0.0, decimals=6)
    names = _text_col(g, "name")
    kinds = _facility_kinds(g, lang)
    ids = _text_col(g, "facility_id")
    districts = [_esc(v) for v in _localized(g, "district", lang).tolist()]
    caps = pd.to_numeric(_col(g, "capacity", np.nan), errors="coerce").to_numpy(float)
    lname = _esc(layer.name(lang)) if layer is not None else ""
    cap_label = _esc(_tr("capacity", lang))
    tips, pops = [], []
    for nm, kd, fid, dist, cap in zip(names, kinds, ids, districts, caps, strict=True):
        title = nm or kd or fid
        tips.append(f"<b>{title}</b>" + (f"<br>{kd}" if nm and kd else ""))
        rows = [f"<b>{title}</b>"]
        if kd:
            rows.append(f"{_esc(t('kind', lang))}: {kd}")
        if lname:
            rows.append(f"{_esc(t('layer', lang))}: {lname}")
        if dist:
            rows.append(f"{_esc(t('district', lang))}: {dist}")
        if math.isfinite(cap):
            rows.append(f"{cap_label}: {_fmt_int(cap)}")
        if fid:
            rows.append(f'<span style="color:#777">{fid}</span>')
        pops.append("<br>".join(rows))
    c = _safe_color(color or (layer.color if layer is not None else "#3366cc"))
    slot = min(max(int(slot), 1), 6)
    do_cluster = len(g) > CLUSTER_OVER if cluster is None else bool(cluster)
    if do_cluster:
        _use_clusters(m)
    props = {"facility_id": _col(g, "facility_id", "").astype(str).tolist(), "_t": tips, "_p": pops}
    _GeoJsonLayer(
        _collection(g, props),
        name=name or (layer.name(lang) if layer is not None else t("facilities", lang)),
        style={"fillColor": c, "className": "geoapp-facility"},
        pane=f"geoapp-fac-{slot}",
        sticky=False,
        show=show,
        dots="geoapp-fac" + (" geoapp-fac-first" if emphasis else ""),
        cluster=do_cluster,
    ).add_to(m)
    return m


def facility_legend(items: Sequence[tuple[str, str, int, bool]], lang: str = "en") -> str:
    """Return the legend HTML of facility layers: ``(name, colour, count, clustered)``."""
    rows = [f'<div class="ttl">{_esc(_tr("legend_facilities", lang))}</div>']
    any_cluster = False
    for name, color, n, clustered in items:
        any_cluster |= clustered
        rows.append(
            f'<div><span class="dot" style="background:{_safe_color(color)}"></span>'
            f"{_esc(_tr('facilities_count', lang, name=name, n=int(n)))}</div>"
        )
    if any_cluster:
        rows.append(f'<div class="sub">{_esc(_tr("cluster_note", lang))}</div>')
    return "".join(rows)


def add_catchments(
    m: folium.Map,
    catchments: gpd.GeoDataFrame,
    *,
    radius_m: float | None = None,
    color: str = "#3366cc",
    lang: str = "en",
    name: str | None = None,
    show: bool = True,
    dissolve: bool | None = None,
    tolerance_m: float | None = None,
) -> folium.Map:
    """Draw facility catchments (network service areas) for one radius.

    ``radius_m`` selects rows of the ``radius_m`` column (default the largest).
    ``dissolve`` merges them into one area (default: when there are more than 500, so
    a city map stays small; the per-facility polygons stay in the bundle).
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
        g = _dissolve_catchments(g)
    tol = tolerance_m if tolerance_m is not None else display_tolerance_m(extent_km(g))
    g = _prepare(g, tolerance_m=tol, preserve_topology=False)
    served = pd.to_numeric(_col(g, "pop_served", np.nan), errors="coerce").tolist()
    ids = _text_col(g, "facility_id")
    label = _esc(t("pop_served", lang))
    tips = [
        f"{fid}<br>{label}: {_fmt_int(s)}" if math.isfinite(s) else fid
        for fid, s in zip(ids, served, strict=True)
    ]
    c = _safe_color(color)
    _GeoJsonLayer(
        _collection(g, {"_t": tips}),
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
    g = _prepare(g, tolerance_m=tol)
    if len(g) == 0:
        return m
    ranks = _col(g, "rank", "").tolist()
    reasons = [_esc(v) for v in _localized(g, "reason", lang).tolist()]
    districts = [_esc(v) for v in _localized(g, "district", lang).tolist()]
    sixty = (layer is not None and layer.demand_column == "pop_60plus") or (
        "demand" in g.columns and (g["demand"].astype(str) == "pop_60plus").all()
    )
    unc = _col(g, "uncovered_pop", np.nan).tolist()
    unc60 = _col(g, "uncovered_pop_60plus", np.nan).tolist()
    near = _col(g, "nearest_m", np.nan).tolist()
    far = _col(g, "max_nearest_m", np.nan).tolist()
    pure = _col(g, "share_uncovered", np.nan).tolist()
    limits = pd.to_numeric(_col(g, "search_limit_m", np.nan), errors="coerce").tolist()
    gl = _esc(t("gap", lang))
    u_all = _esc(t("uncovered_pop", lang))
    u_60 = _esc(_tr("uncovered_60plus", lang))
    nl, xl = _esc(t("gap_median_m", lang)), _esc(t("gap_max_m", lang))
    sl = _esc(t("gap_share_uncovered", lang))
    points = shapely.point_on_surface(np.asarray(g.geometry.array))
    tips, pops, labels = [], [], []
    rows_in = zip(
        ranks, reasons, districts, unc, unc60, near, far, pure, limits, points, strict=True
    )
    for i, (rk, why, dist, u, u6, nm, fm, pu, lim, pt) in enumerate(rows_in):
        head = f"<b>{gl} #{_esc(rk)}</b>" + (f" · {dist}" if dist else "")
        first = (u_60, u6) if sixty else (u_all, u)
        line = f"{first[0]}: {_fmt_int(first[1])}" if _fmt_int(first[1]) else ""
        tips.append(head + (f"<br>{line}" if line else ""))
        rows = [head]
        if line:
            rows.append(line)
        if sixty and _fmt_int(u):
            rows.append(f"{u_all}: {_fmt_int(u)}")
        lim_f = lim if isinstance(lim, float) and math.isfinite(lim) else None
        if not why:  # the reason states the median and maximum itself
            if _dist_text(nm, lang):
                rows.append(f"{nl}: {_esc(_dist_text(nm, lang, limit_m=lim_f))}")
            if _dist_text(fm, lang):
                rows.append(f"{xl}: {_esc(_dist_text(fm, lang, limit_m=lim_f))}")
        if pd.notna(pu):
            rows.append(f"{sl}: {float(pu):.0%}")
        if why:
            rows.append(f"<i>{why}</i>")
        pops.append("<br>".join(rows))
        labels.append([round(pt.y, 6), round(pt.x, 6), _esc(rk)] if i < label_top else None)
    props = {
        "gap_id": _col(g, "gap_id", "").astype(str).tolist(),
        "rank": ranks,
        "_t": tips,
        "_p": pops,
        "_lbl": labels,
    }
    _GeoJsonLayer(
        _collection(g, props),
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


def gap_legend(n_shown: int, n_total: int, lang: str = "en") -> str:
    """Return the legend HTML of the gap layer."""
    rows = [
        f'<div class="ttl">{_esc(_tr("legend_gaps", lang))}</div>',
        f'<div><span class="gapsw"></span>{_esc(_tr("gap_area", lang))}</div>',
    ]
    if n_shown < n_total:
        rows.append(
            f'<div class="sub">{_esc(_tr("gaps_shown", lang, shown=n_shown, total=n_total))}</div>'
        )
    return "".join(rows)


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
        g = _prepare(zones, tolerance_m=_TOLERANCE_M)
        names = _text_col(g, "name")
        lbl = _esc(t("heritage_zones", lang))
        tips = [f"<b>{n}</b><br>{lbl}" if n else lbl for n in names]
        _GeoJsonLayer(
            _collection(g, {"_t": tips}),
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
        g = sites
        if not bool((g.geometry.geom_type == "Point").all()):
            g = g.set_geometry(g.geometry.representative_point())
        g = _prepare(g, tolerance_m=0.0, decimals=6)
        prot = _col(g, "protected", True).astype(object).fillna(True).astype(bool).to_numpy()
        n_prot, n_unprot = int(prot.sum()), int((~prot).sum())
        names = _text_col(g, "name")
        raw = [
            k if k else h
            for k, h in zip(
                _col(g, "historic", "").astype(object).fillna("").astype(str),
                _col(g, "kind", "").astype(object).fillna("").astype(str),
                strict=True,
            )
        ]
        kinds = [_esc(kind_name(k, lang)) for k in raw]
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
            style={"fillColor": "#8c564b", "className": "geoapp-heritage-site"},
            pane="geoapp-fac-1",
            sticky=False,
            dots="geoapp-fac geoapp-fac-first",
        ).add_to(m)
    if legend and (has_sites or has_zones):
        rows = [f'<div class="ttl">{_esc(_tr("legend_heritage", lang))}</div>']
        if has_sites:
            rows.append(
                f'<div><span class="dot" style="background:#8c564b"></span>'
                f"{_esc(_tr('site_protected', lang))} ({n_prot:,})</div>"
            )
            rows.append(
                f'<div><span class="dot" style="background:#d62728"></span>'
                f"{_esc(_tr('site_unprotected', lang))} ({n_unprot:,})</div>"
            )
        if has_zones:
            rows.append(
                f'<div><span class="sw" style="background:#c49c94;border-color:#8c564b"></span>'
                f"{_esc(_tr('protected_zone', lang))} ({len(zones):,})</div>"
            )
        add_legend(m, "".join(rows), css_class="geoapp-heritage-legend")
    return m


def add_note(
    m: folium.Map, text: str, *, position: str = "bottomleft", title: bool = False
) -> folium.Map:
    """Add a compact note box (plain text, escaped here).

    Notes sit bottom-left by default, under the popups (map controls are below the
    popup pane) and let clicks through, so they never hide a popup or a feature.
    """
    css = "geoapp-box geoapp-title" if title else "geoapp-box geoapp-note"
    _HtmlControl(_esc(text), position=position, css_class=css).add_to(m)
    return m


def _finish(m: folium.Map, *, synthetic: bool, lang: str, title: str | None) -> folium.Map:
    # bottom-left corner, bottom up: scale bar (added by base_map), note, title
    if synthetic:
        add_note(m, t("synthetic_note", lang), position="bottomleft")
    if title:
        add_note(m, title, position="bottomleft", title=True)
    return finish_map(m)


# --------------------------------------------------------------------------- whole maps


def _aggregate_points(g: gpd.GeoDataFrame, cap: int, lang: str) -> gpd.GeoDataFrame:
    """Merge points into H3 cells (coarsest first fit) until at most ``cap`` remain.

    Each merged point stands at the mean position of its members; its ``name`` says
    how many facilities it holds. Used only when a layer has more facilities than a
    map can carry; the full table stays in the bundle.
    """
    pts = g.geometry if bool((g.geometry.geom_type == "Point").all()) else g.representative_point()
    pts = pts.to_crs(WGS84) if g.crs is not None and str(g.crs) != WGS84 else pts
    lat, lng = pts.y.to_numpy(), pts.x.to_numpy()
    for res in range(10, -1, -1):
        cells = np.array([h3.latlng_to_cell(a, b, res) for a, b in zip(lat, lng, strict=True)])
        n_cells = len(np.unique(cells))
        if n_cells <= cap:
            break
    df = pd.DataFrame({"c": cells, "lat": lat, "lng": lng})
    agg = df.groupby("c", sort=True).agg(lat=("lat", "mean"), lng=("lng", "mean"), n=("c", "size"))
    word = "设施" if lang == "zh" else "facilities"
    names = [f"{n:,} {word}" if n > 1 else "" for n in agg["n"].tolist()]
    return gpd.GeoDataFrame(
        {"name": names, "n_facilities": agg["n"].to_numpy()},
        geometry=gpd.points_from_xy(agg["lng"], agg["lat"]),
        crs=WGS84,
    )


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
        8 or 7 for a city) instead of using ``hexes`` (res 9).
    """
    m, tol = _coverage_base(
        region_boundaries,
        edges,
        extent_of=(region_boundaries, hexes, facilities),
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
    m = base_map(
        region_boundaries, basemap=basemap, tianditu_key=tianditu_key, lang=lang, height=height
    )
    for child in m._children.values():
        if isinstance(child, _MapSetup):  # the one text of the base: in both languages
            child.offline_json = _js_json(
                f"{_tr('tiles_failed', 'en')} / {_tr('tiles_failed', 'zh')}"
            )
    _use_clusters(m)  # scripts load once per map: the overlays may cluster
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
        if isinstance(child, _GeoJsonLayer):
            fg = folium.FeatureGroup(
                name=child.layer_name, overlay=True, control=child.control, show=True
            )
            if not child.show:
                _HideOnAdd().add_to(fg)
            child.control, child.show = False, True
        else:
            fg = folium.FeatureGroup(name=key, overlay=True, control=False, show=True)
        child._parent = None
        fg.add_child(child, name=key)
        overlays.append(fg)
    return MapParts(base=m, overlays=tuple(overlays))


class _HideOnAdd(folium.MacroElement):
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


def _coverage_base(
    region_boundaries: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame | None,
    *,
    extent_of: tuple[gpd.GeoDataFrame | None, ...],
    basemap: str | None,
    tianditu_key: str | None,
    lang: str,
    height: str | int,
) -> tuple[folium.Map, float]:
    """Return the coverage map's base (streets, districts) and its tolerance in metres."""
    m = base_map(
        region_boundaries, basemap=basemap, tianditu_key=tianditu_key, lang=lang, height=height
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
    color = _safe_color(layer.color if layer is not None else "#3366cc")
    target = target_m if target_m is not None else (layer.target_m if layer is not None else None)
    speed = speed_kmh or (layer.speed_kmh if layer is not None else None) or DEFAULT_SPEED_KMH
    budget = max(int(max_features), 100)
    n_fixed = (len(region_boundaries) if region_boundaries is not None else 0) + 2

    fac = facilities
    fac_cap = max(budget // 4, 50)
    n_fac = len(fac) if fac is not None else 0
    if fac is not None and n_fac > fac_cap:
        fac = _aggregate_points(fac, fac_cap, lang)
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
    want = display_resolution(extent_km(region_boundaries, hexes, access))
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
        rtxt = _radius_text(
            float(pick), lang, minutes=_layer_minutes(layer, [float(pick)])[0], speed_kmh=speed
        )
        parts.append(
            f'<div><span class="sw" style="background:{color};opacity:0.5;border-color:{color}">'
            f"</span>{_esc(t('catchments', lang))}: {_esc(_tr('catchment_of', lang, radius=rtxt))}"
            "</div>"
        )
    if region_boundaries is not None and len(region_boundaries):
        parts.append(
            '<div><span class="sw" style="background:none;border:2px dashed #34495e"></span>'
            f"{_esc(_tr('district_outline', lang))}</div>"
        )
    if parts:
        add_legend(m, "".join(parts), css_class="geoapp-coverage-legend")


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
    the zone types and every layer's colour and count.
    """
    m = base_map(boundaries, basemap=basemap, tianditu_key=tianditu_key, lang=lang, height=height)
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
        color = _safe_color(layer.color if layer is not None else "#3366cc")
        shown = _aggregate_points(fac, cap, lang) if len(fac) > cap else fac
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
        legend += zone_legend(_col(boundaries, "zone_type", "unknown").fillna("unknown"), lang)
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

    With a legend of sites (protected / unprotected, with counts) and zones.
    """
    m = base_map(boundaries, basemap=basemap, tianditu_key=tianditu_key, lang=lang, height=height)
    if edges is not None:
        add_streets(m, edges, lang=lang)
    if hexes is not None:
        shown, res = hexes_for_display(hexes, max(int(max_features) - 500, 100))
        add_hex_layer(m, shown, radii_m=radii_m, lang=lang)
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
