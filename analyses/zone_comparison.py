"""Zone comparison: urban core vs new towns vs rural areas, for every layer.

Writes zones.csv (coverage shares per radius, ratio to the core, median and 90th
percentile distance, facilities per 10,000, Gini index of distance, target flags),
zones.png (chart), districts.geojson (zone type per district) and map.html, a
standalone map that works offline.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import headline, metres, parser, pct, run, setup, share  # noqa: E402

from geoapp import charts, export, maps, workflow  # noqa: E402
from geoapp.coverage import NO_FACILITY_REASON  # noqa: E402
from geoapp.styles import zone_name  # noqa: E402


def _num(v: float, spec: str) -> str:
    return "no data" if v is None or v != v else format(v, spec)


def _rows(table: pd.DataFrame, analyses: dict) -> pd.DataFrame:
    """Return the printable view of zones.csv: one line per layer and zone with data."""
    out = []
    for _, z in table[table["pop"] > 0].iterrows():
        a = analyses[z["layer"]]
        r = max(a.layer.radii_m)
        limit = a.meta.get("search_limit_m")
        lab = a.layer.label_of(r)
        ratio = z.get(f"ratio_to_core_{lab}", float("nan"))
        nd = "no data" if z["status"] == "no_data" else ""
        out.append(
            {
                "layer": z["layer"],
                "zone": zone_name(z["zone_type"]),
                "covered": f"{share(z.get(f'share_demand_{lab}'), z['status'])} <= {r:,.0f} m",
                "vs core": "-" if ratio != ratio else f"x{ratio:.2f}",
                "median": nd or metres(z["median_dist_m"], limit),
                "p90": nd or metres(z["p90_dist_m"], limit),
                "facilities": f"{z['facilities']:,.0f}",
                "per 10k": _num(z["facilities_per_10k"], ".1f"),
                "Gini": _num(z["gini_dist"], ".2f"),
                "status": z["status"],
            }
        )
    return pd.DataFrame(out)


def main(argv=None) -> int:
    p = parser(__doc__, "zone_comparison")
    p.add_argument("--layer", action="append", help="layer id (repeatable; default: all)")
    args = p.parse_args(argv)
    catalog, layers, region, demand, graph = setup(args, args.layer)
    analyses = {
        layer.id: workflow.analyse_layer(
            region, layer, demand=demand, graph=graph, mode=args.mode, with_catchments=False
        )
        for layer in layers
    }
    table = workflow.compare(region, analyses)
    out = Path(args.out)
    export.write_csv(workflow.csv_ready(workflow.zones_table(region, analyses)), out / "zones.csv")
    charts.zone_comparison_chart(table, out / "zones.png")
    export.write_geojson(
        region.boundaries, out / "districts.geojson", meta=workflow.region_meta(region)
    )
    facilities = {lid: a.facilities for lid, a in analyses.items()}
    m = maps.overview_map(
        region.boundaries,
        facilities,
        catalog=catalog,
        synthetic=region.synthetic,
        title="Zone types",
    )
    maps.save_html(m, out / "map.html")

    print(headline(region))
    method = region.meta.get("zone_method", "district attributes")
    print(
        f"Coverage by zone type (zones from {method}; shares of each layer's demand; "
        f"{'walking' if args.mode == 'network' else 'straight-line'} distance):"
    )
    print(_rows(table, analyses).to_string(index=False))
    for a in analyses.values():
        for warning in a.warnings:
            print(f"Warning: {warning}")
    missing = sorted(set(table.loc[table["pop"] <= 0, "zone_type"]))
    if missing:
        print(
            f"No residents in zone type(s): {', '.join(missing)} "
            "(status 'no_data' in zones.csv: no share to judge)."
        )
    for lid in table.loc[table["status_reason"] == NO_FACILITY_REASON, "layer"].unique():
        print(f"No data for {lid}: no facility of the layer in the data (shares left empty).")
    for _, z in table[table["below_target"]].iterrows():
        print(
            f"Below target: {z['layer_label']} in {zone_name(z['zone_type'])}, "
            f"{pct(z['share_at_target'])} "
            f"within {z['target_radius_m']:,.0f} m (target {pct(z['target_share'])})."
        )
    print("per 10k = facilities per 10,000 of the layer's demand (aged 60+ for elderly care).")
    print(f"Wrote {out}/: zones.csv, zones.png, districts.geojson, map.html")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
