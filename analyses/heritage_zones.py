"""Heritage zones: sites, protected areas, unprotected sites and residents' access.

Writes heritage_sites.geojson (with a 'protected' flag), heritage_zones.geojson
(protected zones), heritage_buffers.geojson (zones grown by the construction-control
belt), heritage_summary.csv (per district, zone type and region) and map.html, a
standalone map that works offline.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import headline, parser, pct, run, setup  # noqa: E402

from geoapp import export, maps, workflow  # noqa: E402


def _table(summary: pd.DataFrame, radius: float) -> pd.DataFrame:
    """Return the printable view: zone types with land, then districts with sites."""
    zones = summary[(summary["level"] == "zone_type") & (summary["land_area_km2"] > 0)]
    s = pd.concat([zones, summary[(summary["level"] == "district") & (summary["n_sites"] > 0)]])
    share = s.get(f"share_pop_{round(radius)}", pd.Series(float("nan"), index=s.index))
    return pd.DataFrame(
        {
            "": s["level"].map({"zone_type": "zone", "district": "district"}),
            "name": s["group"],
            "sites": s["n_sites"],
            "unprotected": s["n_unprotected_sites"],
            "protected km2": s["protected_area_km2"].map(lambda v: f"{v:,.2f}"),
            "of land": s["share_land_protected"].map(lambda v: "<1%" if 0 < v < 0.005 else pct(v)),
            f"residents <= {radius:,.0f} m": share.map(pct),
        }
    )


def main(argv=None) -> int:
    p = parser(__doc__, "heritage_zones")
    p.add_argument(
        "--buffer",
        type=float,
        default=100.0,
        help="construction-control belt in metres (default: 100)",
    )
    args = p.parse_args(argv)
    if args.buffer < 0:
        p.error(f"--buffer must be 0 or more metres, not {args.buffer:g}")
    _, (layer,), region, demand, graph = setup(args, ["heritage"])
    result = workflow.analyse_layer(
        region, layer, demand=demand, graph=graph, mode=args.mode, with_catchments=False
    )
    report = workflow.heritage(region, access=result.access, buffer_m=args.buffer, layer=layer)
    out = Path(args.out)
    meta = {**workflow.region_meta(region), "buffer_m": args.buffer}
    export.write_geojson(report.sites, out / "heritage_sites.geojson", meta=meta)
    export.write_geojson(report.zones, out / "heritage_zones.geojson", meta=meta)
    export.write_geojson(report.buffers, out / "heritage_buffers.geojson", meta=meta)
    export.write_csv(report.summary, out / "heritage_summary.csv")
    m = maps.heritage_map(
        region.boundaries,
        report.sites,
        report.zones,
        hexes=result.hexes,
        radii_m=layer.radii_m,
        synthetic=region.synthetic,
        title=layer.name(),
    )
    maps.save_html(m, out / "map.html")

    sites, total = report.sites, report.summary[report.summary["level"] == "region"].iloc[0]
    # designated sites, as summary.csv's n_designated; memorials, statues and unlisted
    # historic features apart
    n_sites, n_unprot = int(total["n_sites"]), int(total["n_unprotected_sites"])
    n_apart = int(total.get("n_undesignated", 0))
    print(headline(region))
    print(
        f"{n_sites} designated heritage sites ({n_apart} other historic features apart), "
        f"{n_unprot} outside any protected zone; {len(report.zones)} "
        f"protected zones covering {total['protected_area_km2']:,.2f} km2 "
        f"({args.buffer:g} m control belt in heritage_buffers.geojson)."
    )
    shares = ", ".join(
        f"{r:,.0f} m {pct(total.get(f'share_pop_{round(r)}'))}" for r in layer.radii_m
    )
    print(f"Residents within reach of heritage ({args.mode}): {shares}")
    if len(sites):
        print(_table(report.summary, max(layer.radii_m)).to_string(index=False))
    if n_unprot:
        names = sites.loc[sites["unprotected"], "name"].dropna().astype(str).head(5).tolist()
        print(f"Unprotected sites include: {'; '.join(names) or '(unnamed)'}")
    print(f"Wrote {out}/: heritage_sites/zones/buffers.geojson, heritage_summary.csv, map.html")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
