"""The network benchmark runs end to end on a small graph (not a timed test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_network.py"


@pytest.mark.slow
def test_benchmark_quick_prints_ratios():
    pytest.importorskip("pyrosm")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--counts", "10,50", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "directed edges" in out
    # one table row per method and facility count, each with a ratio "N.Nx"
    rows = [line for line in out.splitlines() if re.match(r"\s+\d+ \| ", line)]
    methods = 3 if "pandana nearest_pois" in out else 2
    assert len(rows) == 2 * methods
    for line in rows:
        assert re.search(r"\|\s+\d+(\.\d+)?x \|", line), line
    assert "summary: at 50 facilities" in out
    assert re.search(r"\d+x vs \(a\)", out)
