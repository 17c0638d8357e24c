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
    for col in ("id", "label (en)", "label (zh)", "serves", "radii (m)", "target (m)", "file"):
        table.add_column(col)
    for layer in layers.values():
        table.add_row(
            *(
                Text(cell)  # cells are data from layer files: never markup
                for cell in (
                    layer.id,
                    layer.name("en"),
                    layer.name("zh"),
                    "residents 60+" if layer.population == "age_60plus" else "all residents",
                    ", ".join(f"{r:g}" for r in layer.radii_m),
                    f"{layer.target_m:g}",
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
    radii = [int(r) for r in result.layer.radii_m]
    col = "pop_60plus" if result.layer.population == "age_60plus" else "pop"
    table = Table(
        title=Text(
            f"{result.layer.name('en')} — share of "
            f"{'residents 60+' if col != 'pop' else 'residents'} within reach"
        )
    )
    table.add_column("level")
    table.add_column("group")
    for r in radii:
        table.add_column(f"{r} m", justify="right")
    flagged = "status" in s.columns and (s["status"] != "ok").any()
    if flagged:
        table.add_column("status")
    for _, row in s.iterrows():
        shares = [row.get(f"share_{col}_{r}") for r in radii]
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
        t.add_column(f"{r} m", justify="right")
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
                with_catchments=False,
                progress=progress,
            )
            for layer in chosen
        }
        table = workflow.compare(region, analyses)
        outdir.mkdir(parents=True, exist_ok=True)
        export.write_csv(workflow.zones_table(region, analyses), outdir / "zones.csv")
        charts.zone_comparison_chart(table, outdir / "zones.png")
    _print_zones(table)
    seen: dict[str, None] = {}  # every warning once, in order, across the layers
    for a in analyses.values():
        seen.update(dict.fromkeys(a.warnings))
    first = next(iter(analyses.values()), None)
    _print_assumptions(first.meta if first is not None else {}, list(seen))
    _say(f"Wrote {outdir / 'zones.csv'} and {outdir / 'zones.png'}")
    return 0


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
    from geoapp.coverage import SPEED_PRESETS  # the one source of the speed presets

    s.add_argument(
        "--speed",
        type=float,
        default=SPEED_PRESETS["adult"],
        metavar="KMH",
        help="walking speed ({})".format(", ".join(f"{v:g} {k}" for k, v in SPEED_PRESETS.items())),
    )
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
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_compare)
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
