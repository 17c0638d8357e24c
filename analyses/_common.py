"""Shared argument handling for the analyst scripts (the logic lives in geoapp)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from geoapp.cli import add_region_arguments, region_from_args
from geoapp.errors import GeoappError


def parser(description: str, default_out: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description + "\n\nWith no arguments it runs on the synthetic demo region.",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_region_arguments(p)
    p.add_argument("--out", default=f"out/{default_out}", metavar="DIR", help="output folder (default: %(default)s)")
    p.add_argument("--mode", choices=["network", "euclidean"], default="network")
    return p


def run(main, argv=None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return main(argv) or 0
    except GeoappError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def load(args):
    region = region_from_args(args)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    return region
