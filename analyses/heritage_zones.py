"""Heritage zones: sites, protected areas, unprotected sites and residents' access."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load, parser, run  # noqa: E402

from geoapp import export, maps, workflow  # noqa: E402
from geoapp.catalog import get_layer  # noqa: E402
from geoapp.cli import load_catalog_from_args  # noqa: E402


def main(argv=None) -> int:
    p = parser(__doc__, "heritage_zones")
    p.add_argument("--buffer", type=float, default=100.0, help="construction-control belt in metres (default 100)")
    args = p.parse_args(argv)
    layer = get_layer("heritage", load_catalog_from_args(args))
    region = load(args)
    demand = workflow.prepare_demand(region)
    graph = workflow.get_graph(region) if args.mode == "network" else None
    result = workflow.analyse_layer(region, layer, demand=demand, graph=graph, mode=args.mode, with_catchments=False)
    report = workflow.heritage(region, access=result.access, buffer_m=args.buffer)
    out = Path(args.out)
    meta = workflow.region_meta(region)
    export.write_geojson(report.sites, out / "heritage_sites.geojson", meta=meta)
    export.write_geojson(report.zones, out / "heritage_zones.geojson", meta=meta)
    export.write_csv(report.summary, out / "heritage_summary.csv")
    maps.save_html(maps.heritage_map(region.boundaries, report.sites, report.zones, synthetic=region.synthetic), out / "map.html")
    n = len(report.sites)
    unprotected = int((~report.sites["protected"]).sum()) if n else 0
    print(f"{region.label}: {n} heritage sites, {unprotected} outside any protected zone, "
          f"{len(report.zones)} protected zones")
    print(report.summary.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"Wrote {out}/heritage_sites.geojson, heritage_zones.geojson, heritage_summary.csv, map.html")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
