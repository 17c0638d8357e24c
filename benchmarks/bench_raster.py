"""Population rasters in bounded memory: the ``--population FILE.tif`` step on a big GeoTIFF.

Writes a synthetic population GeoTIFF (``--size`` × ``--size`` cells of 100 m in UTM
50N, near Beijing: towns as Gaussian bumps on a rural background, 10% nodata, 10%
zero cells) into a temporary folder, builds a region whose one district covers the
whole raster, and runs the population step exactly as the command line does for
``--population FILE.tif`` (:func:`geoapp.workflow.prepare_demand`, demand cache off)
in a fresh child process. Reports wall time, CPU time (user + system of the child) and
the child's peak resident memory (``ru_maxrss``), with the demand points and residents.

``--before DIR`` runs the same child against another checkout (a folder holding the
``geoapp`` package, e.g. ``git archive HEAD geoapp | tar -x -C DIR``); the parent kills
a child above ``--kill-gb`` of resident memory and reports it.

Usage::

    python benchmarks/bench_raster.py                      # 2,000 x 2,000 cells
    python benchmarks/bench_raster.py --size 1000 500      # several sizes
    python benchmarks/bench_raster.py --size 500 --before /tmp/old
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

UTM = "EPSG:32650"
X0, Y0 = 400_000.0, 4_400_000.0
CELL_M = 100.0


def write_raster(path: Path, size: int, seed: int = 1) -> float:
    """Write the synthetic raster; return its total residents."""
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(seed)
    with rasterio.open(
        path, "w", driver="GTiff", height=size, width=size, count=1, dtype="float32",
        crs=UTM, transform=from_origin(X0, Y0 + size * CELL_M, CELL_M, CELL_M),
        nodata=-99999.0, tiled=True, compress="deflate",
    ) as dst:  # fmt: skip
        towns = rng.uniform(0, size, (max(4, size // 100), 2))
        total = 0.0
        step = 256
        for r0 in range(0, size, step):
            rows = np.arange(r0, min(size, r0 + step))[:, None]
            cols = np.arange(size)[None, :]
            dens = np.full((len(rows), size), 2.0)  # rural: 2 residents per cell
            for tr, tc in towns:
                dens += 150.0 * np.exp(-((rows - tr) ** 2 + (cols - tc) ** 2) / (2 * 15.0**2))
            u = rng.random(dens.shape)
            dens[u < 0.1] = 0.0
            dens[u > 0.9] = -99999.0
            dens = dens.astype("float32")
            total += float(dens[dens > 0].sum(dtype=np.float64))
            win = rasterio.windows.Window(0, r0, size, len(rows))
            dst.write(dens, 1, window=win)
    return total


def child(path: str, size: int) -> None:
    """Run the population step once and print one JSON line (in a fresh process)."""
    import resource

    import geopandas as gpd
    from shapely.geometry import box

    from geoapp import workflow
    from geoapp.region import Region, empty_gdf

    t_wall, t_cpu = time.perf_counter(), time.process_time()
    district = box(X0 + 1, Y0 + 1, X0 + size * CELL_M - 1, Y0 + size * CELL_M - 1)
    bounds = gpd.GeoDataFrame(
        {"district": ["Synthetic"], "district_code": [""], "zone_type": ["core"],
         "zone_fine": [""]}, geometry=[district], crs=UTM,
    ).to_crs(4326)  # fmt: skip
    region = Region(
        name="raster benchmark",
        source="bench",
        boundaries=bounds,
        features=empty_gdf(("osm_id", "name", "layer")),
        population_raster=path,
    )
    t_setup = time.perf_counter()
    demand = workflow.prepare_demand(region, cache=False)
    wall = time.perf_counter() - t_setup
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "wall_s": round(wall, 2),
                "wall_total_s": round(time.perf_counter() - t_wall, 2),
                "cpu_s": round(time.process_time() - t_cpu, 2),
                "peak_rss_mb": round(usage.ru_maxrss / 1024),
                "points": len(demand.points),
                "residents": round(demand.total),
                "method": demand.method,
            }
        )
    )


def _run(path: Path, size: int, src_dir: str | None, kill_gb: float) -> dict:
    env = dict(os.environ)
    if src_dir:
        env["PYTHONPATH"] = src_dir
    else:
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    cmd = [sys.executable, __file__, "--child", str(path), "--size", str(size)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    peak = 0
    while proc.poll() is None:
        try:
            text = Path(f"/proc/{proc.pid}/status").read_text()
            rss_kb = int(next(x for x in text.splitlines() if x.startswith("VmRSS")).split()[1])
            peak = max(peak, rss_kb)
        except (OSError, StopIteration, ValueError):
            pass
        if peak > kill_gb * 1024 * 1024:
            proc.kill()
            proc.wait()
            return {"killed": f"above {kill_gb:g} GB after {time.perf_counter() - t0:.0f} s"}
        time.sleep(0.1)
    out, err = proc.communicate()
    if proc.returncode != 0:
        return {"error": err.strip().splitlines()[-1] if err.strip() else f"rc {proc.returncode}"}
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, nargs="+", default=[2000], help="cells per side")
    ap.add_argument("--before", metavar="DIR", help="also run a checkout holding geoapp/")
    ap.add_argument("--kill-gb", type=float, default=6.0, help="kill a child above this RSS")
    ap.add_argument("--child", metavar="TIF", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.size[0])
        return
    with tempfile.TemporaryDirectory(prefix="bench-raster-") as tmp:
        for size in args.size:
            path = Path(tmp) / f"pop_{size}.tif"
            t = time.perf_counter()
            total = write_raster(path, size)
            print(
                f"{size:,} x {size:,} cells ({size * size:,}), {path.stat().st_size / 1e6:.1f} MB "
                f"GeoTIFF, {total:,.0f} residents (written in {time.perf_counter() - t:.1f} s)"
            )
            runs = [("this tree", None)] + ([("before", args.before)] if args.before else [])
            for name, src in runs:
                r = _run(path, size, src, args.kill_gb)
                if "wall_s" in r:
                    print(
                        f"  {name:10s} wall {r['wall_s']:7.1f} s  cpu {r['cpu_s']:7.1f} s  "
                        f"peak RSS {r['peak_rss_mb']:6,} MB  {r['points']:,} points, "
                        f"{r['residents']:,} residents ({r['method']})"
                    )
                else:
                    print(f"  {name:10s} {r}")


if __name__ == "__main__":
    main()
