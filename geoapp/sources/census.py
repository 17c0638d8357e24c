"""District census tables: a user's census CSV and the shipped Beijing 2020 census.

:func:`read_census` reads and checks a district population table (CSV or
tab-separated, headers in English or Chinese); :func:`beijing_census` returns the
Seventh National Population Census of China (2020) by Beijing district. Both give the
columns of :data:`CENSUS_COLUMNS`. District names and codes are compared after
:func:`normalize_district_name` and :func:`normalize_code`, which
:mod:`geoapp.zones` uses too.
"""

from __future__ import annotations

import csv
import importlib.resources
import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoapp._validate import Problems, closest
from geoapp.errors import InputError

log = logging.getLogger(__name__)

__all__ = [
    "BEIJING_CENSUS_SOURCE",
    "CENSUS_COLUMNS",
    "beijing_census",
    "normalize_code",
    "normalize_district_name",
    "read_census",
]

#: Folder of the shipped census tables (package data).
CENSUS_DIR = Path(str(importlib.resources.files("geoapp").joinpath("data"))) / "census"

#: Columns of a census table, in order (:func:`read_census`, :func:`beijing_census`).
CENSUS_COLUMNS = (
    "district_code",
    "district",
    "pop",
    "pop_60plus",
    "pop_65plus",
    "pop_80plus",
    "pop_urban",
    "pop_rural",
)
_CENSUS_COUNTS = CENSUS_COLUMNS[2:]

#: The census shipped as :func:`beijing_census`.
BEIJING_CENSUS_SOURCE = "Seventh National Population Census of China, 2020 (Beijing)"

_SUFFIX_RE = re.compile(r"(区|县|市|\s*district|\s*county)$", re.IGNORECASE)


# ---------------------------------------------------------------------------- names


def normalize_district_name(name: object) -> str:
    """Return a district name reduced for matching.

    Case, surrounding white space and one trailing administrative suffix (``区``,
    ``县``, ``市``, ``District``, ``County``) are ignored, so ``"东城区"``, ``"东城"``,
    ``"Dongcheng District"`` and ``"dongcheng"`` compare as expected.

    Parameters
    ----------
    name
        A district name (anything else, such as None or NaN, gives ``""``).

    Returns
    -------
    str
    """
    if name is None or (isinstance(name, float) and np.isnan(name)) or name is pd.NA:
        return ""
    s = str(name).strip().casefold()
    stripped = _SUFFIX_RE.sub("", s).strip()
    s = stripped or s
    return re.sub(r"[\s_\-]+", "", s)


def normalize_code(code: object) -> str:
    """Return an administrative code as a clean string (``110101.0`` -> ``"110101"``)."""
    if code is None or code is pd.NA or (isinstance(code, float) and np.isnan(code)):
        return ""
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    s = str(code).strip()
    if re.fullmatch(r"\d+\.0+", s):
        s = s.split(".")[0]
    return s


# ---------------------------------------------------------------------------- census

_HEADER_ALIASES = {
    "district_code": (
        "district_code",
        "code",
        "adcode",
        "districtcode",
        "区划代码",
        "行政区划代码",
        "代码",
        "编码",
    ),
    "district": (
        "district",
        "name",
        "district_name",
        "districtname",
        "区",
        "区县",
        "地区",
        "区域",
        "名称",
        "地区名称",
        "行政区",
        "行政区划",
        "区名",
    ),
    "pop": (
        "pop",
        "population",
        "total",
        "pop_total",
        "residents",
        "人口",
        "常住人口",
        "总人口",
        "人口数",
        "合计",
    ),
    "pop_60plus": (
        "pop_60plus",
        "pop60",
        "pop_60",
        "60+",
        "age60+",
        "age_60plus",
        "aged60+",
        "pop60plus",
        "60岁及以上",
        "60岁以上",
        "60岁及以上人口",
        "60岁以上人口",
    ),
    "pop_65plus": (
        "pop_65plus",
        "pop65",
        "pop_65",
        "65+",
        "age65+",
        "age_65plus",
        "pop65plus",
        "65岁及以上",
        "65岁以上",
        "65岁及以上人口",
    ),
    "pop_80plus": (
        "pop_80plus",
        "pop80",
        "pop_80",
        "80+",
        "age80+",
        "age_80plus",
        "pop80plus",
        "80岁及以上",
        "80岁以上",
        "80岁及以上人口",
    ),
    "pop_urban": ("pop_urban", "urban", "urban_pop", "城镇人口", "城镇", "城镇常住人口"),
    "pop_rural": ("pop_rural", "rural", "rural_pop", "乡村人口", "乡村", "农村人口"),
}


def _header_key(h: str) -> str:
    return re.sub(r"[\s_\-（）()]+", "", h.strip().lstrip("\ufeff").casefold())


_HEADER_LOOKUP = {_header_key(a): col for col, aliases in _HEADER_ALIASES.items() for a in aliases}


def _parse_count(text: str) -> float | None:
    s = text.strip().replace(",", "").replace("，", "").replace(" ", "").replace("_", "")
    if not s:
        return None
    return float(s)  # ValueError on rubbish


def _census_columns(header: list[str], header_line: int, source: str) -> dict[int, str]:
    """Return the census column of each recognised header position; raise if one lacks."""
    problems = Problems(source).within(f"line {header_line}")
    cols: dict[int, str] = {}
    for j, h in enumerate(header):
        col = _HEADER_LOOKUP.get(_header_key(h))
        if col is None:
            log.info("%s: ignoring census column %r", source, h)
        elif col in cols.values():
            problems.note(f"column {h!r} repeats {col!r}")
        else:
            cols[j] = col
    present = set(cols.values())
    if "pop" not in present:
        problems.note(
            "no population column; name one 'pop' (or 'population', '常住人口')"
            f"{_near_column(header, _HEADER_ALIASES['pop'])}"
        )
    if not present & {"district", "district_code"}:
        problems.note(
            "no district column; name one 'district' (or 'district_code', '区县', '区划代码')"
            f"{_near_column(header, (*_HEADER_ALIASES['district'], *_HEADER_ALIASES['district_code']))}"
        )
    problems.raise_if_any(f"Census file {source} cannot be read:")
    return cols


def _near_column(header: list[str], aliases: tuple[str, ...]) -> str:
    """Return ``" (column 'populaton': did you mean 'population'?)"`` for a near miss."""
    for h in header:
        key = _header_key(h)
        match = None if key in _HEADER_LOOKUP else closest(key, aliases)
        if match is not None:
            return f" (column {h!r}: did you mean {match!r}?)"
    return ""


def _count(value: str, label: str, problems: Problems) -> float | None:
    """Return the count in a cell (NaN when empty), or None after naming the problem."""
    try:
        num = _parse_count(value)
    except ValueError:
        problems.note(f"column {label!r}: {value!r} is not a number")
        return None
    if num is not None and (num < 0 or not np.isfinite(num)):
        problems.note(f"column {label!r}: {value!r} must be ≥ 0")
        return None
    return np.nan if num is None else num


def _row_problem(row: dict[str, Any]) -> str | None:
    if not row.get("district") and not row.get("district_code"):
        return "no district name or code"
    if np.isnan(row.get("pop", np.nan)):
        return "population is empty"
    p60 = row.get("pop_60plus", np.nan)
    if not np.isnan(p60) and p60 > row["pop"]:
        return f"population aged 60+ ({p60:g}) exceeds the total ({row['pop']:g})"
    return None


def _census_row(
    values: list[str], header: list[str], cols: dict[int, str], problems: Problems
) -> dict[str, Any] | None:
    """Return one line's values by census column, or None after naming its problems."""
    if len(values) > len(header):
        problems.note(f"{len(values)} fields but the header has {len(header)}")
        return None
    values = values + [""] * (len(header) - len(values))
    row: dict[str, Any] = {}
    bad = False
    for j, col in cols.items():
        if col == "district":
            row[col] = values[j].strip()
        elif col == "district_code":
            row[col] = normalize_code(values[j])
        else:
            row[col] = _count(values[j], header[j], problems)
            bad = bad or row[col] is None
    problem = None if bad else _row_problem(row)
    if problem is not None:
        problems.note(problem)
    return None if bad or problem is not None else row


def _name_repeats(df: pd.DataFrame, problems: Problems) -> None:
    for col in ("district", "district_code"):
        if col in df.columns:
            keys = df[col].map(normalize_district_name if col == "district" else normalize_code)
            dup = keys[(keys != "") & keys.duplicated(keep=False)]
            for key in dict.fromkeys(dup):
                lines_ = ", ".join(str(x) for x in df.loc[keys == key, "_line"])
                problems.note(f"lines {lines_}: district {key!r} appears more than once")


def _census_frame(text: str, source: str) -> pd.DataFrame:
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines())]
    body = [(n, ln) for n, ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not body:
        raise InputError(
            f"{source}: the census file is empty; it needs a header and one row per district"
        )
    dialect = csv.excel_tab if body[0][1].count("\t") > body[0][1].count(",") else csv.excel
    header_line, header_text = body[0]
    header = next(csv.reader([header_text], dialect))
    cols = _census_columns(header, header_line, source)
    problems = Problems(source)
    rows: list[dict[str, Any]] = []
    for n, ln in body[1:]:
        values = next(csv.reader([ln], dialect))
        row = _census_row(values, header, cols, problems.within(f"line {n}"))
        if row is not None:
            rows.append({**row, "_line": n})
    df = pd.DataFrame(rows)
    if not len(df) and not problems:
        problems.note("no data rows after the header")
    _name_repeats(df, problems)
    problems.raise_if_any(f"Census file {source} has problems:")
    return _finish_census(df.drop(columns="_line"))


def _finish_census(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=range(len(df)))
    out["district_code"] = (
        df["district_code"].map(normalize_code).astype(object) if "district_code" in df else ""
    )
    out["district"] = df["district"].astype(object) if "district" in df else out["district_code"]
    for col in _CENSUS_COUNTS:
        s = (
            pd.to_numeric(df[col], errors="coerce")
            if col in df
            else pd.Series(np.nan, index=out.index)
        )
        s = s.reset_index(drop=True)
        out[col] = s.round().astype("int64") if s.notna().all() else s.astype(float)
    return out


def read_census(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a district census table (CSV or tab-separated) given by the user.

    Header names are matched flexibly, in English or Chinese (``district``/``区县``,
    ``district_code``/``区划代码``, ``pop``/``population``/``常住人口``,
    ``pop_60plus``/``60+``/``60岁及以上`` ...); other columns are ignored. Lines
    starting with ``#`` are comments. Numbers may carry thousands separators. UTF-8
    (with or without BOM) and GB18030/GBK files are read.

    Parameters
    ----------
    path
        CSV path.

    Returns
    -------
    pandas.DataFrame
        Columns ``district_code`` (str, may be ""), ``district`` (str), ``pop`` (int) and
        ``pop_60plus``, ``pop_65plus``, ``pop_80plus``, ``pop_urban``, ``pop_rural``
        (int, or float with NaN where the file does not give them).

    Raises
    ------
    InputError
        Naming the file and every bad line (non-numbers, negative counts, 60+ above
        the total, repeated or unnamed districts) or missing column.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: census file not found") from None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost anything
        raise InputError(f"{path}: cannot decode the census file; save it as UTF-8")
    return _census_frame(text, str(path))


def beijing_census() -> pd.DataFrame:
    """Return Beijing's 2020 census population by district (16 rows).

    Source: Seventh National Population Census of China, 2020 (第七次全国人口普查),
    Beijing Municipal Bureau of Statistics; see ``geoapp/data/census/SOURCE.md``.
    Totals: 21,893,095 residents, 4,298,590 aged 60+.

    Returns
    -------
    pandas.DataFrame
        Columns ``district_code``, ``district``, ``pop``, ``pop_60plus``,
        ``pop_65plus``, ``pop_80plus``, ``pop_urban``, ``pop_rural``
        (:data:`BEIJING_CENSUS_SOURCE` names the census).
    """
    path = CENSUS_DIR / "beijing_2020.csv"
    return _census_frame(path.read_text(encoding="utf-8"), str(path))
