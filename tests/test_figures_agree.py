"""One figure reads the same in every output: summary.csv, the report (HTML, DOCX) and the
heritage summary the app's tables show.

A small extract near Wudaokou, Haidian (tests/osm_extract_builder.py): streets 100 m
apart over 700 x 700 m and two districts split at its middle, the western one reaching
far west of the data. Heritage, worked out by hand: a national tower (heritage=2) in the
west, a provincial temple (heritage=4) in the east, a memorial in the west and a statue
in the east: 2 designated sites (one a national one), 2 memorials or statues apart; in
each district 1 and 1.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from fixtures import GRID_DX as DX
from fixtures import GRID_X0 as X0
from fixtures import GRID_Y0 as Y0
from fixtures import flats_grid, grid_at
from shapely.geometry import box

from geoapp import cli, workflow
from geoapp.report_docx import write_docx

N = 8  # the flats grid: 8 x 8 crossings 100 m apart, flats in every block
at = grid_at


def _extract(path: Path) -> Path:
    return flats_grid(
        path,
        {
            90_001: (*at(1.5, 1.5), {"historic": "monument", "heritage": "2", "name": "塔"}),
            90_002: (*at(5.5, 5.5), {"historic": "temple", "heritage": "4", "name": "寺"}),
            90_003: (*at(1.5, 5.5), {"historic": "memorial", "name": "纪念碑"}),
            90_004: (*at(5.5, 1.5), {"historic": "memorial", "memorial": "statue",
                                     "name": "雕像"}),
        },
        n=N,
    )  # fmt: skip


def _districts(path: Path) -> Path:
    west = box(X0 - 0.05, Y0 - 0.05, X0 + 3.5 * DX, Y0 + 0.05)  # mostly outside the data
    east = box(X0 + 3.5 * DX, Y0 - 0.05, X0 + 0.05, Y0 + 0.05)
    gpd.GeoDataFrame(
        {"district": ["西区", "东区"], "district_code": ["1", "2"], "zone_type": "core"},
        geometry=[west, east],
        crs=4326,
    ).to_file(path, driver="GeoJSON")
    return path


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("figures")
    osm, bnd = _extract(base / "x.osm.pbf"), _districts(base / "districts.geojson")
    out = base / "reports" / "zh"  # a folder below: report.json records ../x.osm.pbf
    argv = ["report", "--osm", str(osm), "--boundaries", str(bnd), "--layer", "heritage",
            "--layer", "elderly_care", "--mode", "euclidean", "--lang", "zh", "--no-pdf",
            "--out", str(out), "-q"]  # fmt: skip
    assert cli.main(argv) == 0
    html_text = unescape((out / "report.html").read_text(encoding="utf-8"))
    summary = pd.read_csv(out / "bundles" / "heritage" / "summary.csv")
    region = workflow.load_region(osm=osm, boundaries=bnd)
    her = workflow.heritage(region).summary  # the app's Heritage and Overview tables
    return {"html": html_text, "summary": summary, "heritage": her, "out": out, "base": base}


def _table_with(html_text: str, header: str) -> list[list[str]]:
    for table in re.findall(r"<table.*?</table>", html_text, re.S):
        rows = [
            [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>.*?</t[hd]>", r, re.S)]
            for r in re.findall(r"<tr.*?</tr>", table, re.S)
        ]  # fmt: skip
        if rows and header in rows[0]:
            return rows
    raise AssertionError(f"no table headed {header!r}")


def _row(frame: pd.DataFrame, level: str, group: str | None = None) -> pd.Series:
    rows = frame[frame["level"] == level]
    if group is not None:
        rows = rows[rows["group"] == group]
    (i,) = rows.index
    return rows.loc[i]


def test_designated_sites_agree_in_summary_csv_heritage_summary_and_report(outputs):
    s, h = outputs["summary"], outputs["heritage"]
    # by hand: 2 designated (1 national), 2 apart; one and one in each district
    assert _row(s, "region")[["n_designated", "n_undesignated", "n_facilities"]].tolist() == [
        2,
        2,
        2,
    ]
    assert _row(h, "region")[["n_sites", "n_designated", "n_undesignated"]].tolist() == [2, 2, 2]
    for d in ("西区", "东区"):
        assert _row(s, "district", d)["n_designated"] == _row(h, "district", d)["n_sites"] == 1
        assert _row(s, "district", d)["n_undesignated"] == _row(h, "district", d)["n_undesignated"]
    # the report says the designated count where it says "sites", the others apart
    html_text = outputs["html"]
    assert "2 处文物保护单位（计入遗产覆盖评估）；另有 2 处纪念物" in html_text
    rows = _table_with(html_text, "文物保护单位（其中全国重点）")
    head, region = rows[0], rows[-1]
    assert region[head.index("文物保护单位（其中全国重点）")] == "2 (1)"
    assert region[head.index("纪念物、雕像、未定级（不参与评估）")] == "2"
    # no site lies in a protected zone here
    assert region[head.index("位于保护区内的文物保护单位")] == "0"


def test_the_report_docx_says_the_same_figures(outputs, tmp_path):
    import docx

    path = write_docx(outputs["html"], tmp_path / "report.docx", lang="zh")
    doc = docx.Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "2 处文物保护单位（计入遗产覆盖评估）；另有 2 处纪念物" in text
    cells = [
        [c.text for c in r.cells] for t in doc.tables for r in t.rows
    ]  # the heritage table's region row, as the HTML's
    head = next(r for r in cells if "文物保护单位（其中全国重点）" in r)
    region = [r for r in cells if len(r) == len(head) and r[0] == "全域"][-1]
    assert region[head.index("文物保护单位（其中全国重点）")] == "2 (1)"
    assert region[head.index("纪念物、雕像、未定级（不参与评估）")] == "2"


def test_land_area_is_the_covered_part_everywhere(outputs):
    s, h = outputs["summary"], outputs["heritage"]
    # the west district's land inside the data: 3.5 blocks x 7 blocks of 99.8 x 100.1 m
    west = _row(s, "district", "西区")["area_km2"]
    assert west == pytest.approx(3.5 * 99.8 * 7 * 100.1 / 1e6, rel=0.02)
    for d in ("西区", "东区"):
        assert _row(h, "district", d)["land_area_km2"] == pytest.approx(
            _row(s, "district", d)["area_km2"], abs=5e-4
        )  # summary.csv holds km² to 3 decimals
    area = _row(s, "region")["area_km2"]
    assert _row(h, "region")["land_area_km2"] == pytest.approx(area, abs=5e-4)
    # before: the whole districts, 0.1 x 0.1 degrees (about 94 km²)
    assert _row(h, "region")["land_area_km2"] < 1.0
    # and the report's study area says the same, to one decimal
    rows = _table_with(outputs["html"], "区域")  # the key-value table of section 1
    kv = {r[0]: r[1] for r in rows if len(r) == 2}
    assert kv["面积（平方公里）"] == f"{area:.1f}"


def test_limitations_name_rules_in_words(outputs):
    html_text = outputs["html"]
    lim = html_text[html_text.index("局限性</h2>") :]
    lim = lim[: lim.index("</ul>")]
    assert "elderly_care_15min_share" not in lim  # never a rule's id
    assert "规则“15分钟生活圈内可达养老服务的60岁及以上居民比例”使用的数值未能与其来源核实" in lim


def test_input_files_read_plainly_and_no_machine_folder(outputs):
    rec = (outputs["out"] / "report.json").read_text(encoding="utf-8")
    assert str(outputs["base"]) not in rec and str(outputs["base"]) not in outputs["html"]
    # recorded from the folder holding the report folder, where the command is run
    assert json.loads(rec)["params"]["region"]["osm"] == "../x.osm.pbf"
    # Appendix A names the file; Appendix B keeps the recorded path and says where from
    rows = _table_with(outputs["html"], "日期")
    osm = next(r for r in rows if r[0] == "OSM数据")
    assert osm[1] == "x.osm.pbf"
    assert "路径均相对于存放报告文件夹的上级文件夹" in outputs["html"]
    repro = _table_with(outputs["html"], "SHA-256")
    assert next(r for r in repro if r[0] == "OSM数据")[1] == "../x.osm.pbf"
