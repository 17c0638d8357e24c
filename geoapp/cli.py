"""The ``geoapp`` command line.

Examples
--------
::

    geoapp layers
    geoapp fetch --region demo --out demo.gpkg
    geoapp fetch --osm helsinki.osm.pbf --out helsinki.gpkg
    geoapp export --gpkg demo.gpkg --format geojson --out demo_geojson/
    geoapp coverage --region demo --layer elderly_care --out out/elderly_care/
    geoapp compare --region demo --out out/compare/
    geoapp supply --region demo --layer elderly_care --out out/supply/
    geoapp batch cities.toml --out out/batch/ --workers 2
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from geoapp import catalog
from geoapp.cli_args import (
    DEFAULT_TIMEOUT_S,
    add_region_arguments,
    add_speed_argument,
    build_parser,
    load_catalog_from_args,
    region_spec_from_args,
    speed_value,
)
from geoapp.errors import GeoappError, OutputError
from geoapp.messages import group_warnings, warning_shape
from geoapp.paths import PACKAGE

if TYPE_CHECKING:
    import pandas as pd

    from geoapp.catalog import Layer
    from geoapp.region import Region
    from geoapp.sfca import Supply
    from geoapp.siting import SitingResult
    from geoapp.workflow import LayerAnalysis

err = Console(stderr=True, soft_wrap=True)
out = Console(width=None if sys.stdout.isatty() else 140)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[str, float], None] | None]:
    """Yield a ``progress(message, fraction)`` callback drawing a rich progress bar."""
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task("starting", total=1.0)

        def update(message: str, fraction: float) -> None:
            # Messages carry data (layer and place names): never read them as markup.
            bar.update(task, description=escape(message), completed=fraction)

        yield update


def region_from_args(
    args: argparse.Namespace,
    progress: Callable | None = None,
    layers: dict[str, catalog.Layer] | None = None,
) -> Region:
    """Load the region the arguments describe (``layers``: the catalog, if loaded already).

    The options become a :class:`~geoapp.spec.RegionSpec`
    (:func:`~geoapp.cli_args.region_spec_from_args`) loaded by
    :func:`geoapp.workflow.load_region`.
    """
    from geoapp import workflow  # heavy: imported when needed

    spec = region_spec_from_args(args)
    region = workflow.load_region(
        spec,
        catalog=layers if layers is not None else load_catalog_from_args(args),
        progress=progress,
        # commands that route on the network: the graph is built while a large
        # extract's second reader process finishes
        prepare_graph=getattr(args, "mode", None) == "network",
    )
    if region.synthetic:
        err.print(
            Text(f"Region: {region.label} — an invented city, not a real place", "bold yellow")
        )
    else:
        err.print(Text(f"Region: {region.label}"))
    return region


def _say(message: str, style: str = "") -> None:
    """Print a line of data (paths, names) to stdout literally, never as rich markup."""
    out.print(Text(message, style), highlight=False)


def _check_out_folder(path: str) -> Path:
    """Return ``--out`` as a folder path; raise when it is an existing file."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise OutputError(
            f"--out {target} is an existing file, not a folder; choose a folder path "
            "(it is created), e.g. --out out/"
        )
    return target


def _check_out_file(path: str) -> Path:
    """Return ``--out`` as a file path; raise when it is an existing folder."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(
            f"--out {target} is a folder; give the file to write, e.g. --out {target / 'region.gpkg'}"
        )
    return target


def _cmd_layers(args: argparse.Namespace) -> int:
    layers = load_catalog_from_args(args)
    table = Table(title="geoapp layer catalog")
    for col in ("id", "label (en)", "label (zh)", "serves", "reach", "target", "file"):
        table.add_column(col)
    for layer in layers.values():
        if layer.minute_based:
            reach = ", ".join(
                f"{m:g} min ({r:,.0f} m)" for m, r in zip(layer.minutes, layer.radii_m, strict=True)
            )
            reach += f" at {layer.walk_speed_kmh:g} km/h"
            target = f"{layer.target_min:g} min ({layer.target_m:,.0f} m)"
        else:
            reach = ", ".join(f"{r:,.0f} m" for r in layer.radii_m)
            target = f"{layer.target_m:,.0f} m"
        table.add_row(
            *(
                Text(cell)  # cells are data from layer files: never markup
                for cell in (
                    layer.id,
                    layer.name("en"),
                    layer.name("zh"),
                    "residents 60+" if layer.population == "age_60plus" else "all residents",
                    reach,
                    target,
                    Path(layer.source_file).name,
                )
            )
        )
    out.print(table)
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from geoapp import bundle  # heavy: imported when needed
    from geoapp.region import SYNTHETIC_LABEL

    target = _check_out_file(args.out)
    with progress_bar(not args.quiet) as progress:
        region = region_from_args(args, progress)
        path = bundle.save_region(region, target)
    _say(
        f"Wrote {path}: {len(region.boundaries)} districts, {len(region.features)} features, "
        f"{len(region.edges)} street edges, {len(region.buildings)} buildings"
        + (f" ({SYNTHETIC_LABEL})" if region.synthetic else "")
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from geoapp import bundle, export, workflow  # heavy: imported when needed
    from geoapp._atomic import check_output_folder, output_folder

    target = Path(args.out) if args.format == "gpkg" else _check_out_folder(args.out)
    if args.format != "gpkg":  # a folder of files, replaced whole: before the work
        check_output_folder(target, "export", "out/export/")
    with progress_bar(not args.quiet) as progress:
        region = region_from_args(args, progress)
        meta = workflow.region_meta(region)
        frames = region.layers()
        if args.format == "gpkg":
            if target.suffix != ".gpkg":
                target = target / "region.gpkg"
            paths = [bundle.save_region(region, target)]
        else:
            names = []
            with output_folder(target, "export") as tmp:
                for i, (name, gdf) in enumerate(frames.items()):
                    if progress:
                        progress(f"writing {name}", (i + 1) / len(frames))
                    if args.format == "geojson":
                        f = export.write_geojson(gdf, tmp / f"{name}.geojson", meta=meta)
                    else:
                        df = gdf.assign(wkt=gdf.geometry.to_wkt()) if len(gdf) else gdf
                        f = export.write_csv(df, tmp / f"{name}.csv")
                    names.append(f.name)
            paths = [target / n for n in names]
    for p in paths:
        _say(f"Wrote {p}")
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    from geoapp import bundle, export, workflow  # heavy: imported when needed

    layers = load_catalog_from_args(args)
    layer = catalog.get_layer(args.layer, layers)
    export.check_bundle_target(args.out)  # before the work, not after it
    t0 = time.perf_counter()
    with progress_bar(not args.quiet) as progress:
        region = region_from_args(args, progress, layers)
        result = workflow.analyse(
            region,
            layer,
            mode=args.mode,
            speed=args.speed,
            with_catchments=not args.no_catchments,
            progress=progress,
        )
        paths = bundle.write_bundle(
            result, region, args.out, html_map=not args.no_map, parquet=args.parquet
        )
    _print_summary(result)
    _print_assumptions(result.meta, result.warnings)
    _say(f"Wrote {len(paths)} files to {args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _print_summary(result: LayerAnalysis) -> None:
    from geoapp.region import SYNTHETIC_LABEL

    s = result.summary
    layer = result.layer
    labels = list(layer.labels)
    col = "pop_60plus" if layer.population == "age_60plus" else "pop"
    speed = f" at {layer.walk_speed_kmh:g} km/h" if layer.minute_based else ""
    table = Table(
        title=Text(
            f"{layer.name('en')} — share of "
            f"{'residents 60+' if col != 'pop' else 'residents'} within reach{speed}"
        )
    )
    table.add_column("level")
    table.add_column("group")
    for lab, r in zip(labels, layer.radii_m, strict=True):
        head = f"{_reach_header(lab)} ({r:,.0f} m)" if layer.minute_based else f"{r:,.0f} m"
        table.add_column(head, justify="right")
    flagged = "status" in s.columns  # met / not_met / no_data, judged at the layer's target
    if flagged:
        table.add_column(f"status ({layer.target_share:.0%} within {layer.target_m:,.0f} m)")
    # residents beyond reach whose gap the data made (geoapp.artefacts), when there are any
    dq = [c for c in ("network_gap", "edge_of_data") if f"{col}_{c}" in s and s[f"{col}_{c}"].sum()]
    for c in dq:
        table.add_column(c.replace("_", " "), justify="right")
    for _, row in s.iterrows():
        shares = [row.get(f"share_{col}_{lab}") for lab in labels]
        status = [Text(str(row["status"]), _STATUS_STYLE.get(str(row["status"]), ""))]
        table.add_row(
            Text(str(row["level"])),
            Text(str(row["group"])),  # district names are data: never markup
            *[Text("no data" if v != v else f"{v:.0%}") for v in shares],
            *(status if flagged else []),
            *[Text(f"{row[f'{col}_{c}']:,.0f}") for c in dq],
        )
    out.print(table)
    if result.status == "no_data":
        _say(f"status: no_data (no {result.layer.name('en')} facilities in the data)", "yellow")
    if result.meta.get("synthetic"):
        _say(SYNTHETIC_LABEL, "yellow")


#: How the terminal tables colour a status (geoapp.coverage.judge).
_STATUS_STYLE = {"not_met": "red", "no_data": "yellow"}


def _reach_header(label: str) -> str:
    """Column header of a radius suffix: ``"15min"`` -> ``"15 min"``, ``"300"`` -> ``"300 m"``."""
    return f"{label.removesuffix('min')} min" if label.endswith("min") else f"{label} m"


def _print_zones(table: pd.DataFrame) -> None:
    """Print the zone comparison as a table: shares of the layer's own demand per radius."""
    import math

    from geoapp.styles import zone_name

    radii = [
        c.removeprefix("share_demand_") for c in table.columns if c.startswith("share_demand_")
    ]
    t = Table(title=Text("Coverage by zone type (share of each layer's own demand)"))
    for col in ("layer", "zone type", "demand", "residents"):
        t.add_column(col, justify="right" if col == "residents" else "left")
    for r in radii:
        t.add_column(_reach_header(r), justify="right")
    t.add_column("median", justify="right")
    t.add_column("status")

    def pct(v: float | None) -> str:
        return "–" if v is None or v != v else f"{v:.0%}"

    for _, row in table.iterrows():
        demand = "60+" if row.get("demand") == "pop_60plus" else "all"
        med = row.get("median_dist_m")
        limit = row.get("search_limit_m", float("nan"))
        beyond = f"> {limit:,.0f} m" if limit == limit else "beyond the search"
        if med is None or med != med:
            med_txt = "–"
        else:
            med_txt = beyond if math.isinf(med) else f"{med:,.0f} m"
        residents = row.get(row.get("demand") or "pop", float("nan"))
        t.add_row(
            Text(str(row["layer"])),
            Text(zone_name(str(row["zone_type"]))),
            Text(demand),
            Text("–" if residents != residents else f"{residents:,.0f}"),
            *[Text(pct(row.get(f"share_demand_{r}"))) for r in radii],
            Text(med_txt),
            Text(str(row.get("status", "")), _STATUS_STYLE.get(str(row.get("status")), "")),
        )
    out.print(t)


def _print_assumptions(meta: dict, warnings: Sequence[str]) -> None:
    """Print the population profile, how zones were decided and every data warning."""
    prof = meta.get("population_profile") or {}
    if prof:
        share = prof.get("share_60plus")
        share_txt = f"{share:.1%}" if isinstance(share, int | float) else "from the census"
        chosen = f" ({prof['chosen']})" if prof.get("chosen") else ""
        _say(
            f"Population profile: {prof.get('name', '?')}{chosen}: "
            f"{prof.get('m2_per_person', '?')} m² floor area per resident, {share_txt} aged "
            "60+ (override with --share-60plus SHARE, --age-rasters DIR or --census CSV)"
        )
        if prof.get("source"):
            _say(f"  sources: {prof['source']}")
    if meta.get("zone_method"):
        _say(f"Zones: {meta['zone_method']}")
    _SHOWN.update(warnings)  # said here: not repeated as log lines at the end of the run
    warnings = group_warnings(warnings)
    if warnings:
        _say(f"Data warnings ({len(warnings)}):", "yellow")
        for w in warnings:
            _say(f"  - {w}", "yellow")


def _cmd_compare(args: argparse.Namespace) -> int:
    from geoapp import charts, export, workflow  # heavy: imported when needed
    from geoapp._atomic import check_output_folder, output_folder

    layers = load_catalog_from_args(args)
    chosen = [catalog.get_layer(lid, layers) for lid in (args.layer or list(layers))]
    outdir = _check_out_folder(args.out)
    if export.read_bundle_metadata(outdir) is not None:
        raise OutputError(
            f"--out {outdir} is a coverage bundle; zones.csv and zones.png there would not be "
            "part of it (and a re-run of the coverage would refuse the folder). Choose "
            "another folder, e.g. --out out/compare/"
        )
    check_output_folder(outdir, "compare", "out/compare/")  # before the work, not after it
    with progress_bar(not args.quiet) as progress:
        region = region_from_args(args, progress, layers)
        demand, graph = workflow.prepare(region, mode=args.mode, progress=progress)
        analyses = {
            layer.id: workflow.analyse(
                region,
                layer,
                demand=demand,
                graph=graph,
                mode=args.mode,
                speed=args.speed,
                with_catchments=False,
                progress=progress,
            )
            for layer in chosen
        }
        table = workflow.compare(region, analyses)
        zones = workflow.csv_ready(workflow.zones_table(region, analyses))
        with output_folder(outdir, "compare") as tmp:  # swapped in whole, with a manifest
            export.write_csv(zones, tmp / "zones.csv")
            charts.zone_comparison_chart(table, tmp / "zones.png")
    _print_zones(table)
    seen: dict[str, None] = {}  # every warning once, in order, across the layers
    for a in analyses.values():
        seen.update(dict.fromkeys(a.warnings))
    first = next(iter(analyses.values()), None)
    _print_assumptions(first.meta if first is not None else {}, list(seen))
    _say(f"Wrote {outdir / 'zones.csv'} and {outdir / 'zones.png'}")
    return 0


def _cmd_supply(args: argparse.Namespace) -> int:
    from geoapp import bundle, export, workflow  # heavy: imported when needed

    layers = load_catalog_from_args(args)
    layer = catalog.get_layer(args.layer, layers)
    target = _check_out_folder(args.out)
    export.check_bundle_target(target)  # before the work, not after it
    t0 = time.perf_counter()
    with progress_bar(not args.quiet) as progress:
        region = region_from_args(args, progress, layers)
        result = workflow.supply(
            region,
            layer,
            mode=args.mode,
            speed=args.speed,
            reach_m=args.reach,
            decay=args.decay,
            method=args.method,
            progress=progress,
        )
        paths = bundle.write_supply_bundle(result, target)
    _print_supply(result.supply, result.layer)
    _print_assumptions(result.analysis.meta, [*result.analysis.warnings, *result.supply.warnings])
    _say(f"Wrote {len(paths)} files to {target} in {time.perf_counter() - t0:.1f} s")
    return 0


def _print_supply(result: Supply, layer: Layer) -> None:
    """Print the supply table: capacity, demand, per 1,000 against the standard."""
    unit = result.unit
    who = "60+" if result.demand_col == "pop_60plus" else "residents"
    std = "no standard" if result.per_1000 is None else f"standard {result.per_1000:g}"
    t = Table(
        title=Text(
            f"{layer.name('en')} — {unit} per 1,000 {who} ({std}); 2SFCA within "
            f"{result.reach_m:,.0f} m"
        )
    )
    for col in ("level", "group", "facilities", "known", unit, who, "per 1,000", "2SFCA", "met"):
        t.add_column(col, justify="right" if col not in ("level", "group", "met") else "left")

    def num(v: float | None, fmt: str = ",.0f") -> str:
        return "–" if v is None or v != v else format(v, fmt)

    for _, row in result.table.iterrows():
        met = str(row["met"])
        t.add_row(
            Text(str(row["level"])),
            Text(str(row["group"])),  # data: never markup
            Text(str(row["n_facilities"])),
            Text(str(row["n_capacity_known"])),
            Text(num(row["capacity"])),
            Text(num(row["demand"])),
            Text(num(row["capacity_per_1000"], ".1f")),
            Text(num(row["sfca_per_1000"], ".1f")),
            Text(met, {"met": "green", "not_met": "red"}.get(met, "yellow")),
        )
    out.print(t)
    if result.demand.empty or result.facilities.empty:
        _say(f"no {layer.name('en')} facilities or no demand in the data", "yellow")


def _cmd_report(args: argparse.Namespace) -> int:
    from geoapp import assess, reporting  # heavy: imported when needed
    from geoapp.errors import InputError

    if args.year is not None and not args.projection:
        raise InputError(
            f"--year {args.year}: a year picks a row of a projection table; give the table "
            "too, e.g. --projection geoapp/data/projections/beijing_2035_illustration.csv "
            f"--year {args.year} (without --projection the report is of today)"
        )
    reporting.check_report_target(args.out)  # before the work, not after it
    spec = region_spec_from_args(args)
    t0 = time.perf_counter()
    layout = reporting.options(
        organisation=args.organisation, atlas=args.atlas, fca_method=args.fca_method
    )
    with progress_bar(not args.quiet) as progress, layout:
        paths = assess.build_report(
            args.out,
            spec,
            layers=args.layer,
            lang=args.lang,
            standard=args.standard,
            compare=args.compare,
            projection=args.projection,
            year=args.year,
            mode=args.mode,
            speed_kmh=args.speed,
            pdf=not args.no_pdf,
            progress=progress,
        )
    for p in paths.values():
        _say(f"Wrote {p}")
    _say(
        f"Report in {args.out} ({time.perf_counter() - t0:.1f} s); check it with: geoapp verify {args.out}"
    )
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from geoapp import verify  # heavy: imported when needed

    verify.check_rtol(args.rtol)  # before the re-run, not after it
    with progress_bar(not args.quiet) as progress:
        result = verify.verify(args.dir, progress=progress, rtol=args.rtol)
    for line in result.lines():
        _say(line, "" if result.ok else "red")
    return 0 if result.ok else 1


def _cmd_diff(args: argparse.Namespace) -> int:
    from geoapp import lookback  # heavy: imported when needed

    outdir = _check_out_folder(args.out)
    lookback.check_diff_target(outdir, args.old, args.new)  # before the work, not after it
    diff = lookback.diff_reports(args.old, args.new)
    paths = lookback.write_diff(diff, outdir)
    for lid, d in diff.layers.items():
        _say(
            f"{lid}: {d.gained:,.0f} residents ({d.demand}) gained coverage within {d.target_m:,.0f} m, "
            f"{d.lost:,.0f} lost"
        )
        reg = d.changes[d.changes["level"] == "region"].iloc[0]
        _say(f"  region share {reg['share_before']:.1%} -> {reg['share_after']:.1%}")
    for w in [*diff.warnings, *(w for d in diff.layers.values() for w in d.warnings)]:
        _say(f"  - {w}", "yellow")
    for p in paths.values():
        _say(f"Wrote {p}")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from geoapp import batch  # heavy: imported when needed

    spec = batch.read_spec(args.spec)
    outdir = _check_out_folder(args.out)
    batch.check_targets(spec, outdir)  # before starting a cluster, not after the work
    if args.workers < 1:
        raise GeoappError(f"--workers {args.workers}: give at least 1 worker process")
    n_layers = sum(len(r.layers) for r in spec.runs)
    if not args.verbose:  # dask's cluster start and stop messages only with -v
        import distributed  # noqa: F401 - it sets its loggers' levels on import

        for name in [*logging.root.manager.loggerDict, "distributed"]:
            if name.startswith("distributed"):
                logging.getLogger(name).setLevel(logging.WARNING)
    where = args.scheduler or f"a local cluster of {args.workers} worker processes"
    err.print(Text(f"Batch: {len(spec.runs)} runs, {n_layers} bundles, on {where}"))

    def report(o: Any) -> None:  # a batch run's outcome
        line = f"  {o.run}/{o.layer}: {o.status} ({o.seconds:.1f} s)"
        if o.status != "ok":
            line += f": {o.error}"
        err.print(Text(line, "" if o.status == "ok" else "yellow"), highlight=False)

    with progress_bar(not args.quiet) as progress:
        result = batch.run_batch(
            spec,
            outdir,
            workers=args.workers,
            scheduler=args.scheduler,
            local_directory=args.local_directory,
            progress=progress,
            on_outcome=report,
        )
    n_ok = len(result.outcomes) - len(result.failed)
    _say(
        f"Wrote {n_ok} of {len(result.outcomes)} bundles to {outdir} in {result.seconds:.1f} s; "
        f"summary in {result.csv} and {result.json}"
    )
    if result.failed:
        _say(f"{len(result.failed)} failed:", "yellow")
        for o in result.failed:
            _say(f"  - {o.run}/{o.layer}: {o.error}", "yellow")
        return 1
    return 0


def _cmd_site(args: argparse.Namespace) -> int:
    from geoapp import bundle, export, workflow  # heavy: imported when needed
    from geoapp.errors import InputError
    from geoapp.region import SYNTHETIC_LABEL

    if getattr(args, "demand", None):
        return _cmd_site_table(args)
    if args.model != "mclp" or args.radius is not None:
        raise InputError(
            "--model/--radius: other models and a radius need your own demand table: "
            "--demand FILE --candidates FILE"
        )
    if not args.layer or args.new is None:
        raise InputError("site: --layer and --new K are needed (or --demand FILE)")
    layers = load_catalog_from_args(args)
    layer = catalog.get_layer(args.layer, layers)
    if args.new < 1:
        raise InputError(f"--new: {args.new} must be a whole number of new sites >= 1")
    if args.exclude not in (None, "heritage", "none"):
        raise InputError(f"--exclude: {args.exclude!r}: use 'heritage' or 'none'")
    out_dir = _check_out_folder(args.out)
    export.check_bundle_target(out_dir)  # before the work, not after it
    t0 = time.perf_counter()
    with progress_bar(not args.quiet) as progress:
        region = region_from_args(args, progress, layers)
        result = workflow.site(
            region,
            layer,
            args.new,
            candidates=args.candidates,
            exclude_heritage=args.exclude != "none",
            speed=args.speed,
            time_limit_s=args.time_limit,
            progress=progress,
        )
        paths = bundle.write_siting_bundle(result, region, out_dir)
    _print_sites(result, layer)
    if region.synthetic:
        _say(SYNTHETIC_LABEL, "yellow")
    _say(f"Wrote {len(paths)} files to {out_dir} in {time.perf_counter() - t0:.1f} s")
    return 0


def _read_points(path: str, what: str) -> Any:
    """Read a point table: CSV with lon/lat (lng/longitude, latitude) or a GIS file."""
    import geopandas as gpd
    import pandas as pd

    from geoapp.errors import InputError

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{what} {p.name}: no such file")
    if p.suffix.lower() != ".csv":
        try:
            return gpd.read_file(p).to_crs(4326)
        except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
            raise InputError(f"{what} {p.name}: cannot be read as GIS data ({exc})") from exc
    df = pd.read_csv(p, encoding="utf-8-sig")
    low = {str(c).strip().lower(): c for c in df.columns}
    lon = next((low[k] for k in ("lon", "lng", "longitude", "x") if k in low), None)
    lat = next((low[k] for k in ("lat", "latitude", "y") if k in low), None)
    if lon is None or lat is None:
        raise InputError(f"{what} {p.name}: needs lon and lat columns (WGS84 degrees)")
    xy = df[[lon, lat]].apply(pd.to_numeric, errors="coerce")
    bad = xy.isna().any(axis=1).to_numpy().nonzero()[0]
    if len(bad):
        raise InputError(f"{what} {p.name}: row {bad[0] + 2} has no numeric lon/lat; fix it")
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy[lon], xy[lat]), crs=4326)


def _site_model(args: argparse.Namespace, dem: Any, cand: Any) -> Any:
    """Return the :mod:`geoapp.location` model the table options describe."""
    from geoapp import location
    from geoapp.errors import InputError

    if args.weight not in dem.columns and args.model in ("mclp", "pmedian", "cmclp"):
        raise InputError(f"--weight: the demand table has no column {args.weight!r}")
    if args.model in ("mclp", "lscp", "cmclp") and args.radius is None:
        raise InputError(f"--radius M: model {args.model} needs a service radius in metres")
    if args.model != "lscp" and args.new is None:
        raise InputError(f"--new K: model {args.model} needs the number of sites to open")
    g = "geometry"
    keep = args.keep
    p_mode = "at_most" if args.at_most else "exactly"
    if args.model == "lscp":
        return location.LSCP.from_geodataframe(
            dem, cand, g, g, args.radius, predefined_facility_col=keep
        )
    if args.model == "pcenter":
        return location.PCenter.from_geodataframe(
            dem, cand, g, g, args.new, predefined_facility_col=keep, p_mode=p_mode
        )
    if args.model == "pmedian":
        return location.PMedian.from_geodataframe(
            dem, cand, g, g, args.weight, args.new, predefined_facility_col=keep, p_mode=p_mode
        )
    if args.model == "cmclp":
        if not args.capacity or args.capacity not in cand.columns:
            raise InputError("--capacity COLUMN: cmclp needs the candidates' capacity column")
        return location.CapacitatedMCLP.from_geodataframe(
            dem, cand, g, g, args.weight, args.radius, args.new, args.capacity,
            predefined_facility_col=keep, p_mode=p_mode,
        )  # fmt: skip
    return location.MCLP.from_geodataframe(
        dem, cand, g, g, args.weight, args.radius, args.new,
        predefined_facility_col=keep, p_mode=p_mode,
    )  # fmt: skip


def _cmd_site_table(args: argparse.Namespace) -> int:
    """``geoapp site --demand FILE --candidates FILE``: a location model on your own tables."""
    import json

    import geopandas as gpd
    import pandas as pd

    from geoapp._atomic import check_output_folder, output_folder
    from geoapp.errors import InputError

    if args.candidates in ("buildings", "grid"):
        raise InputError("--candidates FILE: with --demand, give the candidate sites as a file")
    out_dir = _check_out_folder(args.out)
    check_output_folder(out_dir, "site", "out/sites/")
    t0 = time.perf_counter()
    dem = _read_points(args.demand, "--demand")
    cand = _read_points(args.candidates, "--candidates")
    res = _site_model(args, dem, cand).solve(time_limit=args.time_limit)
    sites = cand.iloc[res.sites].copy()
    sites.insert(0, "site", res.sites)
    sites["clients"] = [len(res.fac2cli[j]) for j in res.sites]
    nearest = [c[0] if c else -1 for c in res.cli2fac]
    assign = pd.DataFrame({"client": range(len(dem)), "site": nearest})
    meta = {
        "model": res.model,
        "objective": res.objective,
        "bound": res.bound,
        "gap": res.gap,
        "solver": res.solver,
        "status": res.status,
        "seconds": round(res.seconds, 3),
        "n_sites": len(res.sites),
        "n_cli_uncov": res.n_cli_uncov,
        "perc_cov": res.perc_cov,
        "mean_dist": res.mean_dist,
        "radius_m": args.radius,
        "p": args.new,
        "p_mode": "at_most" if args.at_most else "exactly",
        "demand": Path(args.demand).name,
        "candidates": Path(args.candidates).name,
        "distance": "straight line, metres, local UTM projection",
    }
    with output_folder(out_dir, "site") as tmp:
        gpd.GeoDataFrame(sites, geometry="geometry", crs=4326).to_file(
            tmp / "sites.geojson", driver="GeoJSON"
        )
        assign.to_csv(tmp / "assignments.csv", index=False)
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    _say(
        f"{res.model}: {len(res.sites)} sites, objective {res.objective:,.2f}, bound "
        f"{res.bound:,.2f}, gap {res.gap:.2%} ({res.solver}, {res.status}, {res.seconds:.1f} s)"
        + (f"; {res.n_cli_uncov:,} demand points not covered" if res.n_cli_uncov else "")
    )
    _say(f"Wrote 3 files to {out_dir} in {time.perf_counter() - t0:.1f} s")
    return 0


def _print_sites(result: SitingResult, layer: Layer) -> None:
    """Print the chosen sites and the solver's objective, bound and gap."""
    from geoapp.styles import zone_name

    meta = result.meta
    who = "residents 60+" if meta["demand_column"] == "pop_60plus" else "residents"
    t = Table(
        title=Text(
            f"{layer.name('en')}: {len(result.sites)} new sites within {meta['target_m']:,.0f} m"
        )
    )
    for col in (
        "rank",
        "candidate",
        "added residents",
        "added 60+",
        "district",
        "zone",
        "lon, lat",
    ):
        t.add_column(col, justify="right" if col.startswith(("rank", "added")) else "left")
    for _, row in result.sites.iterrows():
        t.add_row(
            Text(str(row["rank"])),
            Text(str(row["candidate_id"])),  # data: never markup
            Text(f"{row['added_pop']:,.0f}"),
            Text(f"{row['added_pop_60plus']:,.0f}"),
            Text(str(row["district"])),
            Text(zone_name(str(row["zone_type"]))),
            Text(f"{row.geometry.x:.6f}, {row.geometry.y:.6f}"),
        )
    out.print(t)
    total = meta["demand_total"]
    share = (lambda v: f" ({v / total:.1%})") if total > 0 else (lambda v: "")
    _say(
        f"{who} within {meta['target_m']:,.0f} m: {meta['covered_before']:,.0f}"
        f"{share(meta['covered_before'])} -> {meta['covered_after']:,.0f}"
        f"{share(meta['covered_after'])}"
    )
    _say(
        f"objective {result.objective:,.0f}, bound {result.bound:,.0f}, gap {result.gap:.2%} "
        f"(solver: {result.solver}, {result.seconds:.1f} s); candidates: "
        f"{meta['n_usable_candidates']:,} of {meta['n_candidates']:,} usable ("
        + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in meta["n_excluded"].items() if v)
        + (" excluded)" if any(meta["n_excluded"].values()) else "none excluded)")
    )
    for w in group_warnings(meta.get("warnings", [])):
        _say(f"  - {w}", "yellow")


#: The function that runs each command (``args.command`` from :func:`build_parser`).
COMMANDS: Mapping[str, Callable[[argparse.Namespace], int | None]] = {
    "layers": _cmd_layers,
    "fetch": _cmd_fetch,
    "export": _cmd_export,
    "coverage": _cmd_coverage,
    "compare": _cmd_compare,
    "supply": _cmd_supply,
    "report": _cmd_report,
    "verify": _cmd_verify,
    "diff": _cmd_diff,
    "batch": _cmd_batch,
    "site": _cmd_site,
}


#: Where geoapp is installed: named ``geoapp/...`` in messages, not by this machine's folders.
_INSTALL = str(PACKAGE.parent) + os.sep


def _no_install_path(text: str) -> str:
    """Return ``text`` with geoapp's install folder left out (``geoapp/data/...`` stays)."""
    return text.replace(_INSTALL, "")


class _PublicFormatter(logging.Formatter):
    """Log lines without geoapp's install folder (the user's own paths are kept)."""

    def format(self, record: logging.LogRecord) -> str:
        return _no_install_path(super().format(record))


def _error(message: str) -> None:
    """Print ``error: message`` to stderr; the message is printed literally (no markup)."""
    err.print(Text.assemble(("error: ", "bold red"), _no_install_path(message)), highlight=False)


def _os_error_message(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    what = exc.strerror or str(exc) or type(exc).__name__
    return (
        f"{where}{what}. Check that the path exists and that you may read it (inputs) or "
        "write to it (--out), and that the disk has space."
    )


#: Warnings printed in a run's "Data warnings" block (their log records are not repeated).
_SHOWN: set[str] = set()


class _Held(logging.Handler):
    """Hold geoapp's WARNING records until the run ends (then said once, grouped)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _cli_logging(verbose: bool) -> Iterator[None]:
    """Show geoapp's log records on stderr during a run, each warning once.

    INFO records (with ``-v``) are shown as they come. WARNING records are held and
    said at the end of the run, grouped (:func:`geoapp.messages.group_warnings`),
    leaving out those the run already printed in its "Data warnings" block, so no
    warning reaches the terminal twice.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logger = logging.getLogger("geoapp")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PublicFormatter("%(levelname)s: %(message)s"))
    handler.addFilter(lambda r: r.levelno < logging.WARNING)
    held = _Held()
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.addHandler(held)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False
    _SHOWN.clear()
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.removeHandler(held)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        _say_held(held.records)


def _say_held(records: Sequence[logging.LogRecord]) -> None:
    """Print the held warnings not already said, grouped, one line each."""
    messages = [r.getMessage() for r in records]
    levels = {m: r.levelname for m, r in zip(messages, records, strict=True)}
    said = {warning_shape(w) for w in _SHOWN}  # a warning said in a group is said
    fresh = [m for m in messages if warning_shape(m) not in said]
    for line in group_warnings(fresh):
        level = levels.get(line, "WARNING")
        sys.stderr.write(f"{level}: {_no_install_path(line)}\n")
    _SHOWN.clear()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 2 user error, 130 interrupted).

    Every error a user can cause (a :class:`~geoapp.errors.GeoappError`, an
    :class:`OSError` such as a full disk) is one message on stderr, without a
    traceback; nothing already on disk is replaced by a failed run.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    with _cli_logging(args.verbose):
        try:
            return int(COMMANDS[args.command](args) or 0)
        except GeoappError as exc:
            _error(str(exc))
            return 2
        except OSError as exc:
            _error(_os_error_message(exc))
            return 2
        except KeyboardInterrupt:
            _error("interrupted; files already on disk were left as they were")
            return 130


__all__ = [
    "COMMANDS",
    "DEFAULT_TIMEOUT_S",
    "add_region_arguments",
    "add_speed_argument",
    "build_parser",
    "load_catalog_from_args",
    "main",
    "progress_bar",
    "region_from_args",
    "region_spec_from_args",
    "speed_value",
]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
