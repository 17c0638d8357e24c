"""Check geoapp's results on an OSM extract against independent references.

    python tools/check_extract.py EXTRACT.osm.pbf|.osm [--layer ID ...] [--sample N]
        [--windows K] [--seed S] [--out DIR]

geoapp runs on the extract as a user would (workflow.load_region, prepare_demand,
get_graph, analyse_layer with catchments). Every result is then compared with a
reference computed without geoapp's engine (here and in
tools/check_reference.py, which imports nothing from geoapp):

* distances: a networkx graph built from the raw ways (read with osmium, a hand-written
  walking filter, one edge per pair of consecutive nodes, geodesic lengths), points
  snapped to the nearest raw segment, one multi-source Dijkstra from the facilities;
  compared for a sample of demand points;
* facility counts per layer: a hand-written tag filter over every raw element;
* the coverage summary recomputed with pandas from the access table, and the share
  within reach recomputed from the reference distances on the sample;
* catchments: areas against buffered reached street pieces (reference labels), no
  overlap between catchments of one radius, every reached demand point covered;
* gaps: every uncovered demand point inside a gap is farther than the target by the
  reference distances.

The reference network is built inside a few windows (discs around random demand points
and around the largest gaps, plus the search limit), which is exact: a path no longer
than the search limit never leaves the disc of that radius around its end.

Prints a table of checks (check, value, reference, difference, tolerance, pass) and
what the data cannot tell; writes checks.csv, checks.md, distances.csv and facilities.csv
into --out. Exit code 1 when a check fails, 2 on bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_reference import (  # noqa: E402
    RefNet,
    RefSearch,
    build_refnet,
    layer_matches,
    read_raw,
    ref_point_distances,
    ref_search,
)

from geoapp import network, workflow  # noqa: E402
from geoapp.catalog import load_catalog  # noqa: E402
from geoapp.errors import GeoappError, InputError  # noqa: E402

log = logging.getLogger("check_extract")

#: Distance tolerance: a few metres or 1%, whichever is larger.
TOL_M = 5.0
TOL_REL = 0.01
#: Catchment street buffer and grid cell of geoapp's defaults (coverage.catchments).
BUFFER_M = 40.0
CELL_M = 5.0

# ------------------------------------------------------------------ helpers


@dataclass
class Checks:
    """The table of checks: one row per comparison of a geoapp value with its reference."""

    rows: list = field(default_factory=list)

    def add(self, layer, check, value, reference, tolerance, ok, note=""):
        """Add one check; ``difference`` is ``value - reference`` when both are numbers."""
        diff = (
            value - reference
            if isinstance(value, int | float) and isinstance(reference, int | float)
            else ""
        )
        self.rows.append(
            {
                "layer": layer,
                "check": check,
                "value": value,
                "reference": reference,
                "difference": diff,
                "tolerance": tolerance,
                "pass": bool(ok),
                "note": note,
            }
        )

    def frame(self) -> pd.DataFrame:
        """Return the checks as a table (the columns of checks.csv)."""
        return pd.DataFrame(
            self.rows,
            columns=[
                "layer",
                "check",
                "value",
                "reference",
                "difference",
                "tolerance",
                "pass",
                "note",
            ],
        )


def _close(a: np.ndarray, b: np.ndarray, limit: float) -> np.ndarray:
    """Within TOL_M / TOL_REL; inf on one side only passes when the other is near the limit."""
    both_inf = np.isinf(a) & np.isinf(b)
    tol = np.maximum(TOL_M, TOL_REL * np.where(np.isfinite(b), b, a))
    with np.errstate(invalid="ignore"):
        near = np.abs(a - b) <= tol
    edge = (np.isinf(a) & (b >= limit - tol)) | (np.isinf(b) & (a >= limit - tol))
    return both_inf | near | edge


def _fmt(v) -> str:
    if isinstance(v, bool | np.bool_):
        return "pass" if v else "FAIL"
    if isinstance(v, float | np.floating):
        if not math.isfinite(v):
            return str(v)
        return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return str(v)


def to_markdown(df: pd.DataFrame) -> str:
    """Return ``df`` as a Markdown table (checks.md)."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in df.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v).replace("|", "/") for v in r) + " |")
    return "\n".join(lines)


def _proj_points(gdf: gpd.GeoDataFrame, crs) -> np.ndarray:
    g = gdf.geometry.to_crs(crs).to_numpy()
    notpt = shapely.get_type_id(g) != 0
    if notpt.any():
        g = g.copy()
        g[notpt] = shapely.point_on_surface(g[notpt])
    return g


# ------------------------------------------------------------------ the checks


def check_extract(
    path: str | Path,
    layer_ids: list[str] | None = None,
    *,
    sample: int = 300,
    windows: int = 3,
    window_m: float = 800.0,
    seed: int = 0,
    catchment_facilities: int = 4,
    districts: int = 2,
    progress=print,
) -> tuple[pd.DataFrame, list[str], dict]:
    """Run geoapp on ``path`` and check it; return (checks, cannot-tell notes, details)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found; give an .osm.pbf or .osm extract")
    t0 = time.perf_counter()
    catalog = load_catalog()
    layer_ids = layer_ids or list(catalog)
    unknown = [x for x in layer_ids if x not in catalog]
    if unknown:
        raise InputError(f"--layer {unknown}: not in the catalog ({', '.join(catalog)})")
    region = workflow.load_region(osm=path, catalog=catalog)
    grid = None
    if districts > 1 and len(region.boundaries) <= 1 and len(region.edges):
        # districts made up for the check: an n x n grid over the streets' extent, 5% in
        # from its edges (so some demand and facilities lie outside every district)
        x0, y0, x1, y1 = region.edges.total_bounds
        mx, my = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
        xs = np.linspace(x0 + mx, x1 - mx, districts + 1)
        ys = np.linspace(y0 + my, y1 - my, districts + 1)
        boxes = [(f"D{i}{j}", shapely.box(xs[j], ys[i], xs[j + 1], ys[i + 1]))
                 for i in range(districts) for j in range(districts)]  # fmt: skip
        grid = gpd.GeoDataFrame(
            {"district": [b[0] for b in boxes], "district_code": "", "zone_type": "unknown",
             "zone_fine": ""}, geometry=[b[1] for b in boxes], crs="EPSG:4326",
        )  # fmt: skip
        region = workflow.replace_districts(region, grid, source="a check grid")
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region)
    # every feature the layer's tags match is checked, heritage unclassified (the shipped
    # layer judges designated sites only; memorials and statues are reported apart)
    analyses = {
        lid: workflow.analyse_layer(
            region, dataclasses.replace(catalog[lid], classify=""), demand=demand, graph=graph
        )
        for lid in layer_ids
    }
    t_geoapp = time.perf_counter() - t0
    progress(
        f"geoapp: {len(region.edges):,} edges, {len(demand.points):,} demand points, "
        f"{sum(len(a.facilities) for a in analyses.values()):,} facilities in {t_geoapp:.1f} s"
    )
    crs = graph.crs
    checks = Checks()
    notes: list[str] = []
    details: dict = {}
    rng = np.random.default_rng(seed)
    pts = demand.points
    dxy = shapely.get_coordinates(_proj_points(pts, crs))
    limit = max(a.meta["search_limit_m"] for a in analyses.values())

    # ---- windows: random demand points, and the largest gap of each layer
    seeds = list(rng.choice(len(pts), size=min(windows, len(pts)), replace=False))
    for a in analyses.values():
        if len(a.gaps):
            inside = shapely.contains_xy(a.gaps.geometry.iloc[0], *shapely.get_coordinates(
                pts.geometry.to_numpy()).T)  # fmt: skip
            if inside.any():
                seeds.append(int(np.flatnonzero(inside)[0]))
    seed_xy = dxy[seeds]
    for a in analyses.values():  # a window around one facility of each layer
        if len(a.facilities):
            fx = shapely.get_coordinates(_proj_points(a.facilities, crs))
            seed_xy = np.vstack([seed_xy, fx[rng.integers(len(fx))]])
    disc = window_m + limit + 50.0
    from scipy.spatial import cKDTree

    stree = cKDTree(seed_xy)
    in_window = stree.query(dxy, k=1)[0] <= window_m
    to_crs = gpd.GeoSeries([], crs="EPSG:4326").to_crs(crs).crs

    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", to_crs, always_xy=True)

    def keep(lon, lat):
        x, y = tr.transform(lon, lat)
        return stree.query(np.c_[x, y], k=1)[0] <= disc

    keys = sorted({k for L in catalog.values() for t in L.match for k in t})
    t = time.perf_counter()
    raw = read_raw(path, keys, keep)
    net = build_refnet(raw, crs)
    progress(
        f"reference: {raw.n_walk_ways:,} walkable ways, {len(raw.seg_u):,} segments in "
        f"{len(seed_xy)} windows, {len(raw.tagged):,} tagged elements ({time.perf_counter() - t:.1f} s)"
    )
    details["sizes"] = {
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "edges": len(region.edges),
        "demand_points": len(pts),
        "buildings": len(region.buildings),
        "raw_walkable_ways": raw.n_walk_ways,
        "ref_segments": len(raw.seg_u),
        "windows": len(seed_xy),
        "geoapp_s": round(t_geoapp, 1),
    }

    # ---- sample of demand points in the windows (+ the uncovered demand in gaps there)
    win_idx = np.flatnonzero(in_window)
    samp = np.sort(rng.choice(win_idx, size=min(sample, len(win_idx)), replace=False))
    gap_pts: dict[str, np.ndarray] = {}
    for lid, a in analyses.items():
        if len(a.gaps):
            tree = shapely.STRtree(a.gaps.geometry.to_numpy())
            pi, _ = tree.query(pts.geometry.to_numpy(), predicate="intersects")
            pi = np.unique(pi)
            d = a.access["dist_m"].to_numpy(float)[pi]
            cand = pi[in_window[pi] & (d > a.layer.target_m)]
            gap_pts[lid] = np.sort(rng.choice(cand, size=min(sample, len(cand)), replace=False))
    eval_idx = np.unique(np.concatenate([samp, *gap_pts.values()])).astype(int)
    eval_pts = shapely.points(dxy[eval_idx])
    # random spots in the windows (demand may be sparse): uniform in the discs
    k = len(seed_xy)
    which = rng.integers(k, size=sample)
    rad = window_m * np.sqrt(rng.random(sample))
    ang = rng.random(sample) * 2 * np.pi
    spot_xy = seed_xy[which] + np.c_[rad * np.cos(ang), rad * np.sin(ang)]
    spots = gpd.GeoSeries(shapely.points(spot_xy), crs=crs)
    dist_rows = []

    for lid, a in analyses.items():
        layer = a.layer
        L = a.meta["search_limit_m"]
        fac = a.facilities
        # ---- facility counts by hand
        ref_ids = {k for k, v in raw.tagged.items() if layer_matches(v[0], layer.match)}
        got = {str(f).split("#")[0] for f in fac["facility_id"]}
        dropped = sorted(ref_ids - got)
        added = sorted(got - ref_ids)
        no_geom = [k for k in dropped if _clipped_away(raw.tagged[k])]
        real_drop = [k for k in dropped if k not in no_geom]
        for k in dropped:
            tg, lon, lat, n_in, n_ref = raw.tagged[k]
            why = (
                f"clipped: {n_in} of its {n_ref} nodes are in the extract, too few for its shape"
                if k in no_geom
                else "UNEXPLAINED"
            )
            details.setdefault("facilities", []).append(
                {"layer": lid, "id": k, "geoapp": "dropped", "why": why, "lon": lon, "lat": lat,
                 "tags": ";".join(f"{a_}={b_}" for a_, b_ in tg.items() if a_ in keys)}
            )  # fmt: skip
        for k in added:
            details.setdefault("facilities", []).append(
                {"layer": lid, "id": k, "geoapp": "added", "why": "UNEXPLAINED", "lon": math.nan,
                 "lat": math.nan, "tags": ""}
            )  # fmt: skip
        checks.add(
            lid,
            "facilities: count vs hand-written tag filter",
            len(got),
            len(ref_ids) - len(no_geom),
            0,
            not real_drop and not added,
            f"{len(no_geom)} dropped as clipped by the extract's edge (too few nodes); "
            f"{len(real_drop)} other dropped {real_drop[:5]}; {len(added)} added {added[:5]}",
        )
        if len(ref_ids) == 0:
            notes.append(
                f"{path.name}: no {layer.name()} facility is mapped in the extract (hand-written "
                f"tag filter over the raw file agrees): zero coverage here is missing data, not "
                f"missing service."
            )
        # ---- coverage summary recomputed with pandas
        acc = a.access
        s = a.summary.set_index(["level", "group"])
        worst = 0.0
        for col in ("pop", "pop_60plus"):
            w = pd.to_numeric(acc[col]).fillna(0.0)
            dd = pd.to_numeric(acc["dist_m"]).fillna(np.inf)
            region_key = next(k for k in s.index if k[0] == "region")
            groups = {region_key: np.ones(len(acc), bool)}
            for dname in acc["district"].astype(str).unique():
                groups[("district", dname)] = (acc["district"].astype(str) == dname).to_numpy()
            for (lev, grp), m in groups.items():
                for lab, r in zip(layer.labels, layer.radii_m, strict=True):
                    tot = w[m].sum()
                    ref = (w[m] * (dd[m] <= r)).sum() / tot if tot > 0 else np.nan
                    got_s = s.loc[(lev, grp), f"share_{col}_{lab}"]
                    if not (np.isnan(ref) and np.isnan(got_s)):
                        worst = max(worst, abs(float(got_s) - float(ref)))
        checks.add(
            lid,
            "summary: shares per radius, region and districts, vs pandas",
            worst,
            0.0,
            1e-9,
            worst <= 1e-9,
            f"{len(groups)} groups x {len(layer.radii_m)} radii x pop, pop_60plus",
        )
        # group totals: district rows add up to the region row
        reg = s[s.index.get_level_values(0) == "region"].iloc[0]
        dsum = a.summary[a.summary["level"] == "district"][["pop", "pop_60plus"]].sum()
        tot = float(pd.to_numeric(acc["pop"]).fillna(0).sum())
        gap_tot = max(abs(reg["pop"] - tot), abs(dsum["pop"] - tot))
        checks.add(
            lid,
            "summary: residents, region row and sum of districts vs access table",
            float(reg["pop"]),
            tot,
            1e-6 * max(tot, 1.0),
            gap_tot <= 1e-6 * max(tot, 1.0),
        )
        # districts by hand: residents and facilities per district, point in box
        if grid is not None:
            ll = shapely.get_coordinates(acc.geometry.to_crs("EPSG:4326").to_numpy())
            fll = shapely.get_coordinates(_proj_points(fac, "EPSG:4326"))
            worst_pop = worst_fac = 0.0
            d_rows = a.summary[a.summary["level"] == "district"].set_index("group")
            w = pd.to_numeric(acc["pop"]).fillna(0).to_numpy(float)
            in_any = np.zeros(len(acc), bool)
            f_any = np.zeros(len(fac), bool)
            for name, geom in zip(grid["district"], grid.geometry, strict=True):
                # on a shared edge: the first box listed (geoapp's documented rule)
                m = shapely.intersects_xy(geom, ll[:, 0], ll[:, 1]) & ~in_any
                fm = (shapely.intersects_xy(geom, fll[:, 0], fll[:, 1]) & ~f_any
                      if len(fac) else f_any)  # fmt: skip
                in_any |= m
                f_any |= fm
                row = d_rows.loc[name] if name in d_rows.index else None
                got_pop = float(row["pop"]) if row is not None else 0.0
                got_fac = int(row["n_facilities"]) if row is not None else 0
                worst_pop = max(worst_pop, abs(got_pop - w[m].sum()))
                worst_fac = max(worst_fac, abs(got_fac - int(fm.sum())))
            out_name = "(outside districts)"
            got_out = float(d_rows.loc[out_name, "pop"]) if out_name in d_rows.index else 0.0
            worst_pop = max(worst_pop, abs(got_out - w[~in_any].sum()))
            got_fout = int(d_rows.loc[out_name, "n_facilities"]) if out_name in d_rows.index else 0
            worst_fac = max(worst_fac, abs(got_fout - int((~f_any).sum())))
            checks.add(
                lid,
                f"districts ({len(grid)} grid boxes): residents per district vs point in box (max diff)",
                worst_pop,
                0.0,
                1e-6 * max(1.0, w.sum()),
                worst_pop <= 1e-6 * max(1.0, w.sum()),
                f"{w[~in_any].sum():,.0f} residents outside every district",
            )
            checks.add(
                lid,
                "districts: facilities per district vs point in box (max diff)",
                worst_fac,
                0.0,
                0,
                worst_fac == 0,
                f"{int((~f_any).sum())} facilities outside every district",
            )
        # gaps: each area's uncovered / covered demand recounted by point in polygon
        if len(a.gaps):
            wcol = layer.demand_column
            w = pd.to_numeric(acc[wcol]).fillna(0).to_numpy(float)
            unc = pd.to_numeric(acc["dist_m"]).fillna(np.inf).to_numpy(float) > layer.target_m
            # residents of a data-quality class (network gap, edge of data) form no gap
            dq = acc["dq_class"].astype(str).to_numpy() if "dq_class" in acc.columns else None
            artefact = (dq != "ok") if dq is not None else np.zeros(len(acc), dtype=bool)
            xy = shapely.get_coordinates(acc.geometry.to_crs("EPSG:4326").to_numpy())
            worst = 0.0
            for g in a.gaps.itertuples():
                inside = shapely.contains_xy(g.geometry, xy[:, 0], xy[:, 1])
                inside |= shapely.intersects_xy(g.geometry.boundary, xy[:, 0], xy[:, 1])
                worst = max(
                    worst,
                    abs(g.uncovered_demand - w[inside & unc & ~artefact].sum()),
                    abs(g.covered_demand - w[inside & ~unc].sum()),
                )
            checks.add(
                lid,
                "gaps: uncovered and covered demand per area, recounted (max diff)",
                worst,
                0.0,
                1e-6,
                worst <= 1e-6,
                f"{len(a.gaps)} gap areas; {float(w[unc].sum()):,.0f} uncovered in the region "
                f"({float(w[unc & artefact].sum()):,.0f} of a data-quality class), "
                f"{float(a.gaps['uncovered_demand'].sum()):,.0f} inside gap areas",
            )
        # catchments: residents served recounted from the access table
        if a.catchments is not None and len(a.catchments):
            da = pd.DataFrame(
                {"f": acc["facility_id"].astype(str), "d": pd.to_numeric(acc["dist_m"]),
                 "p": pd.to_numeric(acc["pop"]).fillna(0)}
            )  # fmt: skip
            worst = 0.0
            for r in layer.radii_m:
                ref = da[(da["d"] <= r) & (da["f"] != "")].groupby("f")["p"].sum()
                c = a.catchments[np.isclose(a.catchments["radius_m"], r)]
                got_p = c.set_index(c["facility_id"].astype(str))["pop_served"]
                worst = max(worst, float((got_p - ref.reindex(got_p.index).fillna(0)).abs().max()))
                worst = max(worst, abs(float(got_p.sum()) - float(ref.sum())))
            checks.add(
                lid,
                "catchments: residents served per facility vs access table (max diff)",
                worst,
                0.0,
                1e-6,
                worst <= 1e-6,
            )
        if not len(fac):
            continue
        # ---- reference distances
        fpts = _proj_points(fac, crs)
        fxy = shapely.get_coordinates(fpts)
        fnear = stree.query(fxy, k=1)[0] <= disc
        fidx = np.flatnonzero(fnear)
        rs = ref_search(net, fpts[fidx], L)
        ref_d, ref_f = ref_point_distances(net, rs, eval_pts, L)
        geo_d = acc["dist_m"].to_numpy(float)[eval_idx]
        ok = _close(geo_d, ref_d, L)
        in_s = np.isin(eval_idx, samp)
        with np.errstate(invalid="ignore"):
            diff = np.where(np.isfinite(geo_d) & np.isfinite(ref_d), geo_d - ref_d, 0.0)
        n_bad = int((~ok & in_s).sum())
        checks.add(
            lid,
            "distances: sample, max |geoapp - networkx| (m)",
            float(np.abs(diff[in_s]).max()) if in_s.any() else 0.0,
            0.0,
            f"{TOL_M:g} m or {TOL_REL:.0%}",
            n_bad == 0,
            f"{int(in_s.sum())} points, {n_bad} outside tolerance, "
            f"{int(np.isinf(ref_d[in_s]).sum())} beyond {L:,.0f} m in both"
            if n_bad == 0
            else f"{int(in_s.sum())} points, {n_bad} outside tolerance (distances.csv)",
        )
        # the engine on random spots (network.nearest_facility, public API)
        sd, _ = network.nearest_facility(graph, spots, fac, L)
        rsd, _ = ref_point_distances(net, rs, spots.to_numpy(), L)
        sok = _close(sd, rsd, L)
        with np.errstate(invalid="ignore"):
            sdiff = np.where(np.isfinite(sd) & np.isfinite(rsd), sd - rsd, 0.0)
        checks.add(
            lid,
            "distances: random spots in the windows, max |geoapp - networkx| (m)",
            float(np.abs(sdiff).max()),
            0.0,
            f"{TOL_M:g} m or {TOL_REL:.0%}",
            bool(sok.all()),
            f"{len(sd)} spots, {int((~sok).sum())} outside tolerance, "
            f"{int((np.isfinite(sd) & np.isfinite(rsd)).sum())} reached in both",
        )
        for j in np.flatnonzero(~sok):
            dist_rows.append(
                {"layer": lid, "demand_id": f"spot {spot_xy[j, 0]:.1f},{spot_xy[j, 1]:.1f}",
                 "in_sample": False, "geoapp_m": sd[j], "networkx_m": rsd[j],
                 "geoapp_facility": "", "networkx_facility": "", "ok": False}
            )  # fmt: skip
        ref_fid = np.array(
            [str(fac["facility_id"].iloc[fidx[f]]) if f >= 0 else "" for f in ref_f], dtype=object
        )
        geo_fid = acc["facility_id"].astype(str).to_numpy()[eval_idx]
        for j, i in enumerate(eval_idx):
            dist_rows.append(
                {"layer": lid, "demand_id": pts["demand_id"].iloc[i], "in_sample": bool(in_s[j]),
                 "geoapp_m": geo_d[j], "networkx_m": ref_d[j], "geoapp_facility": geo_fid[j],
                 "networkx_facility": ref_fid[j], "ok": bool(ok[j])}
            )  # fmt: skip
        # share within reach from the reference distances (same sample)
        wcol = layer.demand_column
        w = pd.to_numeric(pts[wcol]).fillna(0).to_numpy(float)[eval_idx][in_s]
        gd, rd = geo_d[in_s], ref_d[in_s]
        for lab, r in zip(layer.labels, layer.radii_m, strict=True):
            if w.sum() <= 0:
                continue
            g_sh = float((w * (gd <= r)).sum() / w.sum())
            r_sh = float((w * (rd <= r)).sum() / w.sum())
            band = float(
                (w * (np.abs(np.where(np.isfinite(rd), rd, 1e18) - r) <= max(TOL_M, TOL_REL * r)))
                .sum() / w.sum()
            )  # fmt: skip
            checks.add(
                lid,
                f"share within {lab} ({r:,.0f} m), sample: geoapp vs networkx",
                g_sh,
                r_sh,
                f"{band:.4f} (near the radius)",
                abs(g_sh - r_sh) <= band + 1e-9,
            )
        # ---- gaps: uncovered demand in gaps is beyond the target by the reference
        if lid in gap_pts and len(gap_pts[lid]):
            gj = np.isin(eval_idx, gap_pts[lid])
            tgt = layer.target_m
            bad = gj & (ref_d <= tgt - np.maximum(TOL_M, TOL_REL * tgt))
            checks.add(
                lid,
                "gaps: uncovered demand inside gaps beyond target by networkx",
                int(gj.sum() - bad.sum()),
                int(gj.sum()),
                0,
                not bad.any(),
                f"target {tgt:,.0f} m; {int(np.isinf(ref_d[gj]).sum())} beyond {L:,.0f} m",
            )
        elif len(a.gaps):
            notes.append(f"{lid}: no gap demand fell in the reference windows; gaps unchecked.")
        # ---- catchments
        if a.catchments is not None and len(a.catchments):
            _check_catchments(lid, a, net, rs, fac, fidx, crs, pts, dxy, stree, window_m,
                              catchment_facilities, rng, checks, region)  # fmt: skip

    _fragments(net, analyses, pts, dxy, eval_idx, samp, path, notes, details)
    details["distances"] = pd.DataFrame(dist_rows)
    details["facilities"] = pd.DataFrame(
        details.get("facilities", []),
        columns=["layer", "id", "geoapp", "why", "lon", "lat", "tags"],
    )
    notes = _cannot_tell(path, region, demand, analyses, raw, notes, grid, districts)
    details["sizes"]["total_s"] = round(time.perf_counter() - t0, 1)
    return checks.frame(), notes, details


def _fragments(net, analyses, pts, dxy, eval_idx, samp, path, notes, details) -> None:
    """Name the sampled demand that snaps to a street fragment connected to nothing."""
    if not len(net.seg_u):
        return
    comp_of: dict = {}
    comp_len: list[float] = []
    for c, nodes in enumerate(nx.connected_components(net.G)):
        comp_len.append(sum(d["w"] for _, _, d in net.G.subgraph(nodes).edges(data=True)))
        for n in nodes:
            comp_of[n] = c
    seg_comp = np.array([comp_of[u] for u in net.seg_u.tolist()])
    seg_clen = np.asarray(comp_len)[seg_comp]
    small = 1000.0
    idx = np.asarray(samp, dtype=int)
    seg, _, leg = net.snap(shapely.points(dxy[idx]))
    frag = seg_clen[seg] < small
    if not frag.any():
        return
    big = np.flatnonzero(seg_clen >= small)
    far = np.full(frag.sum(), np.inf)
    if len(big):
        btree = shapely.STRtree(net.seg_line[big])
        _, far = btree.query_nearest(shapely.points(dxy[idx[frag]]), return_distance=True,
                                     all_matches=False)  # fmt: skip
    pop = pd.to_numeric(pts["pop"]).fillna(0).to_numpy(float)[idx]
    unreached = [
        f"{int(np.isinf(a.access['dist_m'].to_numpy(float)[idx[frag]]).sum())} for {lid}"
        for lid, a in analyses.items() if len(a.facilities)
    ]  # fmt: skip
    details["fragments"] = pd.DataFrame(
        {"demand_id": pts["demand_id"].to_numpy()[idx[frag]], "pop": pop[frag],
         "street_m": leg[frag], "fragment_m": seg_clen[seg[frag]], "connected_street_m": far}
    )  # fmt: skip
    notes.append(
        f"{path.name}: {int(frag.sum())} of {len(idx)} sampled demand points "
        f"({pop[frag].sum():,.0f} of {pop.sum():,.0f} residents) have as nearest street a "
        f"fragment of less than {small:,.0f} m of walkable way connected to no other street "
        f"(a courtyard path, a clipped stub); geoapp and the reference both snap them there, so "
        f"they reach only what lies on it (unreached: {', '.join(unreached) or 'none'}) "
        f"although a connected street is a median {np.median(far):,.0f} m away. Whether "
        "they can walk out (a gate, an unmapped path) the data does not say."
    )


def _clipped_away(v) -> bool:
    """Return True for an element the extract's edge left without a shape.

    That is: no node in the file, a closed way with fewer than 3 of its nodes (no area),
    an open way with fewer than 2.
    """
    tags, lon, _, n_in, n_ref = v
    if not math.isfinite(lon):
        return True
    return n_in < n_ref and n_in < 3


def _pieces(net: RefNet, rs: RefSearch, segs: np.ndarray, R: float, step: float = 2.0):
    """Reached street pieces within R: projected LineStrings and their facility position."""
    lines, owners = [], []
    on_seg = defaultdict(list)
    for i, s in enumerate(rs.fac_seg):
        if s >= 0 and rs.fac_acc[i] <= R:
            on_seg[int(s)].append(i)
    for s in segs:
        a, b, ell = net.seg_u[s], net.seg_v[s], net.seg_len[s]
        n = max(2, int(math.ceil(ell / step)) + 1)
        x = np.linspace(0, ell, n)
        best = np.full(n, np.inf)
        lab = np.full(n, -1)
        for node, along in ((a, x), (b, ell - x)):
            if node in rs.dist:
                d = rs.dist[node] + along
                m = d < best
                best[m], lab[m] = d[m], rs.label[node]
        for f in on_seg.get(int(s), ()):
            d = rs.fac_acc[f] + np.abs(x - rs.fac_pos[f])
            m = d < best
            best[m], lab[m] = d[m], f
        reached = best <= R
        if not reached.any():
            continue
        line = net.seg_line[s]
        glen = line.length
        frac = x / ell if ell > 0 else np.zeros(n)
        xy = shapely.get_coordinates(shapely.line_interpolate_point(line, frac * glen))
        # runs of the same label among reached samples
        key = np.where(reached, lab, -2)
        start = 0
        for k in range(1, n + 1):
            if k == n or key[k] != key[start]:
                if key[start] >= 0 and k - start >= 2:
                    lines.append(shapely.linestrings(xy[start:k]))
                    owners.append(int(key[start]))
                elif key[start] >= 0:
                    lines.append(shapely.points(xy[start]))
                    owners.append(int(key[start]))
                start = k
    return np.asarray(lines, dtype=object), np.asarray(owners, dtype=int)


def _check_catchments(lid, a, net, rs, fac, fidx, crs, pts, dxy, stree, window_m, k, rng, checks,
                      region):  # fmt: skip
    cat = a.catchments
    # the grid geoapp contours on: CELL_M, coarser when the reached streets span more
    # than 20 million cells (network.catchments' max_cells)
    x0, y0, x1, y1 = region.edges.to_crs(crs).total_bounds
    pad = 2 * (BUFFER_M + 3 * CELL_M)
    cell = max(CELL_M, math.sqrt((x1 - x0 + pad) * (y1 - y0 + pad) / 20_000_000) * 1.01)
    cat_p = cat.to_crs(crs)
    fids = fac["facility_id"].astype(str).to_numpy()
    # facilities inside the windows with a catchment
    fxy = shapely.get_coordinates(_proj_points(fac.iloc[fidx], crs))
    central = fidx[stree.query(fxy, k=1)[0] <= window_m]
    has = set(cat.loc[cat["area_km2"] > 0, "facility_id"].astype(str))
    central = [i for i in central if fids[i] in has]
    chosen = list(rng.choice(central, size=min(k, len(central)), replace=False)) if central else []
    pos_of = {int(f): j for j, f in enumerate(fidx)}  # facility row -> reference position
    for R, lab in zip(a.layer.radii_m, a.layer.labels, strict=True):
        rows = cat_p[np.isclose(cat_p["radius_m"], R)]
        geoms = rows.geometry.to_numpy()
        # no overlap among the catchments of one radius
        tree = shapely.STRtree(geoms)
        i, j = tree.query(geoms, predicate="intersects")
        m = i < j
        overlap = float(shapely.area(shapely.intersection(geoms[i[m]], geoms[j[m]])).sum())
        total = float(shapely.area(geoms).sum())
        checks.add(
            lid,
            f"catchments {lab}: overlap between facilities (m²)",
            overlap,
            0.0,
            f"{1e-4:.0e} x total {total:,.0f} m²",
            overlap <= 1e-4 * max(total, 1.0),
        )
        # every reached demand point (street within the buffer) is in the union
        dist = a.access["dist_m"].to_numpy(float)
        street = shapely.STRtree(region.edges.geometry.to_crs(crs).to_numpy())
        dpts = shapely.points(dxy)
        _, leg = street.query_nearest(dpts, return_distance=True, all_matches=False)
        reached = dist <= R
        near = reached & (leg <= BUFFER_M - 2 * CELL_M)
        union = shapely.union_all(geoms[shapely.area(geoms) > 0])
        inside = shapely.contains_xy(union, dxy[:, 0], dxy[:, 1])
        missed = int((near & ~inside).sum())
        far = int((reached & (leg > BUFFER_M)).sum())
        checks.add(
            lid,
            f"catchments {lab}: reached demand points inside the union",
            int((near & inside).sum()),
            int(near.sum()),
            0,
            missed == 0,
            f"{far} reached points lie > {BUFFER_M:g} m from any street, outside the "
            "street buffer by construction"
            + (
                f"; {missed} missed, {_missed_where(union, dxy[near & ~inside], geoms)}"
                if missed
                else ""
            ),
        )
        # area of a few facilities vs buffered reached pieces (reference labels)
        smaller = [x for x in sorted(a.layer.radii_m) if x <= R]
        for f in chosen:
            jf = pos_of[int(f)]
            fpt = _proj_points(fac.iloc[[f]], crs)[0]
            near_segs = net.tree.query(shapely.buffer(fpt, R + 2 * BUFFER_M))
            layers_ = [_pieces(net, rs, near_segs, x) for x in smaller]
            lines, owners = layers_[-1]
            mine = lines[owners == jf]
            upper = shapely.union_all(shapely.buffer(mine, BUFFER_M)) if len(mine) else None
            got = rows.loc[rows["facility_id"] == fids[f], "geometry"]
            g_area = float(got.area.sum())
            if upper is None:
                checks.add(lid, f"catchment {lab} of {fids[f]}: area (m²)", g_area, 0.0, 0,
                           g_area == 0)  # fmt: skip
                continue
            # the reference partition: a grid point within the buffer of the reached pieces
            # goes to the facility of the nearest piece (exact shapely distances), at the
            # smallest radius where it is within the buffer (radii are nested, as geoapp's)
            step = 2.5
            x0, y0, x1, y1 = upper.bounds
            gx, gy = np.meshgrid(
                np.arange(x0, x1, step) + step / 2, np.arange(y0, y1, step) + step / 2
            )
            gx, gy = gx.ravel(), gy.ravel()
            gin = shapely.contains_xy(upper, gx, gy)
            gp = shapely.points(gx[gin], gy[gin])
            owner = np.full(len(gp), -1)
            for k_lines, k_owners in layers_:
                if not len(k_lines):
                    continue
                todo = np.flatnonzero(owner < 0)
                (src, tgt), dd = shapely.STRtree(k_lines).query_nearest(
                    gp[todo], return_distance=True, all_matches=False
                )
                hit = dd <= BUFFER_M
                owner[todo[src[hit]]] = k_owners[tgt[hit]]
            ref_area = float((owner == jf).sum()) * step * step
            # what a grid of `cell` metres cannot decide: spots whose nearest own and
            # nearest other street are within a cell of each other (a sidewalk beside a
            # road labelled with another facility), and the outline's band of one cell
            mine_t = shapely.STRtree(mine)
            _, d_own = mine_t.query_nearest(gp, return_distance=True, all_matches=False)
            oth = lines[owners != jf]
            d_oth = np.full(len(gp), np.inf)
            if len(oth):
                _, d_oth = shapely.STRtree(oth).query_nearest(
                    gp, return_distance=True, all_matches=False
                )
            d_min = np.minimum(d_own, d_oth)
            unsure = ((np.abs(d_own - d_oth) <= cell / 2) & (d_min <= BUFFER_M)) | (
                (np.abs(d_min - BUFFER_M) <= cell / 4) & (owner == jf)
            )
            tol = float(unsure.sum()) * step * step + 0.01 * ref_area
            checks.add(
                lid,
                f"catchment {lab} of {fids[f]}: area (m²) vs buffered reached streets",
                g_area,
                ref_area,
                f"{tol:,.0f}",
                abs(g_area - ref_area) <= tol,
                f"own streets' buffer {upper.area:,.0f} m² before splitting with neighbours; "
                f"tolerance: area within half a {cell:.1f} m cell of a border, a quarter of the outline",
            )


def _missed_where(union, xy: np.ndarray, geoms: np.ndarray) -> str:
    """Describe where reached demand points missing from the catchments lie."""
    pts = shapely.points(xy)
    gap = shapely.distance(union, pts)
    near = shapely.STRtree(geoms).query(shapely.buffer(pts, 5.0), predicate="intersects")
    n_near = np.bincount(near[0], minlength=len(pts))
    return (
        f"{gap.max():.2f} m at most outside the union, {int((n_near >= 3).sum())} of them "
        "where three or more catchments meet within 5 m (a gap left by the contouring)"
    )


def _cannot_tell(path, region, demand, analyses, raw, notes, grid, districts) -> list[str]:
    out = []
    src = demand.points["pop_source"].value_counts() if "pop_source" in demand.points else None
    n_b = len(region.buildings)
    if src is not None:
        by = {k: float(demand.points.loc[demand.points["pop_source"] == k, "pop"].sum())
              for k in src.index}  # fmt: skip
        tot = sum(by.values()) or 1.0
        parts = ", ".join(
            f"{v / tot:.0%} from {k}" for k, v in sorted(by.items(), key=lambda x: -x[1])
        )
        out.append(
            f"{path.name}: the population estimate ({demand.total:,.0f} residents) is "
            f"{parts}; {n_b:,} building footprints and {raw.n_residential_landuse} residential "
            "landuse areas are mapped. No census is in an OSM extract, so the totals and the "
            "ages (a profile's share aged 60+, not counted) cannot be checked here."
        )
    dp = demand.points
    is_bld = dp["pop_source"].astype(str) == "building" if "pop_source" in dp else False
    bpop = float(pd.to_numeric(dp["pop"]).where(is_bld, 0.0).sum())
    if bpop < 0.5 * max(demand.total, 1e-9):
        out.append(
            f"{path.name}: most residents are placed from landuse, not buildings ({n_b} "
            "footprints mapped); where homes are not mapped the "
            "demand rests on landuse areas or nothing, and coverage shares say little about "
            "real residents."
        )
    if grid is not None:
        out.append(
            f"{path.name}: the extract holds no administrative districts; the checks used a "
            f"{districts} x {districts} grid of made-up districts over the streets' extent, so "
            "the per-district figures test geoapp's grouping, not any real district."
        )
    elif len(region.boundaries) <= 1:
        out.append(
            f"{path.name}: no administrative districts in the extract: the one 'district' is the "
            "data's extent, so the per-district summary equals the region."
        )
    zt = demand.points["zone_type"].astype(str)
    if (zt == "unknown").all():
        out.append(f"{path.name}: no zone data: every point is zone type 'unknown'.")
    if raw.n_clipped_ways:
        out.append(
            f"{path.name}: {raw.n_clipped_ways:,} walkable ways are cut by the extract's edge: "
            "facilities just outside it are unknown, so coverage near the edge is a lower bound."
        )
    if "tiled" in path.name or any(c.isdigit() and "x" in path.name for c in path.name):
        pass
    out.extend(notes)
    out.append(
        "The references check geoapp's computation on the data, not the data: a facility or "
        "street missing from OpenStreetMap is missing from both."
    )
    return out


def main(argv=None) -> int:
    """Run the checks on the extract named in ``argv``; return 1 when one fails."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("extract", help=".osm.pbf / .osm / .osm.bz2 extract")
    p.add_argument("--layer", action="append", help="layer id (repeatable; default: all)")
    p.add_argument("--sample", type=int, default=300, help="demand points compared (default 300)")
    p.add_argument("--windows", type=int, default=3, help="random reference windows (default 3)")
    p.add_argument("--window-m", type=float, default=800.0, help="window radius, m (default 800)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--districts", type=int, default=2, metavar="N",
        help="without admin districts, check on an N x N grid of made-up ones (1: off)",
    )  # fmt: skip
    p.add_argument("--out", default="out/check_extract", metavar="DIR")
    args = p.parse_args(argv)
    if args.sample < 1 or args.windows < 1:
        raise InputError("--sample and --windows must be at least 1")
    table, notes, details = check_extract(
        args.extract, args.layer, sample=args.sample, windows=args.windows,
        window_m=args.window_m, seed=args.seed, districts=args.districts,
    )  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "checks.csv", index=False)
    details["distances"].to_csv(out / "distances.csv", index=False)
    details["facilities"].to_csv(out / "facilities.csv", index=False)
    if "fragments" in details:
        details["fragments"].to_csv(out / "fragments.csv", index=False)
    sizes = ", ".join(
        f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in details["sizes"].items()
    )
    md = [f"# Checks on {Path(args.extract).name}", "", sizes, "", to_markdown(table), "",
          "## What the data cannot tell", "", *[f"- {n}" for n in notes], ""]  # fmt: skip
    (out / "checks.md").write_text("\n".join(md), encoding="utf-8")
    with pd.option_context("display.width", 200, "display.max_colwidth", 70,
                           "display.max_rows", 500):  # fmt: skip
        show = table.copy()
        for c in ("value", "reference", "difference"):
            show[c] = show[c].map(_fmt)
        show["pass"] = show["pass"].map(_fmt)
        print(show.drop(columns=["note"]).to_string(index=False))
    print(sizes)
    print("What the data cannot tell:")
    for n in notes:
        print(f"  - {n}")
    n_fail = int((~table["pass"]).sum())
    print(f"{len(table) - n_fail} of {len(table)} checks pass; wrote {out}/checks.csv, checks.md")
    return 1 if n_fail else 0


def run(
    main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None
) -> int:
    """Run ``main``; a user error prints one line and returns exit code 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return main(argv) or 0
    except (GeoappError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(run(main))
