"""Upload handling for the app, free of Streamlit so it can be tested directly.

The sidebar hands uploaded files here as ``(filename, bytes)``; :func:`load_uploads`
checks sizes and extensions, writes the files to a private temporary folder, builds
the region from a :class:`~geoapp.spec.RegionSpec` of them
(:func:`geoapp.workflow.load_region`, on top of the region shown when no extract is
uploaded) and returns either the new region or a message. It never
raises for a bad file: the caller keeps the previous region.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from geoapp.errors import GeoappError, InputError
from geoapp.i18n import t
from geoapp.region import META_WARNINGS, Region
from geoapp.spec import RegionSpec

log = logging.getLogger(__name__)

#: Largest accepted file per kind, in MB (``server.maxUploadSize`` caps them all).
MAX_MB = {"osm": 200, "boundaries": 50, "facilities": 20, "census": 5, "zones": 1}

#: Accepted file name endings per kind.
EXTENSIONS = {
    "osm": (".osm.pbf", ".pbf", ".osm", ".osm.bz2"),
    "boundaries": (".geojson", ".json", ".gpkg", ".zip"),
    "facilities": (".csv", ".xlsx"),
    "census": (".csv",),
    "zones": (".toml",),
}

#: Coordinate systems a facility table can be in.
FACILITY_CRS = ("wgs84", "gcj02", "bd09")


@dataclass
class Upload:
    """One uploaded file: its name and content."""

    name: str
    data: bytes


@dataclass
class UploadOutcome:
    """Result of :func:`load_uploads`: a region, its key and recipe, or an error message."""

    region: Region | None
    key: str | None
    error: str | None
    #: The recipe of ``region`` (the report loads it again), None when unknown.
    spec: RegionSpec | None = None


def _safe_name(name: str) -> str:
    base = Path(str(name)).name or "upload"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in base)[:120]


def _hide_tmp(message: str, tmp: str) -> str:
    """Remove the private temporary folder from a message, keeping the file name."""
    if not tmp:
        return message
    for kind in EXTENSIONS:
        message = message.replace(f"{tmp}/{kind}/", "")
    return message.replace(tmp, "<upload>")


def check_upload(kind: str, upload: Upload, lang: str = "en") -> list[str]:
    """Return the problems of one upload (size, file type); empty when it is fine."""
    problems = []
    size_mb = len(upload.data) / 1e6
    limit = MAX_MB.get(kind, 10)
    if size_mb > limit:
        problems.append(
            t("upload_too_big", lang, file=upload.name, size_mb=size_mb, limit_mb=limit)
        )
    lower = upload.name.lower()
    if not lower.endswith(EXTENSIONS.get(kind, ())):
        problems.append(
            t(
                "upload_bad_ext",
                lang,
                file=upload.name,
                expected=", ".join(EXTENSIONS.get(kind, ())),
            )
        )
    if len(upload.data) == 0:
        problems.append(f"{upload.name}: the file is empty.")
    return problems


def keep_extract(name: str, data: bytes, folder: Path | None = None) -> tuple[Path, str]:
    """Write an uploaded OSM extract to a folder named by its content.

    The Beijing form reads the extract from a path; the same content is written once
    (a second upload of it reuses the file). The app passes the session's folder
    (:mod:`app_pages.session_files`), removed when the session ends.

    Parameters
    ----------
    name
        The uploaded file's name (reduced to safe characters; ``beijing.osm.pbf``
        when nothing is left).
    data
        The file's content.
    folder
        Where the extract's folder is made (default: the system's temporary folder).

    Returns
    -------
    tuple of (Path, str)
        The file's path and the first 16 hex digits of its SHA-256 (a cache key).
    """
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = Path(folder or tempfile.gettempdir()) / f"geoapp-beijing-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(name).name)
    path = folder / (safe or "beijing.osm.pbf")
    if not path.exists():
        path.write_bytes(data)
    return path, digest


def uploads_key(uploads: Mapping[str, Upload], options: Mapping[str, str]) -> str:
    """Return a stable key of the uploads' contents (for caches)."""
    h = hashlib.sha256()
    for kind in sorted(uploads):
        h.update(kind.encode())
        h.update(uploads[kind].name.encode())
        h.update(hashlib.sha256(uploads[kind].data).digest())
    for k in sorted(options):
        h.update(f"{k}={options[k]}".encode())
    return "upload:" + h.hexdigest()[:16]


def _hide_tmp_in_warnings(region: Region, tmp: str) -> Region:
    """Return ``region`` with the private temporary folder taken out of its warnings."""
    warnings = region.meta.get(META_WARNINGS)
    if not tmp or not warnings:
        return region
    hidden = [_hide_tmp(str(w), tmp) for w in warnings]
    return region.with_(meta={**region.meta, META_WARNINGS: hidden})


def check_districts(region: Region, uploads: Mapping[str, Upload], lang: str = "en") -> None:
    """Refuse, as the command line does, a census that does not match the districts.

    The command line stops when the demand is estimated; the app says so at upload
    time, in the reader's language, instead of accepting a region every page fails on.

    Raises
    ------
    InputError
        Census rows matching no district or districts without a census row.
    """
    if "census" not in uploads and "boundaries" not in uploads:
        return
    if region.census is None or len(region.boundaries) == 0:
        return
    from geoapp.demand.scaling import match_census

    _, problems = match_census(region.boundaries, region.census, strict=False)
    if problems:
        name = uploads["census"].name if "census" in uploads else uploads["boundaries"].name
        raise InputError(t("census_unmatched", lang, file=name), problems)


#: Leading sentences of the loader's English messages, said in Chinese before them.
_ZH_LEADS = (
    ("do not overlap", "区界与数据区域不重叠，请上传同一地区的区界或数据。"),
    ("census file not found", "找不到人口普查文件。"),
    ("cannot decode", "文件无法解码，请另存为 UTF-8。"),
)


def in_language(message: str, lang: str) -> str:
    """Return a loader message for the reader: a Chinese lead before known English ones."""
    if lang != "zh":
        return message
    for needle, lead in _ZH_LEADS:
        if needle in message:
            return f"{lead}\n\n{message}"
    return message


def load_uploads(
    uploads: Mapping[str, Upload],
    *,
    previous: Region | None,
    facility_crs: str = "wgs84",
    facility_layer: str = "elderly_care",
    lang: str = "en",
    catalog=None,
    progress=None,
    folder: Path | None = None,
    previous_spec: RegionSpec | None = None,
) -> UploadOutcome:
    """Build a region from uploaded files, or explain why not.

    Parameters
    ----------
    uploads
        Files by kind: ``osm``, ``boundaries``, ``facilities``, ``census``, ``zones``.
    previous
        The region loaded now. Without an OSM extract, the other files are applied
        on top of it (e.g. census figures for the demo's districts).
    facility_crs
        ``wgs84``, ``gcj02`` or ``bd09``: coordinates of the facility table.
    facility_layer
        Layer id the facility table's rows belong to.
    lang
        Language of the messages.
    catalog
        Layer catalog (default the shipped one).
    progress
        ``progress(message, fraction)`` while an extract is read (shown by the app).
    folder
        An empty folder the files are kept in for the region's lifetime (the report
        reads them again); None: a temporary folder removed once the region is read.
    previous_spec
        The recipe of ``previous``: the outcome's recipe is it with the files on top.

    Returns
    -------
    UploadOutcome
        ``region`` and ``key`` on success; ``error`` (a message naming the file and
        what to do) otherwise, in which case the caller keeps ``previous``.
    """
    uploads = {k: v for k, v in uploads.items() if v is not None}
    if not uploads:
        return UploadOutcome(None, None, t("upload_need_data", lang))
    problems: list[str] = []
    for kind, up in uploads.items():
        if kind not in EXTENSIONS:
            problems.append(f"{up.name}: unknown upload kind {kind!r}.")
            continue
        problems.extend(check_upload(kind, up, lang))
    if facility_crs not in FACILITY_CRS:
        problems.append(
            f"coordinate system {facility_crs!r}: choose one of {', '.join(FACILITY_CRS)}."
        )
    if "osm" not in uploads and previous is None:
        problems.append(t("upload_need_data", lang))
    if problems:
        return UploadOutcome(None, None, "\n".join(f"- {p}" for p in problems))

    options = {"facility_crs": facility_crs, "facility_layer": facility_layer}
    key = uploads_key(uploads, options)
    if "osm" not in uploads and previous is not None:
        key = f"{key}+{previous.source}"
    tmp = str(folder) if folder is not None else ""
    spec = None
    try:
        with contextlib.ExitStack() as stack:
            if folder is None:
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="geoapp-upload-"))
            paths = {}
            for kind, up in uploads.items():
                path = Path(tmp) / kind / _safe_name(up.name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(up.data)
                paths[kind] = path
            from geoapp import workflow

            # the same recipe and checks as the command line (boundaries overlapping the
            # data, the facility table's datum and rows off the region or the streets);
            # without an extract the files go on top of the region shown
            tables = [(p, facility_layer, facility_crs) for p in [paths.get("facilities")] if p]
            files = RegionSpec(
                osm=paths.get("osm"),
                boundaries=paths.get("boundaries"),
                census=paths.get("census"),
                zones=paths.get("zones"),
                facilities=tables,
            )
            base = None if "osm" in paths else previous
            region = workflow.load_region(
                files, base=base, catalog=catalog, progress=progress, prepare_graph=base is None
            )
            region = _hide_tmp_in_warnings(region, tmp)
            if base is not None:
                names = ", ".join(u.name for u in uploads.values())
                region = region.with_(source=f"{base.source}+upload:{names}")
            spec = files if base is None else _on_top(previous_spec, files, paths)
            check_districts(region, uploads, lang)
    except GeoappError as exc:
        log.info("upload rejected: %s", exc)
        return UploadOutcome(None, None, in_language(_hide_tmp(str(exc), tmp), lang))
    except (OSError, ValueError, KeyError) as exc:  # malformed files that slip past validation
        log.warning("upload failed", exc_info=True)
        err = InputError(f"The uploaded files could not be read ({type(exc).__name__}: {exc}).")
        return UploadOutcome(None, None, _hide_tmp(str(err), tmp))
    if folder is None:
        spec = None  # its files are gone
    return UploadOutcome(region, key, None, spec)


def _on_top(
    previous: RegionSpec | None, files: RegionSpec, paths: Mapping[str, Path]
) -> RegionSpec | None:
    """Return the recipe of ``files`` loaded on top of the region of recipe ``previous``.

    New boundaries replace the districts and their census (as :func:`load_region`
    does with a ``base``), new tables are added to the earlier ones.
    """
    if previous is None:
        return None
    changes: dict[str, object] = {}
    if "boundaries" in paths:
        changes.update(boundaries=files.boundaries, census=None)
    for key in ("census", "zones"):
        if key in paths:
            changes[key] = getattr(files, key)
    if files.facilities:
        changes["facilities"] = (*previous.facilities, *files.facilities)
    return previous.replace(**changes)
