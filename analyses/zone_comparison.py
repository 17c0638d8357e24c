"""Zone comparison: urban core vs new towns vs rural areas, for every layer."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load, parser, run  # noqa: E402

from geoapp import charts, export, maps, workflow  # noqa: E402
from geoapp.cli import load_catalog_from_args  # noqa: E402


def main(argv=None) -> int:
    args = parser(__doc__, "zone_comparison").parse_args(argv)
    catalog = load_catalog_from_args(args)
    region = load(args)
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region) if args.mode == "network" else None
    analyses = {
        lid: workflow.analyse_layer(region, layer, demand=demand, graph=graph, mode=args.mode, with_catchments=False)
        for lid, layer in catalog.items()
    }
    table = workflow.compare(region, analyses)
    out = Path(args.out)
    export.write_csv(table, out / "zones.csv")
    charts.zone_comparison_chart(table, out / "zones.png")
    export.write_geojson(region.boundaries, out / "districts.geojson", meta=workflow.region_meta(region))
    m = maps.overview_map(region.boundaries, {k: a.facilities for k, a in analyses.items()}, synthetic=region.synthetic)
    maps.save_html(m, out / "map.html")
    print(region.label)
    cols = [c for c in ("layer", "zone_type", "share_pop_1000", "ratio_to_core_1000", "median_dist_m", "gini_dist", "below_target", "status") if c in table]
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"Wrote {out}/zones.csv, zones.png, districts.geojson, map.html")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
