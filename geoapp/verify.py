"""``geoapp verify DIR``: re-run a report's recorded inputs and compare every indicator.

A report folder (:func:`geoapp.assess.report`) records in ``report.json`` the
SHA-256 of every input file and every parameter. :func:`verify`

1. recomputes each input's SHA-256 and lists every file that changed or is missing;
2. re-runs :func:`geoapp.assess.assess` with the recorded region recipe
   (:func:`geoapp.assess.recorded_spec`: ``params.region``, or ``region_args`` in
   older reports) and parameters;
3. compares every indicator the folder holds with the re-run: each bundle's
   ``summary.csv`` and ``zones.csv`` (rows matched by their keys), ``compliance.csv``,
   and each bundle's facility count, cell by cell (numbers within ``rtol``, text equal).

The result lists every difference as a sentence naming the file, the row and the
column; ``ok`` is True only when there is none.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geoapp import assess, export
from geoapp import reporting as _report
from geoapp.errors import InputError

log = logging.getLogger(__name__)

#: Columns that identify a row in each table (the rest are compared).
KEYS = {
    "summary.csv": ["layer", "level", "group"],
    "zones.csv": ["grouping", "layer", "zone_type", "settlement"],
    "compliance.csv": ["rule", "level", "group"],
}
#: Report tables that describe the run rather than its result, never compared.
SKIP_COLUMNS = {"note", "source", "clause", "status_reason"}  # the reason: words of ``status``


@dataclass
class VerifyResult:
    """What :func:`verify` found."""

    folder: str
    differences: list[str] = field(default_factory=list)
    checked: int = 0
    inputs_checked: int = 0

    @property
    def ok(self) -> bool:
        """True when every input and indicator matched."""
        return not self.differences

    def lines(self) -> list[str]:
        """Plain sentences for the terminal."""
        if self.ok:
            return [
                f"OK: {self.folder}: {self.inputs_checked} input files unchanged and "
                f"{self.checked:,} indicator values equal on re-run."
            ]
        return [
            f"FAILED: {self.folder}: {len(self.differences)} difference(s) "
            f"({self.checked:,} values compared):",
            *[f"  - {d}" for d in self.differences],
        ]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _roundtrip(df: pd.DataFrame) -> pd.DataFrame:
    """Return the table as read back from its CSV (the types the recorded file has)."""
    if hasattr(df, "geometry") and "geometry" in df.columns:
        df = pd.DataFrame(df.drop(columns="geometry"))
    return pd.read_csv(io.StringIO(df.to_csv(index=False)))


def compare_tables(
    recorded: pd.DataFrame,
    fresh: pd.DataFrame,
    keys: Sequence[str],
    name: str,
    *,
    rtol: float = 1e-9,
    atol: float = 1e-9,
) -> tuple[list[str], int]:
    """Differences between two tables (rows matched by ``keys``) and the cells compared."""
    diffs: list[str] = []
    keys = [k for k in keys if k in recorded.columns and k in fresh.columns]
    rec = recorded.copy()
    new = fresh.copy()
    for k in keys:
        rec[k] = rec[k].fillna("").astype(str)
        new[k] = new[k].fillna("").astype(str)
    cols = [c for c in rec.columns if c not in keys and c not in SKIP_COLUMNS]
    for c in sorted(set(new.columns) - set(rec.columns) - SKIP_COLUMNS):
        diffs.append(f"{name}: column {c!r} missing from the recorded table")
    for c in cols:
        if c not in new.columns:
            diffs.append(f"{name}: column {c!r} is not produced by the re-run")
    rec_i = rec.set_index(keys) if keys else rec
    new_i = new.set_index(keys) if keys else new
    for idx in rec_i.index.difference(new_i.index):
        diffs.append(f"{name}: row {idx!r} is not produced by the re-run")
    for idx in new_i.index.difference(rec_i.index):
        diffs.append(f"{name}: row {idx!r} of the re-run is missing from the recorded table")
    common = rec_i.index.intersection(new_i.index)
    n = 0
    for c in cols:
        if c not in new_i.columns:
            continue
        a = rec_i.loc[common, c]
        b = new_i.loc[common, c]
        an = pd.to_numeric(a, errors="coerce")
        bn = pd.to_numeric(b, errors="coerce")
        numeric = an.notna().sum() == a.notna().sum() and bn.notna().sum() == b.notna().sum()
        if numeric:
            x, y = an.to_numpy(float), bn.to_numpy(float)
            same = np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True) | (x == y)
        else:
            same = a.fillna("").astype(str).to_numpy() == b.fillna("").astype(str).to_numpy()
        n += len(common)
        for idx, av, bv in zip(common[~same], a[~same], b[~same], strict=True):
            diffs.append(f"{name}: row {idx!r} column {c!r}: recorded {av!r}, re-run {bv!r}")
    return diffs, n


def _folder(path: Path) -> tuple[Path, dict]:
    rec = _report.read_record(path)
    if rec is not None:
        return path, rec
    for parent in (path.parent, path.parent.parent):
        rec = _report.read_record(parent)
        if rec is not None:
            return parent, rec
    raise InputError(
        f"{path}: not a geoapp report folder (no {_report.REPORT_JSON}); verify checks "
        "folders written by 'geoapp report', which record their inputs and parameters"
    )


def verify(
    folder: str | os.PathLike[str],
    *,
    rtol: float = 1e-9,
    progress: Callable[[str, float], None] | None = None,
) -> VerifyResult:
    """Re-run a report folder's inputs and parameters and compare every indicator.

    Parameters
    ----------
    folder
        A folder written by ``geoapp report`` (or a bundle inside one).
    rtol
        Relative tolerance for numbers (absolute 1e-9 as well).

    Returns
    -------
    VerifyResult
    """
    root, rec = _folder(Path(folder))
    res = VerifyResult(str(root))
    for item in rec.get("inputs", []):
        p = Path(str(item.get("path", "")))
        if not item.get("sha256"):
            continue
        res.inputs_checked += 1
        if not p.is_file():
            res.differences.append(f"input {item.get('role')}: {p} is missing")
            continue
        now = _sha256(p)
        if now != item["sha256"]:
            res.differences.append(
                f"input {item.get('role')}: {p} changed: SHA-256 recorded {item['sha256'][:16]}…, "
                f"now {now[:16]}…"
            )
    params = rec.get("params", {})
    if progress:
        progress("Re-running the recorded analysis", 0.1)
    result = assess.assess(
        assess.recorded_spec(params),
        layers=params.get("layers"),
        standard=params.get("standard"),
        projection=params.get("projection"),
        year=params.get("year"),
        mode=params.get("mode", "network"),
        speed_kmh=params.get("speed_kmh"),
        progress=progress,
    )
    bundles = rec.get("bundles") or {}
    for lid in sorted(set(bundles) - set(result.analyses)):
        res.differences.append(f"layer {lid}: in the report but not produced by the re-run")
    for lid in sorted(set(result.analyses) - set(bundles)):
        res.differences.append(f"layer {lid}: produced by the re-run but not in the report")
    for lid, sub in bundles.items():
        if lid not in result.analyses:
            continue
        a = result.analyses[lid]
        bdir = root / sub
        meta = export.read_bundle_metadata(bdir)
        if meta is None:
            res.differences.append(f"{sub}: bundle missing or unreadable (metadata.json)")
            continue
        if meta.get("n_facilities") != len(a.facilities):
            res.differences.append(
                f"{sub}/metadata.json: n_facilities recorded {meta.get('n_facilities')}, "
                f"re-run {len(a.facilities)}"
            )
        res.checked += 1
        tables = {
            "summary.csv": a.summary,
            "zones.csv": result.zones[result.zones["layer"] == lid] if len(result.zones) else None,
        }
        for name, fresh in tables.items():
            path = bdir / name
            if fresh is None:
                continue
            if not path.is_file():
                res.differences.append(f"{sub}/{name}: missing")
                continue
            d, n = compare_tables(
                # the bundle's CSVs are rounded (export.csv_ready): round the re-run alike
                pd.read_csv(path, encoding="utf-8-sig"),
                _roundtrip(export.csv_safe(export.csv_ready(fresh))),
                KEYS[name],
                f"{sub}/{name}", rtol=rtol,
            )  # fmt: skip
            res.differences += d
            res.checked += n
    comp = root / "compliance.csv"
    if comp.is_file():
        d, n = compare_tables(
            pd.read_csv(comp), _roundtrip(export.csv_safe(result.compliance)),
            KEYS["compliance.csv"],
            "compliance.csv", rtol=rtol,
        )  # fmt: skip
        res.differences += d
        res.checked += n
    else:
        res.differences.append("compliance.csv: missing")
    if progress:
        progress("Verified" if res.ok else "Differences found", 1.0)
    return res
