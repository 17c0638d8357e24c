"""Charts: Altair (Vega-Lite) for the app and the report, matplotlib for the bundle PNG.

:func:`zone_chart` is the zone comparison people read: one bar per zone type (core ->
new towns -> rural, names and colours from :mod:`geoapp.styles`) and radius, a fixed
0-100% axis with titles, the layer's target share as a dashed rule, and "no data"
instead of a zero bar where coverage cannot be assessed. It renders in Streamlit
(``st.altair_chart``) and exports offline with :func:`to_svg` / :func:`to_png`
(vl-convert, no browser, no network). :func:`zone_comparison_chart` (matplotlib,
drawn off-screen with the Agg canvas; thread-safe, no pyplot) writes the bundle's
``zones.png``.

Chinese labels use the "WenQuanYi Micro Hei" font when installed (Debian package
``fonts-wqy-microhei``); without it the chart still renders, with missing glyphs.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import altair as alt
import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from geoapp._atomic import atomic_path
from geoapp.catalog import Layer
from geoapp.styles import zone_color, zone_name, zone_sort_key

log = logging.getLogger(__name__)

CJK_FONT = "WenQuanYi Micro Hei"

_TEXT = {
    "en": {
        "ylabel": "Share of the layer's residents within reach",
        "xlabel": "Walking distance (m)",
        "xlabel_min": "Walking time (min)",
        "xlabel_mixed": "Walking distance (m) or time (min)",
        "target": "Target {share:.0%} within {radius:,.0f} m",
        "title": "Coverage by zone type",
        "title_settlement": "Coverage by settlement",
        "nodata": "no data",
        "empty": "No zone comparison to show",
        "no_facilities": "No facilities in the data:\ncoverage cannot be assessed",
    },
    "zh": {
        "ylabel": "服务对象覆盖比例",
        "xlabel": "步行距离（米）",
        "xlabel_min": "步行时间（分钟）",
        "xlabel_mixed": "步行距离（米）或时间（分钟）",
        "target": "目标：{radius:,.0f}米内{share:.0%}",
        "title": "各类地区服务覆盖率",
        "title_settlement": "各类聚落服务覆盖率",
        "nodata": "无数据",
        "empty": "没有可显示的分区比较",
        "no_facilities": "数据中没有此类设施：\n无法评估覆盖率",
    },
}


@lru_cache(maxsize=1)
def _font_family() -> list[str]:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if CJK_FONT in names:
        return [CJK_FONT, "DejaVu Sans"]
    log.info("font %r not installed; Chinese labels may show as boxes", CJK_FONT)
    return ["DejaVu Sans"]


def font_family() -> list[str]:
    """Return the matplotlib font family for labels in either language (CJK font first)."""
    return list(_font_family())


def _radii(columns: pd.Index) -> list[tuple[str, float]]:
    """``share_demand_R`` columns with their reach: metres (``300``) or minutes (``15min``).

    A table of one layer has one kind; minutes sort after metres when mixed.
    """
    out = []
    for c in columns:
        m = re.fullmatch(r"share_demand_(\d+(?:[._]\d+)?)(min)?", str(c))
        if m:
            v = float(m.group(1).replace("_", "."))
            out.append((c, v + (1e6 if m.group(2) else 0.0)))
    return sorted(out, key=lambda t: t[1])


def _reach_ticks(radii: list[tuple[str, float]], text: dict[str, str]) -> tuple[list[str], str]:
    """Return the reach axis's tick labels and its title, in the unit of the ticks.

    Minute columns give minutes under "Walking time (min)", metre columns metres under
    "Walking distance (m)"; a mixed table names each tick's unit.

    Examples
    --------
    >>> _reach_ticks([("share_demand_5min", 1e6 + 5), ("share_demand_15min", 1e6 + 15)],
    ...              _TEXT["en"])
    (['5', '15'], 'Walking time (min)')
    >>> _reach_ticks([("share_demand_300", 300.0)], _TEXT["en"])
    (['300'], 'Walking distance (m)')
    """
    minutes = [c.endswith("min") for c, _ in radii]
    if minutes and all(minutes):
        return [f"{v - 1e6:g}" for _, v in radii], text["xlabel_min"]
    if any(minutes):
        pairs = zip(radii, minutes, strict=True)
        ticks = [f"{v - 1e6:g} min" if m else f"{v:,.0f} m" for (_, v), m in pairs]
        return ticks, text["xlabel_mixed"]
    return [f"{v:,.0f}" for _, v in radii], text["xlabel"]


def zone_comparison_chart(
    zones_df: pd.DataFrame,
    path: str | os.PathLike[str] | None = None,
    lang: str = "en",
) -> Figure:
    """Draw coverage share per zone type and radius, one panel per layer.

    Parameters
    ----------
    zones_df
        Output of :func:`geoapp.gaps.compare_zones` (``layer``, ``zone_type`` or
        ``settlement``,
        ``share_demand_R`` columns, optional ``target_radius_m``/``target_share``,
        ``status``, ``layer_label``/``layer_label_zh``).
    path
        When given, the chart is also written there as PNG, atomically.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    text = _TEXT.get(lang, _TEXT["en"])
    layers = list(dict.fromkeys(zones_df["layer"])) if len(zones_df) else []
    with matplotlib.rc_context({"font.family": _font_family(), "axes.unicode_minus": False}):
        fig = Figure(figsize=(max(5.0, 4.6 * max(1, len(layers))), 5.0), dpi=110)
        FigureCanvasAgg(fig)
        if not layers:
            ax = fig.add_subplot(1, 1, 1)
            ax.axis("off")
            ax.text(0.5, 0.5, text["empty"], ha="center", va="center")
        axes = fig.subplots(1, len(layers), squeeze=False)[0] if layers else []
        group = "settlement" if "zone_type" not in zones_df.columns else "zone_type"
        for ax, lid in zip(axes, layers, strict=False):
            part = zones_df[zones_df["layer"] == lid]
            if "status" in part.columns and (part["status"] == "no_data").all():
                # no facility in the data: say so instead of drawing zero coverage
                ax.text(
                    0.5,
                    0.5,
                    text["no_facilities"],
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                )
            part = part.loc[:, part.notna().any()]
            radii = _radii(part.columns)
            zones = list(part[group])
            width = 0.8 / max(1, len(zones))
            x = np.arange(len(radii))
            for k, (_, row) in enumerate(part.iterrows()):
                z = row[group]
                vals = np.array([row[c] for c, _ in radii], dtype=float)
                pos = x - 0.4 + width * (k + 0.5)
                ax.bar(
                    pos,
                    np.nan_to_num(vals),
                    width=width * 0.95,
                    color=zone_color(z),
                    label=zone_name(z, lang),
                )
                for xi, v in zip(pos, vals, strict=True):
                    if np.isnan(v):
                        ax.text(
                            xi,
                            0.02,
                            text["nodata"],
                            rotation=90,
                            ha="center",
                            va="bottom",
                            fontsize=7,
                        )
            ticks, xlabel = _reach_ticks(radii, text)
            ax.set_xticks(x, ticks)
            ax.set_ylim(0, 1.05)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
            ax.set_xlabel(xlabel)  # in the unit of the ticks
            label_col = "layer_label_zh" if lang == "zh" else "layer_label"
            title = part[label_col].iloc[0] if label_col in part.columns else lid
            ax.set_title(str(title))
            if "target_share" in part.columns and part["target_share"].notna().any():
                share = float(part["target_share"].dropna().iloc[0])
                radius = float(part["target_radius_m"].dropna().iloc[0])
                ax.axhline(
                    share,
                    color="#c0392b",
                    linestyle="--",
                    linewidth=1.2,
                    label=text["target"].format(share=share, radius=radius),
                )
            ax.grid(axis="y", alpha=0.3)
            ax.legend(
                fontsize=8,
                loc="upper center",
                bbox_to_anchor=(0.5, -0.16),
                ncol=2,
                frameon=False,
            )
        if len(axes):
            axes[0].set_ylabel(text["ylabel"])
        # the family given: a suptitle does not take the context's (boxes in Chinese)
        fig.suptitle(
            text["title_settlement" if group == "settlement" else "title"],
            fontfamily=_font_family(),
        )
        fig.tight_layout()
        if path is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # missing-glyph warnings without a CJK font
                with atomic_path(path) as tmp:
                    fig.savefig(tmp, format="png")
            log.info("wrote %s", path)
    return fig


# --------------------------------------------------------------------------- Altair

#: Strings of the Altair zone chart.
CHART_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "y_total": "Residents within reach (%)",
        "y_60plus": "Residents aged 60+ within reach (%)",
        "x_network": "Walking distance to the nearest facility",
        "x_euclidean": "Straight-line distance to the nearest facility",
        "zone": "Zone type",
        "settlement": "Settlement",
        "share": "Within reach",
        "target": "Target: {share:.0%} within {radius}",
        "nodata": "no data",
        "no_facilities": "No data: no {layer} facilities\nin the data; coverage cannot be assessed",
        "empty": "No zone comparison to show",
        "title": "{layer}: coverage by zone type",
        "title_settlement": "{layer}: coverage by settlement",
        "m": "{r:,.0f} m",
        "min": "{mn:g} min ({r:,.0f} m)",
    },
    "zh": {
        "y_total": "可达居民比例（%）",
        "y_60plus": "可达的60岁以上居民比例（%）",
        "x_network": "到最近设施的步行距离",
        "x_euclidean": "到最近设施的直线距离",
        "zone": "分区类型",
        "settlement": "聚落类型",
        "share": "可达比例",
        "target": "目标：{radius}内{share:.0%}",
        "nodata": "无数据",
        "no_facilities": "无数据：数据中没有{layer}设施，\n无法评估覆盖率",
        "empty": "没有可显示的分区比较",
        "title": "{layer}：各分区覆盖率",
        "title_settlement": "{layer}：各聚落类型覆盖率",
        "m": "{r:,.0f} 米",
        "min": "{mn:g} 分钟（{r:,.0f} 米）",
    },
}


def _chart_radii(part: pd.DataFrame, layer: Layer | None) -> list[tuple[str, float, float | None]]:
    """Return ``(column, metres, minutes)`` of the layer's ``share_demand_*`` columns."""
    if layer is not None:
        mins = list(layer.minutes) if len(layer.minutes) == len(layer.radii_m) else []
        out = []
        for i, (r, lab) in enumerate(zip(layer.radii_m, layer.labels, strict=True)):
            col = f"share_demand_{lab}"
            if col in part.columns:
                out.append((col, float(r), float(mins[i]) if mins else None))
        if out:
            return out
    return [(c, r, None) for c, r in _radii(part.columns)]


def zone_chart(
    zones_table: pd.DataFrame,
    layer: Layer | str | None = None,
    *,
    lang: str = "en",
    grouping: str = "zone_type",
    mode: str | None = None,
    width: int = 420,
    height: int = 300,
) -> alt.LayerChart:
    """Return the zone comparison of one layer as an Altair chart.

    Parameters
    ----------
    zones_table
        :func:`geoapp.workflow.zones_table` (with ``grouping``) or
        :func:`geoapp.gaps.compare_zones` output.
    layer
        The layer (a :class:`~geoapp.catalog.Layer`, whose ``labels`` name the share
        columns, also ``share_demand_15min`` for minute layers), its id, or None when
        the table holds one layer.
    lang
        ``"en"`` or ``"zh"``.
    grouping
        ``"zone_type"`` or ``"settlement"``.
    mode
        ``"network"`` or ``"euclidean"`` for the x-axis title (default from the
        table's ``access_mode``).
    width, height
        Size of the plot area in pixels.

    Returns
    -------
    altair.LayerChart
        Grouped bars (x: radius; bars per zone in :data:`geoapp.styles.ZONE_ORDER`
        with its colour; y: share of the layer's own demand within reach, fixed
        0-100% axis), a dashed red rule at the target share, and "no data" where
        coverage cannot be assessed (no facility anywhere: every bar; a group
        without residents: its bars).
    """
    text = CHART_TEXT.get(lang, CHART_TEXT["en"])
    df = zones_table
    if "grouping" in df.columns:
        df = df[df["grouping"] == grouping]
    group = grouping if grouping in df.columns else "zone_type"
    lid = layer.id if isinstance(layer, Layer) else layer
    if lid is None and len(df) and "layer" in df.columns:
        lid = str(df["layer"].iloc[0])
    part = df[df["layer"] == lid] if lid is not None and "layer" in df.columns else df
    label_col = "layer_label_zh" if lang == "zh" else "layer_label"
    if isinstance(layer, Layer):
        lname = layer.name(lang)
    elif len(part) and label_col in part.columns:
        lname = str(part[label_col].iloc[0])
    else:
        lname = str(lid or "")
    sixty = (isinstance(layer, Layer) and layer.demand_column == "pop_60plus") or (
        len(part) > 0 and "demand" in part.columns and str(part["demand"].iloc[0]) == "pop_60plus"
    )
    if mode is None:
        mode = (
            "euclidean"
            if len(part)
            and "access_mode" in part.columns
            and str(part["access_mode"].iloc[0]) == "euclidean"
            else "network"
        )
    layer_obj = layer if isinstance(layer, Layer) else None
    radii = _chart_radii(part, layer_obj)
    ttl = text["title_settlement" if group == "settlement" else "title"].format(layer=lname)
    if len(part) == 0 or not radii:
        empty = (
            alt.Chart(pd.DataFrame({"t": [text["empty"]]}))
            .mark_text(fontSize=14)
            .encode(text="t:N", x=alt.value(width / 2), y=alt.value(height / 2))
        )
        return cast(
            alt.LayerChart, alt.layer(empty).properties(width=width, height=height, title=ttl)
        )
    zones = sorted(part[group].astype(str).unique(), key=zone_sort_key)
    names = [zone_name(z, lang) for z in zones]
    colors = [zone_color(z) for z in zones]

    def rlabel(r: float, mn: float | None) -> str:
        return text["min"].format(mn=mn, r=r) if mn is not None else text["m"].format(r=r)

    rows = []
    no_data_all = "status" in part.columns and (part["status"] == "no_data").all()
    for _, row in part.iterrows():
        z = str(row[group])
        for col, r, mn in radii:
            v = pd.to_numeric(cast(Any, row.get(col)), errors="coerce")
            ok = pd.notna(v) and not no_data_all
            rows.append(
                {
                    "zone": zone_name(z, lang),
                    "zone_order": zone_sort_key(z),
                    "radius": rlabel(r, mn),
                    "radius_m": r,
                    "share": float(v) if ok else None,
                    "share_text": f"{float(v):.1%}" if ok else text["nodata"],
                    "nodata": "" if ok else text["nodata"],
                }
            )
    data = pd.DataFrame(rows)
    x_order = [rlabel(r, mn) for _, r, mn in radii]
    y_title = text["y_60plus" if sixty else "y_total"]
    x_title = text["x_euclidean" if mode == "euclidean" else "x_network"]
    zone_title = text["settlement" if group == "settlement" else "zone"]
    base = alt.Chart(data).encode(
        x=alt.X("radius:N", sort=x_order, title=x_title, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("zone:N", sort=names),
    )
    bars = base.mark_bar().encode(
        y=alt.Y(
            "share:Q",
            title=y_title,
            scale=alt.Scale(domain=[0.0, 1.0], nice=False, clamp=True),
            axis=alt.Axis(format="%", values=[0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        ),
        color=alt.Color(
            "zone:N",
            sort=names,
            scale=alt.Scale(domain=names, range=colors),
            legend=alt.Legend(title=zone_title, orient="bottom"),
        ),
        tooltip=[
            alt.Tooltip("zone:N", title=zone_title),
            alt.Tooltip("radius:N", title=x_title),
            alt.Tooltip("share_text:N", title=text["share"]),
        ],
    )
    nodata = (
        base.transform_filter(alt.datum.nodata != "")
        .mark_text(angle=270, align="left", dx=-4, fontSize=11, color="#555")
        .encode(y=alt.value(height - 4), text="nodata:N")
    )
    layers: list[alt.Chart] = [bars, nodata]
    if "target_share" in part.columns and part["target_share"].notna().any():
        share = float(part["target_share"].dropna().iloc[0])
        radius = (
            float(part["target_radius_m"].dropna().iloc[0])
            if "target_radius_m" in part.columns and part["target_radius_m"].notna().any()
            else radii[-1][1]
        )
        tmin = next((mn for _, r, mn in radii if abs(r - radius) < 1e-6), None)
        label = text["target"].format(share=share, radius=rlabel(radius, tmin))
        tdf = pd.DataFrame({"target": [share], "label": [label]})
        rule = (
            alt.Chart(tdf)
            .mark_rule(color="#c0392b", strokeDash=[6, 4], size=1.5)
            .encode(y=alt.Y("target:Q", scale=alt.Scale(domain=[0.0, 1.0])))
        )
        rule_text = (
            alt.Chart(tdf)
            .mark_text(align="left", baseline="bottom", dx=4, dy=-3, color="#c0392b")
            .encode(y="target:Q", x=alt.value(0), text="label:N")
        )
        layers += [rule, rule_text]
    if no_data_all:
        msg = pd.DataFrame({"t": [text["no_facilities"].format(layer=lname)]})
        layers.append(
            alt.Chart(msg)
            .mark_text(fontSize=13, color="#333", lineBreak="\n")
            .encode(text="t:N", x=alt.value(width / 2), y=alt.value(height / 2))
        )
    chart = cast(
        alt.LayerChart, alt.layer(*layers).properties(width=width, height=height, title=ttl)
    )
    if lang == "zh":
        chart = chart.configure(font=CJK_FONT)
    return chart


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    import vl_convert as vlc

    for folder in ("/usr/share/fonts/truetype/wqy", "/usr/share/fonts/truetype/dejavu"):
        if os.path.isdir(folder):
            vlc.register_font_directory(folder)


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Return ``chart`` as SVG text, rendered offline by vl-convert."""
    import vl_convert as vlc

    _register_fonts()
    return vlc.vegalite_to_svg(chart.to_dict())


def to_png(
    chart: alt.TopLevelMixin, path: str | os.PathLike[str] | None = None, *, scale: float = 2.0
) -> bytes:
    """Return ``chart`` as PNG bytes (and write them to ``path`` atomically when given)."""
    import vl_convert as vlc

    _register_fonts()
    data = vlc.vegalite_to_png(chart.to_dict(), scale=scale)
    if path is not None:
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(data)
        log.info("wrote %s", path)
    return data


__all__ = ["CHART_TEXT", "font_family", "to_png", "to_svg", "zone_chart", "zone_comparison_chart"]
