"""Look back: compare two result bundles (two dates of data, or a baseline and a scenario).

:func:`diff_bundles` reads two bundles of the same layer (``demand.geojson``,
``metadata.json``) and returns, per district and zone type, the share of the layer's
residents within its target before and after, and the demand points whose status
changed (``gained``: beyond the target before, within it after; ``lost``: the
reverse). Demand points are matched by ``demand_id``; points present on one side only
(new or demolished buildings between two dates of OSM data) are counted and named in
the warnings, not guessed. :func:`diff_reports` does the same for every layer two
report folders share. :func:`write_diff` writes ``changes.csv``,
``points_changed.geojson``, ``map_<layer>.png`` and ``diff.json``.

``changes.csv`` columns: ``layer``, ``level`` (``region`` | ``district`` |
``zone_type``), ``group`` (the region row: the region's name, as in ``summary.csv``), ``demand`` (``pop`` | ``pop_60plus``), ``target_m``,
``residents_before``, ``residents_after``, ``covered_before``, ``covered_after``,
``share_before``, ``share_after``, ``change`` (share after - before), ``gained``,
``lost`` (residents of the layer's demand whose status changed).
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp import catalog
from geoapp._atomic import check_output_folder, confined, output_folder, write_bytes
from geoapp.errors import InputError, OutputError
from geoapp.export import write_csv, write_geojson, write_json

if TYPE_CHECKING:
    import matplotlib.figure

log = logging.getLogger(__name__)

CHANGE_COLUMNS = [
    "layer", "level", "group", "demand", "target_m", "residents_before", "residents_after",
    "covered_before", "covered_after", "share_before", "share_after", "change", "gained", "lost",
]  # fmt: skip


@dataclass
class LayerDiff:
    """The change of one layer between two bundles."""

    layer: str
    target_m: float
    demand: str
    changes: pd.DataFrame
    points: gpd.GeoDataFrame
    gained: float
    lost: float
    warnings: tuple[str, ...] = ()


@dataclass
class BundleDiff:
    """The change of every layer two bundles / report folders share."""

    old: str
    new: str
    layers: dict[str, LayerDiff] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def _read_meta(folder: Path) -> dict[str, Any]:
    try:
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # UnicodeDecodeError is a ValueError
        meta = None
    if not isinstance(meta, dict):
        raise InputError(
            f"{folder}: not a geoapp bundle (no readable metadata.json: missing, not JSON "
            "or not a JSON object); give a folder written by 'geoapp coverage' or a report "
            "folder, or re-run the analysis"
        )
    return meta


def _read_bundle(folder: Path) -> tuple[dict[str, Any], gpd.GeoDataFrame]:
    meta = _read_meta(folder)
    demand_path = folder / "demand.geojson"
    if not demand_path.is_file():
        raise InputError(f"{folder}: the bundle has no demand.geojson; re-run the analysis")
    try:
        demand = gpd.read_file(demand_path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a damaged file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(
            f"{demand_path}: cannot be read as GeoJSON ({first}); the file is damaged or "
            "truncated: re-run the analysis"
        ) from None
    for col in ("demand_id", "dist_m", "pop", "pop_60plus"):
        if col not in demand.columns:
            raise InputError(f"{demand_path}: column {col!r} missing; re-run the analysis")
    demand["dist_m"] = pd.to_numeric(demand["dist_m"], errors="coerce").fillna(np.inf)
    return meta, demand


def _demand_col(meta: dict[str, Any]) -> str:
    lid = str(meta.get("layer", ""))
    pop = meta.get("population")
    if pop in ("age_60plus", "total"):
        return "pop_60plus" if pop == "age_60plus" else "pop"
    try:
        return catalog.get_layer(lid).demand_column
    except InputError:
        return "pop"


def _groups(df: pd.DataFrame) -> list[tuple[str, str, np.ndarray]]:
    out = [("region", "region", np.ones(len(df), bool))]
    if "district" in df.columns:
        for d in dict.fromkeys(df["district"].astype(str)):
            out.append(("district", d, (df["district"].astype(str) == d).to_numpy()))
    if "zone_type" in df.columns:
        for z in ("core", "new_town", "rural", "unknown"):
            m = (df["zone_type"].astype(str) == z).to_numpy()
            if m.any():
                out.append(("zone_type", z, m))
    return out


def _bbox_text(b: np.ndarray) -> str:
    return f"lon {b[0]:.3f} to {b[2]:.3f}, lat {b[1]:.3f} to {b[3]:.3f}"


def _region_warnings(
    old: Path,
    new: Path,
    meta_o: dict[str, Any],
    meta_n: dict[str, Any],
    dem_o: gpd.GeoDataFrame,
    dem_n: gpd.GeoDataFrame,
) -> list[str]:
    """Raise when two bundles cover different places; warn when only the region's name differs.

    Different places: the demand points' bounding boxes do not overlap, or the regions'
    names differ and no demand point is on both sides. A change of name over the same
    area (another extract of one city) is a warning.
    """
    reg_o, reg_n = str(meta_o.get("region", "?")), str(meta_n.get("region", "?"))
    if not len(dem_o) or not len(dem_n):
        return []
    b_o, b_n = dem_o.total_bounds, dem_n.total_bounds
    disjoint = b_o[2] < b_n[0] or b_n[2] < b_o[0] or b_o[3] < b_n[1] or b_n[3] < b_o[1]
    shared = len(pd.Index(dem_o["demand_id"]).intersection(pd.Index(dem_n["demand_id"])))
    if disjoint or (reg_o != reg_n and shared == 0):
        raise InputError(
            f"{old} ({reg_o!r}, {_bbox_text(b_o)}) and {new} ({reg_n!r}, {_bbox_text(b_n)}) "
            f"cover different places: "
            + ("their areas do not overlap" if disjoint else "no demand point is in both")
            + ", so a change of coverage between them means nothing. Compare two runs of "
            "the same region (e.g. two dates of one extract, or a baseline and a scenario)."
        )
    if reg_o != reg_n:
        return [
            f"The region changed: {reg_o!r} in {old}, {reg_n!r} in {new}; only the "
            f"{shared:,} demand points found in both are compared point by point."
        ]
    return []


def diff_bundles(old: str | os.PathLike[str], new: str | os.PathLike[str]) -> LayerDiff:
    """Compare two bundles of one layer (see the module docstring).

    Raises
    ------
    InputError
        A folder is not a bundle, the bundles are of different layers, or they cover
        different places (areas that do not overlap, or other regions sharing no
        demand point).
    """
    old, new = Path(old), Path(new)
    meta_o, dem_o = _read_bundle(old)
    meta_n, dem_n = _read_bundle(new)
    if meta_o.get("layer") != meta_n.get("layer"):
        raise InputError(
            f"{old} is layer {meta_o.get('layer')!r} but {new} is {meta_n.get('layer')!r}; "
            "compare bundles of the same layer"
        )
    lid = str(meta_n.get("layer"))
    try:
        target = float(cast(float, meta_n.get("target_m") or meta_o.get("target_m")))
    except (TypeError, ValueError):
        target = math.nan
    if not math.isfinite(target) or target <= 0:
        raise InputError(
            f"{new / 'metadata.json'}: target_m is {meta_n.get('target_m')!r}, not a distance "
            "in metres; the file is damaged: re-run the analysis"
        )
    warnings: list[str] = _region_warnings(old, new, meta_o, meta_n, dem_o, dem_n)
    if meta_o.get("target_m") != meta_n.get("target_m"):
        warnings.append(
            f"{lid}: the target differs ({meta_o.get('target_m')} m before, {target:g} m "
            f"after); both sides are judged at {target:g} m."
        )
    col = _demand_col(meta_n)
    region_name = str(meta_n.get("region") or "region")  # the region row, as summary.csv
    o = dem_o.set_index("demand_id")
    n = dem_n.set_index("demand_id")
    common = n.index.intersection(o.index)
    only_new, only_old = n.index.difference(o.index), o.index.difference(n.index)
    if len(only_new) or len(only_old):
        warnings.append(
            f"{lid}: {len(only_old):,} demand points of {old} and {len(only_new):,} of {new} "
            "have no counterpart (different buildings); they count in the shares of their "
            "side but not as gained or lost."
        )
    cov_o = o["dist_m"].to_numpy(float) <= target
    cov_n = n["dist_m"].to_numpy(float) <= target
    before = pd.Series(cov_o, index=o.index)
    after = pd.Series(cov_n, index=n.index)
    status = np.where(
        after.loc[common].to_numpy() & ~before.loc[common].to_numpy(),
        "gained",
        np.where(~after.loc[common].to_numpy() & before.loc[common].to_numpy(), "lost", ""),
    )
    changed_ids = common[status != ""]
    pts = n.loc[changed_ids].reset_index()
    pts = gpd.GeoDataFrame(
        {
            "demand_id": pts["demand_id"].astype(str),
            "change": status[status != ""],
            "layer": lid,
            "demand": col,
            "weight": pts[col].to_numpy(float),
            "dist_before_m": o.loc[changed_ids, "dist_m"].to_numpy(float),
            "dist_after_m": pts["dist_m"].to_numpy(float),
            "facility_before": o.loc[changed_ids]
            .get("facility_id", pd.Series("", index=changed_ids))
            .to_numpy(),
            "facility_after": pts.get("facility_id", pd.Series([""] * len(pts))).to_numpy(),
            "district": pts.get("district", pd.Series([""] * len(pts))).astype(str).to_numpy(),
            "zone_type": pts.get("zone_type", pd.Series([""] * len(pts))).astype(str).to_numpy(),
        },
        geometry=pts.geometry.to_numpy() if len(pts) else [],
        crs="EPSG:4326",
    )
    rows = []
    n_r = n.reset_index()
    o_r = o.reset_index()
    gained_by: dict[str, dict[str, float]] = {"region": {}, "district": {}, "zone_type": {}}
    for level, name, mask in _groups(n_r):
        w_n = n_r[col].to_numpy(float)[mask]
        m_o = (
            np.ones(len(o_r), bool)
            if level == "region"
            else (o_r[level].astype(str) == name).to_numpy()
        )
        w_o = o_r[col].to_numpy(float)[m_o]
        c_n = float((w_n * cov_n[mask]).sum())
        c_o = float((w_o * cov_o[m_o]).sum())
        pm = (
            np.ones(len(pts), bool)
            if level == "region"
            else (pts[level].astype(str) == name).to_numpy()
        )
        g = float(pts.loc[pm & (pts["change"] == "gained").to_numpy(), "weight"].sum())
        lo = float(pts.loc[pm & (pts["change"] == "lost").to_numpy(), "weight"].sum())
        s_o = c_o / w_o.sum() if w_o.sum() > 0 else np.nan
        s_n = c_n / w_n.sum() if w_n.sum() > 0 else np.nan
        rows.append([lid, level, region_name if level == "region" else name, col, target, float(w_o.sum()),
                     float(w_n.sum()), c_o, c_n, s_o, s_n, s_n - s_o, g, lo])  # fmt: skip
        gained_by[level][name] = g
    changes = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    gained = float(pts.loc[pts["change"] == "gained", "weight"].sum())
    lost = float(pts.loc[pts["change"] == "lost", "weight"].sum())
    return LayerDiff(lid, target, col, changes, pts, gained, lost, tuple(warnings))


def _bundle_dirs(folder: Path) -> dict[str, Path]:
    """Layer id -> bundle folder, for a report folder or a single bundle."""
    rec_path = folder / "report.json"
    if rec_path.is_file():
        try:
            rec = json.loads(rec_path.read_text(encoding="utf-8"))
        except ValueError:
            raise InputError(f"{rec_path}: not valid JSON; re-create the report") from None
        bundles = rec.get("bundles") if isinstance(rec, dict) else None
        if not isinstance(bundles, dict) or not all(confined(sub) for sub in bundles.values()):
            raise InputError(
                f"{rec_path}: 'bundles' is not an object of folders inside the report "
                "({layer: 'bundles/<layer>'}); re-create the report"
            )
        return {str(lid): folder / sub for lid, sub in bundles.items()}
    bundles_dir = folder / "bundles"
    if bundles_dir.is_dir():
        return {p.name: p for p in sorted(bundles_dir.iterdir()) if (p / "metadata.json").is_file()}
    if (folder / "metadata.json").is_file():
        return {str(_read_meta(folder).get("layer") or folder.name): folder}
    raise InputError(
        f"{folder}: neither a report folder (report.json) nor a bundle (metadata.json); give "
        "a folder written by 'geoapp report' or 'geoapp coverage'"
    )


def diff_reports(old: str | os.PathLike[str], new: str | os.PathLike[str]) -> BundleDiff:
    """Compare every layer two report folders (or bundles) share."""
    old, new = Path(old), Path(new)
    a, b = _bundle_dirs(old), _bundle_dirs(new)
    shared = [lid for lid in b if lid in a]
    warnings = []
    for lid in sorted(set(a) ^ set(b)):
        side = old if lid in a else new
        warnings.append(f"Layer {lid} is only in {side}; it is not compared.")
    if not shared:
        raise InputError(f"{old} and {new} share no layer; nothing to compare")
    out = BundleDiff(str(old), str(new), warnings=tuple(warnings))
    for lid in shared:
        out.layers[lid] = diff_bundles(a[lid], b[lid])
    return out


#: The before/after map's legend texts.
DIFF_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "gained": "Gained coverage: {n:,.0f} residents",
        "lost": "Lost coverage: {n:,.0f} residents",
        "gained_60": "Gained coverage: {n:,.0f} residents aged 60+",
        "lost_60": "Lost coverage: {n:,.0f} residents aged 60+",
        "districts": "Districts",
        "none": "No resident gained or lost coverage",
    },
    "zh": {
        "gained": "新增覆盖：{n:,.0f} 人",
        "lost": "失去覆盖：{n:,.0f} 人",
        "gained_60": "新增覆盖：60岁及以上 {n:,.0f} 人",
        "lost_60": "失去覆盖：60岁及以上 {n:,.0f} 人",
        "districts": "区县",
        "none": "没有居民新增或失去覆盖",
    },
}
#: Colours of the residents who gained and lost coverage.
DIFF_COLORS = {"gained": "#1a9850", "lost": "#d73027"}


def diff_map_figure(
    diff: LayerDiff, boundaries: gpd.GeoDataFrame | None = None, *, lang: str = "en"
) -> matplotlib.figure.Figure:
    """Draw the before/after map: residents who gained (green) or lost (red) coverage.

    Like the report's maps (:func:`geoapp.report_figures.region_map`, the same
    :func:`~geoapp.report_figures.map_figure` and :func:`~geoapp.report_figures.finish_map`)
    it carries a legend (each side with the residents it counts, in the layer's
    population), a metric scale bar and a north arrow (found by their ``gid``), drawn in
    the local UTM CRS (metres).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from geoapp.crs import local_crs
    from geoapp.report_figures import finish_map, map_figure

    text = DIFF_TEXT.get(lang, DIFF_TEXT["en"])
    sixty = diff.demand == "pop_60plus"
    with map_figure() as (fig, ax):
        has_bnd = boundaries is not None and len(boundaries) > 0
        ref = boundaries if (has_bnd and boundaries is not None) else diff.points
        handles: list[Any] = []
        if len(ref):
            crs = local_crs(ref)
            if has_bnd and boundaries is not None:
                boundaries.to_crs(crs).plot(
                    ax=ax, color="#f2f2f2", edgecolor="#777777", linewidth=0.6
                )
                handles.append(Patch(facecolor="#f2f2f2", edgecolor="#777777",
                                     label=text["districts"]))  # fmt: skip
            p = diff.points.to_crs(crs) if len(diff.points) else diff.points
            for kind, total in (("gained", diff.gained), ("lost", diff.lost)):
                sel = p[p["change"] == kind] if len(p) else p
                if len(sel):
                    ax.scatter(sel.geometry.x, sel.geometry.y, s=4, color=DIFF_COLORS[kind],
                               zorder=5)  # fmt: skip
                label = text[f"{kind}_60" if sixty else kind].format(n=total)
                handles.append(Line2D([], [], marker="o", lw=0, markersize=4,
                                      color=DIFF_COLORS[kind], label=label))  # fmt: skip
            ax.set_aspect("equal")
            ax.set_xlabel("")
            ax.set_ylabel("")
            if len(p) and not has_bnd:  # a margin around the points alone
                x0, y0, x1, y1 = p.total_bounds
                pad = max(x1 - x0, y1 - y0, 200.0) * 0.08
                ax.set_xlim(x0 - pad, x1 + pad)
                ax.set_ylim(y0 - pad, y1 + pad)
        else:
            ax.set_xlim(0, 1000)
            ax.set_ylim(0, 1000)
        if not len(diff.points):
            handles.append(Patch(color="white", label=text["none"]))
        return finish_map(fig, ax, handles, lang)


def diff_map_png(
    diff: LayerDiff, boundaries: gpd.GeoDataFrame | None = None, *, lang: str = "en"
) -> bytes:
    """PNG of :func:`diff_map_figure` (legend, scale bar, north arrow)."""
    from geoapp.report_figures import figure_png

    return figure_png(diff_map_figure(diff, boundaries, lang=lang), dpi=110)


def check_diff_target(out_dir: str | os.PathLike[str], *sources: str | os.PathLike[str]) -> None:
    """Raise unless ``geoapp diff`` may write ``out_dir``.

    Refused (:class:`~geoapp.errors.OutputError`): a file, a folder holding anything but
    an earlier diff output (:func:`geoapp._atomic.check_output_folder`), and a folder
    that is one of the compared folders or inside one (it would change a bundle).
    """
    out = Path(os.path.realpath(out_dir))
    for src in sources:
        s = Path(os.path.realpath(src))
        if out == s or s in out.parents:
            raise OutputError(
                f"Output folder {out_dir} (--out) is {'' if out == s else 'inside '}the "
                f"compared folder {src}; writing there would change it. Choose another "
                "folder, e.g. --out out/diff/"
            )
    check_output_folder(out_dir, "diff", "out/diff/")


def write_diff(
    diff: BundleDiff,
    out_dir: str | os.PathLike[str],
    *,
    boundaries: gpd.GeoDataFrame | None = None,
) -> dict[str, Path]:
    """Write ``changes.csv``, ``points_changed.geojson``, ``map_<layer>.png``, ``diff.json``.

    The folder is written aside and swapped in whole, with a ``manifest.json``
    (:func:`geoapp._atomic.output_folder`); ``out_dir`` must be new, empty or an earlier
    diff output (:func:`check_diff_target`), and a failed run leaves it as it was.
    """
    out = Path(out_dir)
    check_diff_target(out, diff.old, diff.new)
    changes = pd.concat([d.changes for d in diff.layers.values()], ignore_index=True)
    pts = pd.concat([d.points for d in diff.layers.values()], ignore_index=True)
    pts = gpd.GeoDataFrame(pts, geometry="geometry", crs="EPSG:4326")
    maps = {lid: diff_map_png(d, boundaries) for lid, d in diff.layers.items()}
    warnings = [*diff.warnings, *(w for d in diff.layers.values() for w in d.warnings)]
    with output_folder(out, "diff") as tmp:
        names = {
            "changes": write_csv(changes, tmp / "changes.csv").name,
            "points": write_geojson(
                pts, tmp / "points_changed.geojson", meta={"old": diff.old, "new": diff.new}
            ).name,
        }
        for lid, png in maps.items():
            names[f"map_{lid}"] = write_bytes(tmp / f"map_{lid}.png", png).name
        names["diff"] = _write_diff_json(diff, warnings, tmp / "diff.json").name
    return {kind: out / name for kind, name in names.items()}


def _write_diff_json(diff: BundleDiff, warnings: list[str], path: Path) -> Path:
    return write_json(
        {
            "old": diff.old,
            "new": diff.new,
            "layers": {
                lid: {
                    "target_m": d.target_m,
                    "demand": d.demand,
                    "gained": d.gained,
                    "lost": d.lost,
                }
                for lid, d in diff.layers.items()
            },  # fmt: skip
            "warnings": warnings,
        },
        path,
    )


def comparison_html(
    diff: BundleDiff, *, lang: str = "en", boundaries: gpd.GeoDataFrame | None = None
) -> str:
    """Return the before/after section of a report (escaped HTML; map as an inline PNG)."""
    import base64
    import html

    from geoapp.styles import zone_name

    e = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    zh = lang == "zh"
    head = (
        ["层级", "单元", "之前", "之后", "变化", "新增覆盖", "失去覆盖"]
        if zh
        else ["Level", "Group", "Before", "After", "Change", "Gained", "Lost"]
    )

    def pct(v: float) -> str:
        return "–" if not np.isfinite(v) else f"{v * 100:.1f}%"

    out = f"<p>{e(('对比：' if zh else 'Compared with: ') + diff.old)}</p>"
    for lid, d in diff.layers.items():
        out += f"<h3>{e(lid)} ({e(f'{d.target_m:,.0f}')} m)</h3>"
        rows = []
        for _, r in d.changes.iterrows():
            group = zone_name(r["group"], lang) if r["level"] == "zone_type" else r["group"]
            rows.append(
                "<tr>" + "".join(
                    f"<td>{e(x)}</td>"
                    for x in (r["level"], group, pct(r["share_before"]), pct(r["share_after"]),
                              f"{r['change'] * 100:+.1f} pp" if np.isfinite(r["change"]) else "–",
                              f"{r['gained']:,.0f}", f"{r['lost']:,.0f}")
                ) + "</tr>"
            )  # fmt: skip
        out += (
            "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>"
        )  # fmt: skip
        img = base64.b64encode(diff_map_png(d, boundaries, lang=lang)).decode("ascii")
        cap = (
            "在目标距离内新增覆盖（绿色）或失去覆盖（红色）的居民。"
            if zh
            else "Residents who gained (green) or lost (red) coverage at the target."
        )
        out += f'<figure><img alt="map" src="data:image/png;base64,{img}"/><figcaption>{e(cap)}</figcaption></figure>'
        for w in d.warnings:
            out += f"<p>{e(w)}</p>"
    return out
