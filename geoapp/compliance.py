"""The compliance table: each rule of a standards profile judged per district and zone.

One row per rule and group (the region, every district, every zone type), with the
figure against the threshold that applies there and a status
(:func:`geoapp.coverage.judge`, the one rule of every table):

- ``met`` / ``not_met``: the figure is at / below the threshold;
- ``no_data``: the data cannot tell: the layer has no facility in the data, the group
  has none of the rule's residents, no facility has a capacity (bed rules), or the
  figure is only a lower bound below the threshold (the reach is beyond the search
  limit, or some facilities have no capacity). ``status_reason`` says why.

Columns: ``rule``, ``layer``, ``indicator``, ``level`` (``region`` | ``district`` |
``zone_type``), ``group``, ``zone_type`` (the zone whose threshold applies; a district's
own zone type, "" for the region), ``demand`` (``pop`` / ``pop_60plus``), ``residents``
(the rule's residents in the group), ``reach_m`` (share rules: the reach the share is
judged at, :meth:`geoapp.standards.Profile.reach`; NaN for bed rules and for a
metre-based layer whose group mixes zone types of different reaches),
``standard_reach_m`` (the standard's own metre figure for the group's zone type: a
reference beside the verdict, never a second one), ``value`` (share 0..1, empty when
``no_data``; or beds per 1,000), ``threshold``, ``status``, ``status_reason``,
``lower_bound`` (bool: ``value`` is a lower bound), ``n_facilities``, ``capacity``
(beds in the group; NaN for share rules), ``source``, ``clause``, ``verified``.

**One reach.** A layer written in walking minutes is judged at its life circle's
minutes x its walking speed in every zone type (15 minutes at 3.6 km/h: 900 m, the
reach of the layer's summary, gaps, app and charts); a metre-based layer at the
standard's metres for each resident's own zone type.

**Counts.** Groups are those of ``summary.csv`` (:func:`geoapp.coverage.group_labels`),
and facilities are placed by :func:`geoapp.coverage.facility_places` (district by
boundary, zone type by the nearest demand point; facilities inside no district form
the ``(outside districts)`` row), so residents and facilities of the districts, and of
the zone types, add up to the region row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp import coverage
from geoapp.catalog import Layer
from geoapp.region import OUTSIDE_DISTRICTS
from geoapp.standards import Profile, Rule
from geoapp.styles import BROAD_ZONE_TYPES, zone_sort_key

COLUMNS = [
    "rule", "layer", "indicator", "level", "group", "zone_type", "demand", "residents",
    "reach_m", "standard_reach_m", "value", "threshold", "status", "status_reason",
    "lower_bound", "n_facilities", "capacity", "source", "clause", "verified",
]  # fmt: skip
STATUSES = coverage.STATUSES


def _district_zones(access: pd.DataFrame, boundaries: gpd.GeoDataFrame | None) -> dict[str, str]:
    """Zone type of each district: its residents' (majority) or the boundaries' column.

    Under district zoning both agree; under density zoning (a class of each point) the
    district's zone is that of most of its residents.
    """
    out: dict[str, str] = {}
    majority: dict[str, str] = {}
    if len(access) and "zone_type" in access.columns:
        w = pd.DataFrame(
            {
                "district": coverage.group_labels(access, "district"),
                "zone_type": coverage.group_labels(access, "zone_type"),
                "pop": pd.to_numeric(access["pop"], errors="coerce").fillna(0.0).to_numpy(),
            }
        )
        g = w.groupby(["district", "zone_type"])["pop"].sum().reset_index()
        g = g.sort_values(["pop", "zone_type"], ascending=[False, True], kind="stable")
        g = g.drop_duplicates("district")
        majority = dict(zip(g["district"], g["zone_type"], strict=True))
    if coverage.zones_by_point(access):
        out.update(majority)
    if boundaries is not None and {"district", "zone_type"} <= set(boundaries.columns):
        bz = zip(
            coverage.group_labels(boundaries, "district"),
            coverage.group_labels(boundaries, "zone_type"),
            strict=True,
        )
        for d, z in bz:
            out.setdefault(d, z)
    for d, z in majority.items():
        out.setdefault(d, z)
    return out


def _row(rule: Rule, layer: Layer, level: str, group: str, zone: str, **kw: Any) -> dict:
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
        "standard_reach_m": np.nan,
        "status_reason": "",
    }
    base.update(kw)
    return base


def _judge(value: float, threshold: float, lower_bound: bool) -> str:
    if not np.isfinite(value):
        return "no_data"
    if value >= threshold - 1e-12:
        return "met"
    return "no_data" if lower_bound else "not_met"


def _ordered_zones(*labels: np.ndarray | pd.Series) -> list[str]:
    """Return the zone types in ``labels`` (non-empty): core, new towns, rural, others."""
    present = {str(z) for group in labels for z in group if str(z)}
    broad = [z for z in BROAD_ZONE_TYPES if z in present]
    rest = sorted(present - set(BROAD_ZONE_TYPES), key=lambda z: (zone_sort_key(z), z))
    return broad + rest


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
        ``pop``, ``pop_60plus``, ``district``, ``zone_type``, point geometry).
    facilities_by_layer
        Layer id -> facilities (a ``capacity`` column, beds, NaN = unknown, feeds the
        bed rules; without it they are ``no_data``). An empty frame: the layer has no
        facility in the data, every row of its rules is ``no_data``.
    layers
        Layer id -> :class:`~geoapp.catalog.Layer` as run (``layer.at_speed(speed)``:
        a minute-based layer's reach is minutes x this speed).
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
        d_acc = coverage.group_labels(acc, "district")
        z_acc = coverage.group_labels(acc, "zone_type")
        places = coverage.facility_places(fac, acc, boundaries)
        districts = list(dict.fromkeys(d_acc))
        if boundaries is not None and "district" in boundaries.columns:
            order = list(dict.fromkeys(coverage.group_labels(boundaries, "district")))
            districts = [*order, *[d for d in districts if d not in order]]
        if (places["district"] == OUTSIDE_DISTRICTS).any() and OUTSIDE_DISTRICTS not in districts:
            districts.append(OUTSIDE_DISTRICTS)  # facilities inside no district: counted there
        groups = [("region", region_name, "", np.ones(len(acc), bool))]
        groups += [("district", d, zones.get(d, "unknown"), d_acc == d) for d in districts]
        groups += [
            ("zone_type", z, z, z_acc == z) for z in _ordered_zones(z_acc, places["zone_type"])
        ]
        limit = (search_limit_m or {}).get(rule.layer, np.inf)
        judged = _Judged(profile, rule, layer, acc, len(fac), float(limit))
        for level, group, zone, mask in groups:
            if level == "region":
                f_in = np.ones(len(places), bool)
            else:
                f_in = (places[level] == group).to_numpy()
            if rule.indicator == "share_within_reach":
                rows.append(_share_row(judged, level, group, zone, mask, int(f_in.sum())))
            else:
                cap = (
                    pd.to_numeric(fac["capacity"], errors="coerce").to_numpy(float)
                    if "capacity" in fac.columns
                    else np.full(len(fac), np.nan)
                )
                rows.append(_beds_row(rule, layer, level, group, zone, acc, mask, cap[f_in],
                                      len(fac)))  # fmt: skip
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["lower_bound"] = out["lower_bound"].astype(bool)
    return out


class _Judged(NamedTuple):
    """What every row of one rule shares."""

    profile: Profile
    rule: Rule
    layer: Layer
    access: pd.DataFrame
    n_fac_all: int
    limit: float


def _share_row(j: _Judged, level: str, group: str, zone: str, mask: np.ndarray, n_fac: int) -> dict:
    profile, rule, layer, acc, n_fac_all, limit = j
    col = layer.demand_column
    w = pd.to_numeric(acc[col], errors="coerce").fillna(0.0).to_numpy(float)[mask]
    dist = pd.to_numeric(acc["dist_m"], errors="coerce").to_numpy(float)[mask]
    zone_of = coverage.group_labels(acc, "zone_type")[mask]
    by_zone = {z: profile.reach(rule, layer, z).judged_m for z in dict.fromkeys(zone_of)}
    reach = np.array([by_zone[z] for z in zone_of], dtype=float)
    own = profile.reach(rule, layer, zone if level != "region" else None)
    total = float(w.sum())
    uniq = np.unique(reach)
    reach_m = float(uniq[0]) if len(uniq) == 1 else own.judged_m if not len(uniq) else np.nan
    lower = bool((reach > limit).any()) or (not len(uniq) and own.judged_m > limit)
    kw = {
        "residents": total,
        "reach_m": reach_m,
        "standard_reach_m": own.standard_m if own.standard_m is not None else np.nan,
        "n_facilities": n_fac,
        "lower_bound": lower,
    }
    value = float((w * (dist <= reach)).sum() / total) if total > 0 else np.nan
    t = rule.for_zone(zone if level != "region" else None).threshold
    status, reason = coverage.judge(
        value,
        t,
        residents=total,
        layer_has_facilities=n_fac_all > 0,
        lower_bound=lower,
        reach_m=reach_m,
    )
    notes = [reason]
    if status == "met" and lower:
        notes.append(f"a lower bound: the reach exceeds the distance searched ({limit:,.0f} m)")
    if status != "no_data" and len(uniq) > 1:
        each = ", ".join(f"{z} {r:,.0f} m" for z, r in by_zone.items())
        notes.append(f"each resident judged at the reach of their own zone type ({each})")
    if level == "district" and n_fac == 0 and n_fac_all > 0:
        notes.append(coverage.NO_FACILITY_INSIDE)
    return _row(
        rule,
        layer,
        level,
        group,
        zone,
        value=value if status != "no_data" else np.nan,  # no data is empty, never 0%
        status=status,
        status_reason="; ".join(notes),
        **kw,
    )


def _beds_row(
    rule: Rule,
    layer: Layer,
    level: str,
    group: str,
    zone: str,
    acc: pd.DataFrame,
    mask: np.ndarray,
    cap: np.ndarray,
    n_fac_all: int,
) -> dict:
    pop60 = float(
        pd.to_numeric(acc["pop_60plus"], errors="coerce").fillna(0.0).to_numpy(float)[mask].sum()
    )
    known = np.isfinite(cap)
    beds = float(cap[known].sum())
    kw = {"residents": pop60, "n_facilities": len(cap), "capacity": beds if known.any() else np.nan}
    if n_fac_all == 0:
        return _row(rule, layer, level, group, zone, value=np.nan, status="no_data",
                    status_reason=coverage.NO_FACILITY_REASON, **kw)  # fmt: skip
    if pop60 <= 0:
        return _row(rule, layer, level, group, zone, value=np.nan, status="no_data",
                    status_reason="no residents aged 60+ here", **kw)  # fmt: skip
    if len(cap) and not known.any():
        return _row(
            rule,
            layer,
            level,
            group,
            zone,
            value=np.nan,
            status="no_data",
            status_reason=f"none of the {len(cap)} facilities has a capacity (beds) in the data",
            **kw,
        )
    value = beds / pop60 * 1000.0
    lower = bool((~known).any())
    t = rule.for_zone(zone if level != "region" else None).threshold
    status = _judge(value, t, lower)
    figure = f"{'at least ' if lower else ''}{value:,.1f} beds per 1,000 aged 60+"
    notes = [
        f"{figure} {'meets' if status == 'met' else 'is below'} the threshold {t:g}"
        + (": a lower bound, so it cannot say 'not met'" if status == "no_data" else "")
    ]
    if lower:
        notes.append(
            f"{int((~known).sum())} of {len(cap)} facilities have no capacity: a lower bound"
        )
    if len(cap) == 0:
        notes.append("no facility of the layer inside this group in the data")
    return _row(rule, layer, level, group, zone, value=value, status=status,
                lower_bound=lower, status_reason="; ".join(notes), **kw)  # fmt: skip
