"""Heritage sites counted twice, and the words around them (issue 25, real-data check).

Found on the real 东城区 list and real Beijing extracts: a place tagged only
``historic=yes`` that the imported list holds was still named as "left out ... import it
in an official list"; one list holding a site twice (a classed point row and an
unclassed outline of the same name) counted it twice, once as an undesignated
"historic" site; the report called the sites inside a protection zone "Protected sites"
next to the designated sites; and its capacity section asked for a table to be imported
when the imported one lay outside the data. Small extracts are built with osmium
(``fixtures.flats_grid``) near Wudaokou, Haidian; answers are worked out by hand.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from fixtures import flats_grid, grid_at, to_gcj02
from shapely.geometry import Point, box

from geoapp import cli, workflow
from geoapp.catalog import load_catalog
from geoapp.crs import local_crs, wgs84_to_gcj02
from geoapp.heritage import heritage_report
from geoapp.inputs import add_facility_tables
from geoapp.layers import select_features
from geoapp.sources.facilities_table import merge_outlines, read_facility_table
from geoapp.sources.osm_file import read_osm_file

HERITAGE = load_catalog()["heritage"]


def write_list(path: Path, rows: list[tuple[str, str, object]]) -> Path:
    """A GCJ-02 list: 名称,级别,经度,纬度,wkt; a point gives lon/lat, an outline its wkt."""
    lines = ["名称,级别,经度,纬度,wkt"]
    for name, cls, geom in rows:
        g = to_gcj02(geom)
        if g.geom_type == "Point":
            lines.append(f"{name},{cls},{g.x!r},{g.y!r},")
        else:
            lines.append(f'{name},{cls},,,"{g.wkt}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------- 1: a listed place tagged only historic=yes


def test_listed_place_name_is_merged_and_not_named_as_left_out(tmp_path):
    """娘娘庙 is mapped as a place with historic=yes and listed: counted once, not 'left out'."""
    region = read_osm_file(
        flats_grid(
            tmp_path / "x.osm.pbf",
            {
                70_001: (*grid_at(2.5, 2.5), {"place": "neighbourhood", "historic": "yes",
                                         "name": "娘娘庙"}),
                70_002: (*grid_at(4.5, 1.5), {"place": "village", "historic": "yes",
                                         "name": "二里庄"}),
            },
        )
    )  # fmt: skip
    path = write_list(tmp_path / "list.csv", [("娘娘庙", "区级", Point(*grid_at(2.5, 2.5)))])
    merged = add_facility_tables(region, [(path, "heritage", "gcj02")])
    assert "node/70001" not in set(merged.features["osm_id"])  # the list's row wins
    assert "node/70002" in set(merged.features["osm_id"])
    (note,) = [w for w in merged.meta["warnings"] if "also in this list" in w]
    assert note.startswith("list.csv: 1 Heritage feature mapped in the data is also")
    result = workflow.analyse(merged, "heritage", mode="euclidean")
    assert list(result.facilities["facility_id"]) == ["table/2"]
    assert list(result.facilities["heritage_class"]) == ["local"]
    (left_out,) = [w for w in result.warnings if "historic=yes" in w]
    assert left_out.startswith("Heritage: 1 place tagged only historic=yes")
    assert "node/70002 (二里庄)" in left_out and "娘娘庙" not in left_out


# ------------------------------------------------- 2: one list holding a site twice


def test_point_and_outline_of_one_site_become_the_outline_with_the_class(tmp_path):
    """Inside, 150 m and 249 m from its outline; one point, two outlines of its name."""
    jsd = box(*grid_at(1.5, 1.5), *grid_at(2.5, 2.5))  # 社稷坛, its point inside
    szs = box(*grid_at(4, 4), *grid_at(6, 5))  # 嵩祝寺, its point 1.5 x 100.1 = 150 m south
    hsm = box(*grid_at(3.5, 6), *grid_at(4.5, 7))  # 火神庙, its point 2.5 x 99.8 = 249 m west
    shj_a = box(*grid_at(6.2, 0.2), *grid_at(6.8, 0.8))  # 四合院: the point inside A
    shj_b = box(*grid_at(6.9, 0.2), *grid_at(7.3, 0.8))  # and 0.4 x 99.8 = 40 m from B
    path = write_list(
        tmp_path / "areas.csv",
        [
            ("社稷坛", "全国重点文物保护单位", Point(*grid_at(2, 2))),
            ("嵩祝寺", "市级文物保护单位", Point(*grid_at(5, 2.5))),
            ("火神庙", "市级文物保护单位", Point(*grid_at(1, 6.5))),
            ("可园", "全国重点文物保护单位", Point(*grid_at(0.5, 4))),
            ("四合院", "区级文物保护单位", Point(*grid_at(6.5, 0.5))),
            ("社稷坛", "", jsd),
            ("嵩祝寺", "", szs),
            ("火神庙", "", hsm),
            ("四合院", "", shj_a),
            ("四合院", "", shj_b),
        ],
    )
    table = read_facility_table(path, coords="gcj02", layer="heritage").frame
    before = table.copy()
    out, k, note = merge_outlines(table, source="areas.csv")
    assert table.equals(before)  # pure
    assert k == 3 and len(out) == 7
    assert note.startswith("areas.csv: 3 sites are listed twice")
    assert "table/2 (社稷坛)" in note and "table/3 (嵩祝寺)" in note and "table/6 (四合院)" in note
    # the point rows stay (their ids and classes) with the outlines' shapes
    got = out.set_index("osm_id")
    for pid, oid in (("table/2", "table/7"), ("table/3", "table/8"), ("table/6", "table/10")):
        assert got.loc[pid, "geometry"].equals(table.set_index("osm_id").loc[oid, "geometry"])
    assert sorted(set(table["osm_id"]) - set(out["osm_id"])) == ["table/10", "table/7", "table/8"]
    assert got.loc["table/4"].geometry.geom_type == "Point"  # 火神庙: 249 m, two sites
    assert got.loc["table/11"].geometry.geom_type == "Polygon"  # the farther 四合院 outline
    fac = select_features(out, HERITAGE).set_index("facility_id")
    assert fac["heritage_class"].to_dict() == {
        "table/2": "national",
        "table/3": "provincial",
        "table/4": "provincial",
        "table/5": "national",
        "table/6": "local",
        "table/9": "historic",
        "table/11": "historic",
    }
    r = heritage_report(fac.reset_index(), None).summary.set_index("level").loc["region"]
    assert (r["n_designated"], r["n_undesignated"]) == (5, 2)  # 5 and 5 before the merge


def test_listed_twice_site_is_measured_from_its_outline(tmp_path):
    """社稷坛 listed as a point (national) and an outline: one designated site, the outline."""
    region = read_osm_file(flats_grid(tmp_path / "x.osm.pbf", {}))
    outline = box(*grid_at(0.0, 0.0), *grid_at(2.0, 2.0))  # the south-west 200 x 200 m
    listed = Point(*grid_at(0.1, 0.1))  # the point row: in the outline's south-west corner
    path = write_list(
        tmp_path / "list.csv",
        [("社稷坛", "全国重点文物保护单位", listed), ("社稷坛", "", outline)],
    )
    merged = add_facility_tables(region, [(path, "heritage", "gcj02")])
    assert merged.meta["facility_tables"][-1]["merged_in_list"] == 1
    assert any(w.startswith("list.csv: 1 site is listed twice") for w in merged.meta["warnings"])
    result = workflow.analyse(merged, "heritage", mode="euclidean")
    fac = result.facilities
    assert list(fac["facility_id"]) == ["table/2"] and list(fac.geom_type) == ["Polygon"]
    r = result.summary.set_index("level").loc["region"]
    assert (r["n_national"], r["n_designated"], r["n_undesignated"]) == (1, 1, 0)
    # measured as any polygon (a point on its surface: the box's middle), not the listed point
    acc = result.access
    crs = local_crs(acc)
    middle = gpd.GeoSeries([Point(*grid_at(1.0, 1.0))], crs=4326).to_crs(crs).iloc[0]
    corner = gpd.GeoSeries([listed], crs=4326).to_crs(crs).iloc[0]
    pts = acc.geometry.to_crs(crs)
    near = acc["dist_m"].to_numpy() <= 1000  # the layer's search bound
    assert near.sum() > 10
    assert np.allclose(acc["dist_m"].to_numpy()[near], pts.distance(middle).to_numpy()[near],
                       atol=1.0)  # fmt: skip
    assert np.abs(acc["dist_m"].to_numpy()[near] - pts.distance(corner).to_numpy()[near]).max() > 50


# ------------------------------------------------- 3 and 4: the report's words


@pytest.fixture(scope="module")
def zh_report(tmp_path_factory):
    """A zh report: two designated sites outside any zone; an elderly-care list 5 km east."""
    base = tmp_path_factory.mktemp("twins_report")
    osm = flats_grid(base / "x.osm.pbf", {})
    sites = write_list(
        base / "sites.csv",
        [("大钟寺", "全国重点文物保护单位", Point(*grid_at(2.5, 2.5))),
         ("可园", "区级文物保护单位", Point(*grid_at(4.5, 4.5)))],
    )  # fmt: skip
    gx, gy = wgs84_to_gcj02(np.array([grid_at(57, 3)[0]]), np.array([grid_at(57, 3)[1]]))
    homes = base / "homes.csv"
    homes.write_text(f"name,beds,lon,lat\n某养老院,120,{float(gx[0])!r},{float(gy[0])!r}\n")
    out = base / "report"
    argv = ["report", "--osm", str(osm), "--layer", "heritage", "--layer", "elderly_care",
            "--facilities", f"{sites}:heritage:gcj02", "--facilities", f"{homes}:elderly_care:gcj02",
            "--mode", "euclidean", "--lang", "zh", "--no-pdf", "--out", str(out), "-q"]  # fmt: skip
    assert cli.main(argv) == 0
    return unescape((out / "report.html").read_text(encoding="utf-8"))


def _table_with(html_text: str, header: str) -> list[list[str]]:
    """Rows (header first) of the table whose header row holds ``header``."""
    for table in re.findall(r"<table.*?</table>", html_text, re.S):
        rows = [
            [
                re.sub(r"<[^>]+>", "", c).strip()
                for c in re.findall(r"<t[hd][^>]*>.*?</t[hd]>", r, re.S)
            ]
            for r in re.findall(r"<tr.*?</tr>", table, re.S)
        ]
        if rows and header in rows[0]:
            return rows
    raise AssertionError(f"no table headed {header!r}")


def test_report_says_inside_a_protection_zone_not_protected(zh_report):
    rows = _table_with(zh_report, "位于保护区内的文物保护单位")
    head = rows[0]
    region = rows[-1]  # the region row is last
    # both sites designated: counted as designated, none apart (as summary.csv)
    assert region[head.index("纪念物、雕像、未定级（不参与评估）")] == "0"
    assert region[head.index("位于保护区内的文物保护单位")] == "0"  # no protection zone here
    assert region[head.index("文物保护单位（其中全国重点）")] == "2 (1)"
    assert "受保护遗产点" not in zh_report


def test_capacity_section_says_the_imported_rows_lie_outside(zh_report):
    assert "导入的设施表（homes.csv）没有留下数据范围内的设施" in zh_report
    assert "请导入含容量列的设施表" not in zh_report
