"""The data warnings of a region and its demand, said in Chinese for the 中文 app.

:mod:`geoapp.demand` words its warnings in English (the command line's, metadata.json's);
the app shows them to the reader in the interface's language. Each known warning is
matched by its shape and re-worded with its names and numbers; a group made by
:func:`geoapp.messages.group_warnings` keeps its count and examples. A warning of no
known shape is shown as it is (names and numbers are still the reader's).
"""

from __future__ import annotations

import re

_NUM = r"[\d,]+(?:\.\d+)?"
_WHAT = {"census total": "普查人口", "population tag": "人口标签"}
_WORD = {"below": "低于", "above": "高于"}
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
            rf"not applied whole; it holds (?P<placed>{_NUM}) residents.*?; the buildings in the "
            rf"data give (?P<est>{_NUM}).*\.$",
            "{name}仅部分位于数据范围内（占其面积的 {share}）：其{what} {total} 未整体计入；按"
            "数据覆盖的面积比例计为 {placed} 人（假定居民在区内均匀分布）；数据中的建筑估算为 "
            "{est} 人。",
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


def _one(line: str) -> str:
    for pattern, zh in PATTERNS:
        m = pattern.match(line)
        if m is None:
            continue
        fields = {k: (v or "") for k, v in m.groupdict().items()}
        if "what" in fields:
            fields["what"] = _WHAT.get(fields["what"], fields["what"])
        if "kind" in fields:
            fields["kind"] = _KIND.get(fields["kind"], fields["kind"])
        if "word" in fields:
            fields["word"] = _WORD.get(fields["word"], fields["word"])
        if "rest" in fields:
            for en, text in _CENSUS_PARTS:
                fields["rest"] = fields["rest"].replace(en, text)
        return zh.format(**fields)
    return line


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
