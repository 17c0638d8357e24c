"""The scenario benchmark runs end to end on a small graph (not a timed test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_scenario.py"


@pytest.mark.slow
def test_benchmark_quick_prints_ratios():
    pytest.importorskip("pyrosm")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--sites", "3", "--baseline-runs", "1"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    # demo, then the tiled network at two search bounds: a baseline and two scenario rows each
    assert out.count("baseline: compute_access") == 3
    rows = [line for line in out.splitlines() if line.startswith("Scenario.")]
    assert len(rows) == 6
    for line in rows:
        assert re.search(r"\|\s+\d+(\.\d+)?x$", line), line
    assert len(re.findall(r"summary: bound [\d,]+ m: an add plus summary takes", out)) == 2
