"""The pipeline benchmark runs end to end on one Helsinki tile (not a timed test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_pipeline.py"
STAGES = ("read", "demand+graph", "distances", "catchments", "gaps", "write", "map")


@pytest.mark.slow
def test_pipeline_benchmark_one_tile(tmp_path):
    pytest.importorskip("pyrosm")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "1x1", "--cache", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert (tmp_path / "helsinki-1x1.osm.pbf").stat().st_size > 100_000
    for stage in STAGES:
        assert re.search(
            rf"^{re.escape(stage)}\s+\|\s+\d+\.\d+s \|\s+\d+\.\d+s \|\s+[\d,]+ MB", out, re.M
        ), stage
    assert re.search(r"(\d[\d,]*) facilities, (\d[\d,]*) catchment rows", out)
    m = re.search(r"(\d[\d,]*) facilities, (\d[\d,]*) catchment rows", out)
    n_fac, n_rows = (int(x.replace(",", "")) for x in m.groups())
    assert n_fac > 0 and n_rows % n_fac == 0  # one row per facility and radius
    for name in ("catchments.geojson", "bundle.gpkg", "map.html"):
        assert name in out
