"""Tables people read: translated headers with units, rounded values, zone names.

Free of Streamlit so it can be tested directly. :func:`readable` turns a result
table of :mod:`geoapp` (coverage summary, zone comparison, heritage summary, gaps)
into a :class:`Table`: a frame whose headers are in the reader's language (units in
the header, never an internal column name such as ``share_pop_300``) and whose
values are display-ready (shares in percent, counts as integers, distances in whole
metres, zone and mode ids by name, rows in zone order core -> new towns -> rural),
plus the number format of each column for the page (``column_kinds``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geoapp.i18n import t
from geoapp.styles import zone_fine_name, zone_name, zone_sort_key

#: Column kinds: how a page formats a column (see :func:`readable`).
PERCENT, INT, FLOAT1, FLOAT2, TEXT = "percent", "int", "float1", "float2", "text"

#: Internal columns never shown (ids and bookkeeping).
HIDDEN = frozenset(
    {
        "layer_label",
        "layer_label_zh",
        "reason_zh",
        "level",
        "gap_id",
        "geometry",
        "h3",
        "district_code",
        "layer_file",
        "covered_demand",
        "demand",
        "site_id",
        "zone_id",
        "geometry_kind",
        "search_limit_m",
        "target_share",
        "status",
        "access_mode",
        "n_cells",
    }
)

# fixed columns: key -> (English header, Chinese header, kind)
_FIXED: dict[str, tuple[str, str, str]] = {
    "layer": ("Service layer", "服务类型", TEXT),
    "group": ("Area", "范围", TEXT),
    "district": ("District", "区县", TEXT),
    "zone_type": ("Zone type", "分区类型", TEXT),
    "zone_fine": ("Planning zone", "规划分区", TEXT),
    "settlement": ("Settlement", "聚落类型", TEXT),
    "n_facilities": ("Facilities", "设施数", INT),
    "facilities": ("Facilities", "设施数", INT),
    "pop": ("Residents", "常住人口", INT),
    "pop_60plus": ("Residents aged 60+", "60岁及以上人口", INT),
    "area_km2": ("Area (km²)", "面积（平方公里）", FLOAT1),
    "settled_km2": ("Settled area (km²)", "建成区面积（平方公里）", FLOAT1),
    "median_dist_m": ("Median distance (m)", "距离中位数（米）", INT),
    "p90_dist_m": ("90% of residents within (m)", "90%居民距离（米）", INT),
    "facilities_per_10k": ("Facilities per 10,000 served", "每万服务人口设施数", FLOAT2),
    "gini_dist": ("Inequality of distances (Gini)", "距离不均衡（基尼系数）", FLOAT2),
    "target_radius_m": ("Target reach (m)", "目标距离（米）", INT),
    "target_m": ("Target reach (m)", "目标距离（米）", INT),
    "share_at_target": ("Covered at target (%)", "目标距离内覆盖率（%）", PERCENT),
    "below_target": ("Below target", "低于目标", TEXT),
    "n_sites": ("Designated heritage sites", "文物保护单位", INT),
    "n_protected_sites": (
        "Designated sites inside a protected zone",
        "位于保护区内的文物保护单位",
        INT,
    ),
    "n_unprotected_sites": (
        "Designated sites outside protected zones",
        "位于保护区外的文物保护单位",
        INT,
    ),
    "n_zones": ("Protected zones", "保护区", INT),
    "protected_area_km2": ("Protected area (km²)", "保护区面积（平方公里）", FLOAT2),
    "land_area_km2": ("Land area with data (km²)", "有数据的土地面积（平方公里）", FLOAT1),
    "share_sites_protected": (
        "Designated sites inside a protected zone (%)",
        "位于保护区内的文物保护单位占比（%）",
        PERCENT,
    ),
    "share_land_protected": ("Land protected (%)", "受保护土地占比（%）", PERCENT),
    "name": ("Name", "名称", TEXT),
    "kind": ("Kind", "类型", TEXT),
    "rank": ("Rank", "排名", INT),
    "uncovered_pop": ("Uncovered residents", "未覆盖居民", INT),
    "uncovered_pop_60plus": ("Uncovered residents aged 60+", "未覆盖60岁及以上居民", INT),
    "uncovered_demand": ("Uncovered residents", "未覆盖居民", INT),
    "share_uncovered": ("Uncovered share (%)", "未覆盖占比（%）", PERCENT),
    "nearest_m": ("Nearest facility, median (m)", "最近设施距离中位数（米）", INT),
    "max_nearest_m": ("Nearest facility, farthest resident (m)", "最远居民距最近设施（米）", INT),
    "reason": ("Why", "原因", TEXT),
    "protected": ("Inside a protected zone", "位于保护区内", TEXT),
    "unprotected": ("Unprotected", "未受保护", TEXT),
}

# radius-dependent columns: prefix -> (English header, Chinese header, kind); {reach}
# is the radius or walking time ("300 m", "15 min walk (1,125 m)")
_PER_RADIUS: dict[str, tuple[str, str, str]] = {
    "share_pop_60plus_": (
        "Aged 60+ covered within {reach} (%)",
        "{reach}内60岁以上覆盖率（%）",
        PERCENT,
    ),
    # a classified heritage layer's groups (geoapp.layers.CLASS_GROUPS)
    "share_pop_national_": (
        "Residents within {reach} of a national site (%)",
        "{reach}内可达国家级文物的居民（%）",
        PERCENT,
    ),
    "share_pop_provincial_": (
        "Residents within {reach} of a provincial or higher site (%)",
        "{reach}内可达省级及以上文物的居民（%）",
        PERCENT,
    ),
    "share_pop_local_": (
        "Residents within {reach} of a local or higher site (%)",
        "{reach}内可达区县级及以上文物的居民（%）",
        PERCENT,
    ),
    "share_pop_designated_": (
        "Residents within {reach} of a designated site (%)",
        "{reach}内可达各级文物保护单位的居民（%）",
        PERCENT,
    ),
    "share_pop_undesignated_": (
        "Residents within {reach} of an unprotected historic feature (%)",
        "{reach}内可达未定级历史遗存的居民（%）",
        PERCENT,
    ),
    "share_pop_": ("Residents covered within {reach} (%)", "{reach}内居民覆盖率（%）", PERCENT),
    "share_area_": ("Settled area within {reach} (%)", "{reach}内建成区占比（%）", PERCENT),
    "share_demand_": ("Covered within {reach} (%)", "{reach}内覆盖率（%）", PERCENT),
    "covered_pop_60plus_": ("Aged 60+ within {reach}", "{reach}内60岁以上居民", INT),
    "covered_pop_": ("Residents within {reach}", "{reach}内居民", INT),
    "ratio_to_core_": (
        "Coverage vs urban core, {reach} (urban core = 1)",
        "{reach}覆盖率与中心城区之比（中心城区=1）",
        FLOAT2,
    ),
}
_RADIUS_RE = re.compile(r"^(?P<prefix>[a-z0-9_]+?_)(?P<label>\d+(?:\.\d+)?(?:min)?)$")

#: Readable names of heritage ``kind`` values (OSM ``historic=*`` and a few others).
HERITAGE_KINDS: dict[str, tuple[str, str]] = {
    "building": ("Historic building", "历史建筑"),
    "temple": ("Temple", "寺庙"),
    "city_gate": ("City gate", "城门"),
    "monument": ("Monument", "纪念碑"),
    "memorial": ("Memorial", "纪念物"),
    "archaeological_site": ("Archaeological site", "考古遗址"),
    "castle": ("Castle / fortress", "城堡"),
    "palace": ("Palace", "宫殿"),
    "ruins": ("Ruins", "遗迹"),
    "tomb": ("Tomb", "墓葬"),
    "wall": ("Historic wall", "城墙"),
    "city_wall": ("City wall", "城墙"),
    "church": ("Church", "教堂"),
    "manor": ("Manor", "宅第"),
    "monastery": ("Monastery", "寺院"),
    "wayside_shrine": ("Wayside shrine", "路边神龛"),
    "district": ("Historic district", "历史街区"),
    "heritage": ("Listed heritage", "登记文物"),
    "protected_area": ("Protected zone", "保护区"),
    "milestone": ("Milestone", "里程碑"),
    "boundary_stone": ("Boundary stone", "界碑"),
    "bridge": ("Historic bridge", "古桥"),
    "yes": ("Historic feature", "历史遗存"),
}


@dataclass
class Table:
    """A display-ready table: translated headers and the number format of each column."""

    frame: pd.DataFrame
    column_kinds: dict[str, str] = field(default_factory=dict)


def reach_text(label: str, lang: str = "en", reach_m: Mapping[str, float] | None = None) -> str:
    """Return a radius label (``"300"`` or ``"15min"``) for a header: ``"300 m"``, ``"15 min"``.

    ``reach_m`` (``{label: metres}``, e.g. ``LayerAnalysis.meta["reach_m"]``) adds the
    distance a walking time stands for at the run's speed.
    """
    zh = lang == "zh"
    if label.endswith("min"):
        mins = label[:-3]
        text = f"{mins} 分钟" if zh else f"{mins} min"
        metres = (reach_m or {}).get(label)
        if metres is not None and math.isfinite(float(metres)):
            text += f"（{float(metres):,.0f} 米）" if zh else f" ({float(metres):,.0f} m)"
        return text
    try:
        return f"{float(label):,.0f} 米" if zh else f"{float(label):,.0f} m"
    except ValueError:
        return label


def column_header(
    column: str, lang: str = "en", reach_m: Mapping[str, float] | None = None
) -> tuple[str, str] | None:
    """Return ``(header, kind)`` of a result column, or None for a column not known."""
    i = 1 if lang == "zh" else 0
    if column in _FIXED:
        spec = _FIXED[column]
        return spec[i], spec[2]
    m = _RADIUS_RE.match(column)
    if m:
        prefix, label = m.group("prefix"), m.group("label")
        # the longest known prefix that matches (share_pop_60plus_ before share_pop_)
        for known, spec in _PER_RADIUS.items():
            if prefix == known:
                return spec[i].format(reach=reach_text(label, lang, reach_m)), spec[2]
    return None


def heritage_kind(kind: object, lang: str = "en") -> str:
    """Return a readable name of a heritage ``kind`` (OSM tag value, or a numeric code)."""
    text = "" if kind is None or (isinstance(kind, float) and math.isnan(kind)) else str(kind)
    entry = HERITAGE_KINDS.get(text)
    if entry is not None:
        return entry[1 if lang == "zh" else 0]
    if text.isdigit():  # e.g. heritage=4 (a listing level)
        return f"文物保护等级 {text}" if lang == "zh" else f"Heritage listing, level {text}"
    if not text:
        return "未注明" if lang == "zh" else "not stated"
    return text.replace("_", " ")


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def _fmt_number(v: float, kind: str, lang: str) -> str:
    if not math.isfinite(v):
        return t("not_reachable", lang) if v > 0 else "–"
    if kind == PERCENT:
        return f"{v * 100:.1f}%"
    if kind == INT:
        return f"{v:,.0f}"
    if kind == FLOAT1:
        return f"{v:,.1f}"
    return f"{v:,.2f}"


def readable(
    df: pd.DataFrame,
    lang: str = "en",
    *,
    columns: Sequence[str] | None = None,
    layer_name: Callable[[str], str] | None = None,
    reach_m: Mapping[str, float] | None = None,
    sort_zones: bool = True,
    headers: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Table:
    """Return a display-ready :class:`Table` of a geoapp result table.

    Parameters
    ----------
    df
        A result table (``LayerAnalysis.summary``, ``workflow.compare``, the heritage
        summary, the gaps ...). Not changed.
    lang
        ``"en"`` or ``"zh"``.
    columns
        Columns to show, in order (default every known, non-hidden column).
    layer_name
        Display name of a layer id (default the id).
    reach_m
        ``{radius label: metres}`` of a minute-based layer (headers say both).
    sort_zones
        Order rows core -> new towns -> rural by the first zone column.
    headers
        Header overrides ``{column: header}`` (e.g. a gaps table's layer population).
    kinds
        Kind of columns not known here (``{column: kind}``, e.g. per-layer counts).

    Returns
    -------
    Table
        ``frame``: shown columns under translated headers. Percent columns hold
        percent values (0-100, one decimal), counts integers, distances whole metres;
        a numeric column with an unreachable (infinite) value becomes text ("not
        reachable"). ``column_kinds``: header -> kind (``percent``, ``int``,
        ``float1``, ``float2``, ``text``) for the page's number format.
    """
    src = df.drop(columns="geometry", errors="ignore") if "geometry" in df.columns else df
    src = pd.DataFrame(src).copy()
    zone_col = next((c for c in ("zone_type", "settlement") if c in src.columns), None)
    if sort_zones and zone_col is not None and len(src):
        order = src[zone_col].map(lambda z: zone_sort_key(str(z)))
        src = src.assign(_order=order).sort_values("_order", kind="stable").drop(columns="_order")
    if "level" in src.columns and "group" in src.columns:
        zones_rows = src["level"].astype(str).isin(["zone_type", "settlement"])
        region_rows = src["level"].astype(str) == "region"
        group = src["group"].astype(str)
        group = group.where(~zones_rows, group.map(lambda z: zone_name(z, lang)))
        group = group.where(~region_rows, t("whole_region", lang))
        src["group"] = group
    wanted = (
        list(columns)
        if columns is not None
        else [c for c in src.columns if c not in HIDDEN and column_header(c, lang, reach_m)]
    )
    out: dict[str, pd.Series] = {}
    kinds: dict[str, str] = {}
    for col in wanted:
        if col not in src.columns:
            continue
        spec = column_header(col, lang, reach_m)
        header, kind = spec if spec is not None else (col, TEXT)
        if headers and col in headers:
            header = headers[col]
        if kinds and col in kinds:
            kind = kinds[col]
        values = src[col]
        if col in ("zone_type", "settlement"):
            values = values.map(lambda z: zone_name(str(z), lang) if pd.notna(z) and z else "")
        elif col == "zone_fine":
            values = values.map(lambda z: zone_fine_name(str(z), lang) if pd.notna(z) else "")
        elif col == "layer" and layer_name is not None:
            values = values.map(lambda v: layer_name(str(v)))
        elif col == "kind":
            values = values.map(lambda k: heritage_kind(k, lang))
        elif col == "district":
            values = values.map(
                lambda d: str(d) if pd.notna(d) and str(d).strip() else t("outside_districts", lang)
            )
        elif values.dtype == bool or col in ("below_target", "protected", "unprotected"):
            yes, no = t("yes", lang), t("no", lang)
            values = values.map(lambda b, yes=yes, no=no: yes if bool(b) else no)
            kind = TEXT
        elif kind != TEXT:
            num = _number(values)
            if (~np.isfinite(num.to_numpy())).any():
                values = num.map(lambda v, k=kind: _fmt_number(v, k, lang))
                kind = TEXT
            elif kind == PERCENT:
                values = (num * 100).round(1)
            elif kind == INT:
                values = num.round(0).astype("int64")
            elif kind == FLOAT1:
                values = num.round(1)
            else:
                values = num.round(2)
        else:
            values = values.map(
                lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            )
        if header in out:  # two internal columns with one header: keep the first
            continue
        out[header] = values.reset_index(drop=True)
        kinds[header] = kind
    return Table(pd.DataFrame(out), kinds)


def as_text(table: Table, lang: str = "en") -> pd.DataFrame:
    """Return the table with every value formatted as text (thousands separators, %)."""
    out = {}
    for header in table.frame.columns:
        kind = table.column_kinds.get(header, TEXT)
        values = table.frame[header]
        if kind == TEXT:
            out[header] = values.astype(str)
        elif kind == PERCENT:
            out[header] = values.map(lambda v: _fmt_number(float(v) / 100, PERCENT, lang))
        else:
            out[header] = values.map(lambda v, k=kind: _fmt_number(float(v), k, lang))
    return pd.DataFrame(out, index=table.frame.index)


__all__ = [
    "HERITAGE_KINDS",
    "HIDDEN",
    "Table",
    "as_text",
    "column_header",
    "heritage_kind",
    "reach_text",
    "readable",
]
