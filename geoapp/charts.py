"""Charts (matplotlib, drawn off-screen with the Agg canvas; thread-safe, no pyplot).

Chinese labels use the "WenQuanYi Micro Hei" font when installed (Debian package
``fonts-wqy-microhei``); without it the chart still renders, with missing glyphs.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from functools import lru_cache

import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from geoapp._atomic import atomic_path
from geoapp.styles import zone_color, zone_name

log = logging.getLogger(__name__)

CJK_FONT = "WenQuanYi Micro Hei"

_TEXT = {
    "en": {
        "ylabel": "Share of the layer's residents within reach",
        "xlabel": "Walking distance (m)",
        "target": "Target {share:.0%} within {radius:,.0f} m",
        "title": "Coverage by zone type",
        "nodata": "no data",
        "empty": "No zone comparison to show",
        "no_facilities": "No facilities in the data:\ncoverage cannot be assessed",
    },
    "zh": {
        "ylabel": "服务对象覆盖比例",
        "xlabel": "步行距离（米）",
        "target": "目标：{radius:,.0f}米内{share:.0%}",
        "title": "各类地区服务覆盖率",
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


def _reach_tick(col: str, value: float) -> str:
    return f"{value - 1e6:g} min" if col.endswith("min") else f"{value:,.0f}"


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
            ax.set_xticks(x, [_reach_tick(c, r) for c, r in radii])
            ax.set_ylim(0, 1.05)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
            ax.set_xlabel(text["xlabel"])
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
        fig.suptitle(text["title"])
        fig.tight_layout()
        if path is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # missing-glyph warnings without a CJK font
                with atomic_path(path) as tmp:
                    fig.savefig(tmp, format="png")
            log.info("wrote %s", path)
    return fig


__all__ = ["zone_comparison_chart"]
