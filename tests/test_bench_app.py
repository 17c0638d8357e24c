"""``benchmarks/bench_app.py`` (the app's browser benchmark): its options and its CPU figures.

The benchmark itself needs chromium and minutes; these check what it prints beside
its wall times (CPU seconds from ``/proc``, the ratio to the floor) and that ``--help``
answers without starting a browser or importing Playwright.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_app.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_app_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_help_prints_the_options_without_playwright():
    # Playwright made unimportable: --help must not need it (nor start anything)
    code = (
        "import runpy, sys\n"
        "sys.modules['playwright'] = None\n"
        "sys.argv = ['bench_app.py', '--help']\n"
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert out.startswith("usage: bench_app.py")
    for option in ("--rounds", "--repeat", "--empty-cache", "--no-floor", "--osm", "--page"):
        assert option in out


def test_cpu_seconds_from_a_proc_stat_line():
    bench = _bench()
    # a process name with spaces and parentheses; utime 250 and stime 50 ticks (fields 14,
    # 15), its ended children's 40 and 10 (16, 17); then priority 20, nice 0, threads 3
    line = "4242 (streamlit (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 40 10 20 0 3 0 99"
    assert bench._proc_cpu_s(line, 100) == pytest.approx(3.5)
    assert bench._proc_cpu_s(line, 250) == pytest.approx(1.4)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_cpu_of_a_child_that_ended_is_counted():
    bench = _bench()
    code = (
        "import os, subprocess, sys, time\n"
        "busy = 't = time.process_time()\\nwhile time.process_time() - t < 0.4: pass'\n"
        "subprocess.run([sys.executable, '-c', 'import time\\n' + busy], check=True)\n"
        "print('done', flush=True)\n"
        "time.sleep(30)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "done"
        assert bench.tree_cpu_s(parent.pid) >= 0.35  # the ended child's 0.4 s included
    finally:
        parent.kill()
        parent.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_tree_cpu_counts_a_busy_child_and_skips_a_subtree():
    bench = _bench()
    # a child that burns about 0.4 s of CPU, then waits to be read
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"
    child = subprocess.Popen(
        [sys.executable, "-c", busy + "print('done', flush=True)\ntime.sleep(30)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "done"
        child_cpu = bench.tree_cpu_s(child.pid)
        assert child_cpu >= 0.35
        own = os.times()
        with_child = bench.tree_cpu_s(os.getpid())
        without = bench.tree_cpu_s(os.getpid(), skip=(child.pid,))
        assert with_child - without == pytest.approx(child_cpu, abs=0.05)
        assert without >= own.user + own.system - 0.05  # this process, read from /proc
        assert bench.tree_cpu_s(os.getpid(), skip=(os.getpid(),)) == 0.0
    finally:
        child.kill()
        child.wait()


def test_ratio_to_the_floor_and_its_goal():
    bench = _bench()
    assert bench.ratio_text(5.0, 4.0, 1.25) == "1.25x the floor (goal 1.25x: met)"
    assert bench.ratio_text(5.2, 4.0, 1.25) == "1.30x the floor (goal 1.25x: not met)"
    assert bench.ratio_text(7.9, 4.0, 2.0) == "1.98x the floor (goal 2x: met)"
    assert bench.ratio_text(5.0, None, 1.25) == ""


def test_options_default_to_the_coverage_page_three_rounds():
    args = _bench().parse_args([])
    assert (args.page, args.rounds, args.repeat, args.empty_cache) == ("coverage", 3, 1, False)
    args = _bench().parse_args(["--rounds", "0", "--repeat", "3", "--page", ""])
    assert (args.page, args.rounds, args.repeat) == ("", 0, 3)


def test_load_text_names_the_cores():
    text = _bench().load_text()
    assert text == "load ?" or (text.startswith("load ") and f"on {os.cpu_count()} cores" in text)
