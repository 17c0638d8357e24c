"""The assessment report: one self-contained HTML page and its PDF, in Chinese or English.

:func:`write_report` takes everything the report shows as a :class:`ReportData` (built
by :func:`geoapp.assess.report`, which also writes the bundles the report was
made from into ``bundles/<layer>/``) and writes ``report.html`` (inline CSS, inline SVG
chart, inline PNG maps: works offline, no external request), ``report.pdf``
(WeasyPrint; the Chinese font, WenQuanYi Micro Hei, is embedded), ``report.docx`` (the
same page as an editable Word document, :mod:`geoapp.report_docx`), ``compliance.csv``
and ``report.json`` (inputs with their SHA-256, parameters, versions and the command
that re-creates the report; read by :mod:`geoapp.verify`).

The page: a cover, the contents, an executive summary (:mod:`geoapp.report_pages`), the
numbered sections (:data:`SECTIONS`; an atlas, a page per district, inside
:func:`options` ``(atlas=True)``), then the appendices (:data:`APPENDICES`). Maps are
:func:`geoapp.report_figures.region_map` figures (legend, scale bar, north arrow,
district names, streets).

Every data string (names, warnings, reasons) is HTML-escaped.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import html
import io
import json
import logging
import math
import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import pandas as pd

from geoapp import charts, export, report_figures
from geoapp import report_pages as pages
from geoapp._atomic import MANIFEST, atomic_path
from geoapp.catalog import Layer
from geoapp.errors import InputError, OutputError
from geoapp.i18n import t as ui_text
from geoapp.messages import group_warnings
from geoapp.paths import public_path, scrub_paths
from geoapp.region import DATA_AREA_COLUMN
from geoapp.standards import Profile
from geoapp.styles import zone_name
from geoapp.warnings_zh import reason_in_language

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

#: Name of the report's record (inputs, parameters, versions), read by ``geoapp verify``.
REPORT_JSON = "report.json"
#: Folder of the bundles inside a report folder.
BUNDLES = "bundles"
#: Chinese font embedded in the PDF (Debian ``fonts-wqy-microhei``).
CJK_FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT_STACK = (
    '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", '
    '"Microsoft YaHei", "DejaVu Sans", sans-serif'
)

#: Section ids in order; their headings (``T[lang]["h_<id>"]``) are what ``pdftotext``
#: finds in the PDF.
SECTIONS = (
    "summary", "area", "method", "compliance", "league", "gaps", "heritage", "capacity",
    "compare", "projection", "limitations", "sources", "repro",
)  # fmt: skip
#: Sections printed as appendices (lettered A, B ...), after the numbered ones.
APPENDICES = ("sources", "repro")
#: The atlas (a page per district), added before the appendices when requested.
ATLAS = "atlas"

T: dict[str, dict[str, str]] = {
    "en": {
        "title": "Service coverage assessment",
        "subtitle": "Walking access to elderly care and community services, judged against planning standards",
        "synthetic": "SYNTHETIC DEMO DATA: an invented city, not a real place",
        "h_area": "Study area",
        "h_sources": "Data sources",
        "h_method": "Method and assumptions",
        "h_compliance": "Compliance with the standards",
        "h_league": "District league table",
        "h_gaps": "Ranked gaps",
        "h_heritage": "Heritage",
        "h_capacity": "Capacity",
        "h_compare": "Before and after",
        "h_projection": "Ageing projection",
        "h_limitations": "Limitations",
        "h_repro": "Parameters, hashes and versions",
        "region": "Region",
        "source": "Source",
        "districts": "Districts",
        "area": "Area (km²)",
        "residents": "Residents",
        "residents60": "Residents aged 60+",
        "created": "Created",
        "bbox": "Extent (lon/lat)",
        "attribution": "Attribution",
        "data_date": "Date of the OSM data",
        "data_date_synthetic": "none: synthetic demo data",
        "data_date_unknown": "unknown (the file states none)",
        "what": "What",
        "date": "Date",
        "note": "Note",
        "value": "Value",
        "param": "Parameter",
        "layer": "Layer",
        "rule": "Rule",
        "level": "Level",
        "group": "Group",
        "zone": "Zone",
        "threshold": "Threshold",
        "status": "Status",
        "clause": "Source and clause",
        "verified": "Verified",
        "reach": "Reach judged (m)",
        "reach_std": "Standard's figure (m, reference)",
        "rank": "Rank",
        "district": "District",
        "facilities": "Facilities",
        "uncovered": "Uncovered residents",
        "median": "Median distance (m)",
        "reason": "Why",
        "protected": "Designated sites in a protected zone",
        "protected_area": "Protected area (km²)",
        "designated": "Designated sites (of which national)",
        "undesignated": "Memorials, statues, unlisted (not assessed)",
        "designated_reach": "Residents within {m} m of a designated site",
        "capacity": "Beds",
        "per1000": "Beds per 1,000 aged 60+",
        "file": "File",
        "sha": "SHA-256",
        "bytes": "Bytes",
        "package": "Package",
        "version": "Version",
        "command": "Re-create this report with",
        "verify": "Check it with",
        "met": "met",
        "not_met": "not met",
        "no_data": "no data",
        "l_region": "region",
        "l_district": "district",
        "l_zone_type": "zone type",
        "share_at": "Share within {r}",
        "change": "Change",
        "before": "Before",
        "after": "After",
        "gained": "Residents gaining coverage",
        "lost": "Residents losing coverage",
        "method_pop": "Population",
        "method_profile": "Population profile",
        "method_mode": "Distance",
        "method_speed": "Walking speed (km/h)",
        "method_search": "Search limit (m)",
        "method_zones": "Zoning method",
        "method_zone_params": "Zoning thresholds",
        "method_control": "Control totals",
        "method_standard": "Standards profile",
        "method_targets": "Layer targets",
        "assumptions": "Assumptions",
        "circles": "Life-circle levels of the profile",
        "no_gaps": "No gap areas for this layer (or no facility in the data).",
        "no_heritage": "No heritage sites in the data.",
        "no_capacity": "No facility of the data carries a capacity (beds), so beds per 1,000 residents aged 60+ cannot be assessed; import a facility table with a capacity column.",
        "no_capacity_outside": "The facility table imported ({files}) left no facility inside the data: its rows lie outside the extract (see the data warnings about them), so beds per 1,000 residents aged 60+ cannot be assessed here; use an extract that covers them, or check the coordinate system declared.",
        "no_compare": "Not requested: no earlier report or bundle was given to compare with.",
        "no_projection": "Not requested: no projection table was given for a future year.",
        "lower_bound": "lower bound",
        "chart_caption": "Share of each layer's residents within walking reach by zone type (core → new towns → rural).",
        "map_caption": "Districts by zone type, facilities (black) and the ranked gap areas (red, numbered by rank).",
        "compare_map_caption": "Residents who gained (green) or lost (red) coverage at the layer's target.",
        "league_caption": "Districts ranked by the share of the layer's residents within the target reach.",
        "verified_help": "Verified: 'text' seen in a copy of the standard's text; 'secondary' seen in a summary only; 'unverified' not confirmed while writing the profile.",
        "sources_profile": "Standards cited",
        "limit_synthetic": "The data are synthetic: figures describe an invented city.",
        "limit_foreign": "The standards profile {profile} is Chinese, but the region lies outside China (its demand profile is '{demand}'): the thresholds are a benchmark there, not the local rule; a local profile can be given instead.",
        "limit_nodata": "{n} compliance rows are 'no data': the data cannot tell whether the standard is met there.",
        "reach_help": "Reach judged: a layer written in walking minutes is judged at its life circle's minutes × its walking speed, in every zone type — the reach of every other figure in this report. The standard's own metre figure is shown beside it for reference only; it is not a second verdict.",
        "proj_gap": "Aged 60+ beyond the target:",
        "projection_text": "Population aged 60+ re-weighted to {year} with the factors of {file} ({note}).",
    },
    "zh": {
        "title": "公共服务覆盖评估报告",
        "subtitle": "养老与社区服务步行可达性及规划标准达标评估",
        "synthetic": "合成演示数据：虚构城市，并非真实地点",
        "h_area": "研究范围",
        "h_sources": "数据来源",
        "h_method": "方法与假设",
        "h_compliance": "标准达标情况",
        "h_league": "各区排名",
        "h_gaps": "服务缺口排序",
        "h_heritage": "历史文化遗产",
        "h_capacity": "设施容量",
        "h_compare": "前后对比",
        "h_projection": "人口老龄化预测",
        "h_limitations": "局限性",
        "h_repro": "参数、校验值与版本",
        "region": "区域",
        "source": "数据源",
        "districts": "区数",
        "area": "面积（平方公里）",
        "residents": "常住人口",
        "residents60": "60岁及以上人口",
        "created": "生成时间",
        "bbox": "范围（经纬度）",
        "attribution": "版权声明",
        "data_date": "OSM数据日期",
        "data_date_synthetic": "无：合成演示数据",
        "data_date_unknown": "未知（文件未注明）",
        "what": "内容",
        "date": "日期",
        "note": "说明",
        "value": "数值",
        "param": "参数",
        "layer": "图层",
        "rule": "规则",
        "level": "层级",
        "group": "单元",
        "zone": "分区",
        "threshold": "标准值",
        "status": "结论",
        "clause": "依据与条款",
        "verified": "核实程度",
        "reach": "评估距离（米）",
        "reach_std": "标准距离（米，仅供参考）",
        "rank": "排名",
        "district": "区",
        "facilities": "设施数",
        "uncovered": "未覆盖人口",
        "median": "距离中位数（米）",
        "reason": "原因",
        "protected": "位于保护区内的文物保护单位",
        "protected_area": "保护区面积（平方公里）",
        "designated": "文物保护单位（其中全国重点）",
        "undesignated": "纪念物、雕像、未定级（不参与评估）",
        "designated_reach": "{m} 米内有文物保护单位的居民比例",
        "capacity": "床位",
        "per1000": "每千名老人床位",
        "file": "文件",
        "sha": "SHA-256",
        "bytes": "字节",
        "package": "软件包",
        "version": "版本",
        "command": "重新生成本报告的命令",
        "verify": "核验命令",
        "met": "达标",
        "not_met": "未达标",
        "no_data": "无数据",
        "l_region": "全域",
        "l_district": "区",
        "l_zone_type": "分区类型",
        "share_at": "{r}内比例",
        "change": "变化",
        "before": "之前",
        "after": "之后",
        "gained": "新增覆盖人口",
        "lost": "失去覆盖人口",
        "method_pop": "人口估算",
        "method_profile": "人口参数",
        "method_mode": "距离计算",
        "method_speed": "步行速度（公里/小时）",
        "method_search": "搜索上限（米）",
        "method_zones": "分区方法",
        "method_zone_params": "分区阈值",
        "method_control": "控制总数",
        "method_standard": "标准配置",
        "method_targets": "图层目标",
        "assumptions": "假设",
        "circles": "配置中的生活圈层级",
        "no_gaps": "该图层没有服务缺口区域（或数据中没有设施）。",
        "no_heritage": "数据中没有历史文化遗产。",
        "no_capacity": "数据中的设施均无容量（床位）信息，无法评估每千名老人床位数；请导入含容量列的设施表。",
        "no_capacity_outside": "导入的设施表（{files}）没有留下数据范围内的设施：其各行位于数据范围之外（见数据警告），因此此处无法评估每千名老人床位数；请使用覆盖这些设施的数据提取，或检查所声明的坐标系。",
        "no_compare": "未要求对比：未提供早期报告或结果。",
        "no_projection": "未要求预测：未提供未来年份的预测表。",
        "lower_bound": "下限",
        "chart_caption": "各分区（中心城区 → 新城 → 乡村地区）服务对象步行可达比例。",
        "map_caption": "按分区着色的各区、设施（黑点）及按排名编号的服务缺口（红色）。",
        "compare_map_caption": "在目标距离内新增覆盖（绿色）或失去覆盖（红色）的居民。",
        "league_caption": "按目标距离内服务对象比例排序的各区。",
        "verified_help": "核实程度：文本核对，已在标准文本副本中核对；二手资料，仅见于二手资料；未核实，编写时未能核实。",
        "sources_profile": "引用的标准",
        "limit_synthetic": "数据为合成数据：所有数字描述的是一座虚构城市。",
        "limit_foreign": "标准配置 {profile} 为中国标准，但该区域位于中国境外（人口参数为“{demand}”）：这些标准值在当地仅作参照，并非当地规定；可另行指定当地标准。",
        "limit_nodata": "达标表中有 {n} 行为“无数据”：数据无法判断该处是否达标。",
        "reach_help": "评估距离：以步行分钟定义的图层按其生活圈分钟数 × 步行速度评估，各分区相同，与本报告其他各项数字的距离一致。标准本身的米数仅列出供参考，不作为第二个结论。",
        "proj_gap": "目标距离外60岁及以上人口：",
        "projection_text": "60岁及以上人口按 {file} 的系数调整至 {year} 年（{note}）。",
    },
}


for _lang, _strings in pages.TEXT.items():
    T[_lang].update(_strings)


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows (plain frames and dicts; built by ``assess.build_report``).

    ``analyses`` values are :class:`geoapp.workflow.LayerAnalysis` objects (read for
    ``layer``, ``summary``, ``gaps``, ``facilities``, ``access``, ``meta``, ``status``
    and ``warnings``).
    """

    region_name: str
    source: str
    synthetic: bool
    boundaries: gpd.GeoDataFrame
    region_meta: Mapping[str, Any]
    analyses: Mapping[str, Any]
    zones: pd.DataFrame
    compliance: pd.DataFrame
    profile: Profile
    inputs: Sequence[Mapping[str, Any]]
    params: Mapping[str, Any]
    command: str
    versions: Mapping[str, str]
    created: str
    warnings: Sequence[str] = ()
    heritage: Any = None
    comparison: Any = None
    projection: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: Who files the report (the cover's organisation field).
    organisation: str = ""
    #: Add a page per district (the atlas).
    atlas: bool = False
    #: The walking network's edges (EPSG:4326), drawn thin grey on the maps.
    streets: gpd.GeoDataFrame | None = None
    #: Capacity against demand by layer id (:class:`geoapp.sfca.Supply`), by the floating
    #: catchment method the report was asked for (the capacity section).
    supply: Mapping[str, Any] = field(default_factory=dict)
    #: That method (:data:`geoapp.fca.METHODS`), named in the method section and appendix.
    fca_method: str = "2sfca"


#: Set by :func:`options`: the cover's organisation, the atlas and the floating catchment
#: method, for reports built inside.
_OPTIONS: contextvars.ContextVar[tuple[str, bool, str]] = contextvars.ContextVar(
    "report_options", default=("", False, "2sfca")
)


@contextlib.contextmanager
def options(
    *, organisation: str = "", atlas: bool = False, fca_method: str = "2sfca"
) -> Iterator[None]:
    """Within this block, reports take these cover, atlas and capacity-section options.

    ``organisation`` is named on the cover, ``atlas`` adds a page per district and
    ``fca_method`` is the capacity section's floating catchment method.
    ``geoapp report --organisation NAME --atlas --fca-method M`` builds its report inside
    it; :func:`current_options` gives the values to :class:`ReportData` (and to
    ``report.json``'s parameters).

    Raises
    ------
    InputError
        ``fca_method`` is none of :data:`geoapp.fca.METHODS` (``2sfca``, ``e2sfca``,
        ``3sfca``, ``gravity``: as ``geoapp supply --method``).
    """
    from geoapp.fca import METHODS

    if fca_method not in METHODS:
        raise InputError(
            f"--fca-method {fca_method}: unknown floating catchment method; give one of "
            f"{', '.join(METHODS)} (as geoapp supply --method)"
        )
    token = _OPTIONS.set((str(organisation or ""), bool(atlas), fca_method))
    try:
        yield
    finally:
        _OPTIONS.reset(token)


def current_options() -> dict[str, Any]:
    """Return the options of the enclosing :func:`options` block.

    ``organisation``, ``atlas`` and ``fca_method``.
    """
    organisation, atlas, fca_method = _OPTIONS.get()
    return {"organisation": organisation, "atlas": atlas, "fca_method": fca_method}


def esc(value: object) -> str:
    """HTML-escape any value (None -> "")."""
    return "" if value is None else html.escape(str(value), quote=True)


def _finite(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def fmt_pct(v: Any) -> str:
    """Share as a percentage with one decimal ("85.3%"), "–" when missing."""
    return f"{float(v) * 100:.1f}%" if _finite(v) else "–"


def fmt_num(v: Any, digits: int = 0) -> str:
    """Format a number with thousands separators, "–" when missing, "∞" when infinite."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(f):
        return "–"
    if math.isinf(f):
        return "∞"
    return f"{f:,.{digits}f}"


def _dist(v: Any, t: Mapping[str, str]) -> str:
    """Format a distance in metres; "beyond reach" (never "∞") when none is reached."""
    try:
        if math.isinf(float(v)):
            return t["unreachable"]
    except (TypeError, ValueError):
        pass
    return fmt_num(v)


def fmt_value(indicator: str, v: object) -> str:
    """Format a compliance value: a share as a percentage, beds per 1,000 with one decimal."""
    return fmt_pct(v) if indicator == "share_within_reach" else fmt_num(v, 1)


def _td(text: str, value: object = None, cls: str = "") -> str:
    data = f' data-v="{esc(value)}"' if value is not None else ""
    c = f' class="{cls}"' if cls else ""
    return f"<td{c}{data}>{text}</td>"


def _table(header: Sequence[str], rows: Sequence[str], cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _kv(rows: Sequence[tuple[str, object]]) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    # matplotlib writes each label into an XML comment (escaped); drop them: the text is
    # drawn as paths, and no data string needs to stay in the page raw
    return re.sub(r"<!--.*?-->", "", text[text.find("<svg") :], flags=re.S)


def _layer_name(layer: Layer, lang: str) -> str:
    return layer.name(lang)


def _share_col(layer: Layer, radius: float) -> str:
    return f"share_{layer.demand_column}_{layer.label_of(radius)}"


def _zone_rows(zones: pd.DataFrame) -> pd.DataFrame:
    """Return the zone-type rows of the zones table (the chart's rows)."""
    if "grouping" in zones.columns:
        return zones[zones["grouping"] == "zone_type"].drop(
            columns=["grouping", "settlement"], errors="ignore"
        )
    return zones


def zone_chart_svg(zones: pd.DataFrame, lang: str) -> str:
    """Draw the zone comparison chart (core → new towns → rural) as inline SVG."""
    return _svg(charts.zone_comparison_chart(_zone_rows(zones).reset_index(drop=True), lang=lang))


def gaps_map_png(
    boundaries: gpd.GeoDataFrame,
    gaps: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    top: int = 10,
    title: str = "",
    streets: gpd.GeoDataFrame | None = None,
    lang: str = "en",
) -> str:
    """Draw the gaps map (PNG data URI): :func:`geoapp.report_figures.region_map`.

    Districts by zone type and labelled, the streets, facilities and the ranked gaps,
    with a legend, a metric scale bar and a north arrow; it opens on the data (gaps,
    facilities) within the districts.
    """
    fig = report_figures.region_map(boundaries, gaps=gaps, facilities=facilities,
                                    streets=streets, lang=lang, top=top, title=title)  # fmt: skip
    return "data:image/png;base64," + base64.b64encode(report_figures.figure_png(fig)).decode()


def _css() -> str:
    return f"""
@page {{ size: A4; margin: 16mm 14mm 18mm 14mm;
  @bottom-center {{ content: counter(page) " / " counter(pages); font-size: 8pt; color: #666; }} }}
body {{ font-family: {FONT_STACK}; font-size: 10pt; color: #222; line-height: 1.45; max-width: 60em; margin: 0 auto; padding: 0 1em; }}
h1 {{ font-size: 20pt; margin: 0.2em 0 0.1em; }}
h2 {{ font-size: 13.5pt; border-bottom: 2px solid #3b6ea8; padding-bottom: 2px; margin-top: 1.4em; page-break-after: avoid; }}
h3 {{ font-size: 11pt; margin: 1em 0 0.3em; page-break-after: avoid; }}
p.sub {{ color: #555; margin-top: 0; }}\np.clause {{ font-size: 8.5pt; color: #444; margin: 0 0 0.2em; }}
.synthetic {{ background: #fff3cd; border: 1px solid #e0b000; padding: 4px 8px; font-weight: bold; }}
table {{ border-collapse: collapse; width: 100%; margin: 0.4em 0 0.8em; font-size: 8.5pt; page-break-inside: auto; }}
tr {{ page-break-inside: avoid; }}
th, td {{ border: 1px solid #ccc; padding: 2px 5px; text-align: left; vertical-align: top; }}
th {{ background: #eef2f7; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
table.kv th {{ width: 28%; }}
.met {{ color: #1a7f37; font-weight: bold; }}
.not_met {{ color: #b42318; font-weight: bold; }}
.no_data {{ color: #8a6d00; font-weight: bold; }}
.sha {{ font-family: "DejaVu Sans Mono", monospace; font-size: 7pt; word-break: break-all; }}
pre {{ white-space: pre-wrap; word-break: break-all; background: #f5f5f5; padding: 6px; font-size: 8pt; }}
figure {{ margin: 0.5em 0; page-break-inside: avoid; }}
figure svg, figure img {{ max-width: 100%; height: auto; }}
figcaption {{ font-size: 8.5pt; color: #555; }}
ul.warn li {{ margin-bottom: 0.2em; }}
td.met, td.not_met, td.no_data {{ white-space: nowrap; }}
.newpage {{ page-break-after: always; }}
section.cover h1 {{ font-size: 26pt; margin-top: 30mm; }}
section.cover p.sub {{ font-size: 13pt; margin-bottom: 18mm; }}
table.cover {{ font-size: 11pt; }}
table.cover th {{ width: 30%; }}
ol.toc {{ list-style: none; padding-left: 0; font-size: 11pt; }}
ol.toc li {{ margin: 0.35em 0; }}
ol.toc a {{ color: #222; text-decoration: none; }}
ol.toc a::after {{ content: leader('.') target-counter(attr(href), page); }}
ol.findings li, ol.recs li {{ margin-bottom: 0.45em; }}
div.atlas h3 {{ font-size: 13pt; }}
"""


def _section(sid: str, heading: str, body: str, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<section id="{sid}"{c}><h2>{esc(heading)}</h2>{body}</section>'


def headings(t: Mapping[str, str], sections: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Return ``{section id: (number, heading)}``: 1, 2 ... then appendices A, B ...

    The summary is unnumbered; :data:`APPENDICES` come last, lettered.
    """
    out: dict[str, tuple[str, str]] = {}
    k = 0
    for sid in sections:
        if sid == "summary":
            out[sid] = ("", t["h_summary"])
        elif sid not in APPENDICES:
            k += 1
            out[sid] = (str(k), f"{k} {t['h_' + sid]}")
    for j, sid in enumerate(s for s in sections if s in APPENDICES):
        letter = "ABCDEFGH"[j]
        out[sid] = (letter, f"{t['appendix'].format(k=letter)} {t['h_' + sid]}")
    return out


def _n_districts_with_data(b: pd.DataFrame) -> int:
    """Return how many districts the data covers (all of them when it covers every one)."""
    if DATA_AREA_COLUMN in b.columns:
        return int((pd.to_numeric(b[DATA_AREA_COLUMN], errors="coerce").fillna(0) > 0).sum())
    return len(b)


def _area(d: ReportData, t: Mapping[str, str], lang: str) -> str:
    b = d.boundaries
    first = next(iter(d.analyses.values()), None)
    s = first.summary if first is not None else pd.DataFrame()
    reg = s[s["level"] == "region"].iloc[0] if len(s) and (s["level"] == "region").any() else {}
    bbox = d.region_meta.get("bbox")
    rows = [
        (t["region"], d.region_name),
        (t["source"], pages.localise(scrub_paths(d.source), lang, t)),
        (t["districts"], _n_districts_with_data(b)),
        (t["area"], fmt_num(reg.get("area_km2") if len(reg) else None, 1)),
        (t["residents"], fmt_num(reg.get("pop") if len(reg) else None)),
        (t["residents60"], fmt_num(reg.get("pop_60plus") if len(reg) else None)),
        (t["bbox"], ", ".join(f"{v:.4f}" for v in bbox) if isinstance(bbox, list | tuple) else "–"),
        (t["created"], d.created),
    ]
    out = f'<p class="synthetic">{esc(t["synthetic"])}</p>' if d.synthetic else ""
    return out + _kv(rows)


def _sources(d: ReportData, t: Mapping[str, str], lang: str) -> str:
    rows = [
        f"<tr><td>{esc(pages.role_name(i.get('role'), lang))}</td>"
        f"<td>{esc(pages.shown_path(i.get('path')))}</td>"
        f"<td>{esc(i.get('date', ''))}</td></tr>"
        for i in d.inputs
    ]
    out = _table([t["what"], t["file"], t["date"]], rows)
    attribution = d.region_meta.get("attribution") or ("synthetic" if d.synthetic else "")
    attribution = pages.localise(pages.value_name(attribution, lang), lang, t)
    date = d.region_meta.get("data_date")
    how = d.region_meta.get("data_date_source") or ""
    when = (
        t["data_date_synthetic"]
        if d.synthetic
        else f"{date} ({pages.localise(how, lang, t)})"
        if date and how
        else date or t["data_date_unknown"]
    )
    src = pages.localise(scrub_paths(d.source), lang, t)
    out += _kv([(t["attribution"], attribution), (t["source"], src), (t["data_date"], when)])
    src_rows = [
        f"<tr><td>{esc(pages.profile_text(s.get('title'), lang, t))}</td>"
        f"<td>{esc(pages.profile_text(s.get('issuer', ''), lang, t))}</td>"
        f"<td>{esc(pages.profile_text(s.get('date', ''), lang, t))}</td>"
        f"<td>{esc(pages.value_name(s.get('verified', ''), lang))}</td>"
        f"<td>{esc(pages.profile_text(s.get('note', ''), lang, t))}</td></tr>"
        for s in d.profile.sources
    ]
    out += f"<h3>{esc(t['sources_profile'])}</h3>"
    out += _table(["", "", t["date"], t["verified"], t["note"]], src_rows)
    return out


def _method(d: ReportData, t: Mapping[str, str], lang: str) -> str:
    first = next(iter(d.analyses.values()), None)
    meta = first.meta if first is not None else {}
    prof = meta.get("population_profile") or {}
    share = prof.get("share_60plus")
    loc = pages.localise
    rows: list[Any] = [  # (name, value) pairs, then the life circles' table rows
        (t["method_pop"], pages.value_name(meta.get("demand_method", ""), lang)),
        (t["method_profile"], loc(t["profile_row"].format(
            name=prof.get("name", ""), m2=prof.get("m2_per_person", ""),
            share=fmt_pct(share) if _finite(share) else share, source=prof.get("source", "")), lang, t)),
        (t["method_control"], pages.value_name(meta.get("control_totals") or "–", lang)),
        (t["method_mode"], pages.value_name(meta.get("mode", ""), lang)),
        (t["method_speed"], meta.get("speed_kmh", "")),
        (t["method_search"], fmt_num(meta.get("search_limit_m"))),
        (t["method_zones"], pages.value_name(meta.get("zone_method", ""), lang)),
        (t["method_zone_params"], t["zone_params_note"]),
        (t["method_standard"], f"{d.profile.id} v{d.profile.version}: {d.profile.name(lang)}"),
        *_fca_rows(d, t, lang),
    ]  # fmt: skip
    for a in d.analyses.values():
        lay = a.layer
        reach = t["m"].format(n=fmt_num(lay.target_m))
        target = t["target_text"].format(share=fmt_pct(lay.target_share), reach=reach)
        rows.append((f"{t['method_targets']}: {_layer_name(lay, lang)}",
                     f"{t['m'].format(n=', '.join(fmt_num(r) for r in lay.radii_m))}; {target}"))  # fmt: skip
    out = _kv(rows)
    assumptions = pages.localise_all(meta.get("assumptions") or [], lang, t)
    if assumptions:
        out += (
            f"<h3>{esc(t['assumptions'])}</h3><ul>"
            + "".join(f"<li>{esc(a)}</li>" for a in assumptions)
            + "</ul>"
        )
    if d.profile.life_circles:
        rows = [
            f"<tr><td>{esc((c.get('label') or {}).get(lang, c.get('id')))}</td>"
            f"<td class='n'>{esc(c.get('minutes'))}</td>"
            f"<td class='n'>{esc('–'.join(dict.fromkeys(fmt_num(r) for r in c.get('reach_m', []))))}</td>"
            f"<td>{esc((c.get('facilities') or {}).get(lang, ''))}</td>"
            f"<td>{esc(pages.profile_text(c.get('clause', ''), lang, t))}</td></tr>"
            for c in cast("Sequence[Mapping[str, Any]]", d.profile.life_circles)
        ]
        head = ["", t["minutes"], t["reach_std"], t["facilities"], t["clause"]]
        out += f"<h3>{esc(t['circles'])}</h3>" + _table(head, rows)
    return out


def _fca_rows(d: ReportData, t: Mapping[str, str], lang: str) -> list[tuple[str, str]]:
    """Return the floating catchment method of the capacity section as a (name, value) row."""
    sup = next(iter(d.supply.values()), None)
    method = sup.method if sup is not None else d.fca_method
    return [(t["fca_method"], pages.fca_label(method, sup.decay if sup else None, lang))]


def _compliance(d: ReportData, t: Mapping[str, str], lang: str) -> str:
    c = d.compliance
    rules = {r.id: r for r in d.profile.rules}
    out = ""
    for rid in dict.fromkeys(c["rule"]):
        part = c[c["rule"] == rid]
        rule = rules.get(rid)
        first = part.iloc[0]
        title = rule.name(lang) if rule else rid
        out += (
            f'<h3 class="rule">{esc(title)}</h3><p class="clause">{esc(pages.layer_label(d, first["layer"], lang))} · '
            f"{esc(pages.profile_text(rule.clause if rule else first['clause'], lang, t))}"
            + esc(
                t["verified_in"].format(
                    what=t["verified"],
                    value=pages.value_name(rule.verified if rule else first["verified"], lang),
                )
            )
            + "</p>"
        )
        rows = []
        for _, r in part.iterrows():
            level = t.get(f"l_{r['level']}", r["level"])
            group = zone_name(r["group"], lang) if r["level"] == "zone_type" else r["group"]
            status = r["status"]
            val = fmt_value(r["indicator"], r["value"])
            if not _finite(r["value"]) and status == "no_data":
                val = t["no_data"]  # no data is said, never shown as 0 or a dash
            elif r["lower_bound"] and _finite(r["value"]):
                val = f"≥ {val}"
            thr = fmt_value(r["indicator"], r["threshold"])
            differs = rule is not None and r["clause"] != rule.clause
            why = _reason(r, t, lang)
            clause = pages.profile_text(r["clause"], lang, t) if differs else ""
            note = " — ".join(x for x in (clause, why) if x)
            rows.append(
                f'<tr data-rule="{esc(rid)}" data-level="{esc(r["level"])}" data-group="{esc(r["group"])}">'
                + _td(esc(level))
                + _td(esc(group))
                + _td(esc(zone_name(r["zone_type"], lang) if r["zone_type"] else ""))
                + _td(esc(fmt_num(r["reach_m"])), r["reach_m"], "n")
                + _td(esc(fmt_num(r.get("standard_reach_m"))), cls="n")
                + _td(esc(val), r["value"], "n")
                + _td(esc(thr), r["threshold"], "n")
                + _td(esc(t.get(status, status)), status, status)
                + _td(esc(note))
                + "</tr>"
            )
        head = [t["level"], t["group"], t["zone"], t["reach"], t["reach_std"], t["value"],
                t["threshold"], t["status"], t["reason"]]  # fmt: skip
        out += _table(head, rows, "compliance")
    out += f"<p class='note'>{esc(t['reach_help'])}</p>"
    out += f"<p class='note'>{esc(t['verified_help'])}</p>"
    cap = esc(t["chart_caption"])
    out += f'<figure data-png="zones">{zone_chart_svg(d.zones, lang)}<figcaption>{cap}</figcaption></figure>'
    return out


def _reason(r: Mapping[str, Any], t: Mapping[str, str], lang: str) -> str:
    """Why a compliance row is met or not, in the report's language."""
    why = str(r.get("status_reason", r.get("note", "")) or "")
    if lang != "zh" or not re.search(r"[A-Za-z]{3,}", why):  # any English word, not only runs
        return why
    if r["status"] in ("met", "not_met") and _finite(r["value"]):
        val = fmt_value(r["indicator"], r["value"])
        thr = fmt_value(r["indicator"], r["threshold"])
        reach = f"{fmt_num(r['reach_m'])} 米内" if _finite(r.get("reach_m")) else ""
        verdict = "达到" if r["status"] == "met" else "低于"
        return f"{reach}{val}，{verdict}标准值 {thr}"
    return pages.localise(reason_in_language(why, lang), lang, t)


def league_rows(analysis: Any) -> pd.DataFrame:  # a LayerAnalysis
    """District rows of a layer's summary, ranked by the share at the target (best first)."""
    s = export.csv_ready(analysis.summary)  # the figures of summary.csv
    lay = analysis.layer
    col = _share_col(lay, lay.target_m)
    dist = s[s["level"] == "district"].copy()
    if col not in dist.columns:
        return dist
    return dist.sort_values(col, ascending=False, kind="stable", na_position="last")


def _league(d: ReportData, t: Mapping[str, str], lang: str) -> str:
    out = f"<p>{esc(t['league_caption'])}</p>"
    names = report_figures.district_names(d.boundaries, lang)
    for lid, a in d.analyses.items():
        lay = a.layer
        dist = league_rows(a)
        radii = list(lay.radii_m)
        head = [t["rank"], t["district"], t["residents"] if lay.demand_column == "pop" else t["residents60"],
                *[t["share_at"].format(r=f"{fmt_num(r)} m") for r in radii], t["facilities"], t["status"]]  # fmt: skip
        rows = []
        for k, (_, r) in enumerate(dist.iterrows(), start=1):
            no_data = r.get("status") == "no_data"  # its shares are empty: said, never 0.0%
            shares = "".join(
                _td(
                    esc(t["no_data"] if no_data else fmt_pct(r.get(_share_col(lay, rad)))),
                    r.get(_share_col(lay, rad)),
                    "n",
                )
                for rad in radii
            )
            rows.append(
                f'<tr data-layer="{esc(lid)}" data-district="{esc(r["group"])}">'
                + _td(str(k), cls="n")
                + _td(esc(names.get(str(r["group"]), r["group"])))
                + _td(esc(fmt_num(r.get(lay.demand_column))), r.get(lay.demand_column), "n")
                + shares
                + _td(esc(fmt_num(r.get("n_facilities"))), cls="n")
                + _td(esc(t.get(str(r.get("status")), r.get("status"))))
                + "</tr>"
            )
        out += f"<h3>{esc(_layer_name(lay, lang))}</h3>" + _table(head, rows, "league")
    return out


def _gaps(d: ReportData, t: Mapping[str, str], lang: str, top: int = 10) -> str:
    out = ""
    names = report_figures.district_names(d.boundaries, lang)
    for a in d.analyses.values():
        out += f"<h3>{esc(_layer_name(a.layer, lang))}</h3>"
        g = a.gaps
        if g is None or not len(g):
            out += f"<p>{esc(t['no_gaps'])}</p>"
            if len(a.facilities):  # still a map: where the facilities are
                img = gaps_map_png(d.boundaries, g, a.facilities, streets=d.streets, lang=lang)
                out += f'<figure><img alt="map" src="{img}"/><figcaption>{esc(t["map_caption"])}</figcaption></figure>'
            continue
        rows = []
        for _, r in g.sort_values("rank").head(top).iterrows():
            reason = r.get("reason_zh") if lang == "zh" else r.get("reason")
            rows.append(
                "<tr>"
                + _td(str(int(r["rank"])), cls="n")
                + _td(esc(names.get(str(r.get("district")), r.get("district"))))
                + _td(esc(zone_name(str(r.get("zone_type")), lang)))
                + _td(esc(fmt_num(r.get("uncovered_demand"))), r.get("uncovered_demand"), "n")
                + _td(esc(_dist(r.get("nearest_m"), t)), cls="n")
                + _td(esc(reason))
                + "</tr>"
            )
        out += _table(
            [t["rank"], t["district"], t["zone"], t["uncovered"], t["median"], t["reason"]], rows
        )
        img = gaps_map_png(d.boundaries, g, a.facilities, top=top, streets=d.streets, lang=lang)
        out += f'<figure><img alt="map" src="{img}"/><figcaption>{esc(t["map_caption"])}</figcaption></figure>'
    return out


def _heritage(d: ReportData, t: Mapping[str, str], lang: str) -> str:
    h = d.heritage
    if h is None or not len(getattr(h, "sites", [])) and not len(getattr(h, "zones", [])):
        return f"<p>{esc(t['no_heritage'])}</p>"
    s = h.summary
    reach = next((c for c in s.columns if str(c).startswith("share_pop_designated_")), None)
    rows = []
    for _, r in s.iterrows():
        group = zone_name(r["group"], lang) if r["level"] == "zone_type" else r["group"]
        group = d.region_name if r["level"] == "region" else group  # as every other table
        share = r.get(reach) if reach else None
        pct = "–" if share is None or pd.isna(share) else f"{100 * float(share):.0f}%"
        rows.append(
            "<tr>"
            + _td(esc(t.get(f"l_{r['level']}", r["level"])))
            + _td(esc(group))
            + _td(
                esc(f"{fmt_num(r.get('n_designated'))} ({fmt_num(r.get('n_national'))})"),
                cls="n",
            )
            + _td(esc(fmt_num(r.get("n_undesignated"))), cls="n")
            + _td(esc(fmt_num(r.get("n_protected_sites"))), cls="n")
            + _td(esc(fmt_num(r.get("protected_area_km2"), 2)), cls="n")
            + (_td(esc(pct), cls="n") if reach else "")
            + "</tr>"
        )
    head = [t["level"], t["group"], t["designated"], t["undesignated"], t["protected"]]
    head.append(t["protected_area"])
    if reach:
        head.append(t["designated_reach"].format(m=reach.rsplit("_", 1)[-1]))
    return pages.heritage_lead(h, lang) + _table(head, rows)


def _capacity(d: ReportData, t: Mapping[str, str], lang: str) -> str:
    c = d.compliance
    beds = c[c["indicator"] == "beds_per_1000_60plus"]
    has = any(
        "capacity" in a.facilities.columns
        and pd.to_numeric(a.facilities["capacity"], errors="coerce").notna().any()
        for a in d.analyses.values()
    )
    if not has or not len(beds):
        return f"<p>{esc(pages.no_capacity_text(d, t))}</p>"
    fca = pages.supply_html(d, t, lang)
    rows = [
        "<tr>"
        + _td(esc(t.get(f"l_{r['level']}", r["level"])))
        + _td(esc(zone_name(r["group"], lang) if r["level"] == "zone_type" else r["group"]))
        + _td(esc(fmt_num(r["capacity"])), r["capacity"], "n")
        + _td(esc(fmt_num(r["residents"])), cls="n")
        + _td(esc(fmt_num(r["value"], 1)), r["value"], "n")
        + _td(esc(t.get(r["status"], r["status"])), r["status"], r["status"])
        + "</tr>"
        for _, r in beds.iterrows()
    ]
    return (
        _table([t["level"], t["group"], t["capacity"], t["residents60"], t["per1000"], t["status"]],
               rows)
        + fca
    )  # fmt: skip


def _compare(d: ReportData, t: Mapping[str, str], lang: str) -> str:
    cmp = d.comparison
    if cmp is None:
        return f"<p>{esc(t['no_compare'])}</p>"
    from geoapp import lookback

    return lookback.comparison_html(cmp, lang=lang, boundaries=d.boundaries)


def _projection(d: ReportData, t: Mapping[str, str], lang: str) -> str:
    p = d.projection
    if not p:
        return f"<p>{esc(t['no_projection'])}</p>"
    out = f"<p>{esc(t['projection_text'].format(year=p.get('year'), file=p.get('file'), note=p.get('note', '')))}</p>"
    table = p.get("table")
    if isinstance(table, pd.DataFrame) and len(table):
        gl = list(p.get("gap_layers") or [])
        head = [
            t["district"],
            f"{t['residents60']} ({t['before']})",
            f"{t['residents60']} ({t['after']})",
        ]
        for lid in gl:
            head += [
                f"{t['proj_gap']} {lid} ({t['before']})",
                f"{t['proj_gap']} {lid} ({t['after']})",
            ]
        rows = []
        for _, r in table.iterrows():
            cells = _td(esc(r["district"])) + _td(esc(fmt_num(r["pop_60plus_before"])), cls="n")
            cells += _td(esc(fmt_num(r["pop_60plus_after"])), r["pop_60plus_after"], "n")
            for lid in gl:
                cells += _td(esc(fmt_num(r[f"uncovered_60plus_before_{lid}"])), cls="n")
                cells += _td(esc(fmt_num(r[f"uncovered_60plus_after_{lid}"])), cls="n")
            rows.append(f"<tr>{cells}</tr>")
        out += _table(head, rows)
    return out


def _limitations(d: ReportData, t: Mapping[str, str], lang: str) -> str:
    items: list[str] = []
    if d.synthetic:
        items.append(t["limit_synthetic"])
    items.extend(group_warnings(d.warnings))
    first = next(iter(d.analyses.values()), None)
    demand_profile = (
        (first.meta if first is not None else {}).get("population_profile") or {}
    ).get("name")
    if d.profile.id.startswith("cn-") and demand_profile and demand_profile != "china":
        items.append(t["limit_foreign"].format(profile=d.profile.id, demand=demand_profile))
    for rule in d.profile.rules:
        for th in [rule.for_zone(None), *rule.zones.values()]:
            if th.verified == "unverified":
                clause = pages.profile_text(th.clause, lang, t)
                items.append(ui_text("limit_unverified", lang, rule=rule.name(lang), clause=clause))
    n = int((d.compliance["status"] == "no_data").sum()) if len(d.compliance) else 0
    if n:
        items.append(t["limit_nodata"].format(n=n))
    items = pages.localise_all([scrub_paths(i) for i in items], lang, t)
    return '<ul class="warn">' + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def _round(v: Any) -> Any:
    """Return a parameter as people read it: floats to 4 significant digits."""
    return pages.plain_number(v) if isinstance(v, float) else v


def _repro(d: ReportData, t: Mapping[str, str], lang: str) -> str:
    rows = [
        f"<tr><td>{esc(pages.role_name(i.get('role'), lang))}</td><td>{esc(i.get('path'))}</td>"
        f"<td class='n'>{esc(fmt_num(i.get('bytes')))}</td><td class='sha'>{esc(i.get('sha256'))}</td></tr>"
        for i in d.inputs
    ]
    out = _table([t["what"], t["file"], t["bytes"], t["sha"]], rows)
    out += f"<p>{esc(ui_text('report_paths_note', lang))}</p>"
    out += f"<h3>{esc(t['command'])}</h3><pre>{esc(d.command)}</pre>"
    out += f"<h3>{esc(t['verify'])}</h3><pre>geoapp verify {esc(d.params.get('out', 'DIR'))}</pre>"
    out += f"<h3>{esc(t['param'])}</h3>" + _kv(
        [
            *_fca_rows(d, t, lang),
            *(
                (k, json.dumps(v, ensure_ascii=False, default=str))
                for k, v in d.params.items()
                if v not in (None, "", [], {})  # unset parameters: in report.json, not here
            ),
        ]
    )
    first = next(iter(d.analyses.values()), None)
    zp = (first.meta if first is not None else {}).get("zone_params") or {}
    zrows = [(k, _round(v)) for k, v in zp.items() if not isinstance(v, dict)]
    if zrows:
        out += f"<h3>{esc(t['method_zone_params'])}</h3>" + _kv(zrows)
    out += f"<h3>{esc(t['package'])}</h3>" + _kv(list(d.versions.items()))
    return out


_BUILDERS = {
    "area": _area, "sources": _sources, "method": _method, "compliance": _compliance,
    "league": _league, "gaps": _gaps, "heritage": _heritage, "capacity": _capacity,
    "compare": _compare, "projection": _projection, "limitations": _limitations, "repro": _repro,
}  # fmt: skip


def render_html(data: ReportData, lang: str = "en", progress: Progress | None = None) -> str:
    """Return the report as one self-contained HTML page (no external resource).

    A cover, the contents, the executive summary, the numbered sections (the atlas, a
    page per district, when ``data.atlas``), then the appendices (sources; parameters,
    hashes and versions).
    """
    t = T["zh" if lang == "zh" else "en"]
    order = [s for s in SECTIONS if s not in APPENDICES]
    order += [ATLAS] if data.atlas else []
    order += list(APPENDICES)
    heads = headings(t, order)
    numbers = {sid: n for sid, (n, _) in heads.items()}
    parts = []
    for k, sid in enumerate(order):
        if progress:
            progress(f"report: {sid}", 0.1 + 0.5 * k / len(order))
        if sid == "summary":
            body, cls = pages.summary_html(data, t, lang, numbers), "newpage"
        elif sid == ATLAS:
            body, cls = pages.atlas_html(data, t, lang), ""
        else:
            body, cls = _BUILDERS[sid](data, t, lang), ""
        parts.append(_section(sid, heads[sid][1], body, cls))
    title = f"{t['title']}: {data.region_name}"
    contents = pages.contents_html([(sid, heads[sid][1]) for sid in order], t)
    page = (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_css()}</style></head><body>"
        + pages.cover_html(data, t, lang)
        + contents
        + "".join(parts)
        + "</body></html>"
    )
    # the synthetic mark of the region's name in every text (not in data-* attributes)
    return re.sub(r">([^<]+)<", lambda m: f">{pages.region_label(m[1], lang)}<", page)


def write_pdf(html_text: str, path: str | os.PathLike[str]) -> Path:
    """Render the HTML to PDF with WeasyPrint (fonts from fontconfig, subset-embedded)."""
    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    css = (
        weasyprint.CSS(
            string=f'@font-face {{ font-family: "WenQuanYi Micro Hei"; src: url("file://{CJK_FONT_FILE}"); }}'
        )
        if Path(CJK_FONT_FILE).is_file()
        else None
    )
    with atomic_path(path) as tmp:
        weasyprint.HTML(string=html_text, base_url=None).write_pdf(
            tmp, stylesheets=[css] if css else None
        )
    return Path(path)


def write_report(
    data: ReportData,
    out_dir: str | os.PathLike[str],
    *,
    lang: str = "en",
    pdf: bool = True,
    docx: bool | None = None,
    record: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Write ``report.html``, ``report.pdf``, ``report.docx``, ``compliance.csv``, ``report.json``.

    Parameters
    ----------
    data
        What the report shows.
    out_dir
        An existing folder (``assess.build_report`` passes the temporary folder it
        swaps in at the end).
    lang
        ``"zh"`` or ``"en"``.
    pdf
        Also render the PDF (WeasyPrint).
    docx
        Also write ``report.docx`` (python-docx): the same headings, tables and maps, to
        edit (:func:`geoapp.report_docx.write_docx`); None: alongside the PDF.
    record
        Extra fields for ``report.json`` (bundle folders, layer ids ...).
    """
    out = Path(out_dir)
    data = replace(data, region_name=pages.region_label(data.region_name, lang))
    html_text = render_html(data, lang, progress)
    paths: dict[str, Path] = {}
    with atomic_path(out / "report.html") as tmp:
        tmp.write_text(html_text, encoding="utf-8")
    paths["html"] = out / "report.html"
    comp = data.compliance.copy()
    export.csv_safe(comp).to_csv(out / "compliance.csv", index=False)
    paths["compliance"] = out / "compliance.csv"
    if pdf:
        if progress:
            progress("report: PDF", 0.7)
        paths["pdf"] = write_pdf(html_text, out / "report.pdf")
    if pdf if docx is None else docx:
        from geoapp import report_docx

        if progress:
            progress("report: DOCX", 0.8)
        chart = charts.zone_comparison_chart(
            _zone_rows(data.zones).reset_index(drop=True), lang=lang
        )
        paths["docx"] = report_docx.write_docx(
            html_text, out / "report.docx", images={"zones": report_figures.figure_png(chart)},
            lang=lang, title=f"{T[lang if lang == 'zh' else 'en']['title']}: {data.region_name}",
        )  # fmt: skip
    rec = {
        "geoapp_report": 1,
        "lang": lang,
        "created": data.created,
        "organisation": data.organisation,
        "atlas": data.atlas,
        "command": data.command,
        "params": dict(data.params),
        "inputs": [dict(i) for i in data.inputs],
        "versions": dict(data.versions),
        "profile": {
            "id": data.profile.id,
            "version": data.profile.version,
            "file": public_path(data.profile.file),  # no folder of this machine
        },
        **dict(record or {}),
    }
    rec["files"] = sorted([*(p.name for p in paths.values()), REPORT_JSON, MANIFEST])
    with atomic_path(out / REPORT_JSON) as tmp:
        tmp.write_text(json.dumps(rec, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    paths["record"] = out / REPORT_JSON
    return paths


def read_record(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return a report folder's ``report.json``, or None when it is not a report folder."""
    try:
        rec = json.loads((Path(folder) / REPORT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) and rec.get("geoapp_report") else None


def check_report_target(folder: str | os.PathLike[str]) -> None:
    """Raise unless a report may be written to ``folder`` (new, empty or an earlier report).

    Raises
    ------
    OutputError
        ``folder`` is a file, or a folder holding anything but an earlier report's files.
    """
    folder = Path(folder)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise OutputError(f"--out {folder} is a file; give a folder for the report")
    entries = {p.name for p in folder.iterdir()}
    if not entries:
        return
    rec = read_record(folder)
    if rec is None:
        raise OutputError(
            f"--out {folder} is not empty and holds no geoapp report ({REPORT_JSON}); choose a "
            "new or empty folder (a report replaces its folder as a whole)."
        )
    other = entries - set(rec.get("files", [])) - {BUNDLES}
    if other:
        raise OutputError(
            f"--out {folder} holds files that are not part of its report: "
            f"{', '.join(sorted(other)[:5])}; move them or choose another folder."
        )


__all__ = [
    "ReportData", "write_report", "render_html", "write_pdf", "read_record", "check_report_target",
    "SECTIONS", "T", "REPORT_JSON", "BUNDLES", "league_rows", "fmt_pct", "fmt_num", "fmt_value",
    "zone_chart_svg", "gaps_map_png", "options", "current_options", "headings", "APPENDICES",
    "ATLAS",
]  # fmt: skip
