"""The app's assessment report, built from the recipe of exactly the region loaded.

The Export page hands the loaded region's :class:`~geoapp.spec.RegionSpec` (preset,
uploaded files kept in the session's folder, boundaries, census, zones, facility
tables, the share aged 60+) with the Coverage page's distance mode and walking speed to
:func:`geoapp.assess.build_report`, the function behind ``geoapp report``: the same
recipe, hence the same figures as the command line. The report is written in a
folder of the session, read into memory and the folder removed at once, so a build
leaves nothing on disk; files are named without their server folders. Free of
Streamlit, so it can be tested directly.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from app_pages.session_files import SessionFolder, reserve
from geoapp.errors import GeoappError, InputError
from geoapp.spec import RegionSpec

#: The report's files handed to the page: the PDF, its editable Word twin, the HTML page.
REPORT_KINDS = ("pdf", "docx", "html")
#: Disk a report build may take while it runs (bundles, maps, the PDF), in bytes.
BUILD_BYTES = 60_000_000


def spec_folders(spec: RegionSpec) -> list[str]:
    """Return the folders of the files ``spec`` names (to be kept out of messages)."""
    values: list[str] = []
    for key in ("osm", "gpkg", "boundaries", "census", "zones", "population", "study_area"):
        value = getattr(spec, key)
        if value and ("/" in value or "\\" in value):
            values.append(value)
    values += [table.path for table in spec.facilities]
    return [str(Path(v).parent) for v in values]


def hide_folders(text: str, folders: Iterable[str]) -> str:
    """Return ``text`` without the ``folders`` (longest first): file names stay."""
    for folder in sorted({f for f in folders if f not in ("", ".", "/")}, key=len, reverse=True):
        text = text.replace(folder + "/", "").replace(folder, "")
    return text


def report_files(
    spec: RegionSpec,
    folder: SessionFolder,
    *,
    lang: str = "en",
    mode: str = "network",
    speed_kmh: float | None = None,
    layers: Iterable[str] | None = None,
    progress: Callable[[str, float], None] | None = None,
    fca_method: str = "2sfca",
) -> dict[str, bytes]:
    """Build the report of the region of recipe ``spec``; return ``{"pdf"|"docx"|"html": bytes}``.

    Parameters
    ----------
    spec
        The loaded region's recipe (:func:`app_pages.state.region_spec`).
    folder
        The session's folder: the build happens in a subfolder, removed on return.
    lang, mode, speed_kmh, layers
        As for :func:`geoapp.assess.build_report`.
    fca_method
        The floating catchment method of the capacity section, as ``geoapp report
        --fca-method`` (:func:`geoapp.reporting.options`).
    progress
        ``progress(message, fraction)``; messages name no server folder.

    Raises
    ------
    InputError
        The report could not be built (the reason, without server folders), or the
        session's disk allowance is used up.
    """
    from geoapp import assess, reporting

    reserve(folder, BUILD_BYTES, lang)
    work = folder.subfolder("report")
    hidden = [str(work), str(folder.path), *spec_folders(spec)]

    def said(message: str, fraction: float) -> None:
        if progress is not None:
            progress(hide_folders(str(message), hidden), fraction)

    try:
        with assess.names_only(), reporting.options(fca_method=fca_method):  # no server folder
            paths = assess.build_report(
                work / "report",
                spec,
                layers=layers,
                lang=lang,
                mode=mode,
                speed_kmh=speed_kmh,
                progress=said,
            )
        return {kind: paths[kind].read_bytes() for kind in REPORT_KINDS if kind in paths}
    except GeoappError as exc:
        raise InputError(hide_folders(str(exc), hidden)) from None
    except OSError as exc:  # a full or read-only disk
        raise InputError(
            hide_folders(f"The report could not be written ({exc.strerror or exc}).", hidden)
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
