"""A QGIS project beside a result bundle: ``bundle.qgz`` opens the bundle styled, ready to print.

The project (a zip holding one ``.qgs`` XML document, QGIS 3.22 and later) lists the
layers of the bundle's GeoPackage by relative path (``./bundle.gpkg|layername=...``,
with the project's "save paths relative" setting), each with the style of its
``layer_styles`` row (:mod:`geoapp.qgis_styles`) and its description, drawn in the
order of the app's map (districts, distance cells, catchments, gaps, facilities on
top; the demand points and tables are listed but switched off). The project CRS is the
data's UTM zone, so the print layout's scale bar reads in kilometres. The print layout
(A4 landscape) holds the map, a title, a legend, a scale bar and a north arrow.

Nothing in the file names a folder of the machine, and the document carries no date,
so the same bundle gives the same bytes.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pyproj import CRS, Transformer

from geoapp import _atomic
from geoapp.i18n import t
from geoapp.qgis_styles import LAYER_STYLES, QGIS_VERSION, gpkg_tables, style_for

log = logging.getLogger(__name__)

#: File name of the project inside a bundle folder.
PROJECT_FILE = "bundle.qgz"

#: Drawing order, top first (the layer tree's order); other tables follow, switched off.
LAYER_ORDER = (
    "facilities",
    "facilities_footprints",
    "facilities_lines",
    "facilities_collections",
    "gaps",
    "catchments",
    "demand",
    "hexes",
    "boundaries",
)

#: Layers listed but not drawn when the project opens (the map shows cells, not points).
HIDDEN = frozenset({"demand"})

#: QGIS's layout item types (``QgsLayoutItemRegistry``).
ITEM_PAGE = 65638
ITEM_MAP = 65639
ITEM_PICTURE = 65640
ITEM_LABEL = 65641
ITEM_LEGEND = 65642
ITEM_SCALEBAR = 65646

#: North arrow shipped inside QGIS (a Qt resource, not a file of the machine).
NORTH_ARROW_SVG = ":/images/north_arrows/layout_default_north_arrow.svg"

_WKB = {
    "point": ("Point", "Point"),
    "line": ("Line", "LineString"),
    "polygon": ("Polygon", "Polygon"),
}


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "geoapp:" + ":".join(map(str, parts))))


def _srs(parent: ET.Element, crs: CRS) -> None:
    el = ET.SubElement(parent, "spatialrefsys")
    epsg = crs.to_epsg()
    ET.SubElement(el, "wkt").text = crs.to_wkt()
    ET.SubElement(el, "srid").text = str(epsg or 0)
    ET.SubElement(el, "authid").text = f"EPSG:{epsg}" if epsg else ""
    ET.SubElement(el, "description").text = crs.name
    ET.SubElement(el, "geographicflag").text = "true" if crs.is_geographic else "false"


def _extent(con: sqlite3.Connection) -> tuple[float, float, float, float] | None:
    row = con.execute(
        "SELECT min(min_x), min(min_y), max(max_x), max(max_y) FROM gpkg_contents "
        "WHERE data_type = 'features'"
    ).fetchone()
    if row is None or any(v is None for v in row):
        return None
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


def utm_crs(bounds: Sequence[float]) -> CRS:
    """Return the WGS84 UTM CRS of the centre of ``bounds`` (lon/lat)."""
    lon = (bounds[0] + bounds[2]) / 2
    lat = (bounds[1] + bounds[3]) / 2
    zone = min(max(int((lon + 180) // 6) + 1, 1), 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _styles(con: sqlite3.Connection) -> dict[str, tuple[str, str, str]]:
    """Return table -> (geometry column, QML, description) of the default styles."""
    rows = con.execute(
        f'SELECT f_table_name, f_geometry_column, styleQML, description FROM "{LAYER_STYLES}" '
        "WHERE useAsDefault"
    ).fetchall()
    return {r[0]: (r[1] or "", r[2] or "", r[3] or "") for r in rows}


def _layers(con: sqlite3.Connection) -> list[tuple[str, str | None]]:
    """Return (table, geometry family or None) in drawing order, top first."""
    found = {name: kind for name, _, kind, _ in gpkg_tables(con)}
    first = [n for n in LAYER_ORDER if n in found]
    rest = [n for n in found if n not in LAYER_ORDER and n != "geoapp_metadata"]
    return [(n, found[n]) for n in [*first, *rest]]


def _map_layer(
    parent: ET.Element,
    table: str,
    kind: str | None,
    source: str,
    title: str,
    style: tuple[str, str, str] | None,
    layer_id: str,
) -> None:
    geometry, wkb = _WKB.get(kind or "", ("No geometry", "NoGeometry"))
    ml = ET.SubElement(
        parent,
        "maplayer",
        {
            "type": "vector",
            "geometry": geometry,
            "wkbType": wkb,
            "styleCategories": "AllStyleCategories",
        },
    )
    ET.SubElement(ml, "id").text = layer_id
    ET.SubElement(ml, "datasource").text = source
    ET.SubElement(ml, "layername").text = title
    ET.SubElement(ml, "abstract").text = style[2] if style else ""
    srs = ET.SubElement(ml, "srs")
    _srs(srs, CRS.from_epsg(4326))
    ET.SubElement(ml, "provider", {"encoding": "UTF-8"}).text = "ogr"
    meta = ET.SubElement(ml, "resourceMetadata")
    ET.SubElement(meta, "identifier").text = table
    ET.SubElement(meta, "title").text = title
    ET.SubElement(meta, "abstract").text = style[2] if style else ""
    if style and style[1]:
        qml = ET.fromstring(style[1].split("\n", 1)[1])  # drop the DOCTYPE line
        for child in qml:
            if child.tag in ("renderer-v2", "aliases"):
                ml.append(child)


def _item(
    parent: ET.Element, kind: int, uid: str, x: float, y: float, w: float, h: float, **attrs: str
) -> ET.Element:
    base = {
        "type": str(kind),
        "uuid": "{" + uid + "}",
        "templateUuid": "{" + uid + "}",
        "position": f"{x:g},{y:g},mm",
        "positionOnPage": f"{x:g},{y:g},mm",
        "size": f"{w:g},{h:g},mm",
        "referencePoint": "0",
        "frame": "false",
        "background": "false",
        "visibility": "1",
        "zValue": "1",
        "id": "",
    }
    el = ET.SubElement(parent, "LayoutItem", {**base, **attrs})
    ET.SubElement(el, "FrameColor", {"red": "0", "green": "0", "blue": "0", "alpha": "255"})
    ET.SubElement(
        el, "BackgroundColor", {"red": "255", "green": "255", "blue": "255", "alpha": "255"}
    )
    return el


def _layout(
    parent: ET.Element,
    name: str,
    title: str,
    extent: tuple[float, float, float, float],
    lang: str,
) -> None:
    """Add an A4 landscape print layout: map, title, legend, scale bar and north arrow."""
    lay = ET.SubElement(parent, "Layout", {"name": name, "units": "mm", "printResolution": "300"})
    pages = ET.SubElement(lay, "PageCollection")
    _item(pages, ITEM_PAGE, _uid("page", name), 0, 0, 297, 210, background="true")
    map_id = _uid("map", name)
    # the map frame (190 x 180 mm) holds the data's extent with its aspect kept
    mx, my, mw, mh = 10.0, 20.0, 200.0, 180.0
    xmin, ymin, xmax, ymax = extent
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    span = max((xmax - xmin) / mw, (ymax - ymin) / mh) * 1.05
    m = _item(
        lay,
        ITEM_MAP,
        map_id,
        mx,
        my,
        mw,
        mh,
        frame="true",
        background="true",
        keepLayerSet="false",
        mapRotation="0",
        drawCanvasItems="true",
    )
    ET.SubElement(
        m,
        "Extent",
        {
            "xmin": repr(cx - span * mw / 2),
            "xmax": repr(cx + span * mw / 2),
            "ymin": repr(cy - span * mh / 2),
            "ymax": repr(cy + span * mh / 2),
        },
    )
    ET.SubElement(m, "LayerSet")
    _item(
        lay,
        ITEM_LABEL,
        _uid("title", name),
        10,
        6,
        277,
        12,
        labelText=title,
        halign="1",
        valign="128",
        marginX="0",
        marginY="0",
        htmlState="0",
        zValue="2",
    )
    _item(
        lay,
        ITEM_LEGEND,
        _uid("legend", name),
        215,
        20,
        72,
        150,
        map_uuid="{" + map_id + "}",
        title=t("qgis_legend", lang),
        resizeToContents="1",
        columnCount="1",
        symbolWidth="7",
        symbolHeight="4",
        background="true",
        zValue="3",
    )
    _item(
        lay,
        ITEM_SCALEBAR,
        _uid("scalebar", name),
        12,
        186,
        60,
        12,
        mapUuid="{" + map_id + "}",
        style="Single Box",
        unitType="km",
        unitLabel="km",
        numMapUnitsPerScaleBarUnit="1",
        segmentSizeMode="1",
        minBarWidth="30",
        maxBarWidth="70",
        numSegments="2",
        numSegmentsLeft="0",
        numUnitsPerSegment="1",
        height="3",
        zValue="4",
    )
    _item(
        lay,
        ITEM_PICTURE,
        _uid("north", name),
        190,
        24,
        14,
        14,
        file=NORTH_ARROW_SVG,
        mode="0",
        mapUuid="{" + map_id + "}",
        northMode="0",
        northOffset="0",
        resizeMode="0",
        zValue="5",
    )


def project_document(
    gpkg: str | os.PathLike[str],
    meta: Mapping[str, Any] | None = None,
    lang: str = "en",
    *,
    gpkg_name: str | None = None,
) -> str:
    """Return the ``.qgs`` XML of a project showing every layer of ``gpkg``, styled.

    Parameters
    ----------
    gpkg
        A GeoPackage written by :func:`geoapp.export.write_gpkg` (with its
        ``layer_styles``).
    meta
        The run's metadata: ``region`` and the layer's label make the title.
    lang
        ``"en"`` or ``"zh"``: title and legend heading.
    gpkg_name
        How the project names the GeoPackage (default its file name): the project
        lies in the same folder, so the source reads ``./<name>|layername=<table>``.
    """
    meta = dict(meta or {})
    name = gpkg_name or Path(gpkg).name
    con = sqlite3.connect(f"file:{os.fspath(gpkg)}?mode=ro", uri=True)
    try:
        styles = _styles(con)
        layers = _layers(con)
        bounds = _extent(con) or (-180.0, -85.0, 180.0, 85.0)
    finally:
        con.close()
    crs = utm_crs(bounds)
    tr = Transformer.from_crs(4326, crs, always_xy=True)
    xs, ys = tr.transform(
        [bounds[0], bounds[2], bounds[0], bounds[2]], [bounds[1], bounds[1], bounds[3], bounds[3]]
    )
    extent = (min(xs), min(ys), max(xs), max(ys))
    label = meta.get("layer_label")
    layer_name = str(label.get(lang) or label.get("en")) if isinstance(label, Mapping) else ""
    title = " · ".join(p for p in (str(meta.get("region") or ""), layer_name) if p) or "geoapp"

    root = ET.Element("qgis", {"version": QGIS_VERSION, "projectname": title})
    ET.SubElement(root, "homePath", {"path": ""})
    ET.SubElement(root, "title").text = title
    pcrs = ET.SubElement(root, "projectCrs")
    _srs(pcrs, crs)
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    proj_layers = ET.Element("projectlayers")
    for table, kind in layers:
        lid = f"{table}_{_uid('layer', table).replace('-', '_')}"
        source = f"./{name}|layername={table}"
        qml_title = _title(table, lang, meta)
        ET.SubElement(
            tree,
            "layer-tree-layer",
            {
                "id": lid,
                "name": qml_title,
                "source": source,
                "providerKey": "ogr",
                "checked": "Qt::Unchecked" if table in HIDDEN or kind is None else "Qt::Checked",
                "expanded": "1" if kind is not None else "0",
            },
        )
        _map_layer(proj_layers, table, kind, source, qml_title, styles.get(table), lid)
    root.append(proj_layers)
    canvas = ET.SubElement(root, "mapcanvas", {"name": "theMapCanvas", "annotationsVisible": "1"})
    ET.SubElement(canvas, "units").text = "meters"
    ext = ET.SubElement(canvas, "extent")
    for k, v in zip(("xmin", "ymin", "xmax", "ymax"), extent, strict=True):
        ET.SubElement(ext, k).text = repr(v)
    ET.SubElement(canvas, "rotation").text = "0"
    dest = ET.SubElement(canvas, "destinationsrs")
    _srs(dest, crs)
    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", {"type": "bool"}).text = "false"
    srs_props = ET.SubElement(props, "SpatialRefSys")
    ET.SubElement(srs_props, "ProjectionsEnabled", {"type": "int"}).text = "1"
    layouts = ET.SubElement(root, "Layouts")
    _layout(layouts, t("qgis_layout_name", lang), title, extent, lang)
    ET.indent(root)
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        + ET.tostring(root, encoding="unicode")
        + "\n"
    )


def _title(table: str, lang: str, meta: Mapping[str, Any]) -> str:
    return style_for(table, None, None, [], meta, lang).title


def write_project(
    gpkg: str | os.PathLike[str],
    path: str | os.PathLike[str],
    meta: Mapping[str, Any] | None = None,
    lang: str = "en",
) -> Path:
    """Write ``bundle.qgz`` (a zip holding ``bundle.qgs``) beside ``gpkg``, atomically.

    ``path`` must be in the GeoPackage's folder (the layers are named relative to
    the project). The zip entry has a fixed date, so the same bundle gives the same
    bytes.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    if Path(gpkg).resolve().parent != path.resolve().parent:
        raise ValueError("the QGIS project must lie in the GeoPackage's folder")
    text = project_document(gpkg, meta, lang, gpkg_name=Path(gpkg).name)
    with _atomic.atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            info = zipfile.ZipInfo(path.with_suffix(".qgs").name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"))
    log.info("QGIS project %s written", path.name)
    return path


__all__ = ["PROJECT_FILE", "project_document", "utm_crs", "write_project"]
