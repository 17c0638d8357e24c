"""Life-circle coverage: share of residents within 300/500/1000 m walk of each layer."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load, parser, run  # noqa: E402

from geoapp import workflow  # noqa: E402
from geoapp.cli import load_catalog_from_args  # noqa: E402


def main(argv=None) -> int:
    p = parser(__doc__, "life_circle_coverage")
    p.add_argument("--layer", action="append", help="layer id (repeatable; default all)")
    args = p.parse_args(argv)
    catalog = load_catalog_from_args(args)
    region = load(args)
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region) if args.mode == "network" else None
    print(f"{region.label}: {demand['pop'].sum():,.0f} residents, {demand['pop_60plus'].sum():,.0f} aged 60+")
    for lid in args.layer or list(catalog):
        layer = catalog[lid]
        result = workflow.analyse_layer(region, layer, demand=demand, graph=graph, mode=args.mode)
        workflow.write_bundle(result, region, Path(args.out) / lid)
        row = result.summary[result.summary["level"] == "region"].iloc[0]
        col = layer.demand_column
        shares = ", ".join(f"{int(r)} m: {row[f'share_{col}_{int(r)}']:.0%}" for r in layer.radii_m)
        print(f"  {layer.name()} ({'residents 60+' if col != 'pop' else 'residents'} within): {shares}")
    print(f"Wrote {args.out}/<layer>/ (GeoJSON, summary.csv, map.html, bundle.gpkg)")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
