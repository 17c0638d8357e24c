"""QGIS-ready bundles (issue 27): ``layer_styles`` in every GeoPackage, ``bundle.qgz`` beside it.

Checked against references that are not geoapp's code: Debian's ``ogrinfo`` (GDAL 3.6,
what Debian stable's QGIS reads with) must open the GeoPackage with nothing on stderr;
the distance rules are run as SQL by SQLite on values whose class is worked out by hand
(a distance equal to a radius is within it); colours are the hand-copied hex codes of
the app's maps; and, where Debian's ``python3-qgis`` is installed, QGIS itself loads
the project and renders it, and the colour of a district's pixel is the zone colour
blended over white at the maps' opacity.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import textwrap
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from geoapp import export, qgis_project, qgis_styles

#: A coverage run's metadata (the keys the styles read), elderly care in minutes.
META = {
    "region": "Test town",
    "layer": "elderly_care",
    "layer_label": {"en": "Elderly care", "zh": "养老服务"},
    "radii_m": [300.0, 600.0, 900.0],
    "minutes": [5.0, 10.0, 15.0],
    "target_m": 900.0,
    "speed_kmh": 3.6,
}

#: The maps' colours, copied by hand (geoapp/maps/display.py, geoapp/styles.py).
GREEN, LIGHT_GREEN, YELLOW, BEYOND = "#1a9850", "#91cf60", "#fee08b", "#6a1b4d"
ZONES = {"core": "#3b6ea8", "new_town": "#e1a23b", "rural": "#5a9e5a", "unknown": "#999999"}
GAP = "#b00020"

QML_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"


def _rgba(color: str, alpha: int) -> str:
    c = color.lstrip("#")
    return f"{int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{alpha}"


def _frames() -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """A small bundle: districts of every zone type, mixed facilities, cells, demand, gaps."""
    districts = gpd.GeoDataFrame(
        {
            "district": ["A", "B", "C", "D"],
            "district_code": ["1", "2", "3", "4"],
            "zone_type": ["core", "new_town", "rural", "unknown"],
            "zone_fine": ["", "", "", ""],
        },
        geometry=[
            box(116.30, 39.90, 116.32, 39.92),
            box(116.32, 39.90, 116.34, 39.92),
            box(116.30, 39.92, 116.32, 39.94),
            box(116.32, 39.92, 116.34, 39.94),
        ],
        crs="EPSG:4326",
    )
    facilities = gpd.GeoDataFrame(
        {"facility_id": ["n1", "w2"], "name": ["a", "b"], "layer": ["elderly_care"] * 2},
        geometry=[Point(116.305, 39.905), box(116.331, 39.931, 116.332, 39.932)],
        crs="EPSG:4326",
    )
    cells = gpd.GeoDataFrame(
        {
            "h3": ["x", "y"],
            "pop": [10.0, 20.0],
            "dist_m_mean": [250.0, 700.0],
            "share_beyond": [0.0, 0.6],
        },
        geometry=[box(116.301, 39.901, 116.302, 39.902), box(116.321, 39.921, 116.322, 39.922)],
        crs="EPSG:4326",
    )
    demand = gpd.GeoDataFrame(
        {"demand_id": [1, 2], "dist_m": [120.0, float("inf")], "pop": [3.0, 4.0]},
        geometry=[Point(116.301, 39.901), Point(116.333, 39.933)],
        crs="EPSG:4326",
    )
    catchments = gpd.GeoDataFrame(
        {"facility_id": ["n1"] * 3, "radius_m": [300.0, 600.0, 900.0], "pop_served": [1, 2, 3]},
        geometry=[Point(116.305, 39.905).buffer(d) for d in (0.003, 0.006, 0.009)],
        crs="EPSG:4326",
    )
    gaps = gpd.GeoDataFrame(
        {"gap_id": ["g1"], "rank": [1], "uncovered_pop": [7.0]},
        geometry=[Polygon([(116.33, 39.93), (116.335, 39.93), (116.335, 39.935)])],
        crs="EPSG:4326",
    )
    summary = pd.DataFrame(
        {"level": ["region"], "group": ["all"], "pop": [30.0], "share_pop_60plus_10min": [0.5]}
    )
    return {
        "facilities": facilities,
        "demand": demand,
        "catchments": catchments,
        "gaps": gaps,
        "boundaries": districts,
        "hexes": cells,
        "summary": summary,
    }


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "bundle.gpkg"
    return export.write_gpkg(_frames(), path, meta=META, lang="zh")


def _styles(path: Path) -> dict[str, tuple[str, str, str, int]]:
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "SELECT f_table_name, styleQML, styleSLD, description, useAsDefault FROM layer_styles"
        ).fetchall()
    finally:
        con.close()
    out = {}
    for name, qml, sld, desc, default in rows:
        assert name not in out, f"two styles for {name}"
        out[name] = (qml, sld, desc, default)
    return out


def _qml(text: str) -> ET.Element:
    assert text.startswith(QML_DOCTYPE)
    return ET.fromstring(text[len(QML_DOCTYPE) :])


def _symbol_colors(root: ET.Element) -> dict[str, str]:
    """Symbol name -> its fill (or marker) colour, from the QML's <symbols>."""
    out = {}
    for sym in root.iter("symbol"):
        opts = {o.get("name"): o.get("value") for o in sym.iter("Option") if o.get("name")}
        out[sym.get("name")] = opts.get("color") or opts.get("line_color")
    return out


# ------------------------------------------------------------------- the rules by hand


@pytest.mark.parametrize(
    ("dist", "share_beyond", "expected"),
    [
        (0.0, None, 0),
        (300.0, None, 0),  # a distance equal to a radius is within it
        (300.01, 0.0, 1),
        (600.0, 0.2, 1),
        (900.0, None, 2),
        (900.5, 0.0, 3),
        (None, None, 3),  # unreachable (null)
        (250.0, 0.5, 3),  # most residents beyond reach: the map counts the cell as beyond
    ],
)
def test_distance_rules_put_each_value_in_one_class_run_by_sqlite(dist, share_beyond, expected):
    classes = qgis_styles.distance_classes(META, "en", "d", beyond_column="s")
    assert len(classes) == 4
    con = sqlite3.connect(":memory:")
    con.execute('CREATE TABLE t ("d" REAL, "s" REAL)')
    con.execute("INSERT INTO t VALUES (?, ?)", (dist, share_beyond))
    hits = [
        i
        for i, c in enumerate(classes)
        if con.execute(
            f"SELECT count(*) FROM t WHERE {qgis_styles.qgis_expression(c.filter)}"
        ).fetchone()[0]
    ]
    assert hits == [expected]


def test_distance_classes_colours_opacity_and_labels():
    classes = qgis_styles.distance_classes(META, "en", "dist_m")
    colors = [c.symbol.color for c in classes]
    assert colors == [GREEN, LIGHT_GREEN, YELLOW, BEYOND]
    # within the target (900 m) pale 0.28, beyond it strong 0.78, as on the map
    assert [c.symbol.alpha for c in classes] == [0.28, 0.28, 0.28, 0.78]
    assert classes[0].label == "0–5 min · 300 m"
    assert classes[-1].label == "beyond 15 min · 900 m / not reachable"
    zh = qgis_styles.distance_classes(META, "zh", "dist_m")
    assert zh[0].label == "0–5 分钟 · 300 米"


def test_field_aliases_in_both_languages():
    assert qgis_styles.field_alias("district", "zh") == "区县"
    assert qgis_styles.field_alias("district", "en") == "District"
    assert qgis_styles.field_alias("share_pop_60plus_10min", "en") == (
        "Share of residents 60+ within 10 min"
    )
    assert qgis_styles.field_alias("covered_pop_300m", "zh") == "300 m内居民数"
    assert qgis_styles.field_alias("no_such_column", "en") is None


# ------------------------------------------------------------------- the GeoPackage


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="Debian's gdal-bin not installed")
def test_ogrinfo_reads_the_gpkg_without_a_warning_and_finds_a_style_per_layer(gpkg):
    run = subprocess.run(
        ["ogrinfo", "-q", "-ro", str(gpkg)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr
    listed = re.findall(r"^\d+: (\S+) ", run.stdout, flags=re.M)
    assert "layer_styles" in listed
    assert "facilities_footprints" in listed  # the mixed facilities were split
    run = subprocess.run(
        ["ogrinfo", "-ro", "-q", str(gpkg), "layer_styles"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr
    styled = re.findall(r"^\s*f_table_name \(String\) = (\S+)$", run.stdout, flags=re.M)
    layers = [n for n in listed if n != "layer_styles"]
    assert sorted(styled) == sorted(layers)  # one style per layer, no more


def test_gpkg_is_version_1_2(gpkg):
    con = sqlite3.connect(gpkg)
    try:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
        kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        desc = dict(con.execute("SELECT table_name, description FROM gpkg_contents").fetchall())
    finally:
        con.close()
    assert kinds["layer_styles"] == "attributes"
    assert desc["boundaries"] == "区县边界及其分区类型（中心城区、新城、乡村地区）。"
    assert "养老服务" in desc["facilities"]


def test_every_style_is_the_default_and_parses(gpkg):
    styles = _styles(gpkg)
    assert set(styles) == {
        "facilities",
        "facilities_footprints",
        "demand",
        "catchments",
        "gaps",
        "boundaries",
        "hexes",
        "summary",
        "geoapp_metadata",
    }
    for name, (qml, sld, desc, default) in styles.items():
        assert default == 1 and desc, name
        _qml(qml)
        if name not in ("summary", "geoapp_metadata"):
            ET.fromstring(sld.split("\n", 1)[1])
        else:
            assert sld == ""


def test_boundaries_are_categorised_by_zone_with_the_zone_colours(gpkg):
    root = _qml(_styles(gpkg)["boundaries"][0])
    r = root.find("renderer-v2")
    assert r.get("type") == "categorizedSymbol" and r.get("attr") == "zone_type"
    colors = _symbol_colors(root)
    cats = {c.get("value"): (c.get("label"), colors[c.get("symbol")]) for c in r.iter("category")}
    # 0.3 fill opacity as on the map: round(0.3 * 255) = 77
    assert cats == {
        "core": ("中心城区", _rgba(ZONES["core"], 77)),
        "new_town": ("新城", _rgba(ZONES["new_town"], 77)),
        "rural": ("乡村地区", _rgba(ZONES["rural"], 77)),
        "unknown": ("未分类", _rgba(ZONES["unknown"], 77)),
    }
    aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
    assert aliases["district"] == "区县" and aliases["zone_type"] == "分区类型"


def test_cells_and_demand_are_ruled_by_distance_class(gpkg):
    styles = _styles(gpkg)
    for name, column in (("hexes", "dist_m_mean"), ("demand", "dist_m")):
        root = _qml(styles[name][0])
        r = root.find("renderer-v2")
        assert r.get("type") == "RuleRenderer"
        rules = list(r.iter("rule"))
        colors = _symbol_colors(root)
        assert [colors[x.get("symbol")] for x in rules] == [
            _rgba(GREEN, 71),  # round(0.28 * 255)
            _rgba(LIGHT_GREEN, 71),
            _rgba(YELLOW, 71),
            _rgba(BEYOND, 199),  # round(0.78 * 255)
        ]
        assert all(f'"{column}"' in x.get("filter") for x in rules)
        assert rules[0].get("label") == "0–5 分钟 · 300 米"
    # SLD: the same four classes with the same fills
    sld = ET.fromstring(styles["hexes"][1].split("\n", 1)[1])
    se = "{http://www.opengis.net/se}"
    fills = [p.text for p in sld.iter(f"{se}SvgParameter") if p.get("name") == "fill"]
    assert fills == [GREEN, LIGHT_GREEN, YELLOW, BEYOND]


def test_gaps_facilities_and_catchments(gpkg):
    styles = _styles(gpkg)
    gaps = _qml(styles["gaps"][0])
    opts = {o.get("name"): o.get("value") for o in gaps.iter("Option") if o.get("name")}
    assert opts["color"] == _rgba(GAP, 41)  # 0.16 fill
    assert opts["outline_color"] == _rgba(GAP, 255)
    fac = _qml(styles["facilities"][0])
    assert fac.find("renderer-v2").get("type") == "singleSymbol"
    assert next(fac.iter("symbol")).get("type") == "marker"
    # elderly care's colour in the shipped catalog (geoapp/data/layers/elderly_care.toml)
    fac_color = next(o.get("value") for o in fac.iter("Option") if o.get("name") == "color").rsplit(
        ",", 1
    )[0]
    from geoapp.catalog import load_catalog

    c = load_catalog()["elderly_care"].color.lstrip("#")
    assert fac_color == f"{int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)}"
    foot = _qml(styles["facilities_footprints"][0])
    assert next(foot.iter("symbol")).get("type") == "fill"
    catch = _qml(styles["catchments"][0]).find("renderer-v2")
    rules = list(catch.iter("rule"))
    # the map shows the largest radius; the others are listed, switched off
    assert [x.get("checkstate") for x in rules] == [None, "0", "0"]
    assert "15 分钟" in rules[0].get("label")


# ------------------------------------------------------------------- the project


def _project(gpkg: Path, lang: str = "zh") -> tuple[Path, ET.Element]:
    qgz = qgis_project.write_project(gpkg, gpkg.parent / "bundle.qgz", META, lang)
    with zipfile.ZipFile(qgz) as zf:
        names = zf.namelist()
        assert names == ["bundle.qgs"]
        text = zf.read("bundle.qgs").decode("utf-8")
    return qgz, ET.fromstring(text.split("\n", 1)[1])


def test_project_layers_are_relative_and_exist(gpkg):
    qgz, root = _project(gpkg)
    sources = [d.text for d in root.iter("datasource")]
    assert sources, "no layer in the project"
    for src in sources:
        path, _, layer = src.partition("|layername=")
        assert path.startswith("./") and not Path(path).is_absolute()
        assert (qgz.parent / path).is_file()
        assert layer in _styles(gpkg)
    assert root.find("properties/Paths/Absolute").text == "false"
    # each layer carries its style (renderer and aliases)
    for ml in root.iter("maplayer"):
        if ml.get("geometry") != "No geometry":
            assert ml.find("renderer-v2") is not None
    assert root.find("projectCrs/spatialrefsys/authid").text == "EPSG:32650"


def test_project_layout_has_legend_scale_bar_and_north_arrow(gpkg):
    _, root = _project(gpkg)
    items = {int(i.get("type")): i for i in root.iter("LayoutItem")}
    assert {
        qgis_project.ITEM_MAP,
        qgis_project.ITEM_LEGEND,
        qgis_project.ITEM_SCALEBAR,
        qgis_project.ITEM_PICTURE,
    } <= set(items)
    map_uuid = items[qgis_project.ITEM_MAP].get("uuid")
    assert items[qgis_project.ITEM_LEGEND].get("map_uuid") == map_uuid
    assert items[qgis_project.ITEM_SCALEBAR].get("mapUuid") == map_uuid
    north = items[qgis_project.ITEM_PICTURE]
    assert "north_arrow" in north.get("file") and north.get("mapUuid") == map_uuid


def test_no_absolute_path_in_the_outputs(gpkg, tmp_path):
    qgz, _ = _project(gpkg)
    text = zipfile.ZipFile(qgz).read("bundle.qgs").decode("utf-8")
    con = sqlite3.connect(gpkg)
    try:
        rows = con.execute("SELECT styleQML, styleSLD, description FROM layer_styles").fetchall()
    finally:
        con.close()
    blob = text + json.dumps(rows, ensure_ascii=False)
    for folder in {str(gpkg.parent), str(Path.home()), "/tmp/", "/root", "/home/"}:
        assert folder not in blob


def test_project_bytes_do_not_change(gpkg):
    a = qgis_project.write_project(gpkg, gpkg.parent / "bundle.qgz", META, "en").read_bytes()
    b = qgis_project.write_project(gpkg, gpkg.parent / "bundle.qgz", META, "en").read_bytes()
    assert a == b


# ------------------------------------------------------------------- QGIS itself

QGIS_PYTHON = "/usr/bin/python3"

_QGIS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from qgis.core import (QgsApplication, QgsLayoutExporter, QgsMapRendererParallelJob,
                           QgsMapSettings, QgsProject, QgsRectangle)
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor
    app = QgsApplication([], False)
    app.initQgis()
    project = QgsProject.instance()
    out = {"read": project.read(sys.argv[1])}
    layers = {l.source().split("layername=")[-1]: l for l in project.mapLayers().values()}
    out["valid"] = {k: l.isValid() for k, l in layers.items()}
    out["renderer"] = {k: l.renderer().type() for k, l in layers.items() if l.isSpatial()}
    b = layers["boundaries"]
    out["alias"] = b.attributeAlias(b.fields().indexOf("district"))
    # the boundaries alone, 200 x 200 px over district A (core): 116.30..116.32, 39.90..39.92
    settings = QgsMapSettings()
    settings.setLayers([b])
    settings.setDestinationCrs(b.crs())
    settings.setExtent(QgsRectangle(116.30, 39.90, 116.32, 39.92))
    settings.setOutputSize(QSize(200, 200))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    img = job.renderedImage()
    c = QColor(img.pixel(100, 100))
    out["pixel"] = [c.red(), c.green(), c.blue()]
    layout = project.layoutManager().layouts()[0]
    exporter = QgsLayoutExporter(layout)
    s = QgsLayoutExporter.ImageExportSettings()
    s.dpi = 50
    out["export"] = int(exporter.exportToImage(sys.argv[2], s))
    print("RESULT" + json.dumps(out))
    """
)


def _qgis_available() -> bool:
    if not Path(QGIS_PYTHON).exists():
        return False
    run = subprocess.run(
        [QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True, check=False, timeout=120
    )
    return run.returncode == 0


@pytest.mark.slow
def test_qgis_loads_the_project_and_renders_it_styled(gpkg, tmp_path):
    if not _qgis_available():
        pytest.skip("Debian's python3-qgis is not installed (apt-get install python3-qgis)")
    qgz, _ = _project(gpkg)
    png = tmp_path / "layout.png"
    run = subprocess.run(
        [QGIS_PYTHON, "-c", _QGIS_SCRIPT, str(qgz), str(png)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    line = next((x for x in run.stdout.splitlines() if x.startswith("RESULT")), None)
    assert line is not None, run.stderr[-2000:]
    out = json.loads(line[len("RESULT") :])
    assert out["read"] and all(out["valid"].values()), out
    assert out["renderer"]["boundaries"] == "categorizedSymbol"
    assert out["renderer"]["hexes"] == "RuleRenderer"
    assert out["alias"] == "区县"
    # the core zone's colour at 0.3 opacity over white, worked out by hand
    core = [int(ZONES["core"][i : i + 2], 16) for i in (1, 3, 5)]
    a = 77 / 255
    expected = [round(255 * (1 - a) + v * a) for v in core]
    assert all(abs(a - e) <= 4 for a, e in zip(out["pixel"], expected, strict=True)), (
        out["pixel"],
        expected,
    )
    assert out["export"] == 0 and png.stat().st_size > 10_000  # QgsLayoutExporter.Success


# ------------------------------------------------------------------- a real bundle


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory) -> Path:
    import geoapp
    from geoapp.sources.demo import demo_region

    region = demo_region()
    result = geoapp.analyse(region, "elderly_care")
    out = tmp_path_factory.mktemp("demo") / "b"
    geoapp.write_bundle(result, region, out, html_map=False, lang="zh")
    return out


@pytest.mark.slow
def test_demo_bundle_has_styles_and_a_project_listed_in_its_manifest(demo_bundle):
    meta = json.loads((demo_bundle / "metadata.json").read_text(encoding="utf-8"))
    assert {"bundle.gpkg", "bundle.qgz"} <= set(meta["files"])
    assert sorted(meta["files"]) == sorted(p.name for p in demo_bundle.iterdir())
    manifest = json.loads((demo_bundle / "manifest.json").read_text(encoding="utf-8"))
    assert "bundle.qgz" in json.dumps(manifest)
    gpkg = demo_bundle / "bundle.gpkg"
    styles = _styles(gpkg)
    con = sqlite3.connect(gpkg)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    finally:
        con.close()
    assert set(styles) == tables - {"layer_styles"}
    hexes = _qml(styles["hexes"][0]).find("renderer-v2")
    assert [r.get("label") for r in hexes.iter("rule")][0] == "0–5 分钟 · 300 米"
    if shutil.which("ogrinfo"):
        run = subprocess.run(
            ["ogrinfo", "-q", "-ro", str(gpkg)], capture_output=True, text=True, check=False
        )
        assert run.returncode == 0 and run.stderr == "", run.stderr
    with zipfile.ZipFile(demo_bundle / "bundle.qgz") as zf:
        root = ET.fromstring(zf.read("bundle.qgs").decode("utf-8").split("\n", 1)[1])
    for src in (d.text for d in root.iter("datasource")):
        assert src.startswith("./bundle.gpkg|layername=")
        assert src.split("=", 1)[1] in styles
