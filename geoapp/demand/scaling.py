"""Districts and control totals: each point's district, and the scaling to known totals.

**Districts.** Points are joined to the district boundaries by location
(:func:`assign_districts`); points outside every district are kept in district
:data:`~geoapp.region.OUTSIDE_DISTRICTS` (zone type ``unknown``) with a warning
(:func:`outside_districts`).

**Control totals** (:func:`control_totals`), in two steps:

1. *Complete areas.* Every admin boundary that is complete in the data (its rings close)
   and tags ``population``, and every place whose own area is complete (its admin area,
   see :func:`geoapp.demand.settlements.settlement_places`), scales the demand inside
   it to that population, with or without ``--admin-level``, when it lies
   :data:`MIN_COVERED` inside the data. Nested areas: the finest wins (highest
   ``admin_level``, then smallest); a coarser area scales only what its finer areas
   left, to its tag less what they hold. The run lists them in an assumption line.
2. *Districts.* A census table (matched by code, else by name: :func:`match_census`)
   gives each matched district its total and share aged 60+; without a census, the
   boundaries' ``population`` tags give the totals. One **coverage rule** serves both.

**The coverage rule.** The covered share of a district is the share of its area inside
the data's extent (``data_extent``; None: every district is fully covered). For an OSM
file that extent is the box of its streets, buildings and landuse clipped to the box the
file declares (``<bounds>``, PBF header; :func:`geoapp.inputs.prepare_demand`): an
export holds whole ways running far past the box it was cut to. A district the extent
does not reach at all is left out, in one line for all of them.

* Covered :data:`MIN_COVERED` (95 %) or more: scaled to its total.
* Partly covered: scaled to total × covered share, never the whole total; a warning
  names the district, its covered share, the rule and the estimate the buildings gave.

Why the area share, and not the building estimate kept with the census only as a
bound: a census (or tag) is given because the building estimate's absolute level is
unreliable (floor area per person, missing ``building:levels``, unmapped homes: 2-5×
off on real extracts); keeping it would bring those errors back exactly where the user
gave a better figure. Total × area share is bounded (never above the total), tends to
0 as the coverage does, meets the full rule at full coverage and is checkable by hand;
within the covered part the buildings still decide where residents live, and the
census's 60+ share applies. Its assumption is uniform density over the district: a
dense core of a district with hills gets too few, an empty corner too many, so the
warning also prints the buildings' own figure as a plausibility check. The built-up
share (mapped buildings, residential landuse) cannot refine it from the data itself:
by construction the data holds nothing outside its extent, so the district's built-up
area outside is unknown (a population raster covering the district is then the
better demand source). Points scaled by step 1 keep their residents: a fully covered
district's other points take its total less theirs; a partly covered one's take total
× the share of its area that is covered and outside those areas.

A boundary tag differing from the estimate by more than
:data:`~geoapp.demand.checks.CHECK_FACTOR` gives a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp.crs import local_crs
from geoapp.demand.checks import CHECK_FACTOR, cause_high
from geoapp.demand.frames import WGS84, first_containing
from geoapp.demand.settlements import Places
from geoapp.errors import InputError
from geoapp.region import OUTSIDE_DISTRICTS
from geoapp.zones import normalize_code, normalize_district_name

log = logging.getLogger(__name__)

#: Share of a district's (or area's) area that must lie inside the data for it to count
#: as fully covered: scaled to its whole total.
MIN_COVERED = 0.95
#: The name phase 1 used for :data:`MIN_COVERED`.
MIN_BOUNDARY_INSIDE = MIN_COVERED


def match_census(
    boundaries: gpd.GeoDataFrame, census: pd.DataFrame, strict: bool, *, log_problems: bool = True
) -> tuple[dict[int, int], list[str]]:
    """Match census rows to boundaries: by ``district_code``, else by name.

    ``log_problems=False`` only looks (how many rows match, for a caller trying another
    matching): unmatched rows are returned, not logged.

    Returns
    -------
    tuple
        ``({boundary position: census row position}, problems)``.

    Raises
    ------
    InputError
        No ``pop`` column; unmatched rows or boundaries when ``strict`` (else they are
        logged and returned as problems).
    """
    if "pop" not in census.columns:
        raise InputError("Census table has no 'pop' column; give residents per district in 'pop'.")
    c_codes = (
        census["district_code"].map(normalize_code)
        if "district_code" in census.columns
        else pd.Series("", index=census.index)
    ).to_numpy()
    c_names = (
        census["district"].astype(object).map(normalize_district_name)
        if "district" in census.columns
        else pd.Series("", index=census.index)
    ).to_numpy()
    by_code = {c: i for i, c in enumerate(c_codes) if c}
    by_name = {n: i for i, n in enumerate(c_names) if n}
    b_codes = (
        boundaries["district_code"].map(normalize_code).to_numpy()
        if "district_code" in boundaries.columns
        else np.full(len(boundaries), "")
    )
    b_names = (
        boundaries["district"].astype(object).map(normalize_district_name).to_numpy()
        if "district" in boundaries.columns
        else np.full(len(boundaries), "")
    )
    match: dict[int, int] = {}
    for bi, (bc, bn) in enumerate(zip(b_codes, b_names, strict=True)):
        ci = by_code.get(bc) if bc else None
        if ci is None and bn:
            ci = by_name.get(bn)
        if ci is not None:
            match[bi] = ci
    problems: list[str] = []
    used = set(match.values())
    label = census["district"] if "district" in census.columns else census["district_code"]
    unmatched_c = [
        f"{label.iloc[i]} ({c_codes[i]})" if c_codes[i] else str(label.iloc[i])
        for i in range(len(census))
        if i not in used
    ]
    b_label = boundaries["district"] if "district" in boundaries.columns else pd.Series(b_codes)
    unmatched_b = [str(b_label.iloc[i]) for i in range(len(boundaries)) if i not in match]
    if unmatched_c:
        problems.append("census districts matching no boundary: " + ", ".join(unmatched_c))
    if unmatched_b:
        problems.append("boundaries with no census row: " + ", ".join(unmatched_b))
    if problems:
        msg = (
            "The census table does not match the district boundaries (matched by "
            "district_code, else by name with or without 区/县). Fix the names or codes in the "
            "census CSV (--census), or, from Python, call estimate_population(..., "
            "options=DemandOptions(strict=False)) to scale only the matched districts."
        )
        if strict:
            raise InputError(msg, problems)
        if log_problems:
            log.warning("%s %s", msg, "; ".join(problems))
    return match, problems


def district_frame(boundaries: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the districts' names, codes and zone types as str columns.

    Columns ``district``, ``district_code`` (normalised), ``zone_type`` (``unknown``
    when missing) and ``zone_fine``.
    """
    cols = {}
    for c in ("district", "district_code", "zone_type", "zone_fine"):
        if c in boundaries.columns:
            cols[c] = boundaries[c].fillna("").astype(str).to_numpy()
        else:
            cols[c] = np.full(len(boundaries), "unknown" if c == "zone_type" else "", dtype=object)
    df = pd.DataFrame(cols)
    df["district_code"] = df["district_code"].map(normalize_code)
    df["zone_type"] = df["zone_type"].replace("", "unknown")
    return df


@dataclass(frozen=True)
class Districts:
    """The districts and the district slot of every demand point.

    Attributes
    ----------
    table
        One row per district: ``district``, ``district_code``, ``zone_type``,
        ``zone_fine`` (one unnamed district when there are no boundaries).
    geometry
        The boundaries in EPSG:4326 (positions as in ``table``), None without boundaries.
    slot
        Each point's district position; ``len(table)`` (the outside slot) for points
        outside every district.
    """

    table: pd.DataFrame
    geometry: gpd.GeoSeries | None
    slot: np.ndarray

    @property
    def count(self) -> int:
        """Number of districts (the outside slot not counted)."""
        return len(self.table)

    @property
    def outside(self) -> np.ndarray:
        """Boolean per point: outside every district."""
        return self.slot == self.count

    def column(self, name: str, outside_value: str) -> np.ndarray:
        """Return a ``table`` column with ``outside_value`` appended for the outside slot."""
        return np.append(self.table[name].to_numpy(dtype=object), outside_value)


def assign_districts(points: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None) -> Districts:
    """Join the points to the districts by location (points outside are kept, see above)."""
    if boundaries is not None and len(boundaries) > 0:
        dist = district_frame(boundaries)
        bgeo = boundaries.geometry.to_crs(WGS84).reset_index(drop=True)
        bpos = first_containing(points.geometry, bgeo)
    else:
        dist = pd.DataFrame(
            {"district": [""], "district_code": [""], "zone_type": ["unknown"], "zone_fine": [""]}
        )
        bgeo = None
        bpos = np.zeros(len(points), dtype=np.int64)
    return Districts(dist, bgeo, np.where(bpos < 0, len(dist), bpos))


def _share_text(s: float) -> str:
    """Format a share as a percentage, with digits enough for small ones (0.4%, 0.0080%)."""
    pct = 100.0 * float(s)
    if pct >= 10 or pct == 0:
        return f"{pct:.0f}%"
    if pct >= 0.95:
        return f"{pct:.1f}%"
    return f"{pct:.2g}%"


def covered_shares(geometry: gpd.GeoSeries | None, data_extent: object) -> np.ndarray:
    """Return the share of each polygon's area inside ``data_extent`` (1 where it is None).

    Areas are measured in a local metric CRS; an empty polygon counts as covered.
    """
    if geometry is None or not len(geometry):
        return np.ones(0 if geometry is None else len(geometry))
    if data_extent is None:
        return np.ones(len(geometry))
    crs = local_crs(geometry)
    loc = geometry.to_crs(crs)
    ext = gpd.GeoSeries([data_extent], crs=WGS84).to_crs(crs).iloc[0]
    area = loc.area.to_numpy()
    inside = loc.intersection(ext).area.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(area > 0, np.minimum(inside / area, 1.0), 1.0)


@dataclass(frozen=True)
class AreaControl:
    """An area whose known population scales the demand inside it.

    Attributes
    ----------
    label
        How the run names it (``'Name' (admin_level 8, relation/1)``).
    target
        Its population (the boundary's tag, or its place's tag).
    level
        Its ``admin_level`` (100, finer than any, when unknown).
    geometry
        EPSG:4326 polygon.
    area_id
        The area's ``osm_id``.
    place
        True when the population is its place's tag (the area tags none).
    """

    label: str
    target: float
    level: float
    geometry: Any
    area_id: str = ""
    place: bool = False


def area_controls(
    admin_areas: gpd.GeoDataFrame | None,
    places: Places | None,
    data_extent: object,
) -> list[AreaControl]:
    """Return the complete, covered areas with a known population (finest first).

    An admin area (:data:`~geoapp.region.ADMIN_AREA_COLUMNS`) counts when it
    tags ``population``; a settlement's own admin area (see
    :func:`~geoapp.demand.settlements.settlement_places`) when it tags none itself and
    the place does (a place mapped as a polygon does not: such polygons often draw the
    built-up core while the tag counts the municipality). Either must lie :data:`MIN_COVERED` inside ``data_extent``.
    Districts are not among them (they are scaled by :func:`control_totals`).
    """
    # (key, label, target, level, geometry, from a place)
    rows: list[tuple[str, str, float, float, Any, bool]] = []
    if admin_areas is not None and len(admin_areas):
        aa = admin_areas.to_crs(WGS84)
        pop = pd.to_numeric(aa["population"], errors="coerce").to_numpy(dtype=float)
        for k in np.flatnonzero(np.isfinite(pop) & (pop > 0)).tolist():
            r = aa.iloc[k]
            level = pd.to_numeric(pd.Series([r.get("admin_level")]), errors="coerce").iloc[0]
            rows.append(
                (
                    str(r.get("osm_id", "")),
                    f"{r.get('name') or 'unnamed'!r} (admin_level {r.get('admin_level')}, "
                    f"{r.get('osm_id', '')})",
                    float(pop[k]),
                    float(level) if np.isfinite(level) else 0.0,
                    r.geometry,
                    False,
                )
            )
    if places is not None and len(places):
        t = places.table
        for k in range(len(t)):
            kind = t["area_kind"].iloc[k]
            # its admin area only: a place mapped as a polygon often draws the built-up
            # core while its tag counts the municipality
            if kind != "admin" or np.isfinite(t["area_population"].iloc[k]):
                continue
            level = t["area_level"].iloc[k]
            name = t["name"].iloc[k] or t["osm_id"].iloc[k]
            rows.append(
                (
                    str(t["area_id"].iloc[k]),
                    f"{name!r} ({t['place'].iloc[k]} {t['osm_id'].iloc[k]}, its area "
                    f"{t['area_id'].iloc[k]})",
                    float(t["population_tag"].iloc[k]),
                    float(level) if np.isfinite(level) else 100.0,
                    places.area[k],
                    True,
                )
            )
    seen: set[str] = set()
    unique = []
    for row in rows:
        if row[0] and row[0] in seen:
            continue
        seen.add(row[0])
        unique.append(row)
    if not unique:
        return []
    geoms = gpd.GeoSeries([r[4] for r in unique], crs=WGS84)
    cover = covered_shares(geoms, data_extent)
    area = geoms.to_crs(local_crs(geoms)).area.to_numpy()
    keep = [
        (AreaControl(r[1], r[2], r[3], r[4], r[0], r[5]), a)
        for r, c, a in zip(unique, cover, area, strict=True)
        if c >= MIN_COVERED and a > 0
    ]
    keep.sort(key=lambda x: (-x[0].level, x[1]))
    return [c for c, _ in keep]


@dataclass(frozen=True)
class Scaling:
    """Control totals applied to the demand points.

    Attributes
    ----------
    factor
        Multiplier of every point's residents (1 where nothing was scaled).
    share_60plus
        Census share aged 60+ per district slot, the outside slot last (NaN where no
        census gives it).
    census_scaled
        True when districts were scaled to a census table.
    control
        ``"census"``, ``"boundary population"``, ``"admin areas"`` or ``""`` (what scaled
        the districts; ``"admin areas"`` when only complete admin areas or places did).
    warnings, assumptions
        Sentences for ``Demand.warnings`` / ``Demand.assumptions``.
    areas
        Labels of the complete admin areas and places whose population was used.
    area_ids
        The ``osm_id`` of the admin areas scaled to their place's tag.
    """

    factor: np.ndarray
    share_60plus: np.ndarray
    census_scaled: bool = False
    control: str = ""
    warnings: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    area_ids: tuple[str, ...] = ()


def _apply_areas(
    pop: np.ndarray, points: gpd.GeoSeries, controls: list[AreaControl]
) -> tuple[np.ndarray, np.ndarray, list[AreaControl], list[str]]:
    """Scale the points inside each control area, finest first (see :func:`control_totals`).

    Returns ``(scaled pop, fixed mask, controls used, warnings)``.
    """
    out = pop.astype(float).copy()
    fixed = np.zeros(len(pop), dtype=bool)
    used: list[AreaControl] = []
    warnings: list[str] = []
    if not controls or not len(points):
        return out, fixed, used, warnings
    sindex = points.sindex
    for c in controls:
        inside = np.zeros(len(pop), dtype=bool)
        inside[sindex.query(c.geometry, predicate="intersects")] = True
        free = inside & ~fixed
        held = float(out[inside & fixed].sum())
        est = float(pop[free].sum())
        rest = c.target - held
        if est > 0 and rest > 0:
            out[free] = pop[free] * (rest / est)
            fixed |= free
            used.append(c)
        elif est <= 0 and held > 0 and abs(rest) <= 0.01 * c.target:
            used.append(c)  # finer areas inside already add up to its tag
        elif est <= 0 and held <= 0:
            warnings.append(
                f"Area {c.label} tags population {c.target:,.0f} but holds no housing "
                "buildings or residential landuse in the data: its residents cannot be placed."
            )
        else:
            warnings.append(
                f"Area {c.label} tags population {c.target:,.0f}, but the finer areas inside "
                f"it already hold {held:,.0f}: its tag was not used (the tags disagree; one "
                "may be out of date)."
            )
    return out, fixed, used, warnings


def control_totals(
    pop: np.ndarray,
    districts: Districts,
    boundaries: gpd.GeoDataFrame | None,
    census: pd.DataFrame | None,
    *,
    strict: bool = True,
    boundary_population: bool = True,
    data_extent: object = None,
    m2_per_person: float,
    points: gpd.GeoSeries | None = None,
    admin_areas: gpd.GeoDataFrame | None = None,
    places: Places | None = None,
) -> Scaling:
    """Scale the demand to the known totals: complete areas, then districts.

    1. **Complete areas** (:func:`area_controls`, with ``boundary_population``): the
       points inside each complete, covered admin area tagging ``population`` and each
       place's complete own area are scaled to that population, the finest first (the
       highest ``admin_level``, then the smallest); a coarser area scales only the
       points its finer areas left, to its tag less what they hold.
    2. **Districts**: a census (matched by :func:`match_census`), else the boundaries'
       ``population`` tags (with ``boundary_population``), each applied by the coverage
       rule of the module docstring: a district covered :data:`MIN_COVERED` or more is
       scaled to its total; a partly covered one to total × its covered share. Points
       fixed by step 1 keep their residents; the district's other points take the rest.

    Parameters
    ----------
    pop
        Residents per point (as estimated).
    districts
        The points' districts (:func:`assign_districts`).
    boundaries
        District boundaries (``population`` read when there is no census).
    census
        District totals (``district_code`` and/or ``district``, ``pop``, optional
        ``pop_60plus``).
    strict
        A census not matching the boundaries raises (True) or warns (False).
    boundary_population
        Use the ``population`` tags of the boundaries, admin areas and places.
    data_extent
        Shapely geometry (EPSG:4326) the data covers (None: every district and area is
        fully covered).
    m2_per_person
        Floor area per person used (named in the warnings).
    points
        EPSG:4326 geometry of the points (needed for step 1).
    admin_areas
        Complete admin areas (:data:`~geoapp.region.ADMIN_AREA_COLUMNS`).
    places
        The settlements (:func:`~geoapp.demand.settlements.settlement_places`).
    """
    nb = districts.count
    pop = np.asarray(pop, dtype=float)
    has_b = districts.geometry is not None
    warnings: list[str] = []
    assumptions: list[str] = []
    use_census = census is not None and len(census) > 0
    if use_census and not has_b:
        warnings.append("The census table was ignored: there are no district boundaries.")
        use_census = False

    # 1. complete admin areas and places
    controls = (
        area_controls(admin_areas, places, data_extent)
        if boundary_population and points is not None
        else []
    )
    scaled, fixed, used, area_warnings = _apply_areas(pop, points, controls) if controls else (
        pop.copy(), np.zeros(len(pop), dtype=bool), [], []
    )  # fmt: skip
    warnings.extend(area_warnings)
    if used:
        names = [c.label for c in used]
        more = f" and {len(names) - 10:,} more" if len(names) > 10 else ""
        assumptions.append(
            f"population scaled to the population tags of {len(used):,} complete admin "
            f"area{'s' if len(used) > 1 else ''} and places (the finest level wins): "
            + "; ".join(names[:10])
            + more
        )

    # 2. districts
    share60 = np.full(nb + 1, np.nan)
    targets = np.full(nb + 1, np.nan)
    kind = ""
    what = "population tag"
    census_scaled = False
    if use_census:
        assert boundaries is not None and census is not None
        targets, share60, census_warnings, n_matched = _census_targets(
            districts, boundaries, census, strict
        )
        warnings.extend(census_warnings)
        census_scaled = n_matched > 0
        kind = "census" if census_scaled else ""
        what = "census total"
    elif boundary_population and has_b and boundaries is not None and "population" in boundaries:
        tags = pd.to_numeric(boundaries["population"], errors="coerce").to_numpy(dtype=float)
        targets[:nb] = np.where(np.isfinite(tags) & (tags > 0), tags, np.nan)
    factor_pts, district_warnings, n_used = _district_scaling(
        pop, scaled, fixed, districts, targets, data_extent, used, what, m2_per_person,
        is_census=use_census,
    )  # fmt: skip
    warnings.extend(district_warnings)
    if use_census:
        assumptions.append(_census_assumption(n_used, nb, targets, districts, data_extent))
    if not use_census and n_used:
        kind = "boundary population"
        assumptions.append(
            f"population scaled to the boundaries' population tags in {n_used} of "
            f"{nb} districts (no census given)"
        )
    if not kind and used:
        kind = "admin areas"
    return Scaling(
        factor_pts,
        share60,
        census_scaled=census_scaled,
        control=kind,
        warnings=tuple(warnings),
        assumptions=tuple(assumptions),
        areas=tuple(c.label for c in used),
        area_ids=tuple(c.area_id for c in used if c.place),
    )


def _census_assumption(
    n_used: int, nb: int, targets: np.ndarray, districts: Districts, data_extent: object
) -> str:
    """Return the assumption line of a census: the districts scaled of those it has."""
    matched = int(np.isfinite(targets[:nb]).sum())
    text = f"population scaled to census totals in {n_used:,} of {nb:,} districts"
    if data_extent is None or districts.geometry is None or matched == n_used:
        return text
    cover = covered_shares(districts.geometry, data_extent)
    left = int((np.isfinite(targets[:nb]) & (cover <= 0)).sum())
    return text + (f" ({left:,} lie outside the data)" if left else "")


def _census_targets(
    districts: Districts, boundaries: gpd.GeoDataFrame, census: pd.DataFrame, strict: bool
) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """Return per slot: the census total (NaN when unmatched) and share aged 60+."""
    nb = districts.count
    targets = np.full(nb + 1, np.nan)
    share60 = np.full(nb + 1, np.nan)
    warnings: list[str] = []
    match, problems = match_census(boundaries, census, strict)
    c_pop = pd.to_numeric(census["pop"], errors="coerce").to_numpy(dtype=float)
    c_60 = (
        pd.to_numeric(census["pop_60plus"], errors="coerce").to_numpy(dtype=float)
        if "pop_60plus" in census.columns
        else np.full(len(census), np.nan)
    )
    for bi, ci in match.items():
        targets[bi] = c_pop[ci]
        if c_pop[ci] > 0 and np.isfinite(c_60[ci]):
            share60[bi] = c_60[ci] / c_pop[ci]
    if problems:
        warnings.append("Census: " + "; ".join(problems) + ".")
    return targets, share60, warnings, len(match)


def _district_scaling(
    pop: np.ndarray,
    scaled: np.ndarray,
    fixed: np.ndarray,
    districts: Districts,
    targets: np.ndarray,
    data_extent: object,
    used: list[AreaControl],
    what: str,
    m2_per_person: float,
    *,
    is_census: bool,
) -> tuple[np.ndarray, list[str], int]:
    """Scale each district with a total by the coverage rule; return per-point factors.

    A district with no point fixed by a complete area gets one factor, total / its
    estimate, exactly as a plain district scaling does.
    """
    nb = districts.count
    slot = districts.slot
    factor = np.ones(len(pop))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor[fixed] = np.where(pop[fixed] > 0, scaled[fixed] / pop[fixed], 1.0)
    warnings: list[str] = []
    empty: list[str] = []
    outside: list[str] = []
    n_used = 0
    todo = np.flatnonzero(np.isfinite(targets[:nb]))
    cover = covered_shares(districts.geometry, data_extent) if len(todo) else np.ones(nb)
    est_slot = np.bincount(slot, weights=pop, minlength=nb + 1)
    for bi in todo:
        name = districts.table["district"].iloc[bi] or f"district {bi}"
        total = float(targets[bi])
        if cover[bi] <= 0:  # the data never reaches it: nothing of its total applies
            outside.append(name)
            continue
        in_d = slot == bi
        some_fixed = bool(fixed[in_d].any())
        free = in_d & ~fixed
        held = float((pop * factor)[in_d & fixed].sum()) if some_fixed else 0.0
        est_free = float(pop[free].sum()) if some_fixed else float(est_slot[bi])
        if cover[bi] >= MIN_COVERED:
            rest = total - held
            if est_free > 0 and rest > 0:
                factor[free] = rest / est_free
            elif held > 0:
                factor[in_d] *= total / float((pop * factor)[in_d].sum())
                if est_free > 0 or abs(total / held - 1) > 0.01:
                    warnings.append(
                        f"District {name!r}: the complete areas inside it tag {held:,.0f} "
                        f"residents, its {what} {total:,.0f}: all its residents were scaled "
                        f"to its {what}."
                    )
            elif total > 0:
                empty.append(name)
                continue
            if not is_census:
                ratio = total / est_slot[bi] if est_slot[bi] > 0 else np.inf
                if est_slot[bi] > 0 and (ratio > CHECK_FACTOR or ratio < 1 / CHECK_FACTOR):
                    cause = (
                        "few mapped buildings or missing building:levels"
                        if ratio > 1
                        else cause_high(m2_per_person)
                    )
                    warnings.append(
                        f"District {name!r}: population tag {total:,.0f}, estimate "
                        f"{est_slot[bi]:,.0f} from the data ({max(ratio, 1 / ratio):.1f}× "
                        f"{'below' if ratio > 1 else 'above'} the tag); likely cause: {cause}. "
                        "Scaled to the tag."
                    )
            n_used += 1
            continue
        # partly covered: total × the covered share of its area (the part not in a
        # complete area scaled above, whose residents are known)
        share = float(cover[bi])
        free_share = share
        if used and held > 0 and districts.geometry is not None:
            free_share = _free_share(districts.geometry.iloc[bi], data_extent, used)
        target_free = total * free_share
        if est_free > 0 and target_free > 0:
            factor[free] = target_free / est_free
        elif held <= 0:
            empty.append(name)
            continue
        n_used += 1
        placed = float((pop * factor)[in_d].sum())
        ratio = est_slot[bi] / placed if placed > 0 else np.inf
        note = (
            f"; the buildings in the data give {est_slot[bi]:,.0f} "
            f"({max(ratio, 1 / ratio):.1f}× {'more' if ratio > 1 else 'fewer'}: the covered "
            f"part is {'denser' if ratio > 1 else 'sparser'} than the district's average, or "
            "the floor area per person does not fit)"
            if np.isfinite(ratio) and (ratio > CHECK_FACTOR or ratio < 1 / CHECK_FACTOR)
            else f"; the buildings in the data give {est_slot[bi]:,.0f}"
        )
        kept = f" (complete areas inside it hold {held:,.0f} of them)" if held > 0 else ""
        warnings.append(
            f"District {name!r} is only partly covered by the data ({_share_text(share)} of "
            f"its area): its {what} {total:,.0f} was not applied whole; it holds "
            f"{placed:,.0f} residents{kept} = {what} × the covered share of its area "
            f"(residents taken as spread evenly over the district){note}."
        )
    if empty:
        warnings.append(
            f"The {what} of these districts could not be placed (no housing "
            f"buildings or residential landuse in them): {', '.join(empty)}."
        )
    if outside and is_census:
        n = len(outside)
        warnings.append(
            f"{n:,} census district{'s lie' if n > 1 else ' lies'} outside the data and "
            f"{'were' if n > 1 else 'was'} left out (none of {'their' if n > 1 else 'its'} "
            f"area is covered): {_examples(outside)}."
        )
    return factor, warnings, n_used


def _examples(names: list[str], most: int = 3) -> str:
    """Return up to ``most`` names, ``…`` after them when there are more."""
    return ", ".join(names[:most]) + (", …" if len(names) > most else "")


def _free_share(district: Any, data_extent: object, used: list[AreaControl]) -> float:
    """Share of a district's area inside the data but outside every used control area."""
    parts = gpd.GeoSeries([district], crs=WGS84)
    crs = local_crs(parts)
    d = parts.to_crs(crs).iloc[0]
    area = d.area
    if area <= 0:
        return 1.0
    covered = d if data_extent is None else d.intersection(
        gpd.GeoSeries([data_extent], crs=WGS84).to_crs(crs).iloc[0]
    )  # fmt: skip
    taken = gpd.GeoSeries([c.geometry for c in used], crs=WGS84).to_crs(crs).union_all()
    return float(covered.difference(taken).area / area)


def outside_districts(pop: np.ndarray, districts: Districts) -> tuple[float, str | None]:
    """Return the residents outside every district and the warning about them (or None)."""
    outside = districts.outside
    outside_pop = float(pop[outside].sum())
    if not outside.any():
        return outside_pop, None
    return outside_pop, (
        f"{outside_pop:,.0f} residents ({int(outside.sum()):,} demand points) lie outside "
        f"every district; they are kept as {OUTSIDE_DISTRICTS!r} (zone type unknown) and "
        "counted in the region total."
    )


__all__ = [
    "MIN_BOUNDARY_INSIDE",
    "MIN_COVERED",
    "AreaControl",
    "Districts",
    "Scaling",
    "area_controls",
    "assign_districts",
    "control_totals",
    "covered_shares",
    "district_frame",
    "match_census",
    "outside_districts",
]
