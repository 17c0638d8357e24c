"""Shared argument handling and number formatting for the analyst scripts.

The analysis logic lives in :mod:`geoapp.workflow`; the scripts only parse arguments,
call it, write files and print a short summary.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from geoapp import workflow
from geoapp.catalog import Layer, get_layer
from geoapp.cli import add_region_arguments, load_catalog_from_args, region_from_args
from geoapp.errors import GeoappError
from geoapp.region import Region


def parser(description: str, default_out: str) -> argparse.ArgumentParser:
    """Return a parser with the region options, ``--out`` and ``--mode``."""
    p = argparse.ArgumentParser(
        description=f"{description}\nWith no arguments it runs on the synthetic demo region.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_region_arguments(p)
    p.add_argument(
        "--out",
        default=f"out/{default_out}",
        metavar="DIR",
        help="output folder (default: %(default)s)",
    )
    p.add_argument(
        "--mode",
        choices=["network", "euclidean"],
        default="network",
        help="walking distance over streets, or straight-line distance (default: network)",
    )
    return p


def run(
    main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None
) -> int:
    """Run ``main``; a user error prints one line and returns exit code 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return main(argv) or 0
    except (GeoappError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def load(args: argparse.Namespace) -> Region:
    """Load the region the arguments describe and create the output folder."""
    region = region_from_args(args)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    return region


def setup(args: argparse.Namespace, layer_ids: Sequence[str] | None = None):
    """Load the layers (default: the whole catalog), the region, its demand and graph.

    Returns ``(catalog, layers, region, demand, graph)``; ``demand`` is a
    :class:`geoapp.demand.Demand`, ``graph`` is None in straight-line mode. Prints
    the population profile and the data warnings.
    """
    catalog = load_catalog_from_args(args)
    layers: list[Layer] = [get_layer(lid, catalog) for lid in (layer_ids or list(catalog))]
    region = load(args)
    demand, graph = workflow.prepare(region, mode=args.mode)
    p = demand.profile
    print(
        f"Population ({demand.method}): {demand.total:,.0f} residents; profile {p['name']!r}: "
        f"{p['m2_per_person']:g} m² per person, {p['share_60plus']:.1%} aged 60+"
    )
    for w in [*region.meta.get("warnings", []), *demand.warnings]:
        print(f"warning: {w}")
    return catalog, layers, region, demand, graph


def headline(region: Region) -> str:
    """Return the region's name, with a warning line when the data is synthetic."""
    if region.synthetic:
        return f"{region.label}: an invented city, not a real place."
    kind, _, where = region.source.partition(":")
    return f"{region.label} ({kind}: {Path(where).name if kind == 'osm-file' else where or kind})"


def pct(v: float) -> str:
    """Format a share as a percentage ('-' when missing)."""
    return "-" if v is None or v != v else f"{v:.0%}"


def share(v: float, status: str) -> str:
    """Format a unit's share: "no data" when its status is no_data, never 0%."""
    return "no data" if status == "no_data" or v is None or v != v else f"{v:.0%}"


def metres(v: float, limit: float | None = None) -> str:
    """Format a distance in metres ('-' when missing, '> limit' when beyond the search)."""
    if v is None or v != v:
        return "-"
    if math.isinf(v):
        return f"> {limit:,.0f} m" if limit else "beyond search"
    return f"{v:,.0f} m"
