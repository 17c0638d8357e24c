"""Zone typing: which districts are urban core, new town or rural.

Three ways (the caller records which, e.g. ``Region.zone_method``):

* a **preset** TOML mapping districts to zone types (:func:`load_zone_mapping`; the
  Beijing Master Plan 2016–2035 preset ships as ``"beijing"``), applied with
  :func:`apply_zone_mapping`;
* a **user mapping file** of the same form, for any other city;
* **data-driven, per settlement**: every demand point takes the class of the
  settlement it lies in, found on a 1 km population grid in the manner of the Degree
  of Urbanisation (DEGURBA / GHSL) method (:func:`classify_settlements`).

The broad zone types the tool compares are ``core``, ``new_town`` and ``rural``
(``unknown`` when nothing is known); the fine type (``capital_core``, ``central`` ...)
is kept in ``zone_fine``.

District census tables (the shipped Beijing 2020 census, a user's CSV) are read by
:mod:`geoapp.sources.census`.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import box

from geoapp._presets import preset_path
from geoapp._validate import Problems, Table, did_you_mean, read_toml
from geoapp.crs import local_crs
from geoapp.errors import InputError
from geoapp.sources.census import normalize_code, normalize_district_name
from geoapp.styles import BROAD_ZONE_TYPES

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
DATA_DIR = Path(str(importlib.resources.files("geoapp").joinpath("data")))  # package data
ZONE_DIR = DATA_DIR / "zones"

#: Broad zone types compared by the tool, in display order.
BROAD_TYPES = BROAD_ZONE_TYPES  # one source: geoapp.styles
_ALL_TYPES = (*BROAD_TYPES, "unknown")

#: Degree-of-Urbanisation class -> broad zone type.
DOU_TO_ZONE = {"urban_centre": "core", "urban_cluster": "new_town", "rural": "rural"}


# ---------------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class FineType:
    """A fine zone type of a mapping (e.g. ``capital_core``)."""

    id: str
    zone_type: str
    label: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DistrictZone:
    """One district entry of a zone mapping."""

    name: str
    code: str
    zone_type: str
    zone_fine: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ZoneMapping:
    """Districts mapped to zone types, read from a TOML file.

    Attributes
    ----------
    name
        Short name (``"beijing"``).
    source
        Where the mapping comes from (a plan, a file).
    districts
        One entry per district.
    fine_types
        Fine zone types by id.
    path
        File the mapping was read from.
    """

    name: str
    source: str
    districts: tuple[DistrictZone, ...]
    fine_types: Mapping[str, FineType] = field(default_factory=dict)
    label: Mapping[str, str] = field(default_factory=dict)
    path: str = ""

    def by_code(self) -> dict[str, DistrictZone]:
        """Return the districts keyed by code (those that have one)."""
        return {d.code: d for d in self.districts if d.code}

    def by_name(self) -> dict[str, DistrictZone]:
        """Return the districts keyed by normalised name and aliases."""
        out: dict[str, DistrictZone] = {}
        for d in self.districts:
            for n in (d.name, *d.aliases):
                key = normalize_district_name(n)
                if key:
                    out[key] = d
        return out

    def lookup(self, name: object = None, code: object = None) -> DistrictZone | None:
        """Return the entry matching ``code`` first, else ``name``; None when neither."""
        c = normalize_code(code)
        if c and c in self.by_code():
            return self.by_code()[c]
        return self.by_name().get(normalize_district_name(name))

    def fine_label(self, zone_fine: str, lang: str = "en") -> str:
        """Return the display label of a fine zone type."""
        ft = self.fine_types.get(zone_fine)
        if ft is None:
            return zone_fine
        return ft.label.get(lang) or ft.label.get("en") or zone_fine


_DISTRICT_KEYS = ("name", "code", "aliases", "zone_fine", "zone_type")
_LABELS = "must be { en = '...', zh = '...' }"


def _fine_types(t: Table) -> dict[str, FineType]:
    """Check ``[fine_types.<id>]`` and return the sound ones by id."""
    ft = t.table("fine_types", what="must be a table of [fine_types.<id>] tables")
    fine: dict[str, FineType] = {}
    for fid in ft.data if ft is not None else ():
        spec = ft.table(fid)  # type: ignore[union-attr]
        if spec is None:
            continue
        zt = spec.choice(
            "zone_type", _ALL_TYPES, required=f"missing; set one of {', '.join(_ALL_TYPES)}"
        )
        if zt is None:
            continue
        label = spec.labels("label", text_ok=True, default={"en": fid}, what=_LABELS)
        fine[fid] = FineType(id=fid, zone_type=zt, label=label or {})
    return fine


def _zone_of(d: Table, fine: Mapping[str, FineType]) -> str | None:
    """Return a district entry's broad zone type (from zone_fine or zone_type), or None."""
    zf, zt = d.get("zone_fine", ""), d.get("zone_type")
    if zf and (not isinstance(zf, str) or zf not in fine):
        d.bad("zone_fine", f"{zf!r} is not defined under [fine_types]{did_you_mean(zf, fine)}")
        return None
    if zf and zt is not None and zt != fine[zf].zone_type:
        d.bad("zone_type", f"{zt!r} contradicts fine type {zf!r} ({fine[zf].zone_type!r})")
        return None
    if zf:
        return fine[zf].zone_type
    if zt not in _ALL_TYPES:
        d.bad(
            "zone_type",
            ("missing; set" if zt is None else f"{zt!r} must be")
            + f" one of {', '.join(_ALL_TYPES)}"
            + (did_you_mean(zt, _ALL_TYPES) if isinstance(zt, str) else "")
            + " (or set zone_fine)",
        )
        return None
    return zt


def _districts(t: Table, fine: Mapping[str, FineType]) -> list[DistrictZone]:
    """Check the ``[[district]]`` tables and return the sound entries."""
    t.require(("district",), "needs at least one [[district]] table")
    districts: list[DistrictZone] = []
    seen: dict[str, int] = {}
    for i, d in enumerate(t.tables("district")):
        d.unknown(_DISTRICT_KEYS)
        name, code = d.get("name", ""), normalize_code(d.get("code", ""))
        if not isinstance(name, str) or (not name and not code):
            d.bad("name", "give a name (string) or a code")
            continue
        aliases = d.texts("aliases", default=[]) or []
        zt = _zone_of(d, fine)
        if zt is None:
            continue
        for key in (normalize_district_name(name), code):
            if key and key in seen:
                d.problems.add(d.prefix, f"district {name or code!r} repeats district[{seen[key]}]")
            if key:
                seen[key] = i
        districts.append(
            DistrictZone(
                name=name or code,
                code=code,
                zone_type=zt,
                zone_fine=d.get("zone_fine", "") or "",
                aliases=tuple(aliases),
            )
        )
    return districts


def load_zone_mapping(name_or_path: str | os.PathLike[str]) -> ZoneMapping:
    """Read a zone mapping: a preset name (``"beijing"``) or a TOML file path.

    Parameters
    ----------
    name_or_path
        ``"beijing"`` (any preset in ``geoapp/data/zones/``) or the path of a TOML file
        of the same form (see ``geoapp/data/zones/beijing.toml``).

    Returns
    -------
    ZoneMapping

    Raises
    ------
    InputError
        When the file is missing or malformed, listing every problem with the file and
        the key at fault.
    """
    path = preset_path(ZONE_DIR, name_or_path, "zone mapping", "the path of a TOML mapping file")
    data = read_toml(path, what="zone mapping")
    problems = Problems(path)
    t = Table(data, problems)
    t.unknown(("name", "label", "source", "fine_types", "district"))
    fine = _fine_types(t)
    districts = _districts(t, fine)
    label = t.labels("label", text_ok=True, default={}, what=_LABELS)
    problems.raise_if_any(f"Zone mapping {path} is malformed:")
    return ZoneMapping(
        name=str(data.get("name", path.stem)),
        source=str(data.get("source", str(path))),
        districts=tuple(districts),
        fine_types=fine,
        label=label,
        path=str(path),
    )


#: The ``--boundaries`` preset whose districts a shipped zone mapping names.
PRESET_BOUNDARIES = {"beijing": "beijing"}


def _unknown_districts_message(mapping: ZoneMapping, unknown: list[str], matched: int) -> str:
    """Return what to do when districts are not in the mapping (no install path in it)."""
    shipped = bool(mapping.path) and Path(mapping.path).resolve().parent == ZONE_DIR.resolve()
    preset = PRESET_BOUNDARIES.get(Path(mapping.path).stem.lower()) if shipped else None
    names = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else "")
    if preset and not matched:
        return (
            f"Zone mapping {mapping.name!r} assigns zones to the districts of the "
            f"--boundaries {preset} preset, but this region's districts are not among them "
            f"({names}; without --boundaries the whole extract is one district named after "
            f"the file). Add --boundaries {preset} so the data is split into those districts "
            "(the census then applies to them too), or use --zones density."
        )
    where = f"the preset {mapping.name!r}" if shipped else f"the mapping file {mapping.path}"
    return f"Zone mapping {mapping.name!r} does not know these districts: {names}. " + (
        f"Check that the district boundaries are those of --boundaries {preset}, fix the "
        "district names or codes, or use --zones density."
        if preset
        else f"Add them to {where}, fix the district names or codes, or use --zones density."
    )


def apply_zone_mapping(
    boundaries: gpd.GeoDataFrame,
    mapping: ZoneMapping | str | os.PathLike[str],
    strict: bool = True,
) -> gpd.GeoDataFrame:
    """Set ``zone_type`` and ``zone_fine`` of every district from a mapping.

    A district matches by ``district_code`` first, else by ``district`` name (with or
    without the suffix 区/县, ignoring case, or one of the mapping's aliases). A matched
    district with an empty code gets the mapping's code.

    Parameters
    ----------
    boundaries
        Districts (see docs/architecture.md).
    mapping
        A :class:`ZoneMapping`, a preset name or a TOML path.
    strict
        When True (default) any district the mapping does not know raises; when False
        it is kept with ``zone_type = "unknown"`` and a warning naming it.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``zone_type``, ``zone_fine`` and ``district_code`` set (the zone
        method to record is ``f"mapping:{mapping.name}"``).

    Raises
    ------
    InputError
        Naming every district the mapping does not know (when ``strict``).
    """
    if not isinstance(mapping, ZoneMapping):
        mapping = load_zone_mapping(mapping)
    out = boundaries.copy()
    names = out["district"] if "district" in out.columns else pd.Series("", index=out.index)
    codes = (
        out["district_code"] if "district_code" in out.columns else pd.Series("", index=out.index)
    )
    entries = [mapping.lookup(n, c) for n, c in zip(names, codes, strict=True)]
    unknown = [
        str(n) if normalize_district_name(n) else f"code {normalize_code(c)!r}"
        for n, c, e in zip(names, codes, entries, strict=True)
        if e is None
    ]
    if unknown:
        msg = _unknown_districts_message(mapping, unknown, matched=len(entries) - len(unknown))
        if strict:
            raise InputError(msg)
        log.warning(msg)
    out["zone_type"] = [e.zone_type if e else "unknown" for e in entries]
    out["zone_fine"] = [e.zone_fine if e else "" for e in entries]
    out["district_code"] = [
        normalize_code(c) or (e.code if e else "") for c, e in zip(codes, entries, strict=True)
    ]
    if "district" not in out.columns:
        out["district"] = [e.name if e else "" for e in entries]
    return out


# ------------------------------------------------------------------ degree of urbanisation

#: Default thresholds of :func:`classify_settlements` (Dijkstra et al. 2021, GHSL).
SETTLEMENT_DEFAULTS: dict[str, float | int | bool] = {
    "cell_m": 1000.0,
    "centre_density": 1500.0,
    "centre_min_pop": 50_000.0,
    "cluster_density": 300.0,
    "cluster_min_pop": 5_000.0,
    "centre_connectivity": 4,
    "cluster_connectivity": 8,
    "fill_gaps": True,
    "fallback_share": 0.1,
}


@dataclass(frozen=True)
class Settlements:
    """Per-point settlement classes (the result of :func:`classify_settlements`).

    Attributes
    ----------
    settlement
        Per input point: ``"core"``, ``"new_town"`` or ``"rural"``.
    dou_class
        Per input point: ``"urban_centre"``, ``"urban_cluster"`` or ``"rural"`` (the
        Degree-of-Urbanisation grid class of its cell; in the relative fallback, the
        groups promoted to core / new town are ``"urban_cluster"``).
    settlement_id
        Per input point: id of its settlement (group of cells, ``-1`` for rural).
    grid
        EPSG:4326, one row per populated cell: ``row``, ``col``, ``pop``,
        ``density_per_km2``, ``dou_class``, ``settlement_id``, ``settlement``, geometry.
    params
        Thresholds used and how the core was chosen (``core_rule``: ``"urban_centre"``,
        ``"urban_cluster"``, ``"relative_fallback"`` or ``"none"``), ``core_pop``,
        ``n_new_towns``, ``local_crs``.
    warnings
        Plain sentences about fallbacks (the extract too small for the thresholds).
    """

    settlement: np.ndarray
    dou_class: np.ndarray
    settlement_id: np.ndarray
    grid: gpd.GeoDataFrame
    params: dict
    warnings: tuple[str, ...] = ()


def _structure(connectivity: int) -> np.ndarray:
    from scipy import ndimage  # here, not at import: the app's first page never labels a grid

    if connectivity == 4:
        return ndimage.generate_binary_structure(2, 1)
    if connectivity == 8:
        return ndimage.generate_binary_structure(2, 2)
    raise InputError(f"connectivity must be 4 or 8, not {connectivity}")


def _components(mask: np.ndarray, pop: np.ndarray, conn: int) -> tuple[np.ndarray, np.ndarray]:
    """Label connected cells; return (labels, population per label 1..n)."""
    from scipy import ndimage

    labels, n = ndimage.label(mask, structure=_structure(conn))
    sums = (
        np.asarray(ndimage.sum_labels(pop, labels, index=np.arange(1, n + 1)), dtype=float)
        if n
        else np.zeros(0)
    )
    return labels, sums


def _groups(n: int, share: float) -> str:
    if n == 0:
        return f"no other group holds {share:.0%} of its residents, so there is no new town"
    return (
        f"{n} other group{'s' if n > 1 else ''} holding at least {share:.0%} of its "
        f"residents {'are new towns' if n > 1 else 'is a new town'}"
    )


def settlement_grid(
    pop: np.ndarray, **params: float | int | bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict, list[str]]:
    """Classify a population grid into settlements (the array core of the method).

    Parameters
    ----------
    pop
        Residents per cell (2-D array, rows × columns of square cells).
    **params
        Overrides of :data:`SETTLEMENT_DEFAULTS`.

    Returns
    -------
    tuple
        ``(dou, sid, zone, info, warnings)``: per cell the DoU class code (2 urban
        centre, 1 urban cluster, 0 rural), the settlement id (-1 rural), the zone code
        (2 core, 1 new town, 0 rural), a dict of how the core was chosen, and warnings.
    """
    from scipy import ndimage

    p = {**SETTLEMENT_DEFAULTS, **params}
    unknown = set(params) - set(SETTLEMENT_DEFAULTS)
    if unknown:
        raise InputError(
            f"unknown settlement parameters {sorted(unknown)}; use {sorted(SETTLEMENT_DEFAULTS)}"
        )
    cell_km2 = float(p["cell_m"]) ** 2 / 1e6
    density = pop / cell_km2
    # urban centres: dense cells, edge-contiguous, enough residents in total
    c_lab, c_sum = _components(density >= p["centre_density"], pop, int(p["centre_connectivity"]))
    centre = np.concatenate([[False], c_sum >= p["centre_min_pop"]])[c_lab]
    if p["fill_gaps"] and centre.any():
        centre = ndimage.binary_fill_holes(centre, structure=_structure(4))
    c_lab, c_sum = _components(centre, pop, 4)
    # urban clusters: moderately dense cells (centres included), corner-contiguous
    k_lab, k_sum = _components(
        (density >= p["cluster_density"]) | centre, pop, int(p["cluster_connectivity"])
    )
    cluster = np.concatenate([[False], k_sum >= p["cluster_min_pop"]])[k_lab] & ~centre
    dou = np.where(centre, 2, np.where(cluster, 1, 0)).astype(np.int8)
    # settlements: each urban centre, and the urban-cluster cells of each cluster group
    s_lab, s_sum = _components(cluster, pop, int(p["cluster_connectivity"]))
    n_c = len(c_sum)
    sid = np.where(centre, c_lab - 1, np.where(cluster, n_c + s_lab - 1, -1))
    s_pop = np.concatenate([c_sum, s_sum])
    s_cls = np.concatenate([np.full(n_c, 2), np.full(len(s_sum), 1)])
    warnings: list[str] = []
    info: dict = {}
    zone = np.zeros(pop.shape, dtype=np.int8)
    if len(s_pop):
        top = s_cls.max()
        cand = np.flatnonzero(s_cls == top)
        core = int(cand[np.argmax(s_pop[cand])])
        info["core_rule"] = "urban_centre" if top == 2 else "urban_cluster"
        info["core_pop"] = float(s_pop[core])
        zone[sid >= 0] = 1
        zone[sid == core] = 2
        info["n_new_towns"] = int(len(s_pop) - 1)
    else:
        # relative fallback: the extract is too small for the absolute minimum totals
        dense = density >= p["cluster_density"]
        f_lab, f_sum = _components(dense, pop, int(p["cluster_connectivity"]))
        if len(f_sum):
            core = int(np.argmax(f_sum))
            keep = f_sum >= float(p["fallback_share"]) * f_sum[core]
            sid = f_lab - 1
            town = np.concatenate([[False], keep])[f_lab]
            sid = np.where(town, sid, -1)
            zone[town] = 1
            zone[f_lab == core + 1] = 2
            dou = np.where(town, 1, 0).astype(np.int8)
            info.update(
                core_rule="relative_fallback",
                core_pop=float(f_sum[core]),
                n_new_towns=int(keep.sum() - 1),
            )
            warnings.append(
                "No settlement in the extract reaches the Degree-of-Urbanisation minimum "
                f"totals (urban centre {p['centre_min_pop']:,.0f} residents at "
                f"{p['centre_density']:,.0f}/km², urban cluster {p['cluster_min_pop']:,.0f} "
                f"at {p['cluster_density']:,.0f}/km²). Zones are relative to this extract: "
                f"the largest group of {p['cell_m']:,.0f} m cells at "
                f"{p['cluster_density']:,.0f}+ residents/km² ({f_sum[core]:,.0f} residents) "
                f"is the core; {_groups(int(keep.sum() - 1), float(p['fallback_share']))}; "
                "the rest is rural."
            )
        else:
            sid = np.full(pop.shape, -1)
            info.update(core_rule="none", core_pop=0.0, n_new_towns=0)
            warnings.append(
                f"No {p['cell_m']:,.0f} m cell of the extract reaches "
                f"{p['cluster_density']:,.0f} residents/km²: every resident is rural and the "
                "zone comparison has one zone type."
            )
    return dou, sid, zone, {**p, **info}, warnings


def classify_settlements(
    demand: gpd.GeoDataFrame, *, pop_col: str = "pop", **params: float | int | bool
) -> Settlements:
    """Classify every demand point by the settlement it lies in.

    Demand is summed into square cells of ``cell_m`` (default 1 km) in the local
    projected CRS, over the **whole** table given (pass every demand point of the
    extract, not only those of selected districts: the minimum totals count all
    residents). In the manner of the Degree of Urbanisation (Dijkstra et al. 2021,
    GHSL): an **urban centre** is a group of edge-contiguous (4-connectivity) cells of
    at least ``centre_density`` residents/km² holding at least ``centre_min_pop``
    residents (holes filled when ``fill_gaps``); an **urban cluster** is a group of
    corner-contiguous (8-connectivity) cells of at least ``cluster_density`` holding at
    least ``cluster_min_pop`` (centre cells count towards it); the rest is rural.

    Each urban centre is a settlement, and so are the urban-cluster cells of each
    cluster group. The largest settlement of the highest class present is the
    ``core``; the other settlements are ``new_town``; every other point is ``rural``.

    When no group reaches the minimum totals (a small extract), a relative fallback
    keeps the comparison meaningful and says so in ``warnings``: the groups of cells at
    ``cluster_density`` or more are ranked by residents, the largest is the core, and
    groups holding at least ``fallback_share`` of the core's residents are new towns.

    Parameters
    ----------
    demand
        Demand points (any CRS) with ``pop_col``.
    pop_col
        Population column.
    **params
        Thresholds, see :data:`SETTLEMENT_DEFAULTS`: ``cell_m``, ``centre_density``,
        ``centre_min_pop``, ``cluster_density``, ``cluster_min_pop``,
        ``centre_connectivity``, ``cluster_connectivity`` (4 or 8), ``fill_gaps``,
        ``fallback_share``.

    Returns
    -------
    Settlements
    """
    cell_m = float(params.get("cell_m", SETTLEMENT_DEFAULTS["cell_m"]))
    if not cell_m > 0:
        raise InputError(f"cell_m must be positive, not {cell_m}")
    n = len(demand)
    valid = (demand.geometry.notna() & ~demand.geometry.is_empty).to_numpy().copy()
    grid_cols = ["row", "col", "pop", "density_per_km2", "dou_class", "settlement_id", "settlement"]
    if not valid.any():
        p = {**SETTLEMENT_DEFAULTS, **params, "core_rule": "none", "core_pop": 0.0}
        return Settlements(
            settlement=np.full(n, "rural", dtype=object),
            dou_class=np.full(n, "rural", dtype=object),
            settlement_id=np.full(n, -1, dtype=np.int64),
            grid=gpd.GeoDataFrame({c: [] for c in grid_cols}, geometry=[], crs=WGS84),
            params=p,
            warnings=(),
        )
    crs = local_crs(demand.loc[valid])
    g = demand.geometry.to_crs(crs)
    g = g.where(g.geom_type == "Point", g.representative_point())
    x, y = g.x.to_numpy(), g.y.to_numpy()
    valid &= np.isfinite(x) & np.isfinite(y)
    x0 = np.floor(np.nanmin(x[valid]) / cell_m) * cell_m
    y0 = np.floor(np.nanmin(y[valid]) / cell_m) * cell_m
    col = np.where(valid, np.floor((np.where(valid, x, x0) - x0) / cell_m), 0).astype(np.int64)
    row = np.where(valid, np.floor((np.where(valid, y, y0) - y0) / cell_m), 0).astype(np.int64)
    w = pd.to_numeric(demand[pop_col], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    w = np.where(valid, np.clip(w, 0, None), 0.0)
    pop = np.zeros((int(row.max()) + 1, int(col.max()) + 1))
    np.add.at(pop, (row, col), w)
    dou, sid, zone, info, warns = settlement_grid(pop, **params)
    dou_names = np.array(["rural", "urban_cluster", "urban_centre"], dtype=object)
    zone_names = np.array(["rural", "new_town", "core"], dtype=object)
    rr, cc = np.nonzero(pop > 0)
    grid = gpd.GeoDataFrame(
        {
            "row": rr.astype(np.int64),
            "col": cc.astype(np.int64),
            "pop": pop[rr, cc],
            "density_per_km2": pop[rr, cc] / (cell_m * cell_m / 1e6),
            "dou_class": dou_names[dou[rr, cc]],
            "settlement_id": sid[rr, cc].astype(np.int64),
            "settlement": zone_names[zone[rr, cc]],
        },
        geometry=box(
            x0 + cc * cell_m, y0 + rr * cell_m, x0 + (cc + 1) * cell_m, y0 + (rr + 1) * cell_m
        ),
        crs=crs,
    ).to_crs(WGS84)
    settlement = np.where(valid, zone_names[zone[row, col]], "rural").astype(object)
    info = {**info, "local_crs": str(crs), "method": "degree_of_urbanisation"}
    log.info(
        "settlements (%s): %s",
        info.get("core_rule"),
        pd.Series(w).groupby(settlement).sum().round().to_dict(),
    )
    return Settlements(
        settlement=settlement,
        dou_class=np.where(valid, dou_names[dou[row, col]], "rural").astype(object),
        settlement_id=np.where(valid, sid[row, col], -1).astype(np.int64),
        grid=grid,
        params=info,
        warnings=tuple(warns),
    )


__all__ = [
    "BROAD_TYPES",
    "DOU_TO_ZONE",
    "SETTLEMENT_DEFAULTS",
    "DistrictZone",
    "FineType",
    "Settlements",
    "ZoneMapping",
    "apply_zone_mapping",
    "classify_settlements",
    "load_zone_mapping",
    "normalize_code",
    "normalize_district_name",
    "settlement_grid",
]
