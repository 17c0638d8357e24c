"""The ``geoapp`` command line's arguments: the parser and the region recipe it describes.

:func:`build_parser` builds every command's options; :func:`add_region_arguments`
adds the region options (shared with the analyst scripts) and
:func:`region_spec_from_args` turns them into the one region recipe, a
:class:`~geoapp.spec.RegionSpec`. Nothing here imports geopandas (``geoapp --help``
stays fast).
"""

from __future__ import annotations

import argparse
import math

from geoapp import __version__, catalog
from geoapp.errors import GeoappError
from geoapp.spec import DEFAULT_TIMEOUT_S, RegionSpec, parse_facility_spec


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
        help="district boundaries (GeoJSON, GeoPackage, zipped Shapefile), 'beijing' (16 "
        "districts) or 'beijing-subdistricts' (343 街道/乡镇, shipped)",
    )
    g.add_argument(
        "--study-area",
        metavar="FILE|NAMES",
        help="analyse only this area: a polygon file (GeoJSON, GeoPackage; FILE:gcj02 for "
        "Amap coordinates) or district / 街道 names, comma separated (e.g. 海淀区 or "
        "学院路街道,清华园街道); the region is named after it",
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
        "--share-60plus",
        type=float,
        metavar="SHARE",
        help="share of residents aged 60+ (0..1) where no census gives it; default: the "
        "country's (UN World Population Prospects 2024)",
    )
    g.add_argument(
        "--age-rasters",
        metavar="DIR_OR_GLOB",
        help="WorldPop age/sex rasters (a folder or a glob of chn_f_60_2020.tif ...): the "
        "share aged 60+ of each demand point's cell, instead of the country's",
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


def speed_value(text: str) -> float:
    """Parse ``--speed``: km/h as a number, or a preset name (``adult``, ``elderly``)."""
    key = str(text).strip().lower()
    if key in catalog.SPEED_PRESETS:
        return catalog.SPEED_PRESETS[key]
    try:
        value = float(key)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a walking speed: give km/h (e.g. 3.6) or a preset "
            f"({', '.join(catalog.SPEED_PRESETS)})"
        ) from None
    try:  # the accepted range, named (InputError is a ValueError too: caught here first)
        return catalog.check_speed(value, "--speed")
    except GeoappError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_number(text: str) -> float:
    """Parse a finite number > 0 (``--time-limit``, ``--reach``); argparse names the option."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number > 0")
    return value


def distance_m(text: str) -> float:
    """Parse a distance in metres: a finite number > 0 and at most ``MAX_RADIUS_M``."""
    value = positive_number(text)
    if value > catalog.MAX_RADIUS_M:
        raise argparse.ArgumentTypeError(
            f"{text} m is more than the {catalog.MAX_RADIUS_M:,.0f} m any reach may be"
        )
    return value


def whole_number(text: str) -> int:
    """Parse a whole number >= 1 (``--new``, ``--workers``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be a whole number >= 1")
    return value


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


def region_spec_from_args(args: argparse.Namespace) -> RegionSpec:
    """Return the region the options describe as a :class:`~geoapp.spec.RegionSpec`.

    Raises
    ------
    InputError
        A ``--facilities`` value that is not ``FILE:LAYER:COORDS``, or a bad recipe
        (two sources, a bad ``--timeout`` ...), naming the option.
    """
    tables = [parse_facility_spec(t) for t in getattr(args, "facilities", []) or []]
    return RegionSpec(
        region=getattr(args, "region", None),
        osm=getattr(args, "osm", None),
        place=getattr(args, "place", None),
        gpkg=getattr(args, "gpkg", None),
        boundaries=getattr(args, "boundaries", None),
        admin_level=getattr(args, "admin_level", None),
        census=getattr(args, "census", None),
        zones=getattr(args, "zones", None),
        population=getattr(args, "population", None),
        facilities=tuple(tables),
        layer_files=tuple(getattr(args, "layer_file", []) or []),
        timeout=getattr(args, "timeout", DEFAULT_TIMEOUT_S),
        share_60plus=getattr(args, "share_60plus", None),
        age_rasters=getattr(args, "age_rasters", None),
        study_area=getattr(args, "study_area", None),
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``geoapp`` command.

    ``args.command`` names the command (:data:`geoapp.cli.COMMANDS` runs it).
    """
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
        type=distance_m,
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
    s.add_argument(
        "--method",
        choices=["2sfca", "e2sfca", "3sfca", "gravity"],
        default="2sfca",
        help=(
            "floating catchment method: 2sfca (Luo & Wang 2003, default), e2sfca (zones "
            "of the reach weighted 1, 0.68, 0.22; Luo & Qi 2009), 3sfca (demand shared "
            "among the facilities in reach; Wan et al. 2012), gravity (inverse distance)"
        ),
    )
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

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
    s.add_argument(
        "--organisation",
        "--organization",
        metavar="NAME",
        default="",
        help="who files the report: printed on the cover",
    )
    s.add_argument("--atlas", action="store_true", help="add a map page per district (an atlas)")
    s.add_argument(
        "--fca-method",
        choices=["2sfca", "e2sfca", "3sfca", "gravity"],
        default="2sfca",
        help=(
            "floating catchment method of the capacity section, as 'geoapp supply --method': "
            "2sfca (default), e2sfca, 3sfca or gravity"
        ),
    )
    s.add_argument("--out", required=True, metavar="DIR", help="report folder")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

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
        type=whole_number,
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
    s.add_argument("--layer", help="layer id, see 'geoapp layers' (needed without --demand)")
    s.add_argument(
        "--new",
        type=whole_number,
        metavar="K",
        help="number of new sites (with --demand: p, the sites to open; not for lscp)",
    )
    t = s.add_argument_group(
        "your own demand table (no region: straight-line metres, local UTM projection)"
    )
    t.add_argument(
        "--demand",
        metavar="FILE",
        help="demand points: CSV with lon/lat columns, GeoJSON or GeoPackage; needs "
        "--candidates FILE",
    )
    t.add_argument(
        "--weight", default="weight", metavar="COLUMN", help="demand weight column (weight)"
    )
    t.add_argument("--radius", type=positive_number, metavar="M", help="service radius in metres")
    t.add_argument(
        "--model",
        default="mclp",
        choices=["mclp", "lscp", "pmedian", "pcenter", "cmclp"],
        help="mclp (default), lscp, pmedian, pcenter or cmclp (capacitated; --capacity)",
    )
    t.add_argument("--capacity", metavar="COLUMN", help="cmclp: the candidates' capacity column")
    t.add_argument(
        "--keep",
        metavar="COLUMN",
        help="candidates' 0/1 column of sites kept open (predefined; they count in --new)",
    )
    t.add_argument(
        "--at-most",
        action="store_true",
        help="open at most --new sites (default: exactly --new, as spopt)",
    )
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
        type=positive_number,
        default=60.0,
        metavar="SECONDS",
        help="budget of the bound and exact steps (default 60)",
    )
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


__all__ = [
    "DEFAULT_TIMEOUT_S",
    "add_region_arguments",
    "add_speed_argument",
    "build_parser",
    "distance_m",
    "load_catalog_from_args",
    "positive_number",
    "region_spec_from_args",
    "speed_value",
    "whole_number",
]
