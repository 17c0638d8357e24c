"""The report's maps (legend, metric scale bar, north arrow, district labels, streets) and
the DOCX writer, on small hand-made frames: fast, no PDF."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation
from pyproj import Geod
from shapely.geometry import LineString, box

from geoapp import report_docx
from geoapp import report_figures as rf

# two districts side by side near Beijing, each 0.02° x 0.02° (about 1.7 km x 2.2 km)
WEST = box(116.30, 39.90, 116.32, 39.92)
EAST = box(116.32, 39.90, 116.34, 39.92)


@pytest.fixture
def frames():
    districts = gpd.GeoDataFrame(
        {"district": ["West", "East"], "district_zh": ["西区", "东区"],
         "zone_type": ["core", "new_town"]},
        geometry=[WEST, EAST], crs=4326,
    )  # fmt: skip
    streets = gpd.GeoDataFrame(
        {"u": [1, 2, 3], "v": [2, 3, 4]},
        geometry=[LineString([(116.301, 39.913), (116.339, 39.913)]),
                  LineString([(116.31, 39.901), (116.31, 39.919)]),
                  LineString([(116.33, 39.901), (116.33, 39.919)])],
        crs=4326,
    )  # fmt: skip
    facilities = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([116.305, 116.335], [39.91, 39.91]), crs=4326
    )
    gaps = gpd.GeoDataFrame(
        {"rank": [1], "district": ["East"]},
        geometry=[box(116.325, 39.912, 116.33, 39.917)],
        crs=4326,
    )
    return districts, streets, facilities, gaps


def _gid(fig, gid):
    return [a for a in fig.findobj() if getattr(a, "get_gid", lambda: None)() == gid]


def _metres(label: str) -> float:
    m = re.fullmatch(r"([\d,.]+) (m|km|米|公里)", label)
    assert m, label
    v = float(m.group(1).replace(",", ""))
    return v * 1000 if m.group(2) in ("km", "公里") else v


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_map_has_legend_scale_bar_north_arrow_labels_and_streets(frames, lang):
    districts, streets, facilities, gaps = frames
    fig = rf.region_map(districts, gaps=gaps, facilities=facilities, streets=streets, lang=lang)
    (ax,) = fig.axes

    # legend: the zone types, the facilities, the gaps and the streets, in the language
    legend = ax.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    if lang == "en":
        assert "Urban core" in labels and "New towns" in labels
        assert "Facilities" in labels and "Streets (walking network)" in labels
    else:
        assert "设施" in labels and "街道（步行网络）" in labels
        assert "中心城区" in labels and "新城" in labels
    assert len(labels) == 5  # 2 zone types + streets + gaps + facilities

    # the map is in metres: the two facilities lie as far apart on the map as on the earth
    xy = np.vstack([c.get_offsets() for c in ax.collections if len(c.get_offsets()) == 2])
    on_map = float(np.hypot(*(xy[1] - xy[0])))
    _, _, on_earth = Geod(ellps="WGS84").inv(116.305, 39.91, 116.335, 39.91)
    assert on_map == pytest.approx(on_earth, rel=0.002)

    # scale bar: a bar whose width (map metres) is what its label says, about a quarter
    # of the map's width or less, with a round value
    (bar,) = _gid(fig, rf.SCALE_BAR)
    (label,) = _gid(fig, rf.SCALE_LABEL)
    assert isinstance(bar, Rectangle)
    length = _metres(label.get_text())
    assert bar.get_width() == pytest.approx(length)
    span = ax.get_xlim()[1] - ax.get_xlim()[0]
    assert span / 10 <= length <= span / 4
    assert length / 10 ** np.floor(np.log10(length)) in (1.0, 2.0, 5.0)
    if lang == "zh":
        assert label.get_text().endswith(("米", "公里"))

    # north arrow: "N" with an arrow pointing up
    (arrow,) = _gid(fig, rf.NORTH_ARROW)
    assert isinstance(arrow, Annotation) and arrow.get_text() == "N"
    assert arrow.xy[1] > arrow.xyann[1] and arrow.xy[0] == arrow.xyann[0]
    assert arrow.arrow_patch is not None

    # district labels: each district's name (Chinese in zh) inside its own district
    texts = _gid(fig, rf.DISTRICT_LABEL)
    names = {"en": ["West", "East"], "zh": ["西区", "东区"]}[lang]
    assert sorted(t.get_text() for t in texts) == sorted(names)
    west = next(t for t in texts if t.get_text() == names[0])
    east = next(t for t in texts if t.get_text() == names[1])
    assert west.get_position()[0] < east.get_position()[0]

    # the streets: one thin grey line per edge
    (coll,) = _gid(fig, rf.STREETS)
    assert isinstance(coll, LineCollection) and len(coll.get_segments()) == 3
    assert coll.get_linewidths()[0] < 0.5


def test_atlas_page_opens_on_its_district(frames):
    districts, streets, facilities, gaps = frames
    fig = rf.region_map(districts, gaps=gaps, facilities=facilities, streets=streets,
                        focus="East")  # fmt: skip
    (ax,) = fig.axes
    width = Geod(ellps="WGS84").inv(116.32, 39.91, 116.34, 39.91)[2]  # East: ~1.7 km
    span = ax.get_xlim()[1] - ax.get_xlim()[0]
    assert width < span < 1.5 * width
    assert ax.get_legend() is not None and _gid(fig, rf.SCALE_BAR) and _gid(fig, rf.NORTH_ARROW)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "This district" in labels


def test_empty_map_still_has_its_furniture():
    empty = gpd.GeoDataFrame({"district": []}, geometry=[], crs=4326)
    fig = rf.region_map(empty)
    assert fig.axes[0].get_legend() is not None
    assert _gid(fig, rf.SCALE_BAR) and _gid(fig, rf.NORTH_ARROW)


@pytest.mark.parametrize(
    ("span", "length", "en", "zh"),
    [(10_000, 2000.0, "2 km", "2 公里"), (3_000, 500.0, "500 m", "500 米"),
     (900, 200.0, "200 m", "200 米"), (45_000, 10_000.0, "10 km", "10 公里")],
)  # fmt: skip
def test_scale_lengths_are_round(span, length, en, zh):
    assert rf.nice_length(span) == length
    assert rf.scale_label(length, "en") == en and rf.scale_label(length, "zh") == zh


def test_docx_holds_the_headings_paragraphs_tables_and_pictures(tmp_path, frames):
    import base64

    import docx

    png = rf.figure_png(rf.region_map(frames[0]))

    page = (
        '<section class="newpage"><h1>Title &amp; more</h1><p class="sub">Sub</p></section>'
        "<h2>1 Area</h2><table><thead><tr><th>A</th><th>B</th></tr></thead>"
        "<tbody><tr><td>1</td><td>x &lt; y</td></tr><tr><td>2</td></tr></tbody></table>"
        "<h3>Chart</h3><figure data-png='zones'><svg><text>not text</text></svg>"
        "<figcaption>cap</figcaption></figure>"
        f'<figure><img src="data:image/png;base64,{base64.b64encode(png).decode()}"/></figure>'
        "<ul><li>one</li><li>two</li></ul><style>h1 {}</style>"
    )
    out = report_docx.write_docx(page, tmp_path / "r.docx", images={"zones": png})
    d = docx.Document(str(out))
    heads = [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith(("Title", "Head"))]  # fmt: skip
    assert heads == [("Title", "Title & more"), ("Heading 1", "1 Area"), ("Heading 2", "Chart")]
    texts = [p.text for p in d.paragraphs]
    assert "Sub" in texts and "cap" in texts and "one" in texts and "two" in texts
    assert not any("not text" in x or "h1 {}" in x for x in texts)
    (table,) = d.tables
    assert [[c.text for c in r.cells] for r in table.rows] == [
        ["A", "B"],
        ["1", "x < y"],
        ["2", ""],
    ]
    assert len(d.inline_shapes) == 2  # the SVG chart's PNG and the map
    # a page break after the cover
    assert any('w:type="page"' in p._p.xml for p in d.paragraphs)
