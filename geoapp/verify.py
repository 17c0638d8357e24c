"""``geoapp verify DIR``: re-run a report's recorded inputs and compare every indicator.

A report folder (:func:`geoapp.assess.report`) records in ``report.json`` the
SHA-256 of every input file and every parameter, and in ``manifest.json`` the size and
SHA-256 of every file it holds (``report.html``, ``report.pdf``, ``compliance.csv``,
``report.json`` and every bundle file). :func:`verify`

0. checks the folder against its ``manifest.json`` (:func:`geoapp._atomic.check_manifest`):
   an edited ``report.html``, a swapped ``report.pdf``, a changed GeoJSON, a missing or
   an added file is a difference naming the file;
1. recomputes each input's SHA-256 and lists every file that changed or is missing;
2. re-runs :func:`geoapp.assess.assess` with the recorded region recipe
   (:func:`geoapp.assess.recorded_spec`: ``params.region``, or ``region_args`` in
   older reports) and parameters;
3. compares every indicator the folder holds with the re-run: each bundle's
   ``summary.csv`` and ``zones.csv`` (rows matched by their keys), ``compliance.csv``,
   and each bundle's facility count, cell by cell (numbers within ``rtol``, text equal).

The result lists every difference as a sentence naming the file, the row and the
column; ``ok`` is True only when there is none. A ``report.json`` that is not valid
JSON, whose fields have the wrong type, or whose ``bundles`` paths leave the folder
(absolute or with ``..``) is an :class:`~geoapp.errors.InputError` (exit code 2).
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geoapp import assess, export
from geoapp import reporting as _report
from geoapp._atomic import MANIFEST, check_manifest, confined, read_manifest, sha256_file
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
    files_checked: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every input and indicator matched."""
        return not self.differences

    def lines(self) -> list[str]:
        """Plain sentences for the terminal."""
        if self.ok:
            return [
                f"OK: {self.folder}: {self.files_checked} files as written, "
                f"{self.inputs_checked} input files unchanged and "
                f"{self.checked:,} indicator values equal on re-run.",
                *[f"  note: {n}" for n in self.notes],
            ]
        return [
            f"FAILED: {self.folder}: {len(self.differences)} difference(s) "
            f"({self.checked:,} values compared):",
            *[f"  - {d}" for d in self.differences],
        ]


def _check_files(root: Path, rec: dict, res: VerifyResult) -> None:
    """Check the folder against its manifest (a report older than manifests: a note)."""
    files = rec.get("files") if isinstance(rec.get("files"), list) else []
    if not (root / MANIFEST).exists() and MANIFEST not in (files or []):
        # written before reports had a manifest: its files cannot be checked, only
        # its inputs and indicators (a report that lists one must have it)
        res.notes.append(
            f"{MANIFEST}: none (a report written by an older geoapp): the files of the "
            "folder were not checked, only its inputs and indicators; re-create it to "
            "have every file checked"
        )
    else:
        res.differences += check_manifest(root)
    manifest = read_manifest(root)
    res.files_checked = len(manifest["files"]) if manifest else 0


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


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: not valid JSON (not UTF-8 text); the report record is damaged: "
            "re-create the report (its command is in report.html)"
        ) from None
    except ValueError as exc:
        raise InputError(
            f"{path}: not valid JSON ({getattr(exc, 'msg', exc)} at line "
            f"{getattr(exc, 'lineno', '?')}); the report record is damaged: re-create the "
            "report (its command is in report.html)"
        ) from None


def _folder(path: Path) -> tuple[Path, dict]:
    """Return the report folder holding ``path`` (itself or a bundle inside) and its record."""
    if not path.is_dir():
        raise InputError(
            f"{path}: no such folder; give a folder written by 'geoapp report', "
            "e.g. geoapp verify out/report/"
        )
    for folder in (path, path.parent, path.parent.parent):
        rj = folder / _report.REPORT_JSON
        if not rj.is_file():
            continue
        rec = _read_json(rj)
        if not isinstance(rec, dict) or not rec.get("geoapp_report"):
            raise InputError(
                f"{rj}: not a geoapp report record (a JSON object with 'geoapp_report'); "
                "give a folder written by 'geoapp report'"
            )
        return folder, rec
    raise InputError(
        f"{path}: not a geoapp report folder (no {_report.REPORT_JSON}); verify checks "
        "folders written by 'geoapp report', which record their inputs and parameters"
    )


def _field_error(rj: Path, name: str, value: object, want: str) -> InputError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return InputError(
        f"{rj}: {name} is {shown}, not {want}; the record was edited or damaged: "
        "re-create the report (its command is in report.html)"
    )


def _checked_record(root: Path, rec: dict) -> tuple[dict, list[dict], dict[str, Path]]:
    """Return the record's params, inputs and bundle folders, each checked for its type.

    Raises
    ------
    InputError
        A field of the wrong type (``layers`` as text, ``inputs`` as an object ...), or
        a bundle path leaving the report folder (absolute, with ``..``, or a link out).
    """
    rj = root / _report.REPORT_JSON
    params = rec.get("params") or {}
    if not isinstance(params, dict):
        raise _field_error(rj, "'params'", params, "an object")
    layers = params.get("layers")
    if layers is not None and not (
        isinstance(layers, list) and all(isinstance(x, str) for x in layers)
    ):
        raise _field_error(rj, "params.layers", layers, "a list of layer ids (or null)")
    for key in ("standard", "projection", "mode", "compare"):
        v = params.get(key)
        if v is not None and not isinstance(v, str):
            raise _field_error(rj, f"params.{key}", v, "text (or null)")
    for key in ("year", "speed_kmh"):
        v = params.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise _field_error(rj, f"params.{key}", v, "a number (or null)")
    region = params.get("region")
    if region is not None and not isinstance(region, dict | str):
        raise _field_error(rj, "params.region", region, "a region recipe (an object)")
    inputs = rec.get("inputs") or []
    if not isinstance(inputs, list) or not all(
        isinstance(i, dict)
        and isinstance(i.get("path", ""), str)
        and isinstance(i.get("sha256", ""), str)
        for i in inputs
    ):
        raise _field_error(
            rj, "'inputs'", inputs, "a list of {role, path, sha256} objects (one per input file)"
        )
    bundles = rec.get("bundles") or {}
    if not isinstance(bundles, dict):
        raise _field_error(rj, "'bundles'", bundles, "an object {layer: folder}")
    inside = root.resolve()
    folders: dict[str, Path] = {}
    for lid, sub in bundles.items():
        where = root / str(sub)
        if not confined(sub) or not (
            where.resolve() == inside or inside in where.resolve().parents
        ):
            raise InputError(
                f"{rj}: bundles.{lid} is {sub!r}, a path leaving the report folder (absolute, "
                "with '..' or a link out of it); refused: verify reads only files inside the "
                "report folder. Re-create the report (its command is in report.html)"
            )
        folders[str(lid)] = where
    return params, inputs, folders


def check_rtol(rtol: float) -> float:
    """Return ``rtol`` when it is a usable relative tolerance, else raise :class:`InputError`."""
    try:
        value = float(rtol)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or not 0 <= value < 1:
        raise InputError(
            f"--rtol {rtol}: give a relative tolerance of at least 0 and below 1, e.g. "
            "--rtol 1e-6 (default 1e-9); a tolerance of 1 or more would pass any figure"
        )
    return value


def verify(
    folder: str | os.PathLike[str],
    *,
    rtol: float = 1e-9,
    progress: Callable[[str, float], None] | None = None,
) -> VerifyResult:
    """Check a report folder's files and re-run its inputs and parameters.

    Parameters
    ----------
    folder
        A folder written by ``geoapp report`` (or a bundle inside one).
    rtol
        Relative tolerance for numbers (absolute 1e-9 as well), from 0 to below 1.

    Returns
    -------
    VerifyResult

    Raises
    ------
    InputError
        ``folder`` is not a report folder, ``report.json`` is not valid JSON or has a
        field of the wrong type or a bundle path leaving the folder, or ``rtol`` is
        negative, not finite or 1 or more.
    """
    rtol = check_rtol(rtol)
    root, rec = _folder(Path(folder))
    params, inputs, bundle_dirs = _checked_record(root, rec)
    params = assess.resolve_params(params, root)  # recorded from the folder holding root
    res = VerifyResult(str(root))
    # 0. every file of the folder as written (report.html, report.pdf, bundles ...)
    _check_files(root, rec, res)
    for item in inputs:
        shown = str(item.get("path", ""))  # as recorded: no folder of this machine
        p = assess.resolve_recorded(shown, root)
        if not item.get("sha256"):
            continue
        res.inputs_checked += 1
        if not p.is_file():
            res.differences.append(f"input {item.get('role')}: {shown} is missing")
            continue
        now = sha256_file(p)
        if now != item["sha256"]:
            res.differences.append(
                f"input {item.get('role')}: {shown} changed: SHA-256 recorded "
                f"{item['sha256'][:16]}…, now {now[:16]}…"
            )
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
    for lid in sorted(set(bundle_dirs) - set(result.analyses)):
        res.differences.append(f"layer {lid}: in the report but not produced by the re-run")
    for lid in sorted(set(result.analyses) - set(bundle_dirs)):
        res.differences.append(f"layer {lid}: produced by the re-run but not in the report")
    for lid, bdir in bundle_dirs.items():
        if lid not in result.analyses:
            continue
        sub = bdir.relative_to(root).as_posix()
        a = result.analyses[lid]
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
