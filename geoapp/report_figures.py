"""The report's maps: matplotlib figures a planner can print and file.

Every map drawn by :func:`region_map` carries what a printed map needs: a legend, a
metric scale bar (a bar whose length in the map's metres equals its label, "500 m" or
"2 km"), a north arrow ("N", pointing up: maps are drawn in the region's local UTM CRS,
:func:`geoapp.crs.local_crs`, where grid north is within a degree or two of true north),
the district names and the streets (the walking network's edges, thin grey). The
artists are tagged with a ``gid`` (:data:`SCALE_BAR`, :data:`SCALE_LABEL`,
:data:`NORTH_ARROW`, :data:`DISTRICT_LABEL`, :data:`STREETS`) so a test, or a caller,
can find them in the returned :class:`~matplotlib.figure.Figure`.

Figures are drawn off-screen on the Agg canvas (thread-safe, no pyplot). Other printable
maps (the before/after map of :mod:`geoapp.lookback`) open with :func:`map_figure` and end
with :func:`finish_map`, as :func:`region_map` does, so they look the same.
"""

from __future__ import annotations

import io
import logging
import math
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from geoapp.charts import font_family
from geoapp.crs import local_crs
from geoapp.styles import zone_color, zone_name, zone_sort_key

log = logging.getLogger(__name__)

#: ``gid`` of the scale bar's rectangle (its width is the labelled length, in metres).
SCALE_BAR = "scale_bar"
#: ``gid`` of the scale bar's label ("500 m", "2 km").
SCALE_LABEL = "scale_bar_label"
#: ``gid`` of the north arrow (an annotation reading "N").
NORTH_ARROW = "north_arrow"
#: ``gid`` of each district's name.
DISTRICT_LABEL = "district_label"
#: ``gid`` of the streets (one :class:`~matplotlib.collections.LineCollection`).
STREETS = "streets"

#: Streets drawn at most (the longest first): a city's full network would only grey the page.
MAX_STREETS = 60_000

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "facilities": "Facilities",
        "gaps": "Gap areas (numbered by rank)",
        "streets": "Streets (walking network)",
        "focus": "This district",
        "other": "Other districts",
        "m": "{n:,.0f} m",
        "km": "{n:g} km",
    },
    "zh": {
        "facilities": "设施",
        "gaps": "服务缺口（按排名编号）",
        "streets": "街道（步行网络）",
        "focus": "本区",
        "other": "其他区",
        "m": "{n:,.0f} 米",
        "km": "{n:g} 公里",
    },
}


def nice_length(span_m: float) -> float:
    """Return a round scale-bar length (1, 2 or 5 × 10^k m) of about a quarter of ``span_m``.

    Examples
    --------
    >>> nice_length(10_000), nice_length(3_000), nice_length(900)
    (2000.0, 500.0, 200.0)
    """
    target = max(float(span_m), 1.0) / 4.0
    k = 10.0 ** math.floor(math.log10(target))
    return float(max(m * k for m in (1.0, 2.0, 5.0) if m * k <= target))


def scale_label(length_m: float, lang: str = "en") -> str:
    """Return a scale bar's label: metres below 1 km, else kilometres ("500 m", "2 km")."""
    text = TEXT.get(lang, TEXT["en"])
    if length_m >= 1000:
        return text["km"].format(n=length_m / 1000)
    return text["m"].format(n=length_m)


def add_scale_bar(ax: Any, lang: str = "en") -> tuple[Rectangle, Any]:
    """Draw a metric scale bar in the lower left of ``ax`` (data units: metres).

    Returns the bar (a :class:`~matplotlib.patches.Rectangle` whose width is the
    labelled length) and its label.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    h = (y1 - y0) * 0.012
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    bar = Rectangle((bx, by), length, h, facecolor="black", edgecolor="black", zorder=20)
    bar.set_gid(SCALE_BAR)
    ax.add_patch(bar)
    half = Rectangle((bx + length / 2, by), length / 2, h, facecolor="white", edgecolor="black",
                     zorder=21)  # fmt: skip
    ax.add_patch(half)
    label = ax.text(bx + length / 2, by + h * 1.8, scale_label(length, lang), ha="center",
                    va="bottom", fontsize=8, zorder=22,
                    bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 1})  # fmt: skip
    label.set_gid(SCALE_LABEL)
    return bar, label


def add_north_arrow(ax: Any) -> Any:
    """Draw a north arrow ("N" over an arrow pointing up) in the upper right of ``ax``."""
    ann = ax.annotate(
        "N",
        xy=(0.95, 0.96),
        xytext=(0.95, 0.84),
        xycoords="axes fraction",
        textcoords="axes fraction",
        ha="center",
        va="center",
        fontsize=11,
        zorder=22,
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
        bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 1},
    )
    ann.set_gid(NORTH_ARROW)
    return ann


@contextmanager
def map_figure(size: tuple[float, float] = (7.0, 5.6)) -> Iterator[tuple[Figure, Any]]:
    """Open a printable map: a figure with one axes, no ticks and a grey frame.

    Yields the figure and its axes inside the report's font settings
    (:func:`geoapp.charts.font_family`), which hold for all that is drawn in the ``with``
    block.
    """
    with matplotlib.rc_context({"font.family": font_family(), "axes.unicode_minus": False}):
        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_color("#888888")
        yield fig, ax


def finish_map(fig: Figure, ax: Any, handles: list[Any], lang: str = "en") -> Figure:
    """End a map: scale bar, north arrow and a legend of ``handles``; return ``fig``.

    Call it inside :func:`map_figure`'s block, once the map's extent is set (the scale
    bar is measured on it).
    """
    add_scale_bar(ax, lang)
    add_north_arrow(ax)
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.85)
    fig.tight_layout()
    return fig


def _district_names(boundaries: gpd.GeoDataFrame, lang: str) -> list[str]:
    names = boundaries["district"].astype(str) if "district" in boundaries.columns else None
    if names is None:
        return [str(i) for i in range(len(boundaries))]
    if lang == "zh" and "district_zh" in boundaries.columns:
        zh = boundaries["district_zh"]
        names = zh.where(zh.notna() & (zh.astype(str) != ""), names).astype(str)
    return list(names)


def _streets(ax: Any, streets: gpd.GeoDataFrame, crs: Any, view: tuple[float, ...]) -> int:
    """Draw the streets inside ``view`` (minx, miny, maxx, maxy) as one grey collection."""
    s = streets.to_crs(crs)
    s = s.cx[view[0] : view[2], view[1] : view[3]]
    geoms = s.geometry.to_numpy()
    geoms = geoms[~shapely.is_empty(geoms) & ~pd.isna(geoms)]
    if len(geoms) > MAX_STREETS:
        geoms = geoms[np.argsort(-shapely.length(geoms))[:MAX_STREETS]]
    parts = shapely.get_parts(geoms)
    lines = [np.asarray(shapely.get_coordinates(g)) for g in parts]
    lines = [c for c in lines if len(c) >= 2]
    coll = LineCollection(lines, colors="#9a9a9a", linewidths=0.3, zorder=2)
    coll.set_gid(STREETS)
    ax.add_collection(coll)
    return len(lines)


def region_map(
    boundaries: gpd.GeoDataFrame,
    *,
    gaps: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    focus: str | None = None,
    lang: str = "en",
    top: int = 10,
    title: str = "",
    size: tuple[float, float] = (7.0, 5.6),
) -> Figure:
    """Draw a printable map: districts, streets, facilities and ranked gaps.

    Parameters
    ----------
    boundaries
        Districts (EPSG:4326; ``district``, optional ``district_zh`` and ``zone_type``):
        filled by zone type, outlined and labelled.
    gaps
        Gap areas with ``rank`` (red, the ``top`` first numbered).
    facilities
        Facilities (black dots).
    streets
        The walking network's edges (thin grey), cut to the map's extent.
    focus
        A district name (``district``): the map opens on it and greys the others (an
        atlas page).
    lang
        ``"en"`` or ``"zh"``: legend, scale label and district names.
    top
        How many gaps carry their rank.
    title
        The map's title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes (in the local UTM CRS, metres) with a legend, a scale bar
        (:data:`SCALE_BAR`, :data:`SCALE_LABEL`), a north arrow (:data:`NORTH_ARROW`),
        district labels (:data:`DISTRICT_LABEL`) and the streets (:data:`STREETS`).
    """
    text = TEXT.get(lang, TEXT["en"])
    frames = [f for f in (boundaries, gaps, facilities) if f is not None and len(f)]
    with map_figure(size) as (fig, ax):
        if not frames:
            ax.set_xlim(0, 1000)
            ax.set_ylim(0, 1000)
            add_scale_bar(ax, lang)
            add_north_arrow(ax)
            ax.legend(handles=[Patch(color="white", label="–")], loc="upper left")
            return fig
        crs = local_crs(frames[0])
        handles: list[Any] = []
        b = boundaries.to_crs(crs) if len(boundaries) else boundaries
        names = _district_names(boundaries, lang) if len(boundaries) else []
        keys = list(b["district"].astype(str)) if "district" in b.columns else names
        view = _view(b, gaps, facilities, crs, focus, keys)
        if streets is not None and len(streets):
            if _streets(ax, streets, crs, view):
                handles.append(Line2D([], [], color="#9a9a9a", lw=0.8, label=text["streets"]))
        handles += _district_fill(ax, b, keys, focus, lang)
        if gaps is not None and len(gaps):
            g = gaps.to_crs(crs)
            g.plot(ax=ax, color="#d62728", alpha=0.75, edgecolor="#8b0000", linewidth=0.4, zorder=3)
            for _, row in g.sort_values("rank").head(top).iterrows():
                p = row.geometry.representative_point()
                ax.annotate(str(int(row["rank"])), (p.x, p.y), fontsize=7, ha="center",
                            va="center", color="white", zorder=6,
                            bbox={"boxstyle": "circle,pad=0.2", "fc": "#8b0000", "ec": "none"})  # fmt: skip
            handles.append(Patch(facecolor="#d62728", edgecolor="#8b0000", label=text["gaps"]))
        if facilities is not None and len(facilities):
            pts = facilities.to_crs(crs).geometry.representative_point()
            ax.scatter(pts.x, pts.y, s=6, color="black", zorder=5)
            handles.append(Line2D([], [], marker="o", color="black", lw=0, markersize=3,
                                  label=text["facilities"]))  # fmt: skip
        ax.set_aspect("equal")
        ax.set_xlabel("")  # geopandas names the CRS axes: not for a printed map
        ax.set_ylabel("")
        ax.set_xlim(view[0], view[2])
        ax.set_ylim(view[1], view[3])
        _district_labels(ax, b, names, keys, focus, view)
        if title:
            ax.set_title(title, fontsize=10)
        return finish_map(fig, ax, handles, lang)


def _district_fill(
    ax: Any, b: gpd.GeoDataFrame, keys: list[str], focus: str | None, lang: str
) -> list[Any]:
    """Fill the districts (by zone type; greyed but ``focus``); return their legend entries."""
    if not len(b):
        return []
    text = TEXT.get(lang, TEXT["en"])
    zones = (
        b["zone_type"].astype(str)
        if "zone_type" in b.columns
        else pd.Series(["unknown"] * len(b), index=b.index)
    )
    if focus is None:
        b.plot(ax=ax, color=[zone_color(z) for z in zones], alpha=0.25, edgecolor="#555555",
               linewidth=0.7, zorder=1)  # fmt: skip
        return [
            Patch(facecolor=zone_color(z), alpha=0.5, edgecolor="#555555", label=zone_name(z, lang))
            for z in sorted(dict.fromkeys(zones), key=zone_sort_key)
        ]
    is_focus = np.array([k == focus for k in keys])
    if (~is_focus).any():
        b[~is_focus].plot(ax=ax, color="#eeeeee", edgecolor="#999999", linewidth=0.5, zorder=1)
    own = zone_color(str(zones[is_focus].iloc[0])) if is_focus.any() else "#cccccc"
    if is_focus.any():
        b[is_focus].plot(ax=ax, color=own, alpha=0.3, edgecolor="#222222", linewidth=1.4, zorder=1)
    out = [Patch(facecolor=own, alpha=0.5, edgecolor="#222222", label=text["focus"])]
    if (~is_focus).any():
        out.append(Patch(facecolor="#eeeeee", edgecolor="#999999", label=text["other"]))
    return out


def _district_labels(
    ax: Any,
    b: gpd.GeoDataFrame,
    names: list[str],
    keys: list[str],
    focus: str | None,
    view: tuple[float, float, float, float],
) -> None:
    """Write each district's name at a point inside it (those inside the view)."""
    for geom, name, key in zip(b.geometry, names, keys, strict=True):
        if geom is None or geom.is_empty:
            continue
        p = geom.representative_point()
        if not (view[0] <= p.x <= view[2] and view[1] <= p.y <= view[3]):
            continue
        size = 7.5 if focus is None or key == focus else 6.5
        lab = ax.text(p.x, p.y, name, ha="center", va="center", fontsize=size, color="#222222",
                      zorder=7, bbox={"fc": "white", "ec": "none", "alpha": 0.6, "pad": 0.5})  # fmt: skip
        lab.set_gid(DISTRICT_LABEL)


def _view(
    b: gpd.GeoDataFrame,
    gaps: gpd.GeoDataFrame | None,
    facilities: gpd.GeoDataFrame | None,
    crs: Any,
    focus: str | None,
    keys: list[str],
) -> tuple[float, float, float, float]:
    """Return the map's extent: the focus district, else the data within the districts."""
    if focus is not None and len(b):
        sel = b[np.array([k == focus for k in keys])]
        if len(sel):
            x0, y0, x1, y1 = sel.total_bounds
            pad = max(x1 - x0, y1 - y0, 200.0) * 0.08
            return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    bounds = [f.to_crs(crs).total_bounds for f in (gaps, facilities) if f is not None and len(f)]
    if len(b):
        bb = b.total_bounds
        if bounds:
            d = np.vstack(bounds)
            x0, y0 = max(d[:, 0].min(), bb[0]), max(d[:, 1].min(), bb[1])
            x1, y1 = min(d[:, 2].max(), bb[2]), min(d[:, 3].max(), bb[3])
            if not (x0 <= x1 and y0 <= y1):
                x0, y0, x1, y1 = bb
        else:
            x0, y0, x1, y1 = bb
    else:
        x0, y0, x1, y1 = (
            np.vstack(bounds).min(axis=0)[:2].tolist() + np.vstack(bounds).max(axis=0)[2:].tolist()
        )
    pad = max(x1 - x0, y1 - y0, 200.0) * 0.08
    # room for the legend (upper left) and the scale bar (lower left)
    return (x0 - pad, y0 - pad * 2.5, x1 + pad, y1 + pad)


def figure_png(fig: Figure, dpi: int = 130) -> bytes:
    """Return ``fig`` as PNG bytes."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing-glyph warnings without a CJK font
        fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def districts_of(boundaries: gpd.GeoDataFrame) -> list[str]:
    """Return the district names (``district``) of ``boundaries`` in their order."""
    if "district" not in boundaries.columns:
        return []
    return list(dict.fromkeys(boundaries["district"].astype(str)))


def district_names(boundaries: gpd.GeoDataFrame, lang: str) -> Mapping[str, str]:
    """Return ``{district: name shown}`` (the Chinese name in ``zh`` where known)."""
    if "district" not in boundaries.columns:
        return {}
    return dict(
        zip(boundaries["district"].astype(str), _district_names(boundaries, lang), strict=True)
    )


__all__ = [
    "DISTRICT_LABEL", "NORTH_ARROW", "SCALE_BAR", "SCALE_LABEL", "STREETS", "TEXT",
    "add_north_arrow", "add_scale_bar", "district_names", "districts_of", "figure_png",
    "nice_length", "region_map", "scale_label",
]  # fmt: skip
