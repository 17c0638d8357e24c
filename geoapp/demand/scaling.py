"""Districts and control totals: each point's district, and the scaling to known totals.

District totals are scaled to a census table or, without one, to the boundaries'
``population`` tags.

**Districts.** Points are joined to the district boundaries by location
(:func:`assign_districts`); points outside every district are kept in district
:data:`~geoapp.region.OUTSIDE_DISTRICTS` (zone type ``unknown``) with a warning
(:func:`outside_districts`).

**Control totals** (:func:`control_totals`). A census table scales each matched
district to its total (and gives its share aged 60+; :func:`match_census` matches by
code, else by name). With no census, district boundaries carrying ``population`` (a
float column from the OSM tag) act as control totals when they lie inside the data; a
tag differing from the estimate by more than :data:`~geoapp.demand.checks.CHECK_FACTOR`
gives a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp.crs import local_crs
from geoapp.demand.checks import CHECK_FACTOR, cause_high
from geoapp.demand.frames import WGS84, first_containing
from geoapp.errors import InputError
from geoapp.region import OUTSIDE_DISTRICTS
from geoapp.zones import normalize_code, normalize_district_name

log = logging.getLogger(__name__)

#: Share of a district's area that must lie inside the data for its ``population`` tag
#: to be a control total (a clipped district would be inflated).
MIN_BOUNDARY_INSIDE = 0.95


def match_census(
    boundaries: gpd.GeoDataFrame, census: pd.DataFrame, strict: bool
) -> tuple[dict[int, int], list[str]]:
    """Match census rows to boundaries: by ``district_code``, else by name.

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


@dataclass(frozen=True)
class Scaling:
    """Control totals per district slot (the outside slot last).

    Attributes
    ----------
    factor
        Multiplier of every point's residents, per slot (1 where nothing was scaled).
    share_60plus
        Census share aged 60+ per slot (NaN where no census gives it).
    census_scaled
        True when districts were scaled to a census table.
    control
        ``"census"``, ``"boundary population"`` or ``""``.
    warnings, assumptions
        Sentences for ``Demand.warnings`` / ``Demand.assumptions``.
    """

    factor: np.ndarray
    share_60plus: np.ndarray
    census_scaled: bool = False
    control: str = ""
    warnings: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()


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
) -> Scaling:
    """Scale the districts to a census, else to the boundaries' ``population`` tags.

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
        With no census, scale districts to their ``population`` tags.
    data_extent
        Shapely geometry (EPSG:4326) of the data; a boundary's tag counts only when
        :data:`MIN_BOUNDARY_INSIDE` of it lies inside (None: all inside).
    m2_per_person
        Floor area per person used (named in the warnings).
    """
    nb = districts.count
    est = np.bincount(districts.slot, weights=pop, minlength=nb + 1)
    has_b = districts.geometry is not None
    if census is not None and len(census) and has_b:
        return census_totals(est, districts, boundaries, census, strict=strict)
    if census is not None and len(census):
        return Scaling(
            np.ones(nb + 1),
            np.full(nb + 1, np.nan),
            warnings=("The census table was ignored: there are no district boundaries.",),
        )
    if boundary_population and has_b and "population" in boundaries.columns:
        return boundary_totals(est, districts, boundaries, data_extent, m2_per_person)
    return Scaling(np.ones(nb + 1), np.full(nb + 1, np.nan))


def census_totals(
    est: np.ndarray,
    districts: Districts,
    boundaries: gpd.GeoDataFrame,
    census: pd.DataFrame,
    *,
    strict: bool = True,
) -> Scaling:
    """Scale each district matched to a census row to its ``pop`` (``est``: per slot)."""
    nb = districts.count
    factor = np.ones(nb + 1)
    b_share = np.full(nb + 1, np.nan)
    warnings: list[str] = []
    match, problems = match_census(boundaries, census, strict)
    c_pop = pd.to_numeric(census["pop"], errors="coerce").to_numpy(dtype=float)
    c_60 = (
        pd.to_numeric(census["pop_60plus"], errors="coerce").to_numpy(dtype=float)
        if "pop_60plus" in census.columns
        else np.full(len(census), np.nan)
    )
    empty = []
    for bi, ci in match.items():
        if est[bi] > 0:
            factor[bi] = c_pop[ci] / est[bi]
        elif c_pop[ci] > 0:
            empty.append(districts.table["district"].iloc[bi] or str(bi))
        if c_pop[ci] > 0 and np.isfinite(c_60[ci]):
            b_share[bi] = c_60[ci] / c_pop[ci]
    if problems:
        warnings.append("Census: " + "; ".join(problems) + ".")
    if empty:
        warnings.append(
            "The census population of these districts could not be placed (no housing "
            f"buildings or residential landuse in them): {', '.join(empty)}."
        )
    scaled = bool(match)
    return Scaling(
        factor,
        b_share,
        census_scaled=scaled,
        control="census" if scaled else "",
        warnings=tuple(warnings),
        assumptions=(f"population scaled to census totals in {len(match)} of {nb} districts",),
    )


def boundary_totals(
    est: np.ndarray,
    districts: Districts,
    boundaries: gpd.GeoDataFrame,
    data_extent: object,
    m2_per_person: float,
) -> Scaling:
    """Scale each district whose boundary carries ``population`` to it (``est``: per slot)."""
    nb = districts.count
    dist = districts.table
    bgeo = districts.geometry
    m2 = m2_per_person
    factor = np.ones(nb + 1)
    warnings: list[str] = []
    tags = pd.to_numeric(boundaries["population"], errors="coerce").to_numpy(dtype=float)
    if data_extent is not None:  # share of each district's area inside the data, in metres
        crs = local_crs(bgeo)
        bloc = bgeo.to_crs(crs)
        ext = gpd.GeoSeries([data_extent], crs=WGS84).to_crs(crs).iloc[0]
        inside = bloc.intersection(ext).area.to_numpy() / np.maximum(bloc.area.to_numpy(), 1e-9)
    else:
        inside = np.ones(nb)
    used = []
    for bi in np.flatnonzero(np.isfinite(tags) & (tags > 0)):
        name = dist["district"].iloc[bi] or f"boundary {bi}"
        if inside[bi] < MIN_BOUNDARY_INSIDE:
            warnings.append(
                f"District {name!r} carries population={tags[bi]:,.0f} but only "
                f"{inside[bi]:.0%} of it lies inside the extract's data: not used as a "
                "control total (use an extract covering the whole district)."
            )
            continue
        ratio = tags[bi] / est[bi] if est[bi] > 0 else np.inf
        if ratio > CHECK_FACTOR or ratio < 1 / CHECK_FACTOR:
            cause = (
                "few mapped buildings or missing building:levels" if ratio > 1 else cause_high(m2)
            )
            warnings.append(
                f"District {name!r}: population tag {tags[bi]:,.0f}, estimate "
                f"{est[bi]:,.0f} from the data ({'no residents' if not np.isfinite(ratio) else f'{max(ratio, 1 / ratio):.1f}×'}"
                f" {'below' if ratio > 1 else 'above'} the tag); likely cause: {cause}. "
                "Scaled to the tag."
                if est[bi] > 0
                else f"District {name!r}: population tag {tags[bi]:,.0f} but no housing "
                "buildings or residential landuse in the data: its residents cannot be placed."
            )
        if est[bi] > 0:
            factor[bi] = tags[bi] / est[bi]
            used.append(bi)
    if not used:
        return Scaling(factor, np.full(nb + 1, np.nan), warnings=tuple(warnings))
    return Scaling(
        factor,
        np.full(nb + 1, np.nan),
        census_scaled=False,
        control="boundary population",
        warnings=tuple(warnings),
        assumptions=(
            f"population scaled to the boundaries' population tags in {len(used)} of "
            f"{nb} districts (no census given)",
        ),
    )


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
    "Districts",
    "Scaling",
    "assign_districts",
    "boundary_totals",
    "census_totals",
    "control_totals",
    "district_frame",
    "match_census",
    "outside_districts",
]
