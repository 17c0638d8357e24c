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
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoapp.demand import Demand
from geoapp.errors import InputError

#: The shipped example (an illustration, see ``geoapp/data/projections/SOURCE.md``).
EXAMPLE = Path(__file__).parent / "data" / "projections" / "beijing_2035_illustration.csv"
ALL_DISTRICTS = "*"


def read_projection(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check a projection table (``district``, ``year``, ``factor_60plus``[, ``factor_total``]).

    Raises
    ------
    InputError
        Naming the file, row and column of every problem.
    """
    path = Path(path)
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
    problems = []
    for i, row in df.iterrows():
        line = i + 2
        if not isinstance(row["district"], str) or not row["district"].strip():
            problems.append(f"{path}: row {line}: column 'district' is empty (use * for all)")
        try:
            y = float(row["year"])
            if not y.is_integer():
                raise ValueError
        except (TypeError, ValueError):
            problems.append(f"{path}: row {line}: column 'year' {row['year']!r} is not a year")
        for col in ("factor_60plus", "factor_total"):
            v = pd.to_numeric(pd.Series([row[col]]), errors="coerce").iloc[0]
            blank = col == "factor_total" and (
                row[col] is None or (isinstance(row[col], float) and math.isnan(row[col]))
            )
            if not blank and (not np.isfinite(v) or v < 0):
                problems.append(
                    f"{path}: row {line}: column '{col}' {row[col]!r} must be a number ≥ 0"
                )
    if problems:
        raise InputError(f"Projection table {path} has problems:", problems)
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
    if unmatched and default60 is None:
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
