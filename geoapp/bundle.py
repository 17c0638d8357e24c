"""Result bundles: one folder of files per analysis, written atomically.

:func:`write_bundle` (a layer's coverage: GeoJSON, CSV, GeoPackage, map, metadata),
:func:`write_siting_bundle` (new sites), :func:`write_supply_bundle` (capacity and
2SFCA) and :func:`save_region` (a region's layers in one GeoPackage, read back with
``RegionSpec(gpkg=...)``). A bundle is written into a temporary folder beside its
target and swapped in as a whole (:func:`geoapp.export.bundle_folder`): a failed run
leaves the previous bundle complete. Every file of a bundle carries the same ``run_id``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoapp import export, maps, qgis_project, workflow
from geoapp._atomic import MANIFEST, write_manifest
from geoapp.errors import OutputError, output_error
from geoapp.paths import scrub_paths
from geoapp.region import Region

log = logging.getLogger(__name__)


def _public_meta(value: Any) -> Any:
    """Return metadata without the machine's folders (:func:`geoapp.paths.scrub_paths`)."""
    return scrub_paths(value)


def write_bundle(
    analysis: workflow.LayerAnalysis,
    region: Region,
    out_dir: str | os.PathLike[str],
    *,
    html_map: bool = True,
    gpkg: bool = True,
    zones_table: pd.DataFrame | None = None,
    run_id: str | None = None,
    strip_paths: bool = False,
    parquet: bool = False,
    lang: str = "en",
) -> dict[str, Path]:
    """Write one layer's results as a bundle of files for QGIS and reports.

    Writes ``facilities.geojson``, ``demand.geojson``, ``catchments.geojson``,
    ``gaps.geojson``, ``summary.csv``, ``metadata.json`` and, optionally,
    ``map.html`` (a standalone offline map), ``bundle.gpkg`` (all layers in one file,
    styled for QGIS, with the project ``bundle.qgz`` beside it) and ``zones.csv``.

    The bundle is atomic as a whole: it is written into a temporary folder beside
    ``out_dir`` and swapped in at the end, so an
    interrupted or failed run leaves the previous bundle complete
    (:func:`geoapp.export.bundle_folder`). Every file carries
    the same ``run_id`` (``metadata.json``, each GeoJSON's top-level ``geoapp`` member,
    the GeoPackage's ``geoapp_metadata`` table). ``out_dir`` must be new, empty or a
    geoapp bundle holding only its own files (:func:`geoapp.export.check_bundle_target`).

    Parameters
    ----------
    run_id
        Identifier of this run; default a new one (:func:`geoapp.export.new_run_id`).
    strip_paths
        Kept for callers of earlier versions: file paths in the metadata (layer file,
        profile file, extract, warnings) are always written without the machine's
        folders (:func:`geoapp.paths.public_path`).
    parquet
        Also write ``facilities``, ``demand``, ``catchments``, ``gaps`` and ``hexes``
        as GeoParquet (``*.parquet``, full detail). ``catchments.geojson`` is
        simplified (5 m; as a coverage up to 500,000 vertices) when the catchments
        hold over 200,000 vertices; the
        GeoPackage and GeoParquet keep every vertex.
    lang
        Language (``"en"``, ``"zh"``) of the GeoPackage's QGIS styles (field aliases,
        class labels, layer descriptions) and of ``bundle.qgz``, the QGIS project
        written beside ``bundle.gpkg`` (its layers by relative path, styled, and a print
        layout: :func:`geoapp.qgis_project.write_project`).

    Returns
    -------
    dict
        File kind (``facilities``, ``summary``, ``metadata`` ...) -> final path.

    Raises
    ------
    OutputError
        ``out_dir`` may not be replaced, or writing failed (full disk, read-only
        folder); the previous bundle is unchanged.
    """
    out = Path(out_dir)
    export.check_bundle_target(out)
    run_id = run_id or export.new_run_id()
    # no folder of this machine in any output (layer file, profile, extract, warnings)
    meta = _public_meta({**analysis.meta, "run_id": run_id})
    demand_cols = [
        c
        for c in (
            "demand_id",
            "building_id",
            "dist_m",
            "walk_min",
            "facility_id",
            "pop",
            "pop_60plus",
            "floor_area_m2",
            "zone_type",
            "zone_fine",
            "settlement",
            "pop_source",
            "district",
            "district_code",
            "h3",
            "access_mode",
            "layer",
            "dq_class",
        )
        if c in analysis.access.columns
    ]
    demand = analysis.access[[*demand_cols, "geometry"]]
    catch = analysis.catchments
    if catch is None:
        catch = gpd.GeoDataFrame(
            {
                "facility_id": [],
                "layer": [],
                "radius_m": [],
                "pop_served": [],
                "pop_60plus_served": [],
            },
            geometry=[],
            crs="EPSG:4326",
        )
    frames = {
        "facilities": analysis.facilities,
        "demand": demand,
        "catchments": catch,
        "gaps": analysis.gaps,
    }
    kept = (
        f"The previous bundle in {out} is unchanged."
        if export.read_bundle_metadata(out) is not None
        else "Nothing was written."
    )
    names: dict[str, str] = {}
    from concurrent.futures import ThreadPoolExecutor

    try:
        # the GeoPackage is written in a second thread while the GeoJSON files are
        # built here (GDAL writes without the GIL); the pool is joined before the
        # bundle folder is swapped in or discarded
        with (
            export.bundle_folder(out, run_id) as tmp,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="geoapp-gpkg") as pool,
        ):
            gpkg_job = (
                pool.submit(
                    export.write_gpkg,
                    {
                        **frames,
                        "boundaries": region.boundaries,
                        "hexes": analysis.hexes,
                        "summary": analysis.summary,
                    },
                    tmp / "bundle.gpkg",
                    meta=meta,
                    lang=lang,
                )
                if gpkg
                else None
            )
            for name, gdf in frames.items():
                if name == "catchments" and len(gdf):
                    gdf = export.simplified_for_web(
                        gdf, 5.0, max_vertices=200_000, coverage_by="radius_m"
                    )
                names[name] = export.write_geojson(gdf, tmp / f"{name}.geojson", meta=meta).name
            if parquet:
                for name, gdf in {**frames, "hexes": analysis.hexes}.items():
                    if gdf is not None:
                        path = tmp / f"{name}.parquet"
                        names[f"{name}_parquet"] = export.write_parquet(gdf, path).name
            names["summary"] = export.write_csv(
                export.csv_ready(analysis.summary), tmp / "summary.csv"
            ).name
            if zones_table is not None:
                names["zones"] = export.write_csv(
                    export.csv_ready(zones_table), tmp / "zones.csv"
                ).name
            # the map is drawn while the GeoPackage is still being written (GEOS and
            # GDAL both work without the GIL)
            map_name = (
                maps.save_html(workflow.coverage_map(region, analysis), tmp / "map.html").name
                if html_map
                else None
            )
            if gpkg_job is not None:
                names["gpkg"] = gpkg_job.result().name
                names["qgis"] = qgis_project.write_project(
                    tmp / names["gpkg"], tmp / qgis_project.PROJECT_FILE, meta, lang
                ).name
            if map_name is not None:
                names["map"] = map_name
            names["metadata"] = export.write_json(
                {**meta, "files": sorted([*names.values(), export.BUNDLE_METADATA, MANIFEST])},
                tmp / export.BUNDLE_METADATA,
            ).name
            names["manifest"] = write_manifest(tmp, command="coverage", run_id=run_id).name
    except OutputError as exc:
        raise OutputError(f"{exc} {kept}") from None
    except OSError as exc:
        # Name the bundle folder, not the temporary file the error happened in.
        raise output_error(OSError(exc.errno, exc.strerror), out, kept) from None
    log.info("wrote bundle %s (run %s): %s", out, run_id, ", ".join(sorted(names.values())))
    return {kind: out / name for kind, name in names.items()}


def write_siting_bundle(
    result: Any,
    region: Region,
    out_dir: str | os.PathLike[str],
    *,
    run_id: str | None = None,
) -> dict[str, Path]:
    """Write a :class:`geoapp.siting.SitingResult` as one atomic bundle folder.

    ``sites.geojson``, ``candidates.geojson``, ``summary_before.csv``,
    ``summary_after.csv`` and ``metadata.json`` (region provenance, the siting
    parameters, objective, bound, gap, solver and seconds, ``run_id``, ``files``), with
    the same guarantees as :func:`write_bundle` (the previous bundle stays complete if
    the run fails; ``out_dir`` must be new, empty or a geoapp bundle).
    """
    out = Path(out_dir)
    export.check_bundle_target(out)
    run_id = run_id or export.new_run_id()
    meta = {
        **workflow.region_meta(region),
        "command": "site",
        **result.meta,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "solver": result.solver,
        "seconds": round(result.seconds, 3),
        "run_id": run_id,
        "versions": workflow.versions(),
    }
    kept = (
        f"The previous bundle in {out} is unchanged."
        if export.read_bundle_metadata(out) is not None
        else "Nothing was written."
    )
    return _write_small_bundle(
        out,
        run_id,
        meta,
        kept,
        geojson={"sites": result.sites, "candidates": result.candidates},
        csv={name: getattr(result, name) for name in ("summary_before", "summary_after")},
        what="siting",
    )


def _write_small_bundle(
    out: Path,
    run_id: str,
    meta: Mapping[str, Any],
    kept: str,
    *,
    geojson: Mapping[str, gpd.GeoDataFrame],
    csv: Mapping[str, pd.DataFrame],
    what: str,
) -> dict[str, Path]:
    """Write GeoJSON layers, CSV tables and metadata.json as one bundle, swapped in whole."""
    meta = _public_meta(meta)  # no folder of this machine in any output
    names: dict[str, str] = {}
    try:
        with export.bundle_folder(out, run_id) as tmp:
            for name, table in csv.items():
                names[name] = export.write_csv(table, tmp / f"{name}.csv").name
            for name, gdf in geojson.items():
                names[name] = export.write_geojson(gdf, tmp / f"{name}.geojson", meta=meta).name
            names["metadata"] = export.write_json(
                {**meta, "files": sorted([*names.values(), export.BUNDLE_METADATA, MANIFEST])},
                tmp / export.BUNDLE_METADATA,
            ).name
            names["manifest"] = write_manifest(tmp, command=what, run_id=run_id).name
    except OutputError as exc:
        raise OutputError(f"{exc} {kept}") from None
    except OSError as exc:
        raise output_error(OSError(exc.errno, exc.strerror), out, kept) from None
    log.info("wrote %s bundle %s (run %s)", what, out, run_id)
    return {kind: out / name for kind, name in names.items()}


def write_supply_bundle(
    result: workflow.SupplyAnalysis,
    out_dir: str | os.PathLike[str],
    *,
    run_id: str | None = None,
) -> dict[str, Path]:
    """Write a :class:`geoapp.workflow.SupplyAnalysis` as one atomic bundle folder.

    ``supply.csv`` (the supply table), ``demand.geojson`` (each demand point's
    ``sfca`` and ``sfca_per_1000``), ``facilities.geojson`` (``capacity``,
    ``capacity_source``, ``demand_in_reach``, ``serves_demand``, ``supply_ratio``)
    and ``metadata.json`` (the analysis's metadata, ``run_id``, ``command``,
    ``supply`` and every warning, ``files``), with the same guarantees as
    :func:`write_bundle`.

    Returns
    -------
    dict
        File kind (``supply``, ``demand``, ``facilities``, ``metadata``) -> final path.
    """
    out = Path(out_dir)
    export.check_bundle_target(out)
    run_id = run_id or export.new_run_id()
    res = result.supply
    fac = res.facilities
    meta = {**result.analysis.meta, "run_id": run_id, **result.meta}
    dcols = [
        c
        for c in (
            "demand_id",
            "building_id",
            "pop",
            "pop_60plus",
            "district",
            "district_code",
            "zone_type",
            "settlement",
            "h3",
            "sfca",
            "sfca_per_1000",
        )
        if c in res.demand.columns
    ]
    fcols = [
        c
        for c in (
            "facility_id",
            "name",
            "layer",
            "kind",
            "capacity",
            "capacity_source",
            "capacity_raw",
            "demand_in_reach",
            "serves_demand",
            "supply_ratio",
        )
        if c in fac.columns
    ]
    kept = (
        f"The previous bundle in {out} is unchanged."
        if export.read_bundle_metadata(out) is not None
        else "Nothing was written."
    )
    return _write_small_bundle(
        out,
        run_id,
        meta,
        kept,
        geojson={
            "demand": res.demand[[*dcols, "geometry"]],
            "facilities": fac[[*fcols, "geometry"]],
        },
        csv={"supply": res.table},
        what="supply",
    )


def save_region(region: Region, path: str | os.PathLike[str]) -> Path:
    """Save a region's layers into one GeoPackage (read back with ``gpkg=``)."""
    layers: dict[str, Any] = dict(region.layers())
    if region.census is not None:
        layers["census"] = region.census
    meta = {
        **workflow.region_meta(region),
        "name": region.name,
        **{k: v for k, v in region.meta.items() if k != "name"},
    }
    try:
        return export.write_gpkg(layers, path, meta=meta)
    except OutputError:
        raise
    except OSError as exc:
        raise output_error(exc, path, "Nothing was replaced.") from None


__all__ = ["save_region", "write_bundle", "write_siting_bundle", "write_supply_bundle"]
