"""Ageing projections: re-weight the demand for a future year (``--projection FILE.csv``).

A projection table has one row per district and year::

    district,year,factor_60plus,factor_total
    *,2035,1.6,1.0
    Old Town,2035,1.3,

``factor_60plus`` multiplies every demand point's residents aged 60+ in the district;
the optional ``factor_total`` multiplies all residents (blank = 1). The district ``*``
applies to every district without its own row. Residents aged 60+ are capped at the
projected total of the point (a warning says how many were capped).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoapp._validate import Problems
from geoapp.demand import Demand
from geoapp.errors import InputError

#: The shipped example (an illustration, see ``geoapp/data/projections/SOURCE.md``).
EXAMPLE = Path(__file__).parent / "data" / "projections" / "beijing_2035_illustration.csv"
ALL_DISTRICTS = "*"
#: Largest factor a projection may apply (a hundredfold change is already no forecast).
MAX_FACTOR = 100.0

log = logging.getLogger(__name__)


def _is_year(value: object) -> bool:
    try:
        return float(value).is_integer()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _bad_factors(values: pd.Series, *, blank_ok: bool) -> list[bool]:
    """Which cells are not a number ≥ 0 (an empty cell is fine when ``blank_ok``)."""
    num = pd.to_numeric(values.astype(object), errors="coerce").to_numpy(dtype=float)
    blank = [blank_ok and (v is None or (isinstance(v, float) and math.isnan(v))) for v in values]
    return [
        not b and not (np.isfinite(x) and 0 <= x <= MAX_FACTOR)
        for x, b in zip(num, blank, strict=True)
    ]


def _check_rows(df: pd.DataFrame, path: Path) -> None:
    """Name the row and column of every bad cell (rows counted from 2, after the header)."""
    raw = {c: df[c].astype(object).tolist() for c in df.columns}
    checks: list[tuple[list[bool], Callable[..., str]]] = [
        (
            [not isinstance(v, str) or not v.strip() for v in raw["district"]],
            lambda i: "column 'district' is empty (use * for all)",
        ),
        (
            [not _is_year(v) for v in raw["year"]],
            lambda i: f"column 'year' {raw['year'][i]!r} is not a year",
        ),
    ]
    for col in ("factor_60plus", "factor_total"):
        checks.append((
            _bad_factors(df[col], blank_ok=col == "factor_total"),
            lambda i, col=col: (
                f"column '{col}' {raw[col][i]!r} must be a number from 0 to {MAX_FACTOR:g}"
            ),
        ))  # fmt: skip
    problems = Problems(path)
    problems.rows([int(i) + 2 for i in df.index], checks)
    problems.raise_if_any(f"Projection table {path} has problems:")


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype={"district": str}, comment="#", skipinitialspace=True)
    except FileNotFoundError:
        raise InputError(f"--projection {path}: file not found") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"--projection {path}: not a readable CSV ({exc})") from None
    missing = [c for c in ("district", "year", "factor_60plus") if c not in df.columns]
    if missing:
        raise InputError(
            f"--projection {path}: missing column(s) {', '.join(missing)}; the table needs "
            "district, year, factor_60plus and optionally factor_total"
        )
    if "factor_total" not in df.columns:
        df["factor_total"] = np.nan
    return df


def read_projection(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check a projection table (``district``, ``year``, ``factor_60plus``[, ``factor_total``]).

    Raises
    ------
    InputError
        Naming the file, row and column of every problem.
    """
    path = Path(path)
    df = _read_csv(path)
    _check_rows(df, path)
    df = df.assign(
        district=df["district"].str.strip(),
        year=df["year"].astype(float).astype(int),
        factor_60plus=pd.to_numeric(df["factor_60plus"]),
        factor_total=pd.to_numeric(df["factor_total"], errors="coerce").fillna(1.0),
    )
    dup = df.duplicated(["district", "year"], keep=False)
    if dup.any():
        raise InputError(
            f"--projection {path}: district and year repeated: "
            + ", ".join(
                f"{d} {y}"
                for d, y in df.loc[dup, ["district", "year"]].drop_duplicates().to_numpy()
            )
        )
    return df[["district", "year", "factor_60plus", "factor_total"]].reset_index(drop=True)


def apply_projection(
    demand: Demand, table: pd.DataFrame, *, year: int | None = None
) -> tuple[Demand, dict[str, Any]]:
    """Return the demand re-weighted for ``year`` and a description of what changed.

    Parameters
    ----------
    demand
        The current demand (:func:`geoapp.workflow.prepare_demand`); not changed.
    table
        Output of :func:`read_projection`.
    year
        The year to use; may be omitted when the table holds one year.

    Returns
    -------
    (Demand, dict)
        The new demand (its ``warnings`` and ``assumptions`` say what was applied) and
        ``{"year", "note", "table"}`` where ``table`` has ``district``,
        ``pop_60plus_before``, ``pop_60plus_after``, ``pop_before``, ``pop_after``.
    """
    years = sorted(table["year"].unique())
    if year is None:
        if len(years) != 1:
            raise InputError(f"The projection table holds the years {years}; pass --year YEAR.")
        year = int(years[0])
    rows = table[table["year"] == int(year)]
    if not len(rows):
        raise InputError(f"The projection table has no row for {year}; it holds {years}.")
    f60 = dict(zip(rows["district"], rows["factor_60plus"], strict=True))
    ftot = dict(zip(rows["district"], rows["factor_total"], strict=True))
    pts = demand.points
    dist = pts["district"].astype(str)
    unmatched = sorted(set(dist) - set(f60))
    default60, defaulttot = f60.get(ALL_DISTRICTS), ftot.get(ALL_DISTRICTS)
    warnings = list(demand.warnings)
    new_from = len(warnings)
    named = sorted(str(d) for d in f60 if d != ALL_DISTRICTS)
    if unmatched and default60 is None and not set(dist) & set(f60):
        warnings.append(
            f"The projection for {year} matches none of the region's {len(unmatched)} "
            f"district(s): the table names {', '.join(named[:10])}"
            f"{', ...' if len(named) > 10 else ''}; the region's are "
            f"{', '.join(unmatched[:10])}{', ...' if len(unmatched) > 10 else ''}. Nothing "
            "was projected: write the region's district names in the table's district "
            "column, or * for every district."
        )
    elif unmatched and default60 is None:
        warnings.append(
            f"The projection for {year} has no row for {len(unmatched)} district(s) "
            f"({', '.join(unmatched[:20])}{', ...' if len(unmatched) > 20 else ''}) and no '*' row: their population is left as today."
        )
    a60 = dist.map(f60).fillna(default60 if default60 is not None else 1.0).to_numpy(float)
    atot = dist.map(ftot).fillna(defaulttot if defaulttot is not None else 1.0).to_numpy(float)
    pop = pts["pop"].to_numpy(float) * atot
    p60 = pts["pop_60plus"].to_numpy(float) * a60
    capped = p60 > pop + 1e-9
    if capped.any():
        warnings.append(
            f"The projection for {year} gives {int(capped.sum())} demand points more residents "
            "aged 60+ than residents; they were capped at the projected total."
        )
        p60 = np.minimum(p60, pop)
    for w in warnings[new_from:]:  # said on the terminal too, not only in the report
        log.warning("%s", w)
    new_pts = pts.assign(pop=pop, pop_60plus=p60)
    before = pts.groupby("district", sort=False)[["pop", "pop_60plus"]].sum()
    after = new_pts.groupby("district", sort=False)[["pop", "pop_60plus"]].sum()
    summary = pd.DataFrame({
        "district": before.index.astype(str),
        "pop_before": before["pop"].to_numpy(),
        "pop_after": after["pop"].to_numpy(),
        "pop_60plus_before": before["pop_60plus"].to_numpy(),
        "pop_60plus_after": after["pop_60plus"].to_numpy(),
    })  # fmt: skip
    note = f"projection for {year}: residents aged 60+ x factor_60plus, all residents x factor_total per district"
    new = dataclasses.replace(
        demand,
        points=new_pts,
        warnings=tuple(warnings),
        assumptions=(*demand.assumptions, note),
    )
    return new, {"year": int(year), "note": note, "table": summary}
