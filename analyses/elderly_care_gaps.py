"""Elderly-care gaps: where residents aged 60+ live beyond a 15-minute walk of care, ranked."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load, parser, run  # noqa: E402

from geoapp import workflow  # noqa: E402
from geoapp.catalog import get_layer  # noqa: E402
from geoapp.cli import load_catalog_from_args  # noqa: E402


def main(argv=None) -> int:
    p = parser(__doc__, "elderly_care_gaps")
    p.add_argument("--speed", type=float, default=3.6, help="walking speed in km/h (default: elderly pace 3.6)")
    p.add_argument("--top", type=int, default=5, help="gaps to print")
    args = p.parse_args(argv)
    layer = get_layer("elderly_care", load_catalog_from_args(args))
    region = load(args)
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region) if args.mode == "network" else None
    result = workflow.analyse_layer(region, layer, demand=demand, graph=graph, mode=args.mode, speed_kmh=args.speed)
    workflow.write_bundle(result, region, args.out)
    gaps = result.gaps
    print(f"{region.label}: {len(gaps)} elderly-care gap areas, "
          f"{gaps['uncovered_pop_60plus'].sum():,.0f} residents aged 60+ beyond {layer.target_m:,.0f} m")
    for _, g in gaps.head(args.top).iterrows():
        print(f"  #{g['rank']} {g['district']} ({g['zone_type']}): {g['reason']}")
    print(f"Wrote {args.out}/gaps.geojson, map.html and the coverage bundle")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
