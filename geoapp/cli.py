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
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from geoapp import __version__, catalog
from geoapp.errors import GeoappError, OutputError
from geoapp.region import SYNTHETIC_LABEL, Region

#: Default for ``--timeout``: seconds a whole ``--place`` download may take.
DEFAULT_TIMEOUT_S = 180.0

err = Console(stderr=True, soft_wrap=True)
out = Console(width=None if sys.stdout.isatty() else 140)


def add_region_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the region options shared by every command (and the analyses scripts)."""
    g = parser.add_argument_group("region (default: the embedded synthetic demo)")
    g.add_argument("--region", choices=["demo"], help="use the embedded synthetic demo region")
    g.add_argument("--osm", metavar="FILE", help="a local .osm, .osm.pbf or .osm.bz2 extract")
    g.add_argument(
        "--place", metavar="NAME", help="a place name fetched from OpenStreetMap (needs internet)"
    )
    g.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"bound on the whole --place download, retries included (default {DEFAULT_TIMEOUT_S:g})",
    )
    g.add_argument("--gpkg", metavar="FILE", help="a region saved by 'geoapp fetch'")
    g.add_argument(
        "--boundaries",
        metavar="FILE",
        help="district boundaries (GeoJSON, GeoPackage, zipped Shapefile), or 'beijing'",
    )
    g.add_argument(
        "--admin-level",
        type=int,
        metavar="N",
        help="use OSM admin boundaries at this admin_level as districts",
    )
    g.add_argument(
        "--census", metavar="CSV", help="district population table, or 'beijing' (2020 census)"
    )
    g.add_argument(
        "--zones", metavar="TOML", help="zone mapping: 'beijing', a TOML file, or 'density'"
    )
    g.add_argument(
        "--population",
        metavar="FILE.tif",
        help="population raster (GeoTIFF, e.g. WorldPop or GHS-POP) as the demand source",
    )
    g.add_argument(
        "--facilities",
        metavar="CSV:LAYER:COORDS",
        action="append",
        default=[],
        help="add a facility table, e.g. homes.csv:elderly_care:gcj02 (coords: wgs84, gcj02 or bd09)",
    )
    g.add_argument(
        "--layer-file", metavar="PATH", action="append", default=[], help="an extra layer TOML file"
    )


@contextmanager
def progress_bar(enabled: bool = True):
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


def speed_value(text: str) -> float:
    """Parse ``--speed``: km/h as a number, or a preset name (``adult``, ``elderly``)."""
    key = str(text).strip().lower()
    if key in catalog.SPEED_PRESETS:
        return catalog.SPEED_PRESETS[key]
    try:
        return catalog.check_speed(float(key), "--speed")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a walking speed: give km/h (e.g. 3.6) or a preset "
            f"({', '.join(catalog.SPEED_PRESETS)})"
        ) from None
    except GeoappError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_speed_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--speed KMH|adult|elderly`` (default: each layer's own walking speed)."""
    presets = ", ".join(f"{k} {v:g}" for k, v in catalog.SPEED_PRESETS.items())
    parser.add_argument(
        "--speed",
        type=speed_value,
        default=None,
        metavar="KMH",
        help=(
            f"walking speed in km/h or a preset ({presets}); default: each layer's own "
            "(elderly care 3.6). For layers defined in minutes (life circles) the speed "
            "sets the reach: minutes x speed"
        ),
    )


def load_catalog_from_args(args: argparse.Namespace) -> dict[str, catalog.Layer]:
    """Return the layer catalog with any ``--layer-file`` additions."""
    return catalog.load_catalog(extra_files=getattr(args, "layer_file", []) or [])


def region_from_args(
    args: argparse.Namespace,
    progress: Callable | None = None,
    layers: dict[str, catalog.Layer] | None = None,
) -> Region:
    """Load the region the arguments describe (``layers``: the catalog, if loaded already)."""
    from geoapp import workflow  # heavy: imported when needed

    tables = []
    for spec in getattr(args, "facilities", []) or []:
        parts = spec.rsplit(":", 2)
        if len(parts) != 3:
            raise GeoappError(
                f"--facilities {spec!r}: use FILE:LAYER:COORDS, e.g. homes.csv:elderly_care:gcj02"
            )
        tables.append((parts[0], parts[1], parts[2]))
    region = workflow.load_region(
        "demo",
        osm=args.osm,
        place=args.place,
        gpkg=args.gpkg,
        boundaries=args.boundaries,
        census=args.census,
        zones=args.zones,
        facility_tables=tables,
        catalog=layers if layers is not None else load_catalog_from_args(args),
        admin_level=args.admin_level,
        timeout=getattr(args, "timeout", DEFAULT_TIMEOUT_S),
        population=getattr(args, "population", None),
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
    from geoapp import workflow  # heavy: imported when needed

    target = _check_out_file(args.out)
    with progress_bar(not args.quiet) as progress:
        region = region_from_args(args, progress)
        path = workflow.save_region(region, target)
    _say(
        f"Wrote {path}: {len(region.boundaries)} districts, {len(region.features)} features, "
        f"{len(region.edges)} street edges, {len(region.buildings)} buildings"
        + (f" ({SYNTHETIC_LABEL})" if region.synthetic else "")
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from geoapp import export, workflow  # heavy: imported when needed

    target = Path(args.out) if args.format == "gpkg" else _check_out_folder(args.out)
    with progress_bar(not args.quiet) as progress:
        region = region_from_args(args, progress)
        meta = workflow.region_meta(region)
        frames = region.layers()
        if args.format == "gpkg":
            if target.suffix != ".gpkg":
                target = target / "region.gpkg"
            paths = [workflow.save_region(region, target)]
        else:
            target.mkdir(parents=True, exist_ok=True)
            paths = []
            for i, (name, gdf) in enumerate(frames.items()):
                if progress:
                    progress(f"writing {name}", (i + 1) / len(frames))
                if args.format == "geojson":
                    paths.append(export.write_geojson(gdf, target / f"{name}.geojson", meta=meta))
                else:
                    df = gdf.assign(wkt=gdf.geometry.to_wkt()) if len(gdf) else gdf
                    paths.append(export.write_csv(df, target / f"{name}.csv"))
    for p in paths:
        _say(f"Wrote {p}")
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    from geoapp import export, workflow  # heavy: imported when needed

    layers = load_catalog_from_args(args)
    layer = catalog.get_layer(args.layer, layers)
    export.check_bundle_target(args.out)  # before the work, not after it
    t0 = time.perf_counter()
    with progress_bar(not args.quiet) as progress:
        region = region_from_args(args, progress, layers)
        demand, graph = workflow.prepare(region, mode=args.mode, progress=progress)
        result = workflow.analyse_layer(
            region,
            layer,
            demand=demand,
            graph=graph,
            mode=args.mode,
            speed_kmh=args.speed,
            with_catchments=not args.no_catchments,
            progress=progress,
        )
        paths = workflow.write_bundle(
            result, region, args.out, html_map=not args.no_map, parquet=args.parquet
        )
    _print_summary(result)
    _print_assumptions(result.meta, result.warnings)
    _say(f"Wrote {len(paths)} files to {args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _print_summary(result) -> None:
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
    flagged = "status" in s.columns and (s["status"] != "ok").any()
    if flagged:
        table.add_column("status")
    for _, row in s.iterrows():
        shares = [row.get(f"share_{col}_{lab}") for lab in labels]
        status = [Text(str(row["status"]), "yellow" if row["status"] != "ok" else "")]
        table.add_row(
            Text(str(row["level"])),
            Text(str(row["group"])),  # district names are data: never markup
            *[Text("no data" if v != v else f"{v:.0%}") for v in shares],
            *(status if flagged else []),
        )
    out.print(table)
    if result.status == "no_data":
        _say(f"status: no_data (no {result.layer.name('en')} facilities in the data)", "yellow")
    if result.meta.get("synthetic"):
        _say(SYNTHETIC_LABEL, "yellow")


def _reach_header(label: str) -> str:
    """Column header of a radius suffix: ``"15min"`` -> ``"15 min"``, ``"300"`` -> ``"300 m"``."""
    return f"{label.removesuffix('min')} min" if label.endswith("min") else f"{label} m"


def _print_zones(table) -> None:
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

    def pct(v) -> str:
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
            Text(str(row.get("status", "")), "yellow" if row.get("status") != "ok" else ""),
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
            "60+ (override with --census CSV or --population FILE.tif)"
        )
        if prof.get("source"):
            _say(f"  sources: {prof['source']}")
    if meta.get("zone_method"):
        _say(f"Zones: {meta['zone_method']}")
    if warnings:
        _say(f"Data warnings ({len(warnings)}):", "yellow")
        for w in warnings:
            _say(f"  - {w}", "yellow")


def _cmd_compare(args: argparse.Namespace) -> int:
    from geoapp import charts, export, workflow  # heavy: imported when needed

    layers = load_catalog_from_args(args)
    chosen = [catalog.get_layer(lid, layers) for lid in (args.layer or list(layers))]
    outdir = _check_out_folder(args.out)
    if export.read_bundle_metadata(outdir) is not None:
        raise OutputError(
            f"--out {outdir} is a coverage bundle; zones.csv and zones.png there would not be "
            "part of it (and a re-run of the coverage would refuse the folder). Choose "
            "another folder, e.g. --out out/compare/"
        )
    with progress_bar(not args.quiet) as progress:
        region = region_from_args(args, progress, layers)
        demand, graph = workflow.prepare(region, mode=args.mode, progress=progress)
        analyses = {
            layer.id: workflow.analyse_layer(
                region,
                layer,
                demand=demand,
                graph=graph,
                mode=args.mode,
                speed_kmh=args.speed,
                with_catchments=False,
                progress=progress,
            )
            for layer in chosen
        }
        table = workflow.compare(region, analyses)
        outdir.mkdir(parents=True, exist_ok=True)
        export.write_csv(
            workflow.csv_ready(workflow.zones_table(region, analyses)), outdir / "zones.csv"
        )
        charts.zone_comparison_chart(table, outdir / "zones.png")
    _print_zones(table)
    seen: dict[str, None] = {}  # every warning once, in order, across the layers
    for a in analyses.values():
        seen.update(dict.fromkeys(a.warnings))
    first = next(iter(analyses.values()), None)
    _print_assumptions(first.meta if first is not None else {}, list(seen))
    _say(f"Wrote {outdir / 'zones.csv'} and {outdir / 'zones.png'}")
    return 0


def _cmd_supply(args: argparse.Namespace) -> int:
    from geoapp import export, supply, workflow  # heavy: imported when needed
    from geoapp.errors import OutputError, output_error

    layers = load_catalog_from_args(args)
    layer = catalog.get_layer(args.layer, layers)
    target = _check_out_folder(args.out)
    export.check_bundle_target(target)  # before the work, not after it
    if args.reach is not None and not (args.reach > 0 and args.reach < float("inf")):
        raise GeoappError(f"--reach {args.reach:g}: give a distance in metres > 0, e.g. 1000")
    t0 = time.perf_counter()
    speed = {} if args.speed is None else {"speed_kmh": args.speed}
    with progress_bar(not args.quiet) as progress:
        region = region_from_args(args, progress, layers)
        demand, graph = workflow.prepare(region, mode=args.mode, progress=progress)
        analysis = workflow.analyse_layer(
            region,
            layer,
            demand=demand,
            graph=graph,
            mode=args.mode,
            with_catchments=False,
            progress=progress,
            **speed,
        )
        if progress:
            progress(f"{layer.name()}: capacity and 2SFCA", 0.9)
        result = supply.compute_supply(
            demand.points,
            analysis.facilities,
            analysis.layer,
            graph=graph,
            mode=args.mode,
            reach_m=args.reach,
            decay=None if args.decay == "none" else args.decay,
            boundaries=region.boundaries,
            region_name=region.name,
        )
        run_id = export.new_run_id()
        fac = result.facilities
        sfca_total = float((result.demand["sfca"] * result.demand[result.demand_col]).sum())
        meta = {
            **analysis.meta,
            "run_id": run_id,
            "command": "supply",
            "supply": {
                "method": "2SFCA (Luo & Wang 2003)"
                + (", Gaussian distance decay" if result.decay else ", no distance decay"),
                "reach_m": result.reach_m,
                "decay": result.decay,
                "mode": result.mode,
                "demand_col": result.demand_col,
                "unit": result.unit,
                "standard_per_1000": result.per_1000,
                "standard_source": str((analysis.layer.capacity or {}).get("source", "")),
                "unknown_capacity": "layer default when the layer file gives one, "
                "else excluded from totals and the 2SFCA ratio and counted",
                "n_facilities": len(fac),
                "capacity_sources": {
                    (k or "unknown"): int(v)
                    for k, v in fac["capacity_source"].value_counts().items()
                },
                "capacity_total": float(fac["capacity"].sum()),
                "capacity_serving_demand": float(fac.loc[fac["serves_demand"], "capacity"].sum()),
                "sum_sfca_x_demand": sfca_total,
            },
            "warnings": [*analysis.warnings, *result.warnings],
        }
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
            if c in result.demand.columns
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
            f"The previous bundle in {target} is unchanged."
            if export.read_bundle_metadata(target) is not None
            else "Nothing was written."
        )
        names: list[str] = []
        try:
            with export.bundle_folder(target, run_id) as tmp:
                names.append(export.write_csv(result.table, tmp / "supply.csv").name)
                for name, gdf in (
                    ("demand", result.demand[[*dcols, "geometry"]]),
                    ("facilities", fac[[*fcols, "geometry"]]),
                ):
                    names.append(export.write_geojson(gdf, tmp / f"{name}.geojson", meta=meta).name)
                export.write_json(
                    {**meta, "files": sorted([*names, export.BUNDLE_METADATA])},
                    tmp / export.BUNDLE_METADATA,
                )
        except OutputError as exc:
            raise OutputError(f"{exc} {kept}") from None
        except OSError as exc:
            raise output_error(OSError(exc.errno, exc.strerror), target, kept) from None
    _print_supply(result, analysis.layer)
    _print_assumptions(analysis.meta, [*analysis.warnings, *result.warnings])
    _say(f"Wrote {len(names) + 1} files to {target} in {time.perf_counter() - t0:.1f} s")
    return 0


def _print_supply(result, layer) -> None:
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

    def num(v, fmt=",.0f") -> str:
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


def _region_args(args: argparse.Namespace) -> dict:
    """Return the region options as JSON-able ``workflow.load_region`` keywords."""
    tables = []
    for spec in getattr(args, "facilities", []) or []:
        parts = spec.rsplit(":", 2)
        if len(parts) != 3:
            raise GeoappError(
                f"--facilities {spec!r}: use FILE:LAYER:COORDS, e.g. homes.csv:elderly_care:gcj02"
            )
        tables.append(list(parts))
    keys = ("osm", "place", "gpkg", "boundaries", "census", "zones", "admin_level", "population")
    out = {k: getattr(args, k, None) for k in keys if getattr(args, k, None) not in (None, "")}
    if getattr(args, "place", None):
        out["timeout"] = args.timeout
    if tables:
        out["facility_tables"] = tables
    return out


def _cmd_report(args: argparse.Namespace) -> int:
    from geoapp import report, workflow  # heavy: imported when needed

    report.check_report_target(args.out)  # before the work, not after it
    t0 = time.perf_counter()
    with progress_bar(not args.quiet) as progress:
        paths = workflow.build_report(
            args.out,
            region_args=_region_args(args),
            layers=args.layer,
            layer_files=args.layer_file,
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

    with progress_bar(not args.quiet) as progress:
        result = verify.verify(args.dir, progress=progress, rtol=args.rtol)
    for line in result.lines():
        _say(line, "" if result.ok else "red")
    return 0 if result.ok else 1


def _cmd_diff(args: argparse.Namespace) -> int:
    from geoapp import lookback  # heavy: imported when needed

    diff = lookback.diff_reports(args.old, args.new)
    paths = lookback.write_diff(diff, _check_out_folder(args.out))
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

    def report(o) -> None:
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
    from geoapp import export, siting, workflow  # heavy: imported when needed
    from geoapp.errors import InputError

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
        demand, graph = workflow.prepare(region, progress=progress)
        result = siting.site(
            region,
            layer,
            args.new,
            demand=demand,
            graph=graph,
            candidates=args.candidates,
            exclude_heritage=args.exclude != "none",
            speed_kmh=args.speed,
            time_limit_s=args.time_limit,
            progress=progress,
        )
        paths = workflow.write_siting_bundle(result, region, out_dir)
    _print_sites(result, layer)
    if region.synthetic:
        _say(SYNTHETIC_LABEL, "yellow")
    _say(f"Wrote {len(paths)} files to {out_dir} in {time.perf_counter() - t0:.1f} s")
    return 0


def _print_sites(result, layer) -> None:
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
    for w in meta.get("warnings", []):
        _say(f"  - {w}", "yellow")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``geoapp`` command."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog="geoapp",
        description="Service coverage and gap analysis for planners (elderly care, community services, heritage).",
        epilog="Run 'geoapp COMMAND --help' for the options and an example of each command.",
        formatter_class=fmt,
    )
    p.add_argument("--version", action="version", version=f"geoapp {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser(
        "layers",
        help="list the layer catalog",
        description="List the layer catalog with labels, demand and life-circle radii.\n\nExample:\n  geoapp layers\n  geoapp layers --layer-file my_layers/pharmacy.toml",
        formatter_class=fmt,
    )
    s.add_argument(
        "--layer-file", metavar="PATH", action="append", default=[], help="an extra layer TOML file"
    )
    s.set_defaults(func=_cmd_layers)

    s = sub.add_parser(
        "fetch",
        help="fetch a place or read an extract into a GeoPackage",
        description=(
            "Load a region (OSM place, local extract or the synthetic demo) and save all its layers\n"
            "into one GeoPackage for QGIS or later runs (--gpkg).\n\nExamples:\n"
            "  geoapp fetch --region demo --out demo.gpkg\n"
            "  geoapp fetch --osm beijing.osm.pbf --admin-level 6 --out beijing.gpkg\n"
            '  geoapp fetch --place "Dongcheng District, Beijing" --out dongcheng.gpkg'
        ),
        formatter_class=fmt,
    )
    add_region_arguments(s)
    s.add_argument("--out", required=True, metavar="FILE.gpkg", help="GeoPackage to write")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_fetch)

    s = sub.add_parser(
        "export",
        help="export a region's layers as GeoJSON, GeoPackage or CSV",
        description=(
            "Export a region's layers (districts, features, streets, buildings, landuse).\n"
            "GeoJSON follows RFC 7946 (WGS84, 7 decimals); every file is written atomically.\n\n"
            "Examples:\n  geoapp export --gpkg demo.gpkg --format geojson --out demo_geojson/\n"
            "  geoapp export --region demo --format gpkg --out demo.gpkg"
        ),
        formatter_class=fmt,
    )
    add_region_arguments(s)
    s.add_argument("--format", choices=["geojson", "gpkg", "csv"], default="geojson")
    s.add_argument("--out", required=True, metavar="PATH", help="output folder (or .gpkg file)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_export)

    s = sub.add_parser(
        "coverage",
        help="who is within walking reach of a layer; writes the result bundle",
        description=(
            "Walking-distance coverage of one layer: distances from every building to the nearest\n"
            "facility, coverage per district and zone type, catchments and gaps.\n"
            "Writes facilities/demand/catchments/gaps GeoJSON, summary.csv, metadata.json,\n"
            "bundle.gpkg and an offline map.html.\n\n"
            "Example:\n  geoapp coverage --region demo --layer elderly_care --out out/elderly_care/"
        ),
        formatter_class=fmt,
    )
    add_region_arguments(s)
    s.add_argument("--layer", required=True, help="layer id, see 'geoapp layers'")
    s.add_argument(
        "--mode",
        choices=["network", "euclidean"],
        default="network",
        help="walking network or straight line",
    )
    add_speed_argument(s)
    s.add_argument("--no-map", action="store_true", help="skip the HTML map")
    s.add_argument(
        "--no-catchments",
        action="store_true",
        help="skip catchment polygons",
    )
    s.add_argument(
        "--parquet",
        action="store_true",
        help="also write every layer as GeoParquet (full detail; *.parquet)",
    )
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_coverage)

    s = sub.add_parser(
        "compare",
        help="compare coverage across urban core, new towns and rural areas",
        description=(
            "Compare every layer's coverage across zone types (core, new_town, rural):\n"
            "shares per radius, ratios to the core, median/p90 distance, facilities per 10,000\n"
            "and the Gini index of walking distance. Writes zones.csv and zones.png.\n\n"
            "Example:\n  geoapp compare --region demo --out out/compare/"
        ),
        formatter_class=fmt,
    )
    add_region_arguments(s)
    s.add_argument("--layer", action="append", help="layer id (repeatable; default all)")
    s.add_argument("--mode", choices=["network", "euclidean"], default="network")
    add_speed_argument(s)
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_compare)

    s = sub.add_parser(
        "supply",
        help="capacity (beds) per 1,000 of a layer's demand, and the 2SFCA ratio",
        description=(
            "Capacity against demand for one layer: capacity (e.g. beds) per 1,000 of the\n"
            "layer's demand per district, zone type and settlement against the standard of the\n"
            "layer file ([capacity] per_1000), and the 2SFCA accessibility ratio per demand\n"
            "point (Luo & Wang 2003). Capacity comes from capacity:beds / beds / capacity tags,\n"
            "a facility table's capacity or beds column, or the layer's [capacity] default;\n"
            "facilities of unknown capacity are excluded and counted.\n"
            "Writes supply.csv, demand.geojson (sfca), facilities.geojson (capacity,\n"
            "capacity_source, serves_demand) and metadata.json.\n\n"
            "Example:\n  geoapp supply --region demo --layer elderly_care --out out/supply/"
        ),
        formatter_class=fmt,
    )
    add_region_arguments(s)
    s.add_argument("--layer", required=True, help="layer id, see 'geoapp layers'")
    s.add_argument("--mode", choices=["network", "euclidean"], default="network")
    add_speed_argument(s)
    s.add_argument(
        "--reach",
        type=float,
        default=None,
        metavar="M",
        help="2SFCA catchment in metres (default: the layer's target_m)",
    )
    s.add_argument(
        "--decay",
        choices=["none", "gaussian"],
        default="none",
        help="distance decay inside the catchment (default none, as Luo & Wang 2003)",
    )
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_supply)

    s = sub.add_parser(
        "report",
        help="write the assessment report (HTML + PDF, zh or en) with its bundles",
        description=(
            "Assess the layers against a standards profile and write report.html (self-contained,\n"
            "offline), report.pdf (Chinese font embedded), compliance.csv, report.json (inputs'\n"
            "SHA-256, parameters, versions, the command) and bundles/<layer>/.\n\n"
            "Examples:\n  geoapp report --region demo --lang zh --out out/report_zh/\n"
            "  geoapp report --region demo --layer elderly_care --standard cn-shanghai-2024 --lang en --out out/r/\n"
            "  geoapp report --region demo --projection geoapp/data/projections/beijing_2035_illustration.csv --out out/r2035/"
        ),
        formatter_class=fmt,
    )
    add_region_arguments(s)
    s.add_argument(
        "--layer",
        "--layers",
        action="append",
        help="layer id (repeatable; default all but heritage)",
    )
    s.add_argument("--lang", choices=["zh", "en"], default="en", help="report language")
    s.add_argument(
        "--standard", metavar="FILE", help="standards profile: a shipped id or a TOML file"
    )
    s.add_argument(
        "--compare",
        metavar="OLD",
        help="an earlier report folder or bundle: adds a before/after section",
    )
    s.add_argument(
        "--projection", metavar="FILE.csv", help="district, year, factor_60plus[, factor_total]"
    )
    s.add_argument("--year", type=int, help="year of the projection table to use")
    s.add_argument("--mode", choices=["network", "euclidean"], default="network")
    add_speed_argument(s)
    s.add_argument("--no-pdf", action="store_true", help="HTML only")
    s.add_argument("--out", required=True, metavar="DIR", help="report folder")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_report)

    s = sub.add_parser(
        "verify",
        help="re-run a report's inputs and parameters and compare every indicator",
        description=(
            "Re-run the recorded inputs and parameters of a report folder and compare every\n"
            "indicator (summary.csv, zones.csv of each bundle, compliance.csv) and every input's\n"
            "SHA-256. Exit 0 when all match, 1 with the list of differences otherwise.\n\n"
            "Example:\n  geoapp verify out/report_zh/"
        ),
        formatter_class=fmt,
    )
    s.add_argument("dir", metavar="DIR", help="a folder written by 'geoapp report'")
    s.add_argument("--rtol", type=float, default=1e-9, help="relative tolerance (default 1e-9)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_verify)

    s = sub.add_parser(
        "diff",
        help="compare two reports or bundles: change per district and zone, coverage gained and lost",
        description=(
            "Compare two report folders or bundles (two dates of data, a baseline and a scenario):\n"
            "share within the target per district and zone type before and after, and the demand\n"
            "points that gained or lost coverage. Writes changes.csv, points_changed.geojson,\n"
            "map_<layer>.png and diff.json.\n\n"
            "Example:\n  geoapp diff out/report_2024/ out/report_2025/ --out out/diff/"
        ),
        formatter_class=fmt,
    )
    s.add_argument("old", metavar="OLD")
    s.add_argument("new", metavar="NEW")
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.set_defaults(func=_cmd_diff)

    s = sub.add_parser(
        "batch",
        help="run many regions x layers on dask (a local cluster or a scheduler)",
        description=(
            "Run every [[run]] of a spec TOML (a region as the region options give it, and\n"
            "its layers) on dask.distributed; every bundle lands in DIR/<run>/<layer>/ and\n"
            "DIR/batch.csv + batch.json say what happened to each (ok or failed, with the\n"
            "error). A failing run does not stop the others; the exit code is 1 when any\n"
            "failed. Relative paths in the spec resolve against its folder.\n\n"
            "Spec:\n"
            "  [[run]]\n"
            '  name = "demo"\n'
            '  region = "demo"          # or osm = "city.osm.pbf", place = "...", gpkg = "..."\n'
            '  layers = ["elderly_care", "community_services"]\n'
            "  # boundaries, census, zones, population, facilities = [...], layer_files = [...],\n"
            "  # mode, speed_kmh, catchments, map, gpkg_bundle, split = true (by district)\n"
            "  [[run.scenario]]         # the same region with more facilities\n"
            '  name = "new homes"\n'
            '  facilities = ["homes.csv:elderly_care:wgs84"]\n\n'
            "Examples:\n  geoapp batch cities.toml --out out/batch/ --workers 2\n"
            "  geoapp batch cities.toml --out /shared/out --scheduler tcp://10.0.0.5:8786"
        ),
        formatter_class=fmt,
    )
    s.add_argument("spec", metavar="SPEC.toml", help="the batch spec")
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="worker processes of the local cluster, one thread each (default 2)",
    )
    s.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="use a running dask scheduler (e.g. tcp://host:8786); its workers must see --out",
    )
    s.add_argument(
        "--local-directory",
        metavar="DIR",
        help="scratch folder of the local workers (default: the system temporary folder)",
    )
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_batch)

    s = sub.add_parser(
        "site",
        help="suggest K new sites that bring the most residents within reach",
        description=(
            "Choose K new sites for a layer that maximise the residents (60+ for elderly\n"
            "layers) newly within the layer's target walking distance; existing facilities\n"
            "are kept. Candidates: building points, a street grid, or your own table (CSV\n"
            "with lon/lat, GeoJSON); protected heritage areas and their 100 m control belt\n"
            "are excluded. Solved exactly (HiGHS MIP) when small, else lazy greedy with a\n"
            "proven bound. Writes sites.geojson, candidates.geojson, summary_before.csv,\n"
            "summary_after.csv and metadata.json (objective, bound, gap, solver, time).\n\n"
            "Example:\n  geoapp site --region demo --layer elderly_care --new 5 --out out/sites/"
        ),
        formatter_class=fmt,
    )
    add_region_arguments(s)
    s.add_argument("--layer", required=True, help="layer id, see 'geoapp layers'")
    s.add_argument("--new", required=True, type=int, metavar="K", help="number of new sites")
    s.add_argument(
        "--candidates",
        default="buildings",
        metavar="FILE|buildings|grid",
        help="candidate sites: 'buildings' (default), 'grid' (100 m on the streets) or a file",
    )
    s.add_argument(
        "--exclude",
        default="heritage",
        metavar="heritage|none",
        help="exclude protected heritage areas and their control belt (default) or nothing",
    )
    add_speed_argument(s)
    s.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="budget of the bound and exact steps (default 60)",
    )
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_site)
    return p


def _error(message: str) -> None:
    """Print ``error: message`` to stderr; the message is printed literally (no markup)."""
    err.print(Text.assemble(("error: ", "bold red"), message), highlight=False)


def _os_error_message(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    what = exc.strerror or str(exc) or type(exc).__name__
    return (
        f"{where}{what}. Check that the path exists and that you may read it (inputs) or "
        "write to it (--out), and that the disk has space."
    )


@contextmanager
def _cli_logging(verbose: bool):
    """Show geoapp's log records (WARNING and up, INFO with -v) on stderr during a run."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logger = logging.getLogger("geoapp")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


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
            return int(args.func(args) or 0)
        except GeoappError as exc:
            _error(str(exc))
            return 2
        except OSError as exc:
            _error(_os_error_message(exc))
            return 2
        except KeyboardInterrupt:
            _error("interrupted; files already on disk were left as they were")
            return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
