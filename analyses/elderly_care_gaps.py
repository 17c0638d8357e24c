"""Elderly-care gaps: where residents aged 60+ live beyond a 15-minute walk of care, ranked.

Writes gaps.geojson (ranked gap areas with a plain-language reason), the coverage
bundle (facilities/demand/catchments GeoJSON, summary.csv, metadata.json, bundle.gpkg)
and map.html, a standalone map that works offline.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import headline, parser, run, setup, share  # noqa: E402

from geoapp import bundle, workflow  # noqa: E402
from geoapp.coverage import SPEED_PRESETS  # noqa: E402


def main(argv=None) -> int:
    p = parser(__doc__, "elderly_care_gaps")
    p.add_argument("--layer", default="elderly_care", help="layer id (default: elderly_care)")
    p.add_argument(
        "--speed",
        type=float,
        default=SPEED_PRESETS["elderly"],
        help=f"walking speed in km/h (default: elderly pace {SPEED_PRESETS['elderly']:g})",
    )
    p.add_argument("--top", type=int, default=5, help="gap areas to print (default: 5)")
    args = p.parse_args(argv)
    _, (layer,), region, demand, graph = setup(args, [args.layer])
    result = workflow.analyse_layer(
        region, layer, demand=demand, graph=graph, mode=args.mode, speed_kmh=args.speed
    )
    bundle.write_bundle(result, region, args.out)

    # the layer as run (minutes x this speed) and the figures of summary.csv's region row
    run_layer, gaps = result.layer, result.gaps
    col = run_layer.demand_column
    who = "residents aged 60+" if col == "pop_60plus" else "residents"
    reg = result.summary[result.summary["level"] == "region"].iloc[0]
    status = str(reg["status"])
    within = f"{run_layer.target_m:,.0f} m"
    print(headline(region))
    for warning in result.warnings:
        print(f"Warning: {warning}")
    at_target = reg.get(f"share_{col}_{run_layer.label_of(run_layer.target_m)}")
    how = "walk" if args.mode == "network" else "straight line"
    covered = (
        ""
        if at_target is None or status == "no_data"
        else f"{share(at_target, status)} of {who} within {within} ({how}); "
    )
    print(
        f"{run_layer.name()}: {len(result.facilities):,} facilities; {covered}"
        f"status {status}: {reg['status_reason']}."
    )
    if status == "no_data":
        # no facility in the data: how many live beyond reach cannot be said
        print(
            f"No data: whether the {reg[col]:,.0f} {who} live within {within} of "
            f"{run_layer.name().lower()} cannot be said; no gap areas are drawn."
        )
    else:
        uncovered = gaps[f"uncovered_{col}"].sum() if len(gaps) else 0.0
        print(
            f"{len(gaps)} gap area{'' if len(gaps) == 1 else 's'}, {uncovered:,.0f} {who} "
            f"beyond {within}:"
        )
    for _, g in gaps.head(args.top).iterrows():
        print(f"  #{g['rank']} {g['district']} ({g['zone_type']}): {g['reason']}")
    print(f"Wrote {args.out}/: gaps.geojson, map.html, facilities/demand/catchments.geojson,")
    print("  summary.csv, metadata.json, bundle.gpkg")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
