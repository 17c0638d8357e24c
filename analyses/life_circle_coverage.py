"""Life-circle coverage: share of residents within each layer's life circles.

Minute-based layers (elderly care, community services: 5 / 10 / 15 minutes) reach
minutes x walking speed; metre-based ones (heritage: 300 / 500 / 1,000 m) their radii.

Writes one folder per layer (<out>/<layer>/): facilities/demand/catchments/gaps GeoJSON,
summary.csv (per region, district and zone type), metadata.json, bundle.gpkg and
map.html, a standalone map that works offline.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import headline, parser, run, setup, share  # noqa: E402

from geoapp import bundle, workflow  # noqa: E402


def _reach(label: str, metres: float) -> str:
    if label.endswith("min"):
        return f"{label.removesuffix('min')} min ({metres:,.0f} m)"
    return f"{metres:,.0f} m"


def main(argv=None) -> int:
    p = parser(__doc__, "life_circle_coverage")
    p.add_argument("--layer", action="append", help="layer id (repeatable; default: all)")
    args = p.parse_args(argv)
    catalog, layers, region, demand, graph = setup(args, args.layer)
    print(headline(region))
    print(
        f"{demand.total:,.0f} residents ({demand.points['pop_60plus'].sum():,.0f} aged 60+), "
        f"{'walking distance' if args.mode == 'network' else 'straight-line distance'}:"
    )
    for layer in layers:
        result = workflow.analyse_layer(region, layer, demand=demand, graph=graph, mode=args.mode)
        bundle.write_bundle(result, region, Path(args.out) / layer.id)
        s = result.summary.set_index(["level", "group"])
        col = layer.demand_column
        zones = [
            ("zone_type", z)
            for z in ("core", "new_town", "rural", "unknown")
            if ("zone_type", z) in s.index
        ]
        region_key = next(k for k in s.index if k[0] == "region")
        rows = [region_key] + (zones if len(zones) > 1 else [])
        who = "residents aged 60+" if col == "pop_60plus" else "residents"
        print(f"  {layer.name()} ({len(result.facilities):,} facilities), share of {who} within:")
        for key in rows:
            shares = ", ".join(
                f"{_reach(lab, r)} {share(s.loc[key, f'share_{col}_{lab}'], s.loc[key, 'status'])}"
                for lab, r in zip(result.layer.labels, result.layer.radii_m, strict=True)
            )
            print(f"    {'all' if key[0] == 'region' else key[1]:<9} {shares}")
    print(
        f"Wrote {args.out}/<layer>/: GeoJSON layers, summary.csv, metadata.json, map.html, bundle.gpkg"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
