"""QGIS-ready GeoPackages: a ``layer_styles`` table with a QML and an SLD style per layer.

QGIS opens a GeoPackage's layers with the style it finds in the file's ``layer_styles``
table (the table QGIS itself writes with "Save as default"): one row per layer, its
``useAsDefault`` style in QML (QGIS) and SLD 1.1 (GeoServer, other clients). The
styles use the colours and classes of the app's maps: walking-distance classes from
the layer's radii (:func:`geoapp.maps.class_palette`, pale within the target and strong
beyond it), districts by zone type (:mod:`geoapp.styles`), gaps outlined in
:data:`geoapp.maps.GAP_COLOR`, facilities and catchments in the layer's colour. Each
style carries the field aliases in the run's language (:mod:`geoapp.i18n`, keys
``field_<column>``), and every layer gets a description in ``gpkg_contents``.

The table is created with ``sqlite3`` after the layers are written and registered in
``gpkg_contents`` as an ``attributes`` table, so GDAL (also Debian stable's 3.6) lists
it without a warning.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoapp.i18n import STRINGS, t
from geoapp.styles import ZONE_ORDER, zone_color, zone_name

log = logging.getLogger(__name__)

#: Name of the table QGIS reads styles from.
LAYER_STYLES = "layer_styles"

#: QGIS version the QML documents are written for (read by QGIS 3.22 and later).
QGIS_VERSION = "3.22.16-Białowieża"

#: Colour of facilities when the layer's own colour is unknown (as on the app's maps).
DEFAULT_FACILITY_COLOR = "#3366cc"

#: Outline of districts filled by zone type, and of districts drawn as outlines only.
DISTRICT_FILL_OUTLINE = "#333333"
DISTRICT_OUTLINE = "#34495e"

#: Millimetres per CSS pixel (96 dpi): the maps' line widths in QGIS units.
MM_PER_PX = 25.4 / 96

_CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS "{LAYER_STYLES}" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  "f_table_catalog" TEXT(256),
  "f_table_schema" TEXT(256),
  "f_table_name" TEXT(256),
  "f_geometry_column" TEXT(256),
  "styleName" TEXT(30),
  "styleQML" TEXT,
  "styleSLD" TEXT,
  "useAsDefault" BOOLEAN,
  "description" TEXT,
  "owner" TEXT(30),
  "ui" TEXT(30),
  "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""

# ---------------------------------------------------------------- filters and classes

#: A filter: ("le"|"lt"|"gt"|"ge"|"eq", field, value), ("null", field),
#: ("and"|"or", filter, filter, ...).
Filter = tuple[Any, ...]


@dataclass(frozen=True)
class Symbol:
    """One symbol: fill (or marker or line) colour and opacity, outline and size."""

    color: str
    alpha: float = 1.0
    stroke: str | None = None
    stroke_alpha: float = 1.0
    stroke_width_mm: float = 0.26
    size_mm: float = 2.0
    dashed: bool = False


@dataclass(frozen=True)
class StyleClass:
    """One class of a renderer: its label, symbol and value (categories) or filter (rules)."""

    label: str
    symbol: Symbol
    value: str | None = None
    filter: Filter | None = None
    active: bool = True


@dataclass(frozen=True)
class LayerStyle:
    """The style of one GeoPackage table, written as QML and SLD.

    ``renderer`` is ``"singleSymbol"``, ``"categorizedSymbol"`` (on ``attr``),
    ``"RuleRenderer"`` or ``None`` (an attribute table: aliases only). ``kind`` is the
    geometry family: ``"point"``, ``"line"``, ``"polygon"`` or ``None``.
    """

    table: str
    geometry_column: str | None
    kind: str | None
    renderer: str | None
    classes: tuple[StyleClass, ...] = ()
    attr: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)
    title: str = ""
    description: str = ""


def _hex_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def qgis_color(color: str, alpha: float = 1.0) -> str:
    """Return ``#rrggbb`` and an opacity as QGIS writes colours: ``"r,g,b,a"`` (0-255)."""
    r, g, b = _hex_rgb(color)
    a = int(max(0.0, min(1.0, alpha)) * 255 + 0.5)  # half up: 0.3 -> 77
    return f"{r},{g},{b},{a}"


def _num(value: float) -> str:
    return f"{float(value):.10g}"


def qgis_expression(flt: Filter) -> str:
    """Return a filter as a QGIS expression (``"dist_m" > 300 AND "dist_m" <= 600``)."""
    op = flt[0]
    if op in ("and", "or"):
        return "(" + f" {op.upper()} ".join(qgis_expression(f) for f in flt[1:]) + ")"
    col = '"' + str(flt[1]).replace('"', '""') + '"'
    if op == "null":
        return f"{col} IS NULL"
    value = flt[2]
    sym = {"le": "<=", "lt": "<", "gt": ">", "ge": ">=", "eq": "="}[op]
    if isinstance(value, str):
        return f"{col} {sym} '" + value.replace("'", "''") + "'"
    return f"{col} {sym} {_num(value)}"


# ---------------------------------------------------------------- field aliases


_CLASS_COL = re.compile(
    r"^(covered_pop_60plus|covered_pop|share_pop_60plus|share_pop|share_area)_(\d+(?:\.\d+)?)(min|m)$"
)


def field_alias(column: str, lang: str = "en") -> str | None:
    """Return the display name of an output column in ``lang`` (None when it has none).

    Fixed columns come from :data:`geoapp.i18n.STRINGS` (``field_<column>``); the
    per-class columns of ``summary`` (``covered_pop_5min``, ``share_pop_60plus_300m``
    ...) are named from their class.
    """
    key = f"field_{column}"
    if key in STRINGS:
        return t(key, lang)
    m = _CLASS_COL.match(column)
    if m:
        base, amount, unit = m.groups()
        reach = t("minutes", lang, m=amount) if unit == "min" else f"{amount} m"
        return t(f"field_{base}_within", lang, reach=reach)
    return None


# ---------------------------------------------------------------- the bundle's styles


def _radii(meta: Mapping[str, Any]) -> list[float]:
    raw = meta.get("radii_m") or []
    try:
        return sorted({float(r) for r in raw if float(r) > 0})
    except (TypeError, ValueError):
        return []


def _class_label(radius: float, meta: Mapping[str, Any], lang: str) -> str:
    from geoapp.maps.leaflet import radius_text

    minutes = meta.get("minutes") or []
    raw = list(meta.get("radii_m") or [])
    mins: float | None = None
    if minutes and len(minutes) == len(raw):
        by_r = {round(float(r), 6): float(m) for r, m in zip(raw, minutes, strict=True)}
        mins = by_r.get(round(float(radius), 6))
    speed = meta.get("speed_kmh")
    return radius_text(float(radius), lang, minutes=mins, speed_kmh=float(speed) if speed else None)


def distance_classes(
    meta: Mapping[str, Any],
    lang: str,
    column: str,
    *,
    beyond_column: str | None = None,
    kind: str = "polygon",
) -> tuple[StyleClass, ...]:
    """Return the walking-distance classes of the app's demand map as rules on ``column``.

    One class per radius (``lo < d <= hi``; a distance equal to a radius is within it,
    as :func:`geoapp.maps.distance_class`), then "beyond" (greater than the largest
    radius, not reachable: NULL, or ``beyond_column`` >= 0.5 as on the map's cells).
    Colours from :func:`geoapp.maps.class_palette`; classes within the target are
    pale (:data:`geoapp.maps.COVERED_OPACITY`), the others strong.
    """
    from geoapp.maps.display import (
        COVERED_OPACITY,
        UNCOVERED_OPACITY,
        class_palette,
        distance_bins,
    )

    radii = _radii(meta)
    if not radii:
        return ()
    bins = distance_bins(radii)
    palette = [c[:7] for c in class_palette(radii)]  # branca gives #rrggbbaa
    target = float(meta.get("target_m") or bins[-2])
    size = 1.2 if kind == "point" else 2.0
    not_beyond: Filter | None = (
        ("or", ("lt", beyond_column, 0.5), ("null", beyond_column)) if beyond_column else None
    )
    out: list[StyleClass] = []
    lo_text = "0"
    for i, hi in enumerate(bins[1:-1]):
        lo = bins[i]
        within: Filter = (
            ("le", column, hi) if i == 0 else ("and", ("gt", column, lo), ("le", column, hi))
        )
        if not_beyond is not None:
            within = ("and", within, not_beyond)
        opacity = COVERED_OPACITY if hi <= target + 1e-9 else UNCOVERED_OPACITY
        label = f"{lo_text}–{_class_label(hi, meta, lang)}"
        lo_text = f"{hi:,.0f}"
        out.append(StyleClass(label, Symbol(palette[i], opacity, size_mm=size), filter=within))
    beyond: Filter = ("or", ("gt", column, bins[-2]), ("null", column))
    if beyond_column:
        beyond = (*beyond, ("ge", beyond_column, 0.5))
    last = _class_label(bins[-2], meta, lang)
    out.append(
        StyleClass(
            t("beyond_class", lang, radius=last),
            Symbol(palette[-1], UNCOVERED_OPACITY, size_mm=size),
            filter=beyond,
        )
    )
    return tuple(out)


def _layer_name(meta: Mapping[str, Any], lang: str) -> str:
    label = meta.get("layer_label")
    if isinstance(label, Mapping):
        return str(label.get(lang) or label.get("en") or meta.get("layer") or "")
    return str(meta.get("layer") or "")


def _facility_color(meta: Mapping[str, Any]) -> str:
    """Return the colour of the run's layer from the catalog (its own file first)."""
    from geoapp.maps.display import safe_color

    if meta.get("layer_color"):
        return safe_color(meta["layer_color"], DEFAULT_FACILITY_COLOR)
    lid = meta.get("layer")
    if not lid:
        return DEFAULT_FACILITY_COLOR
    try:
        from geoapp.catalog import load_catalog

        layer = load_catalog().get(str(lid))
    except Exception as exc:  # a broken user catalog must not stop the export
        log.info("layer colour of %s not found (%s); default used", lid, exc)
        layer = None
    return safe_color(getattr(layer, "color", None), DEFAULT_FACILITY_COLOR)


def _single(symbol: Symbol, label: str = "") -> tuple[StyleClass, ...]:
    return (StyleClass(label, symbol),)


def _base_table(table: str) -> tuple[str, str | None]:
    """Return the table a split layer comes from and its suffix (``facilities_footprints``)."""
    for suffix in ("footprints", "lines", "collections"):
        if table.endswith(f"_{suffix}"):
            return table[: -len(suffix) - 1], suffix
    return table, None


def style_for(
    table: str,
    geometry_column: str | None,
    kind: str | None,
    columns: Sequence[str],
    meta: Mapping[str, Any],
    lang: str = "en",
) -> LayerStyle:
    """Return the style of one GeoPackage table as the app's maps draw it.

    Parameters
    ----------
    table
        Table name (``facilities``, ``demand``, ``hexes``, ``catchments``, ``gaps``,
        ``boundaries``, a split layer such as ``facilities_footprints``, or any other).
    geometry_column, kind
        Geometry column and family (``"point"``, ``"line"``, ``"polygon"``; None for
        attribute tables).
    columns
        The table's columns (aliases are given for these).
    meta
        The run's metadata (``radii_m``, ``target_m``, ``minutes``, ``speed_kmh``,
        ``layer``, ``layer_label``; an optional ``layer_color``).
    lang
        ``"en"`` or ``"zh"``: aliases, class labels and descriptions.
    """
    base, suffix = _base_table(table)
    layer_name = _layer_name(meta, lang)
    aliases = {c: a for c in columns if (a := field_alias(c, lang))}
    desc_key = f"layer_desc_{base}"
    title_key = f"layer_title_{base}"
    title = t(title_key, lang) if title_key in STRINGS else table
    if layer_name and base in ("facilities", "catchments", "gaps", "demand", "hexes"):
        title = f"{title}: {layer_name}"
    if desc_key in STRINGS:
        description = t(desc_key, lang, layer=layer_name or "-")
    else:
        description = t("layer_desc_other", lang, table=table)
    if suffix:
        description += " " + t("layer_desc_split", lang, base=base)
    renderer: str | None = "singleSymbol"
    classes: tuple[StyleClass, ...] = ()
    attr: str | None = None
    cols = set(columns)
    if kind is None:
        renderer = None
    elif base == "facilities":
        color = _facility_color(meta)
        if kind == "point":
            sym = Symbol(color, 1.0, stroke="#ffffff", stroke_width_mm=0.4, size_mm=2.6)
        else:
            sym = Symbol(color, 0.5, stroke=color, stroke_width_mm=0.4)
        classes = _single(sym, layer_name)
    elif base in ("demand", "hexes") and _radii(meta):
        col = "dist_m" if "dist_m" in cols else "dist_m_mean"
        beyond = "share_beyond" if col == "dist_m_mean" and "share_beyond" in cols else None
        if col in cols:
            renderer = "RuleRenderer"
            classes = distance_classes(meta, lang, col, beyond_column=beyond, kind=kind)
    elif base == "catchments" and "radius_m" in cols and _radii(meta):
        color = _facility_color(meta)
        radii = _radii(meta)
        renderer = "RuleRenderer"
        classes = tuple(
            StyleClass(
                t("catchment_of", lang, radius=_class_label(r, meta, lang)),
                Symbol(color, 0.12, stroke=color, stroke_alpha=0.7, stroke_width_mm=MM_PER_PX),
                filter=("and", ("ge", "radius_m", r - 0.5), ("le", "radius_m", r + 0.5)),
                # the app's map draws the largest radius; the others can be switched on
                active=r == radii[-1],
            )
            for r in reversed(radii)
        )
    elif base == "gaps":
        from geoapp.maps.display import GAP_COLOR

        classes = _single(
            Symbol(GAP_COLOR, 0.16, stroke=GAP_COLOR, stroke_width_mm=2.5 * MM_PER_PX),
            t("gaps", lang),
        )
    elif base == "boundaries" and "zone_type" in cols:
        renderer = "categorizedSymbol"
        attr = "zone_type"
        classes = tuple(
            StyleClass(
                zone_name(z, lang),
                Symbol(
                    zone_color(z),
                    0.3,
                    stroke=DISTRICT_FILL_OUTLINE,
                    stroke_width_mm=1.5 * MM_PER_PX,
                ),
                value=z,
            )
            for z in ZONE_ORDER
        )
    elif base == "boundaries":
        classes = _single(
            Symbol(
                DISTRICT_OUTLINE,
                0.0,
                stroke=DISTRICT_OUTLINE,
                stroke_width_mm=2 * MM_PER_PX,
                dashed=True,
            ),
            t("district_outline", lang),
        )
    if renderer == "singleSymbol" and not classes:
        classes = _single(Symbol(DEFAULT_FACILITY_COLOR, 0.5, stroke=DEFAULT_FACILITY_COLOR), title)
    return LayerStyle(
        table=table,
        geometry_column=geometry_column,
        kind=kind,
        renderer=renderer,
        classes=classes,
        attr=attr,
        aliases=aliases,
        title=title,
        description=description,
    )


# ---------------------------------------------------------------- QML


def _option(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, "Option", {"type": "QString", "name": name, "value": value})


def _symbol_layer(kind: str, s: Symbol) -> tuple[str, dict[str, str]]:
    stroke = s.stroke or s.color
    outline = qgis_color(stroke, s.stroke_alpha) if s.stroke else "0,0,0,0"
    width = _num(s.stroke_width_mm)
    if kind == "point":
        return "SimpleMarker", {
            "name": "circle",
            "color": qgis_color(s.color, s.alpha),
            "outline_color": outline,
            "outline_style": "solid" if s.stroke else "no",
            "outline_width": width,
            "outline_width_unit": "MM",
            "size": _num(s.size_mm),
            "size_unit": "MM",
        }
    if kind == "line":
        return "SimpleLine", {
            "line_color": qgis_color(s.color, max(s.alpha, 0.8)),
            "line_style": "dash" if s.dashed else "solid",
            "line_width": _num(max(s.stroke_width_mm, 0.4)),
            "line_width_unit": "MM",
        }
    return "SimpleFill", {
        "color": qgis_color(s.color, s.alpha),
        "style": "solid" if s.alpha > 0 else "no",
        "outline_color": outline,
        "outline_style": ("dash" if s.dashed else "solid") if s.stroke else "no",
        "outline_width": width,
        "outline_width_unit": "MM",
    }


def _qml_symbol(parent: ET.Element, name: str, kind: str, s: Symbol) -> None:
    stype = {"point": "marker", "line": "line"}.get(kind, "fill")
    sym = ET.SubElement(
        parent,
        "symbol",
        {"type": stype, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    cls, props = _symbol_layer(kind, s)
    lay = ET.SubElement(sym, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    opts = ET.SubElement(lay, "Option", {"type": "Map"})
    for k, v in props.items():
        _option(opts, k, v)


def _rule_key(table: str, i: int) -> str:
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"geoapp:{table}:{i}")) + "}"


def renderer_element(style: LayerStyle) -> ET.Element | None:
    """Return the ``<renderer-v2>`` element of a style (None for attribute tables)."""
    if style.renderer is None or style.kind is None:
        return None
    common = {"forceraster": "0", "symbollevels": "0", "enableorderby": "0"}
    r = ET.Element("renderer-v2", {"type": style.renderer, **common})
    symbols = ET.Element("symbols")
    if style.renderer == "singleSymbol":
        _qml_symbol(symbols, "0", style.kind, style.classes[0].symbol)
    elif style.renderer == "categorizedSymbol":
        r.set("attr", style.attr or "")
        cats = ET.SubElement(r, "categories")
        for i, c in enumerate(style.classes):
            ET.SubElement(
                cats,
                "category",
                {
                    "value": c.value or "",
                    "symbol": str(i),
                    "label": c.label,
                    "render": "true" if c.active else "false",
                },
            )
            _qml_symbol(symbols, str(i), style.kind, c.symbol)
    else:
        rules = ET.SubElement(r, "rules", {"key": _rule_key(style.table, -1)})
        for i, c in enumerate(style.classes):
            attrs = {"key": _rule_key(style.table, i), "symbol": str(i), "label": c.label}
            if c.filter is not None:
                attrs["filter"] = qgis_expression(c.filter)
            if not c.active:
                attrs["checkstate"] = "0"
            ET.SubElement(rules, "rule", attrs)
            _qml_symbol(symbols, str(i), style.kind, c.symbol)
    r.append(symbols)
    return r


def alias_element(style: LayerStyle, columns: Sequence[str]) -> ET.Element:
    """Return the ``<aliases>`` element: one alias per column that has one."""
    el = ET.Element("aliases")
    for i, col in enumerate(columns):
        if col in style.aliases:
            attrs = {"field": col, "index": str(i + 1), "name": style.aliases[col]}
            ET.SubElement(el, "alias", attrs)
    return el


_GEOMETRY_TYPE = {"point": "0", "line": "1", "polygon": "2"}


def qml(style: LayerStyle, columns: Sequence[str]) -> str:
    """Return a style as a QGIS QML document (symbology, field aliases, geometry type)."""
    root = ET.Element(
        "qgis",
        {"version": QGIS_VERSION, "styleCategories": "Symbology|Fields|Forms|Rendering"},
    )
    rend = renderer_element(style)
    if rend is not None:
        root.append(rend)
    root.append(alias_element(style, columns))
    ET.SubElement(root, "layerGeometryType").text = _GEOMETRY_TYPE.get(style.kind or "", "4")
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


# ---------------------------------------------------------------- SLD

_SLD = "http://www.opengis.net/sld"
_SE = "http://www.opengis.net/se"
_OGC = "http://www.opengis.net/ogc"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _ogc_filter(parent: ET.Element, flt: Filter) -> None:
    op = flt[0]
    if op in ("and", "or"):
        el = ET.SubElement(parent, f"{{{_OGC}}}{'And' if op == 'and' else 'Or'}")
        for f in flt[1:]:
            _ogc_filter(el, f)
        return
    if op == "null":
        el = ET.SubElement(parent, f"{{{_OGC}}}PropertyIsNull")
        ET.SubElement(el, f"{{{_OGC}}}PropertyName").text = str(flt[1])
        return
    tag = {
        "le": "PropertyIsLessThanOrEqualTo",
        "lt": "PropertyIsLessThan",
        "gt": "PropertyIsGreaterThan",
        "ge": "PropertyIsGreaterThanOrEqualTo",
        "eq": "PropertyIsEqualTo",
    }[op]
    el = ET.SubElement(parent, f"{{{_OGC}}}{tag}")
    ET.SubElement(el, f"{{{_OGC}}}PropertyName").text = str(flt[1])
    value = flt[2]
    ET.SubElement(el, f"{{{_OGC}}}Literal").text = value if isinstance(value, str) else _num(value)


def _css(parent: ET.Element, tag: str, params: Mapping[str, str]) -> None:
    el = ET.SubElement(parent, f"{{{_SE}}}{tag}")
    for k, v in params.items():
        ET.SubElement(el, f"{{{_SE}}}SvgParameter", {"name": k}).text = v


def _sld_symbolizer(rule: ET.Element, kind: str, s: Symbol) -> None:
    stroke = {
        "stroke": s.stroke or s.color,
        "stroke-opacity": _num(s.stroke_alpha),
        "stroke-width": _num(s.stroke_width_mm / MM_PER_PX),
    }
    if s.dashed:
        stroke["stroke-dasharray"] = "6 4"
    fill = {"fill": s.color, "fill-opacity": _num(s.alpha)}
    if kind == "point":
        sym = ET.SubElement(rule, f"{{{_SE}}}PointSymbolizer")
        graphic = ET.SubElement(sym, f"{{{_SE}}}Graphic")
        mark = ET.SubElement(graphic, f"{{{_SE}}}Mark")
        ET.SubElement(mark, f"{{{_SE}}}WellKnownName").text = "circle"
        _css(mark, "Fill", fill)
        if s.stroke:
            _css(mark, "Stroke", stroke)
        ET.SubElement(graphic, f"{{{_SE}}}Size").text = _num(s.size_mm / MM_PER_PX)
    elif kind == "line":
        sym = ET.SubElement(rule, f"{{{_SE}}}LineSymbolizer")
        _css(sym, "Stroke", {"stroke": s.color, "stroke-width": "1.5"})
    else:
        sym = ET.SubElement(rule, f"{{{_SE}}}PolygonSymbolizer")
        if s.alpha > 0:
            _css(sym, "Fill", fill)
        if s.stroke:
            _css(sym, "Stroke", stroke)


def sld(style: LayerStyle) -> str:
    """Return a style as an SLD 1.1 (Symbology Encoding) document; empty for attribute tables."""
    if style.renderer is None or style.kind is None:
        return ""
    ET.register_namespace("", _SLD)
    ET.register_namespace("se", _SE)
    ET.register_namespace("ogc", _OGC)
    ET.register_namespace("xsi", _XSI)
    root = ET.Element(
        f"{{{_SLD}}}StyledLayerDescriptor",
        {
            "version": "1.1.0",
            f"{{{_XSI}}}schemaLocation": "http://www.opengis.net/sld "
            "http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd",
        },
    )
    named = ET.SubElement(root, f"{{{_SLD}}}NamedLayer")
    ET.SubElement(named, f"{{{_SE}}}Name").text = style.table
    user = ET.SubElement(named, f"{{{_SLD}}}UserStyle")
    ET.SubElement(user, f"{{{_SE}}}Name").text = style.table
    fts = ET.SubElement(user, f"{{{_SE}}}FeatureTypeStyle")
    for c in style.classes:
        if not c.active:
            continue
        rule = ET.SubElement(fts, f"{{{_SE}}}Rule")
        ET.SubElement(rule, f"{{{_SE}}}Name").text = c.label
        desc = ET.SubElement(rule, f"{{{_SE}}}Description")
        ET.SubElement(desc, f"{{{_SE}}}Title").text = c.label
        flt = c.filter
        if style.renderer == "categorizedSymbol":
            flt = ("eq", style.attr, c.value or "")
        if flt is not None:
            _ogc_filter(ET.SubElement(rule, f"{{{_OGC}}}Filter"), flt)
        _sld_symbolizer(rule, style.kind, c.symbol)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ---------------------------------------------------------------- the GeoPackage

_KIND = {
    "POINT": "point",
    "MULTIPOINT": "point",
    "LINESTRING": "line",
    "MULTILINESTRING": "line",
    "POLYGON": "polygon",
    "MULTIPOLYGON": "polygon",
}


def gpkg_tables(con: sqlite3.Connection) -> list[tuple[str, str | None, str | None, list[str]]]:
    """Return every table of ``gpkg_contents`` but ``layer_styles``.

    Each as (name, geometry column, geometry family, columns without the geometry and
    the primary key).
    """
    geoms = {
        row[0]: (row[1], _KIND.get(str(row[2]).upper(), "polygon"))
        for row in con.execute(
            "SELECT table_name, column_name, geometry_type_name FROM gpkg_geometry_columns"
        )
    }
    out = []
    for (name,) in con.execute("SELECT table_name FROM gpkg_contents ORDER BY rowid").fetchall():
        if name == LAYER_STYLES:
            continue
        gcol, kind = geoms.get(name, (None, None))
        info = con.execute(f'PRAGMA table_info("{name}")').fetchall()
        cols = [r[1] for r in info if r[1] != gcol and not r[5]]
        out.append((name, gcol, kind, cols))
    return out


def add_layer_styles(
    path: str | os.PathLike[str], meta: Mapping[str, Any] | None = None, lang: str | None = None
) -> list[LayerStyle]:
    """Write a ``layer_styles`` table (QML + SLD, default style) for every layer of a GeoPackage.

    Existing rows for these layers are replaced; each layer's ``gpkg_contents``
    description is set (in ``lang``) so QGIS and ``ogrinfo`` show what the layer holds.
    ``update_time`` is left empty, so the same run gives the same table (the run's time
    is in ``geoapp_metadata``).

    Parameters
    ----------
    path
        A GeoPackage written by geoapp (closed: no other connection writes it).
    meta
        The run's metadata (radii, target, layer id and label, speed); without it
        layers get single-symbol styles.
    lang
        ``"en"`` or ``"zh"``; default ``meta["lang"]``, else English.

    Returns
    -------
    list of LayerStyle
        The styles written, one per layer.
    """
    meta = dict(meta or {})
    lang = lang or str(meta.get("lang") or "en")
    if lang not in ("en", "zh"):
        lang = "en"
    con = sqlite3.connect(os.fspath(path))
    try:
        styles = []
        with con:
            tables = gpkg_tables(con)
            con.execute(_CREATE_TABLE)
            con.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "description, last_change, srs_id) VALUES (?, 'attributes', ?, ?, "
                "strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0)",
                (LAYER_STYLES, LAYER_STYLES, "QGIS layer styles (QML, SLD)"),
            )
            for name, gcol, kind, cols in tables:
                style = style_for(name, gcol, kind, cols, meta, lang)
                styles.append(style)
                con.execute(f'DELETE FROM "{LAYER_STYLES}" WHERE f_table_name = ?', (name,))
                con.execute(
                    f'INSERT INTO "{LAYER_STYLES}" (f_table_catalog, f_table_schema, '
                    "f_table_name, f_geometry_column, styleName, styleQML, styleSLD, "
                    "useAsDefault, description, owner, ui, update_time) "
                    "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', '', NULL)",
                    (name, gcol or "", name, qml(style, cols), sld(style), style.description),
                )
                con.execute(
                    "UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
                    (style.description, name),
                )
    finally:
        con.close()
    log.info("GeoPackage %s: %d layer styles written", Path(path).name, len(styles))
    return styles


__all__ = [
    "LAYER_STYLES",
    "LayerStyle",
    "StyleClass",
    "Symbol",
    "add_layer_styles",
    "distance_classes",
    "field_alias",
    "gpkg_tables",
    "qgis_color",
    "qgis_expression",
    "qml",
    "renderer_element",
    "sld",
    "style_for",
]
