"""The report's front matter and atlas: cover, contents, executive summary, district pages.

:func:`cover_html` (title, study area, organisation, date of the data, geoapp version,
date of the run), :func:`contents_html` (the numbered sections with their pages, filled
in by WeasyPrint's ``target-counter``), :func:`summary_html` (the 3-5 findings that
matter, from the figures the report's sections show, and the recommendations that
follow from them, linking the siting and before/after results when given) and
:func:`atlas_html` (a page per district: its map and its figures per layer).

:func:`localise` keeps a Chinese report free of English sentences: a text given only in
English (a standard's note, a demand profile's source, a warning) is replaced by a
pointer to the English report.

Each function reads a :class:`geoapp.reporting.ReportData` (duck-typed: this module sits
below :mod:`geoapp.reporting`, which imports it) and the report's strings ``t``.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from geoapp import report_figures
from geoapp.heritage import site_counts
from geoapp.i18n import t as ui_text
from geoapp.styles import zone_name, zone_sort_key
from geoapp.warnings_zh import in_language

#: A run of four or more English words: what a Chinese report must not print outside names.
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[\s,;:()]+[A-Za-z][A-Za-z'’-]*){3,}")
_EN_PAREN = re.compile(r"\s*[(（][^()（）]*[A-Za-z]{3,}[^()（）]*[)）]")

#: Strings of the front matter and the atlas (merged into ``geoapp.reporting.T``).
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "h_summary": "Executive summary",
        "h_atlas": "District atlas",
        "h_contents": "Contents",
        "appendix": "Appendix {k}",
        "organisation": "Organisation",
        "study_area": "Study area",
        "version": "geoapp version",
        "run_date": "Date of the run",
        "findings": "Findings",
        "recommendations": "Recommendations",
        "unreachable": "beyond reach",
        "en_only": "(given in English only: see the English report)",
        "en_only_n": "{n} more notes are given in English only: see the English report.",
        "verified_in": " ({what}: {value})",
        "profile_row": "{name}: {m2} m²/person, {share} aged 60+ — {source}",
        "f_region": "{layer}: {share} of {who} live within {reach} of a facility, against a target of {target} ({verdict}).",
        "f_zones": "By zone type: {parts}.",
        "f_worst": "Lowest coverage of {layer} at {reach}: {parts}.",
        "f_60plus": "{n} residents aged 60+ live beyond {reach} of {layer}; most of them in {parts}.",
        "f_gaps": "The largest gaps of {layer}: {parts}.",
        "f_beds": "Beds: {value} per 1,000 residents aged 60+, against {target}: about {n} beds short.",
        "f_beds_ok": "Beds: {value} per 1,000 residents aged 60+, meeting the target of {target}.",
        "f_none": "No layer could be assessed: the data hold no facility of the chosen layers.",
        "r_gaps": "Site new {layer} facilities first in the largest gaps: {parts} (section {sec}).",
        "r_districts": "Give priority to {parts}, the districts furthest below the target for {layer}.",
        "r_beds": "Plan about {n} more beds to reach {target} per 1,000 residents aged 60+.",
        "r_siting": "The siting analysis suggests {k} sites, reaching {n} more residents: {parts}.",
        "r_compare": "Check the effect of the changes in section {sec} (before and after).",
        "r_nodata": "Complete the data where the report says 'no data' ({n} rows) before judging those areas.",
        "r_ok": "Coverage meets the targets: keep the facilities and re-assess when the data change.",
        "gap_item": "no. {rank} in {district} ({n} residents)",
        "district_item": "{district} ({share})",
        "residents_of": "residents",
        "residents60_of": "residents aged 60+",
        "meets": "met",
        "below": "not met",
        "atlas_caption": "{district}: districts, streets, facilities and gaps of {layer}.",
        "zone_params_note": "Zoning thresholds: see appendix.",
        "target_text": "target {share} within {reach}",
        "share_target": "Share within the target reach",
        "minutes": "min",
        "m": "{n} m",
        "fca_method": "Floating catchment method",
        "fca_title": "{layer}: {unit} per 1,000 {who} within reach ({method}; reach {reach})",
        "fca_help": "Located: the {unit} inside each group per 1,000 of its {who}. Within reach: each facility's {unit} shared among the {who} it reaches by the method named, summed per resident and averaged over the group; a group served from across its border differs from what it holds.",
        "fca_located": "Located per 1,000",
        "fca_reach": "Within reach per 1,000",
        "fca_standard": "Standard per 1,000",
    },
    "zh": {
        "h_summary": "摘要",
        "h_atlas": "分区图集",
        "h_contents": "目录",
        "appendix": "附录{k}",
        "organisation": "编制单位",
        "study_area": "研究范围",
        "version": "geoapp 版本",
        "run_date": "生成日期",
        "findings": "主要发现",
        "recommendations": "建议",
        "unreachable": "不可达",
        "en_only": "（此项仅有英文原文，见英文版报告）",
        "en_only_n": "另有 {n} 条说明仅有英文原文，见英文版报告。",
        "verified_in": "（{what}：{value}）",
        "profile_row": "{name}：人均居住面积 {m2} 平方米，60岁及以上人口占 {share}",
        "f_region": "{layer}：{share}的{who}在设施{reach}范围内，目标为{target}（{verdict}）。",
        "f_zones": "按分区：{parts}。",
        "f_worst": "{layer}在{reach}内覆盖率最低的区：{parts}。",
        "f_60plus": "{n}名60岁及以上老人居住在{layer}设施{reach}范围以外，主要在{parts}。",
        "f_gaps": "{layer}最大的服务缺口：{parts}。",
        "f_beds": "床位：每千名60岁及以上老人{value}张，标准为{target}张，约缺{n}张。",
        "f_beds_ok": "床位：每千名60岁及以上老人{value}张，达到{target}张的标准。",
        "f_none": "无法评估任何图层：数据中没有所选图层的设施。",
        "r_gaps": "新增{layer}设施应优先布局在最大的服务缺口：{parts}（见第{sec}节）。",
        "r_districts": "优先安排{parts}，这些区的{layer}覆盖率距目标最远。",
        "r_beds": "规划新增约{n}张床位，以达到每千名60岁及以上老人{target}张。",
        "r_siting": "选址分析建议{k}处新址，可新增覆盖{n}人：{parts}。",
        "r_compare": "变化的效果见第{sec}节（前后对比）。",
        "r_nodata": "报告中有{n}行为“无数据”，请先补充数据再评判这些地区。",
        "r_ok": "覆盖率已达标：保持现有设施，数据更新后重新评估。",
        "gap_item": "{district}第{rank}号（{n}人）",
        "district_item": "{district}（{share}）",
        "residents_of": "居民",
        "residents60_of": "60岁及以上老人",
        "meets": "达标",
        "below": "未达标",
        "atlas_caption": "{district}：各区、街道、{layer}设施及服务缺口。",
        "zone_params_note": "分区阈值：见附录。",
        "target_text": "目标：{reach}内{share}",
        "share_target": "目标距离内比例",
        "minutes": "分钟",
        "m": "{n} 米",
        "fca_method": "浮动集水区方法",
        "fca_title": "{layer}：可达范围内每千名{who}的{unit}数（{method}；搜索半径 {reach}）",
        "fca_help": "区内：各单元内设施的{unit}数 ÷ 单元内{who}（每千人）。可达：按所列方法将每处设施的{unit}分配给其可达范围内的{who}，按居民累加后在单元内平均；由相邻单元设施服务的单元，两者会有差异。",
        "fca_located": "区内每千人",
        "fca_reach": "可达每千人",
        "fca_standard": "标准（每千人）",
    },
}

#: The floating catchment methods (:data:`geoapp.fca.METHODS`) named in Chinese.
FCA_ZH = {
    "2sfca": "两步移动搜索法 2SFCA（Luo 与 Wang，2003）",
    "e2sfca": "增强两步移动搜索法 E2SFCA（Luo 与 Qi，2009），搜索半径分段权重 1、0.68、0.22",
    "3sfca": "三步移动搜索法 3SFCA（Wan、Zou 与 Sternberg，2012）",
    "gravity": "重力型两步移动搜索法（Wang，2012），距离倒数衰减",
}
#: Capacity units in Chinese.
UNITS_ZH = {"beds": "床位", "places": "位", "seats": "座位"}

#: Chinese names of the inputs' roles (``geoapp.assess.input_files``).
ROLES_ZH = {
    "region (demo generator)": "区域（演示数据生成程序）", "osm": "OSM数据", "gpkg": "GeoPackage",
    "boundaries": "行政边界", "census": "人口普查表", "census (shipped)": "人口普查表（内置）",
    "zones": "分区表", "population": "人口栅格", "standards profile": "标准配置",
    "demand profile": "人口参数", "projection": "预测表", "study_area": "研究范围",
    "age rasters": "年龄栅格",
}  # fmt: skip


def localise(text: object, lang: str, t: Mapping[str, str]) -> str:
    """Return ``text`` as the report prints it in ``lang``.

    In Chinese, English glosses in brackets are dropped and a text still holding an
    English sentence (:data:`ENGLISH_RUN`) becomes ``t["en_only"]``; English passes.
    """
    s = "" if text is None else str(text)
    if lang != "zh" or not ENGLISH_RUN.search(s):
        return s
    s = _EN_PAREN.sub("", s).strip()
    return t["en_only"] if ENGLISH_RUN.search(s) else s


#: The run's method values (``metadata.json``'s ``demand_method``, ``control_totals``,
#: ``mode``, ``zone_method``) in Chinese.
VALUES_ZH = {
    "buildings": "按建筑估算", "buildings+landuse": "按建筑与居住用地估算",
    "landuse": "按居住用地估算", "raster": "人口栅格", "raster+buildings": "人口栅格与建筑",
    "streets": "沿街道分布（数据中没有住宅）", "census": "人口普查表",
    "boundary population": "行政边界的人口标签", "admin areas": "完整行政区的人口标签",
    "network": "步行路网距离", "euclidean": "直线距离", "district attributes": "区界自带的分区属性",
    "density": "按人口密度划分聚落", "text": "文本核对", "secondary": "二手资料",
    "unverified": "未核实", "synthetic": "合成数据",
}  # fmt: skip
#: English phrases of the standards profiles' clauses, dates and issuers, in Chinese
#: (applied in order; what stays English is dropped or pointed to the English report).
PHRASES_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(en), zh)
    for en, zh in (
        (r"Shanghai 14th FYP \((\d+)% by (\d{4})\)", r"上海“十四五”规划（\2年达到\1%）"),
        (r"\((\d+)-minute life circle; ([\d,]+)[-–]([\d,]+) m, the upper bound shown as the "
         r"standard's figure\)", r"（\1分钟生活圈；\2–\3 米，以上限作为标准值）"),
        (r"rural life circles, [^()]*\(([^()]+)\) level: about (\d+) minutes \(([\d,]+) m "
         r"assumed\)", r"乡村生活圈\1层级：约\2分钟（假定\3米）"),
        (r": not fewer than (\d+) beds per 1,000 elderly residents", r"：每千名老人不少于\1张床位"),
        (r"\((\d{4}) edition\)", r"（\1年版）"),
        (r"\bappendix B table ", "附录B 表 "),
        (r"\btable ", "表 "),
        (r"\bclause ([\d.]+)", r"第\1条"),
        (r"(\S+) \(issued\), in force (\S+)", r"\1 发布，\2 实施"),
        (r"(\d{4}) revision of the (\d{4}) code", r"\2年版规范的\1年修订"),
        (r"Ministry of Housing and Urban-Rural Development \(MOHURD\)|\bMOHURD\b", "住房和城乡建设部"),
        (r"Shanghai Municipal People's Government", "上海市人民政府"),
        (r"Ministry of Natural Resources", "自然资源部"),
    )
)  # fmt: skip
_ZH_PAREN = re.compile(r"\s*[(（][^()（）]*[\u4e00-\u9fff][^()（）]*[)）]")


def value_name(value: object, lang: str) -> str:
    """Return a method value (``network``, ``census``, ``mapping:beijing`` ...) in ``lang``."""
    v = "" if value is None else str(value)
    if lang != "zh":
        return v
    if v.startswith("mapping:"):
        return f"分区映射表：{v.split(':', 1)[1]}"
    return VALUES_ZH.get(v, v)


def profile_text(text: object, lang: str, t: Mapping[str, str]) -> str:
    """Return a standards profile's clause, date, issuer or note as the report prints it.

    In Chinese the known English phrases are said in Chinese, then :func:`localise`; in
    English the Chinese glosses in brackets (``township (乡集镇) level``) are dropped.
    """
    s = "" if text is None else str(text)
    if lang != "zh":
        return _ZH_PAREN.sub("", s)
    for pattern, zh in PHRASES_ZH:
        s = pattern.sub(zh, s)
    if re.search(r"[\u4e00-\u9fff]", s):  # a Chinese title: its English gloss goes
        s = _EN_PAREN.sub("", s)
    s = re.sub(r"\s*;\s*", "；", s)
    s = re.sub(r"\s*（", "（", re.sub(r"）\s*(?=\S)", "）", s))
    return localise(s, lang, t)


def region_label(name: str, lang: str) -> str:
    """Return the region's name (or a text naming it) with the synthetic mark in ``lang``."""
    from geoapp.region import SYNTHETIC_LABEL

    if lang == "zh":
        return name.replace(f" ({SYNTHETIC_LABEL})", "（合成演示数据）")
    return name


def localise_all(texts: Sequence[object], lang: str, t: Mapping[str, str]) -> list[str]:
    """Return ``texts`` (warnings, assumptions) as the report lists them in ``lang``.

    Each text once, a run's warning said in Chinese by :func:`geoapp.warnings_zh.in_language`;
    in Chinese the ones given in English only are not listed one by one (each would read
    the same) but counted in one closing line.
    """
    texts = [in_language("" if x is None else str(x), lang) for x in texts]
    out = list(dict.fromkeys(localise(x, lang, t) for x in texts))
    if lang != "zh" or t["en_only"] not in out:
        return out
    n = sum(1 for x in dict.fromkeys(str(x) for x in texts) if localise(x, lang, t) == t["en_only"])
    return [x for x in out if x != t["en_only"]] + [t["en_only_n"].format(n=n)]


def role_name(role: object, lang: str) -> str:
    """Return an input's role (``census``, ``layer elderly_care`` ...) in ``lang``."""
    r = str(role)
    if lang != "zh":
        return r
    if r in ROLES_ZH:
        return ROLES_ZH[r]
    m = re.fullmatch(r"(layer|facilities) \(?([\w-]+)\)?", r)
    if m:
        return ("图层 " if m.group(1) == "layer" else "设施表 ") + m.group(2)
    m = re.fullmatch(r"age raster ([fm]) (\d+)", r)
    if m:  # a WorldPop age band (geoapp.assess.input_files)
        return f"年龄栅格（{'女' if m.group(1) == 'f' else '男'}，{m.group(2)}岁组）"
    return r


def fca_label(method: str, decay: str | None, lang: str) -> str:
    """Return the floating catchment method with its reference, in ``lang``."""
    from geoapp.sfca import method_label

    if lang != "zh":
        return method_label(method, decay)
    text = FCA_ZH.get(method, method)
    if method in ("2sfca", "3sfca"):
        text += "，高斯距离衰减" if decay else "，无距离衰减"
    return text


def supply_html(d: Any, t: Mapping[str, str], lang: str) -> str:
    """Return each layer's capacity per 1,000: located in the group and within reach.

    ``d.supply``: :class:`geoapp.sfca.Supply` by layer id (:func:`geoapp.assess.assess`),
    computed by the method the report was asked for (``--fca-method``).
    """
    out = ""
    for lid, sup in (getattr(d, "supply", None) or {}).items():
        a = d.analyses.get(lid)
        if a is None:
            continue
        tab = sup.table
        who = t["residents60_of"] if sup.demand_col == "pop_60plus" else t["residents_of"]
        unit = UNITS_ZH.get(sup.unit, sup.unit) if lang == "zh" else sup.unit
        title = t["fca_title"].format(
            layer=a.layer.name(lang), unit=unit, who=who,
            method=fca_label(sup.method, sup.decay, lang), reach=t["m"].format(n=num(sup.reach_m)),
        )  # fmt: skip
        rows = []
        for _, r in tab[tab["level"].isin(["region", "district", "zone_type"])].iterrows():
            level = str(r["level"])
            group = zone_name(r["group"], lang) if level == "zone_type" else str(r["group"])
            rows.append(
                f"<tr><td>{_esc(t.get(f'l_{level}', level))}</td><td>{_esc(group)}</td>"
                f"<td class='n'>{_esc(num(r.get('capacity')))}</td>"
                f"<td class='n'>{_esc(num(r.get('capacity_per_1000'), 1))}</td>"
                f"<td class='n'>{_esc(num(r.get('sfca_per_1000'), 1))}</td>"
                f"<td class='n'>{_esc(num(r.get('standard_per_1000'), 1))}</td></tr>"
            )
        head = [t["level"], t["group"], t["capacity"], t["fca_located"], t["fca_reach"],
                t["fca_standard"]]  # fmt: skip
        out += (
            f"<h3>{_esc(title)}</h3><table><thead><tr>"
            + "".join(f"<th>{_esc(h)}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
            + f"<p class='note'>{_esc(t['fca_help'].format(unit=unit, who=who))}</p>"
        )  # fmt: skip
    return out


def pct(v: Any) -> str:
    """Return a share as "85.3%" ("–" when missing)."""
    return f"{float(v) * 100:.1f}%" if _finite(v) else "–"


def num(v: Any, digits: int = 0) -> str:
    """Return a number with thousands separators ("–" when missing or infinite)."""
    return f"{float(v):,.{digits}f}" if _finite(v) else "–"


def _finite(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _esc(v: object) -> str:
    return "" if v is None else html.escape(str(v), quote=True)


def _reach(lay: Any, t: Mapping[str, str]) -> str:
    return t["m"].format(n=num(lay.target_m))


def data_date(d: Any, t: Mapping[str, str]) -> str:
    """Return the date of the data as the cover shows it."""
    if d.synthetic:
        return t["data_date_synthetic"]
    date = str(d.region_meta.get("data_date") or "")
    if re.match(r"\d{4}-\d{2}-\d{2}T", date):  # an OSM timestamp: the day is what matters
        date = date[:10]
    return date or t["data_date_unknown"]


def cover_html(d: Any, t: Mapping[str, str], lang: str) -> str:
    """Return the cover: title, study area, organisation, data date, version, run date."""
    rows = [
        (t["study_area"], d.region_name),
        (t["organisation"], d.organisation or "–"),
        (t["data_date"], data_date(d, t)),
        (t["version"], d.versions.get("geoapp", "")),
        (t["run_date"], d.created),
    ]
    body = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
    synth = f'<p class="synthetic">{_esc(t["synthetic"])}</p>' if d.synthetic else ""
    return (
        f'<section id="cover" class="cover newpage"><h1 id="title">{_esc(t["title"])}</h1>'
        f'<p class="sub">{_esc(d.region_name)} — {_esc(t["subtitle"])}</p>{synth}'
        f'<table class="kv cover"><tbody>{body}</tbody></table></section>'
    )


def contents_html(entries: Sequence[tuple[str, str]], t: Mapping[str, str]) -> str:
    """Return the contents: ``(section id, heading)`` pairs with their page numbers."""
    items = "".join(f'<li><a href="#{_esc(sid)}">{_esc(h)}</a></li>' for sid, h in entries)
    return (
        f'<nav id="contents" class="newpage"><h2>{_esc(t["h_contents"])}</h2>'
        f'<ol class="toc">{items}</ol></nav>'
    )


def _share_col(lay: Any) -> str:
    return f"share_{lay.demand_column}_{lay.label_of(lay.target_m)}"


def _districts(d: Any, lang: str) -> Mapping[str, str]:
    return report_figures.district_names(d.boundaries, lang)


def _region_finding(a: Any, d: Any, t: Mapping[str, str], lang: str) -> list[str]:
    lay = a.layer
    s = a.summary
    reg = s[s["level"] == "region"]
    col = _share_col(lay)
    if not len(reg) or col not in reg.columns or not _finite(reg[col].iloc[0]):
        return []
    share = float(reg[col].iloc[0])
    who = t["residents60_of"] if lay.demand_column == "pop_60plus" else t["residents_of"]
    verdict = t["meets"] if share >= lay.target_share else t["below"]
    out = t["f_region"].format(layer=lay.name(lang), share=pct(share), who=who,
                               reach=_reach(lay, t), target=pct(lay.target_share),
                               verdict=verdict)  # fmt: skip
    z = d.zones
    if len(z) and "share_at_target" in z.columns:
        part = z[z["layer"] == lay.id]
        if "grouping" in part.columns:
            part = part[part["grouping"] == "zone_type"]
        part = part[part["share_at_target"].map(_finite)]
        if len(part) > 1:
            rows = sorted(part.itertuples(), key=lambda r: zone_sort_key(str(r.zone_type)))
            parts = [f"{zone_name(str(r.zone_type), lang)} {pct(r.share_at_target)}" for r in rows]
            out += " " + t["f_zones"].format(parts=("，" if lang == "zh" else ", ").join(parts))
    return [out]


def _sep(lang: str) -> str:
    return "；" if lang == "zh" else "; "


def _worst(a: Any, d: Any, t: Mapping[str, str], lang: str, k: int = 3) -> list[tuple[str, float]]:
    """Return the ``k`` districts with the lowest share at the target, below it."""
    s = a.summary
    col = _share_col(a.layer)
    dist = s[s["level"] == "district"]
    if col not in dist.columns:
        return []
    dist = dist[dist[col].map(_finite) & (dist["status"] != "no_data")]
    dist = dist[dist[col].astype(float) < a.layer.target_share]
    dist = dist.sort_values(col, kind="stable").head(k)
    return [(str(g), float(v)) for g, v in zip(dist["group"], dist[col], strict=True)]


def _beyond_60(a: Any) -> tuple[float, list[tuple[str, float]]]:
    """Residents aged 60+ beyond the layer's target, in all and per district (most first)."""
    acc = a.access
    if acc is None or not len(acc) or "pop_60plus" not in acc.columns:
        return 0.0, []
    dist = pd.to_numeric(acc["dist_m"], errors="coerce").to_numpy(dtype=float)
    beyond = ~(dist <= float(a.layer.target_m))  # NaN / inf: beyond reach
    pop = acc["pop_60plus"].astype(float).where(beyond, 0.0)
    per = pop.groupby(acc["district"].astype(str)).sum().sort_values(ascending=False)
    return float(pop.sum()), [(str(k), float(v)) for k, v in per.items() if v > 0]


def _gaps(a: Any, k: int = 3) -> list[tuple[int, str, float]]:
    g = a.gaps
    if g is None or not len(g):
        return []
    top = g.sort_values("rank").head(k)
    return [
        (int(r["rank"]), str(r.get("district")), float(r.get("uncovered_demand") or 0.0))
        for _, r in top.iterrows()
    ]


def _beds(d: Any) -> pd.Series | None:
    c = d.compliance
    if not len(c) or "indicator" not in c.columns:
        return None
    rows = c[(c["indicator"] == "beds_per_1000_60plus") & (c["level"] == "region")]
    rows = rows[rows["value"].map(_finite)]
    return rows.iloc[0] if len(rows) else None


def no_capacity_text(d: Any, t: Mapping[str, str]) -> str:
    """Return the capacity section's sentence when no facility carries a capacity.

    Facility tables imported for the analysed layers with a capacity (``[capacity]``)
    that left no row inside the data are named (``t["no_capacity_outside"]``: their rows
    lie outside the data), rather than asking for a table to be imported
    (``t["no_capacity"]``).
    """
    files, kept = [], False
    for item in d.inputs:
        m = re.fullmatch(r"facilities \((.+)\)", str(item.get("role", "")))
        a = d.analyses.get(m.group(1)) if m is not None else None
        if a is None or not getattr(a.layer, "capacity", None):
            continue
        files.append(re.split(r"[\\/]", str(item.get("path", "")))[-1])
        fac = a.facilities
        ids = fac.get("facility_id", pd.Series([], dtype=object)).astype(str)
        kept = kept or bool(ids.str.startswith("table/").any())
    if files and not kept:
        return t["no_capacity_outside"].format(files=", ".join(files))
    return t["no_capacity"]


def findings(
    d: Any, t: Mapping[str, str], lang: str, numbers: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Return the summary's findings (3-5, most important first) and recommendations.

    From the figures the sections show: each layer's coverage at its target (region and
    zone types), the districts furthest below it, the residents aged 60+ beyond reach,
    the bed shortfall and the largest gaps; recommendations name the gaps and districts
    to act on first, the beds to plan, the siting result (``d.extra["siting"]``) and the
    before/after section when given.
    """
    names = _districts(d, lang)
    sep = _sep(lang)
    ok = [a for a in d.analyses.values() if getattr(a, "status", "ok") != "no_data"]
    # a layer without a facility in the data is a finding, not only a "no data" row
    empty = [
        ui_text("heritage_no_designated", lang)
        if getattr(a.layer, "classify", "") == "heritage"
        else ui_text("no_facility_finding", lang, layer=a.layer.name(lang))
        for a in d.analyses.values()
        if getattr(a, "status", "ok") == "no_data"
    ]
    if not ok:
        return (empty or [t["f_none"]])[:5], []
    found: list[str] = list(empty)
    recs: list[str] = []
    for a in ok:
        found += _region_finding(a, d, t, lang)

    def share_of(a: Any) -> float:
        reg = a.summary[a.summary["level"] == "region"]
        col = _share_col(a.layer)
        v = reg[col].iloc[0] if len(reg) and col in reg.columns else np.nan
        return float(v) - a.layer.target_share if _finite(v) else 0.0

    worst_layer = min(ok, key=share_of)
    worst = _worst(worst_layer, d, t, lang)
    if worst:
        parts = sep.join(t["district_item"].format(district=names.get(g, g), share=pct(v))
                         for g, v in worst)  # fmt: skip
        found.append(t["f_worst"].format(layer=worst_layer.layer.name(lang),
                                         reach=_reach(worst_layer.layer, t), parts=parts))  # fmt: skip
        recs.append(t["r_districts"].format(parts=sep.join(names.get(g, g) for g, _ in worst),
                                            layer=worst_layer.layer.name(lang)))  # fmt: skip
    for a in ok:
        if a.layer.demand_column != "pop_60plus":
            continue
        n, per = _beyond_60(a)
        if n >= 1:
            parts = sep.join(f"{names.get(g, g)} {num(v)}" for g, v in per[:3])
            found.append(t["f_60plus"].format(n=num(n), reach=_reach(a.layer, t),
                                              layer=a.layer.name(lang), parts=parts))  # fmt: skip
            break
    beds = _beds(d)
    if beds is not None:
        value, target = float(beds["value"]), float(beds["threshold"])
        if value < target:
            short = (target - value) * float(beds["residents"]) / 1000.0
            found.append(t["f_beds"].format(value=num(value, 1), target=num(target), n=num(short)))
            recs.append(t["r_beds"].format(n=num(short), target=num(target)))
        else:
            found.append(t["f_beds_ok"].format(value=num(value, 1), target=num(target)))
    gap_layer = max(ok, key=lambda a: sum(n for *_, n in _gaps(a)))
    gaps = _gaps(gap_layer)
    if gaps:
        parts = sep.join(t["gap_item"].format(rank=r, district=names.get(g, g), n=num(n))
                         for r, g, n in gaps)  # fmt: skip
        found.append(t["f_gaps"].format(layer=gap_layer.layer.name(lang), parts=parts))
        recs.insert(0, t["r_gaps"].format(layer=gap_layer.layer.name(lang), parts=parts,
                                          sec=numbers.get("gaps", "")))  # fmt: skip
    recs += _extra_recs(d, t, lang, numbers)
    if not recs:
        recs.append(t["r_ok"])
    return found[:5], recs


def _extra_recs(d: Any, t: Mapping[str, str], lang: str, numbers: Mapping[str, str]) -> list[str]:
    out = []
    siting = (d.extra or {}).get("siting")
    if isinstance(siting, pd.DataFrame) and len(siting):
        gain = next((c for c in ("added_pop", "added_demand", "gain") if c in siting.columns), None)
        n = float(pd.to_numeric(siting[gain], errors="coerce").sum()) if gain else float("nan")
        parts = []
        if {"lon", "lat"} <= set(siting.columns):
            top = siting.head(5)
            parts = [f"{x:.4f}, {y:.4f}" for x, y in zip(top["lon"], top["lat"], strict=True)]
        out.append(t["r_siting"].format(k=len(siting), n=num(n), parts=_sep(lang).join(parts)))
    if d.comparison is not None:
        out.append(t["r_compare"].format(sec=numbers.get("compare", "")))
    c = d.compliance
    n = int((c["status"] == "no_data").sum()) if len(c) and "status" in c.columns else 0
    if n:
        out.append(t["r_nodata"].format(n=n))
    return out


def summary_html(d: Any, t: Mapping[str, str], lang: str, numbers: Mapping[str, str]) -> str:
    """Return the executive summary: findings and recommendations (one page)."""
    found, recs = findings(d, t, lang, numbers)
    out = f"<h3>{_esc(t['findings'])}</h3><ol class='findings'>"
    out += "".join(f"<li>{_esc(f)}</li>" for f in found) + "</ol>"
    if recs:
        out += f"<h3>{_esc(t['recommendations'])}</h3><ol class='recs'>"
        out += "".join(f"<li>{_esc(r)}</li>" for r in recs) + "</ol>"
    return out


def plain_number(v: float) -> str:
    """Return a parameter to 4 significant digits, written plainly (50,000 not 5e+04).

    Examples
    --------
    >>> plain_number(50000.0), plain_number(35391.7), plain_number(0.12345), plain_number(1.5)
    ('50,000', '35,390', '0.1235', '1.5')
    """
    if not math.isfinite(v) or v == 0:
        return f"{v:g}"
    r = float(f"{v:.4g}")
    digits = max(0, 3 - math.floor(math.log10(abs(r))))
    out = f"{r:,.{digits}f}"
    return out.rstrip("0").rstrip(".") if "." in out else out


def layer_label(d: Any, layer_id: object, lang: str) -> str:
    """Return a layer's display name (``Elderly care``, not ``elderly_care``) in ``lang``."""
    a = d.analyses.get(str(layer_id)) if isinstance(d.analyses, Mapping) else None
    return a.layer.name(lang) if a is not None else str(layer_id)


def heritage_lead(h: Any, lang: str) -> str:
    """Return §6's lead: designated and other heritage counted as ``summary.csv`` does.

    The designated (protected) sites the heritage coverage counts, the memorials,
    statues and unlisted historic features reported apart, the count per protection
    class and, when the data holds no designated site, that warning (the CLI's).
    """
    counts = site_counts(h)
    des, und = counts["designated"], counts["undesignated"]
    out = f"<p>{_esc(ui_text('heritage_counts_line', lang, des=des, und=und))}</p>"
    if counts["classes"]:
        parts = [
            f"{ui_text(f'heritage_class_{c}', lang)} {num(n)}" for c, n in counts["classes"].items()
        ]
        colon = "：" if lang == "zh" else ": "
        out += f"<p>{_esc(ui_text('heritage_by_class', lang) + colon + _sep(lang).join(parts))}</p>"
    if des == 0:
        out += f"<p><strong>{_esc(ui_text('heritage_no_designated', lang))}</strong></p>"
    return out


def shown_path(path: object) -> str:
    """Return an input file as the report's list of sources shows it: by its name.

    ``report.json`` records a file relative to the folder holding the report folder
    (:func:`geoapp.assess.recorded_path`: ``../../data/x.osm`` for a report written two
    folders below), which reads as nonsense beside a date; the list shows the file's
    name (``x.osm``) and a file shipped with geoapp as ``geoapp/...``; the recorded path
    stays in Appendix B, beside the command that uses it.
    """
    text = str(path or "")
    if not text or text.startswith("geoapp/"):
        return text
    return text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def atlas_html(d: Any, t: Mapping[str, str], lang: str) -> str:
    """Return a page per district: its map (first layer's facilities, gaps) and figures."""
    names = _districts(d, lang)
    analyses = list(d.analyses.values())
    # the map shows the first layer with facilities (else the first layer)
    first = next((a for a in analyses if len(a.facilities)), analyses[0] if analyses else None)
    out = ""
    for key in report_figures.districts_of(d.boundaries):
        name = names.get(key, key)
        fig = report_figures.region_map(
            d.boundaries,
            gaps=first.gaps if first is not None else None,
            facilities=first.facilities if first is not None else None,
            streets=d.streets,
            focus=key,
            lang=lang,
        )
        cap = t["atlas_caption"].format(
            district=name, layer=first.layer.name(lang) if first else ""
        )
        rows = []
        for a in analyses:
            s = a.summary
            r = s[(s["level"] == "district") & (s["group"].astype(str) == key)]
            if not len(r):
                continue
            r0 = r.iloc[0]
            col = _share_col(a.layer)
            status = str(r0.get("status"))
            rows.append(
                f"<tr><td>{_esc(a.layer.name(lang))}</td>"
                f"<td class='n'>{_esc(num(r0.get(a.layer.demand_column)))}</td>"
                f"<td class='n'>{_esc(t['no_data'] if status == 'no_data' else pct(r0.get(col)))}</td>"
                f"<td class='n'>{_esc(pct(a.layer.target_share))}</td>"
                f"<td class='n'>{_esc(num(r0.get('n_facilities')))}</td>"
                f"<td>{_esc(t.get(status, status))}</td></tr>"
            )
        head = [t["layer"], t["residents"], t["share_target"], t["threshold"], t["facilities"],
                t["status"]]  # fmt: skip
        table = (
            "<table><thead><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )  # fmt: skip
        out += (
            f'<div class="atlas newpage"><h3>{_esc(name)}</h3><figure>'
            f'<img alt="map" src="{_png_uri(report_figures.figure_png(fig))}"/>'
            f"<figcaption>{_esc(cap)}</figcaption></figure>{table}</div>"
        )
    return out


__all__ = [
    "ENGLISH_RUN", "FCA_ZH", "ROLES_ZH", "TEXT", "atlas_html", "contents_html", "cover_html",
    "data_date", "fca_label", "findings", "localise", "localise_all", "num", "pct", "profile_text", "region_label",
    "role_name", "summary_html", "supply_html", "value_name",
]  # fmt: skip
