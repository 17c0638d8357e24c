"""The run's warnings said in Chinese, for the 中文 app and the Chinese report.

The library words its warnings in English (the command line's, ``metadata.json``'s);
the app and ``geoapp report --lang zh`` show them in the reader's language through
:func:`in_language`. Each known warning is matched by its shape (:data:`PATTERNS`) and
re-worded with its names and numbers; a group made by
:func:`geoapp.messages.group_warnings` keeps its count and examples. A warning of no
known shape is returned as it is (the report then points to the English report).
"""

from __future__ import annotations

import re

__all__ = ["PATTERNS", "REASONS", "in_language", "is_translated", "reason_in_language"]

_NUM = r"[\d,]+(?:\.\d+)?"
_WHAT = {"census total": "普查人口", "population tag": "人口标签"}
_WORD = {"below": "低于", "above": "高于"}
_WHICH = {"residential": "居住", "walkable": "可步行"}
_KIND = {
    "city": "城市",
    "town": "镇",
    "village": "村",
    "hamlet": "小村",
    "suburb": "城区",
    "quarter": "片区",
    "neighbourhood": "社区",
    "municipality": "市镇",
}

#: (English shape, Chinese wording); the wording's fields are the shape's groups.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(en, re.S), zh)
    for en, zh in (
        (
            rf"^District '(?P<name>[^']+)' is only partly covered by the data \((?P<share>[^)]+?)"
            rf" of its area\): its (?P<what>census total|population tag) (?P<total>{_NUM}) was "
            rf"not applied whole; it holds (?P<placed>{_NUM}) residents"
            rf"(?: \(complete areas inside it hold (?P<held>{_NUM}) of them\))?.*?"
            rf"(?:; the buildings in the data give (?P<est>{_NUM})"
            r"(?: \((?P<times>[\d.]+×) (?P<ratio>more|fewer): [^)]*\))?)?\.$",
            "{name}仅部分位于数据范围内（占其面积的 {share}）：其{what} {total} 未整体计入；按"
            "数据覆盖的面积比例计为 {placed} 人{held}（假定居民在区内均匀分布）{est}。",
        ),
        (
            rf"^District '(?P<name>[^']+)': the complete areas inside it tag (?P<held>{_NUM}) "
            rf"residents, its (?P<what>census total|population tag) (?P<total>{_NUM}):.*$",
            "{name}：其内部完整区域标注 {held} 人，其{what}为 {total}：全部居民已按{what}缩放。",
        ),
        (
            rf"^District '(?P<name>[^']+)': population tag (?P<tag>{_NUM}), estimate "
            rf"(?P<est>{_NUM}) from the data \((?P<times>\S+) (?P<word>below|above) the tag\); "
            r"likely cause: .*$",
            "{name}：人口标签 {tag}，数据估算 {est}（{word}标签 {times}）；已按标签缩放。",
        ),
        (
            rf"^(?P<pop>{_NUM}) residents \((?P<n>{_NUM}) demand points\) lie outside every "
            r"district;.*$",
            "{pop} 名居民（{n} 个需求点）位于所有区界之外：计为“区外”（分区类型未知），"
            "计入全区总数。",
        ),
        (
            r"^The (?P<what>census total|population tag) of these districts could not be "
            r"placed \([^)]*\): (?P<names>.+)\.$",
            "以下各区的{what}无法分配（区内没有住宅建筑或居住用地）：{names}。",
        ),
        (
            rf"^(?P<n>{_NUM}) census districts? (?:lies|lie) outside the data and (?:was|were) "
            r"left out \([^)]*\): (?P<names>.+)\.$",
            "{n} 个普查区位于数据范围之外，未计入（其面积均不在数据范围内）：{names}。",
        ),
        (
            rf"^Place '(?P<name>[^']+)' \((?P<kind>[^,]+), (?P<id>[^)]+)\): population tag "
            rf"(?P<tag>{_NUM}), estimate (?P<est>{_NUM}) residents .*?\((?P<times>\S+) "
            r"(?P<word>below|above) the tag\); likely cause: .*$",
            "地点“{name}”（{kind}，{id}）：人口标签 {tag}，估算 {est} 人（{word}标签 {times}）。",
        ),
        (
            r"^No settlement in the extract reaches the Degree-of-Urbanisation minimum totals "
            rf"\(urban centre (?P<cpop>{_NUM}) residents at (?P<cden>{_NUM})/km², urban cluster "
            rf"(?P<kpop>{_NUM}) at (?P<kden>{_NUM})/km²\)\. Zones are relative to this extract: "
            rf"the largest group of (?P<cell>{_NUM}) m cells at {_NUM}\+ residents/km² "
            rf"\((?P<core>{_NUM}) residents\) is the core; (?P<groups>.+?); the rest is rural\.$",
            "数据中没有聚落达到城市度（Degree of Urbanisation）的最低人口（城市中心 {cpop} 人、"
            "每平方公里 {cden} 人；城市集群 {kpop} 人、每平方公里 {kden} 人）。分区仅相对于本数据"
            "范围：每平方公里 {kden} 人以上的 {cell} 米网格中最大的一组（{core} 人）为中心城区；"
            "{groups}；其余为乡村。",
        ),
        (
            rf"^No (?P<cell>{_NUM}) m cell of the extract reaches (?P<den>{_NUM}) residents/km²: "
            r"every resident is rural.*$",
            "数据中没有一个 {cell} 米网格达到每平方公里 {den} 人：全部居民计为乡村，"
            "分区比较只有一种分区类型。",
        ),
        (
            rf"^Layer '(?P<layer>[^']+)': (?P<n>{_NUM}) demand points(?: \(e\.g\. (?P<eg>[^)]+)\))?"
            rf" holding (?P<pop>{_NUM}) residents \((?P<share>[^ ]+) of all\) have as nearest "
            rf"street a fragment of under (?P<m>{_NUM}) m of walkable way connected to no other "
            r"street.*$",
            "图层“{layer}”：{n} 个需求点（{pop} 名居民，占全部的 {share}{eg}）最近的街道是一段"
            "不足 {m} 米、与其他街道都不相连的步行路段（院内小路、被排除或未绘制的道路截断的"
            "断头路）：计为路网缺口（数据质量问题），而非服务缺口。请检查该处步行路网，或补绘"
            "缺失的连接。",
        ),
        (
            r"^No (?P<layer>.+?) facilities were found in the data for (?P<region>.+?)"
            r"(?P<apart> \(no officially protected site[^()]*(?:\([^()]*\)[^()]*)*\))?; coverage "
            r"cannot be assessed\. The table imported for this layer, (?P<files>.+), left none "
            r"inside the extract: see the warnings about its rows above\.$",
            "{region}的数据中没有找到{layer}设施{apart}，无法评估覆盖率。为该图层导入的设施表"
            "{files}在数据范围内一行也没有保留：见上文关于其各行的提示。",
        ),
        (
            r"^No (?P<layer>.+?) facilities were found in the data for (?P<region>.+?)"
            r"(?P<apart> \(no officially protected site[^()]*(?:\([^()]*\)[^()]*)*\))?; coverage "
            r"cannot be assessed\. Import (?P<imp>the official list|a facility table).*$",
            "{region}的数据中没有找到{layer}设施{apart}，无法评估覆盖率。{imp}",
        ),
        (
            rf"^(?P<layer>[^:]+): the data holds (?P<n>{_NUM}) officially protected \(designated\)"
            rf" sites? among (?P<total>{_NUM}) heritage features \((?P<hist>{_NUM}) historic, "
            rf"(?P<minor>{_NUM}) minor\); protected sites are often mapped without heritage or "
            r"protection_title tags, so heritage access is uncertain here\. (?P<how>A list was "
            r"imported|Import the official list).*$",
            "{layer}：数据中只有 {n} 处文物保护单位（已定级），共 {total} 处遗产要素（{hist} 处"
            "历史遗存，{minor} 处纪念物或雕像）；文物保护单位常未标注 heritage 或 protection_title"
            "标签，此处遗产可达性不确定。{how}",
        ),
        (
            rf"^(?P<layer>[^:]+): (?P<n>{_NUM}) sites have the class 市级 \(city level\), read as "
            r"provincial.*$",
            "{layer}：{n} 处的级别为“市级”，按省级（北京、上海、天津、重庆的市级）计；若为地级市"
            "名录，请在级别列写明城市名（如 杭州市级）或 local。",
        ),
        (
            rf"^(?P<layer>[^:]+): (?P<n>{_NUM}) places? tagged only historic=yes \(names of former "
            r"villages or areas, not heritage sites\) left out: (?P<items>.+?)"
            rf"(?: and (?P<more>{_NUM}) more)?\. Tag a protected one with heritage=\* or import "
            r"it in an official list to count it\.$",
            "{layer}：{n} 个仅标注 historic=yes 的地名（旧村名或片区名，并非遗产地）未计入："
            "{items}{more}。若其中有文物保护单位，请为其标注 heritage=*，或将其列入导入的"
            "官方名录。",
        ),
        (
            rf"^(?P<file>[^:]+): (?P<k>{_NUM}) of (?P<n>{_NUM}) rows lie (?P<span>.+?) outside "
            r"the extract's data and were left out \((?P<items>.+?)"
            rf"(?: and (?P<more>{_NUM}) more)?\)\. Check the coordinate system declared "
            r"\((?P<coords>\w+);.*$",
            "{file}：{n} 行中有 {k} 行位于数据范围之外 {span}处，未计入（{items}{more}）。请检查"
            "所声明的坐标系（{coords}；gcj02 = 高德/腾讯，bd09 = 百度，wgs84 = GPS/OpenStreetMap），"
            "或使用覆盖这些位置的数据。",
        ),
        (
            rf"^(?P<file>[^:]+): (?P<n>{_NUM}) (?P<layer>.+?) features? mapped in the data "
            r"(?:is|are) also in this list \(same name, within 50 m or inside the mapped shape\) "
            r"and counted once, with the list's class and position\.$",
            "{file}：数据中已绘制的 {n} 处{layer}要素也在此名录中（同名，且相距 50 米以内或位于"
            "所绘形状内），只计一次，采用名录的级别和位置。",
        ),
        (
            rf"^(?P<file>[^:]+): (?P<n>{_NUM}) sites? (?:is|are) listed twice, as a point row and "
            rf"as an outline of the same name within (?P<m>{_NUM}) m, and counted once: the "
            r"outline's shape with the point row's class \((?P<items>.+)\)\.$",
            "{file}：{n} 处遗产点在名录中出现两次（点位行和同名轮廓，相距 {m} 米以内），只计一次："
            "采用轮廓的形状和点位行的级别（{items}）。",
        ),
        (
            rf"^(?P<file>[^:]+): (?P<n>{_NUM}) (?P<layer>.+?) features? mapped in the data "
            r"\((?P<ids>[^)]*)\) may be the same as rows of this list .*$",
            "{file}：数据中已绘制的 {n} 处{layer}要素（{ids}）可能与此表中的行是同一设施（同名，"
            "且相距 50 米以内或位于所绘形状内）：目前两者都计入；若为同一设施，请从表中删去"
            "这些行。",
        ),
        (
            rf"^profile '(?P<name>[^']+)' \((?P<chosen>[^)]+)\): (?P<m2>{_NUM}) m² floor area per "
            rf"person, (?P<ages>.+), (?P<dens>{_NUM}) residents/km² of unbuilt residential land "
            r"in a city$",
            "人口参数“{name}”（{chosen}）：人均住房建筑面积 {m2} 平方米，{ages}，城市中未建成"
            "居住用地每平方公里 {dens} 人",
        ),
        (
            rf"^(?P<n>{_NUM}) of (?P<total>{_NUM}) housing buildings have no levels; assumed "
            rf"(?P<lv>[\d.]+)(?: \((?P<vn>{_NUM}) in villages: (?P<vl>[\d.]+)\))?$",
            "{total} 栋住宅建筑中有 {n} 栋没有层数，按 {lv} 层计{vill}",
        ),
        (
            rf"^population scaled to census totals in (?P<n>{_NUM}) of (?P<total>{_NUM}) "
            rf"districts(?: \((?P<left>{_NUM}) lie outside the data\))?$",
            "{total} 个区中有 {n} 个的人口按普查总数缩放{left}",
        ),
        (
            rf"^(?P<n>{_NUM}) non-residential buildings hold no residents: (?P<parts>.+?)"
            rf"(?:; (?P<mixed>{_NUM}) mixed-use buildings \(shops or offices below\) keep their "
            r"upper floors)?$",
            "{n} 栋非居住建筑不计居民：{parts}{mixed}",
        ),
        (
            rf"^(?P<m>{_NUM}) mixed-use buildings \(shops or offices below\) keep their upper "
            r"floors$",
            "{m} 栋商住混合建筑（底层为商铺或办公）保留其上层的居民",
        ),
        (
            rf"^(?P<area>{_NUM} (?:km²|m²)) of residential landuse without mapped buildings "
            rf"\((?P<n>{_NUM}) polygons\)(?P<lrest>.*)$",
            "{area} 无已绘制建筑的居住用地（{n} 个多边形）{lrest}",
        ),
        (
            r"^coverage of census districts and admin areas measured on the box the OSM file "
            rf"declares \(its <bounds> or header bbox, (?P<a>{_NUM}) km² with data\), not on the "
            rf"(?P<b>{_NUM}) km² box of its streets, buildings and landuse.*$",
            "普查区与行政区的覆盖比例按 OSM 文件声明的范围框（其 <bounds> 或文件头 bbox，有数据"
            "部分 {a} 平方公里）计算，而非按其街道、建筑和用地所占的 {b} 平方公里范围框：导出的"
            "数据含有越出裁剪范围的完整道路",
        ),
        (
            r"^No housing buildings: demand estimated from residential landuse area.*$",
            "没有住宅建筑：需求按居住用地面积和居住密度估算。",
        ),
        (
            rf"^The extract has no residential evidence .*?: (?P<n>{_NUM}) untagged buildings "
            r"of (?P<range>\S+) m² were counted as housing\..*$",
            "数据中没有居住证据（没有住宅类建筑标签，也没有居住用地）：{n} 栋 {range} 平方米的未"
            "标注建筑被计为住宅。请提供人口普查表（--census）或人口栅格（--population）。",
        ),
        (
            rf"^(?P<n>{_NUM}) untagged buildings \((?P<km2>{_NUM}) km² of footprint\) show no "
            r"residential evidence .*$",
            "{n} 栋未标注建筑（占地 {km2} 平方公里）没有居住证据，未计为住宅；若其中多为住宅，"
            "该处人口偏低：请提供人口普查表（--census）或人口栅格（--population）。",
        ),
        (
            rf"^No share aged 60\+ is shipped for (?P<country>.+?) \((?P<code>\w+); (?P<n>{_NUM})"
            r" demand points\): the World share \((?P<share>[^,]+),.*$",
            "未提供{country}（{code}；{n} 个需求点）的60岁及以上人口比例：采用世界比例"
            "（{share}）；可用 --share-60plus 指定。",
        ),
        (
            rf"^(?P<n>{_NUM}) demand points lie in no country .*?World share aged 60\+ "
            r"\((?P<share>[^)]+)\).*$",
            "{n} 个需求点不在任何国家范围内：采用世界60岁及以上人口比例（{share}）；"
            "可用 --share-60plus 指定。",
        ),
        (
            rf"^The extract has (?P<km>{_NUM}) km of residential streets but only "
            rf"(?P<n>{_NUM}) housing buildings \((?P<per>{_NUM}) per km;[^)]*\): most homes are "
            rf"not mapped, so the (?P<total>{_NUM}) residents of the census sit on the few that "
            r"are.*$",
            "数据中有 {km} 公里居住街道，但只有 {n} 栋住宅建筑（每公里 {per} 栋；沿街住宅齐全时"
            "约 100 栋）：多数住宅未绘制，普查的 {total} 名居民集中在已绘制的少数住宅上，"
            "按居民计的距离在此较粗略。请提供人口栅格（--population FILE.tif，如 WorldPop 或 "
            "GHS-POP）以确定居民位置。",
        ),
        (
            rf"^The extract has (?P<km>{_NUM}) km of residential streets but only "
            rf"(?P<n>{_NUM}) housing buildings \((?P<per>{_NUM}) per km;[^)]*\): most homes are "
            rf"not mapped, so the (?P<total>{_NUM}) residents estimated are far too few.*$",
            "数据中有 {km} 公里居住街道，但只有 {n} 栋住宅建筑（每公里 {per} 栋；沿街住宅齐全时"
            "约 100 栋）：多数住宅未绘制，估算的 {total} 名居民明显偏少。请提供人口栅格"
            "（--population FILE.tif，如 WorldPop 或 GHS-POP）或分区人口普查表（--census）。",
        ),
        (
            r"^No housing buildings and no residential landuse in the data: the census .*?"
            rf"was spread along the (?P<km>{_NUM}) km of (?P<which>residential|walkable) "
            r"streets in proportion to their length\..*$",
            "数据中没有住宅建筑，也没有居住用地：普查人口（各区总数 × 其在数据范围内的比例）"
            "按长度比例分布在 {km} 公里{which}街道上。此处住宅位置未知，按居民计的距离较粗略："
            "请补绘住宅，或提供人口栅格（--population FILE.tif）。",
        ),
        (
            r"^The census table was ignored: there are no district boundaries\.$",
            "没有区界，人口普查表未被使用。",
        ),
        (
            r"^Census: (?P<rest>.+?)\.?$",
            "人口普查表：{rest}。",
        ),
        (
            rf"^Area (?P<label>.+?) tags population (?P<tag>{_NUM}) but holds no housing.*$",
            "区域 {label} 标注人口 {tag}，但数据中没有住宅建筑或居住用地：无法分配其居民。",
        ),
        (
            rf"^Area (?P<label>.+?) tags population (?P<tag>{_NUM}), but the finer areas inside "
            rf"it already hold (?P<held>{_NUM}):.*$",
            "区域 {label} 标注人口 {tag}，但其内部更细的区域已有 {held} 人：未采用该标签"
            "（标签不一致，可能有过时数据）。",
        ),
    )
)

_GROUP = re.compile(
    r"^(?P<first>.*) \((?P<n>\d+) warnings like this one, also: (?P<ex>.*)\)$", re.S
)
_CENSUS_PARTS = (
    ("census districts matching no boundary", "无对应区界的普查区县"),
    ("boundaries with no census row", "无普查数据的区界"),
)


_LAYER = {
    "Community services": "社区服务",
    "community_services": "社区服务",
    "Elderly care": "养老服务",
    "elderly_care": "养老服务",
    "Heritage": "历史文化遗产",
    "heritage": "历史文化遗产",
}
_HOW = {
    "A list was imported": "已为该图层导入名录：请查看关于其各行的提示，并检查名录是否覆盖本数据"
    "范围、坐标系是否正确。",
    "Import the official list": "请导入带级别列的文物保护单位官方名录："
    "--facilities 文件:heritage:坐标系。",
}
_IMPORT = {
    "the official list": "请用 --facilities 文件:heritage:坐标系 导入文物保护单位官方名录。",
    "a facility table": "请用 --facilities 文件:图层:坐标系 导入设施表。",
}
_RATIO = {"more": ("为普查数的 {x} 倍", "密"), "fewer": ("仅为普查数的 1/{x}", "稀")}


def _groups_zh(text: str) -> str:
    """Return the new towns of the fallback zoning (:mod:`geoapp.zones`' words) in Chinese."""
    m = re.fullmatch(r"no other group holds (\S+) of its residents, so there is no new town", text)
    if m:
        return f"没有其他组的人口达到其 {m[1]}，因此没有新城"
    m = re.fullmatch(r"(\d+) other groups? holding at least (\S+) of its residents .*", text)
    if m:
        return f"另有 {m[1]} 组的人口不少于其 {m[2]}，为新城"
    return text


def _apart_zh(text: str) -> str:
    """Return a heritage layer's ``(no officially protected site; N memorials ...)``."""
    m = re.search(r"; (\d+) memorials?", text)
    if m is None:
        return "（没有文物保护单位）"
    return f"（没有文物保护单位；另有 {m[1]} 处纪念物、雕像或未定级的历史遗存单独列出，不参与评估）"


def _est_zh(est: str, times: str, ratio: str) -> str:
    """Return the buildings' estimate of a partly covered district, with its ratio."""
    if not est:
        return ""
    why = ""
    if ratio in _RATIO:
        share, sparser = _RATIO[ratio]
        why = f"（{share.format(x=times.rstrip('×'))}：覆盖部分比全区平均更{sparser}，或人均建筑面积不符）"
    return f"；数据中的建筑估算为 {est} 人{why}"


_CHOSEN = {"from the region's location": "按区域位置选定", "given": "指定"}
_EXCLUDED = (
    ("by their building value", "按 building 值"),
    ("by their own tags", "按自身标签"),
    ("by a POI inside", "按其内的兴趣点"),
    ("in non-residential landuse", "位于非居住用地"),
)


def _ages_zh(text: str) -> str:
    """Return a demand profile's share aged 60+ (:func:`geoapp.demand.profile`) in Chinese."""
    m = re.fullmatch(r"(\S+) aged 60\+ where no census gives it", text)
    if m:
        return f"无普查数据处60岁及以上比例 {m[1]}"
    m = re.fullmatch(
        r"aged 60\+ where no census gives it: (.+?)(?: \(UN World Population.*\))?", text
    )
    if m:
        each = m[1].replace("China ", "中国 ").replace(", ", "，")
        return f"无普查数据处60岁及以上比例：{each}（联合国《世界人口展望2024》）"
    return text


def _landuse_zh(text: str) -> str:
    """Return how unbuilt residential landuse got its density (:mod:`geoapp.demand.landuse`)."""
    text = re.sub(r"^ × ([\d,]+) residents/km²$", r" × 每平方公里 \1 人", text)
    for en, zh in (
        (r"at the density of the homes mapped in it", "按其内已绘制住宅的密度"),
        (r"at that of the homes within ([\d,]+) m", r"按 \1 米内住宅的密度"),
        (r"at the city density", "按城市密度"),
        (r"at the town density", "按镇的密度"),
        (r"at the village density", "按村的密度"),
        (r"([\d,]+)/km²", r"每平方公里 \1 人"),
        (r" km²", " 平方公里"),
        (r" m²", " 平方米"),
        (r"; ", "；"),
        (r"^: ", "："),
    ):
        text = re.sub(en, zh, text)
    return text


def _fields(m: re.Match[str]) -> dict[str, str]:
    """Return the match's groups with the English words among them said in Chinese."""
    f = {k: (v or "") for k, v in m.groupdict().items()}
    for key, table in (("what", _WHAT), ("kind", _KIND), ("word", _WORD), ("which", _WHICH),
                       ("layer", _LAYER), ("how", _HOW), ("imp", _IMPORT)):  # fmt: skip
        if key in f:
            f[key] = table.get(f[key], f[key])
    for en, text in _CENSUS_PARTS:
        f["rest"] = f.get("rest", "").replace(en, text)
    f["held"] = f"（其中内部完整区域 {f['held']} 人）" if f.get("held") else ""
    f["est"] = _est_zh(f.get("est", ""), f.get("times", ""), f.get("ratio", ""))
    f["eg"] = f"；如 {f['eg']}" if f.get("eg") else ""
    f["groups"] = _groups_zh(f.get("groups", ""))
    f["apart"] = _apart_zh(f["apart"]) if f.get("apart") else ""
    f["more"] = f"，另有 {f['more']} 个" if f.get("more") else ""
    f["span"] = re.sub(r" km$", " 公里", re.sub(r" m$", " 米", f.get("span", "")))
    f["files"] = re.sub(
        r" \(([\d,]+) of ([\d,]+) rows kept\)", r"（\2 行中保留 \1 行）", f.get("files", "")
    )
    f["chosen"] = _CHOSEN.get(f.get("chosen", ""), f.get("chosen", ""))
    f["ages"] = _ages_zh(f.get("ages", ""))
    f["vill"] = f"（其中村庄 {f['vn']} 栋，按 {f['vl']} 层计）" if f.get("vn") else ""
    f["left"] = f"（{f['left']} 个位于数据范围之外）" if f.get("left") else ""
    f["mixed"] = (
        f"；{f['mixed']} 栋商住混合建筑（底层为商铺或办公）保留其上层的居民"
        if f.get("mixed")
        else ""
    )
    parts = f.get("parts", "").replace("; ", "；")
    for en, zh in _EXCLUDED:
        parts = parts.replace(en, zh)
    f["parts"] = parts
    f["lrest"] = _landuse_zh(f.get("lrest", ""))
    f["area"] = f.get("area", "").replace(" km²", " 平方公里").replace(" m²", " 平方米")
    return f


def _one(line: str) -> str:
    for pattern, zh in PATTERNS:
        m = pattern.match(line)
        if m is not None:
            return zh.format(**_fields(m))
    return line


def is_translated(line: str) -> bool:
    """Return True when ``line`` (possibly grouped) has a Chinese wording here.

    Examples
    --------
    >>> is_translated("The census table was ignored: there are no district boundaries.")
    True
    >>> is_translated("Something new happened.")
    False
    """
    group = _GROUP.match(line)
    first = line if group is None else group["first"]
    return any(pattern.match(first) for pattern, _ in PATTERNS)


def in_language(line: str, lang: str) -> str:
    """Return one (possibly grouped) data warning in ``lang`` (``zh``: Chinese).

    Examples
    --------
    >>> in_language("The census table was ignored: there are no district boundaries.", "zh")
    '没有区界，人口普查表未被使用。'
    """
    if lang != "zh":
        return line
    group = _GROUP.match(line)
    if group is None:
        return _one(line)
    return f"{_one(group['first'])}（同类提示共 {group['n']} 条，另有：{group['ex']}）"


#: The parts of a compliance row's ``status_reason`` (:mod:`geoapp.compliance`, joined
#: by "; "), by shape, in Chinese.
REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(en), zh)
    for en, zh in (
        (r"^no facility of the layer in the data: coverage cannot be assessed$",
         "数据中没有该图层的设施：无法评估覆盖率"),
        (r"^none of the layer's residents live here: there is no share to judge$",
         "此处没有该图层服务的居民：无比例可评"),
        (r"^no facility of the layer inside this (?:district|group) in the data$",
         "数据中本区内没有该图层的设施"),
        (r"^the share cannot be computed$", "无法计算比例"),
        (r"^no residents aged 60\+ here$", "此处没有60岁及以上居民"),
        (rf"^none of the (?P<n>{_NUM}) facilities has a capacity \(beds\) in the data$",
         "数据中 {n} 处设施均无床位数"),
        (rf"^a lower bound: the reach exceeds the distance searched \((?P<m>{_NUM}) m\)$",
         "仅为下限：服务半径超过了搜索距离（{m} 米）"),
        (r"^each resident judged at the reach of their own zone type \((?P<each>.+)\)$",
         "每位居民按其所在分区类型的服务半径评估（{each}）"),
        (rf"^at least (?P<v>\S+)(?: within (?P<m>{_NUM}) m)?, below the target (?P<g>\S+): "
         r"the reach exceeds the distance searched, so the share is only a lower bound$",
         "{m}至少 {v}，低于目标 {g}%：服务半径超过了搜索距离，该比例只是下限"),
        (rf"^(?P<v>\S+)(?: within (?P<m>{_NUM}) m)? (?P<word>meets|is below) the target "
         r"(?P<g>\S+)$",
         "{m}{v}，{word}目标 {g}%"),
    )
)  # fmt: skip
_ZONE_WORDS = {"core": "中心城区", "new_town": "新城", "rural": "乡村", "unknown": "未知"}


def _reason_part(part: str) -> str:
    for pattern, zh in REASONS:
        m = pattern.match(part)
        if m is None:
            continue
        f = {k: (v or "") for k, v in m.groupdict().items()}
        if f.get("m"):
            f["m"] = f"{f['m']} 米内" if "v" in f else f["m"]
        f["g"] = f.get("g", "").rstrip("%")
        f["word"] = {"meets": "达到", "is below": "低于"}.get(f.get("word", ""), "")
        f["each"] = re.sub(
            r"(\w+) ([\d,]+) m",
            lambda z: f"{_ZONE_WORDS.get(z[1], z[1])} {z[2]} 米",
            f.get("each", ""),
        ).replace(", ", "，")
        return zh.format(**f)
    return part


def reason_in_language(text: str, lang: str) -> str:
    """Return a compliance row's ``status_reason`` in ``lang`` (``zh``: Chinese).

    Each "; "-joined part of a known shape is said in Chinese; others are kept.

    Examples
    --------
    >>> reason_in_language("no facility of the layer in the data: coverage cannot be "
    ...                    "assessed", "zh")
    '数据中没有该图层的设施：无法评估覆盖率'
    """
    if lang != "zh" or not text:
        return text
    parts = [_reason_part(p) for p in text.split("; ")]
    return "；".join(parts)
