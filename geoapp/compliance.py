"""The compliance table: each rule of a standards profile judged per district and zone.

One row per rule and group (the region, every district, every zone type), with the
figure against the threshold that applies there and a status:

- ``met`` / ``not_met``: the figure is at / below the threshold;
- ``no_data``: the data cannot tell: the layer has no facility in the data, the group
  has none of the rule's residents, no facility has a capacity (bed rules), or the
  figure is only a lower bound below the threshold (the reach is beyond the search
  limit, or some facilities have no capacity). ``note`` says which.

Columns: ``rule``, ``layer``, ``indicator``, ``level`` (``region`` | ``district`` |
``zone_type``), ``group``, ``zone_type`` (the zone whose threshold applies; a district's
own zone type, "" for the region), ``demand`` (``pop`` / ``pop_60plus``), ``residents``
(the rule's residents in the group), ``reach_m`` (share rules: the reach at the group's
zone; NaN for bed rules and mixed reaches), ``value`` (share 0..1 or beds per 1,000),
``threshold``, ``status``, ``lower_bound`` (bool: ``value`` is a lower bound),
``n_facilities``, ``capacity`` (beds in the group; NaN for share rules), ``note``,
``source``, ``clause``, ``verified``.

A share rule counts a resident as reached when ``dist_m`` is at most the reach of the
resident's OWN zone type (so a district's share mixes reaches only when its residents
lie in several zones under density zoning).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp.catalog import Layer
from geoapp.standards import Profile, Rule

COLUMNS = [
    "rule", "layer", "indicator", "level", "group", "zone_type", "demand", "residents",
    "reach_m", "value", "threshold", "status", "lower_bound", "n_facilities", "capacity",
    "note", "source", "clause", "verified",
]  # fmt: skip
STATUSES = ("met", "not_met", "no_data")


def _district_zones(access: pd.DataFrame, boundaries: gpd.GeoDataFrame | None) -> dict[str, str]:
    """Zone type of each district: the boundaries' column, else the demand's majority."""
    out: dict[str, str] = {}
    if boundaries is not None and {"district", "zone_type"} <= set(boundaries.columns):
        out.update(
            zip(
                boundaries["district"].astype(str),
                boundaries["zone_type"].astype(str),
                strict=False,
            )
        )
    if len(access) and {"district", "zone_type"} <= set(access.columns):
        w = access.groupby(["district", "zone_type"], observed=True)["pop"].sum().reset_index()
        w = w.sort_values("pop", ascending=False).drop_duplicates("district")
        for d, z in zip(w["district"].astype(str), w["zone_type"].astype(str), strict=True):
            out.setdefault(d, z)
    return out


def _facility_groups(
    facilities: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None, zones: Mapping[str, str]
) -> pd.DataFrame:
    """District and zone type of each facility (point in polygon)."""
    n = len(facilities)
    district = np.array([""] * n, dtype=object)
    if n and boundaries is not None and len(boundaries):
        pts = gpd.GeoDataFrame(
            geometry=facilities.geometry.representative_point().to_crs(boundaries.crs).values,
            crs=boundaries.crs,
        )
        hit = gpd.sjoin(pts, boundaries[["district", "geometry"]], predicate="within", how="left")
        hit = hit[~hit.index.duplicated()]
        district = hit["district"].fillna("").astype(str).to_numpy()
    if "zone_type" in facilities.columns:
        zone = facilities["zone_type"].fillna("unknown").astype(str).to_numpy()
    else:
        zone = np.array([zones.get(d, "unknown") for d in district], dtype=object)
    cap = (
        pd.to_numeric(facilities["capacity"], errors="coerce").to_numpy(float)
        if "capacity" in facilities.columns
        else np.full(n, np.nan)
    )
    return pd.DataFrame({"district": district, "zone_type": zone, "capacity": cap})


def _row(rule: Rule, layer: Layer, level: str, group: str, zone: str, **kw) -> dict:
    t = rule.for_zone(zone if level != "region" else None)
    base = {
        "rule": rule.id,
        "layer": rule.layer,
        "indicator": rule.indicator,
        "level": level,
        "group": group,
        "zone_type": zone,
        "demand": layer.demand_column if rule.indicator == "share_within_reach" else "pop_60plus",
        "threshold": t.threshold,
        "source": t.source,
        "clause": t.clause,
        "verified": t.verified,
        "lower_bound": False,
        "n_facilities": 0,
        "capacity": np.nan,
        "reach_m": np.nan,
        "note": "",
    }
    base.update(kw)
    return base


def _judge(value: float, threshold: float, lower_bound: bool) -> str:
    if not np.isfinite(value):
        return "no_data"
    if value >= threshold - 1e-12:
        return "met"
    return "no_data" if lower_bound else "not_met"


def compliance_table(
    access_by_layer: Mapping[str, pd.DataFrame],
    facilities_by_layer: Mapping[str, gpd.GeoDataFrame],
    layers: Mapping[str, Layer],
    profile: Profile,
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    search_limit_m: Mapping[str, float] | None = None,
    region_name: str = "region",
) -> pd.DataFrame:
    """Judge every rule of ``profile`` whose layer was analysed.

    Parameters
    ----------
    access_by_layer
        Layer id -> access table (:func:`geoapp.coverage.compute_access`: ``dist_m``,
        ``pop``, ``pop_60plus``, ``district``, ``zone_type``).
    facilities_by_layer
        Layer id -> facilities (a ``capacity`` column, beds, NaN = unknown, feeds the
        bed rules; without it they are ``no_data``). An empty frame: the layer has no
        facility in the data, every row of its rules is ``no_data``.
    layers
        Layer id -> :class:`~geoapp.catalog.Layer` (which residents a share counts).
    profile
        The standards profile (:func:`geoapp.standards.load_profile`).
    boundaries
        Districts (``district``, ``zone_type``): the district rows and their zone types.
    search_limit_m
        Layer id -> the distance searched (``LayerAnalysis.meta["search_limit_m"]``): a
        reach beyond it makes the share a lower bound.
    region_name
        The ``group`` of the region row.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`, rules in profile order, then region, districts, zone types.
    """
    rows: list[dict] = []
    for rule in profile.rules:
        if rule.layer not in access_by_layer or rule.layer not in layers:
            continue
        layer = layers[rule.layer]
        acc = access_by_layer[rule.layer]
        fac = facilities_by_layer.get(rule.layer)
        fac = fac if fac is not None else gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
        zones = _district_zones(acc, boundaries)
        districts = list(
            dict.fromkeys([*zones, *acc.get("district", pd.Series([], dtype=str)).astype(str)])
        )
        if boundaries is not None and "district" in boundaries.columns:
            order = list(boundaries["district"].astype(str))
            districts = [*order, *[d for d in districts if d not in order]]
        present_zones = [z for z in ("core", "new_town", "rural", "unknown")
                         if (acc.get("zone_type", pd.Series([], dtype=str)) == z).any()]  # fmt: skip
        groups = [("region", region_name, "", np.ones(len(acc), bool))]
        groups += [("district", d, zones.get(d, "unknown"), (acc["district"].astype(str) == d).to_numpy())
                   for d in districts]  # fmt: skip
        groups += [
            ("zone_type", z, z, (acc["zone_type"].astype(str) == z).to_numpy())
            for z in present_zones
        ]
        fg = _facility_groups(fac, boundaries, zones)
        limit = (search_limit_m or {}).get(rule.layer, np.inf)
        for level, group, zone, mask in groups:
            if level == "region":
                f_in = np.ones(len(fg), bool)
            elif level == "district":
                f_in = (fg["district"] == group).to_numpy()
            else:
                f_in = (fg["zone_type"] == group).to_numpy()
            n_fac = int(f_in.sum())
            if rule.indicator == "share_within_reach":
                rows.append(
                    _share_row(rule, layer, level, group, zone, acc, mask, n_fac, len(fac), limit)
                )
            else:
                rows.append(
                    _beds_row(rule, layer, level, group, zone, acc, mask, fg[f_in], len(fac))
                )
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["lower_bound"] = out["lower_bound"].astype(bool)
    return out


def _share_row(rule, layer, level, group, zone, acc, mask, n_fac, n_fac_all, limit) -> dict:
    col = layer.demand_column
    w = pd.to_numeric(acc[col], errors="coerce").fillna(0.0).to_numpy(float)[mask]
    dist = pd.to_numeric(acc["dist_m"], errors="coerce").to_numpy(float)[mask]
    zone_of = (
        acc["zone_type"].astype(str).to_numpy()[mask]
        if "zone_type" in acc
        else np.array(["unknown"] * int(mask.sum()))
    )
    reach = np.array([rule.for_zone(z).reach_m for z in zone_of], dtype=float)
    total = float(w.sum())
    uniq = np.unique(reach)
    if len(uniq) == 1:
        reach_m = float(uniq[0])
    elif len(uniq) == 0:
        reach_m = rule.for_zone(zone if level != "region" else None).reach_m
    else:
        reach_m = np.nan  # residents of several zones, each at its own reach
    lower = bool((reach > limit).any())
    kw = {"residents": total, "reach_m": reach_m, "n_facilities": n_fac, "lower_bound": lower}
    if n_fac_all == 0:
        return _row(rule, layer, level, group, zone, value=np.nan, status="no_data",
                    note="no facility of the layer in the data: coverage cannot be assessed",
                    **kw)  # fmt: skip
    if total <= 0:
        return _row(rule, layer, level, group, zone, value=np.nan, status="no_data",
                    note="none of the rule's residents live here", **kw)  # fmt: skip
    value = float((w * (dist <= reach)).sum() / total)
    t = rule.for_zone(zone if level != "region" else None).threshold
    status = _judge(value, t, lower)
    notes = []
    if lower:
        notes.append(f"the reach exceeds the distance searched ({limit:,.0f} m): a lower bound")
    if level == "district" and n_fac == 0:
        notes.append("no facility of the layer inside this district in the data")
    return _row(
        rule, layer, level, group, zone, value=value, status=status, note="; ".join(notes), **kw
    )


def _beds_row(rule, layer, level, group, zone, acc, mask, fg, n_fac_all) -> dict:
    pop60 = float(
        pd.to_numeric(acc["pop_60plus"], errors="coerce").fillna(0.0).to_numpy(float)[mask].sum()
    )
    cap = fg["capacity"].to_numpy(float)
    known = np.isfinite(cap)
    beds = float(cap[known].sum())
    kw = {"residents": pop60, "n_facilities": len(fg), "capacity": beds if known.any() else np.nan}
    if n_fac_all == 0:
        return _row(rule, layer, level, group, zone, value=np.nan, status="no_data",
                    note="no facility of the layer in the data", **kw)  # fmt: skip
    if pop60 <= 0:
        return _row(rule, layer, level, group, zone, value=np.nan, status="no_data",
                    note="no residents aged 60+ here", **kw)  # fmt: skip
    if len(fg) and not known.any():
        return _row(
            rule,
            layer,
            level,
            group,
            zone,
            value=np.nan,
            status="no_data",
            note=f"none of the {len(fg)} facilities has a capacity (beds) in the data",
            **kw,
        )
    value = beds / pop60 * 1000.0
    lower = bool((~known).any())
    t = rule.for_zone(zone if level != "region" else None).threshold
    notes = []
    if lower:
        notes.append(
            f"{int((~known).sum())} of {len(fg)} facilities have no capacity: a lower bound"
        )
    if len(fg) == 0:
        notes.append("no facility of the layer inside this group in the data")
    return _row(rule, layer, level, group, zone, value=value, status=_judge(value, t, lower),
                lower_bound=lower, note="; ".join(notes), **kw)  # fmt: skip
